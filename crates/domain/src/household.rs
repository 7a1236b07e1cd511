//! Households and their members: what an agent submits, the rules it must obey, and what the registry
//! keeps (with a version number that grows on every change).

use std::collections::{BTreeSet, HashSet};
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, OffsetDateTime};

use crate::id::{HouseholdId, PersonId};
use crate::money::Amount;
use crate::phone::PhoneNumber;
use crate::territory::{Area, Territories};
use crate::validation::{Collector, ValidationErrors};
use crate::vocab::{Asset, Disability, DwellingType, Occupation, Relation, Schooling, Sex, Tenure};

/// Moroccan national identity card (CNIE) number: one or two capital letters, then 1 to 6 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NationalId(String);

impl NationalId {
    pub const EXPECTED: &'static str =
        "a CNIE number: one or two capital letters then 1 to 6 digits, e.g. AB123456";

    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let text: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let letters = text.bytes().take_while(u8::is_ascii_uppercase).count();
        let digits = &text[letters..];
        let ok = (1..=2).contains(&letters)
            && (1..=6).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit());
        if ok {
            Ok(NationalId(text))
        } else {
            Err(Self::EXPECTED)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for NationalId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for NationalId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        NationalId::parse(&text).map_err(|e| serde::de::Error::custom(format!("expected {e}")))
    }
}

impl utoipa::PartialSchema for NationalId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            // What is accepted: spaces anywhere and lower-case letters, which are dropped and
            // raised; the registry keeps and returns the compact upper-case form.
            .pattern(Some(r"^\s*[A-Za-z]\s*([A-Za-z]\s*)?([0-9]\s*){1,6}$"))
            .description(Some(NationalId::EXPECTED))
            .examples([serde_json::json!("BK123456")])
            .into()
    }
}

impl utoipa::ToSchema for NationalId {}

// Dates travel as `YYYY-MM-DD` in JSON.
time::serde::format_description!(pub iso_date, Date, "[year]-[month]-[day]");

fn default_disability() -> Disability {
    Disability::None
}

/// The facts recorded about a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PersonData {
    pub relation: Relation,
    /// First name in Latin script.
    pub first_name: String,
    /// Family name in Latin script.
    pub last_name: String,
    /// First name in Arabic script.
    #[serde(default)]
    pub first_name_ar: Option<String>,
    /// Family name in Arabic script.
    #[serde(default)]
    pub last_name_ar: Option<String>,
    pub sex: Sex,
    #[serde(with = "iso_date")]
    #[schema(value_type = String, format = Date, example = "1984-03-21")]
    pub birth_date: Date,
    #[serde(default)]
    pub national_id: Option<NationalId>,
    /// Stored in E.164 form; members of a family may share one.
    #[serde(default)]
    pub phone: Option<PhoneNumber>,
    #[serde(default = "default_disability")]
    pub disability: Disability,
    pub schooling: Schooling,
    pub occupation: Occupation,
}

/// A person as the registry keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Person {
    pub id: PersonId,
    /// The household the person belongs to now; none after leaving it.
    pub household_id: Option<HouseholdId>,
    /// Set when this record was found to duplicate another person and merged into it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<PersonId>,
    #[serde(flatten)]
    pub data: PersonData,
}

/// The facts recorded about a household itself (its dwelling, spending, assets and income).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HouseholdData {
    /// HCP code of the commune of residence.
    #[schema(example = "01.511.01.01")]
    pub commune_code: String,
    /// Urban or rural; taken from the commune when not given.
    #[serde(default)]
    pub area: Option<Area>,
    #[serde(default)]
    pub address: String,
    pub dwelling_type: DwellingType,
    pub tenure: Tenure,
    pub rooms: u16,
    /// Monthly spending, MAD.
    pub water_spending: Amount,
    pub electricity_spending: Amount,
    pub phone_spending: Amount,
    pub gas_spending: Amount,
    #[serde(default)]
    #[schema(value_type = Vec<Asset>)]
    pub assets: BTreeSet<Asset>,
    /// Declared monthly income of the whole household, MAD.
    pub declared_income: Amount,
}

/// A member as submitted: an existing person (by id) moving in or staying, or a new person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MemberInput {
    /// Set for a person already in the registry; absent for a person registered now.
    #[serde(default)]
    pub person_id: Option<PersonId>,
    #[serde(flatten)]
    pub data: PersonData,
}

/// A household as submitted for registration or as a whole new state on update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HouseholdInput {
    #[serde(flatten)]
    pub data: HouseholdData,
    pub members: Vec<MemberInput>,
}

