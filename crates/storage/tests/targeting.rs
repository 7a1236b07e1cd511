//! Contract of the targeting and programme ports, on SQLite and PostgreSQL: models are versioned
//! and one is active; a household written is scored and its enrolments follow, in the write's
//! transaction; managers move enrolments by the allowed steps; a rescoring run resumes where it
//! stopped and skips households changed meanwhile.
//!
//! The assessor here is a small fixed rule (the real one, built from the index model and the
//! programme files, is tested in `sanad-app`): these tests are about what the stores keep.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use sanad_app::store::Change;
use sanad_app::targeting::{
    Assessed, Assessment, Assessor, ContributionRecord, Decision, EnrolmentFilter, EnrolmentState,
    ModelRecord, ProgrammeRecord, ScoreRecord,
};
use sanad_app::{RegistryStore, StoreError};
use sanad_domain::{
    Amount, DwellingType, HouseholdData, HouseholdFacts, HouseholdInput, MemberInput, NationalId,
    Occupation, PersonData, Relation, Schooling, Sex, Tenure,
};
use sanad_storage::testkit::{self, TestDb};
use time::macros::{date, datetime};

/// index = 9.0 + 0.1 × rooms; the household programme `FAM` takes households under 9.32 with a
/// child; the person programme `OLD` takes members aged 60 or more of households under 9.5.
struct FixedRule;

impl Assessor for FixedRule {
    fn assess(&self, facts: &HouseholdFacts, _on: time::Date) -> Assessment {
        let rooms = f64::from(facts.rooms);
        let index = 9.0 + 0.1 * rooms;
        let children = facts.members.iter().filter(|m| m.age < 18).count();
        let fam_ok = index < 9.32 && children > 0;
        let old: Vec<_> = facts
            .members
            .iter()
            .filter(|m| m.age >= 60)
            .filter_map(|m| m.person_id)
            .collect();
        Assessment {
            score: Some(ScoreRecord {
                model_id: "test".into(),
                model_version: 1,
                index,
                baseline: 9.0,
                segment: "all".into(),
                contributions: vec![ContributionRecord {
                    variable: "rooms".into(),
                    value: rooms,
                    effect: 0.1 * rooms,
                }],
            }),
            decisions: vec![
                Decision {
                    programme_code: "FAM".into(),
                    programme_version: 1,
                    eligible: fam_ok,
                    reason: if fam_ok {
                        String::new()
                    } else if children == 0 {
                        "no-child".into()
                    } else {
                        "index-above-threshold".into()
                    },
                    beneficiaries: None,
                    amount: Amount::from_centimes(100_000 * children as i64).unwrap(),
                    flags: Vec::new(),
                },
                Decision {
                    programme_code: "OLD".into(),
                    programme_version: 1,
                    eligible: index < 9.5 && !old.is_empty(),
                    reason: if index < 9.5 {
                        String::new()
                    } else {
                        "index-above-threshold".into()
                    },
                    beneficiaries: Some(old),
                    amount: Amount::ZERO,
                    flags: Vec::new(),
                },
            ],
        }
    }

    fn model(&self) -> Option<(String, u32)> {
        Some(("test".into(), 1))
    }

    fn programmes(&self) -> Vec<(String, u32)> {
        vec![("FAM".into(), 1), ("OLD".into(), 1)]
    }
}

fn change(reason: &str) -> Change {
    Change {
        actor: "manager".into(),
        reason: reason.into(),
        at: datetime!(2026-03-01 10:00:00 UTC),
    }
}

fn person(relation: Relation, first: &str, birth: time::Date, nid: Option<&str>) -> MemberInput {
    MemberInput {
        person_id: None,
        data: PersonData {
            relation,
            first_name: first.into(),
            last_name: "Amrani".into(),
            first_name_ar: None,
            last_name_ar: None,
            sex: Sex::Female,
            birth_date: birth,
            national_id: nid.map(|n| NationalId::parse(n).unwrap()),
            phone: None,
            disability: sanad_domain::Disability::None,
            schooling: Schooling::Primary,
            occupation: Occupation::Homemaker,
        },
    }
}

