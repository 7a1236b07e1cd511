//! Signed tree heads in the text formats of C2SP: a *checkpoint* (tlog-checkpoint: the origin line,
//! the tree size in decimal, the root hash in base64, each ending in a newline) signed as a *signed
//! note* (signed-note: the text, a blank line, then one line per signature
//! `— <key name> <base64(key id ‖ signature)>`), with Ed25519. The key id is the first four bytes
//! of SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key). Any verifier of those formats reads Sanad's
//! tree heads.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::merkle::Hash;

/// The signature algorithm byte of Ed25519 in signed notes.
const ED25519: u8 = 0x01;
const DASH: &str = "\u{2014} ";

/// What a tree head says: this log (origin), this many leaves, this root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoteError {
    /// The text is not a signed note or not a checkpoint; says which part.
    Malformed(&'static str),
    /// No signature line of the expected key name and key id.
    NoSignature,
    /// A signature of the expected key that does not verify: the note was altered.
    BadSignature,
}

impl std::fmt::Display for NoteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoteError::Malformed(what) => write!(f, "not a signed checkpoint: {what}"),
            NoteError::NoSignature => f.write_str("no signature by the expected key"),
            NoteError::BadSignature => {
                f.write_str("the signature does not match (the tree head was altered)")
            }
        }
    }
}

impl std::error::Error for NoteError {}

impl Checkpoint {
    /// The checkpoint text (the signed body).
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        )
    }

    /// Reads a checkpoint body (extension lines after the root are allowed and ignored).
    pub fn parse(body: &str) -> Result<Checkpoint, NoteError> {
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|l| !l.is_empty())
            .ok_or(NoteError::Malformed("no origin line"))?;
        let size = lines
            .next()
            .filter(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()))
            .filter(|l| l.len() == 1 || !l.starts_with('0'))
            .and_then(|l| l.parse::<u64>().ok())
            .ok_or(NoteError::Malformed("the second line is not a tree size"))?;
        let root = lines
            .next()
            .and_then(|l| B64.decode(l).ok())
            .and_then(|b| Hash::try_from(b).ok())
            .ok_or(NoteError::Malformed(
                "the third line is not a base64 SHA-256 hash",
            ))?;
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
        })
    }
}

/// The signed-note key id of an Ed25519 key under a name.
pub fn key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519]);
    h.update(key.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// The verifier key in the signed-note text form: `name+hex(key id)+base64(0x01 ‖ public key)`.
pub fn verifier_key(name: &str, key: &VerifyingKey) -> String {
    let mut bytes = vec![ED25519];
    bytes.extend_from_slice(key.as_bytes());
    format!(
        "{name}+{}+{}",
        key_id(name, key)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
        B64.encode(bytes)
    )
}

/// Reads a verifier key string back: its name and public key.
pub fn parse_verifier_key(text: &str) -> Result<(String, VerifyingKey), NoteError> {
    // The name holds no '+'; the base64 key may.
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(NoteError::Malformed("a verifier key is name+keyid+key"));
    };
    let bytes = B64
        .decode(key)
        .map_err(|_| NoteError::Malformed("the verifier key is not base64"))?;
    let Some((&ED25519, raw)) = bytes.split_first() else {
        return Err(NoteError::Malformed(
            "the verifier key is not an Ed25519 key",
        ));
    };
    let raw: [u8; 32] = raw
        .try_into()
        .map_err(|_| NoteError::Malformed("the verifier key has the wrong length"))?;
    let key = VerifyingKey::from_bytes(&raw)
        .map_err(|_| NoteError::Malformed("the verifier key is not a valid Ed25519 key"))?;
    let want: String = key_id(name, &key)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if want != id {
        return Err(NoteError::Malformed("the verifier key's id does not match"));
    }
    Ok((name.to_string(), key))
}

