//! The OpenAPI 3.1 document of `/api/v1`, built once from the handlers' annotations and the
//! types' schemas, then completed with what annotations cannot say: every error status an
//! operation can answer (each a problem document), the commune codes a household may name, and the
//! rules on a household's members that a JSON Schema can express.
//!
//! Rules no JSON Schema can express (the Damm check digit of a registry id, a name in Latin or
//! Arabic script, a birth date not in the future) are named by a custom `format` and described in
//! words; `.ci/schemathesis_hooks.py` teaches the fuzzer to generate them.

use std::sync::OnceLock;

use serde_json::{Value, json};
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

use crate::api;

#[derive(OpenApi)]
#[openapi(
    info(title = "Sanad API", description = "The single social window: household registry of Sanad.

Errors are RFC 9457 problem documents (`application/problem+json`) with a stable `code` and, for bad \
input, `errors[]` naming each field at fault (`household.members[1].sex`). Every operation but health, \
login and logout needs a credential: HTTP Basic for an account, `Authorization: Bearer <api key>` for a \
partner system, or the session cookie of `POST /api/v1/auth/login` (with its CSRF token in \
`X-CSRF-Token` on every POST and PUT)."),
    paths(
        api::health::health,
        api::households::create,
        api::households::get,
        api::households::update,
        api::households::list,
        api::households::versions,
        api::persons::get,
        api::persons::search,
        api::territories::list,
        api::territories::get,
        api::territories::region_counts,
        api::duplicates::list,
        api::duplicates::decide,
        api::duplicates::merge,
        api::duplicates::undo,
        api::audit::access_log,
        api::audit::events,
        api::audit::inclusion,
        api::audit::consistency,
        api::audit::tree_head,
        api::session::login,
        api::session::logout,
        api::targeting::household,
        api::targeting::household_enrolments,
        api::targeting::programmes,
        api::targeting::programme,
        api::targeting::define_programme,
        api::targeting::enrol,
        api::targeting::enrolments,
        api::targeting::change_enrolment,
        api::targeting::counts,
        api::targeting::models,
        api::targeting::import_model,
        api::targeting::activate_model,
        api::targeting::dry_run,
        api::targeting::count_rule,
        api::payments::set_means,
        api::payments::get_means,
        api::payments::prepare_cycle,
        api::payments::preview_cycle,
        api::payments::cycles,
        api::payments::cycle,
        api::payments::approve_cycle,
        api::payments::cancel_cycle,
        api::payments::entitlements,
        api::payments::open_batches,
        api::payments::export_batch,
        api::payments::reconcile,
        api::payments::list_payments,
        api::payments::open_adhesions,
        api::payments::export_adhesions,
        api::payments::adhesion_answer,
        api::requests::submit,
        api::requests::queue,
        api::requests::get,
        api::requests::history,
        api::requests::act,
        api::requests::follow,
        api::requests::bottlenecks,
        api::certificates::issue,
        api::certificates::of_household,
        api::certificates::get,
        api::certificates::pdf,
        api::certificates::revoke,
        api::certificates::verify_code,
        api::certificates::verify_file,
    ),
    modifiers(&SecurityAddon),
    security(("basic" = []), ("api_key" = [])),
    tags(
        (name = "households", description = "Households and their members, with version history"),
        (name = "persons", description = "Persons of the registry"),
        (name = "territories", description = "Regions, provinces and communes"),
        (name = "duplicates", description = "Review of candidate duplicates, merges and their undoing"),
        (name = "audit", description = "The access log and the audit trail, for auditors"),
        (name = "targeting", description = "The index (proxy means test), programmes, eligibility explained, enrolments"),
        (name = "payments", description = "Payment means, cycles approved by a second manager, payment files and their answers, AMO adhesions"),
        (name = "certificates", description = "Documents Sanad issues (cards, attestations) as signed PDFs, their revocation, and their public verification: valid, revoked or forged"),
        (name = "requests", description = "E-service requests and complaints: filed, moved step by step with deadlines, followed by reference, and the delays per step"),
        (name = "system", description = "Health and browser sessions"),
    )
)]
struct ApiDoc;

