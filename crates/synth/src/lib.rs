//! Synthetic registry data for Sanad: realistic Moroccan households and persons in the CSV layout of
//! `docs/csv-layout.md`, optionally with duplicate person records and the truth that links them.
//!
//! Everything is drawn from ChaCha8 generators seeded from the seed and the index of each chunk of
//! [`CHUNK_HOUSEHOLDS`] households, so the same seed gives the same bytes whatever the number of
//! threads. Chunks are generated and formatted in parallel and written in order.
//!
//! Households are spread over the 1,503 communes in proportion to their 2024 population. A hidden
//! wealth level per household (lower in rural areas and poorer regions) drives the dwelling, the
//! utility bills, the assets and the declared income; household composition, ages, schooling,
//! occupation, disability and identity cards follow Moroccan patterns.
//!
//! `generate` also writes the true consumption of every original household (`consumption.csv`) and a
//! weighted, stratified survey sample of them (`survey.csv`), drawn on their own random stream (see
//! `welfare.rs`), to fit and judge the proxy means test.
//!
//! With a duplicate rate `R > 0`, about `R ×` (original persons) extra person records are added after
//! the originals: mostly whole households registered a second time (same or neighbouring commune of
//! the same province, some members), the rest single persons also listed as a child in their parents'
//! household. `truth.csv` maps every person to the original it stands for.

mod dup;
mod format;
mod household;
mod model;
mod names;
mod nid;
mod places;
mod rng;
mod tables;
mod welfare;

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use sanad_domain::id::MAX_SERIAL;
use serde::Serialize;
use time::Date;

pub use crate::dup::other;
use crate::dup::{DupHousehold, DupNid, DupPerson, Home};
use crate::format::{
    HOUSEHOLDS_HEADER, PERSONS_HEADER, TRUTH_HEADER, push_assets, push_date, push_field,
    push_household_id, push_money, push_person_id, push_u64, render_address,
};
use crate::household::{Ctx, Household, Person};
use crate::nid::{NidRegistry, NidRequest, Prefixes};
use crate::rng::Rand;
use crate::tables::Tables;

/// Households per independently seeded chunk. Part of the output's definition: changing it changes
/// the data a seed gives.
pub const CHUNK_HOUSEHOLDS: u64 = 1024;

/// Upper bound on `GenConfig::households`, so that every identifier fits in 10 digits.
pub const MAX_HOUSEHOLDS: u64 = 1_000_000_000;

/// Chunks generated per round between two writes.
const BATCH_CHUNKS: usize = 16;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GenConfig {
    /// Number of original households (duplicate households come on top).
    pub households: u64,
    pub seed: u64,
    /// Share of persons that get a duplicate record, `0.0..=0.5`.
    pub duplicate_rate: f64,
    /// "Today" for ages and the latest possible birth date.
    pub reference_date: Date,
}

impl GenConfig {
    /// `households` households, no duplicates, reference date 2026-01-01.
    pub fn new(households: u64, seed: u64) -> Self {
        GenConfig {
            households,
            seed,
            duplicate_rate: 0.0,
            reference_date: time::macros::date!(2026 - 01 - 01),
        }
    }

