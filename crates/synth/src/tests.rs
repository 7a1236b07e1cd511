use std::collections::{HashMap, HashSet};

use csv::StringRecord;
use sanad_domain::id::{HouseholdId, PersonId};
use sanad_domain::territory::Territories;
use time::macros::date;

use super::*;
use crate::model::{Member, Relation, Sex, member_ok};
use crate::names::{FAMILY, FEMALE, MALE};

struct Output {
    households: Vec<u8>,
    persons: Vec<u8>,
    truth: Vec<u8>,
    summary: GenSummary,
}

fn config(households: u64, seed: u64, rate: f64) -> GenConfig {
    GenConfig {
        households,
        seed,
        duplicate_rate: rate,
        reference_date: date!(2026 - 01 - 01),
    }
}

fn run_with(config: &GenConfig, threads: usize) -> Output {
    let (mut households, mut persons, mut truth) = (Vec::new(), Vec::new(), Vec::new());
    let summary = generate_to_writers_with_threads(
        config,
        &mut households,
        &mut persons,
        Some(&mut truth),
        &|_| {},
        threads,
    )
    .unwrap();
    Output {
        households,
        persons,
        truth,
        summary,
    }
}

fn records(bytes: &[u8]) -> (StringRecord, Vec<StringRecord>) {
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let header = reader.headers().unwrap().clone();
    let rows = reader.records().map(Result::unwrap).collect();
    (header, rows)
}

struct Parsed {
    households: Vec<StringRecord>,
    persons: Vec<StringRecord>,
    truth: Vec<StringRecord>,
}

fn parse(out: &Output) -> Parsed {
    let (hh, households) = records(&out.households);
    assert_eq!(
        hh.iter().collect::<Vec<_>>().join(","),
        format::HOUSEHOLDS_HEADER.trim_end()
    );
    let (ph, persons) = records(&out.persons);
    assert_eq!(
        ph.iter().collect::<Vec<_>>().join(","),
        format::PERSONS_HEADER.trim_end()
    );
    let (_, truth) = records(&out.truth);
    Parsed {
        households,
        persons,
        truth,
    }
}

