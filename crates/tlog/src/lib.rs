//! Sanad's transparency log, the parts with no I/O: the RFC 6962 Merkle tree and its proofs
//! ([`merkle`]), signed tree heads in the C2SP checkpoint / signed-note formats ([`note`]), the
//! bytes of an audit event as a leaf ([`leaf`]) and the proof bundles that the standalone verifier
//! checks ([`bundle`]). Depends only on sha2, ed25519-dalek, base64 and serde, so that anyone can
//! audit the verifier.

pub mod bundle;
pub mod leaf;
pub mod merkle;
pub mod note;

pub use merkle::Hash;
