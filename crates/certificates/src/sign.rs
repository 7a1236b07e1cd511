//! Signing a certificate's canonical content, the short code printed for people to type, and
//! the small JSON payload that travels inside the PDF (and that a database may store as it is).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signature;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::content::{Certificate, ContentError};
use crate::key::{CertificateKey, KeyId, KeySet};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("the certificate names key {named}, but the signing key is {signer}")]
    KeyMismatch { named: KeyId, signer: KeyId },
    #[error(transparent)]
    Content(#[from] ContentError),
}

/// Why signed content is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("signed with key {0}, which is not among the published keys")]
    UnknownKey(KeyId),
    #[error("the signature does not match the content")]
    BadSignature,
}

/// A certificate and its Ed25519 signature over [`Certificate::canonical`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub certificate: Certificate,
    pub signature: Signature,
}

impl CertificateKey {
    /// Signs the certificate's canonical content. The certificate must name this key (callers
    /// fill `key_id` from [`CertificateKey::key_id`]); `issued_at` is kept in UTC, whole seconds.
    pub fn sign(&self, certificate: &Certificate) -> Result<Signed, SignError> {
        certificate.check()?;
        if &certificate.key_id != self.key_id() {
            return Err(SignError::KeyMismatch {
                named: certificate.key_id.clone(),
                signer: self.key_id().clone(),
            });
        }
        let certificate = certificate.normalized();
        let signature = self.sign_bytes(&certificate.canonical());
        Ok(Signed {
            certificate,
            signature,
        })
    }
}

impl Signed {
    /// Checks the signature with the published key the certificate names, current or retired.
    /// Whether the document was revoked is the caller's to check (it is a database fact, not
    /// something the document can say about itself).
    pub fn verify(&self, keys: &KeySet) -> Result<(), SignatureError> {
        let kid = &self.certificate.key_id;
        let key = keys
            .get(kid)
            .ok_or_else(|| SignatureError::UnknownKey(kid.clone()))?;
        key.key
            .verify_strict(&self.certificate.canonical(), &self.signature)
            .map_err(|_| SignatureError::BadSignature)
    }

    /// The code printed on the document for a person to type on the public page.
    pub fn verification_code(&self) -> VerificationCode {
        VerificationCode::of(self)
    }

    /// The JSON attached to the PDF: `{"alg":"Ed25519","content":"<canonical content>",
    /// "kid":"…","signature":"<base64url>","v":1}`. Also a convenient form to store.
    pub fn to_payload_json(&self) -> String {
        let payload = Payload {
            alg: "Ed25519".into(),
            content: String::from_utf8_lossy(&self.certificate.canonical()).into_owned(),
            kid: self.certificate.key_id.clone(),
            signature: URL_SAFE_NO_PAD.encode(self.signature.to_bytes()),
            v: 1,
        };
        serde_json::to_string(&payload).unwrap_or_default()
    }

    /// Reads a payload written by [`Signed::to_payload_json`]. This checks the form only: the
    /// signature is checked by [`Signed::verify`].
    pub fn from_payload_json(text: &[u8]) -> Result<Signed, PayloadError> {
        let payload: Payload =
            serde_json::from_slice(text).map_err(|e| PayloadError::Malformed(e.to_string()))?;
        if payload.v != 1 || payload.alg != "Ed25519" {
            return Err(PayloadError::Malformed(format!(
                "version {} with {} is not known",
                payload.v, payload.alg
            )));
        }
        let certificate = Certificate::from_canonical(payload.content.as_bytes())?;
        if certificate.key_id != payload.kid {
            return Err(PayloadError::Malformed(
                "the key id outside the content is not the one inside".into(),
            ));
        }
        let signature = URL_SAFE_NO_PAD
            .decode(&payload.signature)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
            .map(|b| Signature::from_bytes(&b))
            .ok_or_else(|| PayloadError::Malformed("the signature is not 64 bytes".into()))?;
        Ok(Signed {
            certificate,
            signature,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("signed payload: {0}")]
    Malformed(String),
    #[error(transparent)]
    Content(#[from] ContentError),
}

/// Sorted keys, like the canonical content, so the attachment's bytes are stable too.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    alg: String,
    content: String,
    kid: KeyId,
    signature: String,
    v: u32,
}

/// Ten characters of Crockford base32 (no I, L, O or U, so nothing reads as another letter),
/// printed `XXXXX-XXXXX`. They are the first 50 bits of SHA-256 over a domain prefix, the id and
/// the signature: only someone who holds the document (or the issuer's database) knows them, and
/// guessing one takes about 2^49 tries, which the public page's rate limit makes hopeless.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VerificationCode(String);

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl VerificationCode {
    fn of(signed: &Signed) -> VerificationCode {
        let mut h = Sha256::new();
        h.update(b"sanad-certificate-code-v1\n");
        h.update(signed.certificate.id.as_str().as_bytes());
        h.update(b"\n");
        h.update(signed.signature.to_bytes());
        let digest = h.finalize();
        let mut bits = digest[..8]
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let mut code = [0u8; 10];
        for slot in code.iter_mut() {
            *slot = CROCKFORD[(bits >> 59) as usize];
            bits <<= 5;
        }
        VerificationCode(String::from_utf8_lossy(&code).into_owned())
    }

    /// The ten characters without the dash, as put in the verify URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// As printed: `XXXXX-XXXXX`.
    pub fn grouped(&self) -> String {
        let (a, b) = self.0.split_at(5);
        format!("{a}-{b}")
    }

    /// What a person typed, read the Crockford way: case, spaces and dashes do not matter,
    /// `I`/`L` read as `1` and `O` as `0`. `None` when it cannot be a code.
    pub fn normalize(typed: &str) -> Option<String> {
        let mut out = String::with_capacity(10);
        for c in typed.chars() {
            let c = match c.to_ascii_uppercase() {
                ' ' | '-' => continue,
                'I' | 'L' => '1',
                'O' => '0',
                c => c,
            };
            if !c.is_ascii() || !CROCKFORD.contains(&(c as u8)) {
                return None;
            }
            out.push(c);
        }
        (out.len() == 10).then_some(out)
    }
}

impl std::fmt::Display for VerificationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.grouped())
    }
}

/// Whether `code`, as typed, is the code of `signed` and `id` its id. The caller looks `signed`
/// up by id in its own records (and checks there whether it was revoked); the comparison takes
/// the same time whatever the code, so the page does not leak how many characters were right.
pub fn verify_code(id: &str, code: &str, signed: &Signed) -> bool {
    let Some(typed) = VerificationCode::normalize(code) else {
        return false;
    };
    let expected = signed.verification_code();
    let same = typed
        .bytes()
        .zip(expected.as_str().bytes())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    same == 0 && signed.certificate.id.as_str() == id
}
