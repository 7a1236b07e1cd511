//! The keys of an installation, on both backends: a second data key or audit key is refused before
//! anything is written; a database from before fingerprints is adopted only by the key that opens
//! it; a data-key rotation reseals everything and the registry works on; an audit-key rotation
//! keeps the old checkpoints trusted; a failed export leaves no file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;

use sanad_app::audit::{LogSigner, integrate_all, trusted_audit_keys, verify};
use sanad_app::crypto::DataCipher;
use sanad_app::exchange::{Disclosure, export_registry};
use sanad_app::keyring::{self, KeyError, KeyKind, KeyOrigin};
use sanad_app::registry::Purpose;
use sanad_app::store::{Change, NoProgress};
use sanad_app::{Actor, Registry, RegistryStore};
use sanad_domain::{
    Amount, DwellingType, HouseholdData, HouseholdInput, MemberInput, NationalId, Occupation,
    PersonData, PhoneNumber, Relation, Schooling, Sex, Tenure,
};
use sanad_storage::testkit::{self, TestDb};
use time::OffsetDateTime;
use time::macros::date;

fn household(name: &str, nid: &str, phone: &str) -> HouseholdInput {
    HouseholdInput {
        data: HouseholdData {
            commune_code: "02.411.01.23".into(),
            area: None,
            address: String::new(),
            dwelling_type: DwellingType::RuralHouse,
            tenure: Tenure::Owner,
            rooms: 2,
            water_spending: Amount::ZERO,
            electricity_spending: Amount::parse("60").unwrap(),
            phone_spending: Amount::ZERO,
            gas_spending: Amount::parse("40").unwrap(),
            assets: Default::default(),
            declared_income: Amount::parse("900").unwrap(),
        },
        members: vec![MemberInput {
            person_id: None,
            data: PersonData {
                relation: Relation::Head,
                first_name: name.into(),
                last_name: "Ouchen".into(),
                first_name_ar: None,
                last_name_ar: None,
                sex: Sex::Female,
                birth_date: date!(1961 - 01 - 01),
                national_id: Some(NationalId::parse(nid).unwrap()),
                phone: Some(PhoneNumber::parse(phone).unwrap()),
                disability: sanad_domain::Disability::None,
                schooling: Schooling::None,
                occupation: Occupation::Homemaker,
            },
        }],
    }
}

fn agent() -> Actor {
    Actor::system("agent")
}

fn purpose() -> Purpose {
    Purpose("test".into())
}

