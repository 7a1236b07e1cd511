//! An auditor looking for the one forged record: `audit verify` finds an altered row, and a
//! rewritten chain is caught by the signed checkpoint. On both backends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use sanad_app::audit::{LogSigner, integrate_all, load_or_create_key, verify};
use sanad_app::{Actor, Registry, RegistryStore};
use sanad_domain::{
    Amount, DwellingType, HouseholdData, HouseholdInput, MemberInput, Occupation, PersonData,
    Relation, Schooling, Sex, Tenure,
};
use sanad_storage::testkit::{self, TestDb};
use time::macros::date;

fn household(name: &str) -> HouseholdInput {
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
                national_id: None,
                phone: None,
                disability: sanad_domain::Disability::None,
                schooling: Schooling::None,
                occupation: Occupation::Homemaker,
            },
        }],
    }
}

/// Runs one SQL statement on the test database, whatever its backend.
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

/// Verifies with the installation key and returns the problem found, if any.
async fn problem(store: &dyn RegistryStore, key: &ed25519_dalek::VerifyingKey) -> Option<String> {
    verify(store, Some(std::slice::from_ref(key)))
        .await
        .unwrap()
        .broken
}

async fn an_auditor_finds_the_forged_record(db: &TestDb) {
    let store: Arc<dyn RegistryStore> = db.store.clone();
    let reg = Registry::new(store.clone());
    let agent = Actor::system("agent.oujda");
    for name in ["Itto", "Tudert", "Fadma"] {
        reg.register_household(&agent, &household(name), "registration")
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let key = load_or_create_key(&dir.path().join("audit.key")).unwrap();
    let again = load_or_create_key(&dir.path().join("audit.key")).unwrap();
    assert_eq!(
        key.to_bytes(),
        again.to_bytes(),
        "the key file is read back"
    );
    let signer = LogSigner::new(key.clone(), "sanad.test/audit");
    let trusted = key.verifying_key();

    // Committed but not yet integrated: verify counts them and finds nothing wrong.
    let waiting = verify(store.as_ref(), Some(&[trusted])).await.unwrap();
    assert_eq!(
        (
            waiting.events,
            waiting.tree_size,
            waiting.pending.count,
            waiting.broken
        ),
        (3, 0, 3, None)
    );
    // On PostgreSQL an event waits until every older transaction of the server has ended (other
    // tests' included): a few rounds at most.
    for _ in 0..1000 {
        integrate_all(store.as_ref(), &signer, time::OffsetDateTime::now_utc())
            .await
            .unwrap();
        if store.pending_events().await.unwrap().count == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(store.tree_head(None).await.unwrap().unwrap().size, 3);
    let (added, _) = integrate_all(store.as_ref(), &signer, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(added, 0, "nothing new to sign");
    let ok = verify(store.as_ref(), Some(&[trusted])).await.unwrap();
    // One head per integration round: on PostgreSQL the three events may settle in more than one.
    let heads = store.tree_heads().await.unwrap().len() as u64;
    assert!(heads >= 1);
    assert_eq!(
        (
            ok.events,
            ok.tree_size,
            ok.heads,
            ok.pending.count,
            ok.broken
        ),
        (3, 3, heads, 0, None)
    );

    // Someone edits who registered the second household, directly in the database.
    sql(db, "UPDATE audit_events SET actor = 'ghost' WHERE seq = 2").await;
    let broken = problem(store.as_ref(), &trusted).await.unwrap();
    assert!(
        broken.contains("event 2") && broken.contains("altered"),
        "{broken}"
    );
    sql(
        db,
        "UPDATE audit_events SET actor = 'agent.oujda' WHERE seq = 2",
    )
    .await;
    assert_eq!(problem(store.as_ref(), &trusted).await, None);

    // A careful forger recomputes the event's hash: the tree's leaf no longer matches.
    let events = store.audit_events(0, 10).await.unwrap();
    let mut forged = events[1].clone();
    forged.actor = "ghost".into();
    let forged_hash = forged.expected_hash();
    sql(
        db,
        &format!("UPDATE audit_events SET actor = 'ghost', hash = '{forged_hash}' WHERE seq = 2"),
    )
    .await;
    let broken = problem(store.as_ref(), &trusted).await.unwrap();
    assert!(broken.contains("event 2 (leaf 1)"), "{broken}");
    // … and the leaf too: now only the signed head can tell, and it does.
    let leaf = hex::encode(forged.leaf_hash());
    let blob = match db.postgres {
        Some(_) => format!("'\\x{leaf}'::bytea"),
        None => format!("X'{leaf}'"),
    };
    sql(
        db,
        &format!("UPDATE audit_tree_nodes SET hash = {blob} WHERE level = 0 AND idx = 1"),
    )
    .await;
    let broken = problem(store.as_ref(), &trusted).await.unwrap();
    assert!(
        broken.contains("signed tree head of") && broken.contains("another root"),
        "{broken}"
    );
    // Put everything back.
    let original = hex::encode(events[1].leaf_hash());
    let blob = match db.postgres {
        Some(_) => format!("'\\x{original}'::bytea"),
        None => format!("X'{original}'"),
    };
    sql(
        db,
        &format!("UPDATE audit_tree_nodes SET hash = {blob} WHERE level = 0 AND idx = 1"),
    )
    .await;
    sql(
        db,
        &format!(
            "UPDATE audit_events SET actor = 'agent.oujda', hash = '{}' WHERE seq = 2",
            events[1].hash
        ),
    )
    .await;
    assert_eq!(problem(store.as_ref(), &trusted).await, None);

    // Two events swap places: the first misplaced one is named.
    sql(db, "UPDATE audit_events SET leaf_index = -1 WHERE seq = 1").await;
    sql(db, "UPDATE audit_events SET leaf_index = 0 WHERE seq = 2").await;
    sql(db, "UPDATE audit_events SET leaf_index = 1 WHERE seq = 1").await;
    let broken = problem(store.as_ref(), &trusted).await.unwrap();
    assert!(
        broken.contains("event 2 (leaf 0)") && broken.contains("reordered"),
        "{broken}"
    );
    sql(db, "UPDATE audit_events SET leaf_index = -1 WHERE seq = 2").await;
    sql(db, "UPDATE audit_events SET leaf_index = 0 WHERE seq = 1").await;
    sql(db, "UPDATE audit_events SET leaf_index = 1 WHERE seq = 2").await;
    assert_eq!(problem(store.as_ref(), &trusted).await, None);

    // A head signed with another key than the installation's is refused.
    let other = load_or_create_key(&dir.path().join("other.key")).unwrap();
    let broken = problem(store.as_ref(), &other.verifying_key())
        .await
        .unwrap();
    assert!(
        broken.contains("not signed by the installation"),
        "{broken}"
    );

    // Removing an event from the middle, or from the end, is seen.
    sql(db, "DELETE FROM audit_events WHERE seq = 2").await;
    let broken = problem(store.as_ref(), &trusted).await.unwrap();
    assert!(
        broken.contains("leaf 1 is missing") && broken.contains("event 3"),
        "{broken}"
    );
    sql(db, "DELETE FROM audit_events WHERE seq = 3").await;
    let broken = problem(store.as_ref(), &trusted).await.unwrap();
    assert!(broken.contains("removed from the end"), "{broken}");
}

#[tokio::test]
async fn sqlite_an_auditor_finds_the_forged_record() {
    let db = testkit::sqlite().await;
    an_auditor_finds_the_forged_record(&db).await;
}

#[tokio::test]
async fn postgres_an_auditor_finds_the_forged_record() {
    let Some(db) = testkit::postgres().await else {
        return;
    };
    an_auditor_finds_the_forged_record(&db).await;
    db.cleanup().await;
}

/// A stolen database file does not reveal national ids or phones: they are stored encrypted, with a
/// keyed hash for look-ups (in the persons table and in the version snapshots).
async fn national_ids_and_phones_are_not_stored_in_clear(db: &TestDb) {
    let reg = Registry::new(db.store.clone());
    let mut input = household("Yamna");
    input.members[0].data.national_id = Some(sanad_domain::NationalId::parse("QZ918273").unwrap());
    input.members[0].data.phone = Some(sanad_domain::PhoneNumber::parse("0661 92 83 74").unwrap());
    let h = reg
        .register_household(&Actor::system("agent"), &input, "")
        .await
        .unwrap();
    let found = reg
        .search_persons(
            &Actor::system("agent"),
            "qz918273",
            None,
            5,
            &sanad_app::registry::Purpose("test".into()),
        )
        .await
        .unwrap();
    assert_eq!(found[0].id, h.members[0].id, "still found by national id");
    assert_eq!(
        found[0].data.national_id.as_ref().unwrap().as_str(),
        "QZ918273"
    );
    let by_phone = reg
        .search_persons_by(
            &Actor::system("agent"),
            "",
            Some("+212 661 928 374"),
            None,
            5,
            &sanad_app::registry::Purpose("test".into()),
        )
        .await
        .unwrap();
    assert_eq!(by_phone[0].id, h.members[0].id, "found by phone");
    assert_eq!(
        by_phone[0].data.phone.as_ref().unwrap().as_str(),
        "+212661928374"
    );
    let dump = match (&db.sqlite, &db.postgres) {
        (Some(s), _) => {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(s.pool())
                .await
                .unwrap();
            let path = db.url.trim_start_matches("sqlite://");
            String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned()
        }
        (_, Some(p)) => {
            let rows: Vec<String> =
                sqlx::query_scalar("SELECT row_to_json(p)::text FROM persons p")
                    .fetch_all(p.pool())
                    .await
                    .unwrap();
            let versions: Vec<String> =
                sqlx::query_scalar("SELECT row_to_json(v)::text FROM household_versions v")
                    .fetch_all(p.pool())
                    .await
                    .unwrap();
            rows.join("\n") + &versions.join("\n")
        }
        _ => unreachable!(),
    };
    assert!(dump.contains("Yamna"), "the dump is readable");
    assert!(
        !dump.contains("QZ918273"),
        "the national id is not in clear"
    );
    assert!(
        !dump.contains("661928374"),
        "the phone is not in clear, in any form"
    );
}

#[tokio::test]
async fn sqlite_national_ids_and_phones_are_not_stored_in_clear() {
    let db = testkit::sqlite().await;
    national_ids_and_phones_are_not_stored_in_clear(&db).await;
}

#[tokio::test]
async fn postgres_national_ids_and_phones_are_not_stored_in_clear() {
    let Some(db) = testkit::postgres().await else {
        return;
    };
    national_ids_and_phones_are_not_stored_in_clear(&db).await;
    db.cleanup().await;
}