    pub fn validate(&self) -> Result<(), GenError> {
        if self.households == 0 {
            return Err(GenError::NoHouseholds);
        }
        if self.households > MAX_HOUSEHOLDS {
            return Err(GenError::TooManyHouseholds {
                max: MAX_HOUSEHOLDS,
            });
        }
        if !(0.0..=0.5).contains(&self.duplicate_rate) {
            return Err(GenError::DuplicateRate(self.duplicate_rate));
        }
        if !(1900..=9000).contains(&self.reference_date.year()) {
            return Err(GenError::ReferenceDate(self.reference_date));
        }
        Ok(())
    }
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GenSummary {
    /// Rows of `households.csv`: the original households plus the duplicate households.
    pub households: u64,
    /// Rows of `persons.csv`, duplicates included.
    pub persons: u64,
    /// Duplicate person records (rows of `truth.csv` whose entity is another person).
    pub duplicates: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum GenError {
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the number of households must be at least 1")]
    NoHouseholds,
    #[error("too many households: at most {max}")]
    TooManyHouseholds { max: u64 },
    #[error("the duplicate rate must be between 0 and 0.5, got {0}")]
    DuplicateRate(f64),
    #[error("the reference date must lie between the years 1900 and 9000, got {0}")]
    ReferenceDate(Date),
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> GenError + '_ {
    move |source| GenError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes `households.csv`, `persons.csv`, `consumption.csv` (the true consumption of every original
/// household), `survey.csv` (a stratified sample of about 1 % of them, at least 3,000, one row per
/// member) and, when `duplicate_rate > 0`, `truth.csv` into `out_dir` (created if missing). `progress` gets the number of original households written so far, every
/// 16,384 households (16 chunks) and at the end, never more than `config.households`.
///
/// Duplicate records are staged in temporary files inside `out_dir` (removed at the end).
pub fn generate(
    config: &GenConfig,
    out_dir: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<GenSummary, GenError> {
    config.validate()?;
    fs::create_dir_all(out_dir).map_err(io_error(out_dir))?;
    let create = |name: &str| -> Result<Out<BufWriter<File>>, GenError> {
        let path = out_dir.join(name);
        let file = File::create(&path).map_err(io_error(&path))?;
        Ok(Out {
            w: BufWriter::with_capacity(1 << 20, file),
            path,
        })
    };
    let mut households = create("households.csv")?;
    let mut persons = create("persons.csv")?;
    let mut consumption = create("consumption.csv")?;
    let mut survey = create("survey.csv")?;
    let mut truth = if config.duplicate_rate > 0.0 {
        Some(create("truth.csv")?)
    } else {
        None
    };
    let (dup_households, dup_persons) = if config.duplicate_rate > 0.0 {
        (
            Spill::file(out_dir.join(".households.duplicates.tmp"))?,
            Spill::file(out_dir.join(".persons.duplicates.tmp"))?,
        )
    } else {
        (Spill::memory(), Spill::memory())
    };
    let summary = run(
        config,
        Sinks {
            households: &mut households,
            persons: &mut persons,
            truth: truth.as_mut().map(|t| t as &mut dyn OutSink),
            welfare: Some((&mut consumption, &mut survey)),
            dup_households,
            dup_persons,
        },
        progress,
        threads(),
    )?;
    households.finish()?;
    persons.finish()?;
    consumption.finish()?;
    survey.finish()?;
    if let Some(t) = truth.as_mut() {
        t.finish()?;
    }
    Ok(summary)
}

/// Like [`generate`] without the consumption and survey files, into writers (duplicates are staged in memory). `truth` is written whenever it
/// is given (with only identity rows when there are no duplicates); pass `None::<std::io::Sink>` to
/// skip it.
pub fn generate_to_writers<H: Write, P: Write, T: Write>(
    config: &GenConfig,
    households: H,
    persons: P,
    truth: Option<T>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<GenSummary, GenError> {
    generate_to_writers_with_threads(config, households, persons, truth, progress, threads())
}

fn generate_to_writers_with_threads<H: Write, P: Write, T: Write>(
    config: &GenConfig,
    households: H,
    persons: P,
    truth: Option<T>,
    progress: &(dyn Fn(u64) + Sync),
    threads: usize,
) -> Result<GenSummary, GenError> {
    config.validate()?;
    let mut households = Out {
        w: households,
        path: PathBuf::from("households.csv"),
    };
    let mut persons = Out {
        w: persons,
        path: PathBuf::from("persons.csv"),
    };
    let mut truth = truth.map(|w| Out {
        w,
        path: PathBuf::from("truth.csv"),
    });
    let summary = run(
        config,
        Sinks {
            households: &mut households,
            persons: &mut persons,
            truth: truth.as_mut().map(|t| t as &mut dyn OutSink),
            welfare: None,
            dup_households: Spill::memory(),
            dup_persons: Spill::memory(),
        },
        progress,
        threads,
    )?;
    households.finish()?;
    persons.finish()?;
    if let Some(t) = truth.as_mut() {
        t.finish()?;
    }
    Ok(summary)
}

fn threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .min(16)
}

trait OutSink {
    fn put(&mut self, bytes: &[u8]) -> Result<(), GenError>;
}

struct Out<W: Write> {
    w: W,
    path: PathBuf,
}

impl<W: Write> Out<W> {
    fn finish(&mut self) -> Result<(), GenError> {
        self.w.flush().map_err(io_error(&self.path))
    }
}

impl<W: Write> OutSink for Out<W> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), GenError> {
        self.w.write_all(bytes).map_err(io_error(&self.path))
    }
}

/// Duplicate rows wait here until all originals are written.
enum Spill {
    Memory(Vec<u8>),
    File {
        path: PathBuf,
        writer: BufWriter<File>,
        _guard: TempFile,
    },
}

/// Removes a temporary file when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

impl Spill {
    fn memory() -> Self {
        Spill::Memory(Vec::new())
    }

    fn file(path: PathBuf) -> Result<Self, GenError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(io_error(&path))?;
        Ok(Spill::File {
            _guard: TempFile(path.clone()),
            path,
            writer: BufWriter::with_capacity(1 << 20, file),
        })
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), GenError> {
        match self {
            Spill::Memory(v) => {
                v.extend_from_slice(bytes);
                Ok(())
            }
            Spill::File { path, writer, .. } => writer.write_all(bytes).map_err(io_error(path)),
        }
    }

    /// Reads back what was written; the temporary file goes when the reader is dropped.
    fn read_back(self) -> Result<SpillReader, GenError> {
        match self {
            Spill::Memory(v) => Ok(SpillReader::Memory(io::Cursor::new(v))),
            Spill::File {
                path,
                writer,
                _guard,
            } => {
                let mut file = writer
                    .into_inner()
                    .map_err(|e| io_error(&path)(e.into_error()))?;
                file.seek(SeekFrom::Start(0)).map_err(io_error(&path))?;
                Ok(SpillReader::File(
                    BufReader::with_capacity(1 << 20, file),
                    _guard,
                ))
            }
        }
    }
}

enum SpillReader {
    Memory(io::Cursor<Vec<u8>>),
    File(BufReader<File>, TempFile),
}

impl SpillReader {
    fn reader(&mut self) -> &mut dyn BufRead {
        match self {
            SpillReader::Memory(c) => c,
            SpillReader::File(r, _) => r,
        }
    }

    fn path(&self) -> PathBuf {
        match self {
            SpillReader::Memory(_) => PathBuf::from("<memory>"),
            SpillReader::File(_, t) => t.0.clone(),
        }
    }
}

struct Sinks<'a> {
    households: &'a mut dyn OutSink,
    persons: &'a mut dyn OutSink,
    truth: Option<&'a mut dyn OutSink>,
    /// `consumption.csv` and `survey.csv`.
    welfare: Option<(&'a mut dyn OutSink, &'a mut dyn OutSink)>,
    dup_households: Spill,
    dup_persons: Spill,
}

/// One chunk of households, generated independently of the others.
struct Chunk {
    index: u64,
    households: Vec<Household>,
    persons: Vec<Person>,
    dup_households: Vec<DupHousehold>,
    dup_persons: Vec<DupPerson>,
    welfare: welfare::Rows,
    /// Serial of the chunk's first person, minus one.
    person_base: u64,
    /// Serial of the chunk's first duplicate household, minus one.
    dup_household_base: u64,
}

fn generate_chunk(
    ctx: &Ctx<'_>,
    config: &GenConfig,
    design: Option<&welfare::Design>,
    index: u64,
) -> Chunk {
    let first = index * CHUNK_HOUSEHOLDS;
    let n = CHUNK_HOUSEHOLDS.min(config.households - first) as usize;
    let mut rng = Rand::new(config.seed, index, 0);
    let mut persons = Vec::with_capacity(n * 5);
    let households: Vec<Household> = (0..n)
        .map(|_| household::generate(ctx, &mut rng, &mut persons))
        .collect();
    household::assign_phones(
        ctx,
        &households,
        &mut persons,
        &mut Rand::new(config.seed, index, 4),
    );
    let welfare = design.map_or_else(welfare::Rows::default, |d| {
        welfare::rows(
            ctx,
            d,
            first + 1,
            &households,
            &persons,
            &mut Rand::new(config.seed, index, welfare::STREAM),
        )
    });
    let (dup_households, dup_persons) = dup::make_duplicates(
        ctx,
        config.duplicate_rate,
        &households,
        &mut persons,
        &mut Rand::new(config.seed, index, 1),
        &mut Rand::new(config.seed, index, 2),
    );
    Chunk {
        index,
        households,
        persons,
        dup_households,
        dup_persons,
        welfare,
        person_base: 0,
        dup_household_base: 0,
    }
}

/// The state that runs through the chunks in file order: serial counters and identity cards.
struct Sequencer {
    seed: u64,
    originals: u64,
    persons: u64,
    dup_households: u64,
    dup_persons: u64,
    nids: NidRegistry,
}

impl Sequencer {
    fn assign(&mut self, chunk: &mut Chunk) -> Result<(), GenError> {
        chunk.person_base = self.persons;
        self.persons += chunk.persons.len() as u64;
        chunk.dup_household_base = self.originals + self.dup_households;
        self.dup_households += chunk.dup_households.len() as u64;
        self.dup_persons += chunk.dup_persons.len() as u64;
        if self.persons + self.dup_persons > MAX_SERIAL
            || self.originals + self.dup_households > MAX_SERIAL
        {
            return Err(GenError::TooManyHouseholds {
                max: MAX_HOUSEHOLDS,
            });
        }
        for p in &mut chunk.persons {
            if let Some(req) = p.nid_request {
                p.nid = self.nids.issue(req);
            }
        }
        let mut rng = Rand::new(self.seed, chunk.index, 3);
        for d in &mut chunk.dup_persons {
            d.nid = match d.nid_plan {
                DupNid::None => None,
                DupNid::Mistype => chunk.persons[d.entity as usize]
                    .nid
                    .and_then(|n| self.nids.mistype(n, &mut rng)),
                DupNid::Fresh(region) => self.nids.issue(NidRequest {
                    region,
                    digits: 6,
                    pick: rng.u32() as u16,
                }),
            };
        }
        Ok(())
    }
}

#[derive(Default)]
struct ChunkOut {
    households: Vec<u8>,
    persons: Vec<u8>,
    truth: Vec<u8>,
    dup_households: Vec<u8>,
    dup_persons: Vec<u8>,
    welfare: welfare::Rows,
}

#[allow(clippy::too_many_arguments)]
fn push_household_row(
    out: &mut Vec<u8>,
    serial: u64,
    tables: &Tables,
    commune: u32,
    address: &household::Address,
    fields: (model::Dwelling, model::Tenure, u8),
    bills: [u32; 4],
    assets: u16,
    income: u32,
    scratch: &mut Vec<u8>,
) {
    let c = &tables.communes[commune as usize];
    push_household_id(out, serial);
    out.push(b',');
    push_field(out, c.code.as_bytes());
    out.push(b',');
    out.extend_from_slice(c.area.as_str().as_bytes());
    out.push(b',');
    scratch.clear();
    render_address(scratch, address);
    push_field(out, scratch);
    out.push(b',');
    out.extend_from_slice(fields.0.as_str().as_bytes());
    out.push(b',');
    out.extend_from_slice(fields.1.as_str().as_bytes());
    out.push(b',');
    push_u64(out, u64::from(fields.2));
    for b in bills {
        out.push(b',');
        push_money(out, b);
    }
    out.push(b',');
    push_assets(out, assets);
    out.push(b',');
    push_money(out, income);
    out.push(b'\n');
}

/// Everything after `household_id` in a person row.
#[allow(clippy::too_many_arguments)]
fn push_person_tail(
    out: &mut Vec<u8>,
    relation: model::Relation,
    names: [&str; 4],
    sex: model::Sex,
    birth: i32,
    nid: Option<nid::Nid>,
    prefixes: &Prefixes,
    facts: (model::Disability, model::Schooling, model::Occupation),
    phone: Option<u32>,
) {
    out.push(b',');
    out.extend_from_slice(relation.as_str().as_bytes());
    for n in names {
        out.push(b',');
        push_field(out, n.as_bytes());
    }
    out.push(b',');
    out.extend_from_slice(sex.as_str().as_bytes());
    out.push(b',');
    push_date(out, birth);
    out.push(b',');
    if let Some(n) = nid {
        n.write(out, prefixes);
    }
    out.push(b',');
    out.extend_from_slice(facts.0.as_str().as_bytes());
    out.push(b',');
    out.extend_from_slice(facts.1.as_str().as_bytes());
    out.push(b',');
    out.extend_from_slice(facts.2.as_str().as_bytes());
    out.push(b',');
    if let Some(n) = phone {
        // E.164, as the registry exports it.
        out.extend_from_slice(b"+212");
        push_u64(out, u64::from(n));
    }
    // merged_into: a generated person is never merged.
    out.push(b',');
    out.push(b'\n');
}

fn format_chunk(chunk: &Chunk, tables: &Tables, prefixes: &Prefixes, want_truth: bool) -> ChunkOut {
    let mut out = ChunkOut {
        households: Vec::with_capacity(chunk.households.len() * 130),
        persons: Vec::with_capacity(chunk.persons.len() * 120),
        truth: Vec::with_capacity(if want_truth {
            chunk.persons.len() * 26
        } else {
            0
        }),
        ..ChunkOut::default()
    };
    let mut scratch = Vec::with_capacity(128);
    let mut hid = Vec::with_capacity(16);
    let household_serial = |i: usize| chunk.index * CHUNK_HOUSEHOLDS + i as u64 + 1;
    for (i, h) in chunk.households.iter().enumerate() {
        push_household_row(
            &mut out.households,
            household_serial(i),
            tables,
            h.commune,
            &h.address,
            (h.dwelling, h.tenure, h.rooms),
            [h.water, h.electricity, h.phone, h.gas],
            h.assets,
            h.income,
            &mut scratch,
        );
        hid.clear();
        push_household_id(&mut hid, household_serial(i));
        for j in h.first..h.first + h.len {
            let p = &chunk.persons[j as usize];
            let serial = chunk.person_base + u64::from(j) + 1;
            let start = out.persons.len();
            push_person_id(&mut out.persons, serial);
            if want_truth {
                let id = &out.persons[start..];
                out.truth.extend_from_slice(id);
                out.truth.push(b',');
                out.truth.extend_from_slice(id);
                out.truth.push(b'\n');
            }
            out.persons.push(b',');
            out.persons.extend_from_slice(&hid);
            push_person_tail(
                &mut out.persons,
                p.relation,
                [
                    p.first_latin(),
                    p.last_latin(),
                    p.first_arabic(),
                    p.last_arabic(),
                ],
                p.sex,
                p.birth,
                p.nid,
                prefixes,
                (p.disability, p.schooling, p.occupation),
                p.phone,
            );
        }
    }
    for (k, h) in chunk.dup_households.iter().enumerate() {
        push_household_row(
            &mut out.dup_households,
            chunk.dup_household_base + k as u64 + 1,
            tables,
            h.commune,
            &h.address,
            (h.dwelling, h.tenure, h.rooms),
            [h.water, h.electricity, h.phone, h.gas],
            h.assets,
            h.income,
            &mut scratch,
        );
    }
    for d in &chunk.dup_persons {
        // Staged as `entity serial,household_id,...`; the person id is put in front at the end.
        push_u64(
            &mut out.dup_persons,
            chunk.person_base + u64::from(d.entity) + 1,
        );
        out.dup_persons.push(b',');
        let household = match d.home {
            Home::New(k) => chunk.dup_household_base + u64::from(k) + 1,
            Home::Existing(i) => household_serial(i as usize),
        };
        push_household_id(&mut out.dup_persons, household);
        push_person_tail(
            &mut out.dup_persons,
            d.relation,
            [&d.first, &d.last, &d.first_ar, &d.last_ar],
            d.sex,
            d.birth,
            d.nid,
            prefixes,
            (d.disability, d.schooling, d.occupation),
            d.phone,
        );
    }
    out
}

fn write_round(sinks: &mut Sinks<'_>, outs: &[ChunkOut]) -> Result<(), GenError> {
    for o in outs {
        sinks.households.put(&o.households)?;
        sinks.persons.put(&o.persons)?;
        if let Some(t) = sinks.truth.as_mut() {
            t.put(&o.truth)?;
        }
        sinks.dup_households.put(&o.dup_households)?;
        sinks.dup_persons.put(&o.dup_persons)?;
        if let Some((consumption, survey)) = sinks.welfare.as_mut() {
            consumption.put(&o.welfare.consumption)?;
            survey.put(&o.welfare.survey)?;
        }
    }
    Ok(())
}

/// Maps `f` over `items` on up to `threads` threads, keeping the order.
fn par_map<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if threads <= 1 || items.len() <= 1 {
        return items.iter().map(f).collect();
    }
    let per = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(per)
            .map(|part| s.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

fn par_map_mut<T: Send, R: Send>(
    items: Vec<T>,
    threads: usize,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    if threads <= 1 || items.len() <= 1 {
        return items.into_iter().map(f).collect();
    }
    let per = items.len().div_ceil(threads);
    let f = &f;
    let mut parts: Vec<Vec<T>> = Vec::new();
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        parts.push(items.by_ref().take(per).collect());
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| s.spawn(move || part.into_iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

fn run(
    config: &GenConfig,
    mut sinks: Sinks<'_>,
    progress: &(dyn Fn(u64) + Sync),
    threads: usize,
) -> Result<GenSummary, GenError> {
    let tables = Tables::build();
    let ctx = Ctx {
        tables: &tables,
        ref_date: config.reference_date,
        ref_jd: config.reference_date.to_julian_day(),
    };
    let want_truth = sinks.truth.is_some();
    sinks.households.put(HOUSEHOLDS_HEADER.as_bytes())?;
    sinks.persons.put(PERSONS_HEADER.as_bytes())?;
    if let Some(t) = sinks.truth.as_mut() {
        t.put(TRUTH_HEADER.as_bytes())?;
    }
    if let Some((consumption, survey)) = sinks.welfare.as_mut() {
        consumption.put(welfare::CONSUMPTION_HEADER.as_bytes())?;
        survey.put(welfare::SURVEY_HEADER.as_bytes())?;
    }
    let design = sinks
        .welfare
        .is_some()
        .then(|| welfare::Design::new(&tables, config.households));
    let design = design.as_ref();
    let mut seq = Sequencer {
        seed: config.seed,
        originals: config.households,
        persons: 0,
        dup_households: 0,
        dup_persons: 0,
        nids: NidRegistry::new(),
    };
    let n_chunks = config.households.div_ceil(CHUNK_HOUSEHOLDS);
    let mut next = 0u64;
    // Formatted rows of the previous round, written while the next round is generated.
    let mut ready: Vec<ChunkOut> = Vec::new();
    let mut written = 0u64;
    while next < n_chunks {
        let end = (next + BATCH_CHUNKS as u64).min(n_chunks);
        let indices: Vec<u64> = (next..end).collect();
        let ctx = &ctx;
        let (mut chunks, wrote) = std::thread::scope(|s| {
            let worker = s.spawn(|| {
                par_map(&indices, threads, |&i| {
                    generate_chunk(ctx, config, design, i)
                })
            });
            let wrote = write_round(&mut sinks, &ready);
            let chunks = worker
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
            (chunks, wrote)
        });
        wrote?;
        if !ready.is_empty() {
            progress(written);
        }
        for c in &mut chunks {
            seq.assign(c)?;
        }
        let prefixes = &seq.nids.prefixes;
        let tables = &tables;
        ready = par_map_mut(chunks, threads, |mut c| {
            let mut out = format_chunk(&c, tables, prefixes, want_truth);
            out.welfare = std::mem::take(&mut c.welfare);
            out
        });
        next = end;
        written = (next * CHUNK_HOUSEHOLDS).min(config.households);
    }
    write_round(&mut sinks, &ready)?;
    progress(written);

    // The duplicates, after all the originals.
    let mut households = sinks.dup_households.read_back()?;
    let path = households.path();
    let reader = households.reader();
    loop {
        let buf = reader.fill_buf().map_err(io_error(&path))?;
        if buf.is_empty() {
            break;
        }
        let n = buf.len();
        sinks.households.put(buf)?;
        reader.consume(n);
    }
    drop(households);
    let mut staged = sinks.dup_persons.read_back()?;
    let path = staged.path();
    let mut line = Vec::with_capacity(256);
    let mut row = Vec::with_capacity(256);
    let mut truth_row = Vec::with_capacity(32);
    let mut serial = seq.persons;
    let reader = staged.reader();
    loop {
        line.clear();
        if reader
            .read_until(b'\n', &mut line)
            .map_err(io_error(&path))?
            == 0
        {
            break;
        }
        let comma = line.iter().position(|&b| b == b',').unwrap_or(0);
        let entity = line[..comma]
            .iter()
            .fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
        serial += 1;
        row.clear();
        push_person_id(&mut row, serial);
        let id_len = row.len();
        row.extend_from_slice(&line[comma..]);
        sinks.persons.put(&row)?;
        if let Some(t) = sinks.truth.as_mut() {
            truth_row.clear();
            truth_row.extend_from_slice(&row[..id_len]);
            truth_row.push(b',');
            push_person_id(&mut truth_row, entity);
            truth_row.push(b'\n');
            t.put(&truth_row)?;
        }
    }
    progress(config.households);
    Ok(GenSummary {
        households: config.households + seq.dup_households,
        persons: seq.persons + seq.dup_persons,
        duplicates: seq.dup_persons,
    })
}

#[cfg(test)]
mod tests;
