//! One original household: where it lives, who lives in it, how it lives.

use sanad_domain::territory::Area;
use time::{Date, Month};

use crate::model::{
    CAR, COMPUTER, Disability, Dwelling, FRIDGE, INTERNET, LAND, LIVESTOCK, MOTORCYCLE, Member,
    Occupation, Relation, SATELLITE, Schooling, Sex, TV, Tenure, WASHING, member_ok,
};
use crate::names::FAMILY;
use crate::nid::{Nid, NidRequest};
use crate::places::{AVENUE, DERB, DOUAR_NAME, DOUAR_PREFIX, DOUAR_STEM, HAY, KSAR, RESIDENCE};
use crate::rng::{Rand, sigmoid};
use crate::tables::{REGION_WEALTH, Tables, given_list};

/// What generation needs to know besides the random source.
pub(crate) struct Ctx<'a> {
    pub tables: &'a Tables,
    pub ref_date: Date,
    pub ref_jd: i32,
}

impl Ctx<'_> {
    /// Age in completed years on the reference date.
    pub(crate) fn age(&self, birth_jd: i32) -> i32 {
        age_on(birth_jd, self.ref_date)
    }
}

pub(crate) fn age_on(birth_jd: i32, on: Date) -> i32 {
    let Ok(birth) = Date::from_julian_day(birth_jd) else {
        return 0;
    };
    let mut age = on.year() - birth.year();
    if (on.month() as u8, on.day()) < (birth.month() as u8, birth.day()) {
        age -= 1;
    }
    age
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AddrKind {
    None,
    Street,
    Bloc,
    Avenue,
    Residence,
    Derb,
    Lot,
    Douar,
    DouarName,
    Ksar,
}

/// A structured address, written out by [`crate::format`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Address {
    pub kind: AddrKind,
    pub a: u16,
    pub b: u16,
    pub c: u16,
    pub d: u16,
    pub arabic: bool,
    /// Writing variant: 0 plain, 1 `No` for `N°`, 2 `n°`, 3 dash instead of comma, 4 without the
    /// neighbourhood.
    pub style: u8,
}

pub(crate) struct Household {
    pub commune: u32,
    pub region: u8,
    pub province: u32,
    pub address: Address,
    pub dwelling: Dwelling,
    pub tenure: Tenure,
    pub rooms: u8,
    /// MAD cents per month.
    pub water: u32,
    pub electricity: u32,
    pub phone: u32,
    pub gas: u32,
    pub income: u32,
    pub assets: u16,
    /// The hidden welfare level that everything above was drawn from; the true consumption
    /// ([`crate::welfare`]) is drawn from it too.
    pub wealth: f64,
    /// Range of the household's members in the chunk's person list.
    pub first: u32,
    pub len: u32,
}

pub(crate) struct Person {
    pub relation: Relation,
    pub sex: Sex,
    pub birth: i32,
    pub first: u16,
    pub first_sp: u8,
    pub last: u16,
    pub last_sp: u8,
    pub no_arabic: bool,
    pub disability: Disability,
    pub schooling: Schooling,
    pub occupation: Occupation,
    pub nid_request: Option<NidRequest>,
    pub nid: Option<Nid>,
    /// Mobile number without the country code: 6xxxxxxxx or 7xxxxxxxx.
    pub phone: Option<u32>,
}

impl Person {
    pub(crate) fn first_latin(&self) -> &'static str {
        let n = &given_list(self.sex)[self.first as usize];
        n.latin.get(self.first_sp as usize).unwrap_or(&n.latin[0]).0
    }

    pub(crate) fn first_arabic(&self) -> &'static str {
        if self.no_arabic {
            ""
        } else {
            given_list(self.sex)[self.first as usize].ar
        }
    }

    pub(crate) fn last_latin(&self) -> &'static str {
        let n = &FAMILY[self.last as usize];
        n.latin.get(self.last_sp as usize).unwrap_or(&n.latin[0]).0
    }

    pub(crate) fn last_arabic(&self) -> &'static str {
        if self.no_arabic {
            ""
        } else {
            FAMILY[self.last as usize].ar
        }
    }
}

/// A member being drafted: relation, sex, age and family name.
#[derive(Clone, Copy)]
struct Draft {
    rel: Relation,
    sex: Sex,
    age: i32,
    name: (u16, u8),
}

struct Builder<'a, 'r> {
    ctx: &'a Ctx<'a>,
    rng: &'r mut Rand,
    region: u8,
    area: Area,
    urban: bool,
    wealth: f64,
    drafts: Vec<Draft>,
}

/// Draws one original household and appends its members to `persons`.
pub(crate) fn generate(ctx: &Ctx<'_>, rng: &mut Rand, persons: &mut Vec<Person>) -> Household {
    let tables = ctx.tables;
    let commune = tables.sample_commune(rng);
    let c = &tables.communes[commune as usize];
    let urban = c.area == Area::Urban;
    let wealth = if urban { 0.35 } else { -0.7 }
        + REGION_WEALTH[c.region as usize]
        + if c.big_city { 0.15 } else { 0.0 }
        + rng.normal();
    let mut b = Builder {
        ctx,
        rng,
        region: c.region,
        area: c.area,
        urban,
        wealth,
        drafts: Vec::with_capacity(12),
    };
    b.compose();
    let first = persons.len() as u32;
    b.make_persons(persons);
    let members = &persons[first as usize..];
    let mut h = b.living_conditions(members);
    h.commune = commune;
    h.region = c.region;
    h.province = c.province;
    h.wealth = wealth;
    h.first = first;
    h.len = members.len() as u32;
    h
}