struct SecurityAddon;

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The error answers, by status: the name of the shared response and what it means.
pub const ERROR_RESPONSES: &[(&str, &str, &str)] = &[
    (
        "400",
        "BadRequest",
        "The body is not valid JSON or could not be read (`bad_request`).",
    ),
    (
        "401",
        "Unauthorized",
        "No credential, or one that is wrong, revoked or of a locked account (`unauthorized`).",
    ),
    (
        "403",
        "Forbidden",
        "The role, the API key's scopes or the caller's territories do not allow this, or a change \
         made with the session cookie lacks its CSRF token (`forbidden`).",
    ),
    (
        "404",
        "NotFound",
        "No such record, or one outside the caller's territories (`not_found`).",
    ),
    (
        "409",
        "Conflict",
        "The change conflicts with the registry: the record changed since it was read \
         (`version_conflict`), or a national id, a person or a decision is already taken (`conflict`).",
    ),
    (
        "413",
        "TooLarge",
        "The body is larger than 1 MiB (`too_large`).",
    ),
    (
        "415",
        "UnsupportedMediaType",
        "The body is not sent as `application/json` (`unsupported_media_type`).",
    ),
    (
        "422",
        "Invalid",
        "A field is missing or wrong; `errors[]` names each one with a code and what was expected \
         (`validation`).",
    ),
    (
        "429",
        "TooManyRequests",
        "Too many failed authentications, or too many requests without a credential, from this \
         address this minute (`rate_limited`); `Retry-After` says when to try again.",
    ),
    (
        "500",
        "Internal",
        "A failure on the server's side; the body says nothing more, the server log has the cause \
         (`internal`).",
    ),
    (
        "503",
        "Unavailable",
        "The database cannot be reached; try again shortly (`unavailable`).",
    ),
];

/// The document served at `/api/v1/openapi.json`.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(build)
}

fn build() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null);
    // Health answers without credentials.
    if let Some(op) = doc.pointer_mut("/paths/~1api~1v1~1health/get") {
        op["security"] = json!([{}]);
    }
    // So do the public checks of a document.
    for pointer in [
        "/paths/~1api~1v1~1certificates~1{id}~1verification/get",
        "/paths/~1api~1v1~1certificates~1verification/post",
    ] {
        if let Some(op) = doc.pointer_mut(pointer) {
            op["security"] = json!([{}]);
        }
    }
    add_error_responses(&mut doc);
    refine_schemas(&mut doc);
    name_operations(&mut doc);
    describe_proof_bundles(&mut doc);
    add_links(&mut doc);
    doc
}

