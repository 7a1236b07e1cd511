//! Writers and readers at once, on SQLite and on PostgreSQL: many registrations in flight together
//! (on SQLite they share group commits, each in its own savepoint), some of them refused; reads
//! recorded in the access log in batches. Whatever was answered is committed: another connection
//! sees it at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use sanad_app::store::{AccessLogQuery, AccessRecord, Change};
use sanad_app::{RegistryStore, StoreError};
use sanad_domain::{
    Amount, Disability, DwellingType, HouseholdData, HouseholdInput, MemberInput, NationalId,
    Occupation, PersonData, Relation, Schooling, Sex, Tenure,
};
use sanad_storage::testkit;
use time::macros::{date, datetime};

fn household(n: usize, nid: &str) -> HouseholdInput {
    let person = |relation, first: String, sex, nid: Option<&str>| MemberInput {
        person_id: None,
        data: PersonData {
            relation,
            first_name: first,
            last_name: "Concurrent".into(),
            first_name_ar: None,
            last_name_ar: None,
            sex,
            birth_date: date!(1980 - 05 - 05),
            national_id: nid.map(|n| NationalId::parse(n).unwrap()),
            phone: None,
            disability: Disability::None,
            schooling: Schooling::Primary,
            occupation: Occupation::Inactive,
        },
    };
    HouseholdInput {
        data: HouseholdData {
            commune_code: "01.511.01.0".into(),
            area: None,
            address: format!("Rue {n}"),
            dwelling_type: DwellingType::Apartment,
            tenure: Tenure::Tenant,
            rooms: 2,
            water_spending: Amount::parse("40").unwrap(),
            electricity_spending: Amount::parse("90").unwrap(),
            phone_spending: Amount::parse("30").unwrap(),
            gas_spending: Amount::parse("40").unwrap(),
            assets: Default::default(),
            declared_income: Amount::parse("2000").unwrap(),
        },
        members: vec![
            person(Relation::Head, format!("Head{n}"), Sex::Male, Some(nid)),
            person(Relation::Spouse, format!("Spouse{n}"), Sex::Female, None),
        ],
    }
}

/// 60 registrations and 200 recorded reads in flight at once; every fifth registration reuses one
/// national id, so exactly one of those twelve wins and the other eleven are refused, alone.
async fn concurrent_writes_commit_together_and_a_refused_one_refuses_only_itself(
    store: Arc<dyn RegistryStore>,
    other: Arc<dyn RegistryStore>,
) {
    let change = Change {
        actor: "agent".into(),
        reason: "walk-in".into(),
        at: datetime!(2026-11-23 10:00:00 UTC),
    };
    let mut writes = Vec::new();
    for n in 0..60 {
        let store = store.clone();
        let other = other.clone();
        let change = change.clone();
        writes.push(tokio::spawn(async move {
            let nid = if n % 5 == 0 {
                "ZZ999999".to_string()
            } else {
                format!("K{n:06}")
            };
            let outcome = store.register_household(&household(n, &nid), &change).await;
            if outcome.is_ok() {
                // Answered means committed: another connection sees it now.
                let seen: u64 = other
                    .region_counts()
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.households)
                    .sum();
                assert!(seen >= 1);
            }
            outcome
        }));
    }
    let mut reads = Vec::new();
    for n in 0..200 {
        let store = store.clone();
        reads.push(tokio::spawn(async move {
            store
                .record_access(&AccessRecord {
                    actor: format!("reader{}", n % 7),
                    at: datetime!(2026-11-23 10:00:00 UTC),
                    entity_type: "household",
                    entity_ids: vec![format!("read-{n}")],
                    purpose: "visit".into(),
                })
                .await
        }));
    }
    let mut registered = Vec::new();
    let mut refused = 0;
    for w in writes {
        match w.await.unwrap() {
            Ok(h) => registered.push(h),
            Err(StoreError::Conflict { code, field, .. }) => {
                assert_eq!(
                    (code, field.as_str()),
                    ("national_id_used", "members[0].national_id")
                );
                refused += 1;
            }
            Err(e) => panic!("unexpected {e}"),
        }
    }
    for r in reads {
        r.await.unwrap().unwrap();
    }
    assert_eq!((registered.len(), refused), (49, 11));

    // Every answered registration is there, once, with its version and its audit event; the
    // refused ones left nothing (no person, no version, no event).
    let counts = other.region_counts().await.unwrap();
    assert_eq!(counts.iter().map(|r| r.households).sum::<u64>(), 49);
    assert_eq!(counts.iter().map(|r| r.persons).sum::<u64>(), 98);
    let mut ids: Vec<_> = registered.iter().map(|h| h.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 49, "each registration got its own household");
    for h in &registered {
        let versions = store.household_versions(h.id).await.unwrap();
        assert_eq!(versions.len(), 1);
        let stored = store.household(h.id).await.unwrap().unwrap();
        assert_eq!((stored.version, &stored.members), (1, &h.members));
    }
    let events = other.audit_events(0, 10_000).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "household.create")
            .count(),
        49
    );
    let mut after = 0;
    for e in &events {
        assert!(e.seq > after, "event {} after {after}", e.seq);
        assert_eq!(e.expected_hash(), e.hash, "event {}", e.seq);
        after = e.seq;
    }

    // Every read answered is in the log, once.
    let log = other
        .access_log(&AccessLogQuery {
            actor: None,
            entity_id: None,
            after: 0,
            limit: 10_000,
        })
        .await
        .unwrap();
    let mut read_ids: Vec<&str> = log.iter().map(|e| e.entity_id.as_str()).collect();
    read_ids.sort();
    read_ids.dedup();
    assert_eq!((log.len(), read_ids.len()), (200, 200));
}

/// A second store on the same database, with a key of its own: it only counts.
async fn second_store(url: &str) -> Arc<dyn RegistryStore> {
    let cipher = Arc::new(sanad_app::crypto::DataCipher::random().unwrap());
    sanad_storage::connect(url, cipher).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_concurrent_writes_commit_together_and_a_refused_one_refuses_only_itself() {
    let db = testkit::sqlite().await;
    let other = second_store(&db.url).await;
    concurrent_writes_commit_together_and_a_refused_one_refuses_only_itself(
        db.store.clone(),
        other,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_writes_commit_together_and_a_refused_one_refuses_only_itself() {
    let Some(db) = testkit::postgres().await else {
        return;
    };
    let other = second_store(&db.url).await;
    concurrent_writes_commit_together_and_a_refused_one_refuses_only_itself(
        db.store.clone(),
        other,
    )
    .await;
    db.cleanup().await;
}
