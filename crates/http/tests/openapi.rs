//! The OpenAPI document says what the API really sends and accepts: every code serde writes for a
//! closed vocabulary is in the schema's enum (and nothing else), every operation lists the error
//! statuses it can answer with a problem body, and real responses of the API, as serialised by
//! serde, are valid against the schemas the document gives them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use http_body_util::BodyExt as _;
use sanad_app::auth::hash_password;
use sanad_app::store::{Account, PairStatus};
use sanad_app::{Registry, Role};
use sanad_domain::{
    Area, Asset, Disability, DwellingType, Occupation, Relation, Schooling, Sex, Tenure,
    TerritoryLevel,
};
use sanad_http::{AppState, openapi, router};
use sanad_storage::testkit;
use serde::Serialize;
use serde_json::{Value, json};
use tower::ServiceExt as _;

fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["components"]["schemas"]
        .get(name)
        .unwrap_or_else(|| panic!("no schema {name} in the document"))
}

/// The codes serde writes for every variant, against the schema's enum, both ways.
fn wire_codes<T: Serialize>(all: &[T]) -> Vec<String> {
    all.iter()
        .map(|v| {
            serde_json::to_value(v)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

fn assert_enum(doc: &Value, name: &str, wire: Vec<String>) {
    let documented: Vec<String> = schema(doc, name)["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("{name} has no enum"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        documented, wire,
        "the {name} schema lists what serde writes"
    );
}

#[test]
fn every_vocabulary_is_documented_with_its_wire_codes() {
    let doc = openapi::document();
    assert_enum(doc, "Sex", wire_codes(Sex::ALL));
    assert_eq!(wire_codes(Sex::ALL), ["M", "F"]);
    assert_enum(doc, "Relation", wire_codes(Relation::ALL));
    assert_enum(doc, "Disability", wire_codes(Disability::ALL));
    assert_enum(doc, "Schooling", wire_codes(Schooling::ALL));
    assert_enum(doc, "Occupation", wire_codes(Occupation::ALL));
    assert!(wire_codes(Occupation::ALL).contains(&"student".to_string()));
    assert_enum(doc, "DwellingType", wire_codes(DwellingType::ALL));
    assert_enum(doc, "Tenure", wire_codes(Tenure::ALL));
    assert_enum(doc, "Asset", wire_codes(Asset::ALL));
    assert_enum(doc, "Area", wire_codes(&[Area::Urban, Area::Rural]));
    assert_enum(
        doc,
        "TerritoryLevel",
        wire_codes(&[
            TerritoryLevel::Region,
            TerritoryLevel::Province,
            TerritoryLevel::Commune,
        ]),
    );
    assert_enum(
        doc,
        "PairStatus",
        wire_codes(&[
            PairStatus::Pending,
            PairStatus::Accepted,
            PairStatus::Rejected,
        ]),
    );
    // And each documented code is read back by serde.
    for code in schema(doc, "Sex")["enum"].as_array().unwrap() {
        serde_json::from_value::<Sex>(code.clone()).unwrap();
    }
}

#[test]
fn every_operation_has_its_own_id() {
    let doc = openapi::document();
    let mut ids = Vec::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            ids.push(
                op["operationId"]
                    .as_str()
                    .expect("an operationId")
                    .to_string(),
            );
        }
    }
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "operation ids are unique: {ids:?}");
    assert_eq!(count, openapi::OPERATION_IDS.len());
}

#[test]
fn every_operation_documents_its_error_statuses_with_a_problem_body() {
    let doc = openapi::document();
    let responses = &doc["components"]["responses"];
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let statuses = op["responses"].as_object().unwrap();
            let has = |s: &str| statuses.contains_key(s);
            let name = format!("{method} {path}");
            assert!(has("429") && has("500"), "{name}: 429 and 500");
            let public = path.ends_with("/health")
                || path.contains("/auth/")
                || path.ends_with("/verification");
            if !public {
                assert!(
                    has("401") && has("403") || path.contains("territories"),
                    "{name}"
                );
            }
            if op.get("requestBody").is_some() {
                for s in ["400", "413", "415", "422"] {
                    assert!(has(s), "{name}: {s}");
                }
            }
            if path.contains('{') {
                assert!(has("404") && has("422"), "{name}: 404 and 422");
            }
            for (status, response) in statuses {
                if !status.starts_with('4') && !status.starts_with('5') || status == "408" {
                    continue;
                }
                let response = match response["$ref"].as_str() {
                    Some(r) => &responses[r.rsplit('/').next().unwrap()],
                    None => response,
                };
                assert_eq!(
                    response["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{name} {status}"
                );
            }
        }
    }
}