fn age(birth: &str, on: Date) -> i32 {
    let d = Date::parse(
        birth,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .unwrap();
    household::age_on(d.to_julian_day(), on)
}

#[test]
fn same_seed_same_bytes_whatever_the_threads() {
    let c = config(3_000, 42, 0.1);
    let a = run_with(&c, 1);
    let b = run_with(&c, 3);
    assert_eq!(a.households, b.households);
    assert_eq!(a.persons, b.persons);
    assert_eq!(a.truth, b.truth);
    assert_eq!(a.summary, b.summary);
    let other = run_with(&config(3_000, 43, 0.1), 2);
    assert_ne!(a.households, other.households);
    assert_ne!(a.persons, other.persons);
}

#[test]
fn rows_ids_and_rules() {
    let c = config(5_000, 7, 0.0);
    let out = run_with(&c, 2);
    let p = parse(&out);
    assert_eq!(p.households.len() as u64, out.summary.households);
    assert_eq!(p.households.len(), 5_000);
    assert_eq!(p.persons.len() as u64, out.summary.persons);
    assert_eq!(out.summary.duplicates, 0);
    assert!(out.summary.persons > 15_000);

    let communes: HashSet<&str> = Territories::morocco()
        .communes()
        .iter()
        .map(|t| t.code.as_str())
        .collect();
    let mut household_ids = HashMap::new();
    for (i, h) in p.households.iter().enumerate() {
        let id = HouseholdId::parse(&h[0]).unwrap();
        assert_eq!(id.serial(), i as u64 + 1, "households in id order");
        assert!(communes.contains(&h[1]), "unknown commune {}", &h[1]);
        assert!(matches!(&h[2], "urban" | "rural"));
        assert!(matches!(
            &h[4],
            "apartment"
                | "modern_house"
                | "traditional_house"
                | "rural_house"
                | "makeshift"
                | "other"
        ));
        assert!(matches!(
            &h[5],
            "owner" | "tenant" | "free_lodging" | "other"
        ));
        assert!(h[6].parse::<u8>().unwrap() <= 8);
        for f in [7, 8, 9, 10, 12] {
            let v: f64 = h[f].parse().unwrap();
            assert!(v >= 0.0);
            let (_, cents) = h[f].split_once('.').unwrap();
            assert_eq!(cents.len(), 2, "two decimals: {}", &h[f]);
        }
        let elec: f64 = h[8].parse().unwrap();
        assert!(elec == 0.0 || (50.0..=800.0).contains(&elec));
        // Assets: known names, canonical order, no repeats.
        let mut last = None;
        for a in h[11].split(';').filter(|a| !a.is_empty()) {
            let pos = model::ASSETS.iter().position(|x| *x == a).unwrap();
            assert!(
                last.is_none_or(|l| l < pos),
                "assets out of order: {}",
                &h[11]
            );
            last = Some(pos);
        }
        household_ids.insert(h[0].to_owned(), i);
    }

    let mut heads = vec![0u32; p.households.len()];
    let mut nids = HashSet::new();
    let mut members: HashMap<String, Vec<&StringRecord>> = HashMap::new();
    let nid_shape = |s: &str| {
        let letters = s.chars().take_while(char::is_ascii_uppercase).count();
        let digits = s.len() - letters;
        (1..=2).contains(&letters)
            && (4..=6).contains(&digits)
            && s[letters..].chars().all(|c| c.is_ascii_digit())
    };
    for (i, r) in p.persons.iter().enumerate() {
        let id = PersonId::parse(&r[0]).unwrap();
        assert_eq!(id.serial(), i as u64 + 1, "persons in id order");
        let h = *household_ids.get(&r[1]).expect("household exists");
        if &r[2] == "head" {
            heads[h] += 1;
            assert!(
                !members.contains_key(&r[1]),
                "head comes first in its household"
            );
        }
        members.entry(r[1].to_owned()).or_default().push(r);
        assert!(!r[3].is_empty() && !r[4].is_empty());
        assert!(matches!(&r[7], "M" | "F"));
        assert!(
            age(&r[8], c.reference_date) >= 0,
            "born after the reference date"
        );
        if !r[9].is_empty() {
            assert!(nid_shape(&r[9]), "bad CNIE {}", &r[9]);
            assert!(nids.insert(r[9].to_owned()), "CNIE used twice: {}", &r[9]);
        }
    }
    assert!(
        heads.iter().all(|&n| n == 1),
        "exactly one head per household"
    );
    check_household_rules(&members, c.reference_date);
}

/// Relations, sexes and ages consistent inside every household.
fn check_household_rules(members: &HashMap<String, Vec<&StringRecord>>, on: Date) {
    let relation = |s: &str| match s {
        "head" => Relation::Head,
        "spouse" => Relation::Spouse,
        "child" => Relation::Child,
        "parent" => Relation::Parent,
        "sibling" => Relation::Sibling,
        "grandchild" => Relation::Grandchild,
        "other_relative" => Relation::OtherRelative,
        "non_relative" => Relation::NonRelative,
        other => panic!("unknown relation {other}"),
    };
    let view = |r: &StringRecord| Member {
        relation: relation(&r[2]),
        sex: if &r[7] == "M" { Sex::M } else { Sex::F },
        age: age(&r[8], on),
    };
    for list in members.values() {
        let head = list
            .iter()
            .find(|r| &r[2] == "head")
            .map(|r| view(r))
            .unwrap();
        let spouse = list.iter().find(|r| &r[2] == "spouse").map(|r| view(r));
        for r in list {
            assert!(
                member_ok(view(r), head, spouse),
                "inconsistent member {:?} (head {head:?}, spouse {spouse:?})",
                r
            );
        }
        assert!(
            list.iter().filter(|r| &r[2] == "spouse").count() <= 1,
            "at most one spouse"
        );
    }
}

#[test]
fn realistic_sizes_and_places() {
    let c = config(20_000, 11, 0.0);
    let out = run_with(&c, 2);
    let p = parse(&out);
    let mean = p.persons.len() as f64 / p.households.len() as f64;
    assert!((3.6..=4.2).contains(&mean), "mean household size {mean}");

    let mut sizes: HashMap<&str, usize> = HashMap::new();
    for r in &p.persons {
        *sizes.entry(&r[1]).or_default() += 1;
    }
    let area: HashMap<&str, &str> = p.households.iter().map(|h| (&h[0], &h[2])).collect();
    let mean_of = |a: &str| {
        let v: Vec<usize> = sizes
            .iter()
            .filter(|(h, _)| area[*h] == a)
            .map(|(_, s)| *s)
            .collect();
        v.iter().sum::<usize>() as f64 / v.len() as f64
    };
    assert!(mean_of("rural") > mean_of("urban") + 0.3);
    let small = sizes.values().filter(|&&s| s <= 2).count() as f64 / sizes.len() as f64;
    assert!(
        (0.12..=0.35).contains(&small),
        "1–2 person households {small}"
    );
    assert!(sizes.values().all(|&s| (1..=12).contains(&s)));

    // Casablanca-Settat gets about its share of the population.
    let t = Territories::morocco();
    let total: u64 = t.communes().iter().map(|c| c.population_2024).sum();
    let casa: u64 = t
        .communes()
        .iter()
        .filter(|c| c.region_code == "06")
        .map(|c| c.population_2024)
        .sum();
    let expected = casa as f64 / total as f64;
    let got = p
        .households
        .iter()
        .filter(|h| h[1].starts_with("06."))
        .count() as f64
        / p.households.len() as f64;
    assert!(
        (got - expected).abs() < 0.015,
        "Casablanca-Settat share {got:.3}, population share {expected:.3}"
    );
    let urban =
        p.households.iter().filter(|h| &h[2] == "urban").count() as f64 / p.households.len() as f64;
    assert!((0.5..0.75).contains(&urban), "urban share {urban}");

    // Heads: mostly men, some women; adults have a CNIE, minors almost never.
    let heads: Vec<_> = p.persons.iter().filter(|r| &r[2] == "head").collect();
    let female = heads.iter().filter(|r| &r[7] == "F").count() as f64 / heads.len() as f64;
    assert!((0.1..0.3).contains(&female), "female heads {female}");
    let (mut adults, mut adults_id, mut minors, mut minors_id) = (0, 0, 0, 0);
    let mut disabled = 0;
    for r in &p.persons {
        let a = age(&r[8], c.reference_date);
        if a >= 18 {
            adults += 1;
            adults_id += usize::from(!r[9].is_empty());
        } else {
            minors += 1;
            minors_id += usize::from(!r[9].is_empty());
            if a < 6 {
                assert!(matches!(&r[11], "none" | "preschool"));
                assert_eq!(&r[12], "inactive");
            }
        }
        disabled += usize::from(&r[10] != "none");
    }
    let adult_share = adults_id as f64 / adults as f64;
    assert!(
        (0.8..0.95).contains(&adult_share),
        "adults with CNIE {adult_share}"
    );
    assert!((minors_id as f64 / minors as f64) < 0.03);
    let d = disabled as f64 / p.persons.len() as f64;
    assert!((0.03..0.07).contains(&d), "disability {d}");
}

#[test]
fn duplicates_and_truth() {
    let c = config(10_000, 5, 0.1);
    let out = run_with(&c, 2);
    let p = parse(&out);
    assert_eq!(p.truth.len(), p.persons.len(), "one truth row per person");
    assert_eq!(p.persons.len() as u64, out.summary.persons);
    assert_eq!(p.households.len() as u64, out.summary.households);
    assert!(
        out.summary.households > 10_000,
        "some households registered twice"
    );

    let index: HashMap<&str, usize> = p
        .persons
        .iter()
        .enumerate()
        .map(|(i, r)| (&r[0], i))
        .collect();
    let mut dups = 0;
    let mut first_dup = None;
    let mut with_id = 0;
    for (i, (t, r)) in p.truth.iter().zip(&p.persons).enumerate() {
        assert_eq!(&t[0], &r[0], "truth in person order");
        if t[1] == t[0] {
            assert!(first_dup.is_none(), "originals come before duplicates");
            continue;
        }
        first_dup.get_or_insert(i);
        dups += 1;
        let o = index[&t[1]];
        assert!(o < i, "a duplicate points to an earlier person");
        let orig = &p.persons[o];
        assert_eq!(&p.truth[o][1], &orig[0], "an entity is an original");
        let same = (3..=9).all(|f| orig[f] == r[f]);
        assert!(!same, "duplicate identical to its original: {r:?}");
        with_id += usize::from(!r[9].is_empty());
    }
    let originals = p.persons.len() - dups;
    let share = dups as f64 / originals as f64;
    assert!((0.09..0.11).contains(&share), "duplicate share {share}");
    assert_eq!(dups as u64, out.summary.duplicates);
    let id_share = with_id as f64 / dups as f64;
    assert!(
        (0.1..0.45).contains(&id_share),
        "duplicates with a CNIE {id_share}"
    );

    // Still one head per household, all ids unique, all households valid.
    let mut heads: HashMap<&str, u32> = HashMap::new();
    let mut members: HashMap<String, Vec<&StringRecord>> = HashMap::new();
    let mut nids = HashSet::new();
    for r in &p.persons {
        if &r[2] == "head" {
            *heads.entry(&r[1]).or_default() += 1;
        }
        members.entry(r[1].to_owned()).or_default().push(r);
        if !r[9].is_empty() {
            assert!(nids.insert(&r[9]), "CNIE used twice: {}", &r[9]);
        }
    }
    for (i, h) in p.households.iter().enumerate() {
        assert_eq!(HouseholdId::parse(&h[0]).unwrap().serial(), i as u64 + 1);
        assert_eq!(heads.get(&h[0]), Some(&1), "one head in {}", &h[0]);
    }
    check_household_rules(&members, c.reference_date);

    // Varied noise: some names changed, some dates changed, some records only lost their id.
    let changed = |f: usize| {
        p.truth
            .iter()
            .zip(&p.persons)
            .filter(|(t, _)| t[0] != t[1])
            .filter(|(t, r)| p.persons[index[&t[1]]][f] != r[f])
            .count() as f64
            / dups as f64
    };
    assert!((0.2..0.7).contains(&changed(3)), "first names changed");
    assert!((0.1..0.7).contains(&changed(4)), "family names changed");
    assert!((0.05..0.4).contains(&changed(8)), "birth dates changed");
}

#[test]
fn progress_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nested");
    let calls = std::sync::Mutex::new(Vec::new());
    let mut c = config(20_000, 3, 0.05);
    let summary = generate(&c, &out, &|n| calls.lock().unwrap().push(n)).unwrap();
    let calls = calls.into_inner().unwrap();
    assert!(calls.len() >= 2);
    assert!(calls.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(calls.last(), Some(&20_000));
    let mut names: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "consumption.csv",
            "households.csv",
            "persons.csv",
            "survey.csv",
            "truth.csv"
        ]
    );
    let persons = fs::read_to_string(out.join("persons.csv")).unwrap();
    assert_eq!(persons.lines().count() as u64, summary.persons + 1);

    // Same bytes as through writers.
    let mem = run_with(&c, 2);
    assert_eq!(persons.as_bytes(), mem.persons.as_slice());
    assert_eq!(fs::read(out.join("truth.csv")).unwrap(), mem.truth);
    assert_eq!(
        fs::read(out.join("households.csv")).unwrap(),
        mem.households
    );

    c.duplicate_rate = 0.0;
    let out2 = dir.path().join("plain");
    generate(&c, &out2, &|_| {}).unwrap();
    assert!(!out2.join("truth.csv").exists());
}

