//! The truth about welfare that a registry never sees: each original household's annual consumption
//! per person (`consumption.csv`), and the households a consumption survey would have visited, with
//! what it measured (`survey.csv`). Layouts in `docs/csv-layout.md`.
//!
//! Consumption is drawn from the same hidden wealth level as the dwelling, the bills and the assets,
//! plus the household's composition, its region and area, and noise that no registry variable
//! explains (so a proxy means test fitted on the survey reaches R² ≈ 0.6, as real ones do, not 1).
//!
//! Everything here runs on its own random stream of each chunk ([`STREAM`]): the households and
//! persons files are the same bytes with or without these two files.

use std::io::Write;

use sanad_domain::territory::Area;

use crate::format::{push_assets, push_household_id, push_money, push_u64};
use crate::household::{Ctx, Household, Person};
use crate::model::{Disability, Occupation, Schooling};
use crate::tables::Tables;

/// The random stream of a chunk that consumption and the sample are drawn from (streams 0 to 4 make
/// the registry files).
pub(crate) const STREAM: u64 = 5;

pub(crate) const CONSUMPTION_HEADER: &str = "household_id,consumption_per_person,ln_consumption\n";
pub(crate) const SURVEY_HEADER: &str = "household_id,region_code,area,dwelling_type,tenure,rooms,water_spending,electricity_spending,phone_spending,gas_spending,assets,declared_income,consumption_per_person,weight,relation,sex,age,disability,schooling,occupation\n";

/// Share of households surveyed, unless that gives fewer than [`SURVEY_MIN_HOUSEHOLDS`].
const SURVEY_RATE: f64 = 0.01;
const SURVEY_MIN_HOUSEHOLDS: f64 = 3_000.0;
/// Expected surveyed households per region × area at least, so that a small stratum (rural
/// Dakhla-Oued Ed-Dahab) can still be modelled: those strata are oversampled and their weights are
/// smaller, which is why the survey carries weights at all.
const STRATUM_MIN_HOUSEHOLDS: f64 = 120.0;

/// Price and living-cost level of each region on top of what wealth explains, in log points.
const REGION_LEVEL: [f64; 12] = [
    0.02, -0.03, 0.0, 0.04, -0.05, 0.05, -0.02, -0.06, 0.01, 0.03, 0.04, 0.06,
];

/// The sampling design: each household of region `r`, area `a` is surveyed with probability
/// `prob[r][a]`, independently of the others.
pub(crate) struct Design {
    prob: [[f64; 2]; 12],
}

impl Design {
    pub(crate) fn new(tables: &Tables, households: u64) -> Design {
        let n = households as f64;
        let rate = (SURVEY_MIN_HOUSEHOLDS / n).clamp(SURVEY_RATE, 1.0);
        let shares = tables.stratum_shares();
        let mut prob = [[0.0; 2]; 12];
        for (p, share) in prob.iter_mut().zip(shares) {
            for a in 0..2 {
                let expected = n * share[a];
                p[a] = if expected > 0.0 {
                    (STRATUM_MIN_HOUSEHOLDS / expected).clamp(rate, 1.0)
                } else {
                    1.0
                };
            }
        }
        Design { prob }
    }

    fn probability(&self, region: u8, area: Area) -> f64 {
        self.prob[usize::from(region.min(11))][usize::from(area != Area::Urban)]
    }
}

/// The rows of `consumption.csv` and `survey.csv` for one chunk.
#[derive(Default)]
pub(crate) struct Rows {
    pub consumption: Vec<u8>,
    pub survey: Vec<u8>,
}

/// Draws the consumption of `households` (whose first serial is `first_serial`) and which of them
/// are surveyed.
pub(crate) fn rows(
    ctx: &Ctx<'_>,
    design: &Design,
    first_serial: u64,
    households: &[Household],
    persons: &[Person],
    rng: &mut crate::rng::Rand,
) -> Rows {
    let mut out = Rows {
        consumption: Vec::with_capacity(households.len() * 40),
        survey: Vec::new(),
    };
    for (i, h) in households.iter().enumerate() {
        let members = &persons[h.first as usize..(h.first + h.len) as usize];
        let area = ctx.tables.communes[h.commune as usize].area;
        let noise = rng.normal();
        let surveyed = rng.f64();
        let ln_c = ln_consumption(ctx, h, area, members, noise);
        // Whole centimes, so that the file's two columns agree with each other exactly.
        let cents = (ln_c.exp() * 100.0).round().max(1.0) as u64;
        let ln_c = (cents as f64 / 100.0).ln();
        let serial = first_serial + i as u64;
        push_household_id(&mut out.consumption, serial);
        out.consumption.push(b',');
        push_cents(&mut out.consumption, cents);
        // Writing into a Vec cannot fail.
        let _ = writeln!(out.consumption, ",{ln_c:.6}");

        let p = design.probability(h.region, area);
        if surveyed < p {
            push_survey_rows(
                &mut out.survey,
                ctx,
                serial,
                h,
                area,
                members,
                cents,
                1.0 / p,
            );
        }
    }
    out
}