/// A household as the registry keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Household {
    pub id: HouseholdId,
    /// Grows by one on every change; send it back on update to detect a concurrent change.
    pub version: u32,
    pub region_code: String,
    pub province_code: String,
    #[serde(flatten)]
    pub data: HouseholdData,
    pub members: Vec<Person>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

pub const MAX_MEMBERS: usize = 40;
pub const MAX_ROOMS: u16 = 50;
const MAX_NAME_CHARS: usize = 100;
const MAX_ADDRESS_CHARS: usize = 300;

/// Earliest birth date the registry accepts.
pub fn earliest_birth_date() -> Date {
    time::macros::date!(1900 - 01 - 01)
}

/// Trims and collapses inner runs of white space.
pub fn clean_text(text: &str) -> String {
    let trimmed = text.trim();
    // Most values are already clean: one copy, no splitting.
    let mut previous_space = false;
    let already_clean = trimmed.chars().all(|c| {
        let ok = !c.is_whitespace() || (c == ' ' && !previous_space);
        previous_space = c == ' ';
        ok
    });
    if already_clean {
        return trimmed.to_string();
    }
    trimmed.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_arabic(c: char) -> bool {
    matches!(c, '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' | '\u{08A0}'..='\u{08FF}' | '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
}

/// Checks a Latin-script name; returns the cleaned value.
pub fn check_latin_name(c: &mut Collector, field: &str, value: &str) -> String {
    let value = clean_text(value);
    if value.is_empty() {
        c.push(field, "required", "a name in Latin script");
    } else if value.chars().count() > MAX_NAME_CHARS {
        c.push(
            field,
            "too_long",
            format!("at most {MAX_NAME_CHARS} characters"),
        );
    } else if !value.chars().any(|ch| ch.is_alphabetic() && !is_arabic(ch))
        || value
            .chars()
            .any(|ch| ch.is_control() || ch.is_ascii_digit() || is_arabic(ch))
    {
        c.push(
            field,
            "format",
            "a name in Latin script (letters, spaces, hyphens and apostrophes)",
        );
    }
    value
}

/// Checks an optional Arabic-script name; an empty value becomes `None`.
pub fn check_arabic_name(c: &mut Collector, field: &str, value: Option<&str>) -> Option<String> {
    let value = clean_text(value?);
    if value.is_empty() {
        return None;
    }
    if value.chars().count() > MAX_NAME_CHARS {
        c.push(
            field,
            "too_long",
            format!("at most {MAX_NAME_CHARS} characters"),
        );
    } else if !value.chars().any(is_arabic)
        || value
            .chars()
            .any(|ch| ch.is_control() || ch.is_ascii_alphanumeric())
    {
        c.push(field, "format", "a name in Arabic script");
    }
    Some(value)
}

/// Checks the rules a person's own facts obey; returns the cleaned data.
pub fn check_person(c: &mut Collector, prefix: &str, data: &PersonData, today: Date) -> PersonData {
    let field = |name: &str| format!("{prefix}{name}");
    let mut out = data.clone();
    out.first_name = check_latin_name(c, &field("first_name"), &data.first_name);
    out.last_name = check_latin_name(c, &field("last_name"), &data.last_name);
    out.first_name_ar =
        check_arabic_name(c, &field("first_name_ar"), data.first_name_ar.as_deref());
    out.last_name_ar = check_arabic_name(c, &field("last_name_ar"), data.last_name_ar.as_deref());
    if data.birth_date > today {
        c.push(
            field("birth_date"),
            "future_date",
            format!("a birth date not after today ({today})"),
        );
    } else if data.birth_date < earliest_birth_date() {
        c.push(
            field("birth_date"),
            "too_old",
            format!("a birth date on or after {}", earliest_birth_date()),
        );
    }
    out
}

/// Checks the household's own facts; returns them cleaned, with the area filled from the commune.
pub fn check_household_data(
    c: &mut Collector,
    prefix: &str,
    data: &HouseholdData,
    territories: &Territories,
) -> HouseholdData {
    let field = |name: &str| format!("{prefix}{name}");
    let mut out = data.clone();
    out.commune_code = data.commune_code.trim().to_string();
    match territories.commune(&out.commune_code) {
        Some(commune) => {
            if out.area.is_none() {
                out.area = commune.area;
            }
        }
        None => c.push(
            field("commune_code"),
            "unknown_commune",
            "the HCP code of one of the 1,503 communes, e.g. 01.511.01.01",
        ),
    }
    out.address = clean_text(&data.address);
    if out.address.chars().count() > MAX_ADDRESS_CHARS {
        c.push(
            field("address"),
            "too_long",
            format!("at most {MAX_ADDRESS_CHARS} characters"),
        );
    }
    if data.rooms > MAX_ROOMS {
        c.push(
            field("rooms"),
            "out_of_range",
            format!("between 0 and {MAX_ROOMS} rooms"),
        );
    }
    out
}

/// Checks the rules that bind the members of one household together: exactly one head, each person
/// and each national id at most once.
pub fn check_members(c: &mut Collector, members: &[(Option<PersonId>, &PersonData)]) {
    if members.is_empty() {
        c.push(
            "members",
            "required",
            "at least one member, the head of the household",
        );
        return;
    }
    if members.len() > MAX_MEMBERS {
        c.push(
            "members",
            "too_many",
            format!("at most {MAX_MEMBERS} members"),
        );
    }
    let heads = members
        .iter()
        .filter(|(_, m)| m.relation == Relation::Head)
        .count();
    if heads != 1 {
        c.push(
            "members",
            "one_head",
            format!("exactly one member whose relation is `head` (found {heads})"),
        );
    }
    let mut ids = HashSet::new();
    let mut national_ids = HashSet::new();
    for (i, (id, m)) in members.iter().enumerate() {
        if let Some(id) = id
            && !ids.insert(*id)
        {
            c.push(
                format!("members[{i}].person_id"),
                "duplicate_member",
                format!("each person once; {id} is listed twice"),
            );
        }
        if let Some(nid) = &m.national_id
            && !national_ids.insert(nid.clone())
        {
            c.push(
                format!("members[{i}].national_id"),
                "duplicate_national_id",
                "a national id used by one person only; it is listed twice in this household",
            );
        }
    }
}

impl HouseholdInput {
    /// Checks every rule that can be checked without the store and returns the cleaned input.
    /// Rules that need the store (a national id or a person already used elsewhere) are checked by
    /// the store in the same transaction as the write.
    pub fn validate(
        &self,
        today: Date,
        territories: &Territories,
    ) -> Result<HouseholdInput, ValidationErrors> {
        let mut c = Collector::default();
        let data = check_household_data(&mut c, "", &self.data, territories);
        let members: Vec<MemberInput> = self
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| MemberInput {
                person_id: m.person_id,
                data: check_person(&mut c, &format!("members[{i}]."), &m.data, today),
            })
            .collect();
        let pairs: Vec<_> = members.iter().map(|m| (m.person_id, &m.data)).collect();
        check_members(&mut c, &pairs);
        c.finish(HouseholdInput { data, members })
    }
}

impl Household {
    pub fn head(&self) -> Option<&Person> {
        self.members
            .iter()
            .find(|m| m.data.relation == Relation::Head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    pub(crate) fn person(relation: Relation, first: &str, birth: Date) -> PersonData {
        PersonData {
            relation,
            first_name: first.into(),
            last_name: "El Amrani".into(),
            first_name_ar: Some("محمد".into()),
            last_name_ar: Some("العمراني".into()),
            sex: Sex::Male,
            birth_date: birth,
            national_id: None,
            phone: None,
            disability: Disability::None,
            schooling: Schooling::Primary,
            occupation: Occupation::Employed,
        }
    }

    fn household(members: Vec<PersonData>) -> HouseholdInput {
        HouseholdInput {
            data: HouseholdData {
                commune_code: "01.511.01.01".into(),
                area: None,
                address: "  Rue 12   N° 4 ".into(),
                dwelling_type: DwellingType::Apartment,
                tenure: Tenure::Tenant,
                rooms: 3,
                water_spending: Amount::parse("60").unwrap(),
                electricity_spending: Amount::parse("120.5").unwrap(),
                phone_spending: Amount::ZERO,
                gas_spending: Amount::parse("40").unwrap(),
                assets: [Asset::Tv, Asset::Fridge].into_iter().collect(),
                declared_income: Amount::parse("2500").unwrap(),
            },
            members: members
                .into_iter()
                .map(|data| MemberInput {
                    person_id: None,
                    data,
                })
                .collect(),
        }
    }

    const TODAY: Date = date!(2026 - 11 - 23);

    #[test]
    fn a_valid_household_is_cleaned_and_gets_its_area() {
        let h = household(vec![
            person(Relation::Head, " Mohamed ", date!(1980 - 01 - 01)),
            person(Relation::Child, "Youssef", date!(2010 - 05 - 02)),
        ]);
        let ok = h.validate(TODAY, Territories::morocco()).unwrap();
        assert_eq!(ok.data.area, Some(Area::Urban));
        assert_eq!(ok.data.address, "Rue 12 N° 4");
        assert_eq!(ok.members[0].data.first_name, "Mohamed");
    }

    #[test]
    fn two_heads_a_future_birth_and_a_bad_commune_are_all_reported() {
        let mut h = household(vec![
            person(Relation::Head, "Mohamed", date!(1980 - 01 - 01)),
            person(Relation::Head, "Ahmed", date!(2030 - 01 - 01)),
        ]);
        h.data.commune_code = "99.999".into();
        let errors = h.validate(TODAY, Territories::morocco()).unwrap_err().0;
        let fields: Vec<_> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert!(fields.contains(&("commune_code", "unknown_commune")));
        assert!(fields.contains(&("members[1].birth_date", "future_date")));
        assert!(fields.contains(&("members", "one_head")));
    }

    #[test]
    fn a_national_id_twice_in_one_household_is_refused() {
        let mut a = person(Relation::Head, "Mohamed", date!(1980 - 01 - 01));
        a.national_id = Some(NationalId::parse("AB123").unwrap());
        let b = a.clone();
        let mut b = b;
        b.relation = Relation::Sibling;
        let errors = household(vec![a, b])
            .validate(TODAY, Territories::morocco())
            .unwrap_err()
            .0;
        assert_eq!(errors[0].field, "members[1].national_id");
    }

    #[test]
    fn names_in_the_wrong_script_are_refused() {
        let mut a = person(Relation::Head, "محمد", date!(1980 - 01 - 01));
        a.last_name_ar = Some("Amrani".into());
        let errors = household(vec![a])
            .validate(TODAY, Territories::morocco())
            .unwrap_err()
            .0;
        assert_eq!(errors.len(), 2);
    }

    #[test]
    fn national_id_format() {
        assert_eq!(
            NationalId::parse(" bk 123456").unwrap().as_str(),
            "BK123456"
        );
        assert!(NationalId::parse("123456").is_err());
        assert!(NationalId::parse("ABC12").is_err());
        assert!(NationalId::parse("A1234567").is_err());
        assert!(NationalId::parse("A").is_err());
    }
}

/// Folds a name for search: lower case, Latin accents removed, Arabic hamza and taa-marbuta forms
/// unified, punctuation turned into spaces. Stored beside each person and applied to queries.
pub fn fold_for_search(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        // Fast paths for the two scripts of nearly every name: ASCII and the basic Arabic block,
        // which have no case and need no Unicode table look-up.
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                out.push(c.to_ascii_lowercase());
            } else {
                pending_space = true;
            }
            continue;
        }
        for ch in c.to_lowercase() {
            let Some(folded) = fold_char(ch) else {
                continue;
            };
            if folded == ' ' {
                pending_space = true;
                continue;
            }
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(folded);
        }
    }
    out
}