/// Operation ids, unique across the document (utoipa takes the handler's name, and several
/// modules have a `get`): generated clients name their functions after them.
pub const OPERATION_IDS: &[(&str, &str, &str)] = &[
    ("/api/v1/health", "get", "health"),
    ("/api/v1/households", "post", "register_household"),
    ("/api/v1/households", "get", "list_households"),
    ("/api/v1/households/{id}", "get", "get_household"),
    ("/api/v1/households/{id}", "put", "update_household"),
    (
        "/api/v1/households/{id}/versions",
        "get",
        "household_versions",
    ),
    ("/api/v1/persons/{id}", "get", "get_person"),
    ("/api/v1/persons/search", "post", "search_persons"),
    ("/api/v1/territories", "get", "list_territories"),
    ("/api/v1/territories/{code}", "get", "get_territory"),
    ("/api/v1/stats/regions", "get", "region_counts"),
    ("/api/v1/requests", "post", "submit_request"),
    ("/api/v1/requests", "get", "request_queue"),
    ("/api/v1/requests/{id}", "get", "get_request"),
    ("/api/v1/requests/{id}/history", "get", "request_history"),
    ("/api/v1/requests/{id}/actions", "post", "act_on_request"),
    ("/api/v1/requests/follow", "post", "follow_request"),
    ("/api/v1/requests/bottlenecks", "get", "request_bottlenecks"),
    (
        "/api/v1/households/{id}/certificates",
        "post",
        "issue_certificate",
    ),
    (
        "/api/v1/households/{id}/certificates",
        "get",
        "household_certificates",
    ),
    ("/api/v1/certificates/{id}", "get", "get_certificate"),
    ("/api/v1/certificates/{id}/pdf", "get", "certificate_pdf"),
    (
        "/api/v1/certificates/{id}/revocation",
        "post",
        "revoke_certificate",
    ),
    (
        "/api/v1/certificates/{id}/verification",
        "get",
        "verify_certificate",
    ),
    (
        "/api/v1/certificates/verification",
        "post",
        "verify_certificate_file",
    ),
    ("/api/v1/duplicates", "get", "list_duplicates"),
    (
        "/api/v1/duplicates/{id}/decision",
        "post",
        "decide_duplicate",
    ),
    ("/api/v1/persons/{id}/merge", "post", "merge_person"),
    ("/api/v1/merges/{id}/undo", "post", "undo_merge"),
    ("/api/v1/access-log", "get", "access_log"),
    ("/api/v1/audit/events", "get", "audit_events"),
    (
        "/api/v1/audit/proofs/inclusion",
        "get",
        "audit_inclusion_proof",
    ),
    (
        "/api/v1/audit/proofs/consistency",
        "get",
        "audit_consistency_proof",
    ),
    ("/api/v1/audit/tree-head", "get", "audit_tree_head"),
    ("/api/v1/auth/login", "post", "login"),
    ("/api/v1/auth/logout", "post", "logout"),
    (
        "/api/v1/households/{id}/targeting",
        "get",
        "household_targeting",
    ),
    (
        "/api/v1/households/{id}/enrolments",
        "get",
        "household_enrolments",
    ),
    ("/api/v1/programmes", "get", "list_programmes"),
    ("/api/v1/programmes", "post", "define_programme"),
    ("/api/v1/programmes/{code}", "get", "get_programme"),
    ("/api/v1/programmes/count", "post", "count_rule"),
    ("/api/v1/programmes/{code}/enrol", "post", "enrol_eligible"),
    (
        "/api/v1/programmes/{code}/enrolments",
        "get",
        "list_enrolments",
    ),
    (
        "/api/v1/programmes/{code}/enrolments/{household}",
        "post",
        "change_enrolment",
    ),
    ("/api/v1/stats/enrolments", "get", "enrolment_counts"),
    ("/api/v1/models", "get", "list_models"),
    ("/api/v1/models", "post", "import_model"),
    ("/api/v1/models/dry-run", "post", "dry_run_model"),
    (
        "/api/v1/models/{id}/{version}/activate",
        "post",
        "activate_model",
    ),
    (
        "/api/v1/households/{id}/payment-means",
        "put",
        "set_payment_means",
    ),
    (
        "/api/v1/households/{id}/payment-means",
        "get",
        "get_payment_means",
    ),
    ("/api/v1/cycles", "post", "prepare_cycle"),
    ("/api/v1/cycles", "get", "list_cycles"),
    ("/api/v1/cycles/preview", "post", "preview_cycle"),
    ("/api/v1/cycles/{id}", "get", "get_cycle"),
    ("/api/v1/cycles/{id}/approve", "post", "approve_cycle"),
    ("/api/v1/cycles/{id}/cancel", "post", "cancel_cycle"),
    (
        "/api/v1/cycles/{id}/entitlements",
        "get",
        "list_entitlements",
    ),
    ("/api/v1/cycles/{id}/batches", "post", "open_batches"),
    ("/api/v1/batches/{id}/export", "post", "export_batch"),
    ("/api/v1/reconciliations", "post", "reconcile_payments"),
    ("/api/v1/payments", "get", "list_payments"),
    (
        "/api/v1/programmes/{code}/adhesion-batches",
        "post",
        "open_adhesion_batch",
    ),
    (
        "/api/v1/programmes/{code}/adhesion-batches/{id}/export",
        "post",
        "export_adhesion_batch",
    ),
    ("/api/v1/adhesion-answers", "post", "import_adhesion_answer"),
];

