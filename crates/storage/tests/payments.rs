//! Contract of the payments port, on SQLite and PostgreSQL: a cycle freezes its entitlements and
//! cannot be computed twice for a period; a second manager approves it; batches take what is owed
//! once (a failed or reversed payment is tried again in a later batch, never twice at a time); an
//! answer is recorded once and only over the states it was checked against; adhesions follow the
//! same exchange.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use sanad_app::StoreError;
use sanad_app::payments::{
    AdhesionState, AdhesionUpdate, BatchState, CycleState, Entitlement, EntitlementFilter,
    MeansRecord, NewCycle, NewReconciliation, PaymentFilter, PaymentState, PaymentUpdate,
    ReconcileCounts,
};
use sanad_app::store::Change;
use sanad_app::targeting::{Assessment, Assessor, Decision, EnrolmentState};
use sanad_domain::{
    Amount, DwellingType, HouseholdData, HouseholdFacts, HouseholdId, HouseholdInput, MemberInput,
    Occupation, PersonData, Relation, Schooling, Sex, Tenure,
};
use sanad_storage::testkit::{self, TestDb};
use time::macros::{date, datetime};

/// Every household is eligible for `CASH` (500 MAD a month); members aged 60 or more for `INS`.
struct Everyone;

impl Assessor for Everyone {
    fn assess(&self, facts: &HouseholdFacts, _on: time::Date) -> Assessment {
        let old: Vec<_> = facts
            .members
            .iter()
            .filter(|m| m.age >= 60)
            .filter_map(|m| m.person_id)
            .collect();
        Assessment {
            score: None,
            decisions: vec![
                Decision {
                    programme_code: "CASH".into(),
                    programme_version: 1,
                    eligible: true,
                    reason: String::new(),
                    beneficiaries: None,
                    amount: Amount::from_centimes(50_000).unwrap(),
                    flags: Vec::new(),
                },
                Decision {
                    programme_code: "INS".into(),
                    programme_version: 1,
                    eligible: !old.is_empty(),
                    reason: String::new(),
                    beneficiaries: Some(old),
                    amount: Amount::ZERO,
                    flags: Vec::new(),
                },
            ],
        }
    }

    fn model(&self) -> Option<(String, u32)> {
        None
    }

    fn programmes(&self) -> Vec<(String, u32)> {
        vec![("CASH".into(), 1), ("INS".into(), 1)]
    }
}

fn by(actor: &str) -> Change {
    Change {
        actor: actor.into(),
        reason: "test".into(),
        at: datetime!(2026-03-01 10:00:00 UTC),
    }
}

fn member(relation: Relation, first: &str, birth: time::Date) -> MemberInput {
    MemberInput {
        person_id: None,
        data: PersonData {
            relation,
            first_name: first.into(),
            last_name: "Idrissi".into(),
            first_name_ar: None,
            last_name_ar: None,
            sex: Sex::Male,
            birth_date: birth,
            national_id: None,
            phone: None,
            disability: sanad_domain::Disability::None,
            schooling: Schooling::Primary,
            occupation: Occupation::Homemaker,
        },
    }
}

fn household() -> HouseholdInput {
    HouseholdInput {
        data: HouseholdData {
            commune_code: "01.511.01.01".into(),
            area: Some(sanad_domain::Area::Urban),
            address: String::new(),
            dwelling_type: DwellingType::Apartment,
            tenure: Tenure::Tenant,
            rooms: 2,
            water_spending: Amount::ZERO,
            electricity_spending: Amount::ZERO,
            phone_spending: Amount::ZERO,
            gas_spending: Amount::ZERO,
            assets: Default::default(),
            declared_income: Amount::ZERO,
        },
        members: vec![
            member(Relation::Head, "Omar", date!(1950 - 01 - 01)),
            member(Relation::Child, "Amine", date!(2015 - 01 - 01)),
        ],
    }
}

