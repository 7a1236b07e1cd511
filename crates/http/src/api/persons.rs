//! Persons: read one, search by registry id, national id, phone or names. Search takes a POST body so
//! that names and ids never appear in URLs (and so in proxy or server logs).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use sanad_domain::{Person, PersonId};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::households::not_found;
use crate::auth::{Caller, purpose};
use crate::error::{ApiError, Problem};
use crate::extract::Json;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PersonSearch {
    /// A registry id (`P…`), a national id (`BK123456`) or name words in Latin or Arabic script;
    /// may be empty when `phone` is given.
    #[serde(default)]
    pub q: String,
    /// A phone number in any common writing (`06 12 34 56 78`, `+212612345678`): exact match.
    #[serde(default)]
    #[schema(value_type = Option<sanad_domain::PhoneNumber>, example = "0612345678")]
    pub phone: Option<String>,
    /// Only persons whose household is in this region, province or commune.
    #[serde(default)]
    pub territory: Option<String>,
    /// At most this many results, 1 to 500 (default 50).
    #[serde(default, deserialize_with = "crate::api::dto::whole_opt")]
    #[schema(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PersonResults {
    pub items: Vec<Person>,
}

/// A person.
#[utoipa::path(get, path = "/api/v1/persons/{id}", tag = "persons",
    params(("id" = PersonId, Path, description = "Person registry id")),
    responses((status = 200, body = Person), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<axum::Json<Person>, ApiError> {
    let id = PersonId::parse(&id)
        .map_err(|e| ApiError::bad_field("id", "registry_id", e.to_string()))?;
    let person = state
        .registry
        .person(&actor, id, &purpose(&headers))
        .await
        .map_err(not_found("person"))?;
    Ok(axum::Json(person))
}

/// Finds persons by registry id, national id, phone or names (case, accents and Arabic letter
/// variants ignored).
#[utoipa::path(post, path = "/api/v1/persons/search", tag = "persons",
    request_body = PersonSearch,
    responses((status = 200, body = PersonResults), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn search(
    State(state): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Json(body): Json<PersonSearch>,
) -> Result<axum::Json<PersonResults>, ApiError> {
    let limit = body.limit.unwrap_or(50);
    if !(1..=sanad_app::registry::MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_field(
            "limit",
            "out_of_range",
            "from 1 to 500 results",
        ));
    }
    // With a phone, a `q` without any letter or digit narrows nothing: the phone alone searches.
    let q = if body.phone.is_some() && sanad_domain::household::fold_for_search(&body.q).is_empty()
    {
        ""
    } else {
        body.q.as_str()
    };
    let items = state
        .registry
        .search_persons_by(
            &actor,
            q,
            body.phone.as_deref(),
            body.territory,
            limit,
            &purpose(&headers),
        )
        .await?;
    Ok(axum::Json(PersonResults { items }))
}