/// The proof bundles come from `sanad-tlog`, which stays free of the API's schema machinery (the
/// standalone verifier depends on it): their shape is written here, as `sanad-tlog-verify` reads it.
fn describe_proof_bundles(doc: &mut Value) {
    let hashes = json!({"type": "array", "items": {"type": "string", "contentEncoding": "base64"}});
    let inclusion = json!({
        "type": "object",
        "required": ["kind", "leaf", "leaf_index", "tree_size", "proof", "checkpoint", "verifier_key"],
        "properties": {
            "kind": {"const": "inclusion"},
            "event": {"type": "object", "additionalProperties": {"type": "string"},
                      "description": "The event's fields, for reading; the proof covers `leaf`."},
            "leaf": {"type": "string", "contentEncoding": "base64", "description": "The event's leaf bytes."},
            "leaf_index": {"type": "integer", "minimum": 0},
            "tree_size": {"type": "integer", "minimum": 1},
            "proof": hashes,
            "checkpoint": {"type": "string", "description": "The signed tree head (C2SP signed note)."},
            "verifier_key": {"type": "string", "description": "`name+id+base64(0x01 ‖ key)`"}
        }
    });
    let consistency = json!({
        "type": "object",
        "required": ["kind", "old_size", "new_size", "old_checkpoint", "new_checkpoint", "proof", "verifier_key"],
        "properties": {
            "kind": {"const": "consistency"},
            "old_size": {"type": "integer", "minimum": 0},
            "new_size": {"type": "integer", "minimum": 0},
            "old_checkpoint": {"type": "string", "description": "The older signed tree head."},
            "new_checkpoint": {"type": "string", "description": "The newer signed tree head."},
            "proof": hashes,
            "verifier_key": {"type": "string"}
        }
    });
    for (path, schema) in [
        (
            "/paths/~1api~1v1~1audit~1proofs~1inclusion/get/responses/200",
            inclusion,
        ),
        (
            "/paths/~1api~1v1~1audit~1proofs~1consistency/get/responses/200",
            consistency,
        ),
    ] {
        if let Some(ok) = doc.pointer_mut(path) {
            ok["content"] = json!({"application/json": {"schema": schema}});
        }
    }
}

fn name_operations(doc: &mut Value) {
    for (path, method, id) in OPERATION_IDS {
        let pointer = format!("/paths/{}/{method}", path.replace('/', "~1"));
        if let Some(op) = doc.pointer_mut(&pointer) {
            op["operationId"] = json!(id);
        }
    }
}

/// Links from a registered household to what can be done with it next (OpenAPI `links`, which
/// generated clients and fuzzers follow).
fn add_links(doc: &mut Value) {
    let household = json!({"id": "$response.body#/id"});
    let links = json!({
        "GetHousehold": {"operationId": "get_household", "parameters": household,
                         "description": "The household just registered."},
        "UpdateHousehold": {"operationId": "update_household", "parameters": household,
                            "description": "Change it (send `expected_version` = its `version`)."},
        "HouseholdVersions": {"operationId": "household_versions", "parameters": household,
                              "description": "Its version history."},
        "GetHead": {"operationId": "get_person",
                    "parameters": {"id": "$response.body#/members/0/id"},
                    "description": "Its first member."},
    });
    if let Some(created) = doc.pointer_mut("/paths/~1api~1v1~1households/post/responses/201") {
        created["links"] = links.clone();
    }
    if let Some(ok) = doc.pointer_mut("/paths/~1api~1v1~1households~1{id}/put/responses/200") {
        ok["links"] = links;
    }
    let request = json!({"id": "$response.body#/request/id"});
    let moved = json!({"id": "$response.body#/id"});
    let request_links = |parameters: &Value| {
        json!({
            "GetRequest": {"operationId": "get_request", "parameters": parameters,
                           "description": "The request."},
            "RequestHistory": {"operationId": "request_history", "parameters": parameters,
                               "description": "The steps it went through."},
            "ActOnRequest": {"operationId": "act_on_request", "parameters": parameters,
                             "description": "Move it (send its `version`)."},
        })
    };
    let document_links = |id: &str| {
        let parameters = json!({"id": id});
        json!({
            "GetCertificate": {"operationId": "get_certificate", "parameters": parameters,
                               "description": "The document's record."},
            "CertificatePdf": {"operationId": "certificate_pdf", "parameters": parameters,
                               "description": "The signed PDF."},
            "VerifyCertificate": {"operationId": "verify_certificate", "parameters": parameters,
                                  "description": "The public check (give the code printed on it)."},
            "RevokeCertificate": {"operationId": "revoke_certificate", "parameters": parameters,
                                  "description": "Revoke it, with a reason."},
        })
    };
    for pointer in [
        "/paths/~1api~1v1~1households~1{id}~1certificates/post/responses/201",
        "/paths/~1api~1v1~1certificates~1{id}~1revocation/post/responses/200",
    ] {
        if let Some(ok) = doc.pointer_mut(pointer) {
            ok["links"] = document_links("$response.body#/id");
        }
    }
    if let Some(created) = doc.pointer_mut("/paths/~1api~1v1~1requests/post/responses/201") {
        created["links"] = request_links(&request);
    }
    if let Some(ok) =
        doc.pointer_mut("/paths/~1api~1v1~1requests~1{id}~1actions/post/responses/200")
    {
        ok["links"] = request_links(&moved);
    }
}

fn problem_content() -> Value {
    json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}})
}