/// Three enrolled households: the first two paid by bank, the third with no means yet.
async fn three_enrolled(db: &TestDb) -> Vec<HouseholdId> {
    db.targeting.assessor_slot().set(Some(Arc::new(Everyone)));
    let mut ids = Vec::new();
    for _ in 0..3 {
        let h = db
            .store
            .register_household(&household(), &by("agent"))
            .await
            .unwrap();
        db.programmes
            .change_enrolment(
                "CASH",
                h.id,
                None,
                EnrolmentState::Enrolled,
                "ok",
                &by("m1"),
            )
            .await
            .unwrap();
        ids.push(h.id);
    }
    for h in &ids[..2] {
        db.payments
            .set_payment_means(
                &MeansRecord {
                    household_id: *h,
                    kind: "bank".into(),
                    details: format!("{{\"kind\":\"bank\",\"h\":\"{h}\"}}"),
                    holder: "Omar Idrissi".into(),
                    updated_by: String::new(),
                    updated_at: datetime!(2026-03-01 10:00:00 UTC),
                },
                &by("m1"),
            )
            .await
            .unwrap();
    }
    ids
}

fn cycle(cap: Option<i64>) -> NewCycle {
    NewCycle {
        programme_code: "CASH".into(),
        programme_version: 1,
        period: "2026-04".into(),
        period_start: date!(2026 - 04 - 01),
        budget_cap: cap,
    }
}

async fn entitlements_of(db: &TestDb, cycle: i64, ids: &[HouseholdId]) -> Vec<Entitlement> {
    let inputs = db
        .payments
        .cycle_inputs("CASH", None, *ids.last().unwrap())
        .await
        .unwrap();
    assert_eq!(inputs.len(), ids.len());
    inputs
        .iter()
        .map(|i| Entitlement {
            cycle_id: cycle,
            household_id: i.household_id,
            person_id: i.person_id,
            household_version: i.household_version,
            index: None,
            amount: 50_000,
        })
        .collect()
}

async fn a_cycle_is_computed_once_and_approved_by_a_second_manager(db: &TestDb) {
    let ids = three_enrolled(db).await;
    let p = &db.payments;
    let c = p.start_cycle(&cycle(None), &by("m1")).await.unwrap();
    assert_eq!(c.state, CycleState::Computing);
    // Starting again resumes the same cycle.
    assert_eq!(
        p.start_cycle(&cycle(None), &by("m1")).await.unwrap().id,
        c.id
    );
    let rows = entitlements_of(db, c.id, &ids).await;
    assert_eq!(
        p.record_entitlements(c.id, &rows[..2], ids[1], 0)
            .await
            .unwrap(),
        2
    );
    // A rerun after a crash writes the same rows again: nothing doubles.
    assert_eq!(
        p.record_entitlements(c.id, &rows, ids[2], 0).await.unwrap(),
        1
    );
    let c = p.cycle(c.id).await.unwrap().unwrap();
    assert_eq!(c.last_household, Some(ids[2]));
    let c = p.finish_cycle(c.id, &by("m1")).await.unwrap();
    assert_eq!(
        (c.state, c.entitlements, c.total),
        (CycleState::Computed, 3, 150_000)
    );
    // Another cycle for the same period is refused.
    let err = p.start_cycle(&cycle(None), &by("m1")).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                code: "cycle_exists",
                ..
            }
        ),
        "{err}"
    );
    // No batch before approval.
    let err = p.open_batch(c.id, "bank", &by("m1")).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                code: "cycle_not_approved",
                ..
            }
        ),
        "{err}"
    );
    let err = p.approve_cycle(c.id, &by("m1")).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                code: "same_manager",
                ..
            }
        ),
        "{err}"
    );
    let c = p.approve_cycle(c.id, &by("m2")).await.unwrap();
    assert_eq!(
        (c.state, c.approved_by.as_deref()),
        (CycleState::Approved, Some("m2"))
    );
    let err = p.cancel_cycle(c.id, &by("m2")).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                code: "cycle_approved",
                ..
            }
        ),
        "{err}"
    );
    let all = p
        .entitlements(&EntitlementFilter {
            cycle_id: c.id,
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].household_version, 1);
}

