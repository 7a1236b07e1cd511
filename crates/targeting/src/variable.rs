//! The closed catalogue of the variables a model may use, how each is read from a household's
//! facts, and what each is called in plain words in French, Arabic and English.

use std::fmt;

use sanad_domain::{
    Area, Asset, Disability, DwellingType, HouseholdFacts, MemberFacts, Occupation, Relation,
    Schooling, Tenure,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The language an explanation is written in (one type for every crate that writes words).
pub use sanad_domain::Lang;

/// Declares the catalogue: variant, stable code, and its name in French, Arabic and English, each
/// written so that it can open a sentence ("le nombre de pièces par personne a relevé…").
macro_rules! catalogue {
    ($($variant:ident => $code:literal, $fr:literal, $ar:literal, $en:literal;)+) => {
        /// A variable of the proxy means test. Codes are stable: they name coefficients in model
        /// files.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Variable { $($variant),+ }

        impl Variable {
            /// Every variable, in the catalogue's order (which is also the order of [`Features`]).
            pub const ALL: &'static [Variable] = &[$(Variable::$variant),+];

            pub fn code(self) -> &'static str {
                match self { $(Variable::$variant => $code),+ }
            }

            pub fn parse(code: &str) -> Option<Variable> {
                match code { $($code => Some(Variable::$variant),)+ _ => None }
            }

            /// The variable in plain words, as the subject of a sentence.
            pub fn label(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((Variable::$variant, Lang::Fr) => $fr,
                      (Variable::$variant, Lang::Ar) => $ar,
                      (Variable::$variant, Lang::En) => $en,)+
                }
            }
        }
    };
}

