//! CSV input with a column mapping, and the pairs and clusters CSV outputs.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

use crate::features::{KeyMap, hash64};
use crate::{DedupError, DedupResult, FIELDS, LEVELS, N_FIELDS, PairStatus, Record};

/// Field name → CSV column name. Fields not in the mapping are looked up under their own name
/// (`id` also as `person_id`, `commune` also as `commune_code`); `id`, `first_name` and `last_name`
/// must be found.
pub type ColumnMapping = HashMap<String, String>;

const KNOWN: [&str; 11] = [
    "id",
    "first_name",
    "last_name",
    "first_name_ar",
    "last_name_ar",
    "sex",
    "birth_date",
    "national_id",
    "commune",
    "household_id",
    "phone",
];
const REQUIRED: [&str; 3] = ["id", "first_name", "last_name"];

fn io_err(path: &str) -> impl FnOnce(std::io::Error) -> DedupError + '_ {
    move |source| DedupError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Reads records from a CSV file (UTF-8, `,`, one header row). Errors name the file, the line and the
/// field: a mapped column missing from the header, a row with the wrong number of fields, a field
/// that is not UTF-8, an empty or repeated id. Values that are merely unusable (a garbage date, an
/// empty name) are kept and treated as missing by the engine, which counts them in its report.
/// Large files are parsed in parallel, in chunks cut between records.
pub fn read_csv(
    path: impl AsRef<Path>,
    mapping: &ColumnMapping,
) -> Result<Vec<Record>, DedupError> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(io_err(&name))?;
    check_mapping(mapping)?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes.as_slice());
    let cols = columns(&mut rdr, &name, mapping)?;
    let body_start = usize::try_from(rdr.position().byte())
        .unwrap_or(bytes.len())
        .min(bytes.len());
    let header_lines = rdr.position().line().saturating_sub(1);
    drop(rdr);
    let chunks = split_records(&bytes[body_start..], rayon::current_num_threads() * 4);
    use rayon::prelude::*;
    let parts: Vec<Result<Rows, DedupError>> = chunks
        .par_iter()
        .map(|&(start, end, lines_before)| {
            let rdr = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(false)
                .from_reader(&bytes[body_start + start..body_start + end]);
            parse_rows(
                rdr,
                &cols,
                &name,
                header_lines + lines_before,
                Some(cols_len(&bytes, body_start)),
            )
        })
        .collect();
    let mut records = Vec::new();
    let mut lines = Vec::new();
    for p in parts {
        let (r, l) = p?;
        records.extend(r);
        lines.extend(l);
    }
    check_unique(&records, &lines, &name)?;
    Ok(records)
}

/// Records read, with the line each starts on.
type Rows = (Vec<Record>, Vec<u64>);

/// The number of fields of the header (every row must have as many).
fn cols_len(bytes: &[u8], body_start: usize) -> usize {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&bytes[..body_start]);
    let mut row = csv::ByteRecord::new();
    match rdr.read_byte_record(&mut row) {
        Ok(true) => row.len(),
        _ => 0,
    }
}

/// Cuts `body` into about `n` chunks at record boundaries (a line break outside quotes). Returns
/// (start, end, line breaks before start).
fn split_records(body: &[u8], n: usize) -> Vec<(usize, usize, u64)> {
    let n = n.max(1);
    if body.len() < (1 << 22) || n == 1 {
        return vec![(0, body.len(), 0)];
    }
    let target = body.len() / n;
    let mut out = Vec::with_capacity(n);
    let (mut start, mut start_lines) = (0usize, 0u64);
    let (mut quoted, mut lines) = (false, 0u64);
    for (i, &c) in body.iter().enumerate() {
        match c {
            b'"' => quoted = !quoted,
            b'\n' => {
                lines += 1;
                if !quoted && i + 1 - start >= target && out.len() + 1 < n {
                    out.push((start, i + 1, start_lines));
                    start = i + 1;
                    start_lines = lines;
                }
            }
            _ => {}
        }
    }
    out.push((start, body.len(), start_lines));
    out
}

fn check_mapping(mapping: &ColumnMapping) -> Result<(), DedupError> {
    for field in mapping.keys() {
        if !KNOWN.contains(&field.as_str()) {
            return Err(DedupError::UnknownField {
                field: field.clone(),
                known: KNOWN.join(", "),
            });
        }
    }
    Ok(())
}

/// [`read_csv`] from any reader, in one thread; `name` is used in the errors.
pub fn read_csv_from<R: Read>(
    reader: R,
    name: &str,
    mapping: &ColumnMapping,
) -> Result<Vec<Record>, DedupError> {
    check_mapping(mapping)?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(reader);
    let cols = columns(&mut rdr, name, mapping)?;
    let (records, lines) = parse_rows(rdr, &cols, name, 0, None)?;
    check_unique(&records, &lines, name)?;
    Ok(records)
}

