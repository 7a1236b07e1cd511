//! Requests and complaints through the pages: a citizen files one with its document and follows
//! it without signing in; the centre of its territory moves it; nobody else sees it; a stale move
//! is shown as such; a complaint against an agent stays out of the agents' queue.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use sanad_app::Role;
use sanad_app::auth::hash_password;
use sanad_app::store::Account;
use sanad_storage::testkit;

use super::agent::registered;
use super::{App, Page, Session, household, set_up_targeting, sound};

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

async fn citizen(app: &App, name: &str, household: &str) {
    let mut account = Account::new(
        name,
        Role::Citizen,
        hash_password(&format!("pass {name}")).unwrap(),
    );
    account.household_id = Some(sanad_domain::HouseholdId::parse(household).unwrap());
    app.db.store.upsert_account(&account).await.unwrap();
}

/// The text of the element with this id.
fn text_of(page: &Page, id: &str) -> String {
    let body = page.text();
    let at = body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no {id}: {body}"));
    let rest = &body[at..];
    let start = rest.find('>').unwrap() + 1;
    let end = rest.find('<').unwrap();
    rest[start..end].trim().to_string()
}

async fn follow(app: &App, lang: &str, reference: &str, secret: &str) -> Page {
    let body = serde_urlencoded::to_string([("reference", reference), ("secret", secret)]).unwrap();
    let req = Request::post("/follow")
        .header(header::ACCEPT, "text/html")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("sanad_lang={lang}"))
        .body(Body::from(body))
        .unwrap();
    app.send(req).await
}

/// Files a request through the citizen's form; returns the page answered.
async fn file(app: &App, s: &Session, fields: &[(&str, &str)], doc: (&str, &str, &[u8])) -> Page {
    app.upload(s, "/me/requests/new", fields, doc).await
}