catalogue! {
    LogHouseholdSize => "log_household_size", "la taille du ménage", "عدد أفراد الأسرة", "the size of the household";
    Children0To5 => "children_0_5", "le nombre d'enfants de moins de 6 ans", "عدد الأطفال دون سن السادسة", "the number of children under 6";
    Children6To17 => "children_6_17", "le nombre d'enfants de 6 à 17 ans", "عدد الأطفال من 6 إلى 17 سنة", "the number of children aged 6 to 17";
    Adults18To59 => "adults_18_59", "le nombre d'adultes de 18 à 59 ans", "عدد البالغين من 18 إلى 59 سنة", "the number of adults aged 18 to 59";
    Elderly60Plus => "elderly_60_plus", "le nombre de personnes de 60 ans et plus", "عدد الأشخاص البالغين 60 سنة فما فوق", "the number of people aged 60 or more";
    DependencyRatio => "dependency_ratio", "le nombre de personnes à charge par actif", "عدد المعالين لكل فرد في سن العمل", "the number of dependants per working-age member";
    HeadFemale => "head_female", "le fait que le chef de ménage soit une femme", "كون رب الأسرة امرأة", "the head of the household being a woman";
    DwellingApartment => "dwelling_apartment", "le fait d'habiter un appartement", "السكن في شقة", "living in an apartment";
    DwellingTraditionalHouse => "dwelling_traditional_house", "le fait d'habiter une maison traditionnelle", "السكن في منزل تقليدي", "living in a traditional house";
    DwellingRuralHouse => "dwelling_rural_house", "le fait d'habiter une maison rurale", "السكن في منزل قروي", "living in a rural house";
    DwellingMakeshift => "dwelling_makeshift", "le fait d'habiter un logement précaire", "السكن في مسكن غير لائق", "living in makeshift housing";
    DwellingOther => "dwelling_other", "le fait d'habiter un autre type de logement", "السكن في نوع آخر من المساكن", "living in another kind of dwelling";
    TenureTenant => "tenure_tenant", "le fait d'être locataire", "كون الأسرة مكترية", "renting the dwelling";
    TenureFreeLodging => "tenure_free_lodging", "le fait d'être logé gratuitement", "السكن بالمجان", "being lodged free of charge";
    TenureOther => "tenure_other", "un autre statut d'occupation du logement", "وضع آخر لشغل المسكن", "another tenure of the dwelling";
    RoomsPerPerson => "rooms_per_person", "le nombre de pièces par personne", "عدد الغرف لكل فرد", "the number of rooms per person";
    LogWaterSpending => "log_water_spending", "la dépense d'eau", "مبلغ فاتورة الماء", "the water bill";
    NoWaterSpending => "no_water_spending", "l'absence de facture d'eau", "غياب فاتورة الماء", "having no water bill";
    LogElectricitySpending => "log_electricity_spending", "la dépense d'électricité", "مبلغ فاتورة الكهرباء", "the electricity bill";
    NoElectricitySpending => "no_electricity_spending", "l'absence de facture d'électricité", "غياب فاتورة الكهرباء", "having no electricity bill";
    LogPhoneSpending => "log_phone_spending", "la dépense de téléphone", "مبلغ مصاريف الهاتف", "the phone bill";
    NoPhoneSpending => "no_phone_spending", "l'absence de dépense de téléphone", "غياب مصاريف الهاتف", "having no phone bill";
    LogGasSpending => "log_gas_spending", "la dépense de gaz", "مبلغ مصاريف الغاز", "the gas spending";
    NoGasSpending => "no_gas_spending", "l'absence de dépense de gaz", "غياب مصاريف الغاز", "having no gas spending";
    HasFridge => "has_fridge", "le fait d'avoir un réfrigérateur", "امتلاك ثلاجة", "having a fridge";
    HasTv => "has_tv", "le fait d'avoir un téléviseur", "امتلاك جهاز تلفاز", "having a television";
    HasSatelliteDish => "has_satellite_dish", "le fait d'avoir une antenne parabolique", "امتلاك صحن مقعر", "having a satellite dish";
    HasWashingMachine => "has_washing_machine", "le fait d'avoir une machine à laver", "امتلاك آلة غسيل", "having a washing machine";
    HasComputer => "has_computer", "le fait d'avoir un ordinateur", "امتلاك حاسوب", "having a computer";
    HasInternet => "has_internet", "le fait d'avoir une connexion internet", "التوفر على الإنترنت", "having an internet connection";
    HasMotorcycle => "has_motorcycle", "le fait d'avoir une moto", "امتلاك دراجة نارية", "having a motorcycle";
    HasCar => "has_car", "le fait d'avoir une voiture", "امتلاك سيارة", "having a car";
    HasLivestock => "has_livestock", "le fait d'avoir du bétail", "امتلاك الماشية", "having livestock";
    HasAgriculturalLand => "has_agricultural_land", "le fait d'avoir une terre agricole", "امتلاك أرض فلاحية", "having farm land";
    HeadSchoolingPrimary => "head_schooling_primary", "le niveau primaire du chef de ménage", "المستوى الابتدائي لرب الأسرة", "the head having primary schooling";
    HeadSchoolingLowerSecondary => "head_schooling_lower_secondary", "le niveau collège du chef de ménage", "المستوى الإعدادي لرب الأسرة", "the head having lower secondary schooling";
    HeadSchoolingUpperSecondary => "head_schooling_upper_secondary", "le niveau lycée du chef de ménage", "المستوى الثانوي التأهيلي لرب الأسرة", "the head having upper secondary schooling";
    HeadSchoolingHigher => "head_schooling_higher", "les études supérieures du chef de ménage", "المستوى الجامعي لرب الأسرة", "the head having higher education";
    HeadSelfEmployed => "head_self_employed", "le fait que le chef de ménage travaille à son compte", "اشتغال رب الأسرة لحسابه الخاص", "the head being self-employed";
    HeadUnemployed => "head_unemployed", "le chômage du chef de ménage", "بطالة رب الأسرة", "the head being unemployed";
    HeadStudent => "head_student", "le fait que le chef de ménage soit étudiant", "كون رب الأسرة طالبا", "the head being a student";
    HeadHomemaker => "head_homemaker", "le fait que le chef de ménage soit au foyer", "تفرغ رب الأسرة لأشغال البيت", "the head keeping house";
    HeadRetired => "head_retired", "le fait que le chef de ménage soit retraité", "كون رب الأسرة متقاعدا", "the head being retired";
    HeadInactive => "head_inactive", "l'inactivité du chef de ménage", "عدم نشاط رب الأسرة", "the head being out of work and not seeking it";
    MembersWithDisability => "members_with_disability", "le nombre de membres en situation de handicap", "عدد الأفراد في وضعية إعاقة", "the number of members with a disability";
    Urban => "urban", "le fait d'habiter en ville", "السكن في الوسط الحضري", "living in a town";
}

/// How many variables the catalogue has.
pub const VARIABLE_COUNT: usize = Variable::ALL.len();

impl Variable {
    fn index(self) -> usize {
        self as usize
    }

    /// The variables a fit uses unless told otherwise: all but [`Variable::Urban`], which a
    /// per-region-and-area model already carries in each segment's own intercept.
    pub fn default_set() -> Vec<Variable> {
        Variable::ALL
            .iter()
            .copied()
            .filter(|v| *v != Variable::Urban)
            .collect()
    }
}

impl Variable {
    /// For a "no bill" dummy, the bill's amount variable that an explanation folds it into.
    pub fn bill_amount(self) -> Option<Variable> {
        match self {
            Variable::NoWaterSpending => Some(Variable::LogWaterSpending),
            Variable::NoElectricitySpending => Some(Variable::LogElectricitySpending),
            Variable::NoPhoneSpending => Some(Variable::LogPhoneSpending),
            Variable::NoGasSpending => Some(Variable::LogGasSpending),
            _ => None,
        }
    }
}