/// The column of each known field, from the header.
fn columns<R: Read>(
    rdr: &mut csv::Reader<R>,
    name: &str,
    mapping: &ColumnMapping,
) -> Result<[Option<usize>; 11], DedupError> {
    let headers = rdr.byte_headers().map_err(|e| csv_err(name, &e))?.clone();
    let header_names: Vec<String> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let s = String::from_utf8_lossy(h).into_owned();
            if i == 0 {
                s.trim_start_matches('\u{feff}').to_owned()
            } else {
                s
            }
        })
        .collect();
    let find = |col: &str| header_names.iter().position(|h| h == col);
    let mut cols: [Option<usize>; 11] = [None; 11];
    for (k, field) in KNOWN.iter().enumerate() {
        cols[k] = match mapping.get(*field) {
            Some(col) => Some(find(col).ok_or_else(|| DedupError::MissingColumn {
                path: name.to_owned(),
                field: (*field).to_owned(),
                column: col.clone(),
                available: header_names.join(", "),
            })?),
            None => {
                let fallback = match *field {
                    "id" => find("id").or_else(|| find("person_id")),
                    "commune" => find("commune").or_else(|| find("commune_code")),
                    f => find(f),
                };
                if fallback.is_none() && REQUIRED.contains(field) {
                    return Err(DedupError::Unmapped {
                        path: name.to_owned(),
                        field: (*field).to_owned(),
                    });
                }
                fallback
            }
        };
    }
    Ok(cols)
}

/// Reads the rows; `line_offset` is added to the reader's line numbers; `expected_len` checks the
/// number of fields against the header when the reader has none.
fn parse_rows<R: Read>(
    mut rdr: csv::Reader<R>,
    cols: &[Option<usize>; 11],
    name: &str,
    line_offset: u64,
    expected_len: Option<usize>,
) -> Result<Rows, DedupError> {
    let mut records = Vec::new();
    let mut lines = Vec::new();
    let mut row = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut row) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let mut err = csv_err(name, &e);
                if let DedupError::Csv { line, .. } = &mut err {
                    *line += line_offset;
                }
                return Err(err);
            }
        }
        let line = row.position().map_or(0, |p| p.line()) + line_offset;
        if let Some(n) = expected_len
            && row.len() != n
        {
            return Err(DedupError::Csv {
                path: name.to_owned(),
                line,
                problem: format!("{} fields where the header has {n}", row.len()),
            });
        }
        let get = |k: usize| -> Result<Option<&str>, DedupError> {
            let Some(c) = cols[k] else { return Ok(None) };
            let bytes = row.get(c).unwrap_or(b"");
            let s = std::str::from_utf8(bytes).map_err(|e| DedupError::Row {
                path: name.to_owned(),
                line,
                field: KNOWN[k].to_owned(),
                problem: format!(
                    "not valid UTF-8 (byte {} of the field); convert the file to UTF-8",
                    e.valid_up_to() + 1
                ),
            })?;
            let s = s.trim();
            Ok(if s.is_empty() { None } else { Some(s) })
        };
        let id = get(0)?.ok_or_else(|| DedupError::Row {
            path: name.to_owned(),
            line,
            field: "id".into(),
            problem: "empty id".into(),
        })?;
        let owned =
            |k: usize| -> Result<Option<String>, DedupError> { Ok(get(k)?.map(str::to_owned)) };
        records.push(Record {
            id: id.to_owned(),
            first_name: owned(1)?.unwrap_or_default(),
            last_name: owned(2)?.unwrap_or_default(),
            first_name_ar: owned(3)?,
            last_name_ar: owned(4)?,
            sex: get(5)?.and_then(|s| s.chars().next()),
            birth_date: owned(6)?,
            national_id: owned(7)?,
            commune: owned(8)?,
            household_id: owned(9)?,
            phone: owned(10)?,
        });
        lines.push(line);
    }
    Ok((records, lines))
}

/// Every id once: the error names the line of the repeat and of the first occurrence.
fn check_unique(records: &[Record], lines: &[u64], name: &str) -> Result<(), DedupError> {
    let mut seen: KeyMap<u64, usize> = KeyMap::default();
    seen.reserve(records.len());
    for (k, r) in records.iter().enumerate() {
        if let Some(prev) = seen.insert(hash64(r.id.as_bytes()), k)
            && records[prev].id == r.id
        {
            return Err(DedupError::Row {
                path: name.to_owned(),
                line: lines.get(k).copied().unwrap_or(0),
                field: "id".into(),
                problem: format!(
                    "id repeated (first on line {})",
                    lines.get(prev).copied().unwrap_or(0)
                ),
            });
        }
    }
    Ok(())
}