/// Folds the waiting audit events into the tree and signs the head with `key` (the integrator's
/// work), until nothing waits (on PostgreSQL an event is taken once every older transaction of the
/// server has ended, other tests' included: a few rounds, bounded); the size of the latest head.
async fn sign_head(
    db: &TestDb,
    key: &ed25519_dalek::SigningKey,
) -> Result<u64, sanad_app::StoreError> {
    let signer = LogSigner::new(key.clone(), sanad_app::audit::DEFAULT_ORIGIN);
    for _ in 0..1000 {
        integrate_all(db.store.as_ref(), &signer, now()).await?;
        if db.store.pending_events().await?.count == 0 {
            return Ok(db
                .store
                .tree_head(None)
                .await?
                .map(|h| h.size)
                .unwrap_or_default());
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("events still waiting for the integrator after 10 s");
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn write_key(path: &Path, master: &[u8; 32]) {
    std::fs::write(path, hex::encode(master)).unwrap();
}

/// The same test database, sealing with another key.
fn store_with(db: &TestDb, cipher: DataCipher) -> Arc<dyn RegistryStore> {
    let cipher = Arc::new(cipher);
    match (&db.sqlite, &db.postgres) {
        (Some(s), _) => Arc::new(s.with_cipher(cipher)),
        (_, Some(p)) => Arc::new(p.with_cipher(cipher)),
        _ => unreachable!(),
    }
}

async fn sql(db: &TestDb, statement: &str) {
    let statement = sqlx::AssertSqlSafe(statement.to_string());
    match (&db.sqlite, &db.postgres) {
        (Some(s), _) => {
            sqlx::query(statement).execute(s.pool()).await.unwrap();
        }
        (_, Some(p)) => {
            sqlx::query(statement).execute(p.pool()).await.unwrap();
        }
        _ => unreachable!(),
    }
}

async fn persons(store: &dyn RegistryStore) -> usize {
    store.export_persons(None, 100_000).await.unwrap().len()
}

/// The story: started with another key file, the server must not seal a second key's
/// values beside the first's. The second key is refused, with both fingerprints, and nothing is
/// written; a missing key file is not created for a database that seals data.
async fn a_second_key_is_refused_and_nothing_is_written(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let keyring = db.keyring.as_ref();
    let good = dir.path().join("data.key");
    write_key(&good, &db.data_key);
    let (cipher, origin) = keyring::open_data_key(keyring, &good, None, now())
        .await
        .unwrap();
    assert_eq!(origin, KeyOrigin::Existing);
    let reg = Registry::new(db.store.clone());
    reg.register_household(&agent(), &household("Itto", "QZ100001", "0661000001"), "")
        .await
        .unwrap();

    // Another directory, another (new) key file: refused, and no file is created.
    let elsewhere = dir.path().join("elsewhere").join("data.key");
    std::fs::create_dir_all(elsewhere.parent().unwrap()).unwrap();
    let err = keyring::open_data_key(keyring, &elsewhere, None, now())
        .await
        .unwrap_err();
    assert!(err.is_refusal(), "{err}");
    assert!(matches!(err, KeyError::Missing { .. }), "{err}");
    assert!(
        !elsewhere.exists(),
        "no key file is created for a database with sealed data"
    );
    let text = err.to_string();
    assert!(
        text.contains(cipher.fingerprint()) && text.contains("elsewhere"),
        "{text}"
    );

    // An existing but different key: refused, naming the file and both fingerprints, in one line.
    let other = DataCipher::random_master().unwrap();
    write_key(&elsewhere, &other);
    let err = keyring::open_data_key(keyring, &elsewhere, None, now())
        .await
        .unwrap_err();
    assert!(err.is_refusal());
    let text = err.to_string();
    assert!(
        text.contains(&elsewhere.display().to_string())
            && text.contains(cipher.fingerprint())
            && text.contains(DataCipher::from_master(&other).fingerprint()),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1);
    assert_eq!(persons(db.store.as_ref()).await, 1, "nothing written");
    let keys = keyring.installation_keys().await.unwrap();
    assert_eq!(keys.len(), 1, "the second key is not recorded: {keys:?}");

    // The audit key: created and recorded on first use; another is refused, and a missing file is
    // not created once checkpoints exist.
    let audit = dir.path().join("audit.key");
    let (key, origin) = keyring::open_audit_key(keyring, &audit, None, true, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(origin, KeyOrigin::Created);
    assert!(sign_head(db, &key).await.unwrap() > 0);
    let other_audit = dir.path().join("elsewhere").join("audit.key");
    let err = keyring::open_audit_key(keyring, &other_audit, None, true, now())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            KeyError::Missing {
                kind: KeyKind::Audit,
                ..
            }
        ),
        "{err}"
    );
    assert!(!other_audit.exists());
    sanad_app::audit::load_or_create_key(&other_audit).unwrap();
    let err = keyring::open_audit_key(keyring, &other_audit, None, true, now())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            KeyError::Mismatch {
                kind: KeyKind::Audit,
                ..
            }
        ),
        "{err}"
    );
    // A verifier without the key file may still open the database.
    let missing = dir.path().join("nowhere.key");
    assert!(
        keyring::open_audit_key(keyring, &missing, None, false, now())
            .await
            .unwrap()
            .is_none()
    );
}

