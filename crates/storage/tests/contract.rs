//! The storage contract: the same stories run on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use sanad_app::registry::{Purpose, RegistryError};
use sanad_app::store::{
    Account, BatchConflict, Change, HouseholdFilter, ImportOutcome, NoProgress, RegistryBatch,
};
use sanad_app::{Actor, Registry, RegistryStore, Role, StoreError};
use sanad_domain::{
    Amount, Asset, Disability, DwellingType, HouseholdData, HouseholdId, HouseholdInput,
    MemberInput, NationalId, Occupation, PersonData, PersonId, PhoneNumber, Relation, Schooling,
    Sex, Tenure,
};
use sanad_storage::testkit::{self, TestDb};
use time::macros::{date, datetime};

fn agent() -> Actor {
    // A national agent: the territorial rules have their own story below.
    Actor {
        username: "agent.tanger".into(),
        role: Role::Agent,
        territories: Vec::new(),
        household: None,
        scopes: None,
    }
}

fn purpose() -> Purpose {
    Purpose("test".into())
}

fn registry(store: Arc<dyn RegistryStore>) -> Registry {
    Registry::new(store).with_clock(Arc::new(|| datetime!(2026-11-23 10:00:00.123456789 UTC)))
}

fn member(
    relation: Relation,
    first: &str,
    first_ar: &str,
    sex: Sex,
    birth: time::Date,
    nid: Option<&str>,
) -> MemberInput {
    MemberInput {
        person_id: None,
        data: PersonData {
            relation,
            first_name: first.into(),
            last_name: "El Amrani".into(),
            first_name_ar: Some(first_ar.into()),
            last_name_ar: Some("العمراني".into()),
            sex,
            birth_date: birth,
            national_id: nid.map(|n| NationalId::parse(n).unwrap()),
            phone: None,
            disability: Disability::None,
            schooling: Schooling::Primary,
            occupation: Occupation::Inactive,
        },
    }
}

/// A household of five in Tanger, names in French and Arabic script.
fn family_of_five(nid_prefix: &str) -> HouseholdInput {
    HouseholdInput {
        data: HouseholdData {
            commune_code: "01.511.01.0".into(),
            area: None,
            address: "Rue 12 N° 34, Bni Makada".into(),
            dwelling_type: DwellingType::TraditionalHouse,
            tenure: Tenure::Tenant,
            rooms: 3,
            water_spending: Amount::parse("85.50").unwrap(),
            electricity_spending: Amount::parse("210").unwrap(),
            phone_spending: Amount::parse("50").unwrap(),
            gas_spending: Amount::parse("80").unwrap(),
            assets: [Asset::Tv, Asset::Fridge, Asset::SatelliteDish].into(),
            declared_income: Amount::parse("2800").unwrap(),
        },
        members: vec![
            member(
                Relation::Head,
                "Mohamed",
                "محمد",
                Sex::Male,
                date!(1978 - 03 - 14),
                Some(&format!("{nid_prefix}123456")),
            ),
            member(
                Relation::Spouse,
                "Fatima Zahra",
                "فاطمة الزهراء",
                Sex::Female,
                date!(1982 - 11 - 02),
                Some(&format!("{nid_prefix}654321")),
            ),
            member(
                Relation::Child,
                "Youssef",
                "يوسف",
                Sex::Male,
                date!(2008 - 06 - 30),
                None,
            ),
            member(
                Relation::Child,
                "Aïcha",
                "عائشة",
                Sex::Female,
                date!(2012 - 01 - 09),
                None,
            ),
            member(
                Relation::Parent,
                "Itto",
                "إيطو",
                Sex::Female,
                date!(1950 - 01 - 01),
                None,
            ),
        ],
    }
}

/// Every event's hash matches its content, and sequence numbers are unique and increasing.
async fn verify_chain(store: &dyn RegistryStore) -> u64 {
    let mut checked = 0;
    let mut after = 0;
    loop {
        let page = store.audit_events(after, 1000).await.unwrap();
        let Some(last) = page.last() else { break };
        for e in &page {
            assert!(e.seq > after, "event {} after {after}", e.seq);
            assert_eq!(e.expected_hash(), e.hash, "event {}", e.seq);
            assert!(!e.is_chained(), "new events are not chained");
            after = e.seq;
            checked += 1;
        }
        after = last.seq;
    }
    checked
}

async fn an_agent_registers_a_household_of_five_in_arabic_and_french(
    store: Arc<dyn RegistryStore>,
) {
    let reg = registry(store.clone());
    let h = reg
        .register_household(&agent(), &family_of_five("BK"), "first registration")
        .await
        .unwrap();
    assert_eq!(h.version, 1);
    assert_eq!(h.members.len(), 5);
    assert_eq!(h.region_code, "01");
    assert_eq!(h.province_code, "01.511");
    assert_eq!(h.head().unwrap().data.first_name, "Mohamed");

    let read = reg.household(&agent(), h.id, &purpose()).await.unwrap();
    assert_eq!(read, h, "what is read back is what was written");
    let aicha = read
        .members
        .iter()
        .find(|m| m.data.first_name == "Aïcha")
        .unwrap();
    assert_eq!(aicha.data.first_name_ar.as_deref(), Some("عائشة"));
    assert_eq!(read.data.water_spending.to_string(), "85.50");

    let history = reg
        .household_history(&agent(), h.id, &purpose())
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].actor, "agent.tanger");
    assert_eq!(history[0].reason, "first registration");
    assert_eq!(history[0].snapshot, h);
    assert_eq!(verify_chain(store.as_ref()).await, 1);
}

