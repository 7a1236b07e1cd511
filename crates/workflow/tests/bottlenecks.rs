//! Bottleneck figures against a naive computation, and a country-sized fold.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use sanad_workflow::{Bottlenecks, Row, Span};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

/// Nearest rank, by sorting: what `report` must agree with.
fn naive(mut values: Vec<i64>, p: usize) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = (p * values.len()).div_ceil(100).max(1);
    Some(values[rank - 1])
}

fn row<'a>(rows: &'a [Row], kind: &str, step: &str) -> &'a Row {
    rows.iter()
        .find(|r| r.kind == kind && r.step == step)
        .unwrap()
}

#[test]
fn a_small_case_by_hand() {
    let mut b = Bottlenecks::default();
    let hours = |h: i64| T0 + Duration::hours(h);
    // Three finished document checks of 10, 20 and 30 hours, due after 24: one late.
    for (h, centre) in [(10, "csc-rabat"), (20, "csc-rabat"), (30, "csc-fes")] {
        b.add(Span {
            kind: "disability_card",
            step: "document_check",
            centre,
            territory: "01",
            entered_at: hours(0),
            left_at: Some(hours(h)),
            due_at: Some(hours(24)),
        });
    }
    // Two open committee spans, one past due at the report's instant.
    for (entered, due) in [(0, 50), (80, 200)] {
        b.add(Span {
            kind: "disability_card",
            step: "medical_committee",
            centre: "csc-rabat",
            territory: "02",
            entered_at: hours(entered),
            left_at: None,
            due_at: Some(hours(due)),
        });
    }
    let report = b.report(hours(100));
    assert_eq!(report.spans, 5);

    let check = row(&report.steps, "disability_card", "document_check");
    assert_eq!(check.finished.count, 3);
    assert_eq!(check.finished.median_seconds, Some(20 * 3600));
    assert_eq!(check.finished.p90_seconds, Some(30 * 3600));
    assert_eq!(check.finished.breaches, 1);
    assert_eq!(check.open.count, 0);

    let committee = row(&report.steps, "disability_card", "medical_committee");
    assert_eq!(committee.open.count, 2);
    assert_eq!(committee.open.median_seconds, Some(20 * 3600));
    assert_eq!(committee.open.p90_seconds, Some(100 * 3600));
    assert_eq!(committee.open.breaches, 1);
    assert_eq!(committee.breaches(), 1);

    let rabat: Vec<_> = report
        .by_centre
        .iter()
        .filter(|r| r.centre.as_deref() == Some("csc-rabat"))
        .collect();
    assert_eq!(rabat.len(), 2);
    assert_eq!(rabat[0].step, "document_check");
    assert_eq!(rabat[0].finished.count, 2);
    assert_eq!(report.by_territory.len(), 2);

    let waiting = report.waiting_most.unwrap();
    assert_eq!(waiting.step, "medical_committee");
    assert_eq!(waiting.open, 2);
    assert_eq!(waiting.past_due, 1);
}

#[test]
fn the_same_step_name_in_two_kinds_is_two_steps() {
    let mut b = Bottlenecks::default();
    for kind in ["disability_card", "household_change", "household_change"] {
        b.add(Span {
            kind,
            step: "document_check",
            centre: "c",
            territory: "t",
            entered_at: T0,
            left_at: None,
            due_at: None,
        });
    }
    let r = b.report(T0 + Duration::hours(1));
    assert_eq!(r.steps.len(), 2);
    let w = r.waiting_most.unwrap();
    assert_eq!((w.kind.as_str(), w.open), ("household_change", 2));
    // No SLA, no breach.
    assert_eq!(w.past_due, 0);
}

#[test]
fn a_span_that_leaves_before_it_enters_counts_as_zero() {
    let mut b = Bottlenecks::default();
    b.add(Span {
        kind: "k",
        step: "s",
        centre: "c",
        territory: "t",
        entered_at: T0,
        left_at: Some(T0 - Duration::hours(1)),
        due_at: None,
    });
    let r = b.report(T0);
    assert_eq!(r.negative_spans, 1);
    assert_eq!(r.steps[0].finished.median_seconds, Some(0));
    assert!(Bottlenecks::default().report(T0).waiting_most.is_none());
}