impl fmt::Display for Variable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Variable {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Variable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Variable::parse(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown variable `{code}`")))
    }
}

/// The value of every variable of the catalogue for one household, indexed by [`Variable`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Features([f64; VARIABLE_COUNT]);

impl Features {
    pub fn get(&self, v: Variable) -> f64 {
        self.0[v.index()]
    }

    fn set(&mut self, v: Variable, value: f64) {
        self.0[v.index()] = value;
    }

    /// Reads every variable from the facts. Members count in any order: the same household listed
    /// in another order gives the same features.
    pub fn of(facts: &HouseholdFacts) -> Features {
        use Variable as V;
        let mut f = Features([0.0; VARIABLE_COUNT]);
        let size = facts.members.len();
        let (mut c0, mut c6, mut adults, mut elderly) = (0u32, 0u32, 0u32, 0u32);
        let (mut dependants, mut working, mut disabled) = (0u32, 0u32, 0u32);
        for m in &facts.members {
            match m.age {
                0..=5 => c0 += 1,
                6..=17 => c6 += 1,
                18..=59 => adults += 1,
                _ => elderly += 1,
            }
            // The usual demographic definition: under 15 and 60 or over per member aged 15 to 59.
            if (15..60).contains(&m.age) {
                working += 1;
            } else {
                dependants += 1;
            }
            disabled += u32::from(m.disability != Disability::None);
        }
        f.set(V::LogHouseholdSize, (size.max(1) as f64).ln());
        f.set(V::Children0To5, f64::from(c0));
        f.set(V::Children6To17, f64::from(c6));
        f.set(V::Adults18To59, f64::from(adults));
        f.set(V::Elderly60Plus, f64::from(elderly));
        f.set(
            V::DependencyRatio,
            f64::from(dependants) / f64::from(working.max(1)),
        );
        f.set(V::MembersWithDisability, f64::from(disabled));

        let dwelling = match facts.dwelling_type {
            DwellingType::ModernHouse => None,
            DwellingType::Apartment => Some(V::DwellingApartment),
            DwellingType::TraditionalHouse => Some(V::DwellingTraditionalHouse),
            DwellingType::RuralHouse => Some(V::DwellingRuralHouse),
            DwellingType::Makeshift => Some(V::DwellingMakeshift),
            DwellingType::Other => Some(V::DwellingOther),
        };
        let tenure = match facts.tenure {
            Tenure::Owner => None,
            Tenure::Tenant => Some(V::TenureTenant),
            Tenure::FreeLodging => Some(V::TenureFreeLodging),
            Tenure::Other => Some(V::TenureOther),
        };
        for v in [dwelling, tenure].into_iter().flatten() {
            f.set(v, 1.0);
        }
        f.set(
            V::RoomsPerPerson,
            f64::from(facts.rooms) / size.max(1) as f64,
        );
        for (amount, log, none) in [
            (
                facts.water_spending,
                V::LogWaterSpending,
                V::NoWaterSpending,
            ),
            (
                facts.electricity_spending,
                V::LogElectricitySpending,
                V::NoElectricitySpending,
            ),
            (
                facts.phone_spending,
                V::LogPhoneSpending,
                V::NoPhoneSpending,
            ),
            (facts.gas_spending, V::LogGasSpending, V::NoGasSpending),
        ] {
            let mad = amount.as_f64();
            if mad > 0.0 {
                // Below one dirham a bill is as good as none on the log scale: floor at ln 1 = 0.
                f.set(log, mad.max(1.0).ln());
            } else {
                f.set(none, 1.0);
            }
        }
        for (asset, v) in [
            (Asset::Fridge, V::HasFridge),
            (Asset::Tv, V::HasTv),
            (Asset::SatelliteDish, V::HasSatelliteDish),
            (Asset::WashingMachine, V::HasWashingMachine),
            (Asset::Computer, V::HasComputer),
            (Asset::Internet, V::HasInternet),
            (Asset::Motorcycle, V::HasMotorcycle),
            (Asset::Car, V::HasCar),
            (Asset::Livestock, V::HasLivestock),
            (Asset::AgriculturalLand, V::HasAgriculturalLand),
        ] {
            if facts.assets.contains(asset) {
                f.set(v, 1.0);
            }
        }
        if facts.area == Area::Urban {
            f.set(V::Urban, 1.0);
        }
        if let Some(head) = reference_person(&facts.members) {
            if head.sex == sanad_domain::Sex::Female {
                f.set(V::HeadFemale, 1.0);
            }
            let schooling = match head.schooling {
                Schooling::None | Schooling::Preschool => None,
                Schooling::Primary => Some(V::HeadSchoolingPrimary),
                Schooling::LowerSecondary => Some(V::HeadSchoolingLowerSecondary),
                Schooling::UpperSecondary => Some(V::HeadSchoolingUpperSecondary),
                Schooling::Higher => Some(V::HeadSchoolingHigher),
            };
            let occupation = match head.occupation {
                Occupation::Employed => None,
                Occupation::SelfEmployed => Some(V::HeadSelfEmployed),
                Occupation::Unemployed => Some(V::HeadUnemployed),
                Occupation::Student => Some(V::HeadStudent),
                Occupation::Homemaker => Some(V::HeadHomemaker),
                Occupation::Retired => Some(V::HeadRetired),
                Occupation::Inactive => Some(V::HeadInactive),
            };
            for v in [schooling, occupation].into_iter().flatten() {
                f.set(v, 1.0);
            }
        }
        f
    }
}