/// A database written before fingerprints existed (sealed data, nothing recorded) is adopted by the
/// key that opens its values, and only by it; an older default file is recognised too.
async fn a_database_from_before_fingerprints_is_adopted_only_by_its_key(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let keyring = db.keyring.as_ref();
    Registry::new(db.store.clone())
        .register_household(&agent(), &household("Tudert", "QZ100002", "0661000002"), "")
        .await
        .unwrap();
    assert!(keyring.installation_keys().await.unwrap().is_empty());

    let wrong = dir.path().join("wrong.key");
    write_key(&wrong, &DataCipher::random_master().unwrap());
    let err = keyring::open_data_key(keyring, &wrong, None, now())
        .await
        .unwrap_err();
    assert!(
        err.is_refusal() && err.to_string().contains("another key"),
        "{err}"
    );
    assert!(keyring.installation_keys().await.unwrap().is_empty());

    // The configured file is missing; the legacy one next to the database is the right key.
    let legacy = dir.path().join("sanad-data.key");
    write_key(&legacy, &db.data_key);
    let configured = dir.path().join("sanad.db.data.key");
    let (cipher, origin) = keyring::open_data_key(keyring, &configured, Some(&legacy), now())
        .await
        .unwrap();
    assert_eq!(origin, KeyOrigin::Legacy(legacy.clone()));
    assert!(!configured.exists());
    let keys = keyring.installation_keys().await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].fingerprint, cipher.fingerprint());
    assert!(keys[0].active);
}

/// Rotation of the data key: every national id and phone (persons and version snapshots) is
/// resealed, the look-ups follow, the export and the audit chain are whole, and the old key is
/// refused afterwards.
async fn after_a_data_key_rotation_search_export_and_audit_all_work(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let keyring = db.keyring.as_ref();
    let old_file = dir.path().join("data.key");
    write_key(&old_file, &db.data_key);
    let (old, _) = keyring::open_data_key(keyring, &old_file, None, now())
        .await
        .unwrap();
    let reg = Registry::new(db.store.clone());
    let a = reg
        .register_household(&agent(), &household("Fadma", "QZ100003", "0661000003"), "")
        .await
        .unwrap();
    reg.register_household(&agent(), &household("Yamna", "QZ100004", "0661000004"), "")
        .await
        .unwrap();
    let mut input = household("Fadma", "QZ100003", "0661000033");
    input.members[0].person_id = Some(a.members[0].id);
    reg.update_household(&agent(), a.id, 1, &input, "new phone")
        .await
        .unwrap();
    let before = store_with(db, DataCipher::from_master(&db.data_key))
        .export_persons(None, 100)
        .await
        .unwrap();

    let new_master = DataCipher::random_master().unwrap();
    let new = DataCipher::from_master(&new_master);
    let change = Change {
        actor: "admin".into(),
        reason: "rotation".into(),
        at: now(),
    };
    let done = keyring
        .rotate_data_key(&old, &new, &change, &NoProgress)
        .await
        .unwrap();
    assert_eq!((done.persons, done.versions), (2, 3));
    assert_eq!(
        keyring.count_sealed(&new).await.unwrap(),
        sanad_app::keyring::SealedCount {
            opened: 2 * 2 + 3 * 2,
            refused: 0
        },
        "every value opens under the new key"
    );
    assert_eq!(
        keyring.count_sealed(&old).await.unwrap().opened,
        0,
        "none under the old"
    );

    let store = store_with(db, DataCipher::from_master(&new_master));
    let reg = Registry::new(store.clone());
    let found = reg
        .search_persons(&agent(), "QZ100004", None, 5, &purpose())
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "found by national id");
    let found = reg
        .search_persons_by(&agent(), "", Some("+212 661 000 033"), None, 5, &purpose())
        .await
        .unwrap();
    assert_eq!(found[0].id, a.members[0].id, "found by phone");
    let history = reg
        .household_history(&agent(), a.id, &purpose())
        .await
        .unwrap();
    assert_eq!(
        history[0].snapshot.members[0]
            .data
            .phone
            .as_ref()
            .unwrap()
            .as_str(),
        "+212661000003",
        "old versions open under the new key"
    );
    assert_eq!(store.export_persons(None, 100).await.unwrap(), before);
    let out = dir.path().join("export");
    let disclosure = Disclosure {
        actor: "admin".into(),
        purpose: "test".into(),
        at: now(),
    };
    export_registry(store.as_ref(), &out, &disclosure, &NoProgress)
        .await
        .unwrap();
    let persons_csv = std::fs::read_to_string(out.join("persons.csv")).unwrap();
    assert!(persons_csv.contains("QZ100003") && persons_csv.contains("+212661000004"));
    let v = verify(store.as_ref(), None).await.unwrap();
    assert_eq!(v.broken, None);
    let events = store.audit_events(0, 100).await.unwrap();
    let last = events
        .iter()
        .rev()
        .find(|e| e.action == "key.rotate_data")
        .unwrap();
    assert!(last.details.contains(new.fingerprint()) && last.details.contains(old.fingerprint()));

    // The old key file is now refused (as a retired key), and cannot be rotated from again.
    let err = keyring::open_data_key(keyring, &old_file, None, now())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("retired"), "{err}");
    // A process that still holds the old key (it checked it before the rotation) may write no
    // more: its registration is refused and leaves nothing, so no value is sealed under two keys.
    let stale = Registry::new(db.store.clone());
    let persons_before = persons(store.as_ref()).await;
    let refused = stale
        .register_household(&agent(), &household("Itto", "QZ100009", "0661000009"), "")
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("rotated away"), "{refused}");
    assert_eq!(
        persons(store.as_ref()).await,
        persons_before,
        "nothing written"
    );
    let again = keyring
        .rotate_data_key(&old, &DataCipher::random().unwrap(), &change, &NoProgress)
        .await;
    assert!(again.is_err());
    let new_file = dir.path().join("new.key");
    write_key(&new_file, &new_master);
    keyring::open_data_key(keyring, &new_file, None, now())
        .await
        .unwrap();
}