#[test]
fn spans_are_grouped_by_the_area_their_territory_lies_in() {
    let mut b = Bottlenecks::default();
    let hours = |h: i64| T0 + Duration::hours(h);
    // Region 01: two kinds in two communes of two provinces, 2, 4 and 40 hours (due after 24);
    // one request still waiting there since hour 0. Region 05: one visit of 6 hours. A territory
    // that lies in no area is left out.
    for (kind, territory, left) in [
        ("disability_card", "01.511.01.01", Some(2)),
        ("household_change", "01.511.01.01", Some(4)),
        ("disability_card", "01.521.03.05", Some(40)),
        ("disability_card", "01.521.03.05", None),
        ("disability_card", "05.091.01.01", Some(6)),
        ("disability_card", "elsewhere", Some(1)),
    ] {
        b.add(Span {
            kind,
            step: "document_check",
            centre: "c",
            territory,
            entered_at: hours(0),
            left_at: left.map(hours),
            due_at: Some(hours(24)),
        });
    }
    let areas = b.by_area(hours(30), |t| {
        t.split_once('.').map(|(region, _)| region.to_string())
    });
    let codes: Vec<&str> = areas.iter().map(|a| a.area.as_str()).collect();
    assert_eq!(codes, ["01", "05"]);
    let north = &areas[0];
    assert_eq!(north.finished.count, 3);
    assert_eq!(north.finished.median_seconds, Some(4 * 3600));
    assert_eq!(north.finished.p90_seconds, Some(40 * 3600));
    assert_eq!((north.finished.breaches, north.open.breaches), (1, 1));
    assert_eq!(
        (north.open.count, north.open.median_seconds),
        (1, Some(30 * 3600))
    );
    assert_eq!((north.visits(), north.breaches()), (4, 2));
    assert_eq!(areas[1].finished.median_seconds, Some(6 * 3600));
    assert_eq!(areas[1].breaches(), 0);
    // The same spans by province.
    let provinces = b.by_area(hours(30), |t| {
        let mut parts = t.split('.');
        Some(format!("{}.{}", parts.next()?, parts.next()?))
    });
    let codes: Vec<&str> = provinces.iter().map(|a| a.area.as_str()).collect();
    assert_eq!(codes, ["01.511", "01.521", "05.091"]);
    assert_eq!(provinces[0].finished.median_seconds, Some(2 * 3600));
    assert!(
        Bottlenecks::default()
            .by_area(T0, |t| Some(t.into()))
            .is_empty()
    );
}

proptest! {
    #[test]
    fn median_and_p90_agree_with_sorting(
        spans in prop::collection::vec((0u8..3, 0u8..4, 0i64..10_000, prop::option::of(0i64..10_000), prop::option::of(0i64..10_000)), 1..300),
        now in 0i64..20_000,
    ) {
        let steps = ["a", "b", "c"];
        let centres = ["c0", "c1", "c2", "c3"];
        let at = |s: i64| T0 + Duration::seconds(s);
        let mut b = Bottlenecks::default();
        for &(step, centre, entered, length, due) in &spans {
            b.add(Span {
                kind: "k",
                step: steps[step as usize],
                centre: centres[centre as usize],
                territory: "t",
                entered_at: at(entered),
                left_at: length.map(|l| at(entered + l)),
                due_at: due.map(|d| at(entered + d)),
            });
        }
        let report = b.report(at(now));
        for (s, name) in steps.iter().enumerate() {
            let mine: Vec<_> = spans.iter().filter(|x| x.0 as usize == s).collect();
            let found = report.steps.iter().find(|r| r.step == *name);
            if mine.is_empty() {
                prop_assert!(found.is_none());
                continue;
            }
            let r = found.unwrap();
            let finished: Vec<i64> = mine.iter().filter_map(|x| x.3).collect();
            let open: Vec<i64> = mine.iter().filter(|x| x.3.is_none()).map(|x| (now - x.2).max(0)).collect();
            prop_assert_eq!(r.finished.count as usize, finished.len());
            prop_assert_eq!(r.finished.median_seconds, naive(finished.clone(), 50));
            prop_assert_eq!(r.finished.p90_seconds, naive(finished, 90));
            prop_assert_eq!(r.open.count as usize, open.len());
            prop_assert_eq!(r.open.median_seconds, naive(open.clone(), 50));
            prop_assert_eq!(r.open.p90_seconds, naive(open, 90));
            let late = mine.iter().filter(|x| matches!((x.3, x.4), (Some(l), Some(d)) if l > d)).count();
            prop_assert_eq!(r.finished.breaches as usize, late);
            let past = mine.iter().filter(|x| x.3.is_none() && matches!(x.4, Some(d) if now > x.2 + d)).count();
            prop_assert_eq!(r.open.breaches as usize, past);
        }
        // The breakdown by centre adds up to the step totals.
        for r in &report.steps {
            let sum: u64 = report.by_centre.iter().filter(|c| c.step == r.step).map(|c| c.finished.count + c.open.count).sum();
            prop_assert_eq!(sum, r.finished.count + r.open.count);
        }
    }
}

