//! Where requests wait: time spent per step, per step and centre, per step and territory, as a
//! count, a median and a 90th percentile, with SLA breaches and the step holding the most open
//! requests. Pure aggregation over spans the app reads from its history, sized for a country: a
//! million requests of five steps each fold in well under a second.
//!
//! `add` appends one small record per span to a single vector, in the order spans come: writing
//! into thousands of per-group vectors instead (one per step and centre) spends most of its time
//! waiting on cache misses. `report` then buckets the records by group with a counting pass and
//! a scatter into one buffer of seconds, one contiguous slice per group, and finds the median and
//! p90 of each slice with `select_nth_unstable` (linear time): no group is ever sorted.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use serde::Serialize;
use time::OffsetDateTime;

/// The time a request spent (or has spent so far) at one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span<'a> {
    pub kind: &'a str,
    pub step: &'a str,
    pub centre: &'a str,
    pub territory: &'a str,
    pub entered_at: OffsetDateTime,
    /// `None` while the request is still at the step.
    pub left_at: Option<OffsetDateTime>,
    /// The step's deadline, `None` when it has no SLA.
    pub due_at: Option<OffsetDateTime>,
}

/// Counts and percentiles of a set of durations, in seconds. Percentiles are nearest-rank: the
/// p90 is a duration some request really took, the smallest that at least 90 % did not exceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Timing {
    pub count: u64,
    pub median_seconds: Option<i64>,
    pub p90_seconds: Option<i64>,
    /// Finished late, or (for open spans) past due now.
    pub breaches: u64,
}

/// One line of the report. `centre` or `territory` is set in the tables broken down by them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Row {
    pub kind: String,
    pub step: String,
    pub centre: Option<String>,
    pub territory: Option<String>,
    /// Spans that ended: how long the step took.
    pub finished: Timing,
    /// Requests still at the step: how long they have waited so far.
    pub open: Timing,
}

impl Row {
    /// Breaches among finished and open spans together.
    pub fn breaches(&self) -> u64 {
        self.finished.breaches + self.open.breaches
    }
}

/// The step where most requests are waiting now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Waiting {
    pub kind: String,
    pub step: String,
    pub open: u64,
    pub past_due: u64,
    pub median_age_seconds: Option<i64>,
}

/// The figures at one instant. Rows are sorted by kind, step, then centre or territory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Report {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub spans: u64,
    /// Spans that left before they entered (a clock or data error); counted as zero seconds.
    pub negative_spans: u64,
    pub steps: Vec<Row>,
    pub by_centre: Vec<Row>,
    pub by_territory: Vec<Row>,
    pub waiting_most: Option<Waiting>,
}

/// One area's timings over every service and step together: a region or a province, whatever
/// [`Bottlenecks::by_area`] was told each territory lies in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AreaTiming {
    pub area: String,
    /// Step visits that ended: how long a step took.
    pub finished: Timing,
    /// Requests still at a step: how long they have waited so far.
    pub open: Timing,
}

impl AreaTiming {
    /// Step visits, finished or not.
    pub fn visits(&self) -> u64 {
        self.finished.count + self.open.count
    }

    /// Breaches among finished and open visits together.
    pub fn breaches(&self) -> u64 {
        self.finished.breaches + self.open.breaches
    }
}

/// Collects spans; [`report`](Self::report) turns them into figures.
#[derive(Debug, Default)]
pub struct Bottlenecks {
    kinds: Interner,
    /// Step names per kind, since step ids are only unique within a kind.
    steps: Vec<Interner>,
    centres: Interner,
    territories: Interner,
    /// The step group of each (kind, step), indexed by their numbers: names become small dense
    /// integers, so a plain table beats a hash map here.
    step_of: Vec<Vec<u32>>,
    /// (kind, step) of each step group.
    step_keys: Vec<(u32, u32)>,
    centre_of: Vec<Vec<u32>>,
    /// (step group, centre) of each step × centre group.
    centre_keys: Vec<(u32, u32)>,
    territory_of: Vec<Vec<u32>>,
    territory_keys: Vec<(u32, u32)>,
    records: Vec<Record>,
    negative_spans: u64,
}