fn birth_gap(rng: &mut Rand) -> i32 {
    [1, 2, 3, 4, 5, 6][rng.weighted(&[15.0, 30.0, 25.0, 15.0, 10.0, 5.0])]
}

impl Builder<'_, '_> {
    fn family_name(&mut self) -> (u16, u8) {
        let idx = self.ctx.tables.sample_family(self.region, self.rng);
        let sp = self.rng.spelling(FAMILY[idx as usize].latin);
        (idx, sp)
    }

    /// Another family name than `not` (for a spouse).
    fn other_family_name(&mut self, not: (u16, u8)) -> (u16, u8) {
        for _ in 0..4 {
            let n = self.family_name();
            if n.0 != not.0 {
                return n;
            }
        }
        self.family_name()
    }

    fn push(&mut self, rel: Relation, sex: Sex, age: i32, name: (u16, u8)) {
        if self.drafts.len() < 12 {
            self.drafts.push(Draft {
                rel,
                sex,
                age,
                name,
            });
        }
    }

    fn random_sex(&mut self) -> Sex {
        if self.rng.chance(0.51) {
            Sex::M
        } else {
            Sex::F
        }
    }

    /// Ages of the children still at home of a mother of `mother_age` who wants `k` children.
    fn children_ages(&mut self, mother_age: i32, k: u32, out: &mut Vec<(i32, Sex)>) {
        if mother_age < 17 {
            return;
        }
        let urban = if self.urban { 2.0 } else { 0.0 };
        let a0 = self
            .rng
            .normal_int(22.5 + urban + 0.5 * self.wealth, 3.5, 17, 34)
            .min(mother_age);
        let mut at = a0;
        for _ in 0..k {
            if at > 45 || at > mother_age {
                break;
            }
            let age = mother_age - at;
            let sex = self.random_sex();
            // Grown-up children leave (daughters marry earlier).
            let leave = if age < 20 {
                0.0
            } else {
                (f64::from(age - 19) * 0.07 * if sex == Sex::F { 1.25 } else { 0.9 }).min(0.95)
            };
            if !self.rng.chance(leave) {
                out.push((age, sex));
            }
            at += birth_gap(self.rng);
        }
    }

    fn wanted_children(&mut self, mother_age: i32) -> u32 {
        let base = if self.urban { 1.35 } else { 1.85 };
        let lambda =
            (base + 0.04 * f64::from(mother_age - 35) - 0.25 * self.wealth).clamp(0.3, 6.0);
        1 + self.rng.poisson(lambda)
    }

    fn husband_gap(&mut self) -> i32 {
        self.rng.normal_int(5.5, 4.0, -2, 20)
    }

    fn compose(&mut self) {
        let weights = if self.urban {
            [0.085, 0.105, 0.53, 0.12, 0.12, 0.04]
        } else {
            [0.075, 0.09, 0.5, 0.08, 0.215, 0.04]
        };
        let mut w = weights;
        // The richer live less often with their grown-up children's families.
        w[4] *= (1.0 - 0.25 * self.wealth).clamp(0.4, 1.6);
        match self.rng.weighted(&w) {
            0 => self.single(),
            1 => self.couple(),
            2 => self.nuclear(),
            3 => self.single_parent(),
            4 => self.extended(),
            _ => self.siblings_or_grandparent(),
        }
        if self.drafts.len() > 1 || self.rng.chance(0.3) {
            self.extras();
        }
    }

    fn single(&mut self) {
        let name = self.family_name();
        if self.rng.chance(0.55) {
            let age = self.rng.normal_int(72.0, 8.0, 60, 95);
            let sex = if self.rng.chance(0.7) { Sex::F } else { Sex::M };
            self.push(Relation::Head, sex, age, name);
        } else {
            let age = self.rng.normal_int(36.0, 10.0, 20, 59);
            let sex = if self.rng.chance(0.65) {
                Sex::M
            } else {
                Sex::F
            };
            self.push(Relation::Head, sex, age, name);
        }
    }

    fn couple(&mut self) {
        let name = self.family_name();
        let head = if self.rng.chance(0.4) {
            self.rng.range(22, 38)
        } else {
            self.rng.normal_int(67.0, 8.0, 55, 92)
        };
        let wife = (head - self.husband_gap()).max(18);
        let wife_name = self.other_family_name(name);
        if self.rng.chance(0.03) {
            self.push(Relation::Head, Sex::F, wife, wife_name);
            self.push(Relation::Spouse, Sex::M, head.max(wife - 2), name);
        } else {
            self.push(Relation::Head, Sex::M, head.max(20), name);
            self.push(Relation::Spouse, Sex::F, wife, wife_name);
        }
    }

