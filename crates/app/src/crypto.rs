//! Personal identifiers at rest: national ids are stored encrypted (ChaCha20-Poly1305), with a keyed
//! hash (HMAC-SHA256) beside them for look-ups and uniqueness, so that a stolen database file reveals
//! neither. The key lives in a file outside the database and its backups.

use std::path::Path;
use std::sync::Mutex;

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use ring::hmac;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("data key file {path}: {message}")]
    Key { path: String, message: String },
    #[error("a stored value cannot be decrypted with this installation's key")]
    Decrypt,
    #[error("no randomness available: {0}")]
    Random(String),
}

const NONCE: usize = 12;

/// Encrypts and looks up personal identifiers with one installation key.
///
/// ChaCha20-Poly1305 and HMAC-SHA256 come from `ring` (assembly, a few hundred nanoseconds for an
/// identifier: a bulk import seals millions of them).
pub struct DataCipher {
    aead: LessSafeKey,
    lookup: hmac::Key,
    /// Identifies the key without revealing it (see [`DataCipher::fingerprint`]).
    fingerprint: String,
    /// Random bytes for nonces, drawn in batches (a bulk import encrypts a million values).
    pool: Mutex<(Vec<u8>, usize)>,
}

impl std::fmt::Debug for DataCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataCipher(..)")
    }
}

fn derive(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, master), label);
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

