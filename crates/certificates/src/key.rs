//! The certificate signing key, its id, and the set of public keys published for verification.
//!
//! The secret lives in a file outside the database (64 hex characters, readable by its owner
//! only), like Sanad's other keys: a copy of the database alone cannot issue documents. Rotation
//! means a new key file becomes current and the old public keys stay in the [`KeySet`], marked
//! inactive, so that documents signed before still verify.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// Where the public keys are published, relative to the site's root.
pub const WELL_KNOWN_PATH: &str = "/.well-known/sanad-certificate-keys.json";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("certificate key file {path}: {message}")]
    File { path: String, message: String },
    #[error(
        "certificate key file {path} can be read by other users (mode {mode:o}); \
         run `chmod 600 {path}` and check who may have copied it"
    )]
    Exposed { path: String, mode: u32 },
    #[error("no randomness for a new certificate key: {0}")]
    Random(String),
    #[error("key id: expected 16 lower-case hex characters")]
    BadKeyId,
    #[error("key set: {0}")]
    KeySet(String),
}

/// A key's id: the first 16 hex characters of the SHA-256 of its 32-byte public key. Short
/// enough to print, long enough that two keys of one issuer never share it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId(String);

impl KeyId {
    pub fn of(key: &VerifyingKey) -> KeyId {
        let digest = Sha256::digest(key.to_bytes());
        KeyId(hex::encode(&digest[..8]))
    }