/// One span as kept: its three groups and either its duration and lateness (finished) or its
/// entry instant and deadline in Unix seconds, `i64::MAX` for none (open: its age depends on the
/// instant of the report).
#[derive(Debug, Clone, Copy)]
struct Record {
    step: u32,
    centre: u32,
    territory: u32,
    open: bool,
    late: bool,
    seconds_or_entered: i64,
    due: i64,
}

impl Bottlenecks {
    pub fn add(&mut self, span: Span<'_>) {
        // Whole seconds: a breach by less than a second is not one anybody can act on, and
        // integer seconds keep the comparison to one instruction.
        let entered = span.entered_at.unix_timestamp();
        let due = span.due_at.map_or(i64::MAX, |d| d.unix_timestamp());

        let kind = self.kinds.id(span.kind);
        if self.steps.len() <= kind as usize {
            self.steps.resize_with(kind as usize + 1, Interner::default);
        }
        let step = self.steps[kind as usize].id(span.step);
        let step = group_id(&mut self.step_of, &mut self.step_keys, kind, step);
        let centre = self.centres.id(span.centre);
        let centre = group_id(&mut self.centre_of, &mut self.centre_keys, step, centre);
        let territory = self.territories.id(span.territory);
        let territory = group_id(
            &mut self.territory_of,
            &mut self.territory_keys,
            step,
            territory,
        );

        let record = match span.left_at {
            Some(left) => {
                let left = left.unix_timestamp();
                let mut seconds = left - entered;
                if seconds < 0 {
                    self.negative_spans += 1;
                    seconds = 0;
                }
                Record {
                    step,
                    centre,
                    territory,
                    open: false,
                    late: left > due,
                    seconds_or_entered: seconds,
                    due,
                }
            }
            None => Record {
                step,
                centre,
                territory,
                open: true,
                late: false,
                seconds_or_entered: entered,
                due,
            },
        };
        self.records.push(record);
    }

    /// The figures at `now`: open spans are aged against it and are past due once it is after
    /// their deadline.
    pub fn report(&self, now: OffsetDateTime) -> Report {
        let at = now.unix_timestamp();
        let mut buffers = Buffers::default();
        let name_of = |group: u32| -> (String, String) {
            let (kind, step) = self.step_keys[group as usize];
            (
                self.kinds.name(kind).to_owned(),
                self.steps[kind as usize].name(step).to_owned(),
            )
        };

        let mut steps: Vec<Row> = timings(
            &self.records,
            self.step_keys.len(),
            |r| r.step,
            at,
            &mut buffers,
        )
        .into_iter()
        .enumerate()
        .map(|(i, (finished, open))| {
            let (kind, step) = name_of(i as u32);
            Row {
                kind,
                step,
                centre: None,
                territory: None,
                finished,
                open,
            }
        })
        .collect();

        let mut by_centre: Vec<Row> = timings(
            &self.records,
            self.centre_keys.len(),
            |r| r.centre,
            at,
            &mut buffers,
        )
        .into_iter()
        .zip(&self.centre_keys)
        .map(|((finished, open), &(group, centre))| {
            let (kind, step) = name_of(group);
            Row {
                kind,
                step,
                centre: Some(self.centres.name(centre).to_owned()),
                territory: None,
                finished,
                open,
            }
        })
        .collect();

        let mut by_territory: Vec<Row> = timings(
            &self.records,
            self.territory_keys.len(),
            |r| r.territory,
            at,
            &mut buffers,
        )
        .into_iter()
        .zip(&self.territory_keys)
        .map(|((finished, open), &(group, territory))| {
            let (kind, step) = name_of(group);
            Row {
                kind,
                step,
                centre: None,
                territory: Some(self.territories.name(territory).to_owned()),
                finished,
                open,
            }
        })
        .collect();

        let order = |a: &Row, b: &Row| {
            (&a.kind, &a.step, &a.centre, &a.territory).cmp(&(
                &b.kind,
                &b.step,
                &b.centre,
                &b.territory,
            ))
        };
        steps.sort_by(order);
        by_centre.sort_by(order);
        by_territory.sort_by(order);

        // Most open requests; on a tie, the first in order, so the answer does not change from
        // one run to the next.
        let waiting_most = steps
            .iter()
            .filter(|r| r.open.count > 0)
            .fold(None::<&Row>, |best, r| match best {
                Some(b) if b.open.count >= r.open.count => Some(b),
                _ => Some(r),
            })
            .map(|r| Waiting {
                kind: r.kind.clone(),
                step: r.step.clone(),
                open: r.open.count,
                past_due: r.open.breaches,
                median_age_seconds: r.open.median_seconds,
            });

        Report {
            at: now,
            spans: self.records.len() as u64,
            negative_spans: self.negative_spans,
            steps,
            by_centre,
            by_territory,
            waiting_most,
        }
    }
}

