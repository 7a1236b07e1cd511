//! The blocking recall estimated without a truth file, from the fitted model: the chance that the
//! rules reach a pair of records of one person. Under the model's own assumption (fields agree or
//! disagree independently given a match), a match shows each field's levels with the fitted m,
//! and each field is missing as often as in the file; each rule is a condition on those levels
//! (the names' phonetic keys agree at the exact and variant levels, initials up to the close level,
//! the birth year or the day and month at the date levels that keep them). Summing the chance of
//! every combination that some rule reaches gives the recall. Oversized blocks that were skipped
//! are ignored, so this is an upper bound when the report shows skipped blocks.

use crate::blocking::BlockingRule;
use crate::features::Feat;
use crate::model::Model;

/// How a field of a matching pair can stand, as far as the blocking rules care.
#[derive(Clone, Copy)]
struct Names {
    /// Phonetic keys equal (exact or variant level).
    phon: f64,
    /// Initials likely equal, keys different (close level).
    initial: f64,
    /// Further apart.
    apart: f64,
    null: f64,
}

#[derive(Clone, Copy)]
struct Dates {
    exact: f64,
    /// Same year, day or month differing.
    year_only: f64,
    /// Same day and month, year differing.
    md_only: f64,
    apart: f64,
    null: f64,
}

fn m(model: &Model, field: usize, level: usize) -> f64 {
    model
        .fields
        .get(field)
        .and_then(|f| f.levels.get(level))
        .map_or(0.0, |l| l.m)
}

/// Missing on either side of a pair, when a share `q` of the records lacks the field.
fn pair_null(q: f64) -> f64 {
    1.0 - (1.0 - q) * (1.0 - q)
}

fn names(model: &Model, field: usize, q: f64) -> Names {
    let null = pair_null(q);
    let (phon, close) = (m(model, field, 1) + m(model, field, 2), m(model, field, 3));
    let total = (1..=5).map(|l| m(model, field, l)).sum::<f64>().max(1e-12);
    let k = (1.0 - null) / total;
    Names {
        phon: phon * k,
        initial: close * k,
        apart: (total - phon - close).max(0.0) * k,
        null,
    }
}

fn dates(model: &Model, q: f64) -> Dates {
    let null = pair_null(q);
    let l = |x| m(model, 2, x);
    let total = (1..=6).map(l).sum::<f64>().max(1e-12);
    let k = (1.0 - null) / total;
    // A one-digit slip is as likely in the year as in the day or month (an even split); a date
    // heaped on 1 January keeps the year.
    Dates {
        exact: (l(1) + l(2)) * k,
        year_only: (0.5 * l(3) + l(4) + l(5)) * k,
        md_only: 0.5 * l(3) * k,
        apart: l(6) * k,
        null,
    }
}

/// Two-state fields (agree closely enough for the rule, or not), with their missing share.
fn near(model: &Model, field: usize, near_levels: &[usize], q: f64) -> [f64; 3] {
    let null = pair_null(q);
    let n = crate::LEVELS[field].len();
    let total = (1..n).map(|l| m(model, field, l)).sum::<f64>().max(1e-12);
    let hit: f64 = near_levels.iter().map(|&l| m(model, field, l)).sum();
    let k = (1.0 - null) / total;
    [hit * k, (total - hit).max(0.0) * k, null]
}

/// The estimate for `rules` on the records `feats` with the fitted `model`.
pub(crate) fn model_blocking_recall(model: &Model, feats: &[Feat], rules: &[BlockingRule]) -> f64 {
    if feats.is_empty() {
        return 1.0;
    }
    let n = feats.len() as f64;
    let share = |f: &dyn Fn(&Feat) -> bool| feats.iter().filter(|x| f(x)).count() as f64 / n;
    let no_name = |x: &crate::features::NameF| x.exact == 0 && x.ar == 0 && x.skel == 0;
    let first = names(model, 0, share(&|x| no_name(&x.first)));
    let last = names(model, 1, share(&|x| no_name(&x.last)));
    let dob = dates(model, share(&|x| x.dob == 0));
    let nid = near(model, 3, &[1, 2], share(&|x| x.nid == 0));
    let commune = near(model, 5, &[1], share(&|x| x.commune == 0));
    let phone = near(model, 7, &[1], share(&|x| x.phone == 0));
    let name_states = |s: Names| [s.phon, s.initial, s.apart, s.null];
    let date_states = [dob.exact, dob.year_only, dob.md_only, dob.apart, dob.null];
    let mut reached = 0.0;
    for (fi, pf) in name_states(first).into_iter().enumerate() {
        for (li, pl) in name_states(last).into_iter().enumerate() {
            for (di, pd) in date_states.into_iter().enumerate() {
                for (ni, pn) in nid.into_iter().enumerate() {
                    for (ci, pc) in commune.into_iter().enumerate() {
                        for (hi, ph) in phone.into_iter().enumerate() {
                            let p = pf * pl * pd * pn * pc * ph;
                            if p > 0.0 && rules.iter().any(|&r| reaches(r, fi, li, di, ni, ci, hi))
                            {
                                reached += p;
                            }
                        }
                    }
                }
            }
        }
    }
    reached.clamp(0.0, 1.0)
}

/// Whether `rule` reaches a pair in the given states (names: 0 phonetic keys equal, 1 initials
/// equal, 2 apart, 3 missing; date: 0 exact, 1 same year, 2 same day and month, 3 apart, 4
/// missing; the others: 0 close enough, 1 apart, 2 missing).
fn reaches(
    rule: BlockingRule,
    f: usize,
    l: usize,
    d: usize,
    nid: usize,
    c: usize,
    ph: usize,
) -> bool {
    let both_phon = f == 0 && l == 0;
    match rule {
        BlockingRule::NationalId | BlockingRule::NationalIdExact => nid == 0,
        BlockingRule::ArabicNamesYear | BlockingRule::PhoneticNamesYear => both_phon && d <= 1,
        BlockingRule::ArabicNamesMonthDay | BlockingRule::PhoneticNamesMonthDay => {
            both_phon && (d == 0 || d == 2)
        }
        BlockingRule::FirstNameDate => f == 0 && d == 0,
        BlockingRule::LastNameDate => l == 0 && d == 0,
        BlockingRule::InitialsDate => f <= 1 && l <= 1 && d == 0,
        BlockingRule::SkeletonCommune => f <= 1 && l <= 1 && c == 0,
        BlockingRule::Phone => ph == 0,
        BlockingRule::BirthDateSex => d == 0,
        BlockingRule::NamesDateMissing => both_phon && d == 4,
    }
}