    pub fn parse(text: &str) -> Result<KeyId, KeyError> {
        if text.len() == 16
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(KeyId(text.to_owned()))
        } else {
            Err(KeyError::BadKeyId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for KeyId {
    type Error = KeyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        KeyId::parse(&s)
    }
}

impl From<KeyId> for String {
    fn from(k: KeyId) -> String {
        k.0
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The secret key that signs certificates. `Debug` shows the key id only.
pub struct CertificateKey {
    key: SigningKey,
    id: KeyId,
}

impl std::fmt::Debug for CertificateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateKey")
            .field("key_id", &self.id)
            .finish_non_exhaustive()
    }
}

impl CertificateKey {
    pub fn from_bytes(secret: &[u8; 32]) -> CertificateKey {
        let key = SigningKey::from_bytes(secret);
        let id = KeyId::of(&key.verifying_key());
        CertificateKey { key, id }
    }

    /// A new random key (not saved anywhere).
    pub fn generate() -> Result<CertificateKey, KeyError> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(CertificateKey::from_bytes(&secret))
    }

    /// The key in `path`, created when the file does not exist. A new file is written under a
    /// temporary name with mode 0600, synced, then linked into place, which fails if another
    /// process got there first (and then that process's key is read): two processes starting
    /// together agree on one key, and none reads a half-written file. An existing file that
    /// its group or other users can read is refused rather than used, since the key may
    /// already have leaked.
    pub fn load_or_create(path: &Path) -> Result<CertificateKey, KeyError> {
        if let Some(key) = CertificateKey::load(path)? {
            return Ok(key);
        }
        let file_err = |message: String| KeyError::File {
            path: path.display().to_string(),
            message,
        };
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| KeyError::Random(e.to_string()))?;
        let mut suffix = [0u8; 8];
        getrandom::fill(&mut suffix).map_err(|e| KeyError::Random(e.to_string()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = path.with_file_name(format!(".{name}.{}.tmp", hex::encode(suffix)));
        write_private(&temp, &hex::encode(secret)).map_err(|e| file_err(e.to_string()))?;
        let linked = std::fs::hard_link(&temp, path);
        let _ = std::fs::remove_file(&temp);
        match linked {
            Ok(()) => Ok(CertificateKey::from_bytes(&secret)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => CertificateKey::load(path)?
                .ok_or_else(|| file_err("vanished right after it was created".into())),
            Err(e) => Err(file_err(e.to_string())),
        }
    }

    /// The key in `path`, or `None` when there is no such file (never creates one).
    pub fn load(path: &Path) -> Result<Option<CertificateKey>, KeyError> {
        let file_err = |message: String| KeyError::File {
            path: path.display().to_string(),
            message,
        };
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(file_err(e.to_string())),
        };
        refuse_exposed(path, &meta)?;
        let text = std::fs::read_to_string(path).map_err(|e| file_err(e.to_string()))?;
        let secret = hex::decode(text.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| file_err("expected 64 hex characters".into()))?;
        Ok(Some(CertificateKey::from_bytes(&secret)))
    }

    pub fn key_id(&self) -> &KeyId {
        &self.id
    }

    pub fn public(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    pub(crate) fn sign_bytes(&self, message: &[u8]) -> Signature {
        self.key.sign(message)
    }
}

#[cfg(unix)]
fn refuse_exposed(path: &Path, meta: &std::fs::Metadata) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::Exposed {
            path: path.display().to_string(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_exposed(_path: &Path, _meta: &std::fs::Metadata) -> Result<(), KeyError> {
    Ok(())
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// One published public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedKey {
    pub kid: KeyId,
    pub key: VerifyingKey,
    /// Whether the key signs new documents; retired keys only verify old ones.
    pub active: bool,
}

/// The public keys that verify certificates, current and retired, by id. Its JSON form is what
/// the well-known URL serves:
/// `{"keys":[{"kid":"…","alg":"Ed25519","public_key":"<base64url, no padding>","active":true}]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySet {
    keys: Vec<PublishedKey>,
}

impl KeySet {
    pub fn new() -> KeySet {
        KeySet::default()
    }

    /// Adds a key (or updates whether it is active); the id is computed from the key.
    pub fn insert(&mut self, key: VerifyingKey, active: bool) -> KeyId {
        let kid = KeyId::of(&key);
        match self.keys.iter_mut().find(|k| k.kid == kid) {
            Some(k) => k.active = active,
            None => self.keys.push(PublishedKey {
                kid: kid.clone(),
                key,
                active,
            }),
        }
        kid
    }

    /// The current key and the retired ones.
    pub fn from_keys(
        current: VerifyingKey,
        retired: impl IntoIterator<Item = VerifyingKey>,
    ) -> Self {
        let mut set = KeySet::new();
        for key in retired {
            set.insert(key, false);
        }
        set.insert(current, true);
        set
    }

    pub fn get(&self, kid: &KeyId) -> Option<&PublishedKey> {
        self.keys.iter().find(|k| &k.kid == kid)
    }

    pub fn keys(&self) -> &[PublishedKey] {
        &self.keys
    }

    /// The document served at [`WELL_KNOWN_PATH`], keys sorted by id so that it is stable.
    pub fn to_json(&self) -> String {
        let mut keys: Vec<wire::Key> = self
            .keys
            .iter()
            .map(|k| wire::Key {
                kid: k.kid.clone(),
                alg: wire::ALG.to_owned(),
                public_key: URL_SAFE_NO_PAD.encode(k.key.to_bytes()),
                active: k.active,
            })
            .collect();
        keys.sort_by(|a, b| a.kid.cmp(&b.kid));
        serde_json::to_string(&wire::KeySet { keys }).unwrap_or_default()
    }

    /// Reads a published key set, refusing unknown algorithms, bad keys and ids that are not
    /// the key's own.
    pub fn from_json(text: &str) -> Result<KeySet, KeyError> {
        let bad = |m: String| KeyError::KeySet(m);
        let wire: wire::KeySet = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let mut set = KeySet::new();
        for k in wire.keys {
            if k.alg != wire::ALG {
                return Err(bad(format!(
                    "{}: algorithm {} is not Ed25519",
                    k.kid, k.alg
                )));
            }
            let bytes = URL_SAFE_NO_PAD
                .decode(&k.public_key)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| {
                    bad(format!(
                        "{}: public key is not 32 bytes of base64url",
                        k.kid
                    ))
                })?;
            let key = VerifyingKey::from_bytes(&bytes)
                .map_err(|_| bad(format!("{}: not an Ed25519 public key", k.kid)))?;
            if KeyId::of(&key) != k.kid {
                return Err(bad(format!("{}: the id is not this key's", k.kid)));
            }
            set.insert(key, k.active);
        }
        Ok(set)
    }
}

mod wire {
    use super::*;

    pub(super) const ALG: &str = "Ed25519";

    #[derive(Serialize, Deserialize)]
    pub(super) struct KeySet {
        pub keys: Vec<Key>,
    }

    #[derive(Serialize, Deserialize)]
    pub(super) struct Key {
        pub kid: KeyId,
        pub alg: String,
        pub public_key: String,
        pub active: bool,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("certificate.key");
        let a = CertificateKey::load_or_create(&path).unwrap();
        let b = CertificateKey::load_or_create(&path).unwrap();
        assert_eq!(a.key_id(), b.key_id());
        assert_eq!(a.public(), b.public());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_readable_key_file_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("certificate.key");
        CertificateKey::load_or_create(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = CertificateKey::load_or_create(&path).unwrap_err();
        assert!(
            matches!(err, KeyError::Exposed { mode: 0o644, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("chmod 600"));
    }

    #[test]
    fn a_damaged_key_file_is_an_error_not_a_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("certificate.key");
        write_private(&path, "not hex").unwrap();
        assert!(matches!(
            CertificateKey::load_or_create(&path),
            Err(KeyError::File { .. })
        ));
    }

    #[test]
    fn key_set_round_trips_and_checks_ids() {
        let current = CertificateKey::from_bytes(&[1; 32]);
        let old = CertificateKey::from_bytes(&[2; 32]);
        let set = KeySet::from_keys(current.public(), [old.public()]);
        let json = set.to_json();
        let back = KeySet::from_json(&json).unwrap();
        assert_eq!(back.keys().len(), 2);
        assert!(back.get(current.key_id()).unwrap().active);
        assert!(!back.get(old.key_id()).unwrap().active);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let first = &value["keys"][0];
        assert_eq!(first["alg"], "Ed25519");
        assert_eq!(first["kid"].as_str().unwrap().len(), 16);

        let forged = json.replace(current.key_id().as_str(), old.key_id().as_str());
        assert!(KeySet::from_json(&forged).is_err());
    }

    #[test]
    fn debug_hides_the_secret() {
        let key = CertificateKey::from_bytes(&[7; 32]);
        let shown = format!("{key:?}");
        assert!(shown.contains(key.key_id().as_str()));
        assert!(!shown.contains(&hex::encode([7u8; 32])));
    }
}
