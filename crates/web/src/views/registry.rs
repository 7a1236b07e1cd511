//! What agents and citizens see of the registry: a household with its members, its index and its
//! programmes, the search, the registration form and the duplicate review. Every string is already
//! in the reader's words; templates only lay them out.

use askama::Template;

use crate::{Shell, Tr};

/// A label and its value.
#[derive(Debug, Clone)]
pub struct Fact {
    pub label: String,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct MemberRow {
    pub id: String,
    /// The name in the reader's script first.
    pub name: String,
    /// The name in the other script, when recorded.
    pub other_name: String,
    pub relation: String,
    pub sex: String,
    pub birth: String,
    pub age: String,
    pub national_id: String,
    pub phone: String,
    pub disability: String,
    pub schooling: String,
    pub occupation: String,
}

/// One thing that moved the index, as a sentence and a bar.
#[derive(Debug, Clone)]
pub struct EffectRow {
    pub sentence: String,
    pub effect: String,
    /// Length of the bar, 0 to 100.
    pub width: u32,
}

#[derive(Debug, Clone)]
pub struct IndexView {
    pub value: String,
    pub average: String,
    pub raised: Vec<EffectRow>,
    pub lowered: Vec<EffectRow>,
    pub model: String,
    /// The recorded index is of an older version of the household.
    pub stale: bool,
}

#[derive(Debug, Clone)]
pub struct ProgrammeRow {
    pub code: String,
    pub name: String,
    pub eligible: bool,
    pub verdict: String,
    /// Why, or what it gives.
    pub message: String,
    pub amount: String,
    /// The enrolment's state in words, when there is one.
    pub enrolment: String,
    pub enrolled: bool,
    /// What the household can do next.
    pub next_step: String,
}

#[derive(Debug, Clone)]
pub struct PaymentRow {
    pub date: String,
    pub cycle: i64,
    pub amount: String,
    pub state: String,
    /// `ok`, `bad` or `info`: the badge's colour.
    pub kind: &'static str,
    pub reason: String,
}

/// A change the household declared.
#[derive(Debug, Clone)]
pub struct DeclarationRow {
    pub date: String,
    pub kind: String,
    pub details: String,
    pub happened_on: String,
    pub status: String,
    pub by: String,
    pub documents: Vec<crate::views::common::Link>,
}

/// A kind of change with the documents it asks for.
#[derive(Debug, Clone)]
pub struct KindChoice {
    pub value: String,
    pub label: String,
    pub documents: Vec<String>,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "registry/declare.html")]
pub struct DeclarePage {
    pub shell: Shell,
    pub t: Tr,
    pub heading: String,
    pub action: String,
    pub kinds: Vec<KindChoice>,
    pub kind_error: Option<String>,
    pub happened_on: Field,
    pub details: Field,
    pub documents_error: Option<String>,
    /// An agent declares for the citizen: their consent is asked for.
    pub assisted: bool,
    pub consent_error: Option<String>,
    pub max_documents: usize,
}

/// A household as a page shows it.
#[derive(Debug, Clone)]
pub struct HouseholdView {
    pub id: String,
    pub version: String,
    pub place: Vec<Fact>,
    pub facts: Vec<Fact>,
    pub assets: String,
    pub member_count: String,
    pub members: Vec<MemberRow>,
    pub index: Option<IndexView>,
    pub programmes: Vec<ProgrammeRow>,
    pub payments: Vec<PaymentRow>,
    pub declarations: Vec<DeclarationRow>,
}

#[derive(Template)]
#[template(path = "registry/household.html")]
pub struct HouseholdPage {
    pub shell: Shell,
    pub t: Tr,
    pub heading: String,
    pub h: HouseholdView,
    /// The reader may update it (agents): the link to the form.
    pub edit: Option<String>,
    /// The reader is the household's own citizen: the link to declare a change.
    pub declare: Option<String>,
    /// The household's e-service requests (its citizen's, or the centre's list with assisted
    /// filing).
    pub requests: Option<String>,
    /// The documents issued to the household (cards, attestations).
    pub documents: Option<crate::views::certificates::DocumentsSection>,
}

/// One person found by a search.
#[derive(Debug, Clone)]
pub struct PersonHit {
    pub id: String,
    pub name: String,
    pub other_name: String,
    pub birth: String,
    pub household: Option<String>,
    pub place: String,
}

#[derive(Template)]
#[template(path = "registry/search.html")]
pub struct SearchPage {
    pub shell: Shell,
    pub t: Tr,
    pub q: String,
    pub searched: bool,
    pub error: Option<String>,
    pub hits: Vec<PersonHit>,
    pub count: String,
}

/// A choice of a select list.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A field of the form with its value and its error.
#[derive(Debug, Clone, Default)]
pub struct Field {
    /// The form field's name (and id).
    pub name: String,
    pub value: String,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct MemberForm {
    pub n: usize,
    pub heading: String,
    /// Set when the row is a person already in the registry.
    pub person_id: String,
    pub first_name: Field,
    pub last_name: Field,
    pub first_name_ar: Field,
    pub last_name_ar: Field,
    pub birth_date: Field,
    pub national_id: Field,
    pub phone: Field,
    pub relation: Vec<Choice>,
    pub relation_name: String,
    pub sex: Vec<Choice>,
    pub sex_name: String,
    pub disability: Vec<Choice>,
    pub disability_name: String,
    pub schooling: Vec<Choice>,
    pub schooling_name: String,
    pub occupation: Vec<Choice>,
    pub occupation_name: String,
    pub errors: Vec<String>,
}

/// A likely duplicate found before saving, with the comparison per field.
#[derive(Debug, Clone)]
pub struct DuplicateWarning {
    pub member: String,
    pub summary: String,
    pub household: Option<String>,
    pub fields: Vec<Fact>,
}

#[derive(Template)]
#[template(path = "registry/form.html")]
pub struct HouseholdForm {
    pub shell: Shell,
    pub t: Tr,
    pub heading: String,
    pub action: String,
    /// For an update: the version the form was filled on.
    pub expected_version: Option<u32>,
    pub commune: Field,
    pub address: Field,
    pub dwelling: Vec<Choice>,
    pub tenure: Vec<Choice>,
    pub rooms: Field,
    pub water: Field,
    pub electricity: Field,
    pub phone_spending: Field,
    pub gas: Field,
    pub income: Field,
    pub assets: Vec<Choice>,
    pub members: Vec<MemberForm>,
    pub reason: Field,
    pub consent: bool,
    pub consent_error: Option<String>,
    /// Errors that name no field of the form.
    pub errors: Vec<String>,
    pub duplicates: Vec<DuplicateWarning>,
    pub duplicates_error: Option<String>,
}

/// A pair of the duplicate review queue.
#[derive(Debug, Clone)]
pub struct ReviewPair {
    pub id: i64,
    pub probability: String,
    pub state: String,
    pub pending: bool,
    pub merged: bool,
    pub merge_id: Option<i64>,
    pub a: PersonHit,
    pub b: PersonHit,
    pub fields: Vec<ReviewField>,
}

#[derive(Debug, Clone)]
pub struct ReviewField {
    pub label: String,
    pub a: String,
    pub b: String,
    pub level: String,
    pub weight: String,
    /// `ok` (counts for), `bad` (against) or `info`.
    pub kind: &'static str,
}

#[derive(Template)]
#[template(path = "registry/review.html")]
pub struct ReviewPage {
    pub shell: Shell,
    pub t: Tr,
    pub pairs: Vec<ReviewPair>,
    pub decided: bool,
    pub next: Option<String>,
}
