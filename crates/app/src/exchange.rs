//! Import and export of the registry in the CSV layout of `docs/csv-layout.md` (and, for import, other
//! CSV or XLSX layouts through a column mapping). An import is checked row by row and as a whole
//! before anything is written; the store then writes it in one transaction.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use sanad_domain::household::{check_household_data, check_members, check_person};
use sanad_domain::validation::{Collector, FieldError};
use sanad_domain::{
    Amount, Asset, Disability, DwellingType, Household, HouseholdData, HouseholdId, NationalId,
    Occupation, Person, PersonData, PersonId, PhoneNumber, Relation, Schooling, Sex, Tenure,
    Territories,
};
use serde::Serialize;
use time::{Date, Month};

use crate::store::{
    BatchConflict, Change, ImportOutcome, Progress, RegistryBatch, RegistryStore, StoreError,
};

pub const HOUSEHOLD_COLUMNS: [&str; 13] = [
    "household_id",
    "commune_code",
    "area",
    "address",
    "dwelling_type",
    "tenure",
    "rooms",
    "water_spending",
    "electricity_spending",
    "phone_spending",
    "gas_spending",
    "assets",
    "declared_income",
];

pub const PERSON_COLUMNS: [&str; 16] = [
    "person_id",
    "household_id",
    "relation",
    "first_name",
    "last_name",
    "first_name_ar",
    "last_name_ar",
    "sex",
    "birth_date",
    "national_id",
    "disability",
    "schooling",
    "occupation",
    "phone",
    "merged_into",
    "",
];

fn person_columns() -> &'static [&'static str] {
    &PERSON_COLUMNS[..15]
}

/// Columns that may be absent from a file (their value is then empty or the default).
const OPTIONAL_COLUMNS: [&str; 8] = [
    "area",
    "address",
    "first_name_ar",
    "last_name_ar",
    "national_id",
    "disability",
    "phone",
    "merged_into",
];

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error(
        "{path}: missing column `{column}` (map it with --map {column}=YOUR_COLUMN); the header has: {found}"
    )]
    MissingColumn {
        path: PathBuf,
        column: String,
        found: String,
    },
    #[error(
        "bad column mapping `{0}`: expected FIELD=COLUMN with FIELD one of the layout's columns"
    )]
    Mapping(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn file_error(path: &Path, e: impl std::fmt::Display) -> ExchangeError {
    ExchangeError::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// One rejected row: which file, which line (the header is line 1), which field, what was expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub file: String,
    pub line: u64,
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} line {}: {}: {}",
            self.file, self.line, self.field, self.message
        )
    }
}

/// Where the rows come from and how the source's columns map onto the layout's.
#[derive(Debug, Clone)]
pub struct ImportSource {
    pub households: PathBuf,
    pub persons: PathBuf,
    /// Layout column → source column header.
    pub mapping: HashMap<String, String>,
}

impl ImportSource {
    /// `DIR/households.csv` and `DIR/persons.csv` (or `.xlsx`).
    pub fn from_dir(dir: &Path) -> ImportSource {
        let pick = |stem: &str| {
            let xlsx = dir.join(format!("{stem}.xlsx"));
            if xlsx.exists() && !dir.join(format!("{stem}.csv")).exists() {
                xlsx
            } else {
                dir.join(format!("{stem}.csv"))
            }
        };
        ImportSource {
            households: pick("households"),
            persons: pick("persons"),
            mapping: HashMap::new(),
        }
    }

    /// Adds `FIELD=COLUMN` mappings.
    pub fn with_mapping(mut self, pairs: &[String]) -> Result<Self, ExchangeError> {
        for pair in pairs {
            let (field, column) = pair
                .split_once('=')
                .ok_or_else(|| ExchangeError::Mapping(pair.clone()))?;
            let field = field.trim();
            // `households.FIELD` or `persons.FIELD` maps a column of one file only (both files
            // have a household_id, often under different names).
            let known = match field.split_once('.') {
                Some(("households", f)) => HOUSEHOLD_COLUMNS.contains(&f),
                Some(("persons", f)) => person_columns().contains(&f),
                Some(_) => false,
                None => HOUSEHOLD_COLUMNS.contains(&field) || person_columns().contains(&field),
            };
            if !known {
                return Err(ExchangeError::Mapping(pair.clone()));
            }
            self.mapping
                .insert(field.to_string(), column.trim().to_string());
        }
        Ok(self)
    }
}

/// A table read from a CSV or XLSX file: its header and its rows with their line numbers.
struct Table {
    path: PathBuf,
    name: String,
    header: Vec<String>,
    /// Each row with its line number; one allocation per row.
    rows: Vec<(u64, Result<csv::StringRecord, String>)>,
}

fn read_table(path: &Path) -> Result<Table, ExchangeError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let is_xlsx = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx") || e.eq_ignore_ascii_case("xls"));
    if is_xlsx {
        return read_xlsx(path, name);
    }
    let file = File::open(path).map_err(|e| file_error(path, e))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(std::io::BufReader::with_capacity(1 << 20, file));
    let mut header = None;
    let mut rows = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(file_error(path, format!("not a readable CSV file: {e}"))),
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let fields = csv::StringRecord::from_byte_record(record.clone())
            .map_err(|_| "the row is not valid UTF-8 text (save the file as UTF-8)".to_string());
        if header.is_none() {
            let h = fields.map_err(|e| file_error(path, format!("header: {e}")))?;
            let mut h: Vec<String> = h.iter().map(|c| c.trim().to_string()).collect();
            if let Some(first) = h.first_mut() {
                *first = first.trim_start_matches('\u{feff}').to_string();
            }
            header = Some(h);
            continue;
        }
        if fields
            .as_ref()
            .is_ok_and(|f| f.iter().all(|c| c.trim().is_empty()))
        {
            continue;
        }
        rows.push((line, fields));
    }
    Ok(Table {
        path: path.to_path_buf(),
        name,
        header: header
            .ok_or_else(|| file_error(path, "the file is empty (expected a header row)"))?,
        rows,
    })
}