    fn nuclear(&mut self) {
        let mother = self.rng.normal_int(37.0, 9.0, 18, 66);
        let k = self.wanted_children(mother);
        let mut kids = Vec::with_capacity(8);
        self.children_ages(mother, k, &mut kids);
        let father = (mother + self.husband_gap()).max(20);
        let name = self.family_name();
        let wife_name = self.other_family_name(name);
        if self.rng.chance(0.03) {
            // A woman registered as the head, her husband as spouse; the children carry his name.
            self.push(Relation::Head, Sex::F, mother.max(18), wife_name);
            self.push(Relation::Spouse, Sex::M, father, name);
        } else {
            self.push(Relation::Head, Sex::M, father, name);
            self.push(Relation::Spouse, Sex::F, mother, wife_name);
        }
        for (age, sex) in kids {
            self.push(Relation::Child, sex, age, name);
        }
    }

    fn single_parent(&mut self) {
        let mother = self.rng.normal_int(42.0, 10.0, 20, 75);
        let k = self.wanted_children(mother).min(6);
        let mut kids = Vec::with_capacity(8);
        self.children_ages(mother, k, &mut kids);
        if kids.is_empty() {
            kids.push((
                self.rng.range(0, (mother - 17).clamp(0, 28)),
                self.random_sex(),
            ));
        }
        if self.rng.chance(0.75) {
            // A widow or a divorced mother: the children carry their father's name.
            let name = self.family_name();
            let fathers = self.other_family_name(name);
            self.push(Relation::Head, Sex::F, mother.max(18), name);
            for (age, sex) in kids {
                self.push(Relation::Child, sex, age, fathers);
            }
        } else {
            let name = self.family_name();
            let father = (mother + self.husband_gap()).max(20);
            self.push(Relation::Head, Sex::M, father, name);
            for (age, sex) in kids {
                self.push(Relation::Child, sex, age, name);
            }
        }
    }

    /// Three generations: the old couple (or the widowed parent), unmarried children, and a married
    /// son (or daughter) with spouse and children.
    fn extended(&mut self) {
        let mother = self.rng.normal_int(63.0, 8.0, 48, 88);
        let k = 2 + self.rng.poisson(if self.urban { 1.8 } else { 2.6 });
        let mut kids = Vec::with_capacity(10);
        self.children_ages(mother, k, &mut kids);
        // The married child: 22..=45 and born when the mother was 17..=45.
        let lo = 22.max(mother - 45);
        let hi = 45.min(mother - 17);
        if lo > hi {
            self.nuclear_fallback();
            return;
        }
        let via_daughter = self.rng.chance(0.15);
        let married_sex = if via_daughter { Sex::F } else { Sex::M };
        let married_age = match kids
            .iter()
            .position(|&(a, s)| s == married_sex && (lo..=hi).contains(&a))
        {
            Some(i) => kids.remove(i).0,
            None => self.rng.range(lo, hi),
        };
        // The other grown-up children living at home are unmarried and mostly young.
        kids.retain(|&(a, _)| a < 32);

        let name = self.family_name();
        let mother_name = self.other_family_name(name);
        match self.rng.weighted(&[0.68, 0.27, 0.05]) {
            0 => {
                let father = mother + self.husband_gap().max(0);
                self.push(Relation::Head, Sex::M, father, name);
                self.push(Relation::Spouse, Sex::F, mother, mother_name);
            }
            1 => {
                // The widowed mother keeps her own name; her children carry their father's.
                self.push(Relation::Head, Sex::F, mother, mother_name);
            }
            _ => {
                let father = mother + self.husband_gap().max(0);
                self.push(Relation::Head, Sex::M, father, name);
            }
        }
        let in_law_name = self.other_family_name(name);
        self.push(Relation::Child, married_sex, married_age, name);
        let (grand_mother, grand_name) = if via_daughter {
            let husband = (married_age + self.husband_gap()).max(20);
            self.push(Relation::OtherRelative, Sex::M, husband, in_law_name);
            (married_age, in_law_name)
        } else {
            let wife = (married_age - self.husband_gap()).clamp(18, married_age + 2);
            self.push(Relation::OtherRelative, Sex::F, wife, in_law_name);
            (wife, name)
        };
        for (age, sex) in kids {
            self.push(Relation::Child, sex, age, name);
        }
        let g = 1 + self.rng.poisson(if self.urban { 0.9 } else { 1.4 });
        let mut grandkids = Vec::with_capacity(6);
        self.children_ages(grand_mother, g, &mut grandkids);
        for (age, sex) in grandkids {
            self.push(Relation::Grandchild, sex, age, grand_name);
        }
    }

    fn nuclear_fallback(&mut self) {
        self.drafts.clear();
        self.nuclear();
    }

