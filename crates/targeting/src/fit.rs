//! Fitting a model from a consumption survey: weighted least squares with region × area segments
//! whose coefficients are shrunk toward the national ones, solved by Cholesky on the normal
//! equations (about 45 unknowns; no linear-algebra crate needed).

use std::collections::BTreeMap;
use std::fmt;

use sanad_domain::{Area, HouseholdFacts};

use crate::model::{FitInfo, Model, Segment, check_id};
use crate::variable::{Features, Variable};

/// One household of a consumption survey.
#[derive(Debug, Clone, PartialEq)]
pub struct SurveyHousehold {
    pub facts: HouseholdFacts,
    /// Observed annual consumption per person, MAD.
    pub consumption_per_person: f64,
    /// How many households of the population this one stands for (inverse sampling probability).
    pub weight: f64,
}

/// What to fit.
#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    pub id: String,
    pub version: u32,
    pub description: String,
    /// Candidate variables; those that do not vary within any segment of the survey are dropped
    /// (and listed in [`FitReport::dropped`]).
    pub variables: Vec<Variable>,
    /// How strongly a segment's coefficients are pulled toward the national ones, counted in survey
    /// households: a segment of `shrinkage` households ends about halfway between its own estimate
    /// and the national one; a segment ten times larger keeps mostly its own. 0 fits each segment
    /// on its own.
    pub shrinkage: f64,
    /// A segment with fewer survey households keeps the national coefficients and gets only its
    /// own intercept.
    pub min_segment_households: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            id: "pmt".to_owned(),
            version: 1,
            description: String::new(),
            variables: Variable::default_set(),
            shrinkage: 300.0,
            min_segment_households: 60,
        }
    }
}

/// The fitted model and how well it fits its survey.
#[derive(Debug, Clone, PartialEq)]
pub struct FitReport {
    pub model: Model,
    /// Weighted R² over the whole survey.
    pub r2: f64,
    /// Weighted root mean square error, in log points.
    pub rmse: f64,
    /// Survey households.
    pub n: usize,
    pub segments: Vec<SegmentFit>,
    /// Candidate variables left out because they do not vary within segments.
    pub dropped: Vec<Variable>,
}

/// How well one segment is fitted.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentFit {
    pub segment: String,
    /// Survey households of the segment.
    pub n: usize,
    /// Share of the population (by weight) the segment stands for.
    pub population_share: f64,
    /// Weighted R² within the segment (against the segment's own mean).
    pub r2: f64,
    pub rmse: f64,
    /// The segment kept the national coefficients (too few households).
    pub pooled: bool,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    #[error("the survey has no household")]
    Empty,
    #[error("survey household {index}: {message}")]
    BadHousehold { index: usize, message: String },
    #[error("invalid fit options: {0}")]
    Options(String),
    #[error(
        "`{variable}` is a combination of the other variables in {segment} (drop it from the variables)"
    )]
    Collinear { variable: Variable, segment: String },
}

/// The survey as numbers: one row of `p` values per household.
struct Data {
    p: usize,
    x: Vec<f64>,
    y: Vec<f64>,
    w: Vec<f64>,
}

impl Data {
    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.p..(i + 1) * self.p]
    }
}

/// Weighted means of the rows `rows`: (x̄, ȳ, Σw).
fn means(data: &Data, rows: &[usize]) -> (Vec<f64>, f64, f64) {
    let mut xbar = vec![0.0; data.p];
    let (mut ybar, mut total) = (0.0, 0.0);
    for &i in rows {
        let w = data.w[i];
        for (m, x) in xbar.iter_mut().zip(data.row(i)) {
            *m += w * x;
        }
        ybar += w * data.y[i];
        total += w;
    }
    if total > 0.0 {
        xbar.iter_mut().for_each(|m| *m /= total);
        ybar /= total;
    }
    (xbar, ybar, total)
}

/// Adds the centred cross products of `rows` to `a` (p × p, full) and `b`.
fn accumulate(data: &Data, rows: &[usize], xbar: &[f64], ybar: f64, a: &mut [f64], b: &mut [f64]) {
    let p = data.p;
    let mut d = vec![0.0; p];
    for &i in rows {
        let w = data.w[i];
        for ((dj, x), m) in d.iter_mut().zip(data.row(i)).zip(xbar) {
            *dj = x - m;
        }
        let dy = data.y[i] - ybar;
        for j in 0..p {
            let wd = w * d[j];
            if wd == 0.0 {
                continue;
            }
            b[j] += wd * dy;
            let row = &mut a[j * p..j * p + p];
            for k in j..p {
                row[k] += wd * d[k];
            }
        }
    }
}

