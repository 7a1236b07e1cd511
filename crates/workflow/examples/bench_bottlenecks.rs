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

    // The spans are built on the fly (all 4.6 million at once would take half a gigabyte);
    // building them alone is timed too, so the share of `add` can be read off.
    let each_span = |f: &mut dyn FnMut(Span<'_>)| {
        for r in &requests {
            let mut at = r.entered;
            for (i, step) in STEPS.iter().enumerate() {
                let open = r.open_at == Some(i);
                let left = at + Duration::seconds(r.lengths[i]);
                f(Span {
                    kind: "disability_card",
                    step,
                    centre: &centres[r.centre],
                    territory: &territories[r.territory],
                    entered_at: at,
                    left_at: (!open).then_some(left),
                    due_at: Some(at + Duration::hours(72)),
                });
                if open {
                    break;
                }
                at = left;
            }
        }
    };

    let (wall, cpu) = (Instant::now(), cpu_ms());
    let mut spans = 0usize;
    each_span(&mut |s| {
        std::hint::black_box(s);
        spans += 1;
    });
    let build = (wall.elapsed(), cpu_ms().zip(cpu).map(|(b, a)| b - a));

    let (wall, cpu) = (Instant::now(), cpu_ms());
    let mut b = Bottlenecks::default();
    each_span(&mut |s| b.add(s));
    let fold = (wall.elapsed(), cpu_ms().zip(cpu).map(|(b, a)| b - a));

    let (wall, cpu) = (Instant::now(), cpu_ms());
    let report = b.report(t0 + Duration::seconds(30_000_000));
    let reported = (wall.elapsed(), cpu_ms().zip(cpu).map(|(b, a)| b - a));

    let show = |(wall, cpu): (std::time::Duration, Option<u64>)| match cpu {
        Some(cpu) => format!("{} ms wall, {cpu} ms CPU", wall.as_millis()),
        None => format!("{} ms wall", wall.as_millis()),
    };
    println!("| what | figure |");
    println!("|---|---|");
    println!("| requests | {REQUESTS} |");
    println!("| spans | {spans} |");
    println!("| building the spans alone | {} |", show(build));
    println!("| building and adding them | {} |", show(fold));
    println!("| report | {} |", show(reported));
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

/// CPU time of this process so far, in milliseconds, from `/proc/self/stat` (Linux; clock ticks
/// taken as 100 a second, the kernel's usual `USER_HZ`). On a machine shared with other builds
/// the wall time says more about the neighbours than about this code.
fn cpu_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = stat.rsplit_once(") ")?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some((user + system) * 10)
}
