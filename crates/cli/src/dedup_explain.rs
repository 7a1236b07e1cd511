//! `sanad dedup`'s account of the fitted model: the thresholds and the estimated blocking recall
//! on stderr, and the `--explain` page (with `--pair`'s waterfall).

use std::path::Path;

use anyhow::Context as _;

/// Prints the thresholds (and whether they were chosen from the data), the expected matches and
/// the blocking recall estimated without a truth file.
pub fn print_model_summary(result: &sanad_dedup::DedupResult) {
    let r = &result.report;
    eprintln!(
        "match threshold {:.3} ({}), review from {:.3}; {:.0} matching pairs expected; estimated blocking recall {:.4}",
        r.match_threshold,
        if r.threshold_chosen_from_data {
            "chosen from the data; --match-threshold overrides"
        } else {
            "given"
        },
        r.review_threshold,
        r.expected_matches,
        r.estimated_blocking_recall
    );
}

pub fn write_explain(
    file: &Path,
    result: &sanad_dedup::DedupResult,
    records: &[sanad_dedup::Record],
    pair: &[String],
) -> anyhow::Result<()> {
    let comparison;
    let explained = match pair {
        [a, b] => {
            let find = |id: &str| {
                records
                    .iter()
                    .find(|r| r.id == id)
                    .with_context(|| format!("--pair: no record with id {id:?}"))
            };
            comparison = sanad_dedup::compare_records(&result.model, find(a)?, find(b)?);
            Some(sanad_dedup::PairToExplain {
                id_a: a,
                id_b: b,
                comparison: &comparison,
            })
        }
        _ => None,
    };
    let html = sanad_dedup::explain_html(&result.model, Some(&result.report), explained.as_ref());
    std::fs::write(file, html).with_context(|| format!("cannot write {}", file.display()))?;
    eprintln!("model explained in {}", file.display());
    Ok(())
}