#[test]
fn bad_configs_are_rejected() {
    let none = |c: GenConfig| {
        generate_to_writers(&c, io::sink(), io::sink(), None::<io::Sink>, &|_| {}).unwrap_err()
    };
    assert!(matches!(none(config(0, 1, 0.0)), GenError::NoHouseholds));
    assert!(matches!(
        none(config(10, 1, 0.6)),
        GenError::DuplicateRate(_)
    ));
    assert!(matches!(
        none(config(10, 1, -0.1)),
        GenError::DuplicateRate(_)
    ));
    assert!(matches!(
        none(config(10, 1, f64::NAN)),
        GenError::DuplicateRate(_)
    ));
    assert!(matches!(
        none(config(MAX_HOUSEHOLDS + 1, 1, 0.0)),
        GenError::TooManyHouseholds { .. }
    ));
}

#[test]
fn names_are_rich_enough() {
    assert!(MALE.len() >= 150 && FEMALE.len() >= 150 && FAMILY.len() >= 300);
    for list in [MALE, FEMALE] {
        for n in list {
            assert!(!n.latin.is_empty());
            assert!(
                n.ar.chars()
                    .all(|c| c == ' ' || ('\u{0600}'..='\u{06FF}').contains(&c)),
                "{}",
                n.ar
            );
            for (l, w) in n.latin {
                assert!(*w > 0 && !l.is_empty() && !l.contains([',', '"']));
                assert!(l.chars().next().is_some_and(char::is_uppercase), "{l}");
            }
        }
    }
    for f in FAMILY {
        assert!(f.w > 0);
        assert!(
            f.ar.chars()
                .all(|c| c == ' ' || ('\u{0600}'..='\u{06FF}').contains(&c)),
            "{}",
            f.ar
        );
        for (l, _) in f.latin {
            assert!(!l.is_empty() && !l.contains([',', '"']));
        }
    }
    let has = |list: &[names::Given], name: &str| {
        list.iter().any(|n| n.latin.iter().any(|l| l.0 == name))
    };
    for m in ["Massinissa", "Amastan", "Yuba", "Mohamed", "Youssef"] {
        assert!(has(MALE, m), "{m}");
    }
    for f in ["Itto", "Tudert", "Tilelli", "Fatima", "Khadija", "Aicha"] {
        assert!(has(FEMALE, f), "{f}");
    }
    let canon: HashSet<&str> = FAMILY.iter().map(|f| f.latin[0].0).collect();
    assert_eq!(canon.len(), FAMILY.len(), "family names listed once");
}