    fn siblings_or_grandparent(&mut self) {
        let name = self.family_name();
        if self.rng.chance(0.3) {
            // Grandparents raising grandchildren.
            let head = self.rng.range(55, 85);
            let sex = if self.rng.chance(0.6) { Sex::F } else { Sex::M };
            self.push(Relation::Head, sex, head, name);
            if sex == Sex::M && self.rng.chance(0.5) {
                let wife = (head - self.husband_gap()).max(50);
                let wife_name = self.other_family_name(name);
                self.push(Relation::Spouse, Sex::F, wife, wife_name);
            }
            let grand_name = if sex == Sex::M && self.rng.chance(0.7) {
                name
            } else {
                self.family_name()
            };
            for _ in 0..self.rng.range(1, 3) {
                let age = self.rng.range(0, 17);
                let s = self.random_sex();
                self.push(Relation::Grandchild, s, age, grand_name);
            }
        } else {
            let head = self.rng.normal_int(32.0, 9.0, 20, 60);
            let sex = if self.rng.chance(0.6) { Sex::M } else { Sex::F };
            self.push(Relation::Head, sex, head, name);
            for _ in 0..self.rng.range(1, 2) {
                let age = (head + self.rng.normal_int(0.0, 6.0, -18, 18)).max(15);
                let s = self.random_sex();
                self.push(Relation::Sibling, s, age, name);
            }
            if self.rng.chance(0.2) {
                let age = self.rng.range(12, 30);
                let s = self.random_sex();
                let n = if self.rng.chance(0.5) {
                    name
                } else {
                    self.family_name()
                };
                self.push(Relation::OtherRelative, s, age, n);
            }
        }
    }

    /// A parent of the head, a sibling, a nephew, a domestic worker.
    fn extras(&mut self) {
        let Some(head) = self.drafts.first().copied() else {
            return;
        };
        let p_parent = if self.urban { 0.06 } else { 0.08 };
        if head.age < 60 && self.rng.chance(p_parent) {
            let age = head.age + self.rng.normal_int(28.0, 5.0, 18, 45);
            if age <= 100 {
                if self.rng.chance(0.75) {
                    let n = self.other_family_name(head.name);
                    self.push(Relation::Parent, Sex::F, age, n);
                } else {
                    self.push(Relation::Parent, Sex::M, age, head.name);
                }
            }
        }
        if head.age < 70 && self.rng.chance(0.045) {
            let age = (head.age + self.rng.normal_int(0.0, 6.0, -18, 18)).max(15);
            let s = self.random_sex();
            self.push(Relation::Sibling, s, age, head.name);
        }
        if self.rng.chance(0.035) {
            let age = self.rng.range(5, 30);
            let s = self.random_sex();
            let n = if self.rng.chance(0.5) {
                head.name
            } else {
                self.family_name()
            };
            self.push(Relation::OtherRelative, s, age, n);
        }
        if self.wealth > 1.0 && self.urban && self.rng.chance(0.06) {
            let age = self.rng.range(18, 45);
            let n = self.family_name();
            self.push(Relation::NonRelative, Sex::F, age, n);
        }
    }

    fn birth_date(&mut self, age: i32) -> i32 {
        let r = self.ctx.ref_date;
        let year = r.year() - age;
        let day = r.day().min(time::util::days_in_month(r.month(), year));
        let anniversary = Date::from_calendar_date(year, r.month(), day).unwrap_or(r);
        let mut jd = anniversary.to_julian_day() - self.rng.range(0, 364);
        // Civil-status artefact: older people registered late were often given 1 January.
        if age >= 45 {
            let p =
                (0.05 + 0.008 * f64::from(age - 45)).min(0.3) * if self.urban { 0.8 } else { 1.3 };
            if self.rng.chance(p)
                && let Ok(d) = Date::from_julian_day(jd)
                && let Ok(jan1) = Date::from_calendar_date(d.year(), Month::January, 1)
            {
                jd = jan1.to_julian_day();
            }
        }
        jd.min(self.ctx.ref_jd)
    }

    fn make_persons(&mut self, persons: &mut Vec<Person>) {
        let start = persons.len();
        let drafts = std::mem::take(&mut self.drafts);
        for d in &drafts {
            let birth = self.birth_date(d.age);
            let age = self.ctx.age(birth);
            let birth_year = Date::from_julian_day(birth).map_or(2000, |b| b.year());
            // Brothers and sisters do not share a first name.
            let mut first = 0;
            for _ in 0..4 {
                first = self.ctx.tables.sample_given(
                    d.sex,
                    birth_year,
                    self.region,
                    self.area,
                    self.rng,
                );
                if !persons[start..]
                    .iter()
                    .any(|p| p.sex == d.sex && p.first == first)
                {
                    break;
                }
            }
            let first_sp = self.rng.spelling(given_list(d.sex)[first as usize].latin);
            let disability = self.disability(age);
            let schooling = self.schooling(age, d.sex, birth_year);
            let occupation = self.occupation(age, d.sex, d.rel, schooling, disability);
            let nid_request = self.nid_request(age, d.sex);
            persons.push(Person {
                relation: d.rel,
                sex: d.sex,
                birth,
                first,
                first_sp,
                last: d.name.0,
                last_sp: d.name.1,
                no_arabic: self.rng.chance(0.015),
                disability,
                schooling,
                occupation,
                nid_request,
                nid: None,
                phone: None,
            });
        }
        self.drafts = drafts;
        self.drafts.clear();
        // Safety net: drop any member that breaks the household rules.
        let head = Member {
            relation: Relation::Head,
            sex: persons[start].sex,
            age: self.ctx.age(persons[start].birth),
        };
        let spouse = persons[start + 1..]
            .iter()
            .find(|p| p.relation == Relation::Spouse)
            .map(|p| Member {
                relation: p.relation,
                sex: p.sex,
                age: self.ctx.age(p.birth),
            });
        let ctx = self.ctx;
        let mut i = start + 1;
        while i < persons.len() {
            let p = &persons[i];
            let m = Member {
                relation: p.relation,
                sex: p.sex,
                age: ctx.age(p.birth),
            };
            let other_spouse = p.relation == Relation::Spouse && i != start + 1;
            if member_ok(m, head, spouse) && !other_spouse {
                i += 1;
            } else {
                persons.remove(i);
            }
        }
    }