/// ln of the annual consumption per person, MAD.
fn ln_consumption(ctx: &Ctx<'_>, h: &Household, area: Area, members: &[Person], noise: f64) -> f64 {
    let size = members.len().max(1) as f64;
    let (mut children, mut earners, mut disabled) = (0.0, 0.0, false);
    for p in members {
        if ctx.age(p.birth) < 15 {
            children += 1.0;
        }
        if matches!(
            p.occupation,
            Occupation::Employed | Occupation::SelfEmployed
        ) {
            earners += 1.0;
        }
        disabled |= p.disability != Disability::None;
    }
    let head_higher = members
        .first()
        .is_some_and(|p| p.schooling == Schooling::Higher);
    let urban = if area == Area::Urban { 0.08 } else { 0.0 };
    10.2 + 0.42 * h.wealth + urban + REGION_LEVEL[usize::from(h.region.min(11))]
        - 0.30 * size.ln()
        - 0.25 * children / size
        + 0.20 * earners / size
        + if head_higher { 0.10 } else { 0.0 }
        - if disabled { 0.06 } else { 0.0 }
        + 0.34 * noise
}

fn push_cents(out: &mut Vec<u8>, cents: u64) {
    push_u64(out, cents / 100);
    let c = cents % 100;
    out.extend_from_slice(&[b'.', b'0' + (c / 10) as u8, b'0' + (c % 10) as u8]);
}