async fn an_update_makes_a_new_version_and_a_stale_one_is_refused(store: Arc<dyn RegistryStore>) {
    let reg = registry(store.clone());
    let h = reg
        .register_household(&agent(), &family_of_five("BK"), "registration")
        .await
        .unwrap();
    let mut input = family_of_five("BK");
    for (m, p) in input.members.iter_mut().zip(&h.members) {
        m.person_id = Some(p.id);
    }
    input.data.rooms = 4;
    input.members.pop(); // the grandmother moves out
    let h2 = reg
        .update_household(&agent(), h.id, 1, &input, "moved to a bigger flat")
        .await
        .unwrap();
    assert_eq!(h2.version, 2);
    assert_eq!(h2.data.rooms, 4);
    assert_eq!(h2.members.len(), 4);
    let itto = h
        .members
        .iter()
        .find(|m| m.data.first_name == "Itto")
        .unwrap();
    let left = reg.person(&agent(), itto.id, &purpose()).await.unwrap();
    assert_eq!(
        left.household_id, None,
        "a person who leaves stays in the registry"
    );

    let stale = reg
        .update_household(&agent(), h.id, 1, &input, "late edit")
        .await;
    assert!(matches!(
        stale,
        Err(RegistryError::Store(StoreError::VersionConflict {
            expected: 1,
            current: 2
        }))
    ));
    let history = reg
        .household_history(&agent(), h.id, &purpose())
        .await
        .unwrap();
    assert_eq!(
        history.iter().map(|v| v.version).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(history[1].reason, "moved to a bigger flat");
    assert_eq!(
        history[0].snapshot.members.len(),
        5,
        "old versions keep their state"
    );

    let missing = reg
        .update_household(
            &agent(),
            HouseholdId::from_serial(999).unwrap(),
            1,
            &input,
            "x",
        )
        .await;
    assert!(matches!(
        missing,
        Err(RegistryError::Store(StoreError::NotFound))
    ));
    assert_eq!(verify_chain(store.as_ref()).await, 2);
}

async fn a_person_is_in_one_household_and_a_national_id_is_used_once(
    store: Arc<dyn RegistryStore>,
) {
    let reg = registry(store.clone());
    let first = reg
        .register_household(&agent(), &family_of_five("BK"), "")
        .await
        .unwrap();
    let youssef = first
        .members
        .iter()
        .find(|m| m.data.first_name == "Youssef")
        .unwrap()
        .clone();

    // Youssef cannot be the head of a second household while he is in the first.
    let mut second = HouseholdInput {
        data: family_of_five("X").data,
        members: vec![MemberInput {
            person_id: Some(youssef.id),
            data: PersonData {
                relation: Relation::Head,
                ..youssef.data.clone()
            },
        }],
    };
    let err = reg
        .register_household(&agent(), &second, "")
        .await
        .unwrap_err();
    match err {
        RegistryError::Store(StoreError::Conflict { field, code, .. }) => {
            assert_eq!(field, "members[0].person_id");
            assert_eq!(code, "in_another_household");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }

    // A new person with the head's national id is refused.
    let mut copycat = family_of_five("ZZ").members.remove(0);
    copycat.data.national_id = first.head().unwrap().data.national_id.clone();
    second.members = vec![copycat];
    let err = reg
        .register_household(&agent(), &second, "")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::Store(StoreError::Conflict {
                code: "national_id_used",
                ..
            })
        ),
        "{err:?}"
    );

    // Nothing of the refused writes remains.
    assert_eq!(reg.region_counts(&agent()).await.unwrap()[0].persons, 5);
    assert_eq!(verify_chain(store.as_ref()).await, 1);

    // Once he leaves the first household he can found his own.
    let mut input = family_of_five("BK");
    input.members.retain(|m| m.data.first_name != "Youssef");
    for m in &mut input.members {
        m.person_id = first
            .members
            .iter()
            .find(|p| p.data.first_name == m.data.first_name)
            .map(|p| p.id);
    }
    reg.update_household(
        &agent(),
        first.id,
        1,
        &input,
        "Youssef founded his household",
    )
    .await
    .unwrap();
    second.members = vec![MemberInput {
        person_id: Some(youssef.id),
        data: PersonData {
            relation: Relation::Head,
            ..youssef.data.clone()
        },
    }];
    let own = reg.register_household(&agent(), &second, "").await.unwrap();
    assert_eq!(own.members[0].id, youssef.id);
    assert_eq!(
        reg.person(&agent(), youssef.id, &purpose())
            .await
            .unwrap()
            .household_id,
        Some(own.id)
    );
}

