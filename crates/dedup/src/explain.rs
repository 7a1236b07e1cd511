//! The model explained for people: a self-contained HTML page (inline SVG, no script, no outside
//! asset) with the fitted parameters per field and level, a match-weight chart per field, the
//! predicted precision–recall curve, the thresholds, and the waterfall of one pair's weights.

use std::fmt::Write as _;

use crate::index::Candidate;
use crate::model::Model;
use crate::{CurvePoint, RunReport};

/// One pair to draw as a waterfall: the two ids and the comparison (see [`crate::compare_records`]).
pub struct PairToExplain<'a> {
    pub id_a: &'a str,
    pub id_b: &'a str,
    pub comparison: &'a Candidate,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The prior in bits: log2(λ / (1 − λ)).
pub fn prior_bits(model: &Model) -> f64 {
    let l = model.lambda.clamp(1e-15, 1.0 - 1e-9);
    (l / (1.0 - l)).log2()
}

/// Renders the page. `report` (a run's report) adds the predicted curve and the thresholds.
pub fn explain_html(
    model: &Model,
    report: Option<&RunReport>,
    pair: Option<&PairToExplain<'_>>,
) -> String {
    let mut h = String::with_capacity(32 * 1024);
    h.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sanad deduplication model</title>\n<style>\
body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0}\
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f0f0f0}td.l{text-align:left}\
.pos{fill:#2a7d2a}.neg{fill:#b03030}.axis{stroke:#666;stroke-width:1}text{font-size:11px}</style></head><body>\n",
    );
    let _ = writeln!(h, "<h1>Sanad deduplication model</h1>");
    let t = &model.training;
    let _ = writeln!(
        h,
        "<p>Trained on {} records: u from {} random pairs, m by EM on {} pairs ({} iterations, converged: {}). \
Prior λ = {:.3e} ({:.2} bits); {:.0} matching pairs expected.</p>",
        t.records,
        t.u_pairs,
        t.em_pairs,
        t.em_iterations,
        t.em_converged,
        model.lambda,
        prior_bits(model),
        t.estimated_matches
    );
    if let Some(r) = report {
        let _ = writeln!(
            h,
            "<p>Match threshold {:.3} ({}), review from {:.3}: {} matches, {} pairs to review, {} candidate pairs scored.</p>",
            r.match_threshold,
            if r.threshold_chosen_from_data {
                "chosen from the data: the predicted F1's maximum"
            } else {
                "given"
            },
            r.review_threshold,
            r.matches,
            r.review,
            r.pairs_scored
        );
    }
    let _ = writeln!(
        h,
        "<h2 id=\"parameters\">Parameters per field and level</h2>"
    );
    let _ = writeln!(
        h,
        "<p>m = P(level | same person), u = P(level | different persons), weight = log2(m/u) in bits. \
A missing value (level null) weighs 0. Levels marked * were not estimated from this file \
(too few training pairs): their m is a fallback, most often m = u, a weight of 0.</p>"
    );
    h.push_str("<table><tr><th>field</th><th>level</th><th>m</th><th>u</th><th>weight (bits)</th><th>estimated</th></tr>\n");
    for fm in &model.fields {
        for lm in &fm.levels {
            let _ = writeln!(
                h,
                "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{:.5}</td><td>{:.6}</td><td>{:+.2}</td><td>{}</td></tr>",
                esc(&fm.field),
                esc(&lm.level),
                lm.m,
                lm.u,
                lm.weight,
                if lm.level == "null" {
                    "-"
                } else if lm.estimated {
                    "yes"
                } else {
                    "*"
                }
            );
        }
    }
    h.push_str("</table>\n");
    let _ = writeln!(h, "<h2 id=\"weights\">Match weights per field</h2>");
    for fm in &model.fields {
        let bars: Vec<(String, f64)> = fm
            .levels
            .iter()
            .map(|l| (l.level.clone(), l.weight))
            .collect();
        let _ = writeln!(h, "<h3>{}</h3>", esc(&fm.field));
        h.push_str(&bar_chart(&bars));
    }
    if let Some(r) = report {
        let _ = writeln!(h, "<h2 id=\"curve\">Predicted precision and recall</h2>");
        let _ = writeln!(
            h,
            "<p>From the model alone (no truth file): above a threshold, the sum of the pairs' probabilities is the \
expected number of true matches; recall is counted against the matches the prior expects.</p>"
        );
        h.push_str(&curve_chart(&r.predicted_curve));
        h.push_str("<table><tr><th>threshold</th><th>pairs</th><th>precision</th><th>recall</th><th>F1</th></tr>\n");
        for c in r.predicted_curve.iter().step_by(4) {
            let _ = writeln!(
                h,
                "<tr><td>{:.4}</td><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td></tr>",
                c.threshold, c.pairs, c.precision, c.recall, c.f1
            );
        }
        h.push_str("</table>\n");
    }
    if let Some(p) = pair {
        let _ = writeln!(
            h,
            "<h2 id=\"waterfall\">Waterfall: {} and {}</h2>",
            esc(p.id_a),
            esc(p.id_b)
        );
        let c = p.comparison;
        let _ = writeln!(
            h,
            "<p>Match weight {:+.2} bits, probability {:.4}{}.</p>",
            c.weight,
            c.probability,
            if c.swapped_names {
                " (names compared in swapped order)"
            } else {
                ""
            }
        );
        let mut steps = vec![("prior".to_string(), prior_bits(model))];
        steps.extend(
            c.explanation
                .iter()
                .map(|e| (format!("{} ({})", e.field, e.level), f64::from(e.weight))),
        );
        h.push_str(&waterfall(&steps));
        h.push_str("<table><tr><th>step</th><th>bits</th></tr>\n");
        for (name, w) in &steps {
            let _ = writeln!(
                h,
                "<tr><td class=\"l\">{}</td><td>{:+.2}</td></tr>",
                esc(name),
                w
            );
        }
        h.push_str("</table>\n");
    }
    h.push_str("</body></html>\n");
    h
}