fn csv_err(name: &str, e: &csv::Error) -> DedupError {
    let line = e.position().map_or(0, |p| p.line());
    let problem = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("{len} fields where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { err, .. } => format!("field {} is not valid UTF-8", err.field() + 1),
        csv::ErrorKind::Io(err) => err.to_string(),
        _ => e.to_string(),
    };
    DedupError::Csv {
        path: name.to_owned(),
        line,
        problem,
    }
}

/// Fills `commune` from a households CSV (`household_id` → `commune_code`, or the given columns) for
/// the records whose household is listed there and whose commune is missing. Returns how many
/// records got a commune.
pub fn attach_communes(
    records: &mut [Record],
    households_csv: impl AsRef<Path>,
    household_column: &str,
    commune_column: &str,
) -> Result<usize, DedupError> {
    let path = households_csv.as_ref();
    let name = path.display().to_string();
    let file = File::open(path).map_err(io_err(&name))?;
    let mut rdr =
        csv::ReaderBuilder::new().from_reader(std::io::BufReader::with_capacity(1 << 20, file));
    let headers = rdr.headers().map_err(|e| csv_err(&name, &e))?.clone();
    let col = |c: &str, field: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == c)
            .ok_or_else(|| DedupError::MissingColumn {
                path: name.clone(),
                field: field.to_owned(),
                column: c.to_owned(),
                available: headers.iter().collect::<Vec<_>>().join(", "),
            })
    };
    let (hc, cc) = (
        col(household_column, "household_id")?,
        col(commune_column, "commune")?,
    );
    let mut map: HashMap<String, String> = HashMap::new();
    let mut row = csv::StringRecord::new();
    while rdr.read_record(&mut row).map_err(|e| csv_err(&name, &e))? {
        if let (Some(h), Some(c)) = (row.get(hc), row.get(cc))
            && !c.is_empty()
        {
            map.insert(h.to_owned(), c.to_owned());
        }
    }
    let mut n = 0;
    for r in records.iter_mut().filter(|r| r.commune.is_none()) {
        if let Some(c) = r.household_id.as_ref().and_then(|h| map.get(h)) {
            r.commune = Some(c.clone());
            n += 1;
        }
    }
    Ok(n)
}

/// Writes the scored pairs: `id_l,id_r,match_probability,match_weight`, then for each field its
/// level and weight (`first_name,first_name_weight,…`), then `swapped_names` and `status` (`match` or
/// `review`). Matches and pairs to review are both written, by decreasing probability.
pub fn write_pairs_csv(
    path: impl AsRef<Path>,
    result: &DedupResult,
    records: &[Record],
) -> Result<(), DedupError> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let file = File::create(path).map_err(io_err(&name))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    write_pairs(&mut w, result, records).map_err(io_err(&name))?;
    w.flush().map_err(io_err(&name))
}

