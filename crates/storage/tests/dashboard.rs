//! Contract of the dashboard's port, on SQLite and PostgreSQL: households, scores, enrolments,
//! payments and registrations counted per province (and programme, state, cycle, month) by the
//! database, as the stories of the other ports leave them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use sanad_app::payments::{
    Entitlement, MeansRecord, NewCycle, NewReconciliation, PaymentState, PaymentUpdate,
    ReconcileCounts,
};
use sanad_app::store::Change;
use sanad_app::targeting::{
    Assessment, Assessor, ContributionRecord, Decision, EnrolmentState, ModelRecord, ScoreRecord,
};
use sanad_domain::{
    Amount, DwellingType, HouseholdData, HouseholdFacts, HouseholdInput, MemberInput, Occupation,
    PersonData, Relation, Schooling, Sex, Tenure,
};
use sanad_storage::testkit::{self, TestDb};
use time::macros::{date, datetime};

/// index = 9 + rooms / 10; every household is eligible to `CASH`.
struct ByRooms;

impl Assessor for ByRooms {
    fn assess(&self, facts: &HouseholdFacts, _on: time::Date) -> Assessment {
        let rooms = f64::from(facts.rooms);
        Assessment {
            score: Some(ScoreRecord {
                model_id: "rooms".into(),
                model_version: 1,
                index: 9.0 + rooms / 10.0,
                baseline: 9.0,
                segment: "all".into(),
                contributions: vec![ContributionRecord {
                    variable: "rooms".into(),
                    value: rooms,
                    effect: rooms / 10.0,
                }],
            }),
            decisions: vec![Decision {
                programme_code: "CASH".into(),
                programme_version: 1,
                eligible: true,
                reason: String::new(),
                beneficiaries: None,
                amount: Amount::from_centimes(50_000).unwrap(),
                flags: Vec::new(),
            }],
        }
    }

    fn model(&self) -> Option<(String, u32)> {
        Some(("rooms".into(), 1))
    }

    fn programmes(&self) -> Vec<(String, u32)> {
        vec![("CASH".into(), 1)]
    }
}

fn by(actor: &str) -> Change {
    Change {
        actor: actor.into(),
        reason: "dashboard story".into(),
        at: datetime!(2026-03-01 10:00:00 UTC),
    }
}

fn household(commune: &str, rooms: u16) -> HouseholdInput {
    HouseholdInput {
        data: HouseholdData {
            commune_code: commune.into(),
            area: None,
            address: String::new(),
            dwelling_type: DwellingType::Apartment,
            tenure: Tenure::Tenant,
            rooms,
            water_spending: Amount::ZERO,
            electricity_spending: Amount::ZERO,
            phone_spending: Amount::ZERO,
            gas_spending: Amount::ZERO,
            assets: Default::default(),
            declared_income: Amount::ZERO,
        },
        members: vec![MemberInput {
            person_id: None,
            data: PersonData {
                relation: Relation::Head,
                first_name: "Omar".into(),
                last_name: "Idrissi".into(),
                first_name_ar: None,
                last_name_ar: None,
                sex: Sex::Male,
                birth_date: date!(1970 - 01 - 01),
                national_id: None,
                phone: None,
                disability: sanad_domain::Disability::None,
                schooling: Schooling::Primary,
                occupation: Occupation::SelfEmployed,
            },
        }],
    }
}