/// Rotation of the audit key: the new key endorses the old, so checkpoints signed before still
/// verify against the new key file alone; statements in the database signed by no trusted key add
/// nothing.
async fn after_an_audit_key_rotation_old_checkpoints_still_verify(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let keyring = db.keyring.as_ref();
    let reg = Registry::new(db.store.clone());
    let (old, _) =
        keyring::open_audit_key(keyring, &dir.path().join("audit.key"), None, true, now())
            .await
            .unwrap()
            .unwrap();
    reg.register_household(&agent(), &household("Itto", "QZ100005", "0661000005"), "")
        .await
        .unwrap();
    assert_eq!(sign_head(db, &old).await.unwrap(), 1);
    let new = sanad_app::audit::load_or_create_key(&dir.path().join("new.key")).unwrap();
    let change = Change {
        actor: "admin".into(),
        reason: "rotation".into(),
        at: now(),
    };
    keyring::rotate_audit_key(keyring, &old, &new, &change)
        .await
        .unwrap();
    // The rotation's own event, signed by the new key.
    assert_eq!(sign_head(db, &new).await.unwrap(), 2);

    let trusted = trusted_audit_keys(keyring, &new.verifying_key())
        .await
        .unwrap();
    assert_eq!(trusted, vec![new.verifying_key(), old.verifying_key()]);
    let v = verify(db.store.as_ref(), Some(&trusted)).await.unwrap();
    assert_eq!((v.heads, v.broken), (2, None));
    // The old key does not vouch for its successor: trust only goes back in time.
    assert_eq!(
        trusted_audit_keys(keyring, &old.verifying_key())
            .await
            .unwrap(),
        vec![old.verifying_key()]
    );
    // The old key file is refused now.
    let err = keyring::open_audit_key(keyring, &dir.path().join("audit.key"), None, true, now())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("retired"), "{err}");

    // Someone who can write the database adds a key of their own with an endorsement signed by
    // it, and a checkpoint signed by it: not trusted.
    let forger = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let forged = sanad_app::keyring::KeyEndorsement::sign(
        &forger,
        &forger.verifying_key(),
        sanad_app::keyring::Relation::Predecessor,
        100,
        now(),
    );
    sql(
        db,
        &format!(
            "INSERT INTO audit_key_endorsements (endorser, endorsed, relation, up_to_seq, at, signature) VALUES ('{}', '{}', 'predecessor', 100, '{}', '{}')",
            forged.endorser,
            hex::encode(forger.verifying_key().to_bytes()),
            forged.at.format(&time::format_description::well_known::Rfc3339).unwrap(),
            forged.signature
        ),
    )
    .await;
    reg.register_household(&agent(), &household("Fadma", "QZ100006", "0661000006"), "")
        .await
        .unwrap();
    // The integrator signs with the active key only: the forger's key (and the retired one)
    // signs nothing through it.
    for k in [&forger, &old] {
        let err = sign_head(db, k).await.unwrap_err();
        assert!(err.to_string().contains("active audit key"), "{err}");
    }
    let trusted = trusted_audit_keys(keyring, &new.verifying_key())
        .await
        .unwrap();
    assert_eq!(trusted.len(), 2);
    assert_eq!(sign_head(db, &new).await.unwrap(), 3);
    let v = verify(db.store.as_ref(), Some(&trusted)).await.unwrap();
    assert_eq!((v.heads, v.broken), (3, None));

    // The old key leaks after the rotation: a checkpoint it signs beyond the rotation point is not
    // trusted, while its checkpoints from before still are.
    let bounds = sanad_app::audit::trusted_audit_key_bounds(keyring, &new.verifying_key())
        .await
        .unwrap();
    assert_eq!(
        bounds,
        vec![(new.verifying_key(), None), (old.verifying_key(), Some(1))]
    );
    let v = sanad_app::audit::verify_bounded(db.store.as_ref(), Some(&bounds))
        .await
        .unwrap();
    assert_eq!((v.heads, v.broken), (3, None));
    // Someone holding the leaked old key and write access re-signs the latest head with it.
    let head = db.store.tree_head(None).await.unwrap().unwrap();
    let body = head.note.split("\n\n").next().unwrap().to_string() + "\n";
    let checkpoint = sanad_tlog::note::Checkpoint::parse(&body).unwrap();
    let forged_note = sanad_tlog::note::sign(&checkpoint, sanad_app::audit::DEFAULT_ORIGIN, &old);
    sql(
        db,
        &format!(
            "UPDATE audit_tree_heads SET note = '{}' WHERE size = {}",
            forged_note.replace('\'', "''"),
            head.size
        ),
    )
    .await;
    let v = sanad_app::audit::verify_bounded(db.store.as_ref(), Some(&bounds))
        .await
        .unwrap();
    assert!(v.broken.unwrap().contains("retired audit key"));
}

