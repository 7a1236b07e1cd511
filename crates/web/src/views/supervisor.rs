//! The supervisor's dashboard: the figures of their territory per programme, a choropleth map of
//! the regions or of a region's provinces with its legend, the same figures as tables (with their
//! CSV), and charts over time.

use askama::Template;

use crate::map::LegendItem;
use crate::{Shell, Tr};

/// An entry of a list of choices (a measure, a programme).
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One territory's figures (for the programme chosen), already in the reader's words.
#[derive(Debug, Clone)]
pub struct TerritoryRow {
    pub code: String,
    pub name: String,
    /// Where its name links (down to the provinces of a region).
    pub href: Option<String>,
    pub households: String,
    pub scored: String,
    pub eligible: String,
    pub enrolled: String,
    pub gap: String,
    pub paid: String,
    pub under: String,
}

/// One territory's requests and complaints (every service together), already in words; `—`
/// where there is nothing to say.
#[derive(Debug, Clone)]
pub struct RequestAreaRow {
    pub code: String,
    pub name: String,
    /// Its report of delays.
    pub report: String,
    /// The usual time at a step (median) and the time 9 out of 10 stayed within.
    pub median: String,
    pub p90: String,
    pub visits: String,
    pub waiting: String,
    /// Steps past their deadline, and their share.
    pub breaches: String,
    pub late: bool,
    pub rating: String,
    pub ratings: String,
}

/// One programme's figures over the territory shown.
#[derive(Debug, Clone)]
pub struct ProgrammeRow {
    pub name: String,
    pub eligible: String,
    pub enrolled: String,
    pub gap: String,
    /// Households and amount paid in the last cycle, and its period.
    pub paid: String,
    pub paid_amount: String,
    pub cycle: String,
    pub under: String,
}

/// A chart and the table of its figures.
#[derive(Debug, Clone)]
pub struct Chart {
    pub title: String,
    pub svg: String,
    /// `(label, value)` in words.
    pub rows: Vec<(String, String)>,
    pub column: String,
    pub csv: String,
}

#[derive(Template)]
#[template(path = "supervisor/dashboard.html")]
pub struct DashboardPage {
    pub shell: Shell,
    pub t: Tr,
    /// "Morocco", or the region's name.
    pub place: String,
    /// The way back to the regions, when a region is shown and the reader sees more than it.
    pub up: Option<String>,
    /// The region shown (for the form), or empty.
    pub region: String,
    pub as_of: String,
    pub measures: Vec<Choice>,
    pub programmes: Vec<Choice>,
    /// The measure and programme in words.
    pub measure: String,
    pub programme: String,
    /// What the map is about: the programme, or every service of the requests.
    pub about: String,
    pub map: String,
    pub legend: Vec<LegendItem>,
    /// What the measure counts, when it needs saying (the requests' measures).
    pub legend_note: Option<String>,
    /// The requests and complaints per territory, when the map shows one of their measures
    /// (read only then: the whole scope's step visits are not free).
    pub requests: Option<Vec<RequestAreaRow>>,
    /// The report of delays of the place shown.
    pub delays_href: String,
    /// Whether the rows are provinces (else regions).
    pub provinces: bool,
    pub rows: Vec<TerritoryRow>,
    pub total: TerritoryRow,
    pub territories_csv: String,
    pub programme_rows: Vec<ProgrammeRow>,
    pub programmes_csv: String,
    pub charts: Vec<Chart>,
}