impl Bottlenecks {
    /// Every span counted in the area its territory lies in (`area_of` the territory; spans whose
    /// territory it places nowhere are left out), all services and steps together, at `now`.
    /// An area's median is not a figure its communes' medians make, so the spans themselves are
    /// grouped again: `area_of` is asked once per territory, then one pass over the records.
    /// Sorted by area.
    pub fn by_area(
        &self,
        now: OffsetDateTime,
        area_of: impl Fn(&str) -> Option<String>,
    ) -> Vec<AreaTiming> {
        let mut areas = Interner::default();
        let of_territory: Vec<u32> = (0..self.territories.names.len())
            .map(|t| match area_of(self.territories.name(t as u32)) {
                Some(area) => areas.id(&area),
                None => u32::MAX,
            })
            .collect();
        // The last group holds the spans of no area, and is dropped.
        let nowhere = areas.names.len() as u32;
        let area_of_group: Vec<u32> = self
            .territory_keys
            .iter()
            .map(|&(_, t)| match of_territory[t as usize] {
                u32::MAX => nowhere,
                area => area,
            })
            .collect();
        let mut buffers = Buffers::default();
        let mut out: Vec<AreaTiming> = timings(
            &self.records,
            nowhere as usize + 1,
            |r| area_of_group[r.territory as usize],
            now.unix_timestamp(),
            &mut buffers,
        )
        .into_iter()
        .take(nowhere as usize)
        .enumerate()
        .map(|(area, (finished, open))| AreaTiming {
            area: areas.name(area as u32).to_owned(),
            finished,
            open,
        })
        .collect();
        out.sort_by(|a, b| a.area.cmp(&b.area));
        out
    }
}

/// The group of `(a, b)`, made on first sight. `table[a][b]` holds it (`u32::MAX` for none yet).
fn group_id(table: &mut Vec<Vec<u32>>, keys: &mut Vec<(u32, u32)>, a: u32, b: u32) -> u32 {
    let (ai, bi) = (a as usize, b as usize);
    if table.len() <= ai {
        table.resize_with(ai + 1, Vec::new);
    }
    let row = &mut table[ai];
    if row.len() <= bi {
        row.resize(bi + 1, u32::MAX);
    }
    if row[bi] == u32::MAX {
        keys.push((a, b));
        row[bi] = (keys.len() - 1) as u32;
    }
    row[bi]
}

/// Scratch space reused from one breakdown to the next.
#[derive(Default)]
struct Buffers {
    finished: Vec<i64>,
    ages: Vec<i64>,
    finished_at: Vec<usize>,
    open_at: Vec<usize>,
}