    fn disability(&mut self, age: i32) -> Disability {
        let p = match age {
            0..=14 => 0.018,
            15..=49 => 0.03,
            50..=64 => 0.07,
            65..=79 => 0.15,
            _ => 0.28,
        } * if self.wealth < -1.0 { 1.3 } else { 1.0 };
        if !self.rng.chance(p) {
            return Disability::None;
        }
        let weights = if age >= 65 {
            [40.0, 25.0, 15.0, 8.0, 12.0]
        } else {
            [45.0, 15.0, 12.0, 20.0, 8.0]
        };
        [
            Disability::Physical,
            Disability::Visual,
            Disability::Hearing,
            Disability::Mental,
            Disability::Multiple,
        ][self.rng.weighted(&weights)]
    }

    fn schooling(&mut self, age: i32, sex: Sex, birth_year: i32) -> Schooling {
        let w = self.wealth;
        let urban = if self.urban { 1.0 } else { 0.0 };
        let rural_girl = if !self.urban && sex == Sex::F {
            1.0
        } else {
            0.0
        };
        match age {
            ..=2 => Schooling::None,
            3..=5 => {
                let p = sigmoid(-0.2 + 0.6 * f64::from(age - 3) + 0.7 * w + 0.6 * urban);
                if self.rng.chance(p) {
                    Schooling::Preschool
                } else {
                    Schooling::None
                }
            }
            6..=11 => {
                let p_none =
                    if self.urban { 0.01 } else { 0.035 } + if w < -1.5 { 0.03 } else { 0.0 };
                if self.rng.chance(p_none) {
                    Schooling::None
                } else {
                    Schooling::Primary
                }
            }
            12..=14 => {
                let p = sigmoid(1.5 + 0.7 * w + 0.6 * urban - 0.4 * rural_girl);
                if self.rng.chance(p) {
                    Schooling::LowerSecondary
                } else if self.rng.chance(0.95) {
                    Schooling::Primary
                } else {
                    Schooling::None
                }
            }
            15..=17 => {
                let p = sigmoid(
                    -0.6 + 0.6 * f64::from(age - 15) + 0.8 * w + 0.8 * urban - 0.4 * rural_girl,
                );
                if self.rng.chance(p) {
                    Schooling::UpperSecondary
                } else if self.rng.chance(0.75) {
                    Schooling::LowerSecondary
                } else if self.rng.chance(0.9) {
                    Schooling::Primary
                } else {
                    Schooling::None
                }
            }
            _ => {
                let by = f64::from(birth_year - 1975);
                let female = if sex == Sex::F {
                    (-0.9 + 0.02 * f64::from(birth_year - 1950)).min(-0.05)
                } else {
                    0.0
                };
                let z = 0.6 * w + 0.045 * by + 0.3 * urban + female - 0.2 * rural_girl
                    + self.rng.normal();
                let level = if z < -0.7 {
                    Schooling::None
                } else if z < 0.3 {
                    Schooling::Primary
                } else if z < 0.95 {
                    Schooling::LowerSecondary
                } else if z < 2.1 {
                    Schooling::UpperSecondary
                } else {
                    Schooling::Higher
                };
                if age < 18 && level == Schooling::Higher {
                    Schooling::UpperSecondary
                } else {
                    level
                }
            }
        }
    }