fn read_xlsx(path: &Path, name: String) -> Result<Table, ExchangeError> {
    use calamine::{Data, Reader};
    let mut workbook = calamine::open_workbook_auto(path).map_err(|e| file_error(path, e))?;
    let sheet = workbook
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| file_error(path, "the workbook has no sheet"))?;
    let range = workbook
        .worksheet_range(&sheet)
        .map_err(|e| file_error(path, e))?;
    let cell = |d: &Data| match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        // Excel counts days from 1899-12-30.
        Data::DateTime(dt) => time::macros::date!(1899 - 12 - 30)
            .checked_add(time::Duration::days(dt.as_f64().floor() as i64))
            .map(|d| d.to_string())
            .unwrap_or_else(|| dt.to_string()),
        other => other.to_string(),
    };
    let mut rows = range.rows();
    let header: Vec<String> = rows
        .next()
        .ok_or_else(|| file_error(path, "the sheet is empty (expected a header row)"))?
        .iter()
        .map(|c| cell(c).trim().to_string())
        .collect();
    let rows = rows
        .enumerate()
        .map(|(i, r)| {
            (
                i as u64 + 2,
                Ok(r.iter().map(cell).collect::<csv::StringRecord>()),
            )
        })
        .filter(|(_, r)| {
            !r.as_ref()
                .is_ok_and(|f: &csv::StringRecord| f.iter().all(|c| c.trim().is_empty()))
        })
        .collect();
    Ok(Table {
        path: path.to_path_buf(),
        name,
        header,
        rows,
    })
}

/// Column positions of the layout's fields in a table, in the layout's order.
struct Columns(Vec<Option<usize>>);

impl Columns {
    fn resolve(
        table: &Table,
        file: &str,
        fields: &[&'static str],
        mapping: &HashMap<String, String>,
    ) -> Result<Columns, ExchangeError> {
        let mut idx = Vec::with_capacity(fields.len());
        for &field in fields {
            let mapped = mapping
                .get(&format!("{file}.{field}"))
                .or_else(|| mapping.get(field));
            let wanted = mapped.map(String::as_str).unwrap_or(field);
            match table
                .header
                .iter()
                .position(|h| h.eq_ignore_ascii_case(wanted))
            {
                Some(i) => idx.push(Some(i)),
                None if OPTIONAL_COLUMNS.contains(&field) && mapped.is_none() => idx.push(None),
                None => {
                    return Err(ExchangeError::MissingColumn {
                        path: table.path.clone(),
                        column: wanted.to_string(),
                        found: table.header.join(", "),
                    });
                }
            }
        }
        Ok(Columns(idx))
    }

    /// The row's values in the layout's order, trimmed; absent columns read as empty.
    fn values<'a, const N: usize>(&self, row: &'a csv::StringRecord) -> [&'a str; N] {
        std::array::from_fn(|i| {
            self.0
                .get(i)
                .copied()
                .flatten()
                .and_then(|c| row.get(c))
                .map(str::trim)
                .unwrap_or("")
        })
    }
}

