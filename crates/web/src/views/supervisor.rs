//! The supervisor pages.

use askama::Template;

use crate::{Shell, Tr};

/// One region's counts.
#[derive(Debug, Clone)]
pub struct RegionRow {
    pub code: String,
    pub name: String,
    pub households: i64,
    pub persons: i64,
}

#[derive(Template)]
#[template(path = "supervisor/regions.html")]
pub struct RegionsPage {
    pub shell: Shell,
    pub t: Tr,
    pub rows: Vec<RegionRow>,
    pub households: i64,
    pub persons: i64,
}