/// A small JSON Schema check, enough for the shapes the document uses: `$ref`, `allOf`, `oneOf`,
/// `anyOf`, `type` (with `null`), `enum`, `const`, `required`, `properties`, `items`,
/// `additionalProperties: false`, `minimum`/`maximum`.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap();
        return check(doc, &doc["components"]["schemas"][name], value, at, errors);
    }
    if let Some(all) = schema["allOf"].as_array() {
        for s in all {
            check(doc, s, value, at, errors);
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema[key].as_array() {
            let fits = options.iter().filter(|s| {
                let mut e = Vec::new();
                check(doc, s, value, at, &mut e);
                e.is_empty()
            });
            let n = fits.count();
            if n == 0 || (key == "oneOf" && n > 1) {
                errors.push(format!("{at}: {value} fits {n} of the {key} schemas"));
            }
        }
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let ok = types.iter().any(|t| match *t {
            "null" => value.is_null(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => false,
        });
        if !ok {
            errors.push(format!("{at}: {value} is not of type {types:?}"));
            return;
        }
    }
    if let Some(options) = schema["enum"].as_array()
        && !options.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of the enum"));
    }
    if let Some(c) = schema.get("const")
        && c != value
    {
        errors.push(format!("{at}: {value} is not {c}"));
    }
    if let (Some(min), Some(n)) = (schema["minimum"].as_f64(), value.as_f64())
        && n < min
    {
        errors.push(format!("{at}: {n} < {min}"));
    }
    if let Some(object) = value.as_object() {
        for name in schema["required"].as_array().into_iter().flatten() {
            if !object.contains_key(name.as_str().unwrap()) {
                errors.push(format!("{at}: required {name} missing"));
            }
        }
        let properties = schema["properties"].as_object();
        for (name, v) in object {
            match properties.and_then(|p| p.get(name)) {
                Some(s) => check(doc, s, v, &format!("{at}.{name}"), errors),
                None if schema["additionalProperties"] == false => {
                    errors.push(format!("{at}: {name} is not in the schema"))
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, v) in array.iter().enumerate() {
            check(doc, items, v, &format!("{at}[{i}]"), errors);
        }
    }
}

/// Every property a response carries is documented somewhere in its schema (`allOf` parts
/// included), so a field added to a type cannot go undocumented.
fn documented_properties(doc: &Value, schema: &Value, out: &mut Vec<String>) {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap();
        return documented_properties(doc, &doc["components"]["schemas"][name], out);
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        documented_properties(doc, part, out);
    }
    if let Some(p) = schema["properties"].as_object() {
        out.extend(p.keys().cloned());
    }
}

fn assert_valid(doc: &Value, schema_name: &str, value: &Value) {
    let schema = json!({"$ref": format!("#/components/schemas/{schema_name}")});
    let mut errors = Vec::new();
    check(doc, &schema, value, schema_name, &mut errors);
    let mut documented = Vec::new();
    documented_properties(doc, &schema, &mut documented);
    for key in value.as_object().unwrap().keys() {
        if !documented.contains(key) {
            errors.push(format!("{schema_name}: {key} is sent but not documented"));
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

fn response_schema(doc: &Value, path: &str, method: &str, status: &str) -> Value {
    let pointer = format!(
        "/paths/{}/{method}/responses/{status}/content/application~1json/schema",
        path.replace('/', "~1")
    );
    doc.pointer(&pointer)
        .unwrap_or_else(|| panic!("no schema for {method} {path} {status}"))
        .clone()
}

#[tokio::test]
async fn real_responses_match_the_documented_schemas() {
    let db = testkit::sqlite().await;
    db.store
        .upsert_account(&Account::new(
            "admin",
            Role::Admin,
            hash_password("admin pass").unwrap(),
        ))
        .await
        .unwrap();
    let app = router(AppState::new(Registry::new(db.store.clone())));
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("admin:admin pass")
    );
    let call = |method: &str, uri: &str, body: Option<Value>| {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, &auth);
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => {
                req = req.header(header::ACCEPT, "application/json");
                req.body(Body::empty())
            }
        }
        .unwrap();
        let app = app.clone();
        async move {
            let res = app.oneshot(req).await.unwrap();
            let status = res.status();
            let bytes = res.into_body().collect().await.unwrap().to_bytes();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap())
        }
    };
    let doc = openapi::document();
    let household = json!({
        "commune_code": "01.511.01.01",
        "dwelling_type": "apartment", "tenure": "tenant", "rooms": 3,
        "water_spending": "60", "electricity_spending": 120.5, "phone_spending": 0,
        "gas_spending": "40,00", "assets": ["tv"], "declared_income": "2500",
        "members": [
            {"relation": "head", "first_name": "Youssef", "last_name": "Alaoui",
             "first_name_ar": "يوسف", "last_name_ar": "العلوي", "sex": "M",
             "birth_date": "1980-05-01", "national_id": "bk 12345", "phone": "06 12 34 56 78",
             "schooling": "higher", "occupation": "employed"},
            {"relation": "child", "first_name": "Salma", "last_name": "Alaoui", "sex": "F",
             "birth_date": "2012-01-09", "schooling": "primary", "occupation": "student",
             "disability": "hearing"}
        ]
    });
    let mut errors = Vec::new();
    check(
        doc,
        &json!({"$ref": "#/components/schemas/RegisterHousehold"}),
        &json!({"household": household, "reason": "walk-in"}),
        "request",
        &mut errors,
    );
    assert!(errors.is_empty(), "the request is valid: {errors:?}");

    let (status, registered) = call(
        "POST",
        "/api/v1/households",
        Some(json!({"household": household, "reason": "walk-in"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    assert_eq!(
        response_schema(doc, "/api/v1/households", "post", "201")["$ref"],
        "#/components/schemas/Registered"
    );
    assert_valid(doc, "Registered", &registered);
    assert_eq!(registered["members"][0]["sex"], "M");
    let id = registered["id"].as_str().unwrap();
    let person = registered["members"][0]["id"].as_str().unwrap();

    let (_, h) = call("GET", &format!("/api/v1/households/{id}"), None).await;
    assert_valid(doc, "Household", &h);
    for member in h["members"].as_array().unwrap() {
        assert_valid(doc, "Person", member);
    }
    let (_, p) = call("GET", &format!("/api/v1/persons/{person}"), None).await;
    assert_valid(doc, "Person", &p);
    let (_, page) = call("GET", "/api/v1/households?limit=10", None).await;
    assert_valid(doc, "HouseholdPage", &page);
    let (_, results) = call(
        "POST",
        "/api/v1/persons/search",
        Some(json!({"q": "alaoui youssef"})),
    )
    .await;
    assert_valid(doc, "PersonResults", &results);
    assert_eq!(results["items"].as_array().unwrap().len(), 1);
    let (_, versions) = call("GET", &format!("/api/v1/households/{id}/versions"), None).await;
    for v in versions.as_array().unwrap() {
        assert_valid(doc, "HouseholdVersion", v);
    }
    let (_, territory) = call("GET", "/api/v1/territories/01.511.01.01", None).await;
    assert_valid(doc, "Territory", &territory);
    let (_, log) = call("GET", "/api/v1/access-log?limit=5", None).await;
    assert_valid(doc, "AccessLogPage", &log);
    let (_, events) = call("GET", "/api/v1/audit/events?limit=5", None).await;
    for e in events.as_array().unwrap() {
        assert_valid(doc, "AuditEvent", e);
    }
    let (_, health) = call("GET", "/api/v1/health", None).await;
    assert_valid(doc, "Health", &health);

    let (status, problem) = call("GET", "/api/v1/households?limit=0", None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_valid(doc, "Problem", &problem);
}