/// Horizontal bars around 0, one per level.
fn bar_chart(bars: &[(String, f64)]) -> String {
    let max = bars.iter().map(|b| b.1.abs()).fold(1.0, f64::max);
    let (w, row, left) = (640.0, 18.0, 160.0);
    let mid = left + (w - left) / 2.0;
    let scale = (w - left) / 2.0 / max;
    let height = row * bars.len() as f64 + 10.0;
    let mut s = format!("<svg width=\"{w}\" height=\"{height}\" role=\"img\">");
    for (k, (name, v)) in bars.iter().enumerate() {
        let y = 5.0 + row * k as f64;
        let (x, len) = if *v >= 0.0 {
            (mid, v * scale)
        } else {
            (mid + v * scale, -v * scale)
        };
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><rect class=\"{}\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{len:.1}\" height=\"{:.1}\"/><text x=\"{:.1}\" y=\"{:.1}\">{v:+.1}</text>",
            left - 6.0,
            y + 12.0,
            esc(name),
            if *v >= 0.0 { "pos" } else { "neg" },
            y + 2.0,
            row - 4.0,
            if *v >= 0.0 { mid + len + 3.0 } else { x - 30.0 },
            y + 12.0
        );
    }
    let _ = writeln!(
        s,
        "<line class=\"axis\" x1=\"{mid:.1}\" y1=\"0\" x2=\"{mid:.1}\" y2=\"{height:.1}\"/></svg>"
    );
    s
}

/// Precision against recall.
fn curve_chart(points: &[CurvePoint]) -> String {
    let (w, hgt, pad) = (420.0, 320.0, 40.0);
    let x = |r: f64| pad + r.clamp(0.0, 1.0) * (w - 2.0 * pad);
    let y = |p: f64| hgt - pad - p.clamp(0.0, 1.0) * (hgt - 2.0 * pad);
    let mut s = format!(
        "<svg width=\"{w}\" height=\"{hgt}\" role=\"img\">\
<line class=\"axis\" x1=\"{pad}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\"/><line class=\"axis\" x1=\"{pad}\" y1=\"{pad}\" x2=\"{pad}\" y2=\"{:.1}\"/>\
<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">recall</text><text x=\"8\" y=\"{:.1}\">precision</text><polyline fill=\"none\" stroke=\"#2a5db0\" stroke-width=\"2\" points=\"",
        hgt - pad,
        w - pad,
        hgt - pad,
        hgt - pad,
        w / 2.0,
        hgt - 8.0,
        pad - 10.0
    );
    for p in points.iter().filter(|p| p.pairs > 0) {
        let _ = write!(s, "{:.1},{:.1} ", x(p.recall), y(p.precision));
    }
    s.push_str("\"/></svg>\n");
    s
}

/// The running total of the weights, from the prior to the final match weight.
fn waterfall(steps: &[(String, f64)]) -> String {
    let mut total = 0.0;
    let mut lo: f64 = 0.0;
    let mut hi: f64 = 0.0;
    for (_, v) in steps {
        total += v;
        lo = lo.min(total);
        hi = hi.max(total);
    }
    let span = (hi - lo).max(1.0);
    let (w, row, left) = (680.0, 20.0, 220.0);
    let scale = (w - left - 20.0) / span;
    let xo = |v: f64| left + (v - lo) * scale;
    let height = row * (steps.len() + 1) as f64 + 10.0;
    let mut s = format!("<svg width=\"{w}\" height=\"{height}\" role=\"img\">");
    let mut run = 0.0;
    for (k, (name, v)) in steps.iter().enumerate() {
        let y = 5.0 + row * k as f64;
        let (a, b) = (run, run + v);
        run = b;
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><rect class=\"{}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\"/>",
            left - 6.0,
            y + 13.0,
            esc(name),
            if *v >= 0.0 { "pos" } else { "neg" },
            xo(a.min(b)),
            y + 2.0,
            ((b - a).abs() * scale).max(1.0),
            row - 4.0
        );
    }
    let y = 5.0 + row * steps.len() as f64;
    let _ = writeln!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">match weight {run:+.2}</text><line class=\"axis\" x1=\"{:.1}\" y1=\"0\" x2=\"{:.1}\" y2=\"{height:.1}\"/></svg>",
        left - 6.0,
        y + 13.0,
        xo(0.0),
        xo(0.0)
    );
    s
}