fn csv_field(out: &mut Vec<u8>, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push(b'"');
        out.extend_from_slice(s.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

fn write_pairs<W: Write>(
    w: &mut W,
    result: &DedupResult,
    records: &[Record],
) -> std::io::Result<()> {
    let mut header = String::from("id_l,id_r,match_probability,match_weight");
    for f in FIELDS {
        header.push_str(&format!(",{f},{f}_weight"));
    }
    header.push_str(",swapped_names,status\n");
    w.write_all(header.as_bytes())?;
    let mut order: Vec<usize> = (0..result.pairs.len()).collect();
    order.sort_by(|&x, &y| result.pairs[y].weight.total_cmp(&result.pairs[x].weight));
    let mut line = Vec::with_capacity(256);
    for k in order {
        let p = &result.pairs[k];
        let (Some(a), Some(b)) = (records.get(p.a as usize), records.get(p.b as usize)) else {
            continue;
        };
        line.clear();
        csv_field(&mut line, &a.id);
        line.push(b',');
        csv_field(&mut line, &b.id);
        line.extend_from_slice(format!(",{:.6},{:.3}", p.probability, p.weight).as_bytes());
        for f in 0..N_FIELDS {
            line.extend_from_slice(
                format!(
                    ",{},{:.3}",
                    LEVELS[f][usize::from(p.levels[f])],
                    p.field_weights[f]
                )
                .as_bytes(),
            );
        }
        line.extend_from_slice(if p.swapped_names { b",true" } else { b",false" });
        line.extend_from_slice(if p.status == PairStatus::Match {
            b",match\n"
        } else {
            b",review\n"
        });
        w.write_all(&line)?;
    }
    Ok(())
}

/// Writes `record_id,cluster_id` for the records in clusters of two or more (records alone are not
/// listed); the cluster id is the id of the cluster's first record in input order.
pub fn write_clusters_csv(
    path: impl AsRef<Path>,
    result: &DedupResult,
    records: &[Record],
) -> Result<(), DedupError> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let file = File::create(path).map_err(io_err(&name))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let write = |w: &mut BufWriter<File>| -> std::io::Result<()> {
        w.write_all(b"record_id,cluster_id\n")?;
        let mut line = Vec::with_capacity(64);
        for c in &result.clusters {
            let Some(head) = c.first().and_then(|&i| records.get(i as usize)) else {
                continue;
            };
            for &i in c {
                let Some(r) = records.get(i as usize) else {
                    continue;
                };
                line.clear();
                csv_field(&mut line, &r.id);
                line.push(b',');
                csv_field(&mut line, &head.id);
                line.push(b'\n');
                w.write_all(&line)?;
            }
        }
        w.flush()
    };
    write(&mut w).map_err(io_err(&name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &[u8], mapping: &[(&str, &str)]) -> Result<Vec<Record>, DedupError> {
        let m: ColumnMapping = mapping
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect();
        read_csv_from(text, "in.csv", &m)
    }

    #[test]
    fn reads_with_a_mapping() {
        let csv = "\u{feff}pid,prenom,nom,dob,cin\nP1,Mohamed,El Amrani,03/07/1980,AB123\nP2,Aïcha,\"Ben, Ali\",,\n";
        let r = read(
            csv.as_bytes(),
            &[
                ("id", "pid"),
                ("first_name", "prenom"),
                ("last_name", "nom"),
                ("birth_date", "dob"),
                ("national_id", "cin"),
            ],
        )
        .unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].birth_date.as_deref(), Some("03/07/1980"));
        assert_eq!(r[1].last_name, "Ben, Ali");
        assert_eq!(r[1].national_id, None);
    }

    #[test]
    fn default_names_and_persons_layout() {
        let csv = "person_id,household_id,first_name,last_name,sex,birth_date\nP1,H1,Ali,Tazi,M,1990-01-02\n";
        let r = read(csv.as_bytes(), &[]).unwrap();
        assert_eq!(r[0].id, "P1");
        assert_eq!(r[0].household_id.as_deref(), Some("H1"));
        assert_eq!(r[0].sex, Some('M'));
    }

    #[test]
    fn large_files_are_read_in_parallel_with_exact_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.csv");
        let mut text = String::from("id,first_name,last_name\n");
        for i in 0..300_000 {
            text.push_str(&format!("P{i},\"Ali\nOmar\",Tazi\n"));
        }
        std::fs::write(&path, &text).unwrap();
        let r = read_csv(&path, &ColumnMapping::new()).unwrap();
        assert_eq!(r.len(), 300_000);
        assert_eq!(r[299_999].id, "P299999");
        assert_eq!(r[12_345].first_name, "Ali\nOmar");
        // Each record takes two lines: record k starts on line 2 + 2k.
        text.push_str("P7,Ali,Tazi\n");
        std::fs::write(&path, &text).unwrap();
        let e = read_csv(&path, &ColumnMapping::new())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 600002, field id: id repeated (first on line 16)"),
            "{e}"
        );
        text.push_str("P8000000,Ali\n");
        std::fs::write(&path, &text).unwrap();
        let e = read_csv(&path, &ColumnMapping::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 600003") && e.contains("2 fields"), "{e}");
    }

    #[test]
    fn errors_name_the_line_and_field() {
        let e = read(b"id,first_name\nP1,Ali\n", &[]).unwrap_err();
        assert!(e.to_string().contains("last_name"), "{e}");
        let e = read(
            b"id,first_name,last_name\nP1,Ali,Tazi\n",
            &[("birth_date", "dob")],
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("\"dob\"") && msg.contains("birth_date"),
            "{msg}"
        );
        let e = read(b"id,first_name,last_name\nP1,Ali,Tazi\nP2,Omar\n", &[]).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("line 3") && msg.contains("2 fields"), "{msg}");
        let e = read(
            b"id,first_name,last_name\nP1,Ali,Tazi\nP2,\xE9lodie,Tazi\n",
            &[],
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("line 3") && msg.contains("first_name") && msg.contains("UTF-8"),
            "{msg}"
        );
        let e = read(b"id,first_name,last_name\nP1,Ali,Tazi\n,Omar,Tazi\n", &[]).unwrap_err();
        assert!(e.to_string().contains("line 3, field id: empty id"), "{e}");
        let e = read(b"id,first_name,last_name\nP1,Ali,Tazi\nP1,Omar,Tazi\n", &[]).unwrap_err();
        assert!(
            e.to_string()
                .contains("line 3, field id: id repeated (first on line 2)"),
            "{e}"
        );
        let e = read(b"id,first_name,last_name\n", &[("nickname", "x")]).unwrap_err();
        assert!(e.to_string().contains("nickname"), "{e}");
    }
}