/// Signs a checkpoint as a signed note under the key name `name`.
pub fn sign(checkpoint: &Checkpoint, name: &str, key: &SigningKey) -> String {
    let body = checkpoint.body();
    let signature = key.sign(body.as_bytes());
    let mut blob = key_id(name, &key.verifying_key()).to_vec();
    blob.extend_from_slice(&signature.to_bytes());
    format!("{body}\n{DASH}{name} {}\n", B64.encode(blob))
}

/// Checks that `note` carries a valid signature by `key` under `name` and returns its checkpoint.
/// Signatures by other keys are ignored, as the signed-note format says.
pub fn open(note: &str, name: &str, key: &VerifyingKey) -> Result<Checkpoint, NoteError> {
    let Some(split) = note.find("\n\n") else {
        return Err(NoteError::Malformed("no blank line before the signatures"));
    };
    let (body, signatures) = (&note[..split + 1], &note[split + 2..]);
    if !signatures.ends_with('\n') {
        return Err(NoteError::Malformed(
            "the last signature line has no newline",
        ));
    }
    let id = key_id(name, key);
    let mut found = false;
    for line in signatures.lines() {
        let Some(rest) = line.strip_prefix(DASH) else {
            return Err(NoteError::Malformed(
                "a signature line does not start with an em dash",
            ));
        };
        let Some((who, blob)) = rest.split_once(' ') else {
            return Err(NoteError::Malformed("a signature line has no signature"));
        };
        let Ok(blob) = B64.decode(blob) else {
            return Err(NoteError::Malformed("a signature is not base64"));
        };
        if who != name || blob.len() < 4 || blob[..4] != id {
            continue;
        }
        found = true;
        let Ok(sig) = <[u8; 64]>::try_from(&blob[4..]) else {
            return Err(NoteError::BadSignature);
        };
        if key
            .verify(body.as_bytes(), &Signature::from_bytes(&sig))
            .is_err()
        {
            return Err(NoteError::BadSignature);
        }
    }
    if !found {
        return Err(NoteError::NoSignature);
    }
    let checkpoint = Checkpoint::parse(body)?;
    if checkpoint.body() != body && !body.starts_with(&checkpoint.body()) {
        return Err(NoteError::Malformed(
            "the checkpoint is not in canonical form",
        ));
    }
    Ok(checkpoint)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    #[test]
    fn a_signed_checkpoint_opens_with_its_key_and_not_altered() {
        let c = Checkpoint {
            origin: "sanad.example/audit".into(),
            size: 42,
            root: [9u8; 32],
        };
        let note = sign(&c, "sanad.example/audit", &key());
        assert!(note.starts_with("sanad.example/audit\n42\nCQkJ"), "{note}");
        assert!(note.contains("\n\n\u{2014} sanad.example/audit "));
        let vk = key().verifying_key();
        assert_eq!(open(&note, "sanad.example/audit", &vk).unwrap(), c);
        let altered = note.replacen("\n42\n", "\n43\n", 1);
        assert_eq!(
            open(&altered, "sanad.example/audit", &vk),
            Err(NoteError::BadSignature)
        );
        let other = SigningKey::from_bytes(&[8u8; 32]).verifying_key();
        assert_eq!(
            open(&note, "sanad.example/audit", &other),
            Err(NoteError::NoSignature)
        );
        let text = verifier_key("sanad.example/audit", &vk);
        assert_eq!(text.matches('+').count() >= 2, true);
        assert_eq!(
            parse_verifier_key(&text).unwrap(),
            ("sanad.example/audit".to_string(), vk)
        );
    }

    #[test]
    fn key_ids_follow_the_signed_note_rule() {
        // SHA-256("name" ‖ 0x0A ‖ 0x01 ‖ key)[..4], computed independently of `key_id`.
        let vk = key().verifying_key();
        let mut pre = b"log\n\x01".to_vec();
        pre.extend_from_slice(vk.as_bytes());
        let d = Sha256::digest(&pre);
        assert_eq!(key_id("log", &vk), [d[0], d[1], d[2], d[3]]);
    }
}
