//! A social worker logs in and out through the HTML forms; forged and redirected forms are refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use sanad_app::auth::hash_password;
use sanad_app::store::Account;
use sanad_app::{Registry, Role};
use sanad_http::{AppState, router};
use sanad_storage::testkit;
use tower::ServiceExt as _;

struct Browser {
    app: axum::Router,
    db: testkit::TestDb,
}

struct Page {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers[header::LOCATION].to_str().unwrap()
    }

    /// The `Set-Cookie` line for this cookie, if the response sets it.
    fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|c| c.starts_with(&format!("{name}=")))
    }

    /// `name=value` of a cookie the response sets.
    fn cookie(&self, name: &str) -> String {
        self.set_cookie(name)
            .unwrap_or_else(|| panic!("no {name} cookie: {:?}", self.headers))
            .split(';')
            .next()
            .unwrap()
            .to_string()
    }

    /// The value of a hidden field of the page's forms.
    fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no field {name} in {}", self.body))
            + marker.len();
        self.body[start..].split('"').next().unwrap().to_string()
    }
}

fn form(fields: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(fields).unwrap()
}

impl Browser {
    async fn new() -> Browser {
        let db = testkit::sqlite().await;
        db.store
            .upsert_account(&Account::new(
                "agent1",
                Role::Agent,
                hash_password("correct horse").unwrap(),
            ))
            .await
            .unwrap();
        let app = router(AppState::new(Registry::new(db.store.clone())));
        Browser { app, db }
    }

    async fn send(&self, req: Request<Body>) -> Page {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Page {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&self, uri: &str, cookies: &[&str]) -> Page {
        let mut req = Request::get(uri).header(header::ACCEPT, "text/html,application/xhtml+xml");
        if !cookies.is_empty() {
            req = req.header(header::COOKIE, cookies.join("; "));
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    async fn post_form(&self, uri: &str, cookies: &[&str], body: String) -> Page {
        let mut req = Request::post(uri)
            .header(header::ACCEPT, "text/html")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if !cookies.is_empty() {
            req = req.header(header::COOKIE, cookies.join("; "));
        }
        self.send(req.body(Body::from(body)).unwrap()).await
    }

    /// Opens the login form: the anti-forgery cookie and the hidden token.
    async fn login_form(&self) -> (String, String) {
        let page = self.get("/login", &[]).await;
        assert_eq!(page.status, StatusCode::OK);
        (page.cookie("sanad_login_csrf"), page.hidden("login_csrf"))
    }

    /// Posts the login form of `login_form` from the browser that opened it.
    async fn submit_login(
        &self,
        cookie: &str,
        token: &str,
        username: &str,
        password: &str,
        next: Option<&str>,
    ) -> Page {
        let mut fields = vec![
            ("login_csrf", token),
            ("username", username),
            ("password", password),
        ];
        fields.extend(next.map(|n| ("next", n)));
        self.post_form("/login", &[cookie], form(&fields)).await
    }

    async fn failed_logins(&self) -> u32 {
        self.db
            .store
            .account("agent1")
            .await
            .unwrap()
            .unwrap()
            .failed_logins
    }
}

#[tokio::test]
async fn a_social_worker_logs_in_with_the_form_sees_the_home_page_and_logs_out() {
    let browser = Browser::new().await;

    // A browser without credentials is sent to the login page; an API client still gets 401.
    let home = browser.get("/", &[]).await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.location(), "/login");
    let api = browser
        .send(Request::get("/").body(Body::empty()).unwrap())
        .await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        api.headers[header::CONTENT_TYPE],
        "application/problem+json"
    );

    let page = browser.get("/login", &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<html lang=\"fr\" dir=\"ltr\">"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Mot de passe"));
    assert!(
        page.body
            .split("<script")
            .skip(1)
            .all(|tag| tag.trim_start().starts_with("src=")),
        "the CSP forbids inline script"
    );
    assert!(
        !page.body.contains("Se connecter avec"),
        "no OIDC configured"
    );
    let set = page.set_cookie("sanad_login_csrf").unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let login_cookie = page.cookie("sanad_login_csrf");
    let token = page.hidden("login_csrf");
    assert_eq!(login_cookie, format!("sanad_login_csrf={token}"));

    let arabic = browser.get("/login?lang=ar", &[&login_cookie]).await;
    assert!(arabic.body.contains("<html lang=\"ar\" dir=\"rtl\">"));
    assert!(arabic.body.contains("كلمة المرور"));
    assert_eq!(arabic.hidden("login_csrf"), token, "one token per browser");

    let done = browser
        .submit_login(&login_cookie, &token, "agent1", "correct horse", Some("/"))
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/");
    let set = done.set_cookie("sanad_session").unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let session = done.cookie("sanad_session");

    let home = browser.get("/", &[&session]).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.body
            .contains("<span class=\"user-name\">agent1</span>"),
        "{}",
        home.body
    );
    assert!(home.body.contains("action=\"/logout\""));
    let csrf = home.hidden("csrf_token");

    // A logout form posted from elsewhere (no token) is refused and the session stays.
    let forged = browser
        .post_form("/logout", &[&session], String::new())
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(browser.get("/", &[&session]).await.status, StatusCode::OK);

    let out = browser
        .post_form("/logout", &[&session], form(&[("csrf_token", &csrf)]))
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/login");
    assert!(
        out.set_cookie("sanad_session")
            .unwrap()
            .contains("Max-Age=0")
    );
    let after = browser.get("/", &[&session]).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "the session is gone");
    assert_eq!(after.location(), "/login");
}

