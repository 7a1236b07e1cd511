//! The administrator's pages, as a browser uses them.

use axum::http::StatusCode;
use sanad_app::Role;
use sanad_app::auth::hash_password;
use sanad_app::store::Account;
use sanad_storage::testkit;

use super::{App, sound};

async fn with_admin(app: &App) {
    let admin = Account::new("admin", Role::Admin, hash_password("pass admin").unwrap());
    app.db.store.upsert_account(&admin).await.unwrap();
}

#[tokio::test]
async fn an_administrator_creates_an_agent_for_a_province_then_a_key_shown_once_and_revokes_it() {
    let app = App::new(testkit::sqlite().await).await;
    with_admin(&app).await;
    for lang in ["ar", "fr", "en"] {
        let s = app.session("admin", lang).await;
        for path in [
            "/admin/accounts",
            "/admin/accounts/new",
            "/admin/accounts/agent",
            "/admin/keys",
        ] {
            let page = app.page(&s, path).await;
            assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
            sound(&page, lang);
        }
    }
    let s = app.session("admin", "fr").await;
    // A bad territory and a short password are named; nothing is saved.
    let bad = app
        .submit(
            &s,
            "/admin/accounts",
            &[
                ("username", "salma.agent"),
                ("role", "agent"),
                ("territories", "99"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.has("id=\"territories-error\""), "{}", bad.body);
    assert!(app.db.store.account("salma.agent").await.unwrap().is_none());
    let saved = app
        .submit(
            &s,
            "/admin/accounts",
            &[
                ("username", "salma.agent"),
                ("role", "agent"),
                ("territories", "05.091"),
                ("password", "a long enough secret"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let list = app.page(&s, saved.location()).await;
    assert!(list.has("salma.agent") && list.has("role=\"status\""));
    let account = app.db.store.account("salma.agent").await.unwrap().unwrap();
    assert_eq!(
        (account.role, account.territories.as_slice()),
        (Role::Agent, ["05.091".to_string()].as_slice())
    );
    // The new agent signs in and works in that province.
    let agent = app
        .session_with("salma.agent", "a long enough secret", "fr")
        .await;
    assert_eq!(app.page(&agent, "/").await.status, StatusCode::OK);

    // A key, shown once, never stored in clear; then revoked.
    let made = app
        .submit(
            &s,
            "/admin/keys",
            &[("username", "salma.agent"), ("scope", "registry:read")],
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let at = made.body.find("class=\"secret\">").unwrap() + "class=\"secret\">".len();
    let key: String = made.body[at..].chars().take_while(|c| *c != '<').collect();
    assert!(key.len() > 30);
    let again = app.page(&s, "/admin/keys").await;
    assert!(!again.has(&key), "shown once");
    let (status, _) = app.call_key("GET", "/api/v1/territories/05", &key).await;
    assert_eq!(status, StatusCode::OK, "the key works");
    let at = again.body.find("action=\"/admin/keys/").unwrap() + "action=\"/admin/keys/".len();
    let id: String = again.body[at..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    let revoked = app
        .submit(&s, &format!("/admin/keys/{id}/revoke"), &[])
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    let (status, _) = app.call_key("GET", "/api/v1/territories/05", &key).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a revoked key is refused");

    // Nobody else manages accounts.
    let manager = app.session("manager", "fr").await;
    for path in ["/admin/accounts", "/admin/keys", "/admin/accounts/new"] {
        assert_eq!(
            app.page(&manager, path).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
}
