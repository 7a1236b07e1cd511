//! Personal identifiers at rest: national ids are stored encrypted (ChaCha20-Poly1305), with a keyed
//! hash (HMAC-SHA256) beside them for look-ups and uniqueness, so that a stolen database file reveals
//! neither. The key lives in a file outside the database and its backups.

use std::path::Path;
use std::sync::Mutex;

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

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
pub struct DataCipher {
    aead: ChaCha20Poly1305,
    lookup: Hmac<Sha256>,
    /// Random bytes for nonces, drawn in batches (a bulk import encrypts a million values).
    pool: Mutex<(Vec<u8>, usize)>,
}

impl std::fmt::Debug for DataCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataCipher(..)")
    }
}

fn derive(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as hmac::digest::KeyInit>::new_from_slice(master)
        .unwrap_or_else(|_| unreachable!());
    mac.update(label);
    mac.finalize().into_bytes().into()
}

impl DataCipher {
    /// Two independent keys (encryption, look-up) derived from one master key.
    pub fn from_master(master: &[u8; 32]) -> DataCipher {
        let enc = derive(master, b"sanad/national-id/encryption/v1");
        let look = derive(master, b"sanad/national-id/lookup/v1");
        DataCipher {
            aead: ChaCha20Poly1305::new((&enc).into()),
            lookup: <Hmac<Sha256> as hmac::digest::KeyInit>::new_from_slice(&look)
                .unwrap_or_else(|_| unreachable!()),
            pool: Mutex::new((Vec::new(), 0)),
        }
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

    /// The keyed hash under which a value is looked up: 128 bits in hex, collision-free in practice
    /// for any national population and half the index size of the full MAC.
    pub fn lookup_hash(&self, value: &str) -> String {
        let mut mac = self.lookup.clone();
        mac.update(value.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
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
        let sealed = self
            .aead
            .encrypt(&Nonce::from(nonce), value.as_bytes())
            .map_err(|_| CryptoError::Decrypt)?;
        let mut out = Vec::with_capacity(NONCE + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(hex::encode(out))
    }

    pub fn decrypt(&self, text: &str) -> Result<String, CryptoError> {
        let bytes = hex::decode(text).map_err(|_| CryptoError::Decrypt)?;
        if bytes.len() < NONCE {
            return Err(CryptoError::Decrypt);
        }
        let (nonce, sealed) = bytes.split_at(NONCE);
        let nonce: [u8; NONCE] = nonce.try_into().map_err(|_| CryptoError::Decrypt)?;
        let plain = self
            .aead
            .decrypt(&Nonce::from(nonce), sealed)
            .map_err(|_| CryptoError::Decrypt)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Decrypt)
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