async fn a_cycle_over_its_cap_is_not_computed(db: &TestDb) {
    let ids = three_enrolled(db).await;
    let p = &db.payments;
    let c = p
        .start_cycle(&cycle(Some(100_000)), &by("m1"))
        .await
        .unwrap();
    let rows = entitlements_of(db, c.id, &ids).await;
    p.record_entitlements(c.id, &rows, ids[2], 0).await.unwrap();
    let err = p.finish_cycle(c.id, &by("m1")).await.unwrap_err();
    match err {
        StoreError::Conflict {
            code: "over_budget",
            message,
            ..
        } => {
            assert!(message.contains("500.00 MAD over"), "{message}")
        }
        other => panic!("{other}"),
    }
    assert_eq!(
        p.cycle(c.id).await.unwrap().unwrap().state,
        CycleState::Computing
    );
    let c = p.cancel_cycle(c.id, &by("m1")).await.unwrap();
    assert_eq!(c.state, CycleState::Cancelled);
}

async fn approved(db: &TestDb) -> (Vec<HouseholdId>, i64) {
    let ids = three_enrolled(db).await;
    let p = &db.payments;
    let c = p.start_cycle(&cycle(None), &by("m1")).await.unwrap();
    let rows = entitlements_of(db, c.id, &ids).await;
    p.record_entitlements(c.id, &rows, ids[2], 0).await.unwrap();
    p.finish_cycle(c.id, &by("m1")).await.unwrap();
    p.approve_cycle(c.id, &by("m2")).await.unwrap();
    (ids, c.id)
}

fn update(id: i64, from: PaymentState, to: PaymentState) -> PaymentUpdate {
    PaymentUpdate {
        id,
        from,
        to,
        reason_code: if to == PaymentState::Paid {
            String::new()
        } else {
            "AC04".into()
        },
        reason: String::new(),
        booked_on: Some(date!(2026 - 04 - 05)),
    }
}

fn answer(sha: &str, lines: u64) -> NewReconciliation {
    NewReconciliation {
        file_sha256: sha.into(),
        file_name: "answer.xml".into(),
        format: "camt054".into(),
        lines,
        counts: ReconcileCounts::default(),
    }
}