    fn occupation(
        &mut self,
        age: i32,
        sex: Sex,
        rel: Relation,
        school: Schooling,
        disability: Disability,
    ) -> Occupation {
        use Occupation::*;
        let disabled = disability != Disability::None;
        let w = self.wealth;
        let urban = self.urban;
        let pick = |rng: &mut Rand, options: &[(Occupation, f64)]| {
            let weights: Vec<f64> = options.iter().map(|o| o.1).collect();
            options[rng.weighted(&weights)].0
        };
        match age {
            ..=5 => Inactive,
            6..=14 => {
                if school == Schooling::None || (disabled && self.rng.chance(0.4)) {
                    Inactive
                } else {
                    Student
                }
            }
            15..=17 => {
                let p = sigmoid(1.0 + 0.6 * w + if urban { 0.6 } else { -0.2 });
                if school.rank() >= Schooling::LowerSecondary.rank() && self.rng.chance(p) {
                    Student
                } else if sex == Sex::M {
                    let work = if urban { 0.2 } else { 0.4 };
                    if self.rng.chance(work) {
                        if urban { Employed } else { SelfEmployed }
                    } else {
                        Inactive
                    }
                } else if self.rng.chance(0.5) {
                    Homemaker
                } else {
                    Inactive
                }
            }
            18..=24 => {
                let p_student = match school {
                    Schooling::Higher => 0.75,
                    Schooling::UpperSecondary => 0.35,
                    _ => 0.02,
                };
                if self.rng.chance(p_student) {
                    Student
                } else if disabled && self.rng.chance(0.6) {
                    Inactive
                } else if sex == Sex::M {
                    pick(
                        self.rng,
                        &[
                            (Employed, 40.0),
                            (SelfEmployed, 12.0),
                            (Unemployed, 30.0),
                            (Inactive, 18.0),
                        ],
                    )
                } else {
                    let home = if urban { 40.0 } else { 60.0 };
                    pick(
                        self.rng,
                        &[
                            (Homemaker, home),
                            (Employed, 18.0),
                            (Unemployed, 17.0),
                            (Inactive, 15.0),
                        ],
                    )
                }
            }
            25..=59 => {
                if disabled && self.rng.chance(0.6) {
                    return Inactive;
                }
                if sex == Sex::M {
                    let mut p_unemp = if urban { 0.12 } else { 0.06 };
                    if rel == Relation::Head {
                        p_unemp *= 0.7;
                    }
                    if self.rng.chance(p_unemp) {
                        Unemployed
                    } else if self.rng.chance(0.04) {
                        Inactive
                    } else {
                        let p_self = if urban { 0.3 } else { 0.55 }
                            + if school.rank() <= Schooling::Primary.rank() {
                                0.1
                            } else {
                                0.0
                            };
                        if self.rng.chance(p_self) {
                            SelfEmployed
                        } else {
                            Employed
                        }
                    }
                } else {
                    let upper = if school.rank() >= Schooling::UpperSecondary.rank() {
                        1.0
                    } else {
                        0.0
                    };
                    let higher = if school == Schooling::Higher {
                        1.0
                    } else {
                        0.0
                    };
                    let p_work =
                        sigmoid(-2.0 + 1.1 * upper + 1.6 * higher + if urban { 0.3 } else { 0.0 });
                    if self.rng.chance(p_work) {
                        if self.rng.chance(0.3) {
                            SelfEmployed
                        } else {
                            Employed
                        }
                    } else if self.rng.chance(0.06 + 0.15 * higher) {
                        Unemployed
                    } else if self.rng.chance(0.87) {
                        Homemaker
                    } else {
                        Inactive
                    }
                }
            }
            _ => {
                let schooled = school.rank() >= Schooling::LowerSecondary.rank();
                if sex == Sex::M {
                    let retired = if urban { 0.35 } else { 0.1 }
                        + if schooled { 0.15 } else { 0.0 }
                        + 0.05 * w.clamp(-1.0, 2.0);
                    let farmer = if age < 75 {
                        if urban { 0.1 } else { 0.35 }
                    } else {
                        0.05
                    };
                    let employed = if age < 70 { 0.04 } else { 0.0 };
                    pick(
                        self.rng,
                        &[
                            (Retired, retired.max(0.02)),
                            (SelfEmployed, farmer),
                            (Employed, employed),
                            (Inactive, (1.0 - retired - farmer - employed).max(0.1)),
                        ],
                    )
                } else {
                    let retired = 0.04 + if schooled { 0.12 } else { 0.0 };
                    pick(
                        self.rng,
                        &[(Retired, retired), (Homemaker, 0.5), (Inactive, 0.46)],
                    )
                }
            }
        }
    }

    fn nid_request(&mut self, age: i32, sex: Sex) -> Option<NidRequest> {
        let p = match age {
            ..=11 => 0.0,
            12..=15 => 0.02,
            16..=17 => 0.08,
            _ => {
                let base = if self.urban { 0.92 } else { 0.82 };
                if !self.urban && sex == Sex::F && age >= 60 {
                    base - 0.12
                } else {
                    base
                }
            }
        };
        if !self.rng.chance(p) {
            return None;
        }
        let digits = if age >= 55 {
            [6, 5, 4][self.rng.weighted(&[70.0, 25.0, 5.0])]
        } else if self.rng.chance(0.03) {
            5
        } else {
            6
        };
        // Most people got their card where they live now; some moved since.
        let region = if self.rng.chance(0.9) {
            self.region
        } else {
            self.rng.below(12) as u8
        };
        Some(NidRequest {
            region,
            digits,
            pick: self.rng.u32() as u16,
        })
    }

