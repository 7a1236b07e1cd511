//! Small shared pieces of the file formats: an output buffer with XML escaping and truncation,
//! amounts and dates as the files spell them, and a reader wrapper that counts lines and checks
//! UTF-8 for the XML reader.

use std::collections::VecDeque;
use std::io::{self, BufRead, Read, Write};

use sanad_domain::money::Amount;
use time::Date;

use crate::ParseError;

/// Bytes waiting to be written; flushed to the underlying writer in large blocks so that a writer
/// given an unbuffered file still streams fast.
pub(crate) struct Out<W: Write> {
    pub(crate) w: W,
    pub(crate) buf: Vec<u8>,
    pub(crate) written: u64,
}

const FLUSH_AT: usize = 1 << 16;

impl<W: Write> Out<W> {
    pub(crate) fn new(w: W) -> Self {
        Out {
            w,
            buf: Vec::with_capacity(FLUSH_AT + 4096),
            written: 0,
        }
    }

    pub(crate) fn raw(&mut self, s: &str) {
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// Writes text escaped for XML content or attribute values, with control characters (which
    /// XML 1.0 forbids, and which would break the one-record-per-line layout) turned into spaces,
    /// cut to at most `max_chars` characters on a character boundary.
    pub(crate) fn xml(&mut self, s: &str, max_chars: usize) {
        let s = truncate_chars(s, max_chars);
        let bytes = s.as_bytes();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let replacement: &[u8] = match b {
                b'&' => b"&amp;",
                b'<' => b"&lt;",
                b'>' => b"&gt;",
                b'"' => b"&quot;",
                0..=0x1f | 0x7f => b" ",
                _ => continue,
            };
            self.buf.extend_from_slice(&bytes[start..i]);
            self.buf.extend_from_slice(replacement);
            start = i + 1;
        }
        self.buf.extend_from_slice(&bytes[start..]);
    }

    pub(crate) fn amount(&mut self, amount: Amount) {
        self.decimal(amount.centimes());
    }

    /// Centimes as a decimal with two places, `1234.50`.
    pub(crate) fn decimal(&mut self, centimes: i64) {
        if centimes < 0 {
            self.buf.push(b'-');
        }
        let c = centimes.unsigned_abs();
        self.uint(c / 100);
        let cents = (c % 100) as u8;
        self.buf
            .extend_from_slice(&[b'.', b'0' + cents / 10, b'0' + cents % 10]);
    }

