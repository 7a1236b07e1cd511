//! The views: one struct per page (its data, already in the reader's words), each rendered by a
//! template under `templates/`. One module per area of the window.

pub mod admin;
pub mod agent;
pub mod auditor;
pub mod certificates;
pub mod citizen;
pub mod common;
pub mod manager;
pub mod registry;
pub mod requests;
pub mod supervisor;
