//! The audit trail as a transparency log, on both backends: writers in parallel and an integrator
//! that folds every committed event in exactly once (none skipped when transactions commit out of
//! sequence order or roll back); a citizen's and an auditor's proofs, checked as the standalone
//! verifier checks them and refused once one byte changes; an old database with a hash chain that
//! migrates and still verifies.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sanad_app::audit::{
    EventRef, LogSigner, integrate_all, prove_consistency, prove_inclusion, verify,
};
use sanad_app::{Actor, Registry, RegistryStore, Role};
use sanad_domain::audit::{AuditEntry, AuditEvent, ChainHead};
use sanad_domain::{
    Amount, DwellingType, HouseholdData, HouseholdInput, MemberInput, Occupation, PersonData,
    Relation, Schooling, Sex, Tenure,
};
use sanad_storage::testkit::{self, TestDb};
use sanad_tlog::bundle::{Bundle, Verified};
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
                last_name: "Amrani".into(),
                first_name_ar: None,
                last_name_ar: None,
                sex: Sex::Female,
                birth_date: date!(1970 - 05 - 01),
                national_id: None,
                phone: None,
                disability: sanad_domain::Disability::None,
                schooling: Schooling::None,
                occupation: Occupation::Homemaker,
            },
        }],
    }
}

fn signer() -> LogSigner {
    LogSigner::new(
        ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]),
        "sanad.test/audit",
    )
}

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// Integrates until nothing waits. On PostgreSQL an event is taken once every older transaction of
/// the server has ended, other tests' included, so this may take a few rounds (bounded).
async fn integrate_settled(store: &dyn RegistryStore) -> Option<sanad_app::audit_log::TreeHead> {
    let mut last = None;
    for _ in 0..1000 {
        if let (_, Some(done)) = integrate_all(store, &signer(), now()).await.unwrap() {
            last = Some(done.head);
        }
        if store.pending_events().await.unwrap().count == 0 {
            return last.or(store.tree_head(None).await.unwrap());
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("events still waiting for the integrator after 10 s");
}

/// Every event has a leaf, the leaves are exactly 0..n with no double, and verify holds.
async fn assert_log_whole(store: &dyn RegistryStore, signer: &LogSigner) -> u64 {
    let events = store.audit_events(0, u32::MAX).await.unwrap();
    let mut leaves: Vec<i64> = events
        .iter()
        .map(|e| {
            e.leaf_index
                .unwrap_or_else(|| panic!("event {} was skipped", e.seq))
        })
        .collect();
    leaves.sort_unstable();
    let expected: Vec<i64> = (0..events.len() as i64).collect();
    assert_eq!(
        leaves, expected,
        "every event integrated exactly once, no hole"
    );
    let key = signer_key(signer);
    let v = verify(store, Some(&[key])).await.unwrap();
    assert_eq!(v.broken, None);
    assert_eq!((v.tree_size, v.pending.count), (events.len() as u64, 0));
    v.tree_size
}

fn signer_key(_: &LogSigner) -> ed25519_dalek::VerifyingKey {
    ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]).verifying_key()
}

async fn many_agents_register_at_once_and_every_event_is_integrated_once(db: &TestDb) {
    let store: Arc<dyn RegistryStore> = db.store.clone();
    let reg = Registry::new(store.clone());
    let stop = Arc::new(AtomicBool::new(false));
    // The integrator runs while the agents write, as in `sanad serve`.
    let integrator = {
        let store = store.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let s = signer();
            let mut heads = 0;
            while !stop.load(Ordering::Relaxed) {
                if store.integrate(7, &s, now()).await.unwrap().is_some() {
                    heads += 1;
                }
                tokio::time::sleep(std::time::Duration::from_millis(3)).await;
            }
            heads
        })
    };
    let mut agents = Vec::new();
    for a in 0..12u8 {
        let reg = reg.clone();
        agents.push(tokio::spawn(async move {
            let agent = Actor::system(&format!("agent.{a}"));
            for i in 0..4u8 {
                reg.register_household(
                    &agent,
                    &household(&format!(
                        "Itto {}{}",
                        (b'a' + a) as char,
                        (b'a' + i) as char
                    )),
                    "registration",
                )
                .await
                .unwrap();
            }
        }));
    }
    for a in agents {
        a.await.unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let heads = integrator.await.unwrap();
    integrate_settled(store.as_ref()).await;
    assert_eq!(assert_log_whole(store.as_ref(), &signer()).await, 48);
    assert!(heads >= 1, "the integrator ran alongside the writers");
    // Every head is a prefix of the next: consistency proofs between them all hold.
    let all = store.tree_heads().await.unwrap();
    let vkey = signer().verifier_key();
    for h in &all {
        let b = prove_consistency(
            store.as_ref(),
            &Actor::system("auditor"),
            h.size,
            None,
            &vkey,
        )
        .await
        .unwrap();
        sanad_tlog::bundle::verify(&Bundle::Consistency(b), Some(&vkey)).unwrap();
    }
}