/// A household in Tanger (region 01) with `rooms` rooms: a head, a grandmother of 70 and a child.
fn household(rooms: u16, nid: &str) -> HouseholdInput {
    HouseholdInput {
        data: HouseholdData {
            commune_code: "01.511.01.01".into(),
            area: Some(sanad_domain::Area::Urban),
            address: String::new(),
            dwelling_type: DwellingType::Apartment,
            tenure: Tenure::Tenant,
            rooms,
            water_spending: Amount::ZERO,
            electricity_spending: Amount::parse("80").unwrap(),
            phone_spending: Amount::ZERO,
            gas_spending: Amount::parse("40").unwrap(),
            assets: Default::default(),
            declared_income: Amount::parse("1500").unwrap(),
        },
        members: vec![
            person(Relation::Head, "Fatima", date!(1990 - 05 - 01), Some(nid)),
            person(Relation::Parent, "Zahra", date!(1955 - 01 - 01), None),
            person(Relation::Child, "Salma", date!(2018 - 09 - 01), None),
        ],
    }
}

fn model(version: u32, definition: &str) -> ModelRecord {
    ModelRecord {
        id: "pmt".into(),
        version,
        description: "test model".into(),
        definition: definition.into(),
        variables: vec!["rooms".into()],
        imported_by: String::new(),
        imported_at: datetime!(2026-03-01 10:00:00 UTC),
        activated_at: None,
        active: false,
    }
}

