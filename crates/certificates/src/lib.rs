//! Documents Sanad issues at the end of a workflow (disability card, registration attestation,
//! eligibility attestation, AMO-Tadamon card) as signed, bilingual PDFs.
//!
//! This crate is pure: no database, no HTTP, no clock (the issue time is part of the content).
//! - [`content`]: what a certificate says and its canonical bytes, the only thing that is signed;
//! - [`key`]: the Ed25519 signing key kept in a private file, key ids, and the published
//!   [`KeySet`] (current and retired keys) served at [`key::WELL_KNOWN_PATH`];
//! - [`sign`]: signatures, the 10-character verification code, the payload attached to the PDF;
//! - [`render`]: the PDF, made by typst (Arabic shaped and set right to left) with embedded fonts
//!   and a QR code to the public verify page;
//! - [`verify`]: checking a PDF on its own: valid, or forged and why.
//!
//! Revocation is the caller's: a revoked document still has a valid signature, so the public page
//! looks up the id in its records before answering "valid".

pub mod content;
pub mod key;
pub mod render;
pub mod sign;
pub mod verify;

pub use content::{
    Bilingual, Certificate, ContentError, Decimal, Details, DisabilityDegree, Kind,
    MaskedNationalId, Reference, Text,
};
pub use key::{CertificateKey, KeyError, KeyId, KeySet, PublishedKey, WELL_KNOWN_PATH};
pub use render::{RenderError, render_pdf};
pub use sign::{PayloadError, SignError, SignatureError, Signed, VerificationCode, verify_code};
pub use verify::{Forgery, Verdict, verify_pdf};

/// The verify page's address for a document, as the QR code holds it.
pub fn verify_url(base_url: &str, signed: &Signed) -> String {
    format!(
        "{}/verify/{}?c={}",
        base_url.trim_end_matches('/'),
        signed.certificate.id,
        signed.verification_code().as_str()
    )
}