/// One event, written by hand in an open transaction (as `append_audit` writes it).
async fn insert_event<'c, E>(conn: E, id: &str) -> i64
where
    E: sqlx::Executor<'c, Database = sqlx::Postgres>,
{
    let at = sanad_domain::audit::storable_time(now());
    let entry = AuditEntry {
        actor: "agent".into(),
        action: "household.update".into(),
        entity_type: "household".into(),
        entity_id: id.into(),
        details: "{}".into(),
    };
    sqlx::query_scalar(
        "INSERT INTO audit_events (at, actor, action, entity_type, entity_id, details, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, '', $7) RETURNING seq",
    )
    .bind(at)
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.entity_type)
    .bind(&entry.entity_id)
    .bind(&entry.details)
    .bind(entry.hash(at))
    .fetch_one(conn)
    .await
    .unwrap()
}

/// Integrates until the tree holds `size` leaves (other tests' transactions on the same server may
/// hold events back for a moment; bounded).
async fn settle_to(store: &dyn RegistryStore, s: &LogSigner, size: u64) {
    for _ in 0..1000 {
        store.integrate(100, s, now()).await.unwrap();
        if store
            .tree_head(None)
            .await
            .unwrap()
            .is_some_and(|h| h.size >= size)
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the tree did not reach {size} leaves in 10 s");
}

async fn leaf_of(store: &dyn RegistryStore, seq: i64) -> Option<i64> {
    store.audit_event(seq).await.unwrap().unwrap().leaf_index
}

#[tokio::test]
async fn postgres_out_of_order_commits_and_rollbacks_leave_no_hole_and_no_double() {
    let Some(db) = testkit::postgres().await else {
        return;
    };
    let pool = db.postgres.as_ref().unwrap().pool().clone();
    let store = db.store.clone();
    let s = signer();

    // A takes its seq, then B; B commits first. B's transaction is younger than A, which still
    // runs: B waits for A, and nothing is integrated yet.
    let mut a = pool.begin().await.unwrap();
    let seq_a = insert_event(&mut *a, "H00000000013").await;
    let mut b = pool.begin().await.unwrap();
    let seq_b = insert_event(&mut *b, "H00000000021").await;
    assert!(seq_a < seq_b);
    b.commit().await.unwrap();
    assert!(store.integrate(100, &s, now()).await.unwrap().is_none());
    assert_eq!(leaf_of(store.as_ref(), seq_b).await, None, "B waits for A");
    a.commit().await.unwrap();
    settle_to(store.as_ref(), &s, 2).await;
    assert_eq!(
        (
            leaf_of(store.as_ref(), seq_a).await,
            leaf_of(store.as_ref(), seq_b).await
        ),
        (Some(0), Some(1)),
        "in seq order once both are settled"
    );

    // D is older than C (it took a transaction id first) but takes its seq after C; D commits
    // while C runs: D is settled and integrated, C is not skipped when it commits later.
    let mut d = pool.begin().await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *d)
        .await
        .unwrap();
    let mut c = pool.begin().await.unwrap();
    let seq_c = insert_event(&mut *c, "H00000000039").await;
    let seq_d = insert_event(&mut *d, "H00000000047").await;
    assert!(seq_c < seq_d);
    d.commit().await.unwrap();
    settle_to(store.as_ref(), &s, 3).await;
    assert_eq!(
        leaf_of(store.as_ref(), seq_d).await,
        Some(2),
        "a higher seq first"
    );
    // A rollback leaves a gap in seq, never a hole in the tree.
    let mut e = pool.begin().await.unwrap();
    let seq_e = insert_event(&mut *e, "H00000000054").await;
    e.rollback().await.unwrap();
    c.commit().await.unwrap();
    settle_to(store.as_ref(), &s, 4).await;
    assert_eq!(
        leaf_of(store.as_ref(), seq_c).await,
        Some(3),
        "the late commit is not skipped"
    );
    assert!(store.audit_event(seq_e).await.unwrap().is_none());
    assert!(
        store.integrate(100, &s, now()).await.unwrap().is_none(),
        "no double"
    );
    assert_eq!(assert_log_whole(store.as_ref(), &s).await, 4);

    // Another integrator waiting on the lock does nothing rather than integrate twice.
    let mut leader = pool.begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(0x5341_4e41_4400_0002_i64)
        .execute(&mut *leader)
        .await
        .unwrap();
    insert_event(&pool, "H00000000062").await;
    assert!(store.integrate(100, &s, now()).await.unwrap().is_none());
    leader.rollback().await.unwrap();
    settle_to(store.as_ref(), &s, 5).await;
    db.cleanup().await;
}

