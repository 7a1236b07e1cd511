//! Signs and renders ~200 certificates of every kind and prints the time per certificate
//! (p50/p95, goal < 100 ms), the PDF sizes and the time to verify a PDF alone.
//!
//! `cargo run --release -p sanad-certificates --example bench [count]`

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use sanad_certificates::{KeySet, Kind, Verdict, render_pdf, verify_pdf};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(200);
    let key = support::key();
    let keys = KeySet::from_keys(key.public(), []);

    // The first rendering parses the fonts and the templates once for the process.
    let warm = Instant::now();
    let first = key.sign(&support::try_certificate(Kind::DisabilityCard, 0, &key)?)?;
    render_pdf(&first, support::BASE_URL)?;
    let warm = warm.elapsed();

    let mut times = Vec::with_capacity(count);
    let mut sizes: Vec<(Kind, usize)> = Vec::with_capacity(count);
    let mut last = None;
    for i in 0..count {
        let kind = Kind::ALL[i % Kind::ALL.len()];
        let certificate = support::try_certificate(kind, i as u32 + 1, &key)?;
        let start = Instant::now();
        let signed = key.sign(&certificate)?;
        let pdf = render_pdf(&signed, support::BASE_URL)?;
        times.push(start.elapsed());
        sizes.push((kind, pdf.len()));
        last = Some(pdf);
    }
    times.sort();

    let verify = match &last {
        Some(pdf) => {
            let start = Instant::now();
            let verdict = verify_pdf(pdf, &keys, support::BASE_URL)?;
            let took = start.elapsed();
            if !matches!(verdict, Verdict::Valid(_)) {
                return Err(format!("the last PDF did not verify: {verdict:?}").into());
            }
            took
        }
        None => Duration::ZERO,
    };

    println!(
        "certificates rendered and signed: {count} (first rendering, fonts loaded: {:.1} ms)",
        ms(warm)
    );
    println!("| measure | ms |");
    println!("|---|---|");
    println!(
        "| render + sign p50 | {:.1} |",
        ms(percentile(&times, 0.50))
    );
    println!(
        "| render + sign p95 | {:.1} |",
        ms(percentile(&times, 0.95))
    );
    println!("| render + sign max | {:.1} |", ms(percentile(&times, 1.0)));
    println!(
        "| verify a PDF alone (re-render + compare) | {:.1} |",
        ms(verify)
    );
    println!();
    println!("| kind | PDF size (KiB) |");
    println!("|---|---|");
    for kind in Kind::ALL {
        let of_kind: Vec<usize> = sizes
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, s)| *s)
            .collect();
        if let Some(size) = of_kind.first() {
            println!("| {} | {:.1} |", kind.code(), *size as f64 / 1024.0);
        }
    }
    Ok(())
}
