//! E-service requests and complaints: the citizen's list, the form that files one (online or at
//! the centre), the receipt with the follow-up code, a request's page with its timeline and the
//! moves the reader may make, the staff's queue, the public follow-up and the supervisor's report
//! of delays. Every string is already in the reader's words; templates only lay them out.

use askama::Template;

use crate::views::registry::{Fact, Field};
use crate::{Shell, Tr};

/// One option of a list or of radio buttons.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A link with its words and its icon.
#[derive(Debug, Clone)]
pub struct Offer {
    pub href: String,
    pub label: String,
    pub icon: &'static str,
}

/// One request in a list.
#[derive(Debug, Clone)]
pub struct RequestRow {
    pub href: String,
    pub reference: String,
    pub service: String,
    /// What it is about (the programme, the complaint's category), when there is something.
    pub subject: String,
    /// Where it stands, in words.
    pub step: String,
    /// `ok`, `bad`, `warn` or `info`, with the state in words.
    pub badge: &'static str,
    pub state: String,
    pub due: String,
    pub overdue: bool,
    /// "About 2 steps left", or nothing once closed.
    pub left: String,
    pub submitted: String,
}

#[derive(Template)]
#[template(path = "requests/mine.html")]
pub struct MinePage {
    pub shell: Shell,
    pub t: Tr,
    pub heading: String,
    pub intro: String,
    pub rows: Vec<RequestRow>,
    pub offers: Vec<Offer>,
    /// Where to follow a request without signing in (shown to citizens).
    pub follow: Option<String>,
}

/// The form that files a request.
#[derive(Template)]
#[template(path = "requests/new.html")]
pub struct NewRequestPage {
    pub shell: Shell,
    pub t: Tr,
    pub heading: String,
    pub action: String,
    pub kind: String,
    /// The documents asked for, by name.
    pub documents: Vec<String>,
    /// Programme applications: the programmes to choose among.
    pub programmes: Vec<Choice>,
    pub programme_error: Option<String>,
    /// Complaints: complaint, suggestion or observation; and what it is about.
    pub grievances: Vec<Choice>,
    pub grievance_error: Option<String>,
    pub categories: Vec<Choice>,
    pub category_error: Option<String>,
    pub details: Field,
    pub documents_error: Option<String>,
    pub max_documents: usize,
    /// Filed at the centre for the citizen: the consent and the channel are asked.
    pub assisted: bool,
    pub channels: Vec<Choice>,
    pub consent_error: Option<String>,
    /// A general error (not tied to one field).
    pub error: Option<String>,
}

/// The receipt of a request just filed, with its follow-up code shown once.
#[derive(Template)]
#[template(path = "requests/submitted.html")]
pub struct SubmittedPage {
    pub shell: Shell,
    pub t: Tr,
    pub service: String,
    pub reference: String,
    pub secret: String,
    pub href: String,
    pub follow: String,
}

/// One step of a request's life.
#[derive(Debug, Clone)]
pub struct TimelineItem {
    pub when: String,
    pub step: String,
    /// What brought it there, in words.
    pub action: String,
    pub who: String,
    pub reason: String,
    /// How long it stayed, or that it is there now.
    pub stay: String,
    pub current: bool,
}

/// A document given with the request.
#[derive(Debug, Clone)]
pub struct DocumentLink {
    pub href: String,
    pub name: String,
    pub size: String,
}

/// One move the reader may make now, as its own small form.
#[derive(Debug, Clone)]
pub struct ActionForm {
    pub action: String,
    pub label: String,
    pub reason_required: bool,
    /// The documents the next step asks for (a file input is shown when there are).
    pub documents: Vec<String>,
    /// A move that ends or refuses the request.
    pub danger: bool,
    /// The move issues a disability card: the members it may be for, and the degrees.
    pub members: Vec<Choice>,
    pub degrees: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "requests/detail.html")]
pub struct RequestPage {
    pub shell: Shell,
    pub t: Tr,
    pub heading: String,
    pub facts: Vec<Fact>,
    pub household: Option<String>,
    pub details: String,
    pub documents: Vec<DocumentLink>,
    pub timeline: Vec<TimelineItem>,
    /// The answer given when it closed.
    pub answer: Option<String>,
    pub outcome: Option<String>,
    /// Where the moves are posted.
    pub act: String,
    pub version: u32,
    pub actions: Vec<ActionForm>,
    pub max_documents: usize,
    /// Where a reopening is posted, when the reader may reopen it.
    pub reopen: Option<String>,
    /// Where a rating is posted, when the reader may rate it.
    pub rate: Option<String>,
    /// The rating given, in words.
    pub rating: Option<String>,
    /// Someone else moved it since the reader's page was drawn.
    pub conflict: bool,
    /// A move refused, in words.
    pub error: Option<String>,
    pub back: String,
    /// The document the request issued.
    pub certificate: Option<crate::views::certificates::CertificateLink>,
}

#[derive(Template)]
#[template(path = "requests/queue.html")]
pub struct QueuePage {
    pub shell: Shell,
    pub t: Tr,
    pub rows: Vec<RequestRow>,
    pub kinds: Vec<Choice>,
    pub overdue: usize,
}

/// The public follow-up: a form, and the status when the code matched.
#[derive(Template)]
#[template(path = "requests/follow.html")]
pub struct FollowPage {
    pub shell: Shell,
    pub t: Tr,
    pub reference: String,
    /// The one message for a wrong code and an unknown reference.
    pub not_found: bool,
    pub error: Option<String>,
    pub status: Vec<Fact>,
    pub answer: Option<String>,
}

/// One line of the report of delays.
#[derive(Debug, Clone)]
pub struct TimingRow {
    pub service: String,
    pub step: String,
    /// The centre or the territory, in the tables broken down by them.
    pub place: String,
    pub finished: String,
    pub median: String,
    pub p90: String,
    pub open: String,
    pub waiting: String,
    pub breaches: String,
    pub late: bool,
}

/// The satisfaction of one service at one centre.
#[derive(Debug, Clone)]
pub struct RatingLine {
    pub service: String,
    pub centre: String,
    pub average: String,
    pub count: String,
}

#[derive(Template)]
#[template(path = "requests/bottlenecks.html")]
pub struct BottlenecksPage {
    pub shell: Shell,
    pub t: Tr,
    pub kinds: Vec<Choice>,
    pub territory: String,
    /// "Most requests are waiting at: …", when some are.
    pub waiting_most: Option<String>,
    pub steps: Vec<TimingRow>,
    pub centres: Vec<TimingRow>,
    pub territories: Vec<TimingRow>,
    pub ratings: Vec<RatingLine>,
    /// The CSV link of each table, by table name.
    pub csv: Vec<(String, String)>,
}

impl BottlenecksPage {
    /// The CSV link of a table.
    pub fn csv_of(&self, table: &str) -> String {
        self.csv
            .iter()
            .find(|(k, _)| k == table)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}
