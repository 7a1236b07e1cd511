//! Bar charts over time drawn on the server as SVG (households registered per month, paid per
//! cycle). The words (axis titles, numbers in the reader's digits) come from the caller; the chart
//! only places them. The same figures are on the page as a table for screen readers and CSV.

use std::fmt::Write as _;

use crate::map::escape;

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 240.0;
/// Room for the values of the vertical axis (left) and the labels of the bars (bottom).
const LEFT: f64 = 64.0;
const BOTTOM: f64 = 40.0;
const TOP: f64 = 24.0;
const RIGHT: f64 = 8.0;
/// Bar and text colours (AA on white).
const BAR: &str = "#0b5f59";
const TEXT: &str = "#3d4a48";
const GRID: &str = "#d9dedd";

/// One bar: its label under the axis, its value, and its title (label and value in words).
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub title: String,
}

/// A "nice" step (1, 2 or 5 times a power of ten) for about `ticks` intervals up to `max`.
pub fn nice_step(max: f64, ticks: usize) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let raw = max / ticks.max(1) as f64;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power);
    step.max(1.0)
}

/// A bar chart. `label` names it for screen readers, `y_title` is the vertical axis's title and
/// `number` writes a value of the axis in the reader's words.
pub fn bars(bars: &[Bar], label: &str, y_title: &str, number: impl Fn(f64) -> String) -> String {
    let mut svg = String::with_capacity(4096 + bars.len() * 200);
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\">",
        escape(label)
    );
    let max = bars.iter().map(|b| b.value).fold(0.0, f64::max);
    let step = nice_step(max, 4);
    let top = (max / step).ceil().max(1.0) * step;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let plot_w = WIDTH - LEFT - RIGHT;
    let y = |v: f64| TOP + plot_h * (1.0 - v / top);
    let _ = write!(
        svg,
        "<text x=\"{LEFT}\" y=\"14\" font-size=\"12\" fill=\"{TEXT}\">{}</text>",
        escape(y_title)
    );
    let mut v = 0.0;
    while v <= top + step / 2.0 {
        let yy = y(v);
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"{GRID}\"/><text x=\"{}\" y=\"{:.1}\" font-size=\"11\" fill=\"{TEXT}\" text-anchor=\"end\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            yy + 4.0,
            escape(&number(v))
        );
        v += step;
    }
    if !bars.is_empty() {
        let slot = plot_w / bars.len() as f64;
        let width = (slot * 0.7).max(1.0);
        // At most about twelve labels under the axis.
        let every = bars.len().div_ceil(12).max(1);
        for (i, b) in bars.iter().enumerate() {
            let x = LEFT + slot * i as f64 + (slot - width) / 2.0;
            let yy = y(b.value.max(0.0));
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{yy:.1}\" width=\"{width:.1}\" height=\"{:.1}\" fill=\"{BAR}\"><title>{}</title></rect>",
                (TOP + plot_h - yy).max(0.0),
                escape(&b.title)
            );
            if i % every == 0 {
                let _ = write!(
                    svg,
                    "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"{TEXT}\" text-anchor=\"middle\">{}</text>",
                    x + width / 2.0,
                    HEIGHT - BOTTOM + 16.0,
                    escape(&b.label)
                );
            }
        }
    }
    let _ = write!(
        svg,
        "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"{TEXT}\"/></svg>",
        WIDTH - RIGHT,
        TOP + plot_h,
        TOP + plot_h
    );
    svg
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_chart_has_a_bar_and_a_title_per_value() {
        let data: Vec<Bar> = (1..=3)
            .map(|m| Bar {
                label: format!("2026-0{m}"),
                value: f64::from(m * 10),
                title: format!("2026-0{m}: {}", m * 10),
            })
            .collect();
        let svg = bars(&data, "per month", "households", |v| format!("{v}"));
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("<title>2026-02: 20</title>"));
        assert!(
            svg.contains(">30<"),
            "the axis reaches the largest value: {svg}"
        );
        assert!(!svg.contains("style="));
        assert!(bars(&[], "none", "households", |v| format!("{v}")).ends_with("</svg>"));
    }

    proptest! {
        #[test]
        fn the_axis_step_is_nice_and_covers_the_maximum(max in 1f64..1e9) {
            let step = nice_step(max, 4);
            let mantissa = step / 10f64.powf(step.log10().floor());
            prop_assert!([1.0, 2.0, 5.0, 10.0].iter().any(|m| (mantissa - m).abs() < 1e-6), "{step}");
            prop_assert!(step * 4.0 >= max * 0.999_999);
            prop_assert!((max / step).ceil() <= 10.0);
        }
    }
}
