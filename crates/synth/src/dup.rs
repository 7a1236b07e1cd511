//! Duplicate records: households registered twice and persons listed in a second household, with the
//! noise that real registries show (typos, transliteration variants, particles, swapped names, date
//! slips, missing or mistyped national ids, Arabic spelling variants).

use time::{Date, Month};

use crate::household::{Ctx, Household, Person, random_address};
use crate::model::{
    ASSETS, Disability, Dwelling, Member, Occupation, Relation, Schooling, Sex, Tenure, member_ok,
};
use crate::names::FAMILY;
use crate::nid::Nid;
use crate::rng::Rand;
use crate::tables::given_list;

pub(crate) struct DupHousehold {
    pub commune: u32,
    pub address: crate::household::Address,
    pub dwelling: Dwelling,
    pub tenure: Tenure,
    pub rooms: u8,
    pub water: u32,
    pub electricity: u32,
    pub phone: u32,
    pub gas: u32,
    pub income: u32,
    pub assets: u16,
}

/// Where a duplicate record is listed.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Home {
    /// In the chunk's n-th duplicate household.
    New(u32),
    /// In the chunk's n-th original household.
    Existing(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DupNid {
    None,
    /// A mistyped copy of the original's number.
    Mistype,
    /// A number of its own, issued in this region.
    Fresh(u8),
}

pub(crate) struct DupPerson {
    /// Index of the original in the chunk's persons.
    pub entity: u32,
    pub home: Home,
    pub relation: Relation,
    pub sex: Sex,
    pub birth: i32,
    pub first: String,
    pub last: String,
    pub first_ar: String,
    pub last_ar: String,
    pub disability: Disability,
    pub schooling: Schooling,
    pub occupation: Occupation,
    pub nid_plan: DupNid,
    pub nid: Option<Nid>,
    pub phone: Option<u32>,
}

struct WholePlan {
    source: u32,
    swap: bool,
    members: Vec<(u32, Relation)>,
}

struct SinglePlan {
    person: u32,
    target: u32,
    relation: Relation,
}

fn stochastic_round(x: f64, rng: &mut Rand) -> usize {
    let f = x.floor();
    f as usize + usize::from(rng.chance(x - f))
}

fn member(ctx: &Ctx<'_>, p: &Person) -> Member {
    Member {
        relation: p.relation,
        sex: p.sex,
        age: ctx.age(p.birth),
    }
}

/// Plans the duplicates of a chunk (which may rename the family of a household so that a person can
/// also be listed in it as a child), then writes them out with noise.
pub(crate) fn make_duplicates(
    ctx: &Ctx<'_>,
    rate: f64,
    households: &[Household],
    persons: &mut [Person],
    plan_rng: &mut Rand,
    noise_rng: &mut Rand,
) -> (Vec<DupHousehold>, Vec<DupPerson>) {
    if rate <= 0.0 || households.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let (wholes, singles) = plan(ctx, rate, households, persons, plan_rng);
    let rng = noise_rng;
    let mut dup_households = Vec::with_capacity(wholes.len());
    let mut dup_persons = Vec::new();
    for w in &wholes {
        let h = &households[w.source as usize];
        let home = Home::New(dup_households.len() as u32);
        let copy = copy_household(ctx, h, rng);
        let region = ctx.tables.communes[copy.commune as usize].region;
        dup_households.push(copy);
        let start = dup_persons.len();
        for &(p, relation) in &w.members {
            let orig = &persons[p as usize];
            dup_persons.push(noisy_copy(ctx, orig, p, relation, (home, region), rng));
        }
        keep_household_valid(ctx, persons, &mut dup_persons[start..]);
        for d in &mut dup_persons[start..] {
            ensure_different(d, &persons[d.entity as usize], rng);
        }
        debug_assert!(!w.swap || dup_persons[start].sex == Sex::F);
    }
    for s in &singles {
        let mut d = noisy_copy(
            ctx,
            &persons[s.person as usize],
            s.person,
            s.relation,
            (
                Home::Existing(s.target),
                households[s.target as usize].region,
            ),
            rng,
        );
        let h = &households[s.target as usize];
        let head = member(ctx, &persons[h.first as usize]);
        let spouse = persons[h.first as usize + 1..(h.first + h.len) as usize]
            .iter()
            .find(|p| p.relation == Relation::Spouse)
            .map(|p| member(ctx, p));
        let ok = |d: &DupPerson| {
            member_ok(
                Member {
                    relation: d.relation,
                    sex: d.sex,
                    age: ctx.age(d.birth),
                },
                head,
                spouse,
            )
        };
        if !ok(&d) {
            d.birth = persons[s.person as usize].birth;
        }
        if !ok(&d) {
            d.relation = Relation::OtherRelative;
        }
        ensure_different(&mut d, &persons[s.person as usize], rng);
        dup_persons.push(d);
    }
    (dup_households, dup_persons)
}

fn plan(
    ctx: &Ctx<'_>,
    rate: f64,
    households: &[Household],
    persons: &mut [Person],
    rng: &mut Rand,
) -> (Vec<WholePlan>, Vec<SinglePlan>) {
    let n_persons = persons.len();
    let target = stochastic_round(rate * n_persons as f64, rng);
    let whole_target = stochastic_round(0.8 * target as f64, rng);
    let mut duplicated = vec![false; n_persons];
    let mut household_of = vec![0u32; n_persons];
    for (i, h) in households.iter().enumerate() {
        for p in h.first..h.first + h.len {
            household_of[p as usize] = i as u32;
        }
    }

    // Whole households registered twice, in random order.
    let mut order: Vec<u32> = (0..households.len() as u32).collect();
    for i in (1..order.len()).rev() {
        let j = rng.below(i + 1);
        order.swap(i, j);
    }
    let mut wholes = Vec::new();
    let mut count = 0;
    for &hi in &order {
        if count >= whole_target {
            break;
        }
        let h = &households[hi as usize];
        let first = h.first as usize;
        let members = first..first + h.len as usize;
        let head = &persons[first];
        // Sometimes the wife registers the household the second time.
        let swap = h.len >= 2
            && head.sex == Sex::M
            && persons[first + 1].relation == Relation::Spouse
            && persons[first + 1].sex == Sex::F
            && rng.chance(0.15)
            && {
                let new_head = member(ctx, &persons[first + 1]);
                let new_spouse = Member {
                    relation: Relation::Spouse,
                    ..member(ctx, head)
                };
                members.clone().skip(2).all(|i| {
                    let m = member(ctx, &persons[i]);
                    member_ok(
                        Member {
                            relation: swapped_relation(m.relation),
                            ..m
                        },
                        new_head,
                        Some(new_spouse),
                    )
                })
            };
        let mut list = Vec::with_capacity(h.len as usize);
        let new_head = if swap { first + 1 } else { first };
        list.push((new_head as u32, Relation::Head));
        for i in members {
            if i == new_head || count + list.len() >= whole_target {
                continue;
            }
            let p_keep = if ctx.age(persons[i].birth) < 5 {
                0.8
            } else {
                0.75
            };
            if rng.chance(p_keep) {
                let rel = if swap {
                    swapped_relation(persons[i].relation)
                } else {
                    persons[i].relation
                };
                list.push((i as u32, rel));
            }
        }
        for &(p, _) in &list {
            duplicated[p as usize] = true;
        }
        count += list.len();
        wholes.push(WholePlan {
            source: hi,
            swap,
            members: list,
        });
    }

    // Single persons also listed in another household: a grown-up child in the parents' household.
    let single_target = target.saturating_sub(count);
    let mut used = vec![false; households.len()];
    let mut singles = Vec::new();
    if households.len() < 2 {
        return (wholes, singles);
    }
    for _ in 0..single_target {
        let mut found = None;
        for attempt in 0..60 {
            let x = rng.below(n_persons);
            if duplicated[x] {
                continue;
            }
            let xm = member(ctx, &persons[x]);
            let a = household_of[x] as usize;
            let b = rng.below(households.len());
            if a == b {
                continue;
            }
            if attempt < 40 {
                if !(18..=45).contains(&xm.age) || used[a] || used[b] {
                    continue;
                }
                let hb = &households[b];
                let head = &persons[hb.first as usize];
                if head.sex != Sex::M {
                    continue;
                }
                let spouse = persons[hb.first as usize + 1..(hb.first + hb.len) as usize]
                    .iter()
                    .find(|p| p.relation == Relation::Spouse)
                    .map(|p| member(ctx, p));
                let child = Member {
                    relation: Relation::Child,
                    ..xm
                };
                let gap = ctx.age(head.birth) - xm.age;
                if !(20..=44).contains(&gap) || !member_ok(child, member(ctx, head), spouse) {
                    continue;
                }
                // The parents' household carries the child's family name.
                let old = head.last;
                let (new, new_sp) = (persons[x].last, persons[x].last_sp);
                for p in &mut persons[hb.first as usize..(hb.first + hb.len) as usize] {
                    if p.last == old {
                        p.last = new;
                        p.last_sp = new_sp;
                    }
                }
                used[a] = true;
                used[b] = true;
                found = Some(SinglePlan {
                    person: x as u32,
                    target: b as u32,
                    relation: Relation::Child,
                });
                break;
            } else if xm.age >= 15 {
                found = Some(SinglePlan {
                    person: x as u32,
                    target: b as u32,
                    relation: Relation::OtherRelative,
                });
                break;
            }
        }
        if let Some(s) = found {
            duplicated[s.person as usize] = true;
            singles.push(s);
        }
    }
    (wholes, singles)
}

/// Relation to the wife when she, not her husband, is the head.
fn swapped_relation(r: Relation) -> Relation {
    match r {
        Relation::Head => Relation::Spouse,
        Relation::Spouse => Relation::Head,
        Relation::Parent | Relation::Sibling => Relation::OtherRelative,
        other => other,
    }
}

/// Reverts date noise (and, as a last resort, relations) that would break the household rules.
fn keep_household_valid(ctx: &Ctx<'_>, originals: &[Person], members: &mut [DupPerson]) {
    let view = |d: &DupPerson| Member {
        relation: d.relation,
        sex: d.sex,
        age: ctx.age(d.birth),
    };
    let all_ok = |members: &[DupPerson]| {
        let head = view(&members[0]);
        let spouse = members
            .iter()
            .find(|d| d.relation == Relation::Spouse)
            .map(view);
        members.iter().all(|d| member_ok(view(d), head, spouse))
    };
    if members.is_empty() || all_ok(members) {
        return;
    }
    members[0].birth = originals[members[0].entity as usize].birth;
    let head = view(&members[0]);
    let spouse_pos = members.iter().position(|d| d.relation == Relation::Spouse);
    if let Some(s) = spouse_pos
        && !member_ok(view(&members[s]), head, None)
    {
        members[s].birth = originals[members[s].entity as usize].birth;
    }
    let spouse = spouse_pos.map(|s| view(&members[s]));
    for d in members.iter_mut().skip(1) {
        if !member_ok(view(d), head, spouse) {
            d.birth = originals[d.entity as usize].birth;
        }
        if !member_ok(view(d), head, spouse) {
            d.relation = Relation::OtherRelative;
        }
    }
}

fn copy_household(ctx: &Ctx<'_>, h: &Household, rng: &mut Rand) -> DupHousehold {
    let tables = ctx.tables;
    let same_commune = rng.chance(0.65);
    let commune = if same_commune {
        h.commune
    } else {
        tables.sample_commune_in_province(h.province, rng)
    };
    let area = tables.communes[commune as usize].area;
    let dwelling = if rng.chance(0.9) {
        h.dwelling
    } else {
        *rng.pick(&Dwelling::ALL)
    };
    let address = if commune == h.commune && rng.chance(0.85) {
        let mut a = h.address;
        a.style = rng.below(5) as u8;
        if rng.chance(0.1) {
            a.arabic = !a.arabic;
        }
        a
    } else {
        random_address(rng, area, h.region, dwelling)
    };
    let tenure = if rng.chance(0.92) {
        h.tenure
    } else {
        *rng.pick(&Tenure::ALL)
    };
    let rooms = if rng.chance(0.7) {
        h.rooms
    } else {
        (i32::from(h.rooms) + if rng.chance(0.5) { 1 } else { -1 }).clamp(1, 8) as u8
    };
    let bill = |rng: &mut Rand, cents: u32, round: bool| -> u32 {
        if cents == 0 {
            return 0;
        }
        let x = f64::from(cents) * (0.75 + 0.55 * rng.f64());
        if round {
            ((x / 1000.0).round() * 1000.0) as u32
        } else {
            x as u32
        }
    };
    let water = bill(rng, h.water, false);
    let electricity = bill(rng, h.electricity, false);
    let phone = bill(rng, h.phone, true);
    let gas = if rng.chance(0.7) {
        h.gas
    } else {
        bill(rng, h.gas, true)
    };
    let mut assets = h.assets;
    for bit in 0..ASSETS.len() {
        if rng.chance(0.05) {
            assets ^= 1 << bit;
        }
    }
    let income = if rng.chance(0.12) {
        0
    } else if h.income == 0 {
        (rng.range(5, 40) * 10_000) as u32
    } else {
        let x = f64::from(h.income) * (0.5 + 0.8 * rng.f64());
        ((x / 10_000.0).round() * 10_000.0) as u32
    };
    DupHousehold {
        commune,
        address,
        dwelling,
        tenure,
        rooms,
        water,
        electricity,
        phone,
        gas,
        income,
        assets,
    }
}

#[derive(Clone, Copy)]
enum Op {
    FirstVariant,
    LastVariant,
    FirstTypo,
    LastTypo,
    Swap,
    DayMonth,
    DateTypo,
    January,
    ArabicVariant,
    ArabicEmpty,
}

const OPS: [(Op, f64); 10] = [
    (Op::FirstVariant, 22.0),
    (Op::LastVariant, 18.0),
    (Op::FirstTypo, 14.0),
    (Op::LastTypo, 14.0),
    (Op::Swap, 4.0),
    (Op::DayMonth, 6.0),
    (Op::DateTypo, 8.0),
    (Op::January, 3.0),
    (Op::ArabicVariant, 8.0),
    (Op::ArabicEmpty, 6.0),
];

fn noisy_copy(
    ctx: &Ctx<'_>,
    orig: &Person,
    entity: u32,
    relation: Relation,
    (home, region): (Home, u8),
    rng: &mut Rand,
) -> DupPerson {
    let age = ctx.age(orig.birth);
    let mut d = DupPerson {
        entity,
        home,
        relation,
        sex: orig.sex,
        birth: orig.birth,
        first: orig.first_latin().to_owned(),
        last: orig.last_latin().to_owned(),
        first_ar: orig.first_arabic().to_owned(),
        last_ar: orig.last_arabic().to_owned(),
        disability: orig.disability,
        schooling: orig.schooling,
        occupation: orig.occupation,
        nid_plan: DupNid::None,
        nid: None,
        // Given again about half the time: decided from the entity, not the random stream, so the
        // rest of the duplicate does not depend on it.
        phone: orig
            .phone
            .filter(|_| entity.wrapping_mul(2_654_435_761) >> 31 == 0),
    };
    let n_ops = [0, 1, 2, 3][rng.weighted(&[25.0, 40.0, 25.0, 10.0])];
    let weights = OPS.map(|o| o.1);
    let mut swap = false;
    for _ in 0..n_ops {
        match OPS[rng.weighted(&weights)].0 {
            Op::FirstVariant => {
                let list = given_list(orig.sex)[orig.first as usize].latin;
                d.first = list_variant(&d.first, list, rng)
                    .or_else(|| first_name_variant(&d.first, rng))
                    .unwrap_or_else(|| typo(&d.first, rng));
            }
            Op::LastVariant => {
                let list = FAMILY[orig.last as usize].latin;
                let mut options = particle_variants(&d.last);
                if let Some(v) = list_variant(&d.last, list, rng) {
                    options.push(v);
                }
                d.last = if options.is_empty() {
                    typo(&d.last, rng)
                } else {
                    options.swap_remove(rng.below(options.len()))
                };
            }
            Op::FirstTypo => d.first = typo(&d.first, rng),
            Op::LastTypo => d.last = typo(&d.last, rng),
            Op::Swap => swap = true,
            Op::DayMonth => {
                d.birth = day_month_swap(d.birth, ctx)
                    .or_else(|| date_typo(d.birth, ctx, rng))
                    .unwrap_or(d.birth);
            }
            Op::DateTypo => d.birth = date_typo(d.birth, ctx, rng).unwrap_or(d.birth),
            Op::January => {
                d.birth = if age >= 30 {
                    january_first(d.birth).unwrap_or(d.birth)
                } else {
                    date_typo(d.birth, ctx, rng).unwrap_or(d.birth)
                };
            }
            Op::ArabicVariant => {
                if rng.chance(0.5) {
                    if let Some(v) = arabic_variant(&d.first_ar, false, rng) {
                        d.first_ar = v;
                    }
                } else if let Some(v) = arabic_variant(&d.last_ar, true, rng) {
                    d.last_ar = v;
                }
            }
            Op::ArabicEmpty => {
                if rng.chance(0.7) {
                    d.first_ar.clear();
                    d.last_ar.clear();
                } else if rng.chance(0.5) {
                    d.first_ar.clear();
                } else {
                    d.last_ar.clear();
                }
            }
        }
    }
    if swap {
        std::mem::swap(&mut d.first, &mut d.last);
        std::mem::swap(&mut d.first_ar, &mut d.last_ar);
    }

    // National id: mostly missing, sometimes mistyped, sometimes a newer card.
    d.nid_plan = if orig.nid_request.is_some() {
        if rng.chance(0.28) {
            DupNid::Mistype
        } else {
            DupNid::None
        }
    } else if age >= 18 && rng.chance(0.06) {
        DupNid::Fresh(region)
    } else {
        DupNid::None
    };

    // Declared again, a little differently.
    if rng.chance(0.04) {
        d.disability = if d.disability == Disability::None {
            Disability::Physical
        } else {
            Disability::None
        };
    }
    if age >= 12 && rng.chance(0.1) {
        let r = d.schooling.rank() as i32 + if rng.chance(0.5) { 1 } else { -1 };
        let max = if age >= 18 { 5 } else { 4 };
        d.schooling = Schooling::ALL[r.clamp(2, max) as usize];
    }
    if age >= 18 && rng.chance(0.12) {
        let mut options = vec![
            Occupation::Employed,
            Occupation::SelfEmployed,
            Occupation::Unemployed,
            Occupation::Inactive,
        ];
        if d.sex == Sex::F {
            options.push(Occupation::Homemaker);
        }
        if age >= 55 {
            options.push(Occupation::Retired);
        }
        if age <= 30 {
            options.push(Occupation::Student);
        }
        d.occupation = *rng.pick(&options);
    }
    d
}

/// Makes sure a duplicate is never an exact copy of its original (names, birth date and id).
fn ensure_different(d: &mut DupPerson, orig: &Person, rng: &mut Rand) {
    if orig.nid_request.is_none()
        && d.nid_plan == DupNid::None
        && d.first == orig.first_latin()
        && d.last == orig.last_latin()
        && d.first_ar == orig.first_arabic()
        && d.last_ar == orig.last_arabic()
        && d.birth == orig.birth
    {
        d.first = typo(&d.first, rng);
    }
}

/// Another listed spelling of the same name, if `current` is one of them.
fn list_variant(current: &str, list: &[(&str, u16)], rng: &mut Rand) -> Option<String> {
    if list.len() < 2 || !list.iter().any(|(l, _)| *l == current) {
        return None;
    }
    let others: Vec<(&str, u16)> = list
        .iter()
        .copied()
        .filter(|(l, _)| *l != current)
        .collect();
    let weights: Vec<f64> = others.iter().map(|(_, w)| f64::from(*w)).collect();
    Some(others[rng.weighted(&weights)].0.to_owned())
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn decapitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Transliteration habits for first names: (from, to, weight).
const FIRST_RULES: &[(&str, &str, f64)] = &[
    ("ou", "u", 3.0),
    ("mm", "m", 3.0),
    ("ss", "s", 3.0),
    ("rr", "r", 3.0),
    ("ll", "l", 2.0),
    ("tt", "t", 2.0),
    ("dd", "d", 2.0),
    ("kk", "k", 2.0),
    ("ch", "sh", 2.0),
    ("ae", "aa", 3.0),
    ("aa", "ae", 3.0),
    ("ai", "ay", 2.0),
    ("ay", "ai", 2.0),
    ("k", "q", 1.5),
    ("q", "k", 2.0),
    ("ï", "i", 3.0),
    ("ç", "c", 3.0),
    ("Abdel", "Abdel ", 3.0),
    ("Abde", "Abd ", 1.0),
    ("dine", "ddine", 2.0),
    ("ddine", "dine", 2.0),
    ("ine", "in", 1.0),
    ("ane", "an", 1.0),
    ("e", "a", 0.7),
    ("i", "y", 0.5),
    ("a", "e", 0.5),
    ("z", "s", 0.3),
];

fn first_name_variant(s: &str, rng: &mut Rand) -> Option<String> {
    let tail = &s[s.chars().next().map_or(0, char::len_utf8)..];
    let applicable: Vec<&(&str, &str, f64)> = FIRST_RULES
        .iter()
        .filter(|(from, _, _)| tail.contains(from) || (from.len() > 1 && s.starts_with(from)))
        .collect();
    if applicable.is_empty() {
        return None;
    }
    let weights: Vec<f64> = applicable.iter().map(|r| r.2).collect();
    let (from, to, _) = *applicable[rng.weighted(&weights)];
    // Replace one occurrence, never the capital initial of a one-letter rule.
    let positions: Vec<usize> = s
        .match_indices(from)
        .map(|(i, _)| i)
        .filter(|&i| i > 0 || from.len() > 1)
        .collect();
    if positions.is_empty() {
        return None;
    }
    let at = positions[rng.below(positions.len())];
    let out = format!("{}{}{}", &s[..at], to, &s[at + from.len()..]);
    let out = capitalize(out.trim());
    (out != s && !out.is_empty()).then_some(out)
}

/// Ways the particles of a family name get written: El Amrani, Elamrani, Al Amrani, Amrani; Ben Ali,
/// Benali; Ait Lahcen, Aït Lahcen, Ait-Lahcen; Ouchen, O Chen; Essaidi, Saidi, Es Saidi.
fn particle_variants(s: &str) -> Vec<String> {
    let mut v = Vec::new();
    let starts_lower_after = |prefix: &str| {
        s.strip_prefix(prefix)
            .and_then(|r| r.chars().next())
            .is_some_and(|c| c.is_lowercase() && c != 'ï')
    };
    if let Some(rest) = s.strip_prefix("El ") {
        v.push(format!("El{}", decapitalize(rest)));
        v.push(format!("Al {rest}"));
        v.push(rest.to_owned());
        v.push(format!("El-{rest}"));
    } else if let Some(rest) = s.strip_prefix("Al ") {
        v.push(format!("El {rest}"));
        v.push(rest.to_owned());
    } else if let Some(rest) = s.strip_prefix("Ben ") {
        v.push(format!("Ben{}", decapitalize(rest)));
        v.push(format!("Ben-{rest}"));
        v.push(format!("Bin {rest}"));
    } else if let Some(rest) = s.strip_prefix("Ait ") {
        v.push(format!("Aït {rest}"));
        v.push(format!("Ait-{rest}"));
        v.push(format!("Ait{}", decapitalize(rest)));
        v.push(format!("Ayt {rest}"));
    } else if let Some(rest) = s.strip_prefix("Aït ") {
        v.push(format!("Ait {rest}"));
    } else if let Some(rest) = s.strip_prefix("Ait-") {
        v.push(format!("Ait {rest}"));
    } else if let Some(rest) = s.strip_prefix("Ou ") {
        v.push(format!("O {rest}"));
        v.push(format!("Ou{}", decapitalize(rest)));
    } else if let Some(rest) = s.strip_prefix("Ould ") {
        v.push(format!("Ould{}", decapitalize(rest)));
        v.push(format!("Ould-{rest}"));
        v.push(format!("Ouled {rest}"));
    } else if s.len() > 4 && starts_lower_after("Ait") {
        v.push(format!("Ait {}", capitalize(&s[3..])));
    } else if s.len() > 4 && starts_lower_after("El") {
        v.push(format!("El {}", capitalize(&s[2..])));
    } else if s.len() > 5 && starts_lower_after("Ben") {
        v.push(format!("Ben {}", capitalize(&s[3..])));
    } else if s.len() > 4
        && s.starts_with("Ou")
        && s[2..].chars().next().is_some_and(|c| !"aeiouy".contains(c))
    {
        // Ouchen, Ouhammou: the Amazigh "son of" particle, also written O.
        v.push(format!("O{}", &s[2..]));
        v.push(format!("Ou {}", capitalize(&s[2..])));
    } else {
        let b = s.as_bytes();
        if b.len() > 4 && b[0] == b'E' && b[1] == b[2] && b"stdrnzc".contains(&b[1]) {
            // Assimilated article: Essaidi, Ettazi, Errami, Ennaji, Echchaoui.
            let rest = if s.starts_with("Echch") {
                &s[3..]
            } else {
                &s[2..]
            };
            let article = &s[..s.len() - rest.len()];
            v.push(capitalize(rest));
            v.push(format!("{} {}", article, capitalize(rest)));
            v.push(format!("El {}", capitalize(rest)));
        }
    }
    v.retain(|x| x != s && !x.is_empty());
    v
}

/// Letters a clerk confuses or mistypes.
fn similar(c: char, rng: &mut Rand) -> char {
    let options: &[char] = match c {
        'a' => &['e', 'i', 'o'],
        'e' => &['a', 'i'],
        'i' => &['e', 'y'],
        'o' => &['u', 'a'],
        'u' => &['o', 'i'],
        'y' => &['i'],
        'k' => &['q', 'c'],
        'q' => &['k'],
        'c' => &['k', 's'],
        's' => &['z', 'c'],
        'z' => &['s'],
        'd' => &['t'],
        't' => &['d'],
        'b' => &['p'],
        'p' => &['b'],
        'm' => &['n'],
        'n' => &['m'],
        'h' => &['j'],
        'l' => &['r'],
        'r' => &['l'],
        'f' => &['v'],
        'g' => &['j', 'k'],
        'j' => &['g', 'h'],
        _ => &['e', 'a', 'i', 'n', 'r', 's'],
    };
    if rng.chance(0.8) {
        *rng.pick(options)
    } else {
        (b'a' + rng.below(26) as u8) as char
    }
}

/// One substituted, deleted, inserted or transposed letter.
pub(crate) fn typo(s: &str, rng: &mut Rand) -> String {
    let mut c: Vec<char> = s.chars().collect();
    let letters: Vec<usize> = (1..c.len()).filter(|&i| c[i].is_alphabetic()).collect();
    if letters.len() < 2 {
        let mut out = s.to_owned();
        out.push(c.last().copied().unwrap_or('a').to_ascii_lowercase());
        return out;
    }
    for _ in 0..4 {
        let i = letters[rng.below(letters.len())];
        let before = c.clone();
        match rng.below(4) {
            0 => {
                let lower = c[i].to_lowercase().next().unwrap_or(c[i]);
                c[i] = similar(lower, rng);
            }
            1 if c.len() >= 4 => {
                c.remove(i);
            }
            2 => {
                let dup = c[i].to_lowercase().next().unwrap_or(c[i]);
                c.insert(i, dup);
            }
            _ => {
                if i + 1 < c.len() && c[i + 1].is_alphabetic() && c[i] != c[i + 1] {
                    c.swap(i, i + 1);
                } else {
                    c.insert(i, c[i].to_lowercase().next().unwrap_or(c[i]));
                }
            }
        }
        if c != before {
            break;
        }
    }
    let out: String = c.into_iter().collect();
    if out == s {
        format!("{s}{}", s.chars().last().unwrap_or('a'))
    } else {
        out
    }
}

/// Arabic spelling variants: hamza dropped, ta marbuta written ha, alif maqsura and ya confused,
/// `عبد ال` written as one word, the article dropped from a family name.
fn arabic_variant(s: &str, family: bool, rng: &mut Rand) -> Option<String> {
    if s.is_empty() {
        return None;
    }
    let mut options: Vec<String> = Vec::new();
    if let Some((i, ch)) = s.char_indices().find(|(_, c)| matches!(c, 'أ' | 'إ' | 'آ')) {
        options.push(format!("{}ا{}", &s[..i], &s[i + ch.len_utf8()..]));
    }
    if let Some(stem) = s.strip_suffix('ة') {
        options.push(format!("{stem}ه"));
    }
    if let Some(stem) = s.strip_suffix('ى') {
        options.push(format!("{stem}ي"));
    }
    if let Some(stem) = s.strip_suffix('ي')
        && family
    {
        options.push(format!("{stem}ى"));
    }
    if s.contains("عبد ال") {
        options.push(s.replacen("عبد ال", "عبدال", 1));
    }
    if let Some(rest) = s.strip_prefix('ا')
        && !family
    {
        options.push(format!("أ{rest}"));
    }
    if family
        && let Some(rest) = s.strip_prefix("ال")
        && rest.chars().count() >= 3
    {
        options.push(rest.to_owned());
    }
    if options.is_empty() {
        return None;
    }
    Some(options.swap_remove(rng.below(options.len())))
}

fn valid_birth(ctx: &Ctx<'_>, date: Date, original: i32) -> Option<i32> {
    let jd = date.to_julian_day();
    (jd != original && jd <= ctx.ref_jd && ctx.age(jd) <= 110).then_some(jd)
}

/// Day and month swapped, when that is a valid and different date.
fn day_month_swap(birth: i32, ctx: &Ctx<'_>) -> Option<i32> {
    let d = Date::from_julian_day(birth).ok()?;
    let (day, month) = (d.day(), d.month() as u8);
    if day > 12 || day == month {
        return None;
    }
    let swapped = Date::from_calendar_date(d.year(), Month::try_from(day).ok()?, month).ok()?;
    valid_birth(ctx, swapped, birth)
}

/// One digit of the year, month or day mistyped, when the result is a valid date.
fn date_typo(birth: i32, ctx: &Ctx<'_>, rng: &mut Rand) -> Option<i32> {
    let d = Date::from_julian_day(birth).ok()?;
    for _ in 0..6 {
        let (mut y, mut m, mut day) = (d.year(), d.month() as u8, d.day());
        match rng.weighted(&[3.0, 1.0, 1.0, 1.0, 3.0]) {
            0 => y = y - y % 10 + (y % 10 + 1 + rng.below(9) as i32) % 10,
            1 => y = y - y % 100 + ((y / 10 % 10 + 1 + rng.below(9) as i32) % 10) * 10 + y % 10,
            2 => m = (m / 10) * 10 + (m % 10 + 1 + rng.below(9) as u8) % 10,
            3 => day = (day % 10) + ((day / 10 + 1 + rng.below(3) as u8) % 4) * 10,
            _ => day = (day / 10) * 10 + (day % 10 + 1 + rng.below(9) as u8) % 10,
        }
        let Ok(month) = Month::try_from(m) else {
            continue;
        };
        if let Ok(date) = Date::from_calendar_date(y, month, day)
            && let Some(jd) = valid_birth(ctx, date, birth)
        {
            return Some(jd);
        }
    }
    None
}

fn january_first(birth: i32) -> Option<i32> {
    let d = Date::from_julian_day(birth).ok()?;
    let jan = Date::from_calendar_date(d.year(), Month::January, 1).ok()?;
    (jan != d).then(|| jan.to_julian_day())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn particles() {
        let v = particle_variants("El Amrani");
        assert!(v.contains(&"Elamrani".to_owned()));
        assert!(v.contains(&"Al Amrani".to_owned()));
        assert!(v.contains(&"Amrani".to_owned()));
        assert!(particle_variants("Benali").contains(&"Ben Ali".to_owned()));
        assert!(particle_variants("Ben Ali").contains(&"Benali".to_owned()));
        let v = particle_variants("Ait Lahcen");
        assert!(v.contains(&"Aït Lahcen".to_owned()));
        assert!(v.contains(&"Ait-Lahcen".to_owned()));
        assert!(particle_variants("Ouchen").contains(&"Ochen".to_owned()));
        assert!(particle_variants("Essaidi").contains(&"Saidi".to_owned()));
        assert!(particle_variants("Elamrani").contains(&"El Amrani".to_owned()));
        assert!(particle_variants("Tazi").is_empty());
    }

    #[test]
    fn typos_change_one_thing() {
        let mut rng = Rand::new(7, 0, 0);
        for name in ["Mohamed", "Fatima Zahra", "Ait Lahcen", "Aïcha", "Ali"] {
            for _ in 0..200 {
                let t = typo(name, &mut rng);
                assert_ne!(t, name);
                let diff = t.chars().count() as i64 - name.chars().count() as i64;
                assert!(diff.abs() <= 1, "{name} -> {t}");
                assert!(t.chars().next().is_some_and(char::is_uppercase), "{t}");
            }
        }
    }

    #[test]
    fn arabic_variants() {
        let mut rng = Rand::new(7, 0, 1);
        assert_eq!(
            arabic_variant("فاطمة", false, &mut rng).as_deref(),
            Some("فاطمه")
        );
        assert_eq!(
            arabic_variant("أحمد", false, &mut rng).as_deref(),
            Some("احمد")
        );
        assert_eq!(arabic_variant("", false, &mut rng), None);
        let v = arabic_variant("العمراني", true, &mut rng).unwrap();
        assert!(v == "العمرانى" || v == "عمراني", "{v}");
    }

    #[test]
    fn first_name_variants_differ() {
        let mut rng = Rand::new(7, 0, 2);
        for name in ["Abderrahmane", "Youssef", "Chaimae", "Noureddine", "Hicham"] {
            for _ in 0..50 {
                if let Some(v) = first_name_variant(name, &mut rng) {
                    assert_ne!(v, name);
                    assert!(!v.is_empty());
                }
            }
        }
    }
}

/// The second synthetic profile: a flat persons file from another country's register, for testing
/// the engine on data it was never tuned for. Another vocabulary (see the end of `names.rs`), no
/// Arabic names, no commune, no household, no phone; national ids missing in about a quarter of
/// the records; and another noise model: fields dropped at random, other typo rates, short forms
/// of given names, given and family names swapped, day and month swapped, digit slips in dates and
/// ids, whole records in capitals.
pub mod other {
    use std::fs::File;
    use std::io::{BufWriter, Write};
    use std::path::Path;

    use crate::names::{OTHER_FAMILY, OTHER_FAMILY_PARTS, OTHER_FEMALE, OTHER_MALE, OtherGiven};
    use crate::rng::{Cumulative, Rand};
    use crate::{GenError, io_error};

    /// What to generate.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct OtherConfig {
        /// Rows of `persons.csv`, duplicates included.
        pub persons: u64,
        pub seed: u64,
        /// Share of the rows that are duplicates of another row, `0.0..=0.5`.
        pub duplicate_share: f64,
    }

    /// What was written.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
    pub struct OtherSummary {
        pub persons: u64,
        pub duplicates: u64,
    }

    /// The header of the profile's `persons.csv`.
    pub const HEADER: &str = "person_id,first_name,last_name,sex,birth_date,national_id";

    struct Entity {
        female: bool,
        first: u16,
        last: String,
        /// Days since 1930-01-01.
        birth: u32,
        nid: u32,
    }

    struct Row {
        entity: u32,
        first: String,
        last: String,
        sex: Option<char>,
        birth: Option<(i32, u8, u8)>,
        nid: Option<u32>,
    }

    /// Writes `persons.csv` and `truth.csv` (`person_id,entity_id`) into `out_dir` (created if
    /// missing). The same seed gives the same bytes.
    pub fn generate_other(config: &OtherConfig, out_dir: &Path) -> Result<OtherSummary, GenError> {
        if config.persons == 0 {
            return Err(GenError::NoHouseholds);
        }
        if !(0.0..=0.5).contains(&config.duplicate_share) {
            return Err(GenError::DuplicateRate(config.duplicate_share));
        }
        std::fs::create_dir_all(out_dir).map_err(io_error(out_dir))?;
        let mut rng = Rand::new(config.seed, 0, 0x07_4E4);
        let male = Cumulative::new(OTHER_MALE.iter().map(|g| u64::from(g.w)));
        let women = Cumulative::new(OTHER_FEMALE.iter().map(|g| u64::from(g.w)));
        let family = Cumulative::new(OTHER_FAMILY.iter().map(|f| u64::from(f.1)));
        let dup_rows = (config.persons as f64 * config.duplicate_share).round() as u64;
        let n_entities = config.persons - dup_rows;
        let mut rows: Vec<Row> = Vec::with_capacity(config.persons as usize);
        let mut entities = Vec::with_capacity(n_entities as usize);
        for e in 0..n_entities {
            let female = rng.chance(0.5);
            let first = if female {
                women.sample(&mut rng)
            } else {
                male.sample(&mut rng)
            } as u16;
            let last = if rng.chance(0.55) {
                OTHER_FAMILY[family.sample(&mut rng)].0.to_owned()
            } else {
                let [h, m, t] = OTHER_FAMILY_PARTS;
                format!("{}{}{}", rng.pick(h), rng.pick(m), rng.pick(t))
            };
            // Ids are a bijection of the entity number onto 9 digits: all distinct.
            let nid =
                ((e.wrapping_mul(387_420_489) + 100_003_917) % 900_000_000 + 100_000_000) as u32;
            entities.push(Entity {
                female,
                first,
                last,
                birth: rng.below(80 * 365) as u32,
                nid,
            });
        }
        for (e, ent) in entities.iter().enumerate() {
            rows.push(clean_row(e as u32, ent, &mut rng));
        }
        // A duplicated entity gets 1, 2 or 3 copies (1.25 on average).
        let mut made = 0u64;
        while made < dup_rows && n_entities > 0 {
            let e = rng.below_u64(n_entities) as u32;
            let copies = match rng.f64() {
                x if x < 0.8 => 1,
                x if x < 0.95 => 2,
                _ => 3,
            };
            for _ in 0..copies {
                if made == dup_rows {
                    break;
                }
                let ent = &entities[e as usize];
                let mut r = clean_row(e, ent, &mut rng);
                add_noise(&mut r, ent, &mut rng);
                rows.push(r);
                made += 1;
            }
        }
        // Shuffle, so that the row order says nothing.
        for i in (1..rows.len()).rev() {
            let j = rng.below_u64(i as u64 + 1) as usize;
            rows.swap(i, j);
        }
        let persons_path = out_dir.join("persons.csv");
        let truth_path = out_dir.join("truth.csv");
        let mut p = BufWriter::with_capacity(
            1 << 20,
            File::create(&persons_path).map_err(io_error(&persons_path))?,
        );
        let mut t = BufWriter::with_capacity(
            1 << 20,
            File::create(&truth_path).map_err(io_error(&truth_path))?,
        );
        let mut line = String::with_capacity(128);
        writeln!(p, "{HEADER}").map_err(io_error(&persons_path))?;
        writeln!(t, "person_id,entity_id").map_err(io_error(&truth_path))?;
        for (k, r) in rows.iter().enumerate() {
            line.clear();
            use std::fmt::Write as _;
            let _ = write!(line, "Q{k:08},{},{},", r.first, r.last);
            if let Some(s) = r.sex {
                line.push(s);
            }
            line.push(',');
            if let Some((y, m, d)) = r.birth {
                let _ = write!(line, "{y:04}-{m:02}-{d:02}");
            }
            line.push(',');
            if let Some(n) = r.nid {
                let _ = write!(line, "{n}");
            }
            line.push('\n');
            p.write_all(line.as_bytes())
                .map_err(io_error(&persons_path))?;
            writeln!(t, "Q{k:08},E{:08}", r.entity).map_err(io_error(&truth_path))?;
        }
        p.flush().map_err(io_error(&persons_path))?;
        t.flush().map_err(io_error(&truth_path))?;
        Ok(OtherSummary {
            persons: rows.len() as u64,
            duplicates: made,
        })
    }

    fn given(ent: &Entity) -> &'static OtherGiven {
        if ent.female {
            &OTHER_FEMALE[usize::from(ent.first)]
        } else {
            &OTHER_MALE[usize::from(ent.first)]
        }
    }

    fn civil_date(days: u32) -> (i32, u8, u8) {
        let d = time::Date::from_calendar_date(1930, time::Month::January, 1)
            .ok()
            .and_then(|d| d.checked_add(time::Duration::days(i64::from(days))));
        match d {
            Some(d) => (d.year(), u8::from(d.month()), d.day()),
            None => (1930, 1, 1),
        }
    }

    /// A record as the entity would be written without typing errors, but with the fields any
    /// record may lack (national id in about a quarter, sex, and rarely a name or the birth date).
    fn clean_row(entity: u32, ent: &Entity, rng: &mut Rand) -> Row {
        Row {
            entity,
            first: if rng.chance(0.01) {
                String::new()
            } else {
                given(ent).name.to_owned()
            },
            last: if rng.chance(0.01) {
                String::new()
            } else {
                ent.last.clone()
            },
            sex: (!rng.chance(0.12)).then_some(if ent.female { 'F' } else { 'M' }),
            birth: (!rng.chance(0.03)).then(|| civil_date(ent.birth)),
            nid: (!rng.chance(0.25)).then_some(ent.nid),
        }
    }

    const KEYS: &[u8] = b"qwertyuiopasdfghjklzxcvbnm";

    /// One typing error: a neighbouring key, a letter dropped, doubled or added, two letters swapped.
    fn typo(s: &mut String, rng: &mut Rand) {
        let mut b: Vec<u8> = s.bytes().collect();
        if b.len() < 2 {
            return;
        }
        let i = rng.below(b.len());
        match rng.below(5) {
            0 => {
                let k = KEYS.iter().position(|&c| c == b[i]).unwrap_or(0);
                let n = if rng.chance(0.5) {
                    k + 1
                } else {
                    k + KEYS.len() - 1
                };
                b[i] = KEYS[n % KEYS.len()];
            }
            1 => {
                b.remove(i);
            }
            2 => b.insert(i, b[i]),
            3 => b.insert(i, *rng.pick(KEYS)),
            _ => {
                let j = if i + 1 < b.len() { i + 1 } else { i - 1 };
                b.swap(i, j);
            }
        }
        *s = String::from_utf8(b).unwrap_or_default();
    }

    fn name_noise(s: &mut String, rng: &mut Rand) {
        if s.is_empty() {
            return;
        }
        let x = rng.f64();
        if x < 0.16 {
            typo(s, rng);
        } else if x < 0.20 {
            typo(s, rng);
            typo(s, rng);
        }
    }

    fn add_noise(r: &mut Row, ent: &Entity, rng: &mut Rand) {
        let g = given(ent);
        if !r.first.is_empty() && !g.short.is_empty() && rng.chance(0.10) {
            r.first = (*rng.pick(g.short)).to_owned();
        }
        name_noise(&mut r.first, rng);
        name_noise(&mut r.last, rng);
        if rng.chance(0.04) {
            std::mem::swap(&mut r.first, &mut r.last);
        }
        if let Some((y, m, d)) = r.birth.as_mut() {
            let x = rng.f64();
            if x < 0.05 && *d <= 12 && *d != *m {
                std::mem::swap(m, d);
            } else if x < 0.09 {
                // A slip on one digit of the day or of the year.
                if rng.chance(0.5) {
                    let units = *d % 10;
                    let nd = *d - units + (units + 1 + rng.below(8) as u8) % 10;
                    if (1..=28).contains(&nd) {
                        *d = nd;
                    }
                } else {
                    *y += if rng.chance(0.5) { 1 } else { -1 } * (1 + rng.below(9) as i32);
                }
            } else if x < 0.11 {
                *y += if rng.chance(0.5) { 1 } else { -1 };
            } else if x < 0.12 {
                r.birth = Some(civil_date(rng.below(80 * 365) as u32));
            }
        }
        if let Some(n) = r.nid.as_mut() {
            let mut digits: Vec<u8> = n.to_string().into_bytes();
            let x = rng.f64();
            if x < 0.06 {
                let i = 1 + rng.below(digits.len() - 1);
                digits[i] = b'0' + (digits[i] - b'0' + 1 + rng.below(9) as u8) % 10;
            } else if x < 0.08 {
                let i = 1 + rng.below(digits.len() - 2);
                digits.swap(i, i + 1);
            }
            *n = std::str::from_utf8(&digits)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(*n);
        }
        if rng.chance(0.15) {
            r.first = r.first.to_uppercase();
            r.last = r.last.to_uppercase();
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_second_profile_is_deterministic_and_has_its_noise() {
            let dir = tempfile::tempdir().unwrap();
            let (a, b) = (dir.path().join("a"), dir.path().join("b"));
            let c = OtherConfig {
                persons: 20_000,
                seed: 3,
                duplicate_share: 0.2,
            };
            let s = generate_other(&c, &a).unwrap();
            generate_other(&c, &b).unwrap();
            assert_eq!(s.persons, 20_000);
            assert_eq!(s.duplicates, 4_000);
            let pa = std::fs::read_to_string(a.join("persons.csv")).unwrap();
            assert_eq!(pa, std::fs::read_to_string(b.join("persons.csv")).unwrap());
            let rows: Vec<Vec<&str>> = pa.lines().skip(1).map(|l| l.split(',').collect()).collect();
            assert!(rows.iter().all(|r| r.len() == 6));
            let no_nid = rows.iter().filter(|r| r[5].is_empty()).count() as f64 / 20_000.0;
            assert!(
                (0.22..0.28).contains(&no_nid),
                "national id missing in {no_nid}"
            );
            // No Moroccan vocabulary and no Arabic script.
            assert!(!pa.contains("mohamed") && pa.is_ascii());
            let truth = std::fs::read_to_string(a.join("truth.csv")).unwrap();
            let mut entities: Vec<&str> = truth
                .lines()
                .skip(1)
                .filter_map(|l| l.split(',').nth(1))
                .collect();
            entities.sort_unstable();
            entities.dedup();
            assert_eq!(entities.len(), 16_000);
        }
    }
}