    fn living_conditions(&mut self, members: &[Person]) -> Household {
        let w = self.wealth;
        let urban = self.urban;
        let size = members.len() as f64;
        let ages: Vec<i32> = members.iter().map(|p| self.ctx.age(p.birth)).collect();
        let adults = ages.iter().filter(|&&a| a >= 18).count() as f64;
        let earners = members
            .iter()
            .filter(|p| {
                matches!(
                    p.occupation,
                    Occupation::Employed | Occupation::SelfEmployed
                )
            })
            .count() as f64;
        let head_age = f64::from(ages.first().copied().unwrap_or(40));

        // Dwelling: multinomial logit on wealth.
        let dwelling_params: [(f64, f64); 6] = if urban {
            [
                (-1.3, 1.0),
                (0.6, 0.2),
                (-1.6, -0.5),
                (-3.3, -0.8),
                (-2.8, -1.6),
                (-3.4, 0.7),
            ]
        } else {
            [
                (-5.0, 1.0),
                (-0.4, 0.8),
                (-1.8, 0.0),
                (0.8, -0.4),
                (-3.0, -1.2),
                (-3.5, 0.0),
            ]
        };
        let weights = dwelling_params.map(|(a, b)| (a + b * w).exp());
        let dwelling = Dwelling::ALL[self.rng.weighted(&weights)];

        let age_term = (head_age - 45.0) / 10.0;
        let tenure_w = if urban {
            [
                (0.4 + 0.25 * w + 0.3 * age_term).exp(),
                (-0.3 - 0.2 * age_term).exp(),
                (-1.6 - 0.3 * w).exp(),
                (-3.5f64).exp(),
            ]
        } else {
            [
                (1.5 + 0.2 * age_term).exp(),
                (-2.5 + 0.3 * w).exp(),
                (-0.7 - 0.2 * w).exp(),
                (-3.5f64).exp(),
            ]
        };
        let tenure = Tenure::ALL[self.rng.weighted(&tenure_w)];

        let mut rooms = 1.3 + 0.33 * size + 0.6 * w + 0.7 * self.rng.normal();
        match dwelling {
            Dwelling::RuralHouse => rooms += 0.5,
            Dwelling::Apartment => rooms = rooms.min(5.4),
            _ => {}
        }
        let mut rooms = rooms.round().clamp(1.0, 8.0) as u8;
        if dwelling == Dwelling::Makeshift {
            rooms = rooms.min(2);
        }

        let makeshift = dwelling == Dwelling::Makeshift;
        let p_elec = match (urban, makeshift) {
            (true, false) => 0.995,
            (true, true) => 0.7,
            (false, false) => 0.93,
            (false, true) => 0.6,
        };
        let electricity_on = self.rng.chance(p_elec);
        let p_water = match (urban, makeshift) {
            (true, false) => 0.96,
            (true, true) => 0.35,
            (false, _) => (0.55 + 0.1 * w).clamp(0.2, 0.9),
        };
        let water_on = self.rng.chance(p_water);

        // Assets.
        let mut assets = 0u16;
        let mut own = |rng: &mut Rand, bit: u16, urban_a: f64, rural_a: f64, b: f64| {
            let a = if urban { urban_a } else { rural_a };
            if rng.chance(sigmoid(a + b * w)) {
                assets |= bit;
            }
        };
        if electricity_on {
            own(self.rng, FRIDGE, 2.0, 1.2, 1.4);
            own(self.rng, TV, 3.2, 2.6, 1.0);
            own(self.rng, WASHING, 0.0, -1.8, 1.5);
            own(self.rng, COMPUTER, -1.3, -3.0, 1.6);
        }
        own(self.rng, MOTORCYCLE, -2.0, -1.6, 0.3);
        own(self.rng, CAR, -1.9, -2.6, 1.5);
        own(self.rng, LIVESTOCK, -4.5, 0.5, -0.1);
        own(self.rng, LAND, -4.0, 0.4, 0.3);
        if assets & TV != 0
            && self
                .rng
                .chance(sigmoid(if urban { 2.0 } else { 1.8 } + 0.8 * w))
        {
            assets |= SATELLITE;
        }
        if electricity_on {
            let bonus = if assets & COMPUTER != 0 { 1.2 } else { 0.0 };
            let a = if urban { -1.1 } else { -2.8 };
            if self.rng.chance(sigmoid(a + bonus + 1.5 * w)) {
                assets |= INTERNET;
            }
        }

        let size_term = size - 4.0;
        let electricity = if electricity_on {
            let base: f64 = if urban { 170.0 } else { 115.0 };
            let x = (base.ln() + 0.45 * w + 0.08 * size_term + 0.3 * self.rng.normal()).exp();
            cents(soft_floor(x, 50.0, self.rng).min(799.0), self.rng)
        } else {
            0
        };
        let water = if water_on {
            let base: f64 = if urban { 75.0 } else { 45.0 };
            let x = (base.ln() + 0.35 * w + 0.08 * size_term + 0.35 * self.rng.normal()).exp();
            cents(x.clamp(15.0, 500.0), self.rng)
        } else {
            0
        };
        let phone = {
            let p_zero = if members.len() == 1 && head_age >= 65.0 {
                0.25
            } else {
                0.03
            };
            if self.rng.chance(p_zero) {
                0
            } else {
                let x = (100f64.ln() + 0.5 * w + 0.12 * (adults - 2.0) + 0.4 * self.rng.normal())
                    .exp()
                    .clamp(20.0, 1200.0);
                let mut mad = (x / 10.0).round() * 10.0;
                if assets & INTERNET != 0 {
                    mad += [99.0, 149.0, 199.0, 249.0, 299.0][self.rng.below(5)];
                }
                (mad * 100.0) as u32
            }
        };
        let gas = {
            let firewood = if urban { 0.005 } else { 0.05 };
            if self.rng.chance(firewood) {
                0
            } else {
                let big = [1u32, 2, 3][self.rng.weighted(&[
                    (1.2 - 0.1 * size_term).max(0.2),
                    0.7 + 0.1 * size_term.max(0.0),
                    0.1 + 0.05 * size_term.max(0.0),
                ])];
                let small = self.rng.below(3) as u32;
                let mut mad = big * 55 + small * 15;
                if mad < 40 {
                    mad = 55;
                }
                mad.min(195) * 100
            }
        };

        let income = {
            let true_income = (8.0 + 0.55 * w + 0.35 * self.rng.normal()).exp()
                * (1.0 + 0.25 * (earners - 1.0).max(0.0));
            let p_zero = if earners == 0.0 { 0.2 } else { 0.06 };
            if self.rng.chance(p_zero) {
                0
            } else {
                let declared = true_income * (0.35 + 0.65 * self.rng.f64());
                let step = if self.rng.chance(0.7) { 100.0 } else { 50.0 };
                ((declared / step).round() * step * 100.0) as u32
            }
        };

        let address = self.address(dwelling);
        Household {
            commune: 0,
            region: 0,
            province: 0,
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
            wealth: 0.0,
            first: 0,
            len: 0,
        }
    }