async fn households_are_listed_by_territory_and_page(store: Arc<dyn RegistryStore>) {
    let reg = registry(store.clone());
    let mut ids = Vec::new();
    for (i, commune) in [
        "01.511.01.0",
        "01.511.01.0",
        "04.441.01.01",
        "06.141.01.01.01",
    ]
    .iter()
    .enumerate()
    {
        let mut input = family_of_five(["AA", "AB", "AC", "AD"][i]);
        input.data.commune_code = commune.to_string();
        match reg.register_household(&agent(), &input, "").await {
            Ok(h) => ids.push(h.id),
            Err(RegistryError::Validation(_)) => {} // a code that is not a commune
            Err(e) => panic!("{e}"),
        }
    }
    let all = reg
        .list_households(
            &agent(),
            None,
            HouseholdFilter {
                limit: 100,
                ..Default::default()
            },
            &purpose(),
        )
        .await
        .unwrap();
    assert_eq!(all.len(), ids.len());
    assert_eq!(all[0].members, 5);
    assert_eq!(all[0].head_first_name.as_deref(), Some("Mohamed"));

    let list_in = |territory: &str| {
        let reg = reg.clone();
        let territory = territory.to_string();
        async move {
            reg.list_households(
                &agent(),
                Some(territory),
                HouseholdFilter {
                    limit: 100,
                    ..Default::default()
                },
                &purpose(),
            )
            .await
        }
    };

    assert_eq!(list_in("01").await.unwrap().len(), 2);
    assert_eq!(list_in("01.511").await.unwrap().len(), 2);
    assert_eq!(list_in("01.511.01.0").await.unwrap().len(), 2);
    assert_eq!(list_in("02").await.unwrap().len(), 0);
    assert!(list_in("99").await.is_err());

    let page1 = reg
        .list_households(
            &agent(),
            None,
            HouseholdFilter {
                limit: 1,
                ..Default::default()
            },
            &purpose(),
        )
        .await
        .unwrap();
    let page2 = reg
        .list_households(
            &agent(),
            None,
            HouseholdFilter {
                limit: 1,
                after: Some(page1[0].id),
                ..Default::default()
            },
            &purpose(),
        )
        .await
        .unwrap();
    assert_eq!(page1[0].id, ids[0]);
    assert_eq!(page2[0].id, ids[1]);
}

async fn persons_are_found_by_registry_id_national_id_and_name(store: Arc<dyn RegistryStore>) {
    let reg = registry(store.clone());
    let h = reg
        .register_household(&agent(), &family_of_five("BK"), "")
        .await
        .unwrap();
    let head = h.head().unwrap();
    let search = |q: &'static str| {
        let reg = reg.clone();
        async move {
            reg.search_persons(&agent(), q, None, 50, &purpose())
                .await
                .unwrap()
        }
    };
    let by_id = reg
        .search_persons(&agent(), &head.id.to_string(), None, 10, &purpose())
        .await
        .unwrap();
    assert_eq!(by_id.len(), 1);
    assert_eq!(search("bk123456").await[0].id, head.id);
    assert_eq!(search("el amrani").await.len(), 5);
    assert_eq!(search("AICHA").await[0].data.first_name, "Aïcha");
    assert_eq!(
        search("فاطمه").await[0].data.first_name,
        "Fatima Zahra",
        "taa marbuta folded"
    );
    assert_eq!(search("youssef amrani").await.len(), 1);
    assert!(search("mahmoud").await.is_empty());
    let typo = head.id.to_string().replace('P', "p");
    let mut digits: Vec<char> = typo.chars().collect();
    digits.swap(9, 10);
    let typo: String = digits.into_iter().collect();
    if typo != head.id.to_string().to_lowercase() {
        assert!(
            reg.search_persons(&agent(), &typo, None, 10, &purpose())
                .await
                .is_err(),
            "a mistyped registry id is refused"
        );
    }
    let in_rabat = reg
        .search_persons(&agent(), "mohamed", Some("04".into()), 10, &purpose())
        .await
        .unwrap();
    assert!(in_rabat.is_empty());
}

fn batch_of(households: u64, first_serial: u64, nid_prefix: &str) -> RegistryBatch {
    let at = datetime!(2026-11-20 08:00:00 UTC);
    let mut batch = RegistryBatch::default();
    let mut person = first_serial * 10;
    for i in 0..households {
        let id = HouseholdId::from_serial(first_serial + i).unwrap();
        let input = family_of_five("AB");
        let members = input
            .members
            .into_iter()
            .enumerate()
            .map(|(k, m)| {
                person += 1;
                let mut data = m.data;
                data.national_id = (k == 0).then(|| {
                    NationalId::parse(&format!("{nid_prefix}{}", 100_000 + first_serial + i))
                        .unwrap()
                });
                sanad_domain::Person {
                    id: PersonId::from_serial(person).unwrap(),
                    household_id: Some(id),
                    merged_into: None,
                    data,
                }
            })
            .collect();
        let mut data = input.data;
        data.area = Some(sanad_domain::Area::Urban);
        batch.households.push(sanad_domain::Household {
            id,
            version: 1,
            region_code: "01".into(),
            province_code: "01.511".into(),
            data,
            members,
            created_at: at,
            updated_at: at,
        });
    }
    batch
}