proptest! {
    #[test]
    fn one_area_of_everything_agrees_with_sorting(
        spans in proptest::collection::vec((0u8..4, 0i64..500, proptest::option::of(0i64..500)), 1..200),
    ) {
        let mut b = Bottlenecks::default();
        let territories = ["01.511.01.01", "01.521.03.05", "05.091.01.01", "06.141.01.01"];
        let mut finished = Vec::new();
        let mut ages = Vec::new();
        for (t, entered, stay) in &spans {
            b.add(Span {
                kind: "k",
                step: if *t % 2 == 0 { "a" } else { "b" },
                centre: "c",
                territory: territories[*t as usize],
                entered_at: T0 + Duration::seconds(*entered),
                left_at: stay.map(|s| T0 + Duration::seconds(entered + s)),
                due_at: None,
            });
            match stay {
                Some(s) => finished.push(*s),
                None => ages.push(1000 - entered),
            }
        }
        let all = b.by_area(T0 + Duration::seconds(1000), |_| Some("all".into()));
        prop_assert_eq!(all.len(), 1);
        prop_assert_eq!(all[0].finished.median_seconds, naive(finished.clone(), 50));
        prop_assert_eq!(all[0].finished.p90_seconds, naive(finished.clone(), 90));
        prop_assert_eq!(all[0].open.median_seconds, naive(ages.clone(), 50));
        prop_assert_eq!(all[0].visits(), spans.len() as u64);
    }
}

/// A million spans fold and report; the time is printed by the bench example, not asserted.
#[test]
fn a_million_spans() {
    let steps = [
        "submission",
        "document_check",
        "medical_committee",
        "decision",
        "issue",
    ];
    let centres: Vec<String> = (0..500).map(|i| format!("csc-{i:04}")).collect();
    let territories: Vec<String> = (0..75).map(|i| format!("prov-{i:03}")).collect();
    let mut b = Bottlenecks::default();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let wanted: u64 = 1_000_000;
    let mut added: u64 = 0;
    let mut requests: u64 = 0;
    while added < wanted {
        requests += 1;
        let centre = &centres[(next() % 500) as usize];
        let territory = &territories[(next() % 75) as usize];
        let mut at = T0 + Duration::seconds((next() % 10_000_000) as i64);
        let stop = (next() % 6) as usize;
        for (i, step) in steps.iter().enumerate() {
            if added == wanted {
                break;
            }
            added += 1;
            let length = Duration::seconds((next() % 500_000) as i64);
            let open = i == stop;
            b.add(Span {
                kind: "disability_card",
                step,
                centre,
                territory,
                entered_at: at,
                left_at: (!open).then_some(at + length),
                due_at: Some(at + Duration::hours(72)),
            });
            if open {
                break;
            }
            at += length;
        }
    }
    let report = b.report(T0 + Duration::seconds(20_000_000));
    assert_eq!(report.spans, wanted);
    assert!(requests > 200_000);
    assert_eq!(report.steps.len(), steps.len());
    let total: u64 = report
        .steps
        .iter()
        .map(|r| r.finished.count + r.open.count)
        .sum();
    assert_eq!(total, report.spans);
    assert!(report.by_centre.len() <= steps.len() * 500);
    assert!(report.waiting_most.is_some());
}