/// Applies `f` to every item on all cores, keeping the order. Items are consumed as they are
/// mapped, so a big table's raw rows are freed while its parsed rows are built.
fn par_map<T: Send, R: Send>(mut items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(16);
    if threads <= 1 || items.len() < 4096 {
        return items.into_iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let mut parts = Vec::with_capacity(threads);
    while items.len() > chunk {
        let tail = items.split_off(items.len() - chunk);
        parts.push(tail);
    }
    parts.push(items);
    parts.reverse();
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| scope.spawn(|| part.into_iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Reads a date written `YYYY-MM-DD`, `DD/MM/YYYY` or `YYYYMMDD`.
pub fn parse_date(text: &str) -> Option<Date> {
    let text = text.trim();
    let num = |s: &str| s.parse::<u32>().ok();
    let (y, m, d) = if let [y, m, d] = text.split('-').collect::<Vec<_>>()[..] {
        (num(y)?, num(m)?, num(d)?)
    } else if let [d, m, y] = text.split('/').collect::<Vec<_>>()[..] {
        (num(y)?, num(m)?, num(d)?)
    } else if text.len() == 8 && text.bytes().all(|b| b.is_ascii_digit()) {
        (num(&text[..4])?, num(&text[4..6])?, num(&text[6..])?)
    } else {
        return None;
    };
    if !(1000..=9999).contains(&y) {
        return None;
    }
    Date::from_calendar_date(y as i32, Month::try_from(m as u8).ok()?, d as u8).ok()
}

fn code<T>(
    c: &mut Collector,
    field: &str,
    text: &str,
    parse: fn(&str) -> Option<T>,
    expected: String,
) -> Option<T> {
    let lowered = text.to_ascii_lowercase();
    let found = parse(text).or_else(|| parse(&lowered));
    if found.is_none() {
        c.push(field, "format", format!("one of {expected}"));
    }
    found
}

fn amount(c: &mut Collector, field: &str, text: &str) -> Amount {
    if text.is_empty() {
        return Amount::ZERO;
    }
    Amount::parse(text).unwrap_or_else(|expected| {
        c.push(field, "format", expected);
        Amount::ZERO
    })
}

fn parse_household_row(c: &mut Collector, v: &[&str; 13]) -> Option<(HouseholdId, HouseholdData)> {
    let get = |f: &str| v[HOUSEHOLD_COLUMNS.iter().position(|c| *c == f).unwrap_or(0)];
    let id = HouseholdId::parse(get("household_id"))
        .map_err(|e| c.push("household_id", "format", e.to_string()))
        .ok();
    let area_text = get("area");
    let area = if area_text.is_empty() {
        None
    } else {
        code(
            c,
            "area",
            area_text,
            sanad_domain::Area::parse,
            "urban | rural".into(),
        )
    };
    let dwelling_type = code(
        c,
        "dwelling_type",
        get("dwelling_type"),
        DwellingType::parse,
        DwellingType::expected(),
    );
    let tenure = code(
        c,
        "tenure",
        get("tenure"),
        Tenure::parse,
        Tenure::expected(),
    );
    let rooms = get("rooms")
        .parse::<u16>()
        .map_err(|_| c.push("rooms", "format", "a whole number of rooms, 0 or more"))
        .ok();
    let mut assets = std::collections::BTreeSet::new();
    for word in get("assets")
        .split([';', '|'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
    {
        match Asset::parse(&word.to_ascii_lowercase()) {
            Some(a) => {
                assets.insert(a);
            }
            None => c.push(
                "assets",
                "format",
                format!(
                    "`;`-separated assets among {}; `{word}` is not one",
                    Asset::expected()
                ),
            ),
        }
    }
    let data = HouseholdData {
        commune_code: get("commune_code").to_string(),
        area,
        address: get("address").to_string(),
        dwelling_type: dwelling_type?,
        tenure: tenure?,
        rooms: rooms?,
        water_spending: amount(c, "water_spending", get("water_spending")),
        electricity_spending: amount(c, "electricity_spending", get("electricity_spending")),
        phone_spending: amount(c, "phone_spending", get("phone_spending")),
        gas_spending: amount(c, "gas_spending", get("gas_spending")),
        assets,
        declared_income: amount(c, "declared_income", get("declared_income")),
    };
    Some((id?, data))
}

fn parse_person_row(
    c: &mut Collector,
    v: &[&str; 15],
) -> Option<(PersonId, Option<HouseholdId>, PersonData)> {
    let get = |f: &str| v[PERSON_COLUMNS.iter().position(|c| *c == f).unwrap_or(0)];
    let id = PersonId::parse(get("person_id"))
        .map_err(|e| c.push("person_id", "format", e.to_string()))
        .ok();
    let household = match get("household_id") {
        "" => None,
        text => Some(
            HouseholdId::parse(text)
                .map_err(|e| c.push("household_id", "format", e.to_string()))
                .ok()?,
        ),
    };
    let relation = code(
        c,
        "relation",
        get("relation"),
        Relation::parse,
        Relation::expected(),
    );
    let sex = Sex::parse_lenient(get("sex"));
    if sex.is_none() {
        c.push("sex", "format", "M or F");
    }
    let birth_date = parse_date(get("birth_date"));
    if birth_date.is_none() {
        c.push(
            "birth_date",
            "format",
            "a date written YYYY-MM-DD (or DD/MM/YYYY, YYYYMMDD)",
        );
    }
    let national_id = match get("national_id") {
        "" => None,
        text => NationalId::parse(text)
            .map_err(|e| c.push("national_id", "format", e))
            .ok(),
    };
    let phone = match get("phone") {
        "" => None,
        text => PhoneNumber::parse(text)
            .map_err(|e| c.push("phone", "format", e))
            .ok(),
    };
    let disability = match get("disability") {
        "" => Some(Disability::None),
        text => code(
            c,
            "disability",
            text,
            Disability::parse,
            Disability::expected(),
        ),
    };
    let schooling = code(
        c,
        "schooling",
        get("schooling"),
        Schooling::parse,
        Schooling::expected(),
    );
    let occupation = code(
        c,
        "occupation",
        get("occupation"),
        Occupation::parse,
        Occupation::expected(),
    );
    let opt = |t: &str| (!t.is_empty()).then(|| t.to_string());
    let data = PersonData {
        relation: relation?,
        first_name: get("first_name").to_string(),
        last_name: get("last_name").to_string(),
        first_name_ar: opt(get("first_name_ar")),
        last_name_ar: opt(get("last_name_ar")),
        sex: sex?,
        birth_date: birth_date?,
        national_id,
        phone,
        disability: disability?,
        schooling: schooling?,
        occupation: occupation?,
    };
    Some((id?, household, data))
}

/// Parses and checks one household row on its own; on failure, the id if it could be read.
#[allow(clippy::type_complexity)]
fn check_household_row(
    row: Result<csv::StringRecord, (Option<HouseholdId>, Vec<FieldError>)>,
    cols: &Columns,
    territories: &Territories,
) -> Result<(HouseholdId, HouseholdData), (Option<HouseholdId>, Vec<FieldError>)> {
    let row = row?;
    let v = cols.values::<13>(&row);
    let mut c = Collector::default();
    let parsed = parse_household_row(&mut c, &v);
    let id = HouseholdId::parse(v[0]).ok();
    let checked =
        parsed.map(|(id, data)| (id, check_household_data(&mut c, "", &data, territories)));
    match (checked, c.finish(())) {
        (Some(ok), Ok(())) => Ok(ok),
        (_, Err(e)) => Err((id, e.0)),
        (None, Ok(())) => Err((id, Vec::new())),
    }
}

/// What a read found: the valid batch, the rejected rows, and where each key came from (so that a
/// conflict found later by the store can be reported against its row).
#[derive(Debug, Default)]
pub struct ParsedRegistry {
    pub batch: RegistryBatch,
    pub errors: Vec<RowError>,
    pub household_rows: u64,
    pub person_rows: u64,
    household_lines: HashMap<HouseholdId, u64>,
    person_lines: HashMap<PersonId, u64>,
    national_id_owner: HashMap<String, PersonId>,
    households_file: String,
    persons_file: String,
}

struct PersonRow {
    line: u64,
    id: PersonId,
    household: Option<HouseholdId>,
    merged_into: Option<PersonId>,
    data: PersonData,
}

/// The optional `merged_into` column: the person this record was merged into (a duplicate resolved).
fn merged_into(c: &mut Collector, text: &str) -> Option<PersonId> {
    if text.is_empty() {
        return None;
    }
    PersonId::parse(text)
        .map_err(|e| c.push("merged_into", "format", e.to_string()))
        .ok()
}

/// Reads and checks both files. Row errors are collected, not returned: the caller decides whether
/// any error stops the import.
pub fn read_registry(
    source: &ImportSource,
    change: &Change,
    progress: &dyn Progress,
) -> Result<ParsedRegistry, ExchangeError> {
    let territories = Territories::morocco();
    let today = change.at.date();
    progress.phase("reading", 0);
    // Both files at once: each is parsed on its own thread.
    let (households_table, persons_table) = std::thread::scope(|scope| {
        let households = scope.spawn(|| read_table(&source.households));
        let persons = read_table(&source.persons);
        let households = households
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        (households, persons)
    });
    let (households_table, persons_table) = (households_table?, persons_table?);
    let hcols = Columns::resolve(
        &households_table,
        "households",
        &HOUSEHOLD_COLUMNS,
        &source.mapping,
    )?;
    let pcols = Columns::resolve(&persons_table, "persons", person_columns(), &source.mapping)?;
    let mut out = ParsedRegistry {
        household_rows: households_table.rows.len() as u64,
        person_rows: persons_table.rows.len() as u64,
        households_file: households_table.name.clone(),
        persons_file: persons_table.name.clone(),
        ..ParsedRegistry::default()
    };

    let hname = households_table.name.clone();
    let pname = persons_table.name.clone();
    let push_errors = |errors: &mut Vec<RowError>, file: &str, line: u64, e: Vec<FieldError>| {
        errors.extend(e.into_iter().map(|e| RowError {
            file: file.to_string(),
            line,
            field: e.field,
            message: e.message,
        }));
    };

    // Households, each on its own (on all cores), then against each other.
    progress.phase("checking households", out.household_rows);
    let checked = par_map(households_table.rows, |(line, row)| {
        let row = row.map_err(|m| (None, vec![FieldError::new("*", "encoding", m)]));
        (line, check_household_row(row, &hcols, territories))
    });
    progress.advance(out.household_rows);
    let mut households: Vec<(u64, HouseholdId, HouseholdData)> = Vec::with_capacity(checked.len());
    let mut rejected_households: HashSet<HouseholdId> = HashSet::new();
    for (line, result) in checked {
        let line = &line;
        match result {
            Ok((id, data)) => {
                if let Some(first) = out.household_lines.get(&id) {
                    let message = format!("a household id used once; already on line {first}");
                    push_errors(
                        &mut out.errors,
                        &hname,
                        *line,
                        vec![FieldError::new("household_id", "duplicate", message)],
                    );
                    continue;
                }
                out.household_lines.insert(id, *line);
                households.push((*line, id, data));
            }
            Err((id, errors)) => {
                rejected_households.extend(id);
                push_errors(&mut out.errors, &hname, *line, errors);
            }
        }
    }
    let valid_households: HashSet<HouseholdId> = households.iter().map(|h| h.1).collect();
    rejected_households.retain(|id| !valid_households.contains(id));

    // Persons, each on its own (on all cores), then against the file.
    progress.phase("checking persons", out.person_rows);
    let checked = par_map(persons_table.rows, |(line, row)| {
        let result = (|| {
            let row = row.map_err(|m| vec![FieldError::new("*", "encoding", m)])?;
            let v = pcols.values::<15>(&row);
            let mut c = Collector::default();
            let merged_into = merged_into(&mut c, v[14]);
            let parsed = parse_person_row(&mut c, &v).map(|(id, hh, data)| {
                (id, hh, merged_into, check_person(&mut c, "", &data, today))
            });
            c.finish(()).map_err(|e| e.0)?;
            parsed.ok_or_else(Vec::new)
        })();
        (line, result)
    });
    progress.advance(out.person_rows);
    let mut persons: Vec<PersonRow> = Vec::with_capacity(checked.len());
    for (line, result) in checked {
        let line = &line;
        let (id, household, merged_into, data) = match result {
            Ok(p) => p,
            Err(errors) => {
                push_errors(&mut out.errors, &pname, *line, errors);
                continue;
            }
        };
        let mut c = Collector::default();
        if let Some(first) = out.person_lines.get(&id) {
            c.push(
                "person_id",
                "duplicate",
                format!("a person id used once; already on line {first}"),
            );
        }
        if let Some(h) = household {
            if rejected_households.contains(&h) {
                c.push(
                    "household_id",
                    "rejected_household",
                    format!("household {h} was rejected in {hname}"),
                );
            } else if !valid_households.contains(&h) {
                c.push(
                    "household_id",
                    "unknown_household",
                    format!("a household_id of {hname}; {h} is not there"),
                );
            }
        }
        if let Some(target) = merged_into {
            if household.is_some() {
                c.push(
                    "merged_into",
                    "merged_in_household",
                    "an empty household_id: a person merged into another belongs to no household",
                );
            }
            if target == id {
                c.push(
                    "merged_into",
                    "merged_into_itself",
                    "the id of another person of the file",
                );
            }
        }
        if let Some(nid) = &data.national_id
            && let Some(owner) = out.national_id_owner.get(nid.as_str())
        {
            let first = out.person_lines.get(owner).copied().unwrap_or(0);
            c.push(
                "national_id",
                "duplicate_national_id",
                format!("a national id used by one person only; already used on line {first}"),
            );
        }
        match c.finish(()) {
            Ok(()) => {
                out.person_lines.insert(id, *line);
                if let Some(nid) = &data.national_id {
                    out.national_id_owner.insert(nid.as_str().to_string(), id);
                }
                persons.push(PersonRow {
                    line: *line,
                    id,
                    household,
                    merged_into,
                    data,
                });
            }
            Err(e) => push_errors(&mut out.errors, &pname, *line, e.0),
        }
    }

    // A merged person points at a person of the file who is not merged himself.
    let merged: HashMap<PersonId, Option<PersonId>> =
        persons.iter().map(|p| (p.id, p.merged_into)).collect();
    persons.retain(|p| {
        let Some(target) = p.merged_into else {
            return true;
        };
        let message = match merged.get(&target) {
            None => format!("a person_id of {pname}; {target} is not there"),
            Some(Some(_)) => format!("a person who is not merged himself; {target} is"),
            Some(None) => return true,
        };
        out.errors.push(RowError {
            file: pname.clone(),
            line: p.line,
            field: "merged_into".into(),
            message,
        });
        false
    });

    // Households as a whole: exactly one head, at least one member.
    progress.phase("checking memberships", 0);
    let mut members: HashMap<HouseholdId, Vec<usize>> = HashMap::with_capacity(households.len());
    for (i, p) in persons.iter().enumerate() {
        if let Some(h) = p.household {
            members.entry(h).or_default().push(i);
        }
    }
    let mut dropped_persons = vec![false; persons.len()];
    let mut kept = Vec::with_capacity(households.len());
    for (line, id, data) in households {
        let idx = members.remove(&id).unwrap_or_default();
        let mut c = Collector::default();
        let pairs: Vec<_> = idx
            .iter()
            .map(|&i| (Some(persons[i].id), &persons[i].data))
            .collect();
        check_members(&mut c, &pairs);
        if let Err(e) = c.finish(()) {
            push_errors(&mut out.errors, &hname, line, e.0);
            for i in idx {
                dropped_persons[i] = true;
                out.errors.push(RowError {
                    file: pname.clone(),
                    line: persons[i].line,
                    field: "household_id".into(),
                    message: format!("household {id} was rejected (line {line} of {hname})"),
                });
            }
        } else {
            kept.push((id, data, idx));
        }
    }

    let at = sanad_domain::audit::storable_time(change.at);
    let mut persons: Vec<Option<PersonRow>> = persons.into_iter().map(Some).collect();
    for (i, dropped) in dropped_persons.iter().enumerate() {
        if *dropped {
            persons[i] = None;
        }
    }
    for (id, data, idx) in kept {
        let commune = territories.commune(&data.commune_code);
        let members = idx
            .into_iter()
            .filter_map(|i| persons[i].take())
            .map(|p| Person {
                id: p.id,
                household_id: Some(id),
                merged_into: None,
                data: p.data,
            })
            .collect();
        out.batch.households.push(Household {
            id,
            version: 1,
            region_code: commune.map(|c| c.region_code.clone()).unwrap_or_default(),
            province_code: commune
                .and_then(|c| c.parent_code.clone())
                .unwrap_or_default(),
            data,
            members,
            created_at: at,
            updated_at: at,
        });
    }
    out.batch.loose_persons = persons
        .into_iter()
        .flatten()
        .map(|p| Person {
            id: p.id,
            household_id: None,
            merged_into: p.merged_into,
            data: p.data,
        })
        .collect();
    // Merged records after the others, so that each is written after the person it points at.
    out.batch
        .loose_persons
        .sort_by_key(|p| p.merged_into.is_some());
    out.drop_dangling_merges();
    out.errors.sort_by_key(|e| (e.file != hname, e.line));
    Ok(out)
}

impl ParsedRegistry {
    /// Reports the store's conflicts against their rows and removes the rows (and their households'
    /// other rows) from the batch, so that the rest can be written with `--skip-invalid`.
    pub fn reject_conflicts(&mut self, conflicts: &[BatchConflict]) {
        let mut bad_households = HashSet::new();
        let mut bad_loose = HashSet::new();
        let owner_household: HashMap<PersonId, HouseholdId> = self
            .batch
            .households
            .iter()
            .flat_map(|h| h.members.iter().map(move |m| (m.id, h.id)))
            .collect();
        let mut errors = Vec::new();
        // (person, field, message) for the conflicts that name a person.
        let mut person_conflicts = Vec::new();
        for conflict in conflicts {
            match conflict {
                BatchConflict::HouseholdExists(id) => {
                    errors.push(RowError {
                        file: self.households_file.clone(),
                        line: self.household_lines.get(id).copied().unwrap_or(0),
                        field: "household_id".into(),
                        message: format!("a new household id; {id} is already in the registry"),
                    });
                    bad_households.insert(*id);
                }
                BatchConflict::PersonExists(id) => person_conflicts.push((
                    *id,
                    "person_id",
                    format!("a new person id; {id} is already in the registry"),
                )),
                BatchConflict::NationalIdUsed(nid) => {
                    if let Some(id) = self.national_id_owner.get(nid).copied() {
                        person_conflicts.push((
                            id,
                            "national_id",
                            "a national id not yet in the registry; another person already has it"
                                .into(),
                        ));
                    }
                }
            }
        }
        for (id, field, message) in person_conflicts {
            errors.push(RowError {
                file: self.persons_file.clone(),
                line: self.person_lines.get(&id).copied().unwrap_or(0),
                field: field.into(),
                message,
            });
            match owner_household.get(&id) {
                Some(h) => {
                    bad_households.insert(*h);
                }
                None => {
                    bad_loose.insert(id);
                }
            }
        }
        self.batch.households.retain(|h| {
            if bad_households.contains(&h.id) {
                for m in &h.members {
                    errors.push(RowError {
                        file: self.persons_file.clone(),
                        line: self.person_lines.get(&m.id).copied().unwrap_or(0),
                        field: "household_id".into(),
                        message: format!("household {} was rejected", h.id),
                    });
                }
                false
            } else {
                true
            }
        });
        self.batch
            .loose_persons
            .retain(|p| !bad_loose.contains(&p.id));
        errors.sort_by_key(|e| (e.file.clone(), e.line));
        errors.dedup();
        self.errors.extend(errors);
        self.drop_dangling_merges();
    }

    /// Drops, with an error, the records merged into a person who is no longer in the batch (their
    /// row or household was rejected).
    fn drop_dangling_merges(&mut self) {
        let present: HashSet<PersonId> = self
            .batch
            .households
            .iter()
            .flat_map(|h| &h.members)
            .chain(&self.batch.loose_persons)
            .map(|p| p.id)
            .collect();
        let mut errors = Vec::new();
        self.batch.loose_persons.retain(|p| match p.merged_into {
            Some(target) if !present.contains(&target) => {
                errors.push(RowError {
                    file: self.persons_file.clone(),
                    line: self.person_lines.get(&p.id).copied().unwrap_or(0),
                    field: "merged_into".into(),
                    message: format!("person {target} was rejected"),
                });
                false
            }
            _ => true,
        });
        self.errors.extend(errors);
    }
}

/// The result of an import run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub household_rows: u64,
    pub person_rows: u64,
    pub households_written: u64,
    pub persons_written: u64,
    pub errors: Vec<RowError>,
}

/// Reads, checks and writes an import. Without `skip_invalid`, any rejected row means nothing is
/// written; with it, the valid rows are written and the rejected ones reported.
pub async fn import_registry(
    store: &dyn RegistryStore,
    source: &ImportSource,
    change: &Change,
    skip_invalid: bool,
    progress: &dyn Progress,
) -> Result<ImportReport, ExchangeError> {
    let mut parsed = read_registry(source, change, progress)?;
    let mut written = (0, 0);
    // A conflict round removes rows; a second round can only find fewer. Bounded all the same.
    for _ in 0..3 {
        if !parsed.errors.is_empty() && !skip_invalid {
            break;
        }
        match store.import_batch(&parsed.batch, change, progress).await? {
            ImportOutcome::Written {
                households,
                persons,
            } => {
                written = (households, persons);
                break;
            }
            ImportOutcome::Conflicts(conflicts) => parsed.reject_conflicts(&conflicts),
        }
    }
    Ok(ImportReport {
        household_rows: parsed.household_rows,
        person_rows: parsed.person_rows,
        households_written: written.0,
        persons_written: written.1,
        errors: parsed.errors,
    })
}

/// Writes the rejected rows as CSV: `file,line,field,message`.
pub fn write_report(path: &Path, errors: &[RowError]) -> Result<(), ExchangeError> {
    let mut w = csv::Writer::from_path(path).map_err(|e| file_error(path, e))?;
    for e in errors {
        w.serialize(e).map_err(|e| file_error(path, e))?;
    }
    w.flush().map_err(|e| file_error(path, e))
}

fn household_record(id: HouseholdId, d: &HouseholdData) -> [String; 13] {
    [
        id.to_string(),
        d.commune_code.clone(),
        d.area.map(|a| a.as_str()).unwrap_or("").to_string(),
        d.address.clone(),
        d.dwelling_type.as_str().to_string(),
        d.tenure.as_str().to_string(),
        d.rooms.to_string(),
        d.water_spending.to_string(),
        d.electricity_spending.to_string(),
        d.phone_spending.to_string(),
        d.gas_spending.to_string(),
        d.assets
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(";"),
        d.declared_income.to_string(),
    ]
}

fn person_record(p: &Person) -> [String; 15] {
    let d = &p.data;
    [
        p.id.to_string(),
        p.household_id.map(|h| h.to_string()).unwrap_or_default(),
        d.relation.as_str().to_string(),
        d.first_name.clone(),
        d.last_name.clone(),
        d.first_name_ar.clone().unwrap_or_default(),
        d.last_name_ar.clone().unwrap_or_default(),
        d.sex.as_str().to_string(),
        d.birth_date.to_string(),
        d.national_id
            .as_ref()
            .map(|n| n.to_string())
            .unwrap_or_default(),
        d.disability.as_str().to_string(),
        d.schooling.as_str().to_string(),
        d.occupation.as_str().to_string(),
        d.phone.as_ref().map(|n| n.to_string()).unwrap_or_default(),
        p.merged_into.map(|m| m.to_string()).unwrap_or_default(),
    ]
}

const EXPORT_PAGE: u32 = 10_000;

/// Who takes personal data out of the registry in bulk (an export, a backup), and why.
#[derive(Debug, Clone)]
pub struct Disclosure {
    pub actor: String,
    pub purpose: String,
    pub at: time::OffsetDateTime,
}

impl Disclosure {
    /// Records it: an event in the audit chain and an entry of the access log for the whole
    /// registry.
    pub async fn record(&self, store: &dyn RegistryStore, action: &str) -> Result<(), StoreError> {
        store
            .append_audit_event(
                sanad_domain::audit::AuditEntry {
                    actor: self.actor.clone(),
                    action: action.to_string(),
                    entity_type: "registry".into(),
                    entity_id: "*".into(),
                    details: serde_json::json!({ "purpose": self.purpose }).to_string(),
                },
                self.at,
            )
            .await?;
        store
            .record_access(&crate::store::AccessRecord {
                actor: self.actor.clone(),
                at: self.at,
                entity_type: "registry",
                entity_ids: vec!["*".into()],
                purpose: format!("{action}: {}", self.purpose),
            })
            .await
    }
}

/// Writes `households.csv` and `persons.csv` into `dir`, in id order; returns the counts.
///
/// National ids and phones leave the registry in clear: before anything is written, the export is
/// recorded in the audit chain and in the access log, with who asked for it and why, so that even
/// an export that fails half-way leaves its trace.
pub async fn export_registry(
    store: &dyn RegistryStore,
    dir: &Path,
    disclosure: &Disclosure,
    progress: &dyn Progress,
) -> Result<(u64, u64), ExchangeError> {
    disclosure.record(store, "registry.export").await?;
    std::fs::create_dir_all(dir).map_err(|e| file_error(dir, e))?;
    // Both files are written under temporary names and renamed into place once both are
    // complete: a failed export leaves nothing behind (`pending` removes them when dropped).
    let mut pending = crate::atomic::PendingFiles::new();
    let mut open = |name: &str| -> Result<(PathBuf, csv::Writer<BufWriter<File>>), ExchangeError> {
        let path = dir.join(name);
        let file = pending.create(&path).map_err(|e| file_error(&path, e))?;
        Ok((
            path,
            csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, file)),
        ))
    };
    let (hpath, mut hw) = open("households.csv")?;
    let (ppath, mut pw) = open("persons.csv")?;
    hw.write_record(HOUSEHOLD_COLUMNS)
        .map_err(|e| file_error(&hpath, e))?;
    let mut households = 0u64;
    let mut after = None;
    progress.phase("exporting households", 0);
    loop {
        let page = store.export_households(after, EXPORT_PAGE).await?;
        let Some((last, _)) = page.last() else { break };
        after = Some(*last);
        for (id, data) in &page {
            hw.write_record(household_record(*id, data))
                .map_err(|e| file_error(&hpath, e))?;
        }
        households += page.len() as u64;
        progress.advance(households);
    }
    finish_csv(hw, &hpath)?;

    pw.write_record(person_columns())
        .map_err(|e| file_error(&ppath, e))?;
    let mut persons = 0u64;
    let mut after = None;
    progress.phase("exporting persons", 0);
    loop {
        let page = store.export_persons(after, EXPORT_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for p in &page {
            pw.write_record(person_record(p))
                .map_err(|e| file_error(&ppath, e))?;
        }
        persons += page.len() as u64;
        progress.advance(persons);
    }
    finish_csv(pw, &ppath)?;
    pending.commit(true).map_err(|e| file_error(dir, e))?;
    Ok((households, persons))
}

/// Flushes a CSV writer and syncs its file to disk.
fn finish_csv(w: csv::Writer<BufWriter<File>>, path: &Path) -> Result<(), ExchangeError> {
    let file = w
        .into_inner()
        .map_err(|e| file_error(path, e.error()))?
        .into_inner()
        .map_err(|e| file_error(path, e.error()))?;
    file.sync_all().map_err(|e| file_error(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn dates_in_the_common_layouts() {
        assert_eq!(parse_date("1984-03-21"), Some(date!(1984 - 03 - 21)));
        assert_eq!(parse_date("21/03/1984"), Some(date!(1984 - 03 - 21)));
        assert_eq!(parse_date("19840321"), Some(date!(1984 - 03 - 21)));
        assert_eq!(parse_date("1984-02-30"), None);
        assert_eq!(parse_date("84-03-21"), None);
        assert_eq!(parse_date("yesterday"), None);
    }

    #[test]
    fn an_xlsx_workbook_is_read_through_a_column_mapping() {
        use rust_xlsxwriter::Workbook;
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, rows: &[&[&str]]| {
            let mut book = Workbook::new();
            let sheet = book.add_worksheet();
            for (r, row) in rows.iter().enumerate() {
                for (c, cell) in row.iter().enumerate() {
                    // Numbers as numbers, as a spreadsheet user types them.
                    match cell.parse::<f64>() {
                        Ok(n) if !cell.starts_with('0') => {
                            sheet.write_number(r as u32, c as u16, n)
                        }
                        _ => sheet.write_string(r as u32, c as u16, *cell),
                    }
                    .unwrap();
                }
            }
            let path = dir.path().join(name);
            book.save(&path).unwrap();
            path
        };
        let households = write(
            "menages.xlsx",
            &[
                &[
                    "ID", "COMMUNE", "LOGEMENT", "STATUT", "PIECES", "EAU", "ELEC", "TEL", "GAZ",
                    "BIENS", "REVENU",
                ],
                &[
                    "H00000000013",
                    "01.511.01.0",
                    "apartment",
                    "tenant",
                    "3",
                    "50",
                    "120.5",
                    "0",
                    "45",
                    "tv;fridge",
                    "2500",
                ],
            ],
        );
        let persons = write(
            "individus.xlsx",
            &[
                &[
                    "ID",
                    "MENAGE",
                    "LIEN",
                    "PRENOM",
                    "NOM",
                    "SEXE",
                    "NAISSANCE",
                    "CIN",
                    "ECOLE",
                    "ACTIVITE",
                    "GSM",
                ],
                &[
                    "P00000000013",
                    "H00000000013",
                    "head",
                    "Mohamed",
                    "El Idrissi",
                    "H",
                    "03/02/1970",
                    "BK12345",
                    "primary",
                    "employed",
                    "06.61.23.45.67",
                ],
                &[
                    "P00000000021",
                    "H00000000013",
                    "spouse",
                    "Naima",
                    "Ouazzani",
                    "F",
                    "1975-12-24",
                    "",
                    "none",
                    "homemaker",
                    "",
                ],
            ],
        );
        let map: Vec<String> = [
            "households.household_id=ID",
            "commune_code=COMMUNE",
            "dwelling_type=LOGEMENT",
            "tenure=STATUT",
            "rooms=PIECES",
            "water_spending=EAU",
            "electricity_spending=ELEC",
            "phone_spending=TEL",
            "gas_spending=GAZ",
            "assets=BIENS",
            "declared_income=REVENU",
            "person_id=ID",
            "persons.household_id=MENAGE",
            "relation=LIEN",
            "first_name=PRENOM",
            "last_name=NOM",
            "sex=SEXE",
            "birth_date=NAISSANCE",
            "national_id=CIN",
            "schooling=ECOLE",
            "occupation=ACTIVITE",
            "phone=GSM",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let source = ImportSource {
            households,
            persons,
            mapping: HashMap::new(),
        }
        .with_mapping(&map)
        .unwrap();
        let change = Change {
            actor: "test".into(),
            reason: String::new(),
            at: time::macros::datetime!(2026-11-23 10:00 UTC),
        };
        let parsed = read_registry(&source, &change, &crate::store::NoProgress).unwrap();
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let h = &parsed.batch.households[0];
        assert_eq!(h.id.to_string(), "H00000000013");
        assert_eq!(h.data.electricity_spending.to_string(), "120.50");
        assert_eq!(h.data.rooms, 3);
        assert_eq!(h.members.len(), 2);
        assert_eq!(h.members[0].data.birth_date, date!(1970 - 02 - 03));
        assert_eq!(h.members[0].data.sex, Sex::Male);
        assert_eq!(h.members[1].data.birth_date, date!(1975 - 12 - 24));
        assert_eq!(
            h.members[0].data.phone.as_ref().map(|p| p.as_str()),
            Some("+212661234567")
        );
        assert_eq!(h.members[1].data.phone, None);
        let bad = ImportSource::from_dir(dir.path()).with_mapping(&["places.x=Y".into()]);
        assert!(bad.is_err());
    }

    /// `households.csv` with household H00000000013 alone.
    fn one_household_file(dir: &Path) {
        std::fs::write(
            dir.join("households.csv"),
            format!(
                "{}\nH00000000013,01.511.01.0,,,apartment,tenant,3,50,120,0,45,,2500\n",
                HOUSEHOLD_COLUMNS.join(",")
            ),
        )
        .unwrap();
    }

    #[test]
    fn a_bad_phone_is_a_row_error_naming_the_field() {
        let dir = tempfile::tempdir().unwrap();
        one_household_file(dir.path());
        std::fs::write(
            dir.path().join("persons.csv"),
            format!(
                "{}\n\
                 P00000000013,H00000000013,head,Mohamed,Idrissi,,,M,1970-02-03,,none,primary,employed,+212 661-234-567\n\
                 P00000000021,H00000000013,spouse,Naima,Ouazzani,,,F,1975-12-24,,none,none,homemaker,0661 23\n",
                person_columns().join(",")
            ),
        )
        .unwrap();
        let change = Change {
            actor: "test".into(),
            reason: String::new(),
            at: time::macros::datetime!(2026-11-23 10:00 UTC),
        };
        let source = ImportSource::from_dir(dir.path());
        let parsed = read_registry(&source, &change, &crate::store::NoProgress).unwrap();
        assert_eq!(parsed.errors.len(), 1, "{:?}", parsed.errors);
        let e = &parsed.errors[0];
        assert_eq!((e.line, e.field.as_str()), (3, "phone"));
        assert_eq!(e.message, PhoneNumber::EXPECTED);
    }

    #[test]
    fn a_merged_record_points_at_a_person_of_the_file_and_belongs_to_no_household() {
        let dir = tempfile::tempdir().unwrap();
        one_household_file(dir.path());
        let person = |id: &str, household: &str, relation: &str, merged: &str| {
            format!(
                "{id},{household},{relation},Mohamed,Idrissi,,,M,1970-02-03,,none,primary,employed,,{merged}\n"
            )
        };
        let rows = [
            // Line 2: the head; line 3: his earlier record, merged into him.
            person("P00000000013", "H00000000013", "head", ""),
            person("P00000000021", "", "other_relative", "P00000000013"),
            // Line 4: merged but still in a household; line 5: into someone absent;
            // line 6: into a merged record; line 7: into itself; line 8: not an id.
            person("P00000000037", "H00000000013", "child", "P00000000013"),
            person("P00000000045", "", "other_relative", "P00000000059"),
            person("P00000000068", "", "other_relative", "P00000000021"),
            person("P00000000076", "", "other_relative", "P00000000076"),
            person("P00000000084", "", "other_relative", "someone"),
        ];
        std::fs::write(
            dir.path().join("persons.csv"),
            format!("{}\n{}", person_columns().join(","), rows.concat()),
        )
        .unwrap();
        let change = Change {
            actor: "test".into(),
            reason: String::new(),
            at: time::macros::datetime!(2026-11-23 10:00 UTC),
        };
        let parsed = read_registry(
            &ImportSource::from_dir(dir.path()),
            &change,
            &crate::store::NoProgress,
        )
        .unwrap();
        let errors: Vec<(u64, &str)> = parsed
            .errors
            .iter()
            .map(|e| (e.line, e.field.as_str()))
            .collect();
        assert_eq!(
            errors,
            [
                (4, "merged_into"),
                (5, "merged_into"),
                (6, "merged_into"),
                (7, "merged_into"),
                (8, "merged_into")
            ],
            "{:?}",
            parsed.errors
        );
        let merged: Vec<_> = parsed
            .batch
            .loose_persons
            .iter()
            .map(|p| (p.id.to_string(), p.merged_into.map(|m| m.to_string())))
            .collect();
        assert_eq!(
            merged,
            [("P00000000021".to_string(), Some("P00000000013".to_string()))]
        );
    }

    proptest! {
        #[test]
        fn date_parser_never_panics(s in ".{0,20}") {
            let _ = parse_date(&s);
        }
    }
}
