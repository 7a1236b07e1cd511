//! Proof bundles: everything a third party needs to check, with nothing but this crate, that an
//! event is in the log (inclusion) or that the log only grew between two tree heads (consistency):
//! the leaf bytes or the old and new signed tree heads, the proof hashes, and the verifier key
//! that signed the heads. JSON, hashes and bytes in standard base64.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use crate::merkle::{self, Hash};
use crate::note::{self, Checkpoint};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Bundle {
    Inclusion(InclusionBundle),
    Consistency(ConsistencyBundle),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionBundle {
    /// The event's fields, for people; the check reads `leaf`, of which they are a decoding.
    #[serde(default)]
    pub event: BTreeMap<String, String>,
    /// The leaf bytes (the event, see the `leaf` module), base64.
    pub leaf: String,
    pub leaf_index: u64,
    pub tree_size: u64,
    /// The audit path, base64 hashes.
    pub proof: Vec<String>,
    /// The signed tree head of `tree_size` leaves (a C2SP signed checkpoint).
    pub checkpoint: String,
    /// The key that signs the log's heads, `name+keyid+base64(0x01 ‖ Ed25519 key)`.
    pub verifier_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyBundle {
    pub old_size: u64,
    pub new_size: u64,
    pub old_checkpoint: String,
    pub new_checkpoint: String,
    pub proof: Vec<String>,
    pub verifier_key: String,
}

/// What a bundle proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    Included {
        origin: String,
        leaf_index: u64,
        tree_size: u64,
        event: Option<Vec<(&'static str, String)>>,
    },
    Consistent {
        origin: String,
        old_size: u64,
        new_size: u64,
    },
}

pub fn encode_hashes(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(|h| B64.encode(h)).collect()
}

fn decode_hashes(hashes: &[String]) -> Result<Vec<Hash>, String> {
    hashes
        .iter()
        .enumerate()
        .map(|(i, h)| {
            B64.decode(h)
                .ok()
                .and_then(|b| Hash::try_from(b).ok())
                .ok_or_else(|| format!("proof hash {i} is not a base64 SHA-256 hash"))
        })
        .collect()
}

fn head(note_text: &str, vkey: &str, which: &str) -> Result<Checkpoint, String> {
    let (name, key) = note::parse_verifier_key(vkey).map_err(|e| format!("verifier_key: {e}"))?;
    note::open(note_text, &name, &key).map_err(|e| format!("{which}: {e}"))
}

/// Checks a bundle. `trusted`, when given, is the verifier key the log publishes: the bundle must
/// name that key (otherwise a forger could sign heads with a key of their own).
pub fn verify(bundle: &Bundle, trusted: Option<&str>) -> Result<Verified, String> {
    let vkey = match bundle {
        Bundle::Inclusion(b) => &b.verifier_key,
        Bundle::Consistency(b) => &b.verifier_key,
    };
    if let Some(trusted) = trusted
        && trusted.trim() != vkey
    {
        return Err("the bundle's verifier key is not the trusted one".into());
    }
    match bundle {
        Bundle::Inclusion(b) => {
            let c = head(&b.checkpoint, vkey, "checkpoint")?;
            if c.size != b.tree_size {
                return Err(format!(
                    "the checkpoint is of {} leaves, the proof of {}",
                    c.size, b.tree_size
                ));
            }
            let leaf = B64
                .decode(&b.leaf)
                .map_err(|_| "leaf: not base64".to_string())?;
            let proof = decode_hashes(&b.proof)?;
            if !merkle::verify_inclusion(
                b.leaf_index,
                b.tree_size,
                &merkle::leaf_hash(&leaf),
                &proof,
                &c.root,
            ) {
                return Err(format!(
                    "the event is not leaf {} of the signed tree of {} leaves (the event, the proof or the head was altered)",
                    b.leaf_index, b.tree_size
                ));
            }
            Ok(Verified::Included {
                origin: c.origin,
                leaf_index: b.leaf_index,
                tree_size: b.tree_size,
                event: crate::leaf::describe(&leaf),
            })
        }
        Bundle::Consistency(b) => {
            let old = head(&b.old_checkpoint, vkey, "old_checkpoint")?;
            let new = head(&b.new_checkpoint, vkey, "new_checkpoint")?;
            if old.origin != new.origin {
                return Err("the two heads are of different logs".into());
            }
            if (old.size, new.size) != (b.old_size, b.new_size) {
                return Err("the heads' sizes are not the proof's".into());
            }
            let proof = decode_hashes(&b.proof)?;
            if !merkle::verify_consistency(old.size, new.size, &old.root, &new.root, &proof) {
                return Err(format!(
                    "the tree of {} leaves does not extend the tree of {} (the log was rewritten, or the proof or a head altered)",
                    new.size, old.size
                ));
            }
            Ok(Verified::Consistent {
                origin: old.origin,
                old_size: old.size,
                new_size: new.size,
            })
        }
    }
}
