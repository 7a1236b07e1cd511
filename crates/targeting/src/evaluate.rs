//! Targeting quality: how a model's selection at a threshold compares with the truth, overall and
//! by region × area.
//!
//! For a threshold `t`, a household is **selected** when its predicted index is `<= t` and **poor**
//! when its true ln consumption per person is `<= t`. Then:
//! - **inclusion error** = selected and not poor ÷ selected (the share of those a programme would
//!   take in who should not be there); undefined when nobody is selected;
//! - **exclusion error** = poor and not selected ÷ poor (the share of the poor a programme would
//!   leave out); undefined when nobody is poor;
//! - **poorest 20 % reached** = selected ÷ households of the national poorest 20 % (by true
//!   consumption, over all the rows evaluated, not per segment), counted among those of the segment.
//!
//! Every household counts once (the rows are a population, not a weighted sample).

use std::collections::BTreeMap;
use std::fmt;

use sanad_domain::Area;

/// One household: where it lives, its index and its true ln consumption per person.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluated {
    pub region_code: String,
    pub area: Area,
    pub predicted: f64,
    pub actual: f64,
}

/// The errors of one group of households at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Errors {
    pub households: usize,
    pub selected: usize,
    pub poor: usize,
    pub inclusion_error: Option<f64>,
    pub exclusion_error: Option<f64>,
    /// Of the group's households in the national poorest 20 %, the share selected.
    pub poorest_20_reached: Option<f64>,
}

/// One threshold's errors, overall and per segment (`04/rural`, in code order).
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdEvaluation {
    pub name: String,
    pub threshold: f64,
    pub overall: Errors,
    pub segments: Vec<(String, Errors)>,
}

/// How well the index ranks and predicts, per segment, and its errors at each threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub households: usize,
    /// R² of the predicted against the true ln consumption over all households.
    pub r2: f64,
    /// Per segment: households and R² against the segment's own mean.
    pub segment_r2: Vec<(String, usize, f64)>,
    /// The true ln consumption below which a household is in the national poorest 20 %.
    pub poorest_20_cutoff: f64,
    pub thresholds: Vec<ThresholdEvaluation>,
}

#[derive(Default, Clone, Copy)]
struct Counts {
    households: usize,
    selected: usize,
    poor: usize,
    selected_not_poor: usize,
    poor_not_selected: usize,
    poorest: usize,
    poorest_selected: usize,
}

impl Counts {
    fn add(&mut self, selected: bool, poor: bool, poorest: bool) {
        self.households += 1;
        self.selected += usize::from(selected);
        self.poor += usize::from(poor);
        self.selected_not_poor += usize::from(selected && !poor);
        self.poor_not_selected += usize::from(poor && !selected);
        self.poorest += usize::from(poorest);
        self.poorest_selected += usize::from(poorest && selected);
    }

    fn errors(&self) -> Errors {
        let share = |num: usize, den: usize| (den > 0).then(|| num as f64 / den as f64);
        Errors {
            households: self.households,
            selected: self.selected,
            poor: self.poor,
            inclusion_error: share(self.selected_not_poor, self.selected),
            exclusion_error: share(self.poor_not_selected, self.poor),
            poorest_20_reached: share(self.poorest_selected, self.poorest),
        }
    }
}

fn code(row: &Evaluated) -> String {
    format!("{}/{}", row.region_code, row.area.as_str())
}

/// Measures the selection each threshold (`(name, t)`) makes against the truth.
pub fn evaluate(rows: &[Evaluated], thresholds: &[(String, f64)]) -> Evaluation {
    let mut actual: Vec<f64> = rows.iter().map(|r| r.actual).collect();
    actual.sort_by(f64::total_cmp);
    // The poorest 20 %: the first ⌈0.2 n⌉ households by true consumption (ties at the cut-off in).
    let cutoff = match actual.len() {
        0 => f64::NAN,
        n => actual[(n.div_ceil(5)).saturating_sub(1)],
    };
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        groups.entry(code(r)).or_default().push(i);
    }
    let r2_of = |idx: &mut dyn Iterator<Item = &Evaluated>| {
        let items: Vec<&Evaluated> = idx.collect();
        let n = items.len() as f64;
        let mean = items.iter().map(|r| r.actual).sum::<f64>() / n.max(1.0);
        let sse: f64 = items.iter().map(|r| (r.actual - r.predicted).powi(2)).sum();
        let sst: f64 = items.iter().map(|r| (r.actual - mean).powi(2)).sum();
        if sst > 0.0 { 1.0 - sse / sst } else { 0.0 }
    };
    let r2 = r2_of(&mut rows.iter());
    let segment_r2 = groups
        .iter()
        .map(|(code, idx)| {
            (
                code.clone(),
                idx.len(),
                r2_of(&mut idx.iter().map(|&i| &rows[i])),
            )
        })
        .collect();
    let thresholds = thresholds
        .iter()
        .map(|(name, t)| {
            let mut overall = Counts::default();
            let segments = groups
                .iter()
                .map(|(code, idx)| {
                    let mut c = Counts::default();
                    for &i in idx {
                        let r = &rows[i];
                        let (selected, poor) = (r.predicted <= *t, r.actual <= *t);
                        let poorest = r.actual <= cutoff;
                        c.add(selected, poor, poorest);
                        overall.add(selected, poor, poorest);
                    }
                    (code.clone(), c.errors())
                })
                .collect();
            ThresholdEvaluation {
                name: name.clone(),
                threshold: *t,
                overall: overall.errors(),
                segments,
            }
        })
        .collect();
    Evaluation {
        households: rows.len(),
        r2,
        segment_r2,
        poorest_20_cutoff: cutoff,
        thresholds,
    }
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_owned(), |x| format!("{:.1}%", 100.0 * x))
}

