//! How long the bottleneck figures take for a country: a million requests of five steps each,
//! spread over 2,000 centres and 75 provinces, a fifth of them still open somewhere.
//!
//! cargo run --release -p sanad-workflow --example bench_bottlenecks

use std::time::Instant;

use sanad_workflow::{Bottlenecks, Span};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const REQUESTS: usize = 1_000_000;
const STEPS: [&str; 5] = [
    "submission",
    "document_check",
    "medical_committee",
    "decision",
    "issue",
];

struct Generated {
    centre: usize,
    territory: usize,
    entered: OffsetDateTime,
    lengths: [i64; 5],
    open_at: Option<usize>,
}

fn main() {
    let t0 = datetime!(2026-01-01 00:00 UTC);
    let centres: Vec<String> = (0..2000).map(|i| format!("csc-{i:04}")).collect();
    let territories: Vec<String> = (0..75).map(|i| format!("prov-{i:03}")).collect();

    // A small xorshift, so the run is the same every time without a dependency.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let requests: Vec<Generated> = (0..REQUESTS)
        .map(|_| Generated {
            centre: (next() % 2000) as usize,
            territory: (next() % 75) as usize,
            entered: t0 + Duration::seconds((next() % 25_000_000) as i64),
            lengths: [0; 5].map(|_| (next() % 600_000) as i64),
            open_at: (next() % 5 == 0).then(|| (next() % 5) as usize),
        })
        .collect();

    let started = Instant::now();
    let mut b = Bottlenecks::default();
    let mut spans = 0usize;
    for r in &requests {
        let mut at = r.entered;
        for (i, step) in STEPS.iter().enumerate() {
            let open = r.open_at == Some(i);
            let left = at + Duration::seconds(r.lengths[i]);
            b.add(Span {
                kind: "disability_card",
                step,
                centre: &centres[r.centre],
                territory: &territories[r.territory],
                entered_at: at,
                left_at: (!open).then_some(left),
                due_at: Some(at + Duration::hours(72)),
            });
            spans += 1;
            if open {
                break;
            }
            at = left;
        }
    }
    let added = started.elapsed();
    let report = b.report(t0 + Duration::seconds(30_000_000));
    let total = started.elapsed();

    println!("| what | figure |");
    println!("|---|---|");
    println!("| requests | {REQUESTS} |");
    println!("| spans | {spans} |");
    println!("| add (all spans) | {} ms |", added.as_millis());
    println!("| report | {} ms |", (total - added).as_millis());
    println!("| total | {} ms |", total.as_millis());
    println!(
        "| rows (step / step×centre / step×territory) | {} / {} / {} |",
        report.steps.len(),
        report.by_centre.len(),
        report.by_territory.len()
    );
    if let Some(w) = &report.waiting_most {
        println!(
            "| waiting most | {} ({} open, {} past due) |",
            w.step, w.open, w.past_due
        );
    }
}