#[tokio::test]
async fn a_login_form_without_its_anti_forgery_token_is_refused() {
    let browser = Browser::new().await;
    let (cookie, token) = browser.login_form().await;
    let credentials = [("username", "agent1"), ("password", "correct horse")];

    // Posted from another site: no cookie (SameSite=Strict) and no token.
    let page = browser.post_form("/login", &[], form(&credentials)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("<html lang=\"fr\""), "an HTML page");
    assert!(page.set_cookie("sanad_session").is_none());

    let mut with_token = credentials.to_vec();
    with_token.push(("login_csrf", &token));
    let page = browser.post_form("/login", &[], form(&with_token)).await;
    assert_eq!(
        page.status,
        StatusCode::FORBIDDEN,
        "a token without its cookie"
    );

    let mut forged = credentials.to_vec();
    forged.push(("login_csrf", "0123456789abcdef0123456789abcdef"));
    let page = browser.post_form("/login", &[&cookie], form(&forged)).await;
    assert_eq!(
        page.status,
        StatusCode::FORBIDDEN,
        "a token of another browser"
    );
    assert!(page.set_cookie("sanad_session").is_none());
    assert_eq!(browser.failed_logins().await, 0, "no password was tried");
}

#[tokio::test]
async fn a_wrong_password_shows_the_form_again_without_saying_which_part_was_wrong() {
    let browser = Browser::new().await;
    let (cookie, token) = browser.login_form().await;

    let wrong = browser
        .submit_login(&cookie, &token, "agent1", "wrong", None)
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.set_cookie("sanad_session").is_none());
    assert!(wrong.body.contains("Identifiant ou mot de passe incorrect"));
    assert_eq!(
        wrong.hidden("login_csrf"),
        token,
        "the form can be posted again"
    );
    assert_eq!(browser.failed_logins().await, 1, "the failure is counted");

    let unknown = browser
        .submit_login(&cookie, &token, "nobody", "wrong", None)
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    let message = |body: &str| {
        body.split("role=\"alert\">")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        message(&unknown.body),
        message(&wrong.body),
        "no user enumeration"
    );

    // Five failures in a row lock the account, as with the JSON login: then even the right
    // password is refused.
    for _ in 0..4 {
        browser
            .submit_login(&cookie, &token, "agent1", "wrong", None)
            .await;
    }
    let locked = browser
        .submit_login(&cookie, &token, "agent1", "correct horse", None)
        .await;
    assert_eq!(locked.status, StatusCode::UNAUTHORIZED);
    assert_eq!(message(&locked.body), message(&wrong.body));
}

#[tokio::test]
async fn after_login_the_browser_goes_to_a_local_page_only() {
    let browser = Browser::new().await;
    let (cookie, token) = browser.login_form().await;
    for (next, expected) in [
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/api/v1/docs/", "/api/v1/docs/"),
    ] {
        let page = browser
            .submit_login(&cookie, &token, "agent1", "correct horse", Some(next))
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{next}");
        assert_eq!(page.location(), expected, "{next}");
    }
    let shown = browser
        .get("/login?next=https%3A%2F%2Fevil.example", &[])
        .await;
    assert_eq!(shown.hidden("next"), "/");
}

#[tokio::test]
async fn a_session_form_post_to_the_api_may_carry_the_csrf_token_as_a_field() {
    let browser = Browser::new().await;
    let (cookie, token) = browser.login_form().await;
    let done = browser
        .submit_login(&cookie, &token, "agent1", "correct horse", None)
        .await;
    let session = done.cookie("sanad_session");
    let csrf = browser.get("/", &[&session]).await.hidden("csrf_token");

    let without = browser
        .post_form("/api/v1/households", &[&session], form(&[("rooms", "3")]))
        .await;
    assert_eq!(without.status, StatusCode::FORBIDDEN);
    let wrong = browser
        .post_form(
            "/api/v1/households",
            &[&session],
            form(&[("csrf_token", "forged"), ("rooms", "3")]),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    // With the field the caller is accepted; this route then wants JSON, which is its own answer.
    let with = browser
        .post_form(
            "/api/v1/households",
            &[&session],
            form(&[("csrf_token", &csrf), ("rooms", "3")]),
        )
        .await;
    assert_eq!(
        with.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        with.body
    );
}