fn line(f: &mut fmt::Formatter<'_>, name: &str, e: &Errors, r2: Option<f64>) -> fmt::Result {
    writeln!(
        f,
        "{:<10} {:>10} {:>6} {:>9} {:>9} {:>10} {:>10} {:>12}",
        name,
        e.households,
        r2.map_or_else(|| "".to_owned(), |r| format!("{r:.3}")),
        e.selected,
        e.poor,
        pct(e.inclusion_error),
        pct(e.exclusion_error),
        pct(e.poorest_20_reached)
    )
}

impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} households, R² {:.3}; the poorest 20 % have ln consumption <= {:.3}",
            self.households, self.r2, self.poorest_20_cutoff
        )?;
        for t in &self.thresholds {
            writeln!(f, "\n{} (index <= {}):", t.name, t.threshold)?;
            writeln!(
                f,
                "{:<10} {:>10} {:>6} {:>9} {:>9} {:>10} {:>10} {:>12}",
                "segment",
                "households",
                "R²",
                "selected",
                "poor",
                "inclusion",
                "exclusion",
                "poorest 20%"
            )?;
            for ((name, e), (_, _, r2)) in t.segments.iter().zip(&self.segment_r2) {
                line(f, name, e, Some(*r2))?;
            }
            line(f, "all", &t.overall, Some(self.r2))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(region: &str, predicted: f64, actual: f64) -> Evaluated {
        Evaluated {
            region_code: region.to_owned(),
            area: Area::Rural,
            predicted,
            actual,
        }
    }

    #[test]
    fn errors_count_as_defined() {
        // Ten households; threshold 5. Poor: actual <= 5 → a, b, c, d. Selected: predicted <= 5 →
        // a, b, e. So inclusion 1/3 (e), exclusion 2/4 (c, d). Poorest 20 % = 2 lowest actual (a, b),
        // both selected.
        let rows = vec![
            row("01", 1.0, 1.0),
            row("01", 2.0, 2.0),
            row("01", 9.0, 3.0),
            row("02", 8.0, 4.0),
            row("02", 4.0, 7.0),
            row("02", 6.0, 6.0),
            row("02", 7.0, 8.0),
            row("02", 8.0, 9.0),
            row("02", 9.0, 10.0),
            row("02", 10.0, 11.0),
        ];
        let e = evaluate(&rows, &[("t".to_owned(), 5.0)]);
        let all = e.thresholds[0].overall;
        assert_eq!((all.households, all.selected, all.poor), (10, 3, 4));
        assert_eq!(all.inclusion_error, Some(1.0 / 3.0));
        assert_eq!(all.exclusion_error, Some(0.5));
        assert_eq!(all.poorest_20_reached, Some(1.0));
        assert_eq!(e.poorest_20_cutoff, 2.0);
        let (code, r01) = &e.thresholds[0].segments[0];
        assert_eq!(code, "01/rural");
        assert_eq!(r01.inclusion_error, Some(0.0));
        assert_eq!(r01.exclusion_error, Some(1.0 / 3.0));
        let (_, r02) = &e.thresholds[0].segments[1];
        assert_eq!(
            r02.poorest_20_reached, None,
            "none of the poorest live there"
        );
        assert_eq!(r02.inclusion_error, Some(1.0));
        let text = e.to_string();
        assert!(
            text.contains("01/rural") && text.contains("33.3%"),
            "{text}"
        );
    }
}