fn add_error_responses(doc: &mut Value) {
    let mut shared = serde_json::Map::new();
    for (status, name, description) in ERROR_RESPONSES {
        let mut response = json!({"description": description, "content": problem_content()});
        match *status {
            "401" => {
                response["headers"] = json!({"WWW-Authenticate": {
                    "description": "`Basic realm=\"Sanad\", charset=\"UTF-8\"`",
                    "schema": {"type": "string"}}})
            }
            "429" => {
                response["headers"] = json!({"Retry-After": {
                    "description": "Seconds to wait.",
                    "schema": {"type": "integer", "minimum": 0}}})
            }
            _ => {}
        }
        shared.insert((*name).to_string(), response);
    }
    // The one error without a problem body: the 60 s time-out cuts the request at the edge.
    shared.insert(
        "Timeout".into(),
        json!({"description": "The request took longer than 60 seconds; nothing is in the body."}),
    );
    doc["components"]["responses"] = Value::Object(shared);

    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            let statuses = error_statuses(path, method, op);
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            for (status, name, _) in ERROR_RESPONSES {
                if !statuses.contains(status) && !responses.contains_key(*status) {
                    continue;
                }
                match responses.get_mut(*status) {
                    // An operation's own words for this status stay; the body is the problem
                    // document whatever it said.
                    Some(own)
                        if own
                            .get("description")
                            .and_then(Value::as_str)
                            .is_some_and(|d| !d.is_empty()) =>
                    {
                        own["content"] = problem_content();
                    }
                    _ => {
                        responses.insert(
                            (*status).to_string(),
                            json!({"$ref": format!("#/components/responses/{name}")}),
                        );
                    }
                }
            }
            responses.insert(
                "408".into(),
                json!({"$ref": "#/components/responses/Timeout"}),
            );
            // A response's description is required by OpenAPI; utoipa leaves it out when the
            // annotation gives none.
            for (status, response) in responses.iter_mut() {
                if response.get("$ref").is_none()
                    && response.get("description").is_none_or(|d| d == "")
                {
                    response["description"] = json!(match status.as_str() {
                        "200" => "OK",
                        "201" => "Created",
                        "204" => "No content",
                        _ => "See the body",
                    });
                }
            }
        }
    }
}

/// The error statuses an operation can answer, from what it takes: every request may meet the
/// rate limits and a server failure; a credential may be refused, a body malformed, a parameter
/// wrong, a path name nothing.
fn error_statuses(path: &str, method: &str, op: &Value) -> Vec<&'static str> {
    let mut statuses = vec!["429", "500"];
    let public = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .all(|r| r.as_object().is_some_and(|o| o.is_empty()))
        });
    let is_health = path.ends_with("/health");
    if !public || path.ends_with("/auth/login") {
        statuses.extend(["401", "503"]);
    }
    if (!public && !path.contains("/territories")) || path.ends_with("/auth/logout") {
        statuses.push("403");
    }
    if path.ends_with("/auth/logout") || path.ends_with("/verification") {
        statuses.push("503");
    }
    if op.get("requestBody").is_some() {
        statuses.extend(["400", "413", "415", "422"]);
    }
    let params = op
        .get("parameters")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if !params.is_empty() {
        statuses.push("422");
    }
    if params.iter().any(|p| p["in"] == "path") {
        statuses.push("404");
    }
    if is_health || method == "options" {
        statuses.retain(|s| *s == "429" || *s == "500");
    }
    statuses.sort_unstable();
    statuses.dedup();
    statuses
}

/// Merges `patch` into the object at `pointer` (created when missing).
fn merge(doc: &mut Value, pointer: &str, patch: Value) {
    let Some(target) = doc.pointer_mut(pointer) else {
        return;
    };
    if let (Some(target), Value::Object(patch)) = (target.as_object_mut(), patch) {
        target.extend(patch);
    }
}

/// Sets the schema of a parameter of an operation.
fn parameter_schema(doc: &mut Value, path: &str, method: &str, name: &str, schema: Value) {
    let pointer = format!("/paths/{}/{method}/parameters", path.replace('/', "~1"));
    let Some(params) = doc.pointer_mut(&pointer).and_then(Value::as_array_mut) else {
        return;
    };
    for p in params.iter_mut().filter(|p| p["name"] == name) {
        p["schema"] = schema.clone();
    }
}