#[tokio::test]
async fn sqlite_a_rolled_back_write_leaves_no_hole() {
    let db = testkit::sqlite().await;
    let store = db.store.clone();
    let reg = Registry::new(store.clone());
    let agent = Actor::system("agent");
    let h = reg
        .register_household(&agent, &household("Itto"), "")
        .await
        .unwrap();
    // A refused write (stale version) rolls back with its event.
    assert!(
        reg.update_household(&agent, h.id, 7, &household("Itto"), "")
            .await
            .is_err()
    );
    reg.register_household(&agent, &household("Tudert"), "")
        .await
        .unwrap();
    integrate_settled(store.as_ref()).await;
    assert_eq!(assert_log_whole(store.as_ref(), &signer()).await, 2);
}

fn flip_base64(text: &str) -> String {
    let mut bytes = B64.decode(text).unwrap();
    let last = bytes.len() - 1;
    bytes[last / 2] ^= 0x01;
    B64.encode(bytes)
}

async fn a_citizen_and_an_auditor_check_their_proofs(db: &TestDb) {
    let store: Arc<dyn RegistryStore> = db.store.clone();
    let reg = Registry::new(store.clone());
    let agent = Actor::system("agent.tanger");
    let mine = reg
        .register_household(&agent, &household("Yamna"), "registration")
        .await
        .unwrap();
    let theirs = reg
        .register_household(&agent, &household("Rkia"), "registration")
        .await
        .unwrap();
    reg.register_household(&agent, &household("Zahra"), "registration")
        .await
        .unwrap();
    let s = signer();
    let vkey = s.verifier_key();
    let first = integrate_settled(store.as_ref()).await.unwrap();

    // The citizen asks for the proof that her household's registration is in the log.
    let citizen = Actor {
        username: "yamna".into(),
        role: Role::Citizen,
        territories: Vec::new(),
        household: Some(mine.id),
        scopes: None,
    };
    let proof = prove_inclusion(
        store.as_ref(),
        &citizen,
        &EventRef::Registration(mine.id),
        &vkey,
    )
    .await
    .unwrap();
    assert_eq!(proof.event["entity_id"], mine.id.to_string());
    assert_eq!(proof.event["action"], "household.create");
    let bundle = Bundle::Inclusion(proof.clone());
    // Through JSON, as the verifier reads it.
    let text = serde_json::to_string(&bundle).unwrap();
    let read: Bundle = serde_json::from_str(&text).unwrap();
    match sanad_tlog::bundle::verify(&read, Some(&vkey)).unwrap() {
        Verified::Included {
            leaf_index,
            tree_size,
            event,
            ..
        } => {
            assert_eq!((leaf_index, tree_size), (0, 3));
            assert!(event.unwrap().contains(&("entity_id", mine.id.to_string())));
        }
        other => panic!("{other:?}"),
    }
    // One byte changed in the event, the proof or the head: refused.
    let mut bad = proof.clone();
    bad.leaf = flip_base64(&bad.leaf);
    assert!(sanad_tlog::bundle::verify(&Bundle::Inclusion(bad), Some(&vkey)).is_err());
    let mut bad = proof.clone();
    bad.proof[0] = flip_base64(&bad.proof[0]);
    assert!(sanad_tlog::bundle::verify(&Bundle::Inclusion(bad), Some(&vkey)).is_err());
    let mut bad = proof.clone();
    let root_line = bad.checkpoint.lines().nth(2).unwrap().to_string();
    bad.checkpoint = bad
        .checkpoint
        .replacen(&root_line, &flip_base64(&root_line), 1);
    assert!(sanad_tlog::bundle::verify(&Bundle::Inclusion(bad), Some(&vkey)).is_err());
    let mut bad = proof.clone();
    bad.leaf_index = 1;
    assert!(sanad_tlog::bundle::verify(&Bundle::Inclusion(bad), Some(&vkey)).is_err());
    // Another key than the published one is refused.
    let other = LogSigner::new(
        ed25519_dalek::SigningKey::from_bytes(&[1u8; 32]),
        "sanad.test/audit",
    );
    assert!(sanad_tlog::bundle::verify(&bundle, Some(&other.verifier_key())).is_err());

    // Another household's proof is not hers: answered as missing.
    let refused = prove_inclusion(
        store.as_ref(),
        &citizen,
        &EventRef::Registration(theirs.id),
        &vkey,
    )
    .await;
    assert!(matches!(
        refused,
        Err(sanad_app::registry::RegistryError::Store(
            sanad_app::StoreError::NotFound
        ))
    ));
    assert!(
        prove_consistency(store.as_ref(), &citizen, first.size, None, &vkey)
            .await
            .is_err(),
        "consistency proofs are for auditors"
    );

    // The log grows; the auditor checks that the new head extends the old one.
    reg.update_household(&agent, mine.id, 1, &household("Yamna"), "new rooms")
        .await
        .unwrap();
    reg.register_household(&agent, &household("Fadma"), "registration")
        .await
        .unwrap();
    // Before integration the new event has no proof yet, and says so.
    let last = store
        .audit_events(0, 100)
        .await
        .unwrap()
        .last()
        .unwrap()
        .seq;
    assert!(
        prove_inclusion(store.as_ref(), &agent, &EventRef::Seq(last), &vkey)
            .await
            .is_err()
    );
    let second = integrate_settled(store.as_ref()).await.unwrap();
    assert_eq!(second.size, 5);
    let auditor = Actor {
        username: "auditor".into(),
        role: Role::Auditor,
        territories: Vec::new(),
        household: None,
        scopes: None,
    };
    let c = prove_consistency(store.as_ref(), &auditor, first.size, None, &vkey)
        .await
        .unwrap();
    assert_eq!((c.old_size, c.new_size), (3, 5));
    assert_eq!(
        sanad_tlog::bundle::verify(&Bundle::Consistency(c.clone()), Some(&vkey)).unwrap(),
        Verified::Consistent {
            origin: "sanad.test/audit".into(),
            old_size: 3,
            new_size: 5
        }
    );
    let mut bad = c.clone();
    bad.proof[0] = flip_base64(&bad.proof[0]);
    assert!(sanad_tlog::bundle::verify(&Bundle::Consistency(bad), Some(&vkey)).is_err());
    let mut bad = c.clone();
    bad.old_checkpoint = bad.old_checkpoint.replacen("\n3\n", "\n4\n", 1);
    assert!(sanad_tlog::bundle::verify(&Bundle::Consistency(bad), Some(&vkey)).is_err());
    // The citizen's change is provable by its seq too, and the proof is against the newer head.
    let update = store
        .events_about(&mine.id.to_string())
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.action == "household.update")
        .unwrap();
    let p = prove_inclusion(store.as_ref(), &citizen, &EventRef::Seq(update.seq), &vkey)
        .await
        .unwrap();
    assert_eq!(p.tree_size, 5);
    sanad_tlog::bundle::verify(&Bundle::Inclusion(p), Some(&vkey)).unwrap();
}