/// Timings of finished and open spans for each of `groups` groups, `group` saying which group a
/// record is in.
fn timings(
    records: &[Record],
    groups: usize,
    group: impl Fn(&Record) -> u32,
    now: i64,
    buffers: &mut Buffers,
) -> Vec<(Timing, Timing)> {
    let mut out = vec![(Timing::default(), Timing::default()); groups];
    // Count, and the breaches on the way.
    for r in records {
        let (finished, open) = &mut out[group(r) as usize];
        if r.open {
            open.count += 1;
            open.breaches += u64::from(now > r.due);
        } else {
            finished.count += 1;
            finished.breaches += u64::from(r.late);
        }
    }
    // Where each group's slice starts in the two buffers.
    let starts = |counts: &mut dyn Iterator<Item = u64>, at: &mut Vec<usize>| {
        at.clear();
        let mut total = 0usize;
        for c in counts {
            at.push(total);
            total += c as usize;
        }
        at.push(total);
        total
    };
    let finished_total = starts(&mut out.iter().map(|t| t.0.count), &mut buffers.finished_at);
    let open_total = starts(&mut out.iter().map(|t| t.1.count), &mut buffers.open_at);
    buffers.finished.clear();
    buffers.finished.resize(finished_total, 0);
    buffers.ages.clear();
    buffers.ages.resize(open_total, 0);

    // Scatter, using the starts as cursors, then put them back.
    for r in records {
        let g = group(r) as usize;
        if r.open {
            let at = &mut buffers.open_at[g];
            buffers.ages[*at] = (now - r.seconds_or_entered).max(0);
            *at += 1;
        } else {
            let at = &mut buffers.finished_at[g];
            buffers.finished[*at] = r.seconds_or_entered;
            *at += 1;
        }
    }
    // Each cursor now sits at the next group's start: group g runs from cursor g - 1 (or 0).
    for (g, (finished, open)) in out.iter_mut().enumerate() {
        let end = buffers.finished_at[g];
        let start = end - finished.count as usize;
        (finished.median_seconds, finished.p90_seconds) =
            median_p90(&mut buffers.finished[start..end]);
        let end = buffers.open_at[g];
        let start = end - open.count as usize;
        (open.median_seconds, open.p90_seconds) = median_p90(&mut buffers.ages[start..end]);
    }
    out
}

/// The 1-based nearest rank of percentile `p` among `n` values.
fn rank(p: usize, n: usize) -> usize {
    (p * n).div_ceil(100).max(1)
}

/// Median and p90 (nearest rank), reordering `values`. The p90 is searched for only above the
/// median, which `select_nth_unstable` has already partitioned off.
pub(crate) fn median_p90(values: &mut [i64]) -> (Option<i64>, Option<i64>) {
    let n = values.len();
    if n == 0 {
        return (None, None);
    }
    let m = rank(50, n) - 1;
    let p = rank(90, n) - 1;
    let (_, median, above) = values.select_nth_unstable(m);
    let median = *median;
    if p == m {
        return (Some(median), Some(median));
    }
    let (_, p90, _) = above.select_nth_unstable(p - m - 1);
    (Some(median), Some(*p90))
}

// ---- names to small integers ----------------------------------------------------------------

/// Gives each distinct name a number. Spans of one request come one after the other with the
/// same kind, centre and territory, so the last name looked up is checked before the map.
#[derive(Debug, Default)]
struct Interner {
    index: FastMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    last: Option<u32>,
}

impl Interner {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(last) = self.last
            && self.names.get(last as usize).is_some_and(|n| same(n, name))
        {
            return last;
        }
        // A handful of names (the steps of one kind) are found faster by looking at each.
        if self.names.len() <= 12
            && let Some(i) = self.names.iter().position(|n| same(n, name))
        {
            self.last = Some(i as u32);
            return i as u32;
        }
        let id = match self.index.get(name) {
            Some(&id) => id,
            None => {
                let id = self.names.len() as u32;
                self.names.push(name.into());
                self.index.insert(name.into(), id);
                id
            }
        };
        self.last = Some(id);
        id
    }

    fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", |n| n)
    }
}

/// String equality without a call to `memcmp` for the short names compared here (centre codes,
/// step ids): the length first, then at most two overlapping 8-byte words.
#[inline]
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let n = a.len();
    let word = |s: &[u8], from: usize| -> u64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[from..from + 8]);
        u64::from_le_bytes(w)
    };
    match n {
        0..8 => a == b,
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => a == b,
    }
}

/// A multiply-and-rotate hash for the name maps. The keys are names from our own database, not
/// attacker-chosen, so the flooding resistance of the standard hasher buys
/// nothing here and costs a good part of the time of `add`.
#[derive(Debug, Default, Clone, Copy)]
struct QuickHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl QuickHasher {
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for QuickHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.mix(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.mix(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.mix(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.mix(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<QuickHasher>>;

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn same_agrees_with_equality_at_every_length() {
        let base = "abcdefghijklmnopqrstu";
        for n in 0..base.len() {
            let a = &base[..n];
            assert!(same(a, a));
            for i in 0..n {
                let mut b = a.as_bytes().to_vec();
                b[i] = b'#';
                let b = String::from_utf8(b).unwrap();
                assert!(!same(a, &b), "{a} vs {b}");
            }
            assert!(!same(a, &base[..n + 1]));
        }
    }
}