#[allow(clippy::too_many_arguments)]
fn push_survey_rows(
    out: &mut Vec<u8>,
    ctx: &Ctx<'_>,
    serial: u64,
    h: &Household,
    area: Area,
    members: &[Person],
    cents: u64,
    weight: f64,
) {
    for p in members {
        push_household_id(out, serial);
        out.push(b',');
        let region = h.region.min(11) + 1;
        out.extend_from_slice(&[b'0' + region / 10, b'0' + region % 10]);
        out.push(b',');
        out.extend_from_slice(area.as_str().as_bytes());
        out.push(b',');
        out.extend_from_slice(h.dwelling.as_str().as_bytes());
        out.push(b',');
        out.extend_from_slice(h.tenure.as_str().as_bytes());
        out.push(b',');
        push_u64(out, u64::from(h.rooms));
        for bill in [h.water, h.electricity, h.phone, h.gas] {
            out.push(b',');
            push_money(out, bill);
        }
        out.push(b',');
        push_assets(out, h.assets);
        out.push(b',');
        push_money(out, h.income);
        out.push(b',');
        push_cents(out, cents);
        let _ = write!(out, ",{weight:.4},");
        out.extend_from_slice(p.relation.as_str().as_bytes());
        out.push(b',');
        out.extend_from_slice(p.sex.as_str().as_bytes());
        out.push(b',');
        push_u64(out, ctx.age(p.birth).max(0) as u64);
        out.push(b',');
        out.extend_from_slice(p.disability.as_str().as_bytes());
        out.push(b',');
        out.extend_from_slice(p.schooling.as_str().as_bytes());
        out.push(b',');
        out.extend_from_slice(p.occupation.as_str().as_bytes());
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::{GenConfig, Out, Sinks, Spill, run};

    struct Files {
        households: Vec<u8>,
        consumption: Vec<u8>,
        survey: Vec<u8>,
    }

    fn generate(households: u64, seed: u64, threads: usize) -> Files {
        let out = |name: &str| Out {
            w: Vec::new(),
            path: name.into(),
        };
        let (mut h, mut p, mut c, mut s) = (
            out("households.csv"),
            out("persons.csv"),
            out("consumption.csv"),
            out("survey.csv"),
        );
        run(
            &GenConfig::new(households, seed),
            Sinks {
                households: &mut h,
                persons: &mut p,
                truth: None,
                welfare: Some((&mut c, &mut s)),
                dup_households: Spill::memory(),
                dup_persons: Spill::memory(),
            },
            &|_| {},
            threads,
        )
        .unwrap();
        Files {
            households: h.w,
            consumption: c.w,
            survey: s.w,
        }
    }

    fn rows(bytes: &[u8]) -> Vec<csv::StringRecord> {
        csv::Reader::from_reader(bytes)
            .records()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn consumption_is_at_a_moroccan_level_poorer_in_the_countryside() {
        let files = generate(20_000, 5, 2);
        let households = rows(&files.households);
        let consumption = rows(&files.consumption);
        assert_eq!(consumption.len(), households.len());
        let mut ln: Vec<f64> = Vec::new();
        let (mut poor, mut n) = ([0usize; 2], [0usize; 2]);
        for (c, h) in consumption.iter().zip(&households) {
            assert_eq!(&c[0], &h[0], "one consumption row per household, in order");
            let per_person: f64 = c[1].parse().unwrap();
            let l: f64 = c[2].parse().unwrap();
            assert!((per_person.ln() - l).abs() < 1e-5, "{per_person} vs {l}");
            let rural = usize::from(&h[2] == "rural");
            n[rural] += 1;
            poor[rural] += usize::from(l < 9.32);
            ln.push(l);
        }
        ln.sort_by(f64::total_cmp);
        let median = ln[ln.len() / 2];
        let below = (poor[0] + poor[1]) as f64 / ln.len() as f64;
        let (urban, rural) = (poor[0] as f64 / n[0] as f64, poor[1] as f64 / n[1] as f64);
        eprintln!(
            "median {median:.3}, below 9.32: {below:.3} (urban {urban:.3}, rural {rural:.3})"
        );
        assert!(
            (9.8..=10.0).contains(&median),
            "median ln consumption {median}"
        );
        assert!((0.15..=0.25).contains(&below), "share below 9.32: {below}");
        assert!(rural > 1.5 * urban, "rural {rural} vs urban {urban}");
    }

    #[test]
    fn the_survey_is_a_weighted_stratified_sample_with_its_true_consumption() {
        let files = generate(50_000, 9, 2);
        let consumption: HashMap<String, String> = rows(&files.consumption)
            .iter()
            .map(|r| (r[0].to_owned(), r[1].to_owned()))
            .collect();
        let survey = rows(&files.survey);
        let mut households: Vec<(String, f64, String)> = Vec::new();
        for r in &survey {
            assert_eq!(r.len(), super::SURVEY_HEADER.split(',').count());
            assert_eq!(consumption[&r[0]], r[12], "survey consumption is the truth");
            if households.last().is_none_or(|h| h.0 != r[0]) {
                households.push((r[0].to_owned(), r[13].parse().unwrap(), r[1].to_owned()));
            }
        }
        // Rows of a household are together and every household has its head.
        let mut seen = std::collections::HashSet::new();
        assert!(households.iter().all(|h| seen.insert(h.0.clone())));
        assert_eq!(
            survey.iter().filter(|r| &r[14] == "head").count(),
            households.len()
        );
        // 3,000 expected at the base rate, plus the oversampled small strata.
        let n = households.len();
        assert!((3_000..=6_500).contains(&n), "{n} surveyed households");
        // Weights add up to the population, and differ between strata.
        let total: f64 = households.iter().map(|h| h.1).sum();
        assert!(
            (total / 50_000.0 - 1.0).abs() < 0.06,
            "weights sum to {total}"
        );
        let dakhla = households.iter().find(|h| h.2 == "12").unwrap().1;
        let casablanca = households.iter().find(|h| h.2 == "06").unwrap().1;
        assert!(dakhla < casablanca / 2.0, "{dakhla} vs {casablanca}");
    }

    #[test]
    fn the_registry_files_do_not_change_and_the_truth_is_the_same_whatever_the_threads() {
        let with = generate(3_000, 21, 1);
        let again = generate(3_000, 21, 3);
        assert_eq!(with.consumption, again.consumption);
        assert_eq!(with.survey, again.survey);
        let (mut h, mut p) = (Vec::new(), Vec::new());
        crate::generate_to_writers(
            &GenConfig::new(3_000, 21),
            &mut h,
            &mut p,
            None::<std::io::Sink>,
            &|_| {},
        )
        .unwrap();
        assert_eq!(with.households, h);
    }
}