    fn address(&mut self, dwelling: Dwelling) -> Address {
        random_address(self.rng, self.area, self.region, dwelling)
    }
}

/// `x`, or a value a little above `floor` when `x` falls below it (no pile-up on the floor).
fn soft_floor(x: f64, floor: f64, rng: &mut Rand) -> f64 {
    if x >= floor {
        x
    } else {
        floor + rng.f64() * floor * 0.4
    }
}

/// A bill in cents with random cents.
fn cents(mad: f64, rng: &mut Rand) -> u32 {
    (mad.floor() as u32) * 100 + rng.below(100) as u32
}

pub(crate) fn random_address(
    rng: &mut Rand,
    area: Area,
    region: u8,
    dwelling: Dwelling,
) -> Address {
    let mut a = Address {
        kind: AddrKind::None,
        a: 0,
        b: 0,
        c: 0,
        d: 0,
        arabic: rng.chance(if area == Area::Urban { 0.08 } else { 0.12 }),
        style: 0,
    };
    if rng.chance(0.02) {
        return a;
    }
    let number = |rng: &mut Rand| rng.range(1, 250) as u16;
    if area == Area::Rural || dwelling == Dwelling::Makeshift && rng.chance(0.6) {
        if region == 7 && rng.chance(0.4) {
            a.kind = AddrKind::Ksar;
            a.c = rng.below(KSAR.len()) as u16;
        } else if rng.chance(0.65) {
            a.kind = AddrKind::Douar;
            a.a = rng.below(DOUAR_PREFIX.len()) as u16;
            a.c = rng.below(DOUAR_STEM.len()) as u16;
        } else {
            a.kind = AddrKind::DouarName;
            a.c = rng.below(DOUAR_NAME.len()) as u16;
        }
        return a;
    }
    let weights = match dwelling {
        Dwelling::Apartment => [5.0, 5.0, 10.0, 60.0, 0.0, 20.0],
        Dwelling::TraditionalHouse => [35.0, 5.0, 5.0, 0.0, 50.0, 5.0],
        _ => [50.0, 12.0, 10.0, 3.0, 5.0, 20.0],
    };
    a.kind = [
        AddrKind::Street,
        AddrKind::Bloc,
        AddrKind::Avenue,
        AddrKind::Residence,
        AddrKind::Derb,
        AddrKind::Lot,
    ][rng.weighted(&weights)];
    match a.kind {
        AddrKind::Street => {
            a.a = rng.range(1, 120) as u16;
            a.b = number(rng);
            a.c = rng.below(HAY.len()) as u16;
        }
        AddrKind::Bloc => {
            a.a = rng.below(12) as u16;
            a.b = number(rng);
            a.c = rng.below(HAY.len()) as u16;
        }
        AddrKind::Avenue => {
            a.b = number(rng);
            a.c = rng.below(AVENUE.len()) as u16;
        }
        AddrKind::Residence => {
            a.a = rng.range(1, 40) as u16;
            a.b = rng.range(1, 30) as u16;
            a.c = rng.below(RESIDENCE.len()) as u16;
            a.d = rng.below(HAY.len()) as u16;
        }
        AddrKind::Derb => {
            a.b = number(rng);
            a.c = rng.below(DERB.len()) as u16;
        }
        _ => {
            a.b = rng.range(1, 900) as u16;
            a.c = rng.below(RESIDENCE.len()) as u16;
        }
    }
    a
}

/// Share of adults (18 and over) with a mobile phone.
const ADULTS_WITH_PHONE: f64 = 0.85;
/// Chance that an adult member with a phone gives the head's number rather than their own.
const SHARES_HEAD_PHONE: f64 = 0.3;

/// Gives adults their mobile numbers (06 or 07 then 8 digits), some sharing the head's. Runs on its
/// own random stream so that the rest of the population does not depend on it.
pub(crate) fn assign_phones(
    ctx: &Ctx<'_>,
    households: &[Household],
    persons: &mut [Person],
    rng: &mut Rand,
) {
    let fresh = |rng: &mut Rand| {
        let lead = if rng.chance(0.6) {
            600_000_000
        } else {
            700_000_000
        };
        lead + rng.below(100_000_000) as u32
    };
    for h in households {
        let members = &mut persons[h.first as usize..(h.first + h.len) as usize];
        let mut head_phone = None;
        for p in members.iter_mut() {
            if ctx.age(p.birth) < 18 || !rng.chance(ADULTS_WITH_PHONE) {
                continue;
            }
            p.phone = match head_phone {
                Some(shared) if p.relation != Relation::Head && rng.chance(SHARES_HEAD_PHONE) => {
                    Some(shared)
                }
                _ => Some(fresh(rng)),
            };
            if p.relation == Relation::Head {
                head_phone = p.phone;
            }
        }
    }
}