/// The member whose schooling and occupation stand for the household's: the head. A household
/// without exactly one head (a record being corrected) uses the head, or failing that the member,
/// who comes last in a fixed order of the facts, so that the choice never depends on the order in
/// which members are listed.
fn reference_person(members: &[MemberFacts]) -> Option<&MemberFacts> {
    let key = |m: &MemberFacts| {
        (
            m.relation == Relation::Head,
            m.age,
            m.sex,
            m.schooling,
            m.occupation,
            m.disability,
        )
    };
    members.iter().max_by_key(|m| key(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_parse_back() {
        let mut codes: Vec<&str> = Variable::ALL.iter().map(|v| v.code()).collect();
        for v in Variable::ALL {
            assert_eq!(Variable::parse(v.code()), Some(*v));
            assert!(
                v.code()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{v}: snake_case"
            );
            for lang in Lang::ALL {
                assert!(!v.label(lang).is_empty(), "{v} has a label in {lang:?}");
            }
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), VARIABLE_COUNT);
        assert_eq!(Variable::parse("has_fridg"), None);
    }

    fn member(relation: Relation, age: u8, schooling: Schooling) -> MemberFacts {
        MemberFacts {
            person_id: None,
            relation,
            sex: sanad_domain::Sex::Female,
            age,
            disability: Disability::None,
            schooling,
            occupation: Occupation::Employed,
        }
    }

    #[test]
    fn a_household_reads_as_the_variables_say() {
        let facts = HouseholdFacts {
            region_code: "04".to_owned(),
            area: Area::Rural,
            dwelling_type: DwellingType::RuralHouse,
            tenure: Tenure::Owner,
            rooms: 3,
            water_spending: sanad_domain::Amount::ZERO,
            electricity_spending: sanad_domain::Amount::from_centimes(12_000).unwrap(),
            phone_spending: sanad_domain::Amount::from_centimes(50).unwrap(),
            gas_spending: sanad_domain::Amount::from_centimes(5_500).unwrap(),
            assets: [Asset::Tv, Asset::Livestock].into_iter().collect(),
            declared_income: sanad_domain::Amount::ZERO,
            members: vec![
                member(Relation::Child, 3, Schooling::Preschool),
                member(Relation::Head, 41, Schooling::LowerSecondary),
                member(Relation::Spouse, 64, Schooling::None),
            ],
        };
        let f = Features::of(&facts);
        use Variable as V;
        assert_eq!(f.get(V::LogHouseholdSize), 3f64.ln());
        assert_eq!(f.get(V::Children0To5), 1.0);
        assert_eq!(f.get(V::Adults18To59), 1.0);
        assert_eq!(f.get(V::Elderly60Plus), 1.0);
        assert_eq!(
            f.get(V::DependencyRatio),
            2.0,
            "a child and a 64-year-old per adult"
        );
        assert_eq!(f.get(V::RoomsPerPerson), 1.0);
        assert_eq!(f.get(V::DwellingRuralHouse), 1.0);
        assert_eq!(f.get(V::TenureTenant), 0.0);
        assert_eq!(f.get(V::NoWaterSpending), 1.0);
        assert_eq!(f.get(V::LogWaterSpending), 0.0);
        assert_eq!(f.get(V::LogElectricitySpending), 120f64.ln());
        assert_eq!(
            f.get(V::LogPhoneSpending),
            0.0,
            "half a dirham floors at ln 1"
        );
        assert_eq!(f.get(V::NoPhoneSpending), 0.0);
        assert_eq!(f.get(V::HasTv), 1.0);
        assert_eq!(f.get(V::HasFridge), 0.0);
        assert_eq!(
            f.get(V::HeadSchoolingLowerSecondary),
            1.0,
            "the head, not the first member"
        );
        assert_eq!(f.get(V::HeadFemale), 1.0);
        assert_eq!(f.get(V::Urban), 0.0);
    }

    #[test]
    fn the_catalogue_order_is_the_feature_order() {
        for (i, v) in Variable::ALL.iter().enumerate() {
            assert_eq!(v.index(), i);
        }
    }
}