fn symmetrise(a: &mut [f64], p: usize) {
    for j in 0..p {
        for k in 0..j {
            a[j * p + k] = a[k * p + j];
        }
    }
}

/// Solves `a x = b` for a symmetric positive definite `a` (p × p), scaling it to unit diagonal
/// first so that the pivot test is relative. `Err(k)` when the k-th unknown is (numerically) a
/// combination of the earlier ones.
fn solve(a: &[f64], b: &[f64], p: usize) -> Result<Vec<f64>, usize> {
    let scale: Vec<f64> = (0..p)
        .map(|j| {
            let d = a[j * p + j];
            if d > 0.0 { 1.0 / d.sqrt() } else { 0.0 }
        })
        .collect();
    if let Some(k) = scale.iter().position(|s| *s == 0.0) {
        return Err(k);
    }
    // Lower-triangular L with L Lᵀ = S A S.
    let mut l = vec![0.0; p * p];
    for j in 0..p {
        let mut diag = a[j * p + j] * scale[j] * scale[j];
        for k in 0..j {
            diag -= l[j * p + k] * l[j * p + k];
        }
        if diag <= 1e-11 {
            return Err(j);
        }
        let diag = diag.sqrt();
        l[j * p + j] = diag;
        for i in j + 1..p {
            let mut v = a[i * p + j] * scale[i] * scale[j];
            for k in 0..j {
                v -= l[i * p + k] * l[j * p + k];
            }
            l[i * p + j] = v / diag;
        }
    }
    // L z = S b, then Lᵀ u = z, x = S u.
    let mut z = vec![0.0; p];
    for i in 0..p {
        let mut v = b[i] * scale[i];
        for k in 0..i {
            v -= l[i * p + k] * z[k];
        }
        z[i] = v / l[i * p + i];
    }
    let mut u = vec![0.0; p];
    for i in (0..p).rev() {
        let mut v = z[i];
        for k in i + 1..p {
            v -= l[k * p + i] * u[k];
        }
        u[i] = v / l[i * p + i];
    }
    Ok(u.iter().zip(&scale).map(|(u, s)| u * s).collect())
}

/// A segment's key; `BTreeMap` order gives `01/urban`, `01/rural`, `02/urban`…
type Key = (String, u8);

fn area_of(key: u8) -> Area {
    if key == 0 { Area::Urban } else { Area::Rural }
}

