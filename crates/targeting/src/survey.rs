//! Reading the files a model is fitted and judged on (layouts in `docs/csv-layout.md`): the
//! consumption survey (`survey.csv`), the truth file of every household's consumption
//! (`consumption.csv`), and the registry export (`households.csv` + `persons.csv`) as facts. A bad
//! row is refused with its line, its column and what was expected.

use std::collections::{HashMap, HashSet};
use std::io::Read;

use sanad_domain::facts::age_on;
use sanad_domain::{
    Amount, Area, Asset, AssetSet, Disability, DwellingType, HouseholdFacts, MemberFacts,
    Occupation, Relation, Schooling, Sex, Tenure,
};
use time::Date;

use crate::fit::SurveyHousehold;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SurveyError {
    #[error("cannot read the file: {0}")]
    Read(String),
    #[error("the header has no `{0}` column")]
    MissingColumn(String),
    #[error("line {line}, column `{column}`: expected {expected}, found {found:?}")]
    Field {
        /// Line of the file, the header being line 1.
        line: u64,
        column: String,
        expected: String,
        found: String,
    },
    #[error("line {line}: {message}")]
    Row { line: u64, message: String },
    #[error("the file has no data rows")]
    Empty,
}

impl SurveyError {
    /// The line of the file at fault, if one is.
    pub fn line(&self) -> Option<u64> {
        match self {
            SurveyError::Field { line, .. } | SurveyError::Row { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// The column at fault, if one is.
    pub fn column(&self) -> Option<&str> {
        match self {
            SurveyError::Field { column, .. } => Some(column),
            SurveyError::MissingColumn(c) => Some(c),
            _ => None,
        }
    }
}

/// The columns of a file, by name, and the row being read.
struct Sheet<R: Read> {
    reader: csv::Reader<R>,
    columns: HashMap<String, usize>,
    width: usize,
    record: csv::StringRecord,
    line: u64,
}

impl<R: Read> Sheet<R> {
    fn open(reader: R) -> Result<Sheet<R>, SurveyError> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let header = reader
            .headers()
            .map_err(|e| SurveyError::Read(e.to_string()))?
            .clone();
        let columns = header
            .iter()
            .enumerate()
            .map(|(i, name)| (name.trim().to_owned(), i))
            .collect();
        Ok(Sheet {
            reader,
            columns,
            width: header.len(),
            record: csv::StringRecord::new(),
            line: 1,
        })
    }

    fn column(&self, name: &str) -> Result<usize, SurveyError> {
        self.columns
            .get(name)
            .copied()
            .ok_or_else(|| SurveyError::MissingColumn(name.to_owned()))
    }

    /// Moves to the next row; `false` at the end.
    fn next(&mut self) -> Result<bool, SurveyError> {
        let more = self
            .reader
            .read_record(&mut self.record)
            .map_err(|e| SurveyError::Read(e.to_string()))?;
        if !more {
            return Ok(false);
        }
        self.line = self.record.position().map_or(self.line + 1, |p| p.line());
        if self.record.len() != self.width {
            return Err(SurveyError::Row {
                line: self.line,
                message: format!(
                    "expected {} fields as in the header, found {}",
                    self.width,
                    self.record.len()
                ),
            });
        }
        Ok(true)
    }

    fn text(&self, column: usize) -> &str {
        self.record.get(column).unwrap_or("").trim()
    }

    fn parse<T>(
        &self,
        column: usize,
        name: &str,
        expected: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, SurveyError> {
        let text = self.text(column);
        parse(text).ok_or_else(|| SurveyError::Field {
            line: self.line,
            column: name.to_owned(),
            expected: expected.to_owned(),
            found: text.to_owned(),
        })
    }
}

/// A closed vocabulary's parser and its list of codes, for the "expected" part of an error.
macro_rules! vocab {
    ($t:ty) => {
        (|s: &str| <$t>::parse(s), &<$t>::expected())
    };
}

fn positive(text: &str) -> Option<f64> {
    text.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && *x > 0.0)
}

fn assets(text: &str) -> Option<AssetSet> {
    let mut set = AssetSet::default();
    for code in text.split(';').map(str::trim).filter(|c| !c.is_empty()) {
        set.insert(Asset::parse(code)?);
    }
    Some(set)
}

fn amount(text: &str) -> Option<Amount> {
    if text.is_empty() {
        return Some(Amount::ZERO);
    }
    Amount::parse(text).ok()
}

const AMOUNT: &str = "an amount in MAD such as 123.45";

/// The household part of a row, shared by the survey and the registry export.
struct HouseholdColumns {
    dwelling: usize,
    tenure: usize,
    rooms: usize,
    bills: [(usize, &'static str); 4],
    assets: usize,
    income: Option<usize>,
}

impl HouseholdColumns {
    fn find<R: Read>(sheet: &Sheet<R>) -> Result<HouseholdColumns, SurveyError> {
        Ok(HouseholdColumns {
            dwelling: sheet.column("dwelling_type")?,
            tenure: sheet.column("tenure")?,
            rooms: sheet.column("rooms")?,
            bills: [
                (sheet.column("water_spending")?, "water_spending"),
                (
                    sheet.column("electricity_spending")?,
                    "electricity_spending",
                ),
                (sheet.column("phone_spending")?, "phone_spending"),
                (sheet.column("gas_spending")?, "gas_spending"),
            ],
            assets: sheet.column("assets")?,
            income: sheet.columns.get("declared_income").copied(),
        })
    }

    fn read<R: Read>(
        &self,
        sheet: &Sheet<R>,
        region_code: String,
        area: Area,
    ) -> Result<HouseholdFacts, SurveyError> {
        let (p, e) = vocab!(DwellingType);
        let dwelling_type = sheet.parse(self.dwelling, "dwelling_type", e, p)?;
        let (p, e) = vocab!(Tenure);
        let tenure = sheet.parse(self.tenure, "tenure", e, p)?;
        let rooms = sheet.parse(self.rooms, "rooms", "a whole number of rooms", |s| {
            s.parse::<u16>().ok()
        })?;
        let mut bills = [Amount::ZERO; 4];
        for (bill, (column, name)) in bills.iter_mut().zip(self.bills) {
            *bill = sheet.parse(column, name, AMOUNT, amount)?;
        }
        let assets = sheet.parse(
            self.assets,
            "assets",
            &format!(
                "`;`-separated assets among {}",
                Asset::expected().replace(" | ", ", ")
            ),
            assets,
        )?;
        let declared_income = match self.income {
            Some(c) => sheet.parse(c, "declared_income", AMOUNT, amount)?,
            None => Amount::ZERO,
        };
        Ok(HouseholdFacts {
            region_code,
            area,
            dwelling_type,
            tenure,
            rooms,
            water_spending: bills[0],
            electricity_spending: bills[1],
            phone_spending: bills[2],
            gas_spending: bills[3],
            assets,
            declared_income,
            members: Vec::new(),
        })
    }
}

/// The member part of a row, without the age (the survey gives it, the registry gives a birth date).
struct MemberColumns {
    relation: usize,
    sex: usize,
    disability: usize,
    schooling: usize,
    occupation: usize,
}

impl MemberColumns {
    fn find<R: Read>(sheet: &Sheet<R>) -> Result<MemberColumns, SurveyError> {
        Ok(MemberColumns {
            relation: sheet.column("relation")?,
            sex: sheet.column("sex")?,
            disability: sheet.column("disability")?,
            schooling: sheet.column("schooling")?,
            occupation: sheet.column("occupation")?,
        })
    }

    fn read<R: Read>(&self, sheet: &Sheet<R>, age: u8) -> Result<MemberFacts, SurveyError> {
        let (p, e) = vocab!(Relation);
        let relation = sheet.parse(self.relation, "relation", e, p)?;
        let (p, e) = vocab!(Sex);
        let sex = sheet.parse(self.sex, "sex", e, p)?;
        let (p, e) = vocab!(Disability);
        let disability = sheet.parse(self.disability, "disability", e, p)?;
        let (p, e) = vocab!(Schooling);
        let schooling = sheet.parse(self.schooling, "schooling", e, p)?;
        let (p, e) = vocab!(Occupation);
        let occupation = sheet.parse(self.occupation, "occupation", e, p)?;
        Ok(MemberFacts {
            person_id: None,
            relation,
            sex,
            age,
            disability,
            schooling,
            occupation,
        })
    }
}

fn area<R: Read>(sheet: &Sheet<R>, column: usize) -> Result<Area, SurveyError> {
    sheet.parse(column, "area", "urban | rural", Area::parse)
}

/// Reads a survey file (`survey.csv`): one row per person, the household's columns repeated on each
/// of its rows, the rows of a household together. Columns are found by name; `declared_income` is
/// optional (it is read but no model uses it).
pub fn read_survey_csv<R: Read>(reader: R) -> Result<Vec<SurveyHousehold>, SurveyError> {
    let mut sheet = Sheet::open(reader)?;
    let id = sheet.column("household_id")?;
    let region = sheet.column("region_code")?;
    let area_column = sheet.column("area")?;
    let household = HouseholdColumns::find(&sheet)?;
    let consumption = sheet.column("consumption_per_person")?;
    let weight = sheet.column("weight")?;
    let age = sheet.column("age")?;
    let member = MemberColumns::find(&sheet)?;
    // The columns that must repeat the household's first row.
    let mut repeated = vec![region, area_column, consumption, weight, household.dwelling];
    repeated.extend([household.tenure, household.rooms, household.assets]);
    repeated.extend(household.bills.iter().map(|b| b.0));
    repeated.extend(household.income);

    let mut out: Vec<SurveyHousehold> = Vec::new();
    let mut first_row: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut seen = HashSet::new();
    while sheet.next()? {
        let this = sheet.text(id);
        if this.is_empty() {
            return Err(SurveyError::Field {
                line: sheet.line,
                column: "household_id".to_owned(),
                expected: "a household id".to_owned(),
                found: String::new(),
            });
        }
        if this != current || out.is_empty() {
            if !seen.insert(this.to_owned()) {
                return Err(SurveyError::Row {
                    line: sheet.line,
                    message: format!(
                        "household {this} appears again after other households: keep its rows together"
                    ),
                });
            }
            current = this.to_owned();
            let region_code =
                sheet.parse(region, "region_code", "a region code such as 04", |s| {
                    (!s.is_empty()).then(|| s.to_owned())
                })?;
            let area = area(&sheet, area_column)?;
            let facts = household.read(&sheet, region_code, area)?;
            let consumption_per_person = sheet.parse(
                consumption,
                "consumption_per_person",
                "a positive annual amount in MAD",
                positive,
            )?;
            let weight = sheet.parse(weight, "weight", "a positive number", positive)?;
            first_row = repeated.iter().map(|&c| sheet.text(c).to_owned()).collect();
            out.push(SurveyHousehold {
                facts,
                consumption_per_person,
                weight,
            });
        } else if let Some((&c, first)) = repeated
            .iter()
            .zip(&first_row)
            .find(|(c, first)| sheet.text(**c) != first.as_str())
        {
            let name = sheet
                .columns
                .iter()
                .find(|(_, i)| **i == c)
                .map_or_else(String::new, |(n, _)| n.clone());
            return Err(SurveyError::Field {
                line: sheet.line,
                column: name,
                expected: format!("{first:?} as on the household's first row"),
                found: sheet.text(c).to_owned(),
            });
        }
        let age = sheet.parse(age, "age", "an age in years, 0 to 130", |s| {
            s.parse::<u8>().ok().filter(|a| *a <= 130)
        })?;
        let m = member.read(&sheet, age)?;
        if let Some(h) = out.last_mut() {
            h.facts.members.push(m);
        }
    }
    if out.is_empty() {
        return Err(SurveyError::Empty);
    }
    Ok(out)
}

/// Reads a truth file (`consumption.csv`): `(household_id, ln consumption per person)` per row,
/// in file order.
pub fn read_truth_csv<R: Read>(reader: R) -> Result<Vec<(String, f64)>, SurveyError> {
    let mut sheet = Sheet::open(reader)?;
    let id = sheet.column("household_id")?;
    let ln = sheet.column("ln_consumption")?;
    let mut out = Vec::new();
    while sheet.next()? {
        let value = sheet.parse(ln, "ln_consumption", "a number", |s| {
            s.parse::<f64>().ok().filter(|x| x.is_finite())
        })?;
        out.push((sheet.text(id).to_owned(), value));
    }
    Ok(out)
}

/// One household of a registry export, as targeting sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistryHousehold {
    pub household_id: String,
    pub facts: HouseholdFacts,
}

/// Reads a registry export (`households.csv` and `persons.csv`) as facts on date `on` (ages are
/// counted on that date), in the order of `households.csv`. The region is the first part of the
/// commune code (`04` in `04.161.01.03`). Persons without a household (merged duplicates) are
/// skipped.
pub fn read_registry_csv<H: Read, P: Read>(
    households: H,
    persons: P,
    on: Date,
) -> Result<Vec<RegistryHousehold>, SurveyError> {
    let mut sheet = Sheet::open(households)?;
    let id = sheet.column("household_id")?;
    let commune = sheet.column("commune_code")?;
    let area_column = sheet.column("area")?;
    let columns = HouseholdColumns::find(&sheet)?;
    let mut out = Vec::new();
    let mut index = HashMap::new();
    while sheet.next()? {
        let region = sheet.parse(
            commune,
            "commune_code",
            "a commune code such as 04.161.01.03",
            |s| {
                s.split('.')
                    .next()
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned)
            },
        )?;
        let area = area(&sheet, area_column)?;
        let facts = columns.read(&sheet, region, area)?;
        let household_id = sheet.text(id).to_owned();
        if index.insert(household_id.clone(), out.len()).is_some() {
            return Err(SurveyError::Row {
                line: sheet.line,
                message: format!("household {household_id} is listed twice"),
            });
        }
        out.push(RegistryHousehold {
            household_id,
            facts,
        });
    }

    let mut sheet = Sheet::open(persons)?;
    let household = sheet.column("household_id")?;
    let birth = sheet.column("birth_date")?;
    let member = MemberColumns::find(&sheet)?;
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    while sheet.next()? {
        let hid = sheet.text(household);
        if hid.is_empty() {
            continue;
        }
        let Some(&h) = index.get(hid) else {
            return Err(SurveyError::Field {
                line: sheet.line,
                column: "household_id".to_owned(),
                expected: "a household_id of households.csv".to_owned(),
                found: hid.to_owned(),
            });
        };
        let birth = sheet.parse(birth, "birth_date", "a date YYYY-MM-DD", |s| {
            Date::parse(s, date_format).ok()
        })?;
        let m = member.read(&sheet, age_on(birth, on))?;
        out[h].facts.members.push(m);
    }
    Ok(out)
}
