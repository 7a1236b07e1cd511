//! Checking a certificate PDF on its own: find the signed payload attached to it, check the
//! signature with the published keys, then render the signed content again and compare bytes.
//!
//! The last step is what makes the whole file, not just the payload, covered by the signature:
//! rendering is deterministic, so a genuine PDF is exactly what its signed content renders to,
//! and a PDF changed anywhere (one byte of the printed text, the QR code, the metadata) is not.
//! Its cost is that a PDF verifies only with the renderer that made it: a new template, font or
//! typst release makes older PDFs fail this step even though their signature still holds (they
//! are then told apart as [`Forgery::Altered`], and the public page can still check the printed
//! id and code against the issuer's records). Keep a renderer version alongside the key id if
//! the templates change.
//!
//! Revocation is not the document's to say: the caller looks the id up in its records and
//! answers "revoked" (with the reason) for a document that is otherwise valid.

use crate::content::Certificate;
use crate::key::KeySet;
use crate::render::{PAYLOAD_FILE, RenderError, render_pdf};
use crate::sign::{PayloadError, SignatureError, Signed};

/// What a PDF turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Signed by a published key and exactly as issued. The caller still checks revocation.
    Valid(Box<Signed>),
    Forged(Forgery),
}

impl Verdict {
    pub fn certificate(&self) -> Option<&Certificate> {
        match self {
            Verdict::Valid(signed) => Some(&signed.certificate),
            Verdict::Forged(_) => None,
        }
    }
}

/// Why a PDF is not a genuine certificate. The messages say nothing about the holder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Forgery {
    #[error("the PDF carries no Sanad signed payload")]
    NoPayload,
    #[error(transparent)]
    Payload(#[from] PayloadError),
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error("the PDF is not what its signed content renders to: it was altered")]
    Altered,
}

/// Checks a PDF alone against the published keys. `base_url` is the one the issuer renders
/// with (it is printed and in the QR code, so it is part of the bytes compared). An `Err` is
/// the verifier's own failure (a bad base URL, a template that no longer compiles), never a
/// judgement on the document.
pub fn verify_pdf(pdf: &[u8], keys: &KeySet, base_url: &str) -> Result<Verdict, RenderError> {
    let Some(payload) = attached_payload(pdf) else {
        return Ok(Verdict::Forged(Forgery::NoPayload));
    };
    let signed = match Signed::from_payload_json(&payload) {
        Ok(s) => s,
        Err(e) => return Ok(Verdict::Forged(Forgery::Payload(e))),
    };
    if let Err(e) = signed.verify(keys) {
        return Ok(Verdict::Forged(Forgery::Signature(e)));
    }
    let again = render_pdf(&signed, base_url)?;
    if again != pdf {
        return Ok(Verdict::Forged(Forgery::Altered));
    }
    Ok(Verdict::Valid(Box::new(signed)))
}

/// The bytes of the attached payload, found without a full PDF parser: the embedded-file stream
/// whose file specification names [`PAYLOAD_FILE`] is looked for by its dictionary keys. Being
/// approximate here is safe because whatever is found only counts if the whole PDF is then
/// byte-for-byte what the signed content renders to.
pub fn attached_payload(pdf: &[u8]) -> Option<Vec<u8>> {
    if !contains(pdf, PAYLOAD_FILE.as_bytes()) {
        return None;
    }
    let mut from = 0;
    while let Some(at) = find(&pdf[from..], b"/EmbeddedFile").map(|i| i + from) {
        from = at + 1;
        let after = at + b"/EmbeddedFile".len();
        // `/EmbeddedFiles` is the catalog's name tree, not a stream.
        if pdf.get(after).is_some_and(|b| b.is_ascii_alphanumeric()) {
            continue;
        }
        if let Some(data) = stream_after(pdf, at) {
            return Some(data);
        }
    }
    None
}

/// The decoded data of the stream whose dictionary holds position `at`.
fn stream_after(pdf: &[u8], at: usize) -> Option<Vec<u8>> {
    let dict_start = rfind(&pdf[..at], b"obj")?;
    let keyword = find(&pdf[at..], b"stream").map(|i| i + at)?;
    let dict = &pdf[dict_start..keyword];
    if contains(dict, b"endobj") {
        return None;
    }
    let length = integer_after(dict, b"/Length")?;
    let mut start = keyword + b"stream".len();
    if pdf.get(start) == Some(&b'\r') {
        start += 1;
    }
    if pdf.get(start) == Some(&b'\n') {
        start += 1;
    }
    let raw = pdf.get(start..start.checked_add(length)?)?;
    if contains(dict, b"/FlateDecode") {
        miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(raw, 1 << 20).ok()
    } else {
        Some(raw.to_vec())
    }
}

fn integer_after(dict: &[u8], key: &[u8]) -> Option<usize> {
    let at = find(dict, key)? + key.len();
    let rest = &dict[at..];
    let digits: Vec<u8> = rest
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take_while(|b| b.is_ascii_digit())
        .copied()
        .collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle).is_some()
}
