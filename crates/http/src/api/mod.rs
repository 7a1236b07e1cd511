//! The REST API under `/api/v1`, one module per resource.

pub mod audit;
pub mod certificates;
pub mod dto;
pub mod duplicates;
pub mod health;
pub mod households;
pub mod payments;
pub mod persons;
pub mod requests;
pub mod session;
pub mod targeting;
pub mod territories;

/// A page size from the query or body: 1 to 500, the default when absent; anything else is
/// answered 422 (the document says so, and a silent clamp would hide a client's mistake).
pub(crate) fn page_limit(limit: Option<u32>, default: u32) -> Result<u32, crate::error::ApiError> {
    let limit = limit.unwrap_or(default);
    if (1..=sanad_app::registry::MAX_PAGE).contains(&limit) {
        Ok(limit)
    } else {
        Err(crate::error::ApiError::bad_field(
            "limit",
            "out_of_range",
            "a page size from 1 to 500",
        ))
    }
}