fn id_of(href_page: &Page) -> String {
    let body = &href_page.body;
    let at = body.find("href=\"/me/requests/").unwrap() + "href=\"/me/requests/".len();
    body[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect()
}

#[tokio::test]
async fn a_disability_card_request_is_filed_followed_and_moved_by_its_centre_only() {
    let app = App::new(testkit::sqlite().await).await;
    set_up_targeting(&app).await;
    let id = registered(&app, household()).await;
    citizen(&app, "citizen", &id).await;
    let mut other = household();
    other["members"][0]["national_id"] = "J111222".into();
    other["members"][0]["first_name"] = "Brahim".into();
    other["address"] = "Douar Tizi".into();
    let other_id = registered(&app, other).await;
    citizen(&app, "citizen2", &other_id).await;

    for lang in ["ar", "fr", "en"] {
        let s = app.session("citizen", lang).await;
        let mine = app.page(&s, "/me/requests").await;
        assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
        sound(&mine, lang);
        assert!(mine.has("href=\"/me/requests/new?kind=disability_card\""));
        assert!(mine.has("aria-current=\"page\""), "the nav entry is marked");
        for kind in [
            "disability_card",
            "complaint",
            "programme_application",
            "household_change",
            "registration_attestation",
        ] {
            let form = app.page(&s, &format!("/me/requests/new?kind={kind}")).await;
            assert_eq!(form.status, StatusCode::OK, "{kind}: {}", form.body);
            sound(&form, lang);
            assert!(form.has("enctype=\"multipart/form-data\""));
        }
    }

    let s = app.session("citizen", "fr").await;
    let form = app.page(&s, "/me/requests/new?kind=disability_card").await;
    assert!(
        form.has("un certificat médical"),
        "the documents asked for are named"
    );

    // A program passed off as a PDF is refused with the field named; nothing is recorded.
    let refused = file(
        &app,
        &s,
        &[
            ("kind", "disability_card"),
            ("details", "Carte pour Youssef"),
        ],
        ("documents", "certificat.pdf", b"MZ\x90\x00 not a document"),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    sound(&refused, "fr");
    assert!(refused.has("id=\"documents-error\""));
    assert!(refused.has("Pièces"), "the field is named in French");
    assert!(refused.has("Carte pour Youssef"), "what was typed is kept");
    assert!(
        app.page(&s, "/me/requests")
            .await
            .has("Aucune demande pour l")
    );

    // Without the documents asked for, it is refused too.
    let none = file(
        &app,
        &s,
        &[("kind", "disability_card")],
        ("documents", "", b""),
    )
    .await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(none.has("Joignez les pièces demandées."));

    let sent = file(
        &app,
        &s,
        &[
            ("kind", "disability_card"),
            ("details", "Carte pour Youssef"),
        ],
        ("documents", "certificat.pdf", PDF),
    )
    .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    sound(&sent, "fr");
    assert_eq!(sent.headers[header::CACHE_CONTROL], "no-store");
    let reference = text_of(&sent, "reference");
    let secret = text_of(&sent, "secret");
    assert!(reference.starts_with("SR-"), "{reference}");
    assert_eq!(secret.chars().count(), 6, "{secret}");
    assert!(
        sent.has("suivre votre demande"),
        "what they serve for is said"
    );
    let request = id_of(&sent);

    let mine = app.page(&s, "/me/requests").await;
    assert!(mine.has(&reference));
    assert!(
        mine.has("Vérification des pièces"),
        "where it stands, in words"
    );
    let own = app.page(&s, &format!("/me/requests/{request}")).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    sound(&own, "fr");
    assert!(own.has("Vérification des pièces"));
    assert!(own.has("Ce qui s"));

    // Followed without signing in: the right code shows where it stands; a wrong code and an
    // unknown reference get the same page.
    let followed = follow(&app, "ar", &reference, &secret).await;
    assert_eq!(followed.status, StatusCode::OK, "{}", followed.body);
    sound(&followed, "ar");
    assert!(followed.has("التحقق من الوثائق"), "{}", followed.body);
    let wrong = follow(&app, "fr", &reference, "ZZZZZZ").await;
    let parsed = sanad_workflow::Reference::parse(&reference).unwrap();
    let unknown_ref =
        sanad_workflow::Reference::new(parsed.family(), parsed.year(), parsed.sequence() + 500)
            .unwrap()
            .to_string();
    let unknown = follow(&app, "fr", &unknown_ref, &secret).await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(
        wrong.body.replace(&reference, "REF"),
        unknown.body.replace(&unknown_ref, "REF"),
        "the same page, whether the reference exists or not"
    );
    assert!(wrong.has("Aucune demande ne correspond"));
    let garbled = follow(&app, "fr", "nonsense", "x").await;
    assert_eq!(garbled.status, StatusCode::NOT_FOUND);

    // The centre of territory 05 has it in its queue, reads its document and moves it.
    let agent = app.session("agent", "fr").await;
    let queue = app.page(&agent, "/requests").await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.body);
    sound(&queue, "fr");
    assert!(queue.has(&reference), "{}", queue.body);
    let filtered = app.page(&agent, "/requests?kind=complaint").await;
    assert!(!filtered.has(&reference), "filtered by service");
    let at_centre = app.page(&agent, &format!("/requests/{request}")).await;
    assert_eq!(at_centre.status, StatusCode::OK, "{}", at_centre.body);
    sound(&at_centre, "fr");
    assert!(at_centre.has(&format!("href=\"/households/{id}\"")));
    assert!(at_centre.has("Les pièces sont complètes"));
    let doc_at = at_centre
        .body
        .find(&format!("/requests/{request}/documents/"))
        .unwrap();
    let doc_href: String = at_centre.body[doc_at..]
        .chars()
        .take_while(|c| *c != '"')
        .collect();
    let doc = app.page(&agent, &doc_href).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.body.as_bytes(), PDF);
    let version = at_centre.field("version").unwrap();

    // A reason is needed to ask for documents; the page says so and nothing moves.
    let no_reason = app
        .upload(
            &agent,
            &format!("/requests/{request}/act"),
            &[
                ("version", &version),
                ("action", "ask_for_documents"),
                ("reason", ""),
            ],
            ("documents", "", b""),
        )
        .await;
    assert_eq!(
        no_reason.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        no_reason.body
    );
    sound(&no_reason, "fr");

    let moved = app
        .upload(
            &agent,
            &format!("/requests/{request}/act"),
            &[
                ("version", &version),
                ("action", "documents_complete"),
                ("reason", ""),
            ],
            ("documents", "", b""),
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    assert_eq!(
        moved.location(),
        format!("/requests/{request}?done=done-request-moved")
    );
    let after = app.page(&agent, moved.location()).await;
    assert!(after.has("Commission médicale"), "{}", after.body);
    assert!(after.has("La demande a avancé."));

    // The same form posted again, with the version it was drawn at: someone else moved it.
    let stale = app
        .upload(
            &agent,
            &format!("/requests/{request}/act"),
            &[
                ("version", &version),
                ("action", "documents_complete"),
                ("reason", ""),
            ],
            ("documents", "", b""),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    sound(&stale, "fr");
    assert!(stale.has("autre a fait avancer cette demande"));
    assert!(stale.has("Commission médicale"), "where it is now");

    // The citizen sees the move in the timeline.
    let own = app.page(&s, &format!("/me/requests/{request}")).await;
    assert!(own.has("Commission médicale"));
    assert!(
        !own.has("Retirer la demande"),
        "no citizen action at this step"
    );

    // Nobody else sees it.
    let north = app.session("agent-north", "fr").await;
    assert_eq!(
        app.page(&north, &format!("/requests/{request}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(!app.page(&north, "/requests").await.has(&reference));
    assert_eq!(
        app.page(&north, &doc_href).await.status,
        StatusCode::NOT_FOUND
    );
    let s2 = app.session("citizen2", "fr").await;
    assert_eq!(
        app.page(&s2, &format!("/me/requests/{request}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(!app.page(&s2, "/me/requests").await.has(&reference));
    assert_eq!(
        app.page(&s, &format!("/requests/{request}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_complaint_against_an_agent_never_reaches_the_agents_queue() {
    let app = App::new(testkit::sqlite().await).await;
    set_up_targeting(&app).await;
    let id = registered(&app, household()).await;
    citizen(&app, "citizen", &id).await;
    let s = app.session("citizen", "ar").await;
    let no_details = file(
        &app,
        &s,
        &[
            ("kind", "complaint"),
            ("grievance", "complaint"),
            ("category", "against_agent"),
        ],
        ("documents", "", b""),
    )
    .await;
    assert_eq!(no_details.status, StatusCode::UNPROCESSABLE_ENTITY);
    sound(&no_details, "ar");
    assert!(no_details.has("id=\"details-error\""));
    let mut references = Vec::new();
    for category in ["against_agent", "service_quality"] {
        let sent = file(
            &app,
            &s,
            &[
                ("kind", "complaint"),
                ("grievance", "complaint"),
                ("category", category),
                ("details", "انتظرت طويلا"),
            ],
            ("documents", "", b""),
        )
        .await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        references.push((text_of(&sent, "reference"), id_of(&sent)));
    }
    let agent = app.session("agent", "fr").await;
    let queue = app.page(&agent, "/requests").await;
    assert!(
        !queue.has(&references[0].0),
        "against an agent: kept from agents"
    );
    assert!(
        queue.has(&references[1].0),
        "an ordinary complaint is there"
    );
    assert_eq!(
        app.page(&agent, &format!("/requests/{}", references[0].1))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // The citizen still reads both (the use-case leaves restricted categories out of the
    // household's list, so the one against an agent is reached from its receipt).
    let mine = app.page(&s, "/me/requests").await;
    assert!(mine.has(&references[1].0));
    for (_, request) in &references {
        let own = app.page(&s, &format!("/me/requests/{request}")).await;
        assert_eq!(own.status, StatusCode::OK, "{}", own.body);
        sound(&own, "ar");
    }
}

#[tokio::test]
async fn the_centre_files_for_a_household_with_consent_and_the_delays_show() {
    let app = App::new(testkit::sqlite().await).await;
    set_up_targeting(&app).await;
    let id = registered(&app, household()).await;
    let agent = app.session("agent", "fr").await;
    let list = app
        .page(&agent, &format!("/households/{id}/requests"))
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    sound(&list, "fr");
    let form = app
        .page(
            &agent,
            &format!("/households/{id}/requests/new?kind=registration_attestation"),
        )
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    sound(&form, "fr");
    assert!(form.has("name=\"consent\""));
    let uri = format!("/households/{id}/requests/new");
    let without = app
        .upload(
            &agent,
            &uri,
            &[("kind", "registration_attestation"), ("channel", "phone")],
            ("documents", "", b""),
        )
        .await;
    assert_eq!(without.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(without.has("id=\"consent-error\""));
    let with = app
        .upload(
            &agent,
            &uri,
            &[
                ("kind", "registration_attestation"),
                ("channel", "phone"),
                ("consent", "1"),
            ],
            ("documents", "", b""),
        )
        .await;
    assert_eq!(with.status, StatusCode::OK, "{}", with.body);
    let north = app.session("agent-north", "fr").await;
    assert_eq!(app.page(&north, &uri).await.status, StatusCode::NOT_FOUND);

    for lang in ["ar", "fr", "en"] {
        let manager = app.session("manager", lang).await;
        let report = app.page(&manager, "/requests/bottlenecks").await;
        assert_eq!(report.status, StatusCode::OK, "{}", report.body);
        sound(&report, lang);
        let queue = app.page(&manager, "/requests").await;
        assert_eq!(queue.status, StatusCode::OK);
        sound(&queue, lang);
    }
    let manager = app.session("manager", "fr").await;
    let report = app.page(&manager, "/requests/bottlenecks").await;
    assert!(
        report.has("La plupart des demandes attendent à"),
        "{}",
        report.body
    );
    let csv = app
        .page(&manager, "/requests/bottlenecks.csv?table=steps")
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(csv.body.lines().count() >= 2, "{}", csv.body);
    for table in ["centres", "territories", "ratings"] {
        let csv = app
            .page(
                &manager,
                &format!("/requests/bottlenecks.csv?table={table}"),
            )
            .await;
        assert_eq!(csv.status, StatusCode::OK, "{table}");
    }
}