async fn an_import_writes_everything_or_nothing(store: Arc<dyn RegistryStore>) {
    let change = Change {
        actor: "import".into(),
        reason: "batch 1".into(),
        at: datetime!(2026-11-20 08:00:00 UTC),
    };
    let batch = batch_of(300, 1, "AB");
    let out = store
        .import_batch(&batch, &change, &NoProgress)
        .await
        .unwrap();
    assert_eq!(
        out,
        ImportOutcome::Written {
            households: 300,
            persons: 1500
        }
    );
    assert_eq!(
        store
            .household(batch.households[7].id)
            .await
            .unwrap()
            .unwrap(),
        batch.households[7]
    );
    assert_eq!(
        store
            .household_versions(batch.households[7].id)
            .await
            .unwrap()[0]
            .snapshot,
        batch.households[7]
    );

    // A second batch that reuses one household id and one national id is refused whole.
    let mut again = batch_of(10, 1000, "CD");
    again.households[3].id = batch.households[0].id;
    again.households[5].members[0].data.national_id =
        batch.households[1].members[0].data.national_id.clone();
    match store
        .import_batch(&again, &change, &NoProgress)
        .await
        .unwrap()
    {
        ImportOutcome::Conflicts(c) => {
            assert!(c.contains(&BatchConflict::HouseholdExists(batch.households[0].id)));
            assert!(
                c.contains(&BatchConflict::NationalIdUsed(
                    batch.households[1].members[0]
                        .data
                        .national_id
                        .clone()
                        .unwrap()
                        .to_string()
                ))
            );
        }
        other => panic!("expected conflicts, got {other:?}"),
    }
    let counts = store.region_counts().await.unwrap();
    assert_eq!((counts[0].households, counts[0].persons), (300, 1500));
    assert_eq!(verify_chain(store.as_ref()).await, 300);

    // The counters moved past the imported ids: a new registration gets fresh ones.
    let reg = registry(store.clone());
    let h = reg
        .register_household(&agent(), &family_of_five("EF"), "")
        .await
        .unwrap();
    assert_eq!(h.id.serial(), 301);
    assert!(h.members.iter().all(|m| m.id.serial() > 10 + 1500));

    // Export pages follow id order and give back what was imported.
    let page = store.export_households(None, 100).await.unwrap();
    assert_eq!(page.len(), 100);
    assert_eq!(
        page[0],
        (batch.households[0].id, batch.households[0].data.clone())
    );
    let rest = store
        .export_households(Some(page[99].0), 1000)
        .await
        .unwrap();
    assert_eq!(rest.len(), 201);
    let persons = store.export_persons(None, 10_000).await.unwrap();
    assert_eq!(persons.len(), 1505);
    assert_eq!(persons[0], batch.households[0].members[0]);
    assert_eq!(verify_chain(store.as_ref()).await, 301);

    // The first update of an imported household keeps its imported state as version 1.
    let imported = &batch.households[7];
    let input = HouseholdInput {
        data: HouseholdData {
            rooms: 9,
            ..imported.data.clone()
        },
        members: imported
            .members
            .iter()
            .map(|m| MemberInput {
                person_id: Some(m.id),
                data: m.data.clone(),
            })
            .collect(),
    };
    let updated = reg
        .update_household(&agent(), imported.id, 1, &input, "visit")
        .await
        .unwrap();
    let history = store.household_versions(imported.id).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(&history[0].snapshot, imported);
    assert_eq!(history[0].reason, "batch 1");
    assert_eq!(history[1].snapshot, updated);
}