#[test]
fn births_are_not_after_the_reference_date_and_elders_favour_january_first() {
    let c = config(8_000, 9, 0.2);
    let out = run_with(&c, 2);
    let p = parse(&out);
    let (mut old, mut jan) = (0, 0);
    for r in &p.persons {
        let d = Date::parse(
            &r[8],
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .unwrap();
        assert!(d <= c.reference_date);
        if age(&r[8], c.reference_date) >= 60 {
            old += 1;
            jan += usize::from(r[8].ends_with("-01-01"));
        }
    }
    let share = jan as f64 / old as f64;
    assert!(share > 0.05, "1 January among the elderly: {share}");
}

#[test]
fn small_and_odd_configs() {
    for (households, rate) in [(1, 0.5), (2, 0.5), (1_025, 0.3), (700, 0.0)] {
        let mut c = config(households, 1, rate);
        c.reference_date = date!(2024 - 02 - 29);
        let out = run_with(&c, 2);
        let p = parse(&out);
        assert_eq!(p.persons.len() as u64, out.summary.persons);
        assert!(p.households.len() as u64 >= households);
        let mut members: HashMap<String, Vec<&StringRecord>> = HashMap::new();
        for r in &p.persons {
            assert!(age(&r[8], c.reference_date) >= 0);
            members.entry(r[1].to_owned()).or_default().push(r);
        }
        assert_eq!(
            members.len(),
            p.households.len(),
            "every household has members"
        );
        check_household_rules(&members, c.reference_date);
    }
}

#[test]
fn most_adults_have_a_mobile_some_shared_with_the_head() {
    let c = config(4_000, 11, 0.0);
    let out = run_with(&c, 2);
    let p = parse(&out);
    let on = c.reference_date;
    let (mut adults, mut with_phone, mut shared) = (0u32, 0u32, 0u32);
    let mut head_phone: HashMap<&str, &str> = HashMap::new();
    for r in &p.persons {
        if &r[2] == "head" && !r[13].is_empty() {
            head_phone.insert(&r[1], &r[13]);
        }
    }
    for r in &p.persons {
        let phone = &r[13];
        if age(&r[8], on) < 18 {
            assert!(phone.is_empty(), "a minor with a phone: {r:?}");
            continue;
        }
        adults += 1;
        if phone.is_empty() {
            continue;
        }
        with_phone += 1;
        let parsed = sanad_domain::PhoneNumber::parse(phone).unwrap();
        assert_eq!(parsed.as_str(), phone, "written in E.164");
        assert!(phone.starts_with("+2126") || phone.starts_with("+2127"));
        if &r[2] != "head" && head_phone.get(&r[1]) == Some(&phone) {
            shared += 1;
        }
    }
    let share = f64::from(with_phone) / f64::from(adults);
    assert!((0.82..0.88).contains(&share), "{share}");
    assert!(shared > adults / 50, "{shared} of {adults}");
}