async fn models_are_versioned_and_one_is_active(db: &TestDb) {
    let t = &db.targeting;
    assert!(
        t.import_model(&model(1, "a = 1"), &change("import"))
            .await
            .unwrap()
    );
    // The same definition again changes nothing; another one under the same version is refused.
    assert!(
        !t.import_model(&model(1, "a = 1"), &change("again"))
            .await
            .unwrap()
    );
    let err = t
        .import_model(&model(1, "a = 2"), &change("forged"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                code: "model_version_exists",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        t.import_model(&model(2, "a = 2"), &change("import"))
            .await
            .unwrap()
    );
    assert!(t.active_model().await.unwrap().is_none());
    t.activate_model("pmt", 1, &change("first")).await.unwrap();
    t.activate_model("pmt", 2, &change("second")).await.unwrap();
    let active = t.active_model().await.unwrap().unwrap();
    assert_eq!((active.id.as_str(), active.version), ("pmt", 2));
    assert!(active.activated_at.is_some());
    let all = t.models().await.unwrap();
    assert_eq!(all.iter().filter(|m| m.active).count(), 1);
    assert_eq!(all.len(), 2);
    assert!(matches!(
        t.activate_model("pmt", 9, &change("missing")).await,
        Err(StoreError::NotFound)
    ));
    let v1 = t.model("pmt", 1).await.unwrap().unwrap();
    assert_eq!(v1.definition, "a = 1");
    assert_eq!(v1.imported_by, "manager");
}

async fn prepare(db: &TestDb) {
    db.targeting
        .import_model(&model(1, "test"), &change("import"))
        .await
        .unwrap();
    // The fixed rule scores with model `test` version 1: record it under that name.
    db.targeting
        .import_model(
            &ModelRecord {
                id: "test".into(),
                ..model(1, "test")
            },
            &change("import"),
        )
        .await
        .unwrap();
    db.targeting.assessor_slot().set(Some(Arc::new(FixedRule)));
}

async fn a_household_written_is_scored_and_its_enrolments_follow(db: &TestDb) {
    prepare(db).await;
    let registry: &Arc<dyn RegistryStore> = &db.store;
    // Two rooms: index 9.2, under both thresholds.
    let h = registry
        .register_household(&household(2, "AB123456"), &change("registration"))
        .await
        .unwrap();
    let score = db.targeting.household_score(h.id).await.unwrap().unwrap();
    assert_eq!(score.household_version, 1);
    assert!((score.score.index - 9.2).abs() < 1e-9);
    assert_eq!(score.score.contributions[0].variable, "rooms");
    assert!((score.score.contributions[0].effect - 0.2).abs() < 1e-4);

    let enrolments = db
        .programmes
        .enrolments(&EnrolmentFilter {
            household_id: Some(h.id),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(enrolments.len(), 2, "{enrolments:?}");
    let fam = enrolments
        .iter()
        .find(|e| e.programme_code == "FAM")
        .unwrap();
    assert_eq!(fam.state, EnrolmentState::Eligible);
    assert_eq!(fam.person_id, None);
    assert_eq!(fam.amount, Amount::parse("1000").unwrap());
    let old = enrolments
        .iter()
        .find(|e| e.programme_code == "OLD")
        .unwrap();
    let grandmother = h
        .members
        .iter()
        .find(|m| m.data.first_name == "Zahra")
        .unwrap();
    assert_eq!(old.person_id, Some(grandmother.id));

    // A manager enrols the household; suspending an eligible one is not a move they can make.
    let enrolled = db
        .programmes
        .change_enrolment(
            "FAM",
            h.id,
            None,
            EnrolmentState::Enrolled,
            "committee 12",
            &change("enrol"),
        )
        .await
        .unwrap();
    assert_eq!(enrolled.state, EnrolmentState::Enrolled);
    let err = db
        .programmes
        .change_enrolment(
            "OLD",
            h.id,
            Some(grandmother.id),
            EnrolmentState::Suspended,
            "x",
            &change("x"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                code: "enrolment_transition",
                ..
            }
        ),
        "{err}"
    );

    // Five rooms: index 9.5, above both thresholds. The household leaves, with the reason.
    let mut richer = household(5, "AB123456");
    for (m, p) in richer.members.iter_mut().zip(&h.members) {
        m.person_id = Some(p.id);
    }
    let h2 = registry
        .update_household(h.id, 1, &richer, &change("moved to a larger flat"))
        .await
        .unwrap();
    let score = db.targeting.household_score(h.id).await.unwrap().unwrap();
    assert_eq!(score.household_version, h2.version);
    let fam = db
        .programmes
        .enrolments(&EnrolmentFilter {
            household_id: Some(h.id),
            programme_code: Some("FAM".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(fam[0].state, EnrolmentState::Exited);
    assert_eq!(fam[0].reason, "index-above-threshold");

    let history = db.programmes.enrolment_history(h.id).await.unwrap();
    let fam_steps: Vec<_> = history
        .iter()
        .filter(|e| e.programme_code == "FAM")
        .map(|e| (e.from, e.to))
        .collect();
    assert_eq!(
        fam_steps,
        vec![
            (None, EnrolmentState::Eligible),
            (Some(EnrolmentState::Eligible), EnrolmentState::Enrolled),
            (Some(EnrolmentState::Enrolled), EnrolmentState::Exited),
        ]
    );
    // Every step is in the audit log.
    let events = registry.audit_events(0, 1000).await.unwrap();
    assert!(
        events
            .iter()
            .filter(|e| e.action == "enrolment.change")
            .count()
            >= 3,
        "{:?}",
        events.iter().map(|e| &e.action).collect::<Vec<_>>()
    );

    let counts = db.programmes.enrolment_counts(Some("FAM")).await.unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!(counts[0].state, EnrolmentState::Exited);
    assert_eq!(counts[0].region_code, "01");
}

async fn a_refused_write_leaves_no_score_and_no_enrolment(db: &TestDb) {
    prepare(db).await;
    let registry = &db.store;
    registry
        .register_household(&household(2, "AB123456"), &change("first"))
        .await
        .unwrap();
    // The same national id again: the registration is refused as a whole.
    let err = registry
        .register_household(&household(1, "AB123456"), &change("second"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    let all = db
        .programmes
        .enrolments(&EnrolmentFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let households: std::collections::BTreeSet<_> = all.iter().map(|e| e.household_id).collect();
    assert_eq!(households.len(), 1);
    let rows = db.targeting.index_rows(None, 100).await.unwrap();
    assert_eq!(rows.len(), 1);
}

async fn managers_enrol_the_eligible_of_their_territory(db: &TestDb) {
    prepare(db).await;
    let mut ids = Vec::new();
    for (i, commune) in ["01.511.01.01", "01.511.01.01", "02.411.01.23"]
        .iter()
        .enumerate()
    {
        let mut input = household(1, &format!("AB{:06}", 100 + i));
        input.data.commune_code = commune.to_string();
        input.data.area = None;
        ids.push(
            db.store
                .register_household(&input, &change("r"))
                .await
                .unwrap()
                .id,
        );
    }
    let n = db
        .programmes
        .enrol_eligible("FAM", &["01".to_string()], &change("cycle of March"))
        .await
        .unwrap();
    assert_eq!(n, 2);
    let enrolled = db
        .programmes
        .enrolments(&EnrolmentFilter {
            programme_code: Some("FAM".into()),
            state: Some(EnrolmentState::Enrolled),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        enrolled.iter().map(|e| e.household_id).collect::<Vec<_>>(),
        ids[..2].to_vec()
    );
    // Nothing left to enrol there: a second run enrols none.
    assert_eq!(
        db.programmes
            .enrol_eligible("FAM", &["01".to_string()], &change("again"))
            .await
            .unwrap(),
        0
    );
}

async fn a_rescoring_run_resumes_and_skips_households_changed_meanwhile(db: &TestDb) {
    prepare(db).await;
    // Households written without an assessor: no score yet.
    db.targeting.assessor_slot().set(None);
    let mut ids = Vec::new();
    for i in 0..5 {
        let input = household(1 + i as u16, &format!("CD{:06}", i));
        ids.push(
            db.store
                .register_household(&input, &change("r"))
                .await
                .unwrap(),
        );
    }
    assert!(db.targeting.index_rows(None, 10).await.unwrap().is_empty());

    let on = date!(2026 - 03 - 01);
    let run = db
        .targeting
        .start_rescore(Some(("test", 1)), "FAM@1,OLD@1", false, change("x").at)
        .await
        .unwrap();
    let first = db.targeting.facts_batch(None, 3, on).await.unwrap();
    assert_eq!(first.len(), 3);
    assert_eq!(first[0].facts.members.len(), 3);
    assert_eq!(first[0].facts.region_code, "01");
    assert_eq!(first[0].facts.members[1].age, 71);
    let assessed: Vec<Assessed> = first
        .iter()
        .map(|f| Assessed {
            household_id: f.household_id,
            version: f.version,
            assessment: FixedRule.assess(&f.facts, on),
        })
        .collect();
    let out = db
        .targeting
        .record_assessments(assessed, Some(run.id), &change("rescore"))
        .await
        .unwrap();
    assert_eq!(out.scored, 3);
    assert_eq!(out.stale, 0);

    // Interrupted here. The same run comes back, from where it stopped.
    let resumed = db
        .targeting
        .start_rescore(Some(("test", 1)), "FAM@1,OLD@1", false, change("x").at)
        .await
        .unwrap();
    assert_eq!(resumed.id, run.id);
    assert_eq!(resumed.last_household, Some(first[2].household_id));
    assert_eq!(resumed.scored, 3);

    let rest = db
        .targeting
        .facts_batch(resumed.last_household, 100, on)
        .await
        .unwrap();
    assert_eq!(rest.len(), 2);
    // One of them changes before its batch is recorded: its assessment is stale and skipped.
    let moved = &ids[4];
    let mut input = household(9, "CD000004");
    for (m, p) in input.members.iter_mut().zip(&moved.members) {
        m.person_id = Some(p.id);
    }
    db.store
        .update_household(moved.id, 1, &input, &change("more rooms"))
        .await
        .unwrap();
    let assessed: Vec<Assessed> = rest
        .iter()
        .map(|f| Assessed {
            household_id: f.household_id,
            version: f.version,
            assessment: FixedRule.assess(&f.facts, on),
        })
        .collect();
    let out = db
        .targeting
        .record_assessments(assessed, Some(run.id), &change("rescore"))
        .await
        .unwrap();
    assert_eq!((out.scored, out.stale), (1, 1));
    let done = db
        .targeting
        .finish_rescore(run.id, change("x").at)
        .await
        .unwrap();
    assert!(done.finished_at.is_some());
    assert_eq!(done.scored, 4);
    // A new run starts afresh.
    let next = db
        .targeting
        .start_rescore(Some(("test", 1)), "FAM@1,OLD@1", false, change("x").at)
        .await
        .unwrap();
    assert_ne!(next.id, run.id);
    assert_eq!(next.last_household, None);

    // A household written with the assessor in place (its enrolments written by the write's
    // transaction), then a batch over everyone: the batch reads those enrolments back and finds
    // nothing to change.
    db.targeting.assessor_slot().set(Some(Arc::new(FixedRule)));
    let first_household = &ids[0];
    let mut input = household(1, "CD000000");
    for (m, p) in input.members.iter_mut().zip(&first_household.members) {
        m.person_id = Some(p.id);
    }
    db.store
        .update_household(first_household.id, 1, &input, &change("same again"))
        .await
        .unwrap();
    let everyone = db.targeting.facts_batch(None, 100, on).await.unwrap();
    let assessed: Vec<Assessed> = everyone
        .iter()
        .map(|f| Assessed {
            household_id: f.household_id,
            version: f.version,
            assessment: FixedRule.assess(&f.facts, on),
        })
        .collect();
    let out = db
        .targeting
        .record_assessments(assessed, Some(next.id), &change("rescore"))
        .await
        .unwrap();
    assert_eq!((out.scored, out.stale, out.transitions), (5, 0, 0));
}

async fn programmes_keep_every_version(db: &TestDb) {
    let p = &db.programmes;
    let record = |version: u32, definition: &str| ProgrammeRecord {
        code: "ASD-FAM".into(),
        version,
        definition: definition.into(),
        defined_by: String::new(),
        defined_at: datetime!(2026-03-01 10:00:00 UTC),
    };
    assert!(
        p.define_programme(&record(1, "v1"), &change("define"))
            .await
            .unwrap()
    );
    assert!(
        !p.define_programme(&record(1, "v1"), &change("again"))
            .await
            .unwrap()
    );
    let err = p
        .define_programme(&record(1, "v1b"), &change("edit"))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::Conflict {
            code: "programme_version_exists",
            ..
        }
    ));
    assert!(
        p.define_programme(&record(3, "v3"), &change("amounts of 2026"))
            .await
            .unwrap()
    );
    let err = p
        .define_programme(&record(2, "v2"), &change("late"))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::Conflict {
            code: "programme_version_old",
            ..
        }
    ));
    let latest = p.programmes().await.unwrap();
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].version, 3);
    assert_eq!(
        p.programme("ASD-FAM", Some(1))
            .await
            .unwrap()
            .unwrap()
            .definition,
        "v1"
    );
    assert_eq!(
        p.programme("ASD-FAM", None).await.unwrap().unwrap().version,
        3
    );
    assert!(p.programme("NONE", None).await.unwrap().is_none());
}

/// `households` households of `household(2, …)` (index 9.2, a child: eligible for `FAM`) with
/// serials from `first`, as an import brings them.
fn import_batch(households: u64, first: u64) -> sanad_app::store::RegistryBatch {
    let at = datetime!(2026-02-20 08:00:00 UTC);
    let mut batch = sanad_app::store::RegistryBatch::default();
    for i in 0..households {
        let serial = first + i;
        let id = sanad_domain::HouseholdId::from_serial(serial).unwrap();
        let input = household(2, &format!("IM{}", 100_000 + serial));
        let members = input
            .members
            .into_iter()
            .enumerate()
            .map(|(k, m)| sanad_domain::Person {
                id: sanad_domain::PersonId::from_serial(serial * 10 + k as u64).unwrap(),
                household_id: Some(id),
                merged_into: None,
                data: m.data,
            })
            .collect();
        batch.households.push(sanad_domain::Household {
            id,
            version: 1,
            region_code: "01".into(),
            province_code: "01.511".into(),
            data: input.data,
            members,
            created_at: at,
            updated_at: at,
        });
    }
    batch
}

/// Scores with a model the store does not know: writing its scores fails.
struct UnknownModel;

impl Assessor for UnknownModel {
    fn assess(&self, facts: &HouseholdFacts, on: time::Date) -> Assessment {
        let mut a = FixedRule.assess(facts, on);
        if let Some(s) = &mut a.score {
            s.model_id = "unknown".into();
        }
        a
    }

    fn model(&self) -> Option<(String, u32)> {
        Some(("unknown".into(), 1))
    }

    fn programmes(&self) -> Vec<(String, u32)> {
        FixedRule.programmes()
    }
}

async fn an_import_is_scored_and_checked_in_its_own_transaction(db: &TestDb) {
    prepare(db).await;
    let registry = &db.store;
    let progress = sanad_app::store::NoProgress;
    let written = registry
        .import_batch(&import_batch(30, 1), &change("import"), &progress)
        .await
        .unwrap();
    assert!(matches!(
        written,
        sanad_app::store::ImportOutcome::Written {
            households: 30,
            persons: 90
        }
    ));
    let rows = db.targeting.index_rows(None, 100).await.unwrap();
    assert_eq!(rows.len(), 30, "every imported household is scored");
    let first = sanad_domain::HouseholdId::from_serial(1).unwrap();
    let score = db.targeting.household_score(first).await.unwrap().unwrap();
    assert!((score.score.index - 9.2).abs() < 1e-9);
    assert_eq!(score.household_version, 1);
    let fam = db.programmes.enrolment_counts(Some("FAM")).await.unwrap();
    assert_eq!(fam.len(), 1);
    assert_eq!((fam[0].state, fam[0].count), (EnrolmentState::Eligible, 30));
    // The grandmother of each household is eligible for the person programme.
    let old = db.programmes.enrolment_counts(Some("OLD")).await.unwrap();
    assert_eq!(old.iter().map(|c| c.count).sum::<u64>(), 30);
    let history = db.programmes.enrolment_history(first).await.unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert!(
        history
            .iter()
            .all(|e| e.actor == "manager" && e.from.is_none())
    );

    // An import whose assessment cannot be written leaves the store as it was: neither the
    // households nor any score or enrolment.
    db.targeting
        .assessor_slot()
        .set(Some(Arc::new(UnknownModel)));
    let before = registry.region_counts().await.unwrap();
    let err = registry
        .import_batch(&import_batch(10, 31), &change("import"), &progress)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Internal(_) | StoreError::Conflict { .. }),
        "{err}"
    );
    assert_eq!(registry.region_counts().await.unwrap(), before);
    assert_eq!(db.targeting.index_rows(None, 100).await.unwrap().len(), 30);
    let fam = db.programmes.enrolment_counts(Some("FAM")).await.unwrap();
    assert_eq!(fam[0].count, 30);
    let missing = sanad_domain::HouseholdId::from_serial(31).unwrap();
    assert!(registry.household(missing).await.unwrap().is_none());

    // Without an assessor, an import writes its rows only.
    db.targeting.assessor_slot().set(None);
    registry
        .import_batch(&import_batch(5, 41), &change("import"), &progress)
        .await
        .unwrap();
    assert_eq!(db.targeting.index_rows(None, 100).await.unwrap().len(), 30);
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

contract!(
    models_are_versioned_and_one_is_active,
    a_household_written_is_scored_and_its_enrolments_follow,
    a_refused_write_leaves_no_score_and_no_enrolment,
    managers_enrol_the_eligible_of_their_territory,
    a_rescoring_run_resumes_and_skips_households_changed_meanwhile,
    programmes_keep_every_version,
    an_import_is_scored_and_checked_in_its_own_transaction,
);