/// The payment operations: what a month, a means of payment, a cursor and an answer file look
/// like, as far as a schema can say; the rest (a RIB's key, a file's lines) by a custom format.
fn refine_payments(doc: &mut Value) {
    let cursor = json!({"type": "string", "format": "sanad-enrolment-cursor",
        "pattern": "^H[0-9]{11}(/P[0-9]{11})?$",
        "description": "`next_after` of the previous page: a position (`H` and 11 digits, \
                        optionally `/P` and 11 digits), read from its serials."});
    parameter_schema(
        doc,
        "/api/v1/cycles/{id}/entitlements",
        "get",
        "after",
        cursor,
    );
    let schemas = &mut doc["components"]["schemas"];
    let period = json!({"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$",
        "examples": ["2026-04"], "description": "The month paid, `YYYY-MM`."});
    schemas["PrepareCycle"]["properties"]["period"] = period.clone();
    schemas["PreviewCycle"]["properties"]["period"] = period;
    schemas["CancelCycle"]["properties"]["reason"] = json!({
        "type": "string",
        "pattern": "[A-Za-z0-9\u{0600}-\u{06FF}]",
        "maxLength": 500,
        "description": "Why the cycle is stopped (required: at least one letter or digit).",
    });
    let code = |what: &str| {
        json!({"type": "string", "format": "sanad-code", "minLength": 1, "maxLength": 35,
               "description": format!("{what}: 1 to 35 characters, no control character, no \
                                       space at either end (as ISO 20022 identifiers).")})
    };
    let holder = json!({"type": "string", "pattern": "\\S", "maxLength": 140,
                        "description": "The holder's name (not blank)."});
    schemas["SetMeans"]["properties"]["means"] = json!({
        "description": "How the household is paid.",
        "oneOf": [
            {"type": "object", "required": ["kind", "rib", "holder"],
             "properties": {"kind": {"const": "bank"},
                            "rib": {"type": "string", "format": "sanad-rib", "minLength": 24, "maxLength": 24,
                                    "description": "The 24-digit RIB (bank, locality, account, \
                                                    key); a wrong key is answered 422."},
                            "holder": holder.clone()}},
            {"type": "object", "required": ["kind", "phone", "provider", "holder"],
             "properties": {"kind": {"const": "wallet"},
                            "phone": {"type": "string", "pattern": "^\\+[1-9][0-9]{7,14}$",
                                      "description": "E.164."},
                            "provider": code("The wallet operator"),
                            "holder": holder.clone()}},
            {"type": "object", "required": ["kind", "agency", "holder"],
             "properties": {"kind": {"const": "cash"},
                            "agency": code("The agency of the cash network"),
                            "holder": holder}},
        ],
    });
    let answer = json!({
        "type": "object",
        "properties": {
            "file_name": {"type": "string", "maxLength": 255},
            "content": {"type": "string", "format": "sanad-answer-file", "minLength": 1,
                        "description": "The file as text. No schema can say what makes an answer \
                                        valid: a line naming a payment never issued, a wrong \
                                        amount, a duplicate or a bad field is answered 422 with \
                                        its line."},
            "content_base64": {"type": "string", "format": "sanad-answer-file-base64",
                               "minLength": 1,
                               "description": "The file's bytes in base64 (for a file that may \
                                               not be UTF-8)."},
        },
        "oneOf": [{"required": ["content"], "not": {"required": ["content_base64"]}},
                  {"required": ["content_base64"], "not": {"required": ["content"]}}],
    });
    let mut adhesion = answer.clone();
    if let Some(props) = adhesion["properties"].as_object_mut() {
        props.insert(
            "content".into(),
            json!({"type": "string", "format": "sanad-adhesion-answer",
            "minLength": 1, "description": "The insurer's answer as text (adhesion_id, status, \
            insurer_number, reason_code, reason); a bad line is answered 422 with its line."}),
        );
        props.insert(
            "content_base64".into(),
            json!({"type": "string",
            "format": "sanad-adhesion-answer-base64", "minLength": 1,
            "description": "The file's bytes in base64."}),
        );
    }
    schemas["AnswerFile"] = answer;
    schemas["AdhesionAnswerFile"] = adhesion;
}