/// One lower-case character folded for search: `None` drops it, `' '` separates words.
fn fold_char(ch: char) -> Option<char> {
    Some(match ch {
        'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ò' | 'ó' | 'ô' | 'ö' | 'õ' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ÿ' | 'ý' => 'y',
        'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
        'ة' => 'ه',
        'ى' => 'ي',
        '\u{064B}'..='\u{0652}' | '\u{0640}' => return None, // harakat and tatweel
        // The Arabic letters: no case, no look-up.
        'ء'..='ي' | 'ٮ'..='ۓ' => ch,
        c if c.is_alphanumeric() => c,
        _ => ' ',
    })
}

impl PersonData {
    /// The folded names, Latin then Arabic, as stored for search.
    pub fn search_key(&self) -> String {
        let mut parts = vec![self.first_name.as_str(), self.last_name.as_str()];
        parts.extend(self.first_name_ar.as_deref());
        parts.extend(self.last_name_ar.as_deref());
        fold_for_search(&parts.join(" "))
    }
}

#[cfg(test)]
mod fold_tests {
    use super::fold_for_search;

    #[test]
    fn folds_accents_case_and_arabic_variants() {
        assert_eq!(fold_for_search("Aïcha  EL-Fassi"), "aicha el fassi");
        assert_eq!(fold_for_search("أحمد فاطمة"), "احمد فاطمه");
        assert_eq!(fold_for_search("مُحَمَّد"), "محمد");
    }

    /// The folding written plainly, one Unicode look-up per character: the fast paths must agree.
    fn plain_fold(text: &str) -> String {
        let mut out = String::new();
        for ch in text.chars().flat_map(char::to_lowercase) {
            match super::fold_char(ch) {
                Some(c) => out.push(c),
                None => continue,
            }
        }
        super::clean_text(&out)
    }

    proptest::proptest! {
        #[test]
        fn fast_paths_agree_with_the_plain_folding(
            s in "[ a-zA-Z0-9'\\-éèçÏİ\u{0621}-\u{0652}\u{0660}-\u{06D3}\t.]{0,40}"
        ) {
            proptest::prop_assert_eq!(fold_for_search(&s), plain_fold(&s));
        }
    }
}