/// An export that fails half-way (a value that does not open, met after the households file is
/// written) leaves neither file behind, nor any temporary file.
async fn a_failed_export_leaves_no_file_behind(db: &TestDb) {
    let reg = Registry::new(db.store.clone());
    for (i, name) in ["Itto", "Tudert", "Fadma"].iter().enumerate() {
        reg.register_household(
            &agent(),
            &household(name, &format!("QZ20000{i}"), &format!("066100010{i}")),
            "",
        )
        .await
        .unwrap();
    }
    sql(db, "UPDATE persons SET phone_enc = 'c0ffee' WHERE id = 2").await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export");
    let disclosure = Disclosure {
        actor: "admin".into(),
        purpose: "test".into(),
        at: now(),
    };
    let result = export_registry(db.store.as_ref(), &out, &disclosure, &NoProgress).await;
    assert!(result.is_err());
    let left: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

macro_rules! on_both {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $story() {
                let db = super::testkit::sqlite().await;
                super::$story(&db).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $story() {
                let Some(db) = super::testkit::postgres().await else { return };
                super::$story(&db).await;
                db.cleanup().await;
            })*
        }
    };
}

on_both!(
    a_second_key_is_refused_and_nothing_is_written,
    a_database_from_before_fingerprints_is_adopted_only_by_its_key,
    after_a_data_key_rotation_search_export_and_audit_all_work,
    after_an_audit_key_rotation_old_checkpoints_still_verify,
    a_failed_export_leaves_no_file_behind,
);