async fn accounts_api_keys_lockout_access_log_and_checkpoints(store: Arc<dyn RegistryStore>) {
    use sanad_app::store::{AccessLogQuery, Checkpoint};
    let mut account = Account::new(
        "supervisor.oriental",
        Role::Supervisor,
        "$argon2id$x".into(),
    );
    account.territories = vec!["02".into(), "01.511".into()];
    store.upsert_account(&account).await.unwrap();
    let read = store.account("supervisor.oriental").await.unwrap().unwrap();
    assert_eq!(read, account);
    store
        .upsert_account(&Account {
            role: Role::Auditor,
            ..account.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        store
            .account("supervisor.oriental")
            .await
            .unwrap()
            .unwrap()
            .role,
        Role::Auditor
    );
    assert!(store.account("nobody").await.unwrap().is_none());

    // API keys carry scopes and can be revoked by their id (a prefix of their hash).
    let hash = "ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12";
    store
        .add_api_key(
            "supervisor.oriental",
            hash,
            &["statistics:read".to_string()],
        )
        .await
        .unwrap();
    let owner = store.api_key_account(hash).await.unwrap().unwrap();
    assert_eq!(
        (owner.account.username.as_str(), owner.scopes.clone()),
        ("supervisor.oriental", vec!["statistics:read".to_string()])
    );
    assert!(store.api_key_account("abc124").await.unwrap().is_none());
    let now = datetime!(2026-11-23 10:00:00 UTC);
    assert_eq!(
        store.revoke_api_key("ab12", now).await.unwrap(),
        0,
        "too short an id revokes nothing"
    );
    assert_eq!(store.revoke_api_key(&hash[..16], now).await.unwrap(), 1);
    assert!(
        store.api_key_account(hash).await.unwrap().is_none(),
        "a revoked key opens nothing"
    );

    // Failed logins lock the account at the fifth; a success clears the count.
    let until = datetime!(2026-11-23 10:15:00 UTC);
    for expected in 1..=4 {
        assert_eq!(
            store
                .record_login_failure("supervisor.oriental", 5, until)
                .await
                .unwrap(),
            expected
        );
    }
    assert_eq!(
        store
            .account("supervisor.oriental")
            .await
            .unwrap()
            .unwrap()
            .locked_until,
        None
    );
    assert_eq!(
        store
            .record_login_failure("supervisor.oriental", 5, until)
            .await
            .unwrap(),
        5
    );
    assert_eq!(
        store
            .account("supervisor.oriental")
            .await
            .unwrap()
            .unwrap()
            .locked_until,
        Some(until)
    );
    store
        .record_login_success("supervisor.oriental")
        .await
        .unwrap();
    let cleared = store.account("supervisor.oriental").await.unwrap().unwrap();
    assert_eq!((cleared.failed_logins, cleared.locked_until), (0, None));
    assert_eq!(
        store
            .record_login_failure("nobody", 5, until)
            .await
            .unwrap(),
        0
    );

    // Reads are in the access log, which auditors query by actor or record.
    let reg = registry(store.clone());
    let h = reg
        .register_household(&agent(), &family_of_five("BK"), "")
        .await
        .unwrap();
    reg.household(&agent(), h.id, &Purpose("visit".into()))
        .await
        .unwrap();
    reg.person(&agent(), h.members[0].id, &Purpose("certificate".into()))
        .await
        .unwrap();
    let log = store
        .access_log(&AccessLogQuery {
            actor: Some("agent.tanger".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(
        (log[0].entity_id.clone(), log[0].purpose.as_str()),
        (h.id.to_string(), "visit")
    );
    let by_record = store
        .access_log(&AccessLogQuery {
            entity_id: Some(h.members[0].id.to_string()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_record.len(), 1);
    assert_eq!(by_record[0].purpose, "certificate");

    // Checkpoints of the old chain are kept in order.
    let events = store.audit_events(0, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    let c = Checkpoint {
        seq: events[0].seq,
        hash: events[0].hash.clone(),
        at: now,
        public_key: "k".into(),
        signature: "s".into(),
    };
    store.add_checkpoint(&c).await.unwrap();
    store.add_checkpoint(&c).await.unwrap();
    assert_eq!(store.checkpoints().await.unwrap(), vec![c]);
}

macro_rules! contract {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $story() {
                let db: super::TestDb = super::testkit::sqlite().await;
                super::$story(db.store.clone()).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $story() {
                let Some(db) = super::testkit::postgres().await else { return };
                super::$story(db.store.clone()).await;
                db.cleanup().await;
            })*
        }
    };
}

async fn the_access_log_keeps_what_its_retention_allows(store: Arc<dyn RegistryStore>) {
    use sanad_app::store::{AccessLogQuery, AccessRecord};
    for (at, ids) in [
        (
            datetime!(2025-01-10 09:00:00 UTC),
            vec!["P00000000013", "P00000000021"],
        ),
        (datetime!(2026-06-01 09:00:00 UTC), vec!["P00000000039"]),
        (datetime!(2026-11-20 09:00:00 UTC), vec!["P00000000047"]),
    ] {
        store
            .record_access(&AccessRecord {
                actor: "agent1".into(),
                at,
                entity_type: "person",
                entity_ids: ids.into_iter().map(String::from).collect(),
                purpose: "visit".into(),
            })
            .await
            .unwrap();
    }
    let chain_before = verify_chain(store.as_ref()).await;
    // A year kept on 2026-11-21: the reads of January 2025 go, the others stay.
    let deleted = sanad_app::audit::prune_access_log(
        store.as_ref(),
        365,
        datetime!(2026-11-21 00:00:00 UTC),
        "dpo",
    )
    .await
    .unwrap();
    assert_eq!(deleted, 2);
    let left = store
        .access_log(&AccessLogQuery {
            actor: None,
            entity_id: None,
            after: 0,
            limit: 100,
        })
        .await
        .unwrap();
    let ids: Vec<&str> = left.iter().map(|e| e.entity_id.as_str()).collect();
    assert_eq!(ids, ["P00000000039", "P00000000047"]);
    // The pruning is itself on the record, and the chain still holds.
    assert_eq!(verify_chain(store.as_ref()).await, chain_before + 1);
    let events = store.audit_events(0, 1000).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.actor.as_str()),
        ("access_log.prune", "dpo")
    );
    assert!(last.details.contains("\"deleted\":2"), "{}", last.details);
}

async fn a_login_in_progress_is_taken_once_and_only_before_it_expires(
    store: Arc<dyn RegistryStore>,
) {
    use sanad_app::store::LoginFlow;
    let now = time::OffsetDateTime::now_utc();
    let flow = |next: &str, expires_at| LoginFlow {
        browser_hash: "b".repeat(64),
        nonce: "nonce".into(),
        verifier: "verifier".into(),
        next: next.into(),
        expires_at,
    };
    let fresh = flow("/households", now + time::Duration::minutes(10));
    store.put_login_flow("s1", &fresh).await.unwrap();
    store
        .put_login_flow("s2", &flow("/", now - time::Duration::minutes(1)))
        .await
        .unwrap();
    let taken = store.take_login_flow("s1", now).await.unwrap().unwrap();
    assert_eq!(
        (taken.next.as_str(), taken.verifier.as_str()),
        ("/households", "verifier")
    );
    assert!((taken.expires_at - fresh.expires_at).abs() < time::Duration::seconds(1));
    assert_eq!(
        store.take_login_flow("s1", now).await.unwrap(),
        None,
        "once"
    );
    assert_eq!(
        store.take_login_flow("s2", now).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(store.take_login_flow("nope", now).await.unwrap(), None);
}

contract!(
    an_agent_registers_a_household_of_five_in_arabic_and_french,
    an_update_makes_a_new_version_and_a_stale_one_is_refused,
    a_person_is_in_one_household_and_a_national_id_is_used_once,
    households_are_listed_by_territory_and_page,
    persons_are_found_by_registry_id_national_id_and_name,
    an_import_writes_everything_or_nothing,
    accounts_api_keys_lockout_access_log_and_checkpoints,
    duplicates_are_reviewed_merged_and_unmerged,
    a_phone_is_kept_sealed_shared_searched_and_imported,
    the_access_log_keeps_what_its_retention_allows,
    a_login_in_progress_is_taken_once_and_only_before_it_expires,
);

fn phone(text: &str) -> Option<PhoneNumber> {
    Some(PhoneNumber::parse(text).unwrap())
}

/// A family shares one phone: it comes back in E.164 form, finds both members, follows updates and
/// versions, stays inside the caller's territory, and travels through the bulk import and export.
async fn a_phone_is_kept_sealed_shared_searched_and_imported(store: Arc<dyn RegistryStore>) {
    let reg = registry(store.clone());
    let mut input = family_of_five("PH");
    input.members[0].data.phone = phone("06 12 34 56 78");
    input.members[1].data.phone = phone("+212612345678");
    input.members[4].data.phone = phone("05.39.12.34.56");
    let h = reg.register_household(&agent(), &input, "").await.unwrap();
    let again = store.household(h.id).await.unwrap().unwrap();
    assert_eq!(again, h, "a round trip keeps the phones");
    let head = h.head().unwrap().clone();
    assert_eq!(head.data.phone.as_ref().unwrap().as_str(), "+212612345678");
    let itto = h
        .members
        .iter()
        .find(|m| m.data.first_name == "Itto")
        .unwrap();
    assert_eq!(itto.data.phone.as_ref().unwrap().as_str(), "+212539123456");
    assert!(
        h.members
            .iter()
            .filter(|m| m.data.first_name == "Youssef")
            .all(|m| m.data.phone.is_none())
    );

    let by_phone = |text: &'static str, q: &'static str, actor: sanad_app::Actor| {
        let reg = reg.clone();
        async move {
            reg.search_persons_by(&actor, q, Some(text), None, 50, &purpose())
                .await
        }
    };
    let found = by_phone("0612345678", "", agent()).await.unwrap();
    assert_eq!(found.len(), 2, "both members sharing the phone");
    assert!(found.iter().any(|p| p.id == head.id));
    let found = by_phone("00212 6 12 34 56 78", "fatima", agent())
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].data.first_name, "Fatima Zahra");
    assert!(
        by_phone("0612345679", "", agent())
            .await
            .unwrap()
            .is_empty()
    );
    match by_phone("12345", "", agent()).await {
        Err(RegistryError::Validation(e)) => assert_eq!(e.0[0].field, "phone"),
        other => panic!("expected a validation error, got {other:?}"),
    }
    let elsewhere = Actor {
        territories: vec!["04".into()],
        ..agent()
    };
    assert!(
        by_phone("0612345678", "", elsewhere)
            .await
            .unwrap()
            .is_empty(),
        "an agent of another region does not find them"
    );

    // The spouse changes her number: the old one finds the head only, the history keeps both.
    let mut update = HouseholdInput {
        data: h.data.clone(),
        members: h
            .members
            .iter()
            .map(|m| MemberInput {
                person_id: Some(m.id),
                data: m.data.clone(),
            })
            .collect(),
    };
    let spouse = update
        .members
        .iter_mut()
        .find(|m| m.data.relation == Relation::Spouse)
        .unwrap();
    spouse.data.phone = phone("07-00-11-22-33");
    let updated = reg
        .update_household(&agent(), h.id, 1, &update, "new phone")
        .await
        .unwrap();
    assert_eq!(by_phone("0612345678", "", agent()).await.unwrap().len(), 1);
    assert_eq!(by_phone("0700112233", "", agent()).await.unwrap().len(), 1);
    let history = store.household_versions(h.id).await.unwrap();
    assert_eq!(history[0].snapshot, h);
    assert_eq!(history[1].snapshot, updated);

    // The bulk import seals phones too, and the export gives them back.
    let mut batch = batch_of(20, 500, "PQ");
    for (i, hh) in batch.households.iter_mut().enumerate() {
        hh.members[0].data.phone = phone(&format!("+2126{:08}", i));
        hh.members[1].data.phone = hh.members[0].data.phone.clone();
    }
    let change = Change {
        actor: "import".into(),
        reason: "phones".into(),
        at: datetime!(2026-11-20 08:00:00 UTC),
    };
    assert!(matches!(
        store
            .import_batch(&batch, &change, &NoProgress)
            .await
            .unwrap(),
        ImportOutcome::Written { .. }
    ));
    let found = by_phone("06 00 00 00 07", "", agent()).await.unwrap();
    assert_eq!(
        found.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![
            batch.households[7].members[0].id,
            batch.households[7].members[1].id
        ]
    );
    let exported = store.export_persons(None, 10_000).await.unwrap();
    for m in batch.households.iter().flat_map(|h| &h.members) {
        assert_eq!(exported.iter().find(|p| p.id == m.id), Some(m));
    }
}

async fn duplicates_are_reviewed_merged_and_unmerged(store: Arc<dyn RegistryStore>) {
    use sanad_app::store::{CandidatePair, PairStatus};
    let reg = registry(store.clone());
    let first = reg
        .register_household(&agent(), &family_of_five("BK"), "")
        .await
        .unwrap();
    // The same family registered again in another centre, without national ids.
    let mut again = family_of_five("XX");
    for m in &mut again.members {
        m.data.national_id = None;
    }
    let second = reg.register_household(&agent(), &again, "").await.unwrap();
    let youssef = |h: &sanad_domain::Household| {
        h.members
            .iter()
            .find(|m| m.data.first_name == "Youssef")
            .unwrap()
            .id
    };
    let head = |h: &sanad_domain::Household| h.head().unwrap().id;
    let change = Change {
        actor: "matcher".into(),
        reason: "nightly run".into(),
        at: datetime!(2026-11-23 12:00:00 UTC),
    };
    let candidates = vec![
        CandidatePair {
            person_a: youssef(&second),
            person_b: youssef(&first),
            probability: 0.99,
            explanation: "{\"first_name\":\"exact\"}".into(),
        },
        CandidatePair {
            person_a: head(&first),
            person_b: head(&second),
            probability: 0.7,
            explanation: "{}".into(),
        },
    ];
    assert_eq!(
        store
            .add_duplicate_candidates(&candidates, &change)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .add_duplicate_candidates(&candidates, &change)
            .await
            .unwrap(),
        0,
        "a pair is queued once"
    );
    let pending = store
        .duplicate_pairs(Some(PairStatus::Pending), &[], 0, 10)
        .await
        .unwrap();
    assert_eq!(pending.len(), 2);
    assert!(pending[0].person_a < pending[0].person_b);
    // A centre sees the pairs of its own territory only.
    let here = store
        .duplicate_pairs(Some(PairStatus::Pending), &["01".into()], 0, 10)
        .await
        .unwrap();
    assert_eq!(here.len(), 2, "pairs of region 01");
    let elsewhere = store
        .duplicate_pairs(Some(PairStatus::Pending), &["06".into()], 0, 10)
        .await
        .unwrap();
    assert!(elsewhere.is_empty(), "no pair lives in region 06");
    assert_eq!(pending[0].explanation["first_name"], "exact");

    // The heads' pair is rejected; deciding it again is refused.
    let rejected = store
        .decide_duplicate_pair(pending[1].id, PairStatus::Rejected, &change)
        .await
        .unwrap();
    assert_eq!(
        (rejected.status, rejected.decided_by.as_deref()),
        (PairStatus::Rejected, Some("matcher"))
    );
    assert!(
        store
            .decide_duplicate_pair(pending[1].id, PairStatus::Accepted, &change)
            .await
            .is_err()
    );

    // The head of a household with other members cannot be merged away.
    let err = store
        .merge_persons(head(&first), head(&second), &change)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                code: "head_of_household",
                ..
            }
        ),
        "{err:?}"
    );

    // Youssef's second record is merged into the first: it leaves the second household.
    let merge = store
        .merge_persons(youssef(&first), youssef(&second), &change)
        .await
        .unwrap();
    assert_eq!(merge.former_household_id, Some(second.id));
    let merged = store.person(youssef(&second)).await.unwrap().unwrap();
    assert_eq!(
        (merged.household_id, merged.merged_into),
        (None, Some(youssef(&first)))
    );
    let now = store.household(second.id).await.unwrap().unwrap();
    assert_eq!((now.version, now.members.len()), (2, 4));
    assert_eq!(
        store
            .duplicate_pairs(Some(PairStatus::Accepted), &[], 0, 10)
            .await
            .unwrap()
            .len(),
        1,
        "the pair is accepted by the merge"
    );
    let found = reg
        .search_persons(&agent(), "youssef", None, 10, &purpose())
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "a merged record is no longer found");
    assert!(
        store
            .merge_persons(youssef(&first), youssef(&second), &change)
            .await
            .is_err(),
        "merged twice"
    );

    // Undo puts him back, with a new household version.
    let undone = store.undo_merge(merge.id, &change).await.unwrap();
    assert!(undone.undone_at.is_some());
    let back = store.person(youssef(&second)).await.unwrap().unwrap();
    assert_eq!(
        (back.household_id, back.merged_into),
        (Some(second.id), None)
    );
    let history = store.household_versions(second.id).await.unwrap();
    assert_eq!(
        history
            .iter()
            .map(|v| v.snapshot.members.len())
            .collect::<Vec<_>>(),
        vec![5, 4, 5]
    );
    assert!(
        store.undo_merge(merge.id, &change).await.is_err(),
        "undone twice"
    );
    // register ×2, found ×2, rejected, merge (household + person), undo (household + person)
    assert_eq!(verify_chain(store.as_ref()).await, 9);
}