/// Runs one SQL statement on the test database, whatever its backend.
async fn sql(db: &TestDb, statement: &str) {
    db.execute(statement).await.unwrap();
}

/// An installation from before the transparency log: migrations up to 0008, events chained by
/// hash (the format the code wrote then), a signed checkpoint of the chain head. It migrates, the
/// chain becomes the first leaves, and everything still verifies.
async fn an_old_database_with_a_hash_chain_migrates_and_verifies(db: &TestDb) {
    let old_key = ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]);
    // The old chain, as `AuditEvent::chain` built it.
    let mut head = ChainHead::genesis();
    let at = sanad_domain::audit::storable_time(now());
    let events: Vec<AuditEvent> = (0..3)
        .map(|i| {
            AuditEvent::chain(
                &mut head,
                at,
                AuditEntry {
                    actor: "agent.oujda".into(),
                    action: "household.create".into(),
                    entity_type: "household".into(),
                    entity_id: format!("H0000000{i}"),
                    details: format!("{{\"version\":1,\"n\":{i}}}"),
                },
            )
        })
        .collect();
    let stamp = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    for e in &events {
        sql(
            db,
            &format!(
                "INSERT INTO audit_events (seq, at, actor, action, entity_type, entity_id, details, prev_hash, hash) \
                 VALUES ({}, '{stamp}', '{}', '{}', '{}', '{}', '{}', '{}', '{}')",
                e.seq, e.actor, e.action, e.entity_type, e.entity_id, e.details, e.prev_hash, e.hash
            ),
        )
        .await;
    }
    sql(
        db,
        &format!(
            "UPDATE audit_head SET seq = {}, hash = '{}' WHERE id = 1",
            head.seq, head.hash
        ),
    )
    .await;
    // The old checkpoint message: "sanad-audit-checkpoint\n{seq}\n{hash}\n{at}".
    use ed25519_dalek::Signer as _;
    let message = format!(
        "sanad-audit-checkpoint\n{}\n{}\n{stamp}",
        head.seq, head.hash
    );
    let signature = old_key.sign(message.as_bytes());
    sql(
        db,
        &format!(
            "INSERT INTO audit_checkpoints (seq, hash, at, public_key, signature) VALUES ({}, '{}', '{stamp}', '{}', '{}')",
            head.seq,
            head.hash,
            hex::encode(old_key.verifying_key().to_bytes()),
            hex::encode(signature.to_bytes())
        ),
    )
    .await;

    // Upgrade: migration 0009, then the server goes on writing.
    db.store.migrate().await.unwrap();
    let store = db.store.clone();
    let reg = Registry::new(store.clone());
    reg.register_household(&Actor::system("agent"), &household("Itto"), "registration")
        .await
        .unwrap();
    let trusted = [old_key.verifying_key()];
    let before = verify(store.as_ref(), Some(&trusted)).await.unwrap();
    assert_eq!(
        (before.broken.clone(), before.chained, before.pending.count),
        (None, 3, 4),
        "the old chain verifies while it waits"
    );
    integrate_settled(store.as_ref()).await;
    let v = verify(store.as_ref(), Some(&trusted)).await.unwrap();
    assert_eq!(v.broken, None);
    assert_eq!(
        (v.events, v.tree_size, v.chained, v.checkpoints),
        (4, 4, 3, 1)
    );
    assert!(v.heads >= 1);
    // The chain's events are the first leaves, in seq order.
    for e in store.audit_events(0, 10).await.unwrap() {
        assert_eq!(e.leaf_index, Some(e.seq - 1));
    }
    // The old events are provable like the new ones.
    let vkey = signer().verifier_key();
    let p = prove_inclusion(
        store.as_ref(),
        &Actor::system("auditor"),
        &EventRef::Seq(2),
        &vkey,
    )
    .await
    .unwrap();
    assert_eq!(p.event["prev_hash"], events[0].hash);
    sanad_tlog::bundle::verify(&Bundle::Inclusion(p), Some(&vkey)).unwrap();
    // An altered old event is named.
    sql(db, "UPDATE audit_events SET actor = 'ghost' WHERE seq = 2").await;
    let broken = verify(store.as_ref(), Some(&trusted))
        .await
        .unwrap()
        .broken
        .unwrap();
    assert!(
        broken.contains("event 2") && broken.contains("altered"),
        "{broken}"
    );
}

/// A migrated-to-0008 database of the given backend.
async fn old_sqlite() -> TestDb {
    let db = testkit::sqlite_unmigrated().await;
    db.sqlite.as_ref().unwrap().migrate_before(9).await.unwrap();
    db
}

#[tokio::test]
async fn sqlite_an_old_database_with_a_hash_chain_migrates_and_verifies() {
    let db = old_sqlite().await;
    an_old_database_with_a_hash_chain_migrates_and_verifies(&db).await;
}

#[tokio::test]
async fn postgres_an_old_database_with_a_hash_chain_migrates_and_verifies() {
    let Some(db) = testkit::postgres_empty().await else {
        return;
    };
    db.postgres
        .as_ref()
        .unwrap()
        .migrate_before(9)
        .await
        .unwrap();
    an_old_database_with_a_hash_chain_migrates_and_verifies(&db).await;
    db.cleanup().await;
}

macro_rules! both {
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

both!(
    many_agents_register_at_once_and_every_event_is_integrated_once,
    a_citizen_and_an_auditor_check_their_proofs,
);