async fn households_are_counted_per_province_programme_cycle_and_month(db: &TestDb) {
    let d = &db.dashboard;
    assert!(d.province_counts(&[]).await.unwrap().is_empty());
    assert!(d.paid_by_cycle().await.unwrap().is_empty());
    // One household before the assessor is installed: registered, not scored.
    db.store
        .register_household(&household("05.091.03.01", 2), &by("agent"))
        .await
        .unwrap();
    // The scores name their model: it is recorded first.
    db.targeting
        .import_model(
            &ModelRecord {
                id: "rooms".into(),
                version: 1,
                description: "rooms".into(),
                definition: "rooms".into(),
                variables: vec!["rooms".into()],
                imported_by: String::new(),
                imported_at: datetime!(2026-03-01 10:00:00 UTC),
                activated_at: None,
                active: false,
            },
            &by("m1"),
        )
        .await
        .unwrap();
    db.targeting.assessor_slot().set(Some(Arc::new(ByRooms)));
    let mut tanger = Vec::new();
    for rooms in [1, 2, 5] {
        let h = db
            .store
            .register_household(&household("01.511.01.01", rooms), &by("agent"))
            .await
            .unwrap();
        tanger.push(h.id);
    }
    // Index 9.1 and 9.2 are at or under 9.2; 9.5 is above; none is under 9.
    let counts = d.province_counts(&[9.2, 9.0]).await.unwrap();
    let of = |code: &str| counts.iter().find(|c| c.province_code == code).unwrap();
    assert_eq!((of("01.511").households, of("01.511").scored), (3, 3));
    assert_eq!(of("01.511").region_code, "01");
    assert_eq!((of("05.091").households, of("05.091").scored), (1, 0));

    assert_eq!(of("01.511").under, vec![2, 0]);
    assert_eq!(of("05.091").under, vec![0, 0], "not scored");
    assert_eq!(
        d.province_counts(&[]).await.unwrap()[0].under,
        Vec::<u64>::new()
    );

    // Two of the three enrolled, the third still only eligible.
    for h in &tanger[..2] {
        db.programmes
            .change_enrolment("CASH", *h, None, EnrolmentState::Enrolled, "ok", &by("m1"))
            .await
            .unwrap();
    }
    let states = d.enrolments_by_province().await.unwrap();
    let n = |state| {
        states
            .iter()
            .find(|e| e.province_code == "01.511" && e.programme_code == "CASH" && e.state == state)
            .map(|e| e.households)
            .unwrap_or(0)
    };
    assert_eq!(
        (n(EnrolmentState::Enrolled), n(EnrolmentState::Eligible)),
        (2, 1)
    );
    assert!(states.iter().all(|e| e.province_code == "01.511"));

    // A cycle pays the two enrolled; one payment comes back paid.
    let p = &db.payments;
    for h in &tanger[..2] {
        p.set_payment_means(
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
    let c = p
        .start_cycle(
            &NewCycle {
                programme_code: "CASH".into(),
                programme_version: 1,
                period: "2026-04".into(),
                period_start: date!(2026 - 04 - 01),
                budget_cap: None,
            },
            &by("m1"),
        )
        .await
        .unwrap();
    let inputs = p.cycle_inputs("CASH", None, tanger[2]).await.unwrap();
    let rows: Vec<Entitlement> = inputs
        .iter()
        .map(|i| Entitlement {
            cycle_id: c.id,
            household_id: i.household_id,
            person_id: i.person_id,
            household_version: i.household_version,
            index: None,
            amount: 50_000,
        })
        .collect();
    assert_eq!(rows.len(), 2);
    p.record_entitlements(c.id, &rows, tanger[2], 0)
        .await
        .unwrap();
    p.finish_cycle(c.id, &by("m1")).await.unwrap();
    p.approve_cycle(c.id, &by("m2")).await.unwrap();
    let b = p
        .open_batch(c.id, "bank", &by("m1"))
        .await
        .unwrap()
        .unwrap();
    let pays = p.batch_payments(b.id, None, 100).await.unwrap();
    p.mark_exported(b.id, "sha-file", &by("m1")).await.unwrap();
    let update = |id, to| PaymentUpdate {
        id,
        from: PaymentState::Sent,
        to,
        reason_code: String::new(),
        reason: String::new(),
        booked_on: Some(date!(2026 - 04 - 05)),
    };
    p.record_reconciliation(
        &NewReconciliation {
            file_sha256: "sha-answer".into(),
            file_name: "answer.xml".into(),
            format: "camt054".into(),
            lines: 2,
            counts: ReconcileCounts::default(),
        },
        &[
            update(pays[0].id, PaymentState::Paid),
            update(pays[1].id, PaymentState::Failed),
        ],
        &by("m1"),
    )
    .await
    .unwrap();
    let paid = d.paid_by_cycle().await.unwrap();
    assert_eq!(paid.len(), 1, "{paid:?}");
    let row = &paid[0];
    assert_eq!(
        (
            row.programme_code.as_str(),
            row.cycle_id,
            row.period.as_str()
        ),
        ("CASH", c.id, "2026-04")
    );
    assert_eq!(
        (row.province_code.as_str(), row.households, row.amount),
        ("01.511", 1, 50_000)
    );

    // Every household was registered on 2026-03-01 (the change's instant).
    let months = d.registrations_by_month().await.unwrap();
    let total: u64 = months.iter().map(|m| m.households).sum();
    assert_eq!(total, 4);
    assert!(months.iter().all(|m| m.month == "2026-03"), "{months:?}");
    assert_eq!(months.len(), 2, "two provinces: {months:?}");
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

contract!(households_are_counted_per_province_programme_cycle_and_month);