/// Fits a model to a survey by weighted least squares.
///
/// 1. Every household's variables are read with [`Features::of`]; the target is ln(consumption per
///    person). Weights are rescaled to sum to the number of households (only their ratios matter).
/// 2. National coefficients: the weighted "within" regression, each household measured from its
///    segment's weighted mean, which is least squares with one intercept per segment and common
///    coefficients.
/// 3. Each segment's coefficients: weighted least squares on its own households with a ridge
///    penalty pulling them toward the national ones, `Σ w (y − a − x·β)² + Σⱼ λⱼ (βⱼ − β̂ⱼ)²` with
///    `λⱼ = shrinkage × vⱼ` (vⱼ: the national within-segment variance of variable j per
///    household), so that the penalty is worth `shrinkage` households whatever the variable's
///    scale. Intercepts are not penalised: each segment's average household is predicted at its
///    own observed mean.
/// 4. The national segment (for a household whose region and area the survey did not cover) has
///    the national coefficients and the national means.
pub fn fit(survey: &[SurveyHousehold], options: &FitOptions) -> Result<FitReport, FitError> {
    check_options(options)?;
    if survey.is_empty() {
        return Err(FitError::Empty);
    }
    let candidates = &options.variables;
    let p = candidates.len();
    let n = survey.len();
    let mut data = Data {
        p,
        x: Vec::with_capacity(n * p),
        y: Vec::with_capacity(n),
        w: Vec::with_capacity(n),
    };
    let mut total_weight = 0.0;
    let mut groups: BTreeMap<Key, Vec<usize>> = BTreeMap::new();
    for (index, h) in survey.iter().enumerate() {
        let c = h.consumption_per_person;
        if !(c.is_finite() && c > 0.0) {
            return Err(FitError::BadHousehold {
                index,
                message: format!("consumption per person must be a positive number, got {c}"),
            });
        }
        if !(h.weight.is_finite() && h.weight > 0.0) {
            return Err(FitError::BadHousehold {
                index,
                message: format!("the weight must be a positive number, got {}", h.weight),
            });
        }
        let features = Features::of(&h.facts);
        data.x.extend(candidates.iter().map(|v| features.get(*v)));
        data.y.push(c.ln());
        data.w.push(h.weight);
        total_weight += h.weight;
        groups
            .entry((
                h.facts.region_code.clone(),
                u8::from(h.facts.area != Area::Urban),
            ))
            .or_default()
            .push(index);
    }
    let rescale = n as f64 / total_weight;
    data.w.iter_mut().for_each(|w| *w *= rescale);

    // National within-segment regression.
    let mut a = vec![0.0; p * p];
    let mut b = vec![0.0; p];
    let mut segment_means = Vec::with_capacity(groups.len());
    for rows in groups.values() {
        let (xbar, ybar, total) = means(&data, rows);
        accumulate(&data, rows, &xbar, ybar, &mut a, &mut b);
        segment_means.push((xbar, ybar, total));
    }
    symmetrise(&mut a, p);
    let (xbar_all, _, _) = means(&data, &(0..n).collect::<Vec<_>>());
    let variance: Vec<f64> = (0..p).map(|j| a[j * p + j] / n as f64).collect();
    let (active, dropped): (Vec<usize>, Vec<usize>) = (0..p).partition(|&j| {
        let scale = 1.0 + xbar_all[j] * xbar_all[j];
        variance[j] > 1e-12 * scale
    });
    if active.is_empty() {
        return Err(FitError::Options(
            "none of the variables varies within the survey's segments".to_owned(),
        ));
    }
    let q = active.len();
    let sub = |m: &[f64]| -> Vec<f64> {
        let mut out = Vec::with_capacity(q * q);
        for &j in &active {
            for &k in &active {
                out.push(m[j * p + k]);
            }
        }
        out
    };
    let pick = |v: &[f64]| -> Vec<f64> { active.iter().map(|&j| v[j]).collect() };
    let variables: Vec<Variable> = active.iter().map(|&j| candidates[j]).collect();
    let collinear = |k: usize, segment: &str| FitError::Collinear {
        variable: variables[k],
        segment: segment.to_owned(),
    };
    let national_beta =
        solve(&sub(&a), &pick(&b), q).map_err(|k| collinear(k, "the national fit"))?;
    let lambda: Vec<f64> = pick(&variance)
        .iter()
        .map(|v| options.shrinkage * v)
        .collect();

    let mut segments = Vec::with_capacity(groups.len());
    for ((key, rows), (xbar_full, ybar, _)) in groups.iter().zip(&segment_means) {
        let xbar = pick(xbar_full);
        let own = rows.len() >= options.min_segment_households.max(2);
        let beta = if own {
            let mut a_s = vec![0.0; p * p];
            let mut b_s = vec![0.0; p];
            accumulate(&data, rows, xbar_full, *ybar, &mut a_s, &mut b_s);
            symmetrise(&mut a_s, p);
            let mut a_s = sub(&a_s);
            let mut b_s = pick(&b_s);
            for j in 0..q {
                // A sliver of ridge even at shrinkage 0, so that a variable constant within this
                // segment takes the national coefficient instead of making the system singular.
                let l = lambda[j] + 1e-9 * variance[active[j]];
                a_s[j * q + j] += l;
                b_s[j] += l * national_beta[j];
            }
            let code = format!("{}/{}", key.0, area_of(key.1).as_str());
            solve(&a_s, &b_s, q).map_err(|k| collinear(k, &code))?
        } else {
            national_beta.clone()
        };
        let intercept = ybar - xbar.iter().zip(&beta).map(|(m, b)| m * b).sum::<f64>();
        segments.push(Segment::new(
            Some(key.0.clone()),
            Some(area_of(key.1)),
            intercept,
            beta,
            xbar,
            rows.len(),
        ));
    }
    let (xbar, ybar, _) = means(&data, &(0..n).collect::<Vec<_>>());
    let xbar = pick(&xbar);
    let national_intercept = ybar
        - xbar
            .iter()
            .zip(&national_beta)
            .map(|(m, b)| m * b)
            .sum::<f64>();
    let national = Segment::new(None, None, national_intercept, national_beta, xbar, n);

    // Goodness of fit on the survey, with the model as it will score.
    let mut fits = Vec::with_capacity(segments.len());
    let (mut sse, mut sst) = (0.0, 0.0);
    for ((rows, (_, seg_ybar, seg_total)), seg) in
        groups.values().zip(&segment_means).zip(&segments)
    {
        let (mut s_sse, mut s_sst) = (0.0, 0.0);
        for &i in rows {
            let predicted = seg.intercept
                + active
                    .iter()
                    .zip(&seg.coefficients)
                    .map(|(&j, b)| b * data.row(i)[j])
                    .sum::<f64>();
            let w = data.w[i];
            let e = data.y[i] - predicted;
            s_sse += w * e * e;
            s_sst += w * (data.y[i] - seg_ybar) * (data.y[i] - seg_ybar);
            sst += w * (data.y[i] - ybar) * (data.y[i] - ybar);
        }
        sse += s_sse;
        fits.push(SegmentFit {
            segment: seg.code(),
            n: rows.len(),
            population_share: seg_total / n as f64,
            r2: r2(s_sse, s_sst),
            rmse: (s_sse / seg_total).sqrt(),
            pooled: rows.len() < options.min_segment_households.max(2),
        });
    }
    let r2_all = r2(sse, sst);
    let model = Model::new(
        options.id.clone(),
        options.version,
        options.description.clone(),
        variables,
        national,
        segments,
        Some(FitInfo {
            households: n,
            r2: r2_all,
            shrinkage: options.shrinkage,
        }),
    );
    Ok(FitReport {
        model,
        r2: r2_all,
        rmse: (sse / n as f64).sqrt(),
        n,
        segments: fits,
        dropped: dropped.iter().map(|&j| candidates[j]).collect(),
    })
}