/// A person in a household that does not exist.
const ORPHAN: &str = "INSERT INTO persons (id, household_id, relation, first_name, last_name, sex, \
     birth_date, disability, schooling, occupation, search_name) \
     VALUES (999999, 999999, 'child', 'A', 'B', 'F', '2010-01-01', 'none', 'none', 'none', 'a b')";

fn assert_foreign_key_refusal(result: Result<(), sqlx::Error>) {
    let refused = result.expect_err("a person in a missing household was accepted");
    assert!(
        refused.to_string().to_lowercase().contains("foreign key"),
        "{refused}"
    );
}

/// An import into an empty registry drops secondary indexes (and, on PostgreSQL, foreign keys) to
/// write faster, inside its transaction: every one of them must be back afterwards, and a person
/// pointing at no household must still be refused.
#[tokio::test]
async fn an_import_into_an_empty_registry_leaves_the_schema_whole() {
    let change = Change {
        actor: "import".into(),
        reason: "schema".into(),
        at: datetime!(2026-11-20 08:00:00 UTC),
    };

    let db = testkit::sqlite().await;
    let pool = db.sqlite.as_ref().unwrap().pool().clone();
    let schema = || async {
        sqlx::query_as::<_, (String, String)>(
            "SELECT name, COALESCE(sql, '') FROM sqlite_master ORDER BY name",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    let before = schema().await;
    db.store
        .import_batch(&batch_of(50, 1, "AB"), &change, &NoProgress)
        .await
        .unwrap();
    assert_eq!(schema().await, before);
    assert_foreign_key_refusal(sqlx::query(ORPHAN).execute(&pool).await.map(|_| ()));

    let Some(db) = testkit::postgres().await else {
        return;
    };
    let pool = db.postgres.as_ref().unwrap().pool().clone();
    let schema = || async {
        let mut objects = sqlx::query_as::<_, (String, String)>(
            "SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = current_schema()",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        objects.extend(
            sqlx::query_as::<_, (String, String)>(
                "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
                 WHERE connamespace = current_schema()::regnamespace",
            )
            .fetch_all(&pool)
            .await
            .unwrap(),
        );
        objects.sort();
        objects
    };
    let before = schema().await;
    db.store
        .import_batch(&batch_of(50, 1, "AB"), &change, &NoProgress)
        .await
        .unwrap();
    assert_eq!(schema().await, before);
    assert_foreign_key_refusal(sqlx::query(ORPHAN).execute(&pool).await.map(|_| ()));
    db.cleanup().await;
}

fn disclosure() -> sanad_app::exchange::Disclosure {
    sanad_app::exchange::Disclosure {
        actor: "operator".into(),
        purpose: "move to the national database".into(),
        at: datetime!(2026-11-21 08:00:00 UTC),
    }
}

/// A centre's registry moves to another store (SQLite, and PostgreSQL when the server is there) by
/// export and import, with the duplicates it resolved: the merged record stays merged.
#[tokio::test]
async fn a_registry_with_merges_moves_by_export_and_import() {
    use sanad_app::exchange::{ImportSource, export_registry, import_registry};
    let change = Change {
        actor: "import".into(),
        reason: "move".into(),
        at: datetime!(2026-11-20 08:00:00 UTC),
    };
    let from = testkit::sqlite().await;
    let batch = batch_of(20, 1, "AB");
    from.store
        .import_batch(&batch, &change, &NoProgress)
        .await
        .unwrap();
    let kept = batch.households[0].members[0].id;
    let merged = batch.households[1].members[1].id;
    from.store
        .merge_persons(kept, merged, &change)
        .await
        .unwrap();
    let first = tempfile::tempdir().unwrap();
    export_registry(
        from.store.as_ref(),
        first.path(),
        &disclosure(),
        &NoProgress,
    )
    .await
    .unwrap();
    // The export is on the record: who, when, why, in the audit chain and in the access log.
    let events = from.store.audit_events(0, 10_000).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.actor.as_str()),
        ("registry.export", "operator")
    );
    assert!(last.details.contains("move to the national database"));
    let reads = from
        .store
        .access_log(&sanad_app::store::AccessLogQuery {
            actor: Some("operator".into()),
            entity_id: None,
            after: 0,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].entity_type, "registry");
    let persons = std::fs::read_to_string(first.path().join("persons.csv")).unwrap();
    let row = persons
        .lines()
        .find(|l| l.starts_with(&merged.to_string()))
        .unwrap();
    assert!(row.ends_with(&format!(",{kept}")), "{row}");

    let mut targets = vec![testkit::sqlite().await];
    targets.extend(testkit::postgres().await);
    for to in targets {
        let report = import_registry(
            to.store.as_ref(),
            &ImportSource::from_dir(first.path()),
            &change,
            false,
            &NoProgress,
        )
        .await
        .unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        let person = to.store.person(merged).await.unwrap().unwrap();
        assert_eq!(
            (person.merged_into, person.household_id),
            (Some(kept), None)
        );
        let again = tempfile::tempdir().unwrap();
        export_registry(to.store.as_ref(), again.path(), &disclosure(), &NoProgress)
            .await
            .unwrap();
        for file in ["households.csv", "persons.csv"] {
            assert_eq!(
                std::fs::read(first.path().join(file)).unwrap(),
                std::fs::read(again.path().join(file)).unwrap(),
                "{file} on {}",
                to.store.backend()
            );
        }
        to.cleanup().await;
    }
}