    pub(crate) fn uint(&mut self, mut n: u64) {
        let mut tmp = [0u8; 20];
        let mut i = tmp.len();
        loop {
            i -= 1;
            tmp[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.buf.extend_from_slice(&tmp[i..]);
    }

    pub(crate) fn date(&mut self, d: Date) {
        let (y, m, day) = (d.year(), u8::from(d.month()), d.day());
        // Years outside 0..=9999 are refused before they reach here.
        let y = y.clamp(0, 9999) as u16;
        self.buf.extend_from_slice(&[
            b'0' + (y / 1000) as u8,
            b'0' + (y / 100 % 10) as u8,
            b'0' + (y / 10 % 10) as u8,
            b'0' + (y % 10) as u8,
            b'-',
            b'0' + m / 10,
            b'0' + m % 10,
            b'-',
            b'0' + day / 10,
            b'0' + day % 10,
        ]);
    }

    /// Hands the buffer to the writer once it is large.
    pub(crate) fn maybe_flush(&mut self) -> io::Result<()> {
        if self.buf.len() >= FLUSH_AT {
            self.flush_buf()?;
        }
        Ok(())
    }

    pub(crate) fn flush_buf(&mut self) -> io::Result<()> {
        self.w.write_all(&self.buf)?;
        self.written += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    pub(crate) fn finish(mut self) -> io::Result<W> {
        self.flush_buf()?;
        self.w.flush()?;
        Ok(self.w)
    }
}

/// The longest prefix of `s` with at most `max_chars` characters.
pub(crate) fn truncate_chars(s: &str, max_chars: usize) -> &str {
    if s.len() <= max_chars {
        return s;
    }
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Reads an amount as the files write it: digits, optionally a `.` and at most two decimals
/// (further decimals are accepted only when they are zeros, as XML decimals may carry them).
/// A `,` is refused: in a machine file it means the producer used a locale format.
pub(crate) fn parse_amount(text: &str) -> Result<Amount, String> {
    let bad = || format!("expected a decimal amount with at most 2 decimals, found {text:?}");
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 12 || !all_digits(whole) || !all_digits(frac) {
        return Err(bad());
    }
    if text.ends_with('.') {
        return Err(bad());
    }
    let (cents, rest) = frac.split_at(frac.len().min(2));
    if rest.bytes().any(|b| b != b'0') {
        return Err(bad());
    }
    let mut centimes: i64 = 0;
    for b in whole.bytes() {
        centimes = centimes * 10 + i64::from(b - b'0');
    }
    let mut c = 0i64;
    for (i, b) in cents.bytes().enumerate() {
        c += i64::from(b - b'0') * if i == 0 { 10 } else { 1 };
    }
    centimes = centimes * 100 + c;
    Amount::from_centimes(centimes).ok_or_else(|| {
        format!("expected an amount below one thousand million dirhams, found {text:?}")
    })
}

/// Reads `YYYY-MM-DD`, and the date part of `YYYY-MM-DDThh:mm:ss...`.
pub(crate) fn parse_date(text: &str) -> Result<Date, String> {
    let bad = || format!("expected a date YYYY-MM-DD, found {text:?}");
    let b = text.as_bytes();
    if b.len() < 10 || (b.len() > 10 && b[10] != b'T') || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Result<u32, String> {
        let mut n = 0u32;
        for &d in &b[r] {
            if !d.is_ascii_digit() {
                return Err(bad());
            }
            n = n * 10 + u32::from(d - b'0');
        }
        Ok(n)
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let month = time::Month::try_from(m as u8).map_err(|_| bad())?;
    Date::from_calendar_date(y as i32, month, d as u8).map_err(|_| bad())
}

/// Wraps the XML reader's input: places the parser's position on its line and checks that the
/// input is UTF-8, remembering the line of the first byte that is not once the parser gets there.
///
/// The parser asks for its buffer and consumes a few bytes many times per element, so that path
/// does nothing but add up: each new buffer is scanned once, when it first shows up, for UTF-8 and
/// for where its newlines are; a line number is worked out only when asked for.
pub(crate) struct LineTracker<R> {
    inner: R,
    state: Utf8Lines,
}

/// What [`LineTracker`] has seen so far; kept apart from the inner reader so that a new buffer can
/// be scanned in place while the inner reader's buffer is borrowed.
struct Utf8Lines {
    /// Bytes consumed by the parser.
    consumed: u64,
    /// Bytes scanned (ahead of `consumed`).
    scanned: u64,
    /// Newlines before the first offset in `newlines`.
    lines_before: u64,
    /// Offsets of the scanned newlines not yet passed by a line query.
    newlines: VecDeque<u64>,
    /// The first bytes of a character cut at the end of the scanned bytes.
    pending: Vec<u8>,
    /// Where the first byte that is not UTF-8 is, and its value, once scanned.
    bad_at: Option<(u64, u8)>,
    /// Its line and value, once the parser has consumed it.
    bad: Option<(u64, u8)>,
}

impl<R: BufRead> LineTracker<R> {
    pub(crate) fn new(inner: R) -> Self {
        LineTracker {
            inner,
            state: Utf8Lines {
                consumed: 0,
                scanned: 0,
                lines_before: 0,
                newlines: VecDeque::new(),
                pending: Vec::with_capacity(4),
                bad_at: None,
                bad: None,
            },
        }
    }

    /// The line the parser is on: that of the last byte it consumed (1-based).
    pub(crate) fn line(&mut self) -> u64 {
        let at = self.state.consumed.saturating_sub(1);
        self.state.line_of(at)
    }

    /// The line and value of the first byte that is not UTF-8, once the parser has reached it.
    pub(crate) fn bad_utf8(&self) -> Option<(u64, u8)> {
        self.state.bad
    }

    /// A multi-byte character cut at the very end of the input is an encoding error too.
    pub(crate) fn at_end(&mut self) {
        let s = &mut self.state;
        if s.bad.is_none() {
            let at = s.consumed.saturating_sub(1);
            if let Some(&first) = s.pending.first() {
                s.bad = Some((s.line_of(at), first));
            } else if let Some((bad_at, byte)) = s.bad_at {
                s.bad = Some((s.line_of(bad_at), byte));
            }
        }
    }
}

impl Utf8Lines {
    /// The line of byte `at`; `at` must not go backwards from one call to the next.
    fn line_of(&mut self, at: u64) -> u64 {
        while let Some(&nl) = self.newlines.front() {
            if nl >= at {
                break;
            }
            self.newlines.pop_front();
            self.lines_before += 1;
        }
        self.lines_before + 1
    }

    /// Scans the part of `buf` (which starts at `consumed`) not scanned yet.
    #[inline]
    fn see(&mut self, buf: &[u8]) {
        let end = self.consumed + buf.len() as u64;
        if end > self.scanned {
            self.scan(buf, end);
        }
    }

    #[cold]
    fn scan(&mut self, buf: &[u8], end: u64) {
        let from = (self.scanned - self.consumed) as usize;
        let fresh = &buf[from..];
        let base = self.scanned;
        self.newlines
            .extend(memchr::memchr_iter(b'\n', fresh).map(|i| base + i as u64));
        self.scanned = end;
        if self.bad_at.is_some() {
            return;
        }
        let mut chunk = fresh;
        let mut at = base;
        // Finish a character cut at the end of the previous buffer.
        while !self.pending.is_empty() && !chunk.is_empty() {
            self.pending.push(chunk[0]);
            chunk = &chunk[1..];
            at += 1;
            match std::str::from_utf8(&self.pending) {
                Ok(_) => self.pending.clear(),
                Err(e) if e.error_len().is_none() && self.pending.len() < 4 => {}
                Err(_) => {
                    let start = at - self.pending.len() as u64;
                    self.bad_at = Some((start, self.pending[0]));
                    self.pending.clear();
                    return;
                }
            }
        }
        if let Err(e) = std::str::from_utf8(chunk) {
            let valid = e.valid_up_to();
            match e.error_len() {
                None => self.pending.extend_from_slice(&chunk[valid..]),
                Some(_) => self.bad_at = Some((at + valid as u64, chunk[valid])),
            }
        }
    }

    #[inline]
    fn consume(&mut self, amt: usize) {
        self.consumed += amt as u64;
        if let Some((at, byte)) = self.bad_at
            && self.bad.is_none()
            && at < self.consumed
        {
            self.bad = Some((self.line_of(at), byte));
        }
    }
}

impl<R: BufRead> Read for LineTracker<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let buf = self.fill_buf()?;
            let n = buf.len().min(out.len());
            out[..n].copy_from_slice(&buf[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LineTracker<R> {
    #[inline]
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let buf = self.inner.fill_buf()?;
        self.state.see(buf);
        Ok(buf)
    }

    #[inline]
    fn consume(&mut self, amt: usize) {
        self.state.consume(amt);
        self.inner.consume(amt);
    }
}

/// A CSV file read record by record with its columns found by name in the header line, its
/// fields decoded as UTF-8 one by one so that an encoding error names its column.
pub(crate) struct CsvInput<R: Read> {
    rdr: csv::Reader<R>,
    rec: csv::ByteRecord,
    columns: &'static [&'static str],
    required: &'static [&'static str],
    index: Vec<Option<usize>>,
    started: bool,
    failed: bool,
    line: u64,
}

impl<R: Read> CsvInput<R> {
    pub(crate) fn new(
        r: R,
        columns: &'static [&'static str],
        required: &'static [&'static str],
    ) -> Self {
        let rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .buffer_capacity(1 << 16)
            .from_reader(r);
        CsvInput {
            rdr,
            rec: csv::ByteRecord::new(),
            columns,
            required,
            index: Vec::new(),
            started: false,
            failed: false,
            line: 1,
        }
    }

    fn read_header(&mut self) -> Result<(), ParseError> {
        let header = self
            .rdr
            .byte_headers()
            .map_err(|e| ParseError::new(1, "header", e.to_string()))?
            .clone();
        let names: Vec<&[u8]> = header.iter().map(trim_bytes).collect();
        self.index = self
            .columns
            .iter()
            .map(|c| names.iter().position(|n| *n == c.as_bytes()))
            .collect();
        for (c, i) in self.columns.iter().zip(&self.index) {
            if i.is_none() && self.required.contains(c) {
                return Err(ParseError::new(
                    1,
                    *c,
                    format!(
                        "the header line has no column {c:?} (expected {})",
                        self.columns.join(",")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Moves to the next record: `None` at the end, its line number, or why it cannot be read.
    /// After a header or I/O error nothing more is read.
    pub(crate) fn advance(&mut self) -> Option<Result<u64, ParseError>> {
        if self.failed {
            return None;
        }
        if !self.started {
            self.started = true;
            if let Err(e) = self.read_header() {
                self.failed = true;
                return Some(Err(e));
            }
        }
        match self.rdr.read_byte_record(&mut self.rec) {
            Ok(false) => None,
            Ok(true) => {
                self.line = self
                    .rec
                    .position()
                    .map_or(self.line + 1, csv::Position::line);
                Some(Ok(self.line))
            }
            Err(e) => {
                let line = e.position().map_or(self.line + 1, csv::Position::line);
                self.line = line;
                let message = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => {
                        format!("expected {expected_len} fields as in the header line, found {len}")
                    }
                    csv::ErrorKind::Io(_) => {
                        self.failed = true;
                        e.to_string()
                    }
                    _ => e.to_string(),
                };
                Some(Err(ParseError::new(line, "record", message)))
            }
        }
    }

    /// The field of column `columns[i]` of the current record, trimmed; empty when the file has
    /// no such (optional) column.
    pub(crate) fn field(&self, i: usize) -> Result<&str, ParseError> {
        let Some(Some(at)) = self.index.get(i) else {
            return Ok("");
        };
        let bytes = trim_bytes(self.rec.get(*at).unwrap_or_default());
        std::str::from_utf8(bytes).map_err(|e| {
            let byte = bytes.get(e.valid_up_to()).copied().unwrap_or_default();
            ParseError::new(
                self.line,
                self.columns[i],
                format!("the file is not UTF-8: byte 0x{byte:02x} in this field"),
            )
        })
    }
}

fn trim_bytes(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

/// Text for a CSV field on one line: line breaks and other control characters become spaces.
pub(crate) fn one_line(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(char::is_control) {
        s.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .into()
    } else {
        s.into()
    }
}

/// Remembers which (outcome, id) pairs a file has already given, and on which line.
///
/// Files have millions of lines, so this avoids one allocation per key: the keys' bytes go one
/// after the other into one arena, and the map goes from a key's 64-bit hash (foldhash, seeded at
/// random per map, so hash floods cannot be planned) to its place in the arena. Two different keys
/// with the same hash are told apart by comparing bytes and the later one kept in a small exact
/// map, so a duplicate is never reported falsely.
#[derive(Default)]
pub(crate) struct Seen {
    hasher: foldhash::fast::RandomState,
    by_hash: std::collections::HashMap<u64, u32, std::hash::BuildHasherDefault<PreHashed>>,
    arena: Vec<u8>,
    /// Per key: its end in the arena (its start is the previous key's end) and its line.
    keys: Vec<(u64, u64)>,
    collided: std::collections::HashMap<Box<[u8]>, u64>,
    key: Vec<u8>,
}

impl Seen {
    /// The line of the earlier record with the same id and outcome tag, if any; else records this one.
    pub(crate) fn check(&mut self, tag: u8, id: &str, line: u64) -> Option<u64> {
        use std::hash::BuildHasher;
        self.key.clear();
        self.key.push(tag);
        self.key.extend_from_slice(id.as_bytes());
        let hash = self.hasher.hash_one(self.key.as_slice());
        self.check_key(hash, line)
    }

    /// [`Seen::check`] for the key in `self.key`, whose hash is `hash`.
    fn check_key(&mut self, hash: u64, line: u64) -> Option<u64> {
        match self.by_hash.get(&hash) {
            Some(&at) => {
                let at = at as usize;
                let start = if at == 0 {
                    0
                } else {
                    self.keys[at - 1].0 as usize
                };
                let (end, first) = self.keys[at];
                if self.arena[start..end as usize] == self.key[..] {
                    return Some(first);
                }
                if let Some(first) = self.collided.get(self.key.as_slice()) {
                    return Some(*first);
                }
                self.collided.insert(self.key.as_slice().into(), line);
                None
            }
            None => {
                // Beyond 4 thousand million keys the exact map takes over.
                let Ok(at) = u32::try_from(self.keys.len()) else {
                    if let Some(first) = self.collided.get(self.key.as_slice()) {
                        return Some(*first);
                    }
                    self.collided.insert(self.key.as_slice().into(), line);
                    return None;
                };
                self.arena.extend_from_slice(&self.key);
                self.keys.push((self.arena.len() as u64, line));
                self.by_hash.insert(hash, at);
                None
            }
        }
    }
}

/// A hasher for keys that are already hashes.
#[derive(Default)]
pub(crate) struct PreHashed(u64);

impl std::hash::Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed with it; this path folds anything else in, for completeness.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn amounts_are_read_strictly() {
        assert_eq!(parse_amount("12.5").unwrap().centimes(), 1250);
        assert_eq!(parse_amount("12").unwrap().centimes(), 1200);
        assert_eq!(parse_amount("0.07").unwrap().centimes(), 7);
        assert_eq!(parse_amount("12.50000").unwrap().centimes(), 1250);
        for bad in [
            "12,5",
            "",
            ".5",
            "12.",
            "-1",
            "+1",
            "1.234",
            "1e3",
            " 1",
            "9999999999999",
        ] {
            assert!(parse_amount(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(
            parse_amount("12,5").unwrap_err(),
            "expected a decimal amount with at most 2 decimals, found \"12,5\""
        );
    }

    #[test]
    fn dates_are_read() {
        assert_eq!(parse_date("2026-01-31").unwrap().to_string(), "2026-01-31");
        assert_eq!(
            parse_date("2026-01-31T10:00:00Z").unwrap().to_string(),
            "2026-01-31"
        );
        assert!(parse_date("2026-02-30").is_err());
        assert!(parse_date("31/01/2026").is_err());
    }

    #[test]
    fn seen_tells_keys_apart() {
        let mut seen = Seen::default();
        assert_eq!(seen.check(b'P', "A1", 2), None);
        assert_eq!(seen.check(b'R', "A1", 3), None);
        assert_eq!(seen.check(b'P', "A11", 4), None);
        assert_eq!(seen.check(b'P', "A1", 5), Some(2));
        assert_eq!(seen.check(b'R', "A1", 6), Some(3));
        assert_eq!(seen.check(b'P', "", 7), None);
        assert_eq!(seen.check(b'P', "", 8), Some(7));
    }

    #[test]
    fn seen_tells_apart_keys_whose_hashes_collide() {
        let mut seen = Seen::default();
        let mut check = |key: &str, line| {
            seen.key.clear();
            seen.key.extend_from_slice(key.as_bytes());
            seen.check_key(42, line)
        };
        assert_eq!(check("PA", 1), None);
        assert_eq!(check("PB", 2), None, "same hash, other key");
        assert_eq!(check("PC", 3), None);
        assert_eq!(check("PA", 4), Some(1));
        assert_eq!(check("PB", 5), Some(2));
        assert_eq!(check("PC", 6), Some(3));
    }

    #[test]
    fn truncation_keeps_characters_whole() {
        assert_eq!(truncate_chars("محمد", 2), "مح");
        assert_eq!(truncate_chars("abc", 5), "abc");
    }
}