impl DataCipher {
    /// Two independent keys (encryption, look-up) derived from one master key.
    pub fn from_master(master: &[u8; 32]) -> DataCipher {
        let enc = derive(master, b"sanad/national-id/encryption/v1");
        let look = derive(master, b"sanad/national-id/lookup/v1");
        let key = UnboundKey::new(&CHACHA20_POLY1305, &enc).unwrap_or_else(|_| unreachable!());
        let print = derive(master, b"sanad/data-key/fingerprint/v1");
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &print),
            b"sanad installation data key",
        );
        DataCipher {
            aead: LessSafeKey::new(key),
            fingerprint: hex::encode(&tag.as_ref()[..16]),
            lookup: hmac::Key::new(hmac::HMAC_SHA256, &look),
            pool: Mutex::new((Vec::new(), 0)),
        }
    }

    /// 32 random bytes: a new master key.
    pub fn random_master() -> Result<[u8; 32], CryptoError> {
        let mut master = [0u8; 32];
        getrandom::fill(&mut master).map_err(|e| CryptoError::Random(e.to_string()))?;
        Ok(master)
    }

    /// A cipher with a fresh random key (tests, throw-away databases).
    pub fn random() -> Result<DataCipher, CryptoError> {
        let mut master = [0u8; 32];
        getrandom::fill(&mut master).map_err(|e| CryptoError::Random(e.to_string()))?;
        Ok(DataCipher::from_master(&master))
    }

    /// The installation key from `path` (64 hex characters), created readable by its owner only
    /// when missing.
    pub fn load_or_create(path: &Path) -> Result<DataCipher, CryptoError> {
        let err = |message: String| CryptoError::Key {
            path: path.display().to_string(),
            message,
        };
        let master = crate::audit::load_or_create_secret(path).map_err(err)?;
        Ok(DataCipher::from_master(&master))
    }

    /// The key from `path`, or `None` when there is no such file (never creates one).
    pub fn load(path: &Path) -> Result<Option<DataCipher>, CryptoError> {
        let err = |message: String| CryptoError::Key {
            path: path.display().to_string(),
            message,
        };
        Ok(crate::audit::load_secret(path)
            .map_err(err)?
            .map(|master| DataCipher::from_master(&master)))
    }

    /// What the database records of this key: an HMAC of a fixed label under a key derived from the
    /// master key (128 bits, hex). It names the key and reveals nothing of it, nor of the
    /// encryption and look-up keys derived beside it.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The keyed hash under which a value is looked up: 128 bits in hex, collision-free in practice
    /// for any national population and half the index size of the full MAC.
    pub fn lookup_hash(&self, value: &str) -> String {
        let tag = hmac::sign(&self.lookup, value.as_bytes());
        hex::encode(&tag.as_ref()[..16])
    }

    fn nonce(&self) -> Result<[u8; NONCE], CryptoError> {
        let mut pool = self
            .pool
            .lock()
            .map_err(|_| CryptoError::Random("nonce pool poisoned".into()))?;
        if pool.1 + NONCE > pool.0.len() {
            let mut fresh = vec![0u8; NONCE * 1024];
            getrandom::fill(&mut fresh).map_err(|e| CryptoError::Random(e.to_string()))?;
            *pool = (fresh, 0);
        }
        let start = pool.1;
        pool.1 += NONCE;
        let mut nonce = [0u8; NONCE];
        nonce.copy_from_slice(&pool.0[start..start + NONCE]);
        Ok(nonce)
    }

    /// `hex(nonce ‖ ciphertext ‖ tag)`.
    pub fn encrypt(&self, value: &str) -> Result<String, CryptoError> {
        let nonce = self.nonce()?;
        let mut out = Vec::with_capacity(NONCE + value.len() + 16);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(value.as_bytes());
        let tag = {
            let (_, text) = out.split_at_mut(NONCE);
            self.aead
                .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), text)
                .map_err(|_| CryptoError::Decrypt)?
        };
        out.extend_from_slice(tag.as_ref());
        Ok(hex::encode(out))
    }

    pub fn decrypt(&self, text: &str) -> Result<String, CryptoError> {
        let mut bytes = hex::decode(text).map_err(|_| CryptoError::Decrypt)?;
        if bytes.len() < NONCE + 16 {
            return Err(CryptoError::Decrypt);
        }
        let mut nonce = [0u8; NONCE];
        nonce.copy_from_slice(&bytes[..NONCE]);
        let plain = self
            .aead
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::empty(),
                &mut bytes[NONCE..],
            )
            .map_err(|_| CryptoError::Decrypt)?;
        String::from_utf8(plain.to_vec()).map_err(|_| CryptoError::Decrypt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_never_appear_in_clear() {
        let c = DataCipher::random().unwrap();
        let a = c.encrypt("BK123456").unwrap();
        let b = c.encrypt("BK123456").unwrap();
        assert_ne!(a, b, "a fresh nonce each time");
        assert!(!a.contains("BK123456"));
        assert_eq!(c.decrypt(&a).unwrap(), "BK123456");
        assert_eq!(c.lookup_hash("BK123456"), c.lookup_hash("BK123456"));
        assert_ne!(c.lookup_hash("BK123456"), c.lookup_hash("BK123457"));
        let other = DataCipher::random().unwrap();
        assert!(other.decrypt(&a).is_err(), "another key reads nothing");
        assert_ne!(other.lookup_hash("BK123456"), c.lookup_hash("BK123456"));
        let mut tampered = a.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
        assert!(c.decrypt(&String::from_utf8(tampered).unwrap()).is_err());
    }

    /// Values sealed before the switch to `ring` (RustCrypto's ChaCha20-Poly1305 and HMAC) still
    /// open and are still found: the stored format is the standard one.
    #[test]
    fn values_sealed_by_earlier_versions_still_open() {
        let c = DataCipher::from_master(&[7u8; 32]);
        assert_eq!(
            c.decrypt("f4f7e722b52091efc241e5c243cf23f7cc75cc2893755b142725de0c390b89c5449b2ddc")
                .unwrap(),
            "BK123456"
        );
        assert_eq!(
            c.lookup_hash("BK123456"),
            "e2fe1e07fa8a0053cdb0fe320d5d7684"
        );
    }

    #[test]
    fn the_fingerprint_names_the_key_and_reveals_nothing_of_it() {
        let master = [7u8; 32];
        let a = DataCipher::from_master(&master);
        let b = DataCipher::from_master(&master);
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint().len(), 32);
        assert_ne!(
            a.fingerprint(),
            DataCipher::from_master(&[8u8; 32]).fingerprint()
        );
        assert!(!a.fingerprint().contains(&hex::encode(master)[..8]));
        // Not the look-up hash of any value: a fingerprint cannot be matched against a hash column.
        assert_ne!(
            a.fingerprint(),
            a.lookup_hash("sanad installation data key")
        );
    }

    #[test]
    fn a_key_file_is_created_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.key");
        let a = DataCipher::load_or_create(&path).unwrap();
        let b = DataCipher::load_or_create(&path).unwrap();
        assert_eq!(b.decrypt(&a.encrypt("X1").unwrap()).unwrap(), "X1");
        std::fs::write(&path, "not hex").unwrap();
        assert!(DataCipher::load_or_create(&path).is_err());
    }

    #[test]
    fn processes_starting_together_agree_on_one_key() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("data.key");
            let ciphers: Vec<DataCipher> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..8)
                    .map(|_| s.spawn(|| DataCipher::load_or_create(&path).unwrap()))
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let sealed = ciphers[0].encrypt("BK123456").unwrap();
            for c in &ciphers {
                assert_eq!(c.decrypt(&sealed).unwrap(), "BK123456");
            }
            // No temporary file is left behind.
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        }
    }
}
