//! The REST API under `/api/v1`, one module per resource.

pub mod audit;
pub mod dto;
pub mod duplicates;
pub mod health;
pub mod households;
pub mod persons;
pub mod session;
pub mod territories;