fn r2(sse: f64, sst: f64) -> f64 {
    if sst > 0.0 { 1.0 - sse / sst } else { 0.0 }
}

fn check_options(options: &FitOptions) -> Result<(), FitError> {
    check_id(&options.id).map_err(FitError::Options)?;
    if options.version == 0 {
        return Err(FitError::Options("the version starts at 1".to_owned()));
    }
    if options.variables.is_empty() {
        return Err(FitError::Options("no variables".to_owned()));
    }
    for (i, v) in options.variables.iter().enumerate() {
        if options.variables[..i].contains(v) {
            return Err(FitError::Options(format!("`{v}` is listed twice")));
        }
    }
    if !(options.shrinkage.is_finite() && options.shrinkage >= 0.0) {
        return Err(FitError::Options(format!(
            "the shrinkage must be a non-negative number, got {}",
            options.shrinkage
        )));
    }
    Ok(())
}

impl fmt::Display for FitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "model {} v{}: {} survey households, {} variables, R² {:.3}, RMSE {:.3}",
            self.model.id,
            self.model.version,
            self.n,
            self.model.variables().len(),
            self.r2,
            self.rmse
        )?;
        if !self.dropped.is_empty() {
            let dropped: Vec<&str> = self.dropped.iter().map(|v| v.code()).collect();
            writeln!(
                f,
                "left out (no variation within segments): {}",
                dropped.join(", ")
            )?;
        }
        writeln!(
            f,
            "{:<10} {:>10} {:>11} {:>7} {:>7}",
            "segment", "households", "population", "R²", "RMSE"
        )?;
        for s in &self.segments {
            writeln!(
                f,
                "{:<10} {:>10} {:>10.1}% {:>7.3} {:>7.3}{}",
                s.segment,
                s.n,
                100.0 * s.population_share,
                s.r2,
                s.rmse,
                if s.pooled {
                    "  (national coefficients)"
                } else {
                    ""
                }
            )?;
        }
        writeln!(
            f,
            "{:<10} {:>10} {:>10.1}% {:>7.3} {:>7.3}",
            "all", self.n, 100.0, self.r2, self.rmse
        )
    }
}
