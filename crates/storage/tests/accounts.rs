//! The accounts port on both backends, through the administration's use-case: accounts listed in
//! name order, changes and keys recorded in the audit trail, a key shown once and listed by id.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sanad_app::accounts::{AccountChange, Accounts};
use sanad_app::{Actor, Role};
use sanad_storage::testkit::{self, TestDb};

async fn an_administrator_creates_accounts_issues_and_revokes_a_key(db: &TestDb) {
    let accounts = Accounts::new(db.store.clone(), db.accounts.clone());
    let admin = Actor::system("admin");
    for (name, role, territories) in [
        ("zineb.agent", Role::Agent, vec!["05".to_string()]),
        ("amal.supervisor", Role::Supervisor, vec!["01".to_string()]),
    ] {
        accounts
            .save(
                &admin,
                AccountChange {
                    username: name.into(),
                    role,
                    territories,
                    household_id: None,
                    password: Some("a long enough secret".into()),
                },
            )
            .await
            .unwrap();
    }
    let listed = accounts.list(&admin, "", 50).await.unwrap();
    let names: Vec<&str> = listed.iter().map(|a| a.username.as_str()).collect();
    assert_eq!(names, ["amal.supervisor", "zineb.agent"]);
    assert_eq!(listed[1].territories, ["05"]);
    let page = accounts.list(&admin, "amal.supervisor", 50).await.unwrap();
    assert_eq!(page.len(), 1, "paged by name");

    // Bad input is named and changes nothing.
    for (change, field) in [
        (
            AccountChange {
                username: "x".into(),
                role: Role::Agent,
                territories: vec![],
                household_id: None,
                password: Some("a long enough secret".into()),
            },
            "username",
        ),
        (
            AccountChange {
                username: "new.agent".into(),
                role: Role::Agent,
                territories: vec!["99".into()],
                household_id: None,
                password: Some("a long enough secret".into()),
            },
            "territories",
        ),
        (
            AccountChange {
                username: "new.agent".into(),
                role: Role::Agent,
                territories: vec![],
                household_id: None,
                password: None,
            },
            "password",
        ),
        (
            AccountChange {
                username: "new.citizen".into(),
                role: Role::Citizen,
                territories: vec![],
                household_id: None,
                password: Some("a long enough secret".into()),
            },
            "household_id",
        ),
    ] {
        let e = accounts.save(&admin, change).await.unwrap_err();
        assert!(e.to_string().contains(field), "{field}: {e}");
    }
    assert_eq!(accounts.list(&admin, "", 50).await.unwrap().len(), 2);

    // A key is shown once; the lists show its id only.
    let (key, id) = accounts
        .issue_key(&admin, "zineb.agent", &["registry:read".into()])
        .await
        .unwrap();
    assert!(key.len() > 30 && !key.contains(&id));
    let keys = accounts.keys(&admin, Some("zineb.agent")).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(
        (keys[0].id.as_str(), keys[0].scopes.as_slice()),
        (id.as_str(), ["registry:read".to_string()].as_slice())
    );
    assert!(keys[0].revoked_at.is_none());
    assert!(
        accounts
            .issue_key(&admin, "zineb.agent", &["everything".into()])
            .await
            .is_err()
    );
    accounts.revoke_key(&admin, &id).await.unwrap();
    assert!(
        accounts.keys(&admin, None).await.unwrap()[0]
            .revoked_at
            .is_some()
    );
    assert!(
        accounts.revoke_key(&admin, &id).await.is_err(),
        "revoked once"
    );

    // Every change is in the audit trail; nobody else manages accounts.
    let events = db.store.audit_events(0, 1000).await.unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    for a in ["account.create", "api_key.create", "api_key.revoke"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    assert!(
        !events.iter().any(|e| e.details.contains(&key)),
        "the key is never recorded"
    );
    let mut agent = Actor::system("zineb.agent");
    agent.role = Role::Agent;
    assert!(accounts.list(&agent, "", 50).await.is_err());
}

#[tokio::test]
async fn sqlite_accounts() {
    let db = testkit::sqlite().await;
    an_administrator_creates_accounts_issues_and_revokes_a_key(&db).await;
}

#[tokio::test]
async fn postgres_accounts() {
    let Some(db) = testkit::postgres().await else {
        return;
    };
    an_administrator_creates_accounts_issues_and_revokes_a_key(&db).await;
    db.cleanup().await;
}