async fn what_is_owed_is_paid_once_and_failures_are_tried_again(db: &TestDb) {
    let (ids, c) = approved(db).await;
    let p = &db.payments;
    assert!(
        p.open_batch(c, "wallet", &by("m1"))
            .await
            .unwrap()
            .is_none()
    );
    let b = p.open_batch(c, "bank", &by("m1")).await.unwrap().unwrap();
    assert_eq!(
        (b.state, b.payments, b.total),
        (BatchState::Open, 2, 100_000)
    );
    // Until its file is handed over, the same batch comes back; nothing is added twice.
    assert_eq!(
        p.open_batch(c, "bank", &by("m1"))
            .await
            .unwrap()
            .unwrap()
            .id,
        b.id
    );
    let pays = p.batch_payments(b.id, None, 100).await.unwrap();
    assert_eq!(pays.len(), 2);
    assert_eq!(pays[0].end_to_end_id, format!("SANAD-{}", pays[0].id));
    assert_eq!(pays[0].reference.len(), 10);
    assert!(
        pays.iter()
            .all(|x| x.state == PaymentState::Pending && x.attempt == 1)
    );
    let b = p.mark_exported(b.id, "abc", &by("m1")).await.unwrap();
    assert_eq!(b.state, BatchState::Exported);
    assert_eq!(
        p.mark_exported(b.id, "abc", &by("m1")).await.unwrap().id,
        b.id
    );
    assert!(p.mark_exported(b.id, "other", &by("m1")).await.is_err());
    // Everything live: no new batch.
    assert!(p.open_batch(c, "bank", &by("m1")).await.unwrap().is_none());

    let checks = p
        .payment_checks(&[pays[0].id, pays[1].id, 999_999])
        .await
        .unwrap();
    assert_eq!(checks.len(), 2);
    assert!(
        checks
            .iter()
            .all(|x| x.state == PaymentState::Sent && x.amount == 50_000)
    );
    let r = p
        .record_reconciliation(
            &answer("sha-1", 2),
            &[
                update(pays[0].id, PaymentState::Sent, PaymentState::Paid),
                update(pays[1].id, PaymentState::Sent, PaymentState::Failed),
            ],
            &by("m1"),
        )
        .await
        .unwrap();
    assert_eq!(p.reconciliation("sha-1").await.unwrap().unwrap().id, r.id);
    // The same file again, or an update from a state the payment has left, writes nothing.
    let err = p
        .record_reconciliation(&answer("sha-1", 2), &[], &by("m1"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                code: "answer_imported",
                ..
            }
        ),
        "{err}"
    );
    let err = p
        .record_reconciliation(
            &answer("sha-2", 1),
            &[update(pays[1].id, PaymentState::Sent, PaymentState::Paid)],
            &by("m1"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                code: "payments_changed",
                ..
            }
        ),
        "{err}"
    );
    assert!(p.reconciliation("sha-2").await.unwrap().is_none());

    // The failed payment goes into the next batch, as a second attempt.
    let b2 = p.open_batch(c, "bank", &by("m1")).await.unwrap().unwrap();
    let retry = p.batch_payments(b2.id, None, 100).await.unwrap();
    assert_eq!(retry.len(), 1);
    assert_eq!(
        (retry[0].household_id, retry[0].attempt),
        (pays[1].household_id, 2)
    );
    p.mark_exported(b2.id, "def", &by("m1")).await.unwrap();
    // A paid payment reversed is owed again.
    p.record_reconciliation(
        &answer("sha-3", 2),
        &[
            update(retry[0].id, PaymentState::Sent, PaymentState::Paid),
            update(pays[0].id, PaymentState::Paid, PaymentState::Reversed),
        ],
        &by("m1"),
    )
    .await
    .unwrap();
    let b3 = p.open_batch(c, "bank", &by("m1")).await.unwrap().unwrap();
    let again = p.batch_payments(b3.id, None, 100).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].household_id, again[0].attempt), (ids[0], 2));

    // The household without means was never put in a batch; once it has one, it is.
    let listed = p
        .payments(&PaymentFilter {
            household_id: Some(ids[2]),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(listed.is_empty());
    let everyone = p
        .payments(&PaymentFilter {
            cycle_id: Some(c),
            territories: vec!["01".into()],
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(everyone.len(), 4);
    let elsewhere = p
        .payments(&PaymentFilter {
            cycle_id: Some(c),
            territories: vec!["06".into()],
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(elsewhere.is_empty());
    let paid = p
        .payments(&PaymentFilter {
            cycle_id: Some(c),
            state: Some(PaymentState::Paid),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0].booked_on, Some(date!(2026 - 04 - 05)));
}

/// The database itself keeps one live attempt per entitlement, whatever writes to it: a second
/// live attempt is refused, an ended one (failed, reversed) is not live, and a row that says it
/// is ended but live is refused.
async fn the_database_keeps_one_live_attempt(db: &TestDb) {
    let (_, c) = approved(db).await;
    let p = &db.payments;
    let b = p.open_batch(c, "bank", &by("m1")).await.unwrap().unwrap();
    let first = p.batch_payments(b.id, None, 1).await.unwrap().remove(0);
    let copy = |attempt: u32, state: &str, live: &str| {
        format!(
            "INSERT INTO payments (cycle_id, household_id, person_id, batch_id, attempt, amount, kind, \
             means, holder, reference, state, live) \
             SELECT cycle_id, household_id, person_id, batch_id, {attempt}, amount, kind, means, holder, \
             reference, '{state}', {live} FROM payments WHERE id = {}",
            first.id
        )
    };
    assert!(
        db.execute(&copy(2, "sent", "1")).await.is_err(),
        "a second live attempt is refused"
    );
    assert!(
        db.execute(&copy(3, "failed", "1")).await.is_err(),
        "an ended attempt marked live is refused"
    );
    assert!(
        db.execute(&copy(4, "paid", "NULL")).await.is_err(),
        "a paid attempt not marked live is refused"
    );
    assert_eq!(db.execute(&copy(5, "failed", "NULL")).await.unwrap(), 1);
    assert_eq!(db.execute(&copy(6, "reversed", "NULL")).await.unwrap(), 1);
    // Failing the live one through the port lets a next batch try again: a fourth attempt (the
    // number follows the attempts recorded, three by now).
    p.mark_exported(b.id, "abc", &by("m1")).await.unwrap();
    p.record_reconciliation(
        &answer("sha-live", 1),
        &[update(first.id, PaymentState::Sent, PaymentState::Failed)],
        &by("m1"),
    )
    .await
    .unwrap();
    let b2 = p.open_batch(c, "bank", &by("m1")).await.unwrap().unwrap();
    let retry = p.batch_payments(b2.id, None, 10).await.unwrap();
    assert_eq!(retry.len(), 1);
    assert_eq!(
        (retry[0].household_id, retry[0].attempt),
        (first.household_id, 4)
    );
}

async fn adhesions_are_sent_once_and_answered_once(db: &TestDb) {
    let ids = three_enrolled(db).await;
    let p = &db.payments;
    // The elder of each household is eligible for INS; enrol the first two.
    let mut persons = Vec::new();
    for h in &ids[..2] {
        let e = db
            .programmes
            .enrolments(&sanad_app::targeting::EnrolmentFilter {
                programme_code: Some("INS".into()),
                household_id: Some(*h),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(e.len(), 1);
        db.programmes
            .change_enrolment(
                "INS",
                *h,
                e[0].person_id,
                EnrolmentState::Enrolled,
                "ok",
                &by("m1"),
            )
            .await
            .unwrap();
        persons.push(e[0].person_id.unwrap());
    }
    let b = p
        .open_adhesion_batch("INS", &by("m1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.adhesions, 2);
    assert_eq!(
        p.open_adhesion_batch("INS", &by("m1"))
            .await
            .unwrap()
            .unwrap()
            .id,
        b.id
    );
    let lines = p.adhesion_lines(b.id, None, 10).await.unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].family_name, "Idrissi");
    assert_eq!(lines[0].birth_date, date!(1950 - 01 - 01));
    p.mark_adhesions_exported(b.id, "x", &by("m1"))
        .await
        .unwrap();
    assert!(
        p.open_adhesion_batch("INS", &by("m1"))
            .await
            .unwrap()
            .is_none()
    );
    let checks = p
        .adhesion_checks(&[lines[0].id, lines[1].id])
        .await
        .unwrap();
    assert!(checks.iter().all(|(_, s)| *s == AdhesionState::Sent));
    let a = p
        .record_adhesion_answer(
            "ans-1",
            "answer.csv",
            2,
            &[
                AdhesionUpdate {
                    id: lines[0].id,
                    from: AdhesionState::Sent,
                    to: AdhesionState::Accepted,
                    insurer_number: "AMO-1".into(),
                    reason_code: String::new(),
                    reason: String::new(),
                },
                AdhesionUpdate {
                    id: lines[1].id,
                    from: AdhesionState::Sent,
                    to: AdhesionState::Rejected,
                    insurer_number: String::new(),
                    reason_code: "R01".into(),
                    reason: "no national id".into(),
                },
            ],
            0,
            &by("m1"),
        )
        .await
        .unwrap();
    assert_eq!((a.accepted, a.rejected), (1, 1));
    assert!(p.adhesion_answer("ans-1").await.unwrap().is_some());
    // The rejected one goes into the next file.
    let b2 = p
        .open_adhesion_batch("INS", &by("m1"))
        .await
        .unwrap()
        .unwrap();
    let again = p.adhesion_lines(b2.id, None, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].person_id, again[0].attempt),
        (lines[1].person_id, 2)
    );
    let all = p.adhesions("INS", Some(ids[0]), None, 10).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].insurer_number, "AMO-1");
}

async fn payment_means_are_kept_and_replaced(db: &TestDb) {
    let ids = three_enrolled(db).await;
    let p = &db.payments;
    assert!(p.payment_means(ids[2]).await.unwrap().is_none());
    let m = p.payment_means(ids[0]).await.unwrap().unwrap();
    assert_eq!((m.kind.as_str(), m.updated_by.as_str()), ("bank", "m1"));
    p.set_payment_means(
        &MeansRecord {
            kind: "cash".into(),
            details: "{}".into(),
            ..m.clone()
        },
        &by("m2"),
    )
    .await
    .unwrap();
    let m = p.payment_means(ids[0]).await.unwrap().unwrap();
    assert_eq!((m.kind.as_str(), m.updated_by.as_str()), ("cash", "m2"));
    let missing = HouseholdId::from_serial(9_999_999).unwrap();
    let err = p
        .set_payment_means(
            &MeansRecord {
                household_id: missing,
                ..m
            },
            &by("m2"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err}");
}

macro_rules! contract {
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

/// An installation from before the live mark (migrations up to 0016) with payments in every
/// state: the migration marks the live ones, keeps every row and id, and the next batch takes
/// exactly the ended ones again.
async fn payments_of_an_old_database_migrate(db: &TestDb, migrate: impl AsyncFnOnce()) {
    let (ids, c) = approved(db).await;
    let p = &db.payments;
    db.execute(
        &format!(
            "INSERT INTO payment_batches (cycle_id, kind, state, created_by, created_at, payments, total) \
             VALUES ({c}, 'bank', 'exported', 'm1', '2026-03-01T10:00:00Z', 3, 150000)"
        ),
    )
    .await
    .unwrap();
    // The first household failed once then was paid; the second was paid then reversed (the
    // third has no means of payment).
    let rows = [
        (ids[0], 1, "failed"),
        (ids[0], 2, "paid"),
        (ids[1], 1, "reversed"),
    ];
    for (h, attempt, state) in rows {
        db.execute(
            &format!(
                "INSERT INTO payments (cycle_id, household_id, person_id, batch_id, attempt, amount, kind, \
                 means, holder, reference, state) SELECT {c}, {}, 0, b.id, {attempt}, 50000, 'bank', '{{}}', \
                 'x', 'r', '{state}' FROM payment_batches b WHERE b.cycle_id = {c}",
                h.serial()
            ),
        )
        .await
        .unwrap();
    }
    let of_cycle = PaymentFilter {
        cycle_id: Some(c),
        limit: 10,
        ..Default::default()
    };
    let before = p.payments(&of_cycle).await.unwrap();
    migrate().await;
    let after = p.payments(&of_cycle).await.unwrap();
    assert_eq!(
        before.iter().map(|x| (x.id, x.state)).collect::<Vec<_>>(),
        after.iter().map(|x| (x.id, x.state)).collect::<Vec<_>>()
    );
    let b = p.open_batch(c, "bank", &by("m1")).await.unwrap().unwrap();
    let next = p.batch_payments(b.id, None, 10).await.unwrap();
    let again: Vec<_> = next.iter().map(|x| (x.household_id, x.attempt)).collect();
    assert_eq!(
        again,
        vec![(ids[1], 2)],
        "the reversed is owed again; the one paid after a failure is not"
    );
    let newest = before.iter().map(|x| x.id).max().unwrap();
    assert!(next.iter().all(|x| x.id > newest), "ids keep counting");
}

#[tokio::test]
async fn sqlite_payments_of_an_old_database_migrate() {
    let db = testkit::sqlite_unmigrated().await;
    db.sqlite
        .as_ref()
        .unwrap()
        .migrate_before(17)
        .await
        .unwrap();
    let store = db.store.clone();
    payments_of_an_old_database_migrate(&db, async || store.migrate().await.unwrap()).await;
}

#[tokio::test]
async fn postgres_payments_of_an_old_database_migrate() {
    let Some(db) = testkit::postgres_empty().await else {
        return;
    };
    db.postgres
        .as_ref()
        .unwrap()
        .migrate_before(17)
        .await
        .unwrap();
    let store = db.store.clone();
    payments_of_an_old_database_migrate(&db, async || store.migrate().await.unwrap()).await;
    db.cleanup().await;
}

contract!(
    a_cycle_is_computed_once_and_approved_by_a_second_manager,
    a_cycle_over_its_cap_is_not_computed,
    what_is_owed_is_paid_once_and_failures_are_tried_again,
    the_database_keeps_one_live_attempt,
    adhesions_are_sent_once_and_answered_once,
    payment_means_are_kept_and_replaced,
);
