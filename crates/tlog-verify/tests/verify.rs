//! The standalone verifier as a third party runs it: on a bundle file, with the published key; it
//! says OK for an intact proof and fails (exit code 1) once one byte of the event, the proof or the
//! signed head changes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sanad_tlog::bundle::{Bundle, ConsistencyBundle, InclusionBundle, encode_hashes};
use sanad_tlog::{leaf, merkle, note};

const ORIGIN: &str = "sanad.example/audit";

fn key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[5u8; 32])
}

fn events(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            leaf::encode([
                leaf::EVENT_TAG,
                "2026-12-01T10:00:00Z",
                "agent.tanger",
                "household.create",
                "household",
                &format!("H{i:011}"),
                "{}",
            ])
        })
        .collect()
}

fn head(leaves: &[merkle::Hash]) -> String {
    let checkpoint = note::Checkpoint {
        origin: ORIGIN.into(),
        size: leaves.len() as u64,
        root: merkle::root(leaves),
    };
    note::sign(&checkpoint, ORIGIN, &key())
}

fn run(bundle: &Bundle, key: Option<&str>) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("proof.json");
    std::fs::write(&path, serde_json::to_string_pretty(bundle).unwrap()).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sanad-tlog-verify"));
    cmd.arg(&path);
    if let Some(k) = key {
        cmd.args(["--key", k]);
    }
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

fn flip(text: &str) -> String {
    let mut bytes = B64.decode(text).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x80;
    B64.encode(bytes)
}

#[test]
fn an_inclusion_proof_holds_and_one_changed_byte_breaks_it() {
    let data = events(11);
    let leaves: Vec<merkle::Hash> = data.iter().map(|d| merkle::leaf_hash(d)).collect();
    let mut nodes: &[merkle::Hash] = &leaves;
    let proof = merkle::inclusion_proof(&mut nodes, 6, 11).unwrap();
    let vkey = note::verifier_key(ORIGIN, &key().verifying_key());
    let good = InclusionBundle {
        event: Default::default(),
        leaf: B64.encode(&data[6]),
        leaf_index: 6,
        tree_size: 11,
        proof: encode_hashes(&proof),
        checkpoint: head(&leaves),
        verifier_key: vkey.clone(),
    };
    let (code, text) = run(&Bundle::Inclusion(good.clone()), Some(&vkey));
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("OK: the event is leaf 6") && text.contains("entity_id: H00000000006"), "{text}");

    let mut bad = good.clone();
    bad.leaf = flip(&bad.leaf);
    assert_eq!(run(&Bundle::Inclusion(bad), Some(&vkey)).0, 1);
    let mut bad = good.clone();
    bad.proof[1] = flip(&bad.proof[1]);
    assert_eq!(run(&Bundle::Inclusion(bad), Some(&vkey)).0, 1);
    let mut bad = good.clone();
    bad.checkpoint = bad.checkpoint.replacen("\n11\n", "\n12\n", 1);
    let (code, text) = run(&Bundle::Inclusion(bad), Some(&vkey));
    assert_eq!(code, 1);
    assert!(text.contains("FAILED"), "{text}");
    // A bundle signed by another key than the published one.
    let other = note::verifier_key(ORIGIN, &ed25519_dalek::SigningKey::from_bytes(&[6u8; 32]).verifying_key());
    assert_eq!(run(&Bundle::Inclusion(good), Some(&other)).0, 1);
}

#[test]
fn a_consistency_proof_holds_and_one_changed_byte_breaks_it() {
    let data = events(13);
    let leaves: Vec<merkle::Hash> = data.iter().map(|d| merkle::leaf_hash(d)).collect();
    let mut nodes: &[merkle::Hash] = &leaves;
    let proof = merkle::consistency_proof(&mut nodes, 5, 13).unwrap();
    let vkey = note::verifier_key(ORIGIN, &key().verifying_key());
    let good = ConsistencyBundle {
        old_size: 5,
        new_size: 13,
        old_checkpoint: head(&leaves[..5]),
        new_checkpoint: head(&leaves),
        proof: encode_hashes(&proof),
        verifier_key: vkey.clone(),
    };
    let (code, text) = run(&Bundle::Consistency(good.clone()), None);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("extends its head of 5 leaves") && text.contains(&vkey), "{text}");
    let mut bad = good.clone();
    bad.proof[0] = flip(&bad.proof[0]);
    assert_eq!(run(&Bundle::Consistency(bad), Some(&vkey)).0, 1);
    // A rewritten log: the new head over other events.
    let mut rewritten = leaves.clone();
    rewritten[2] = merkle::leaf_hash(b"forged");
    let mut bad = good.clone();
    bad.new_checkpoint = head(&rewritten);
    assert_eq!(run(&Bundle::Consistency(bad), Some(&vkey)).0, 1);
}