fn refine_schemas(doc: &mut Value) {
    let territories = sanad_domain::Territories::morocco();
    let communes: Vec<&str> = territories
        .communes()
        .iter()
        .map(|c| c.code.as_str())
        .collect();
    let all: Vec<&str> = territories.all().map(|t| t.code.as_str()).collect();
    let mut schemas = &mut doc["components"]["schemas"];
    schemas["CommuneCode"] = json!({
        "type": "string",
        "description": "The HCP code of one of the communes (`GET /api/v1/territories?level=commune`).",
        "enum": communes,
        "examples": ["01.511.01.01"],
    });
    schemas["TerritoryCode"] = json!({
        "type": "string",
        "description": "The HCP code of a region (`01`), a province or prefecture (`01.511`) or a \
                        commune (`01.511.01.01`).",
        "enum": all,
        "examples": ["01", "01.511", "01.511.01.01"],
    });
    schemas["AmountInput"] = json!({
        "description": "An amount in Moroccan dirhams (MAD), from 0 to 1,000,000,000 with at most \
                        two decimals: a string (`\"350\"`, `\"350.5\"`, `\"350,50\"`) or a JSON \
                        number (`350`, `350.5`). Returned as a string with two decimals.",
        "anyOf": [
            {"type": "string",
             "pattern": "^\\s*0*([0-9]{1,9}([.,][0-9]{0,2})?|1000000000([.,]0{0,2})?)\\s*$"},
            {"type": "number", "minimum": 0, "maximum": 1_000_000_000, "multipleOf": 0.01},
        ],
        "examples": ["350.00", 350],
    });
    for field in [
        "water_spending",
        "electricity_spending",
        "phone_spending",
        "gas_spending",
        "declared_income",
    ] {
        schemas["HouseholdBody"]["properties"][field] =
            json!({"$ref": "#/components/schemas/AmountInput"});
    }
    let commune_ref = json!({"$ref": "#/components/schemas/CommuneCode"});
    let territory_ref = json!({"$ref": "#/components/schemas/TerritoryCode"});
    schemas["HouseholdBody"]["properties"]["commune_code"] = commune_ref;
    schemas["PersonSearch"]["properties"]["territory"] = json!({
        "description": "Only persons whose household is in this region, province or commune.",
        "oneOf": [territory_ref.clone(), {"type": "null"}],
    });
    schemas["Decision"]["properties"]["decision"] = json!({
        "type": "string",
        "enum": ["accepted", "rejected"],
        "description": "`accepted` (the same person) or `rejected` (two persons).",
    });
    // Empty or only punctuation, `q` names nobody: a phone must then be given.
    // (`if`/`else` rather than `anyOf`, so that generated clients keep one request type.)
    schemas["PersonSearch"]["if"] =
        json!({"required": ["phone"], "properties": {"phone": {"type": "string"}}});
    schemas["PersonSearch"]["else"] = json!(
        {"required": ["q"], "properties": {"q": {"type": "string", "pattern": "[^\\W_]"}}}
    );
    schemas["PersonSearch"]["properties"]["q"]["description"] = json!(
        "A registry id (`P…`), a national id (`BK123456`) or name words in Latin or Arabic script \
         (at least one letter or digit); may be absent or empty when `phone` is given."
    );
    parameter_schema(
        doc,
        "/api/v1/households",
        "get",
        "territory",
        territory_ref.clone(),
    );
    parameter_schema(
        doc,
        "/api/v1/territories",
        "get",
        "parent",
        territory_ref.clone(),
    );
    parameter_schema(
        doc,
        "/api/v1/requests/bottlenecks",
        "get",
        "territory",
        territory_ref.clone(),
    );
    schemas = &mut doc["components"]["schemas"];
    // An application names its programme; a complaint's category is one of the shipped rules'.
    schemas["SubmitBody"]["if"] =
        json!({"required": ["kind"], "properties": {"kind": {"const": "programme_application"}}});
    schemas["SubmitBody"]["then"] = json!({"required": ["programme"], "properties": {"programme": {"type": "string", "minLength": 1}}});
    // An eligibility attestation names its programme; a revocation says why in some words.
    schemas["IssueBody"]["if"] = json!({"required": ["kind"],
        "properties": {"kind": {"const": "eligibility-attestation"}}});
    schemas["IssueBody"]["then"] = json!({"required": ["programme"],
        "properties": {"programme": {"type": "string", "minLength": 1}}});
    schemas["RevokeBody"]["properties"]["note"] = json!({
        "type": "string",
        "pattern": "[A-Za-z0-9\u{0600}-\u{06FF}]",
        "maxLength": 500,
        "description": "Why, in a few words (kept for staff, never shown on the public page; at \
                        least one letter or digit).",
    });
    if let Ok(rules) = sanad_workflow::ComplaintRules::shipped() {
        let ids: Vec<&str> = rules.categories().iter().map(|c| c.id.as_str()).collect();
        schemas["SubmitBody"]["properties"]["category"] = json!({
            "description": "A complaint's category (default `other`).",
            "oneOf": [{"type": "string", "enum": ids}, {"type": "null"}],
        });
    }
    schemas["EnrolEligible"]["properties"]["territory"] = json!({
        "description": "Only inside this region, province or commune (within the caller's territories).",
        "oneOf": [territory_ref, {"type": "null"}],
    });
    for (schema, format, what) in [
        (
            "ImportModel",
            "sanad-model",
            "An index model file (TOML, or JSON)",
        ),
        (
            "DryRunRequest",
            "sanad-model",
            "An index model file (TOML, or JSON)",
        ),
        (
            "DefineProgramme",
            "sanad-programme",
            "A programme file (TOML, or JSON)",
        ),
    ] {
        schemas[schema]["properties"]["definition"] = json!({
            "type": "string",
            "format": format,
            "minLength": 1,
            "description": format!(
                "{what}: no JSON Schema can say what makes one valid; a file that does not \
                 parse, names an unknown variable or field, or holds a rule that does not \
                 compile is answered 422 with the field and the position of the error."
            ),
        });
    }
    schemas["CountRule"]["properties"]["rule"] = json!({
        "type": "string",
        "format": "sanad-rule",
        "minLength": 1,
        "maxLength": 4096,
        "description": "A CEL condition over `household` and `members` (see the programmes' \
                        README); one that does not compile is answered 422 with its position.",
    });
    schemas["ChangeEnrolment"]["properties"]["reason"] = json!({
        "type": "string",
        "pattern": "[A-Za-z0-9\u{0600}-\u{06FF}]",
        "maxLength": 500,
        "description": "Why the enrolment changes (required: at least one letter or digit).",
    });
    parameter_schema(
        doc,
        "/api/v1/models/{id}/{version}/activate",
        "post",
        "version",
        json!({"type": "integer", "minimum": 1, "maximum": u32::MAX}),
    );
    parameter_schema(
        doc,
        "/api/v1/programmes/{code}/enrolments",
        "get",
        "after",
        json!({"type": "string", "format": "sanad-enrolment-cursor",
               "pattern": "^H[0-9]{11}(/P[0-9]{11})?$",
               "examples": ["H00000000013", "H00000000013/P00000000021"],
               "description": "`next_after` of the previous page: registry ids, whose last digit \
                               is a Damm check digit (see `HouseholdId`)."}),
    );
    refine_payments(doc);
    merge(
        doc,
        "/components/schemas/HouseholdBody/properties/members",
        json!({
            "description": "The members, exactly one of whom is the head.",
            "minItems": 1,
            "maxItems": sanad_domain::household::MAX_MEMBERS,
            "contains": {"type": "object", "required": ["relation"],
                         "properties": {"relation": {"const": "head"}}},
            "minContains": 1,
            "maxContains": 1,
        }),
    );
    merge(
        doc,
        "/components/schemas/HouseholdBody/properties/rooms",
        json!({"maximum": sanad_domain::household::MAX_ROOMS}),
    );
    merge(
        doc,
        "/components/schemas/HouseholdBody/properties/address",
        json!({"maxLength": 300}),
    );
    for name in ["first_name", "last_name"] {
        merge(
            doc,
            &format!("/components/schemas/MemberBody/properties/{name}"),
            json!({
                "format": "latin-name",
                "minLength": 1,
                "maxLength": 100,
                "description": "In Latin script: letters (accents allowed), spaces, hyphens and \
                                apostrophes; no digit, no Arabic letter; at most 100 characters \
                                once runs of spaces are collapsed.",
            }),
        );
    }
    for name in ["first_name_ar", "last_name_ar"] {
        merge(
            doc,
            &format!("/components/schemas/MemberBody/properties/{name}"),
            json!({
                "format": "arabic-name",
                "maxLength": 100,
                "description": "In Arabic script, with no Latin letter or digit; at most 100 \
                                characters once runs of spaces are collapsed. Empty or absent: \
                                none.",
            }),
        );
    }
    merge(
        doc,
        "/components/schemas/MemberBody/properties/birth_date",
        json!({"description": "Not after today and not before 1900-01-01."}),
    );
}
