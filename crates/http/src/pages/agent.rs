//! The centre's pages: find a person or a household, register or update a household for a
//! citizen (assisted mode, with the citizen's consent and a duplicate warning before saving), and
//! the duplicate review queue of the centre's territory.
// A refused request answers with its page at once: the `Err` of these helpers is that page,
// returned by the handler, and boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use sanad_app::Role;
use sanad_app::policy::{Permission, role_grants};
use sanad_app::registry::{Purpose, RegistryError};
use sanad_app::store::PairStatus;
use sanad_domain::vocab::{
    Asset, Disability, DwellingType, Occupation, Relation, Schooling, Sex, Tenure,
};
use sanad_domain::{
    Amount, HouseholdId, HouseholdInput, MemberInput, NationalId, Person, PersonId, PhoneNumber,
    household::{HouseholdData, PersonData},
};
use sanad_web::views::registry::{
    Choice, DuplicateWarning, Fact, Field, HouseholdForm, MemberForm, PersonHit, ReviewField,
    ReviewPage, ReviewPair, SearchPage,
};
use sanad_web::{Lang, Tr};

use super::household::{names, territory_name};
use super::{Ctx, done, error_words, pair, query_pairs, render, render_status};
use crate::AppState;
use crate::error::ApiError;

/// Member rows a new form shows, and rows added by "more rows".
const NEW_ROWS: usize = 3;
const MAX_ROWS: usize = sanad_domain::household::MAX_MEMBERS;

/// The agent's home: the search.
pub async fn home(state: State<AppState>, ctx: Ctx) -> Response {
    search(state, ctx, RawQuery(None)).await
}

fn hit(lang: Lang, t: Tr, p: &Person, place: Option<String>) -> PersonHit {
    let (name, other_name) = names(lang, p);
    PersonHit {
        id: p.id.to_string(),
        name,
        other_name,
        birth: t.date(&p.data.birth_date),
        household: p.household_id.map(|h| h.to_string()),
        place: place.unwrap_or_default(),
    }
}

/// Whether a search text is written like a telephone number.
fn looks_like_phone(q: &str) -> bool {
    let digits = q.chars().filter(char::is_ascii_digit).count();
    digits >= 9
        && q.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '.' | '(' | ')'))
}

/// `GET /search?q=`: a person by registry id, national id, telephone or name; a household by
/// its registry id (straight to its page).
async fn search(State(state): State<AppState>, ctx: Ctx, RawQuery(raw): RawQuery) -> Response {
    if let Err(r) = ctx
        .require(role_grants(ctx.actor.role, Permission::ReadRegistry))
        .and_then(|_| ctx.require(ctx.actor.role != Role::Citizen))
    {
        return r;
    }
    let pairs = query_pairs(raw);
    let q = pair(&pairs, "q").unwrap_or("").trim().to_string();
    let t = ctx.t();
    let mut page = SearchPage {
        shell: ctx.shell(t.t("search-title")),
        t,
        q: q.clone(),
        searched: !q.is_empty(),
        error: None,
        hits: Vec::new(),
        count: String::new(),
    };
    if q.is_empty() {
        return render(&page);
    }
    if let Ok(id) = HouseholdId::parse(&q) {
        return crate::page::see_other(&format!("/households/{id}"));
    }
    let purpose = Purpose("search at the centre".into());
    let found = if looks_like_phone(&q) {
        state
            .registry
            .search_persons_by(&ctx.actor, "", Some(&q), None, 50, &purpose)
            .await
    } else {
        state
            .registry
            .search_persons_by(&ctx.actor, &q, None, None, 50, &purpose)
            .await
    };
    match found {
        Ok(persons) => {
            let mut places: HashMap<HouseholdId, String> = HashMap::new();
            for p in &persons {
                if let Some(h) = p.household_id
                    && !places.contains_key(&h)
                    && let Ok(Some(household)) = state.registry.store().household(h).await
                {
                    places.insert(h, territory_name(ctx.lang, &household.data.commune_code));
                }
            }
            page.count = t.tn("search-results", persons.len() as i64);
            page.hits = persons
                .iter()
                .map(|p| {
                    hit(
                        ctx.lang,
                        t,
                        p,
                        p.household_id.and_then(|h| places.get(&h).cloned()),
                    )
                })
                .collect();
            render(&page)
        }
        Err(RegistryError::Validation(_)) => {
            page.error = Some(t.t("search-label"));
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => ctx.error(ApiError::from(e)),
    }
}

// ---- The household form ------------------------------------------------------------------

/// The form's values, as posted (names to values; `asset` repeats).
struct Posted(Vec<(String, String)>);

impl Posted {
    fn get(&self, key: &str) -> &str {
        pair(&self.0, key).unwrap_or("").trim()
    }

    fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

fn choices<T: Copy + PartialEq>(
    t: Tr,
    all: &[T],
    code: impl Fn(T) -> &'static str,
    prefix: &str,
    selected: Option<T>,
) -> Vec<Choice> {
    // Nothing chosen yet: a first entry that says so, so that no value is taken for granted.
    let none = selected.is_none().then(|| Choice {
        value: String::new(),
        label: t.t("form-choose"),
        selected: true,
    });
    none.into_iter()
        .chain(all.iter().map(|&v| Choice {
            value: code(v).to_string(),
            label: t.t(&format!("{prefix}{}", code(v))),
            selected: Some(v) == selected,
        }))
        .collect()
}

fn field(name: &str, value: impl Into<String>, errors: &HashMap<String, String>) -> Field {
    Field {
        name: name.to_string(),
        value: value.into(),
        error: errors.get(name).cloned(),
    }
}

/// The values of one member row, read from the posted form or from a person.
#[derive(Default, Clone)]
struct MemberValues {
    person_id: String,
    first_name: String,
    last_name: String,
    first_name_ar: String,
    last_name_ar: String,
    birth_date: String,
    national_id: String,
    phone: String,
    relation: Option<Relation>,
    sex: Option<Sex>,
    disability: Option<Disability>,
    schooling: Option<Schooling>,
    occupation: Option<Occupation>,
}

impl MemberValues {
    fn of(p: &PersonData, id: Option<PersonId>) -> MemberValues {
        MemberValues {
            person_id: id.map(|i| i.to_string()).unwrap_or_default(),
            first_name: p.first_name.clone(),
            last_name: p.last_name.clone(),
            first_name_ar: p.first_name_ar.clone().unwrap_or_default(),
            last_name_ar: p.last_name_ar.clone().unwrap_or_default(),
            birth_date: p.birth_date.to_string(),
            national_id: p
                .national_id
                .as_ref()
                .map(|n| n.to_string())
                .unwrap_or_default(),
            phone: p.phone.as_ref().map(|n| n.to_string()).unwrap_or_default(),
            relation: Some(p.relation),
            sex: Some(p.sex),
            disability: Some(p.disability),
            schooling: Some(p.schooling),
            occupation: Some(p.occupation),
        }
    }

    fn posted(f: &Posted, n: usize) -> MemberValues {
        let k = |name: &str| format!("m{n}-{name}");
        MemberValues {
            person_id: f.get(&k("person_id")).to_string(),
            first_name: f.get(&k("first_name")).to_string(),
            last_name: f.get(&k("last_name")).to_string(),
            first_name_ar: f.get(&k("first_name_ar")).to_string(),
            last_name_ar: f.get(&k("last_name_ar")).to_string(),
            birth_date: f.get(&k("birth_date")).to_string(),
            national_id: f.get(&k("national_id")).to_string(),
            phone: f.get(&k("phone")).to_string(),
            relation: Relation::parse(f.get(&k("relation"))),
            sex: Sex::parse(f.get(&k("sex"))),
            disability: Disability::parse(f.get(&k("disability"))),
            schooling: Schooling::parse(f.get(&k("schooling"))),
            occupation: Occupation::parse(f.get(&k("occupation"))),
        }
    }

    fn is_empty(&self) -> bool {
        self.person_id.is_empty()
            && self.first_name.is_empty()
            && self.last_name.is_empty()
            && self.first_name_ar.is_empty()
            && self.last_name_ar.is_empty()
    }
}

/// Everything the form holds, whatever its state.
#[derive(Default)]
struct FormValues {
    commune: String,
    address: String,
    dwelling: Option<DwellingType>,
    tenure: Option<Tenure>,
    rooms: String,
    water: String,
    electricity: String,
    phone_spending: String,
    gas: String,
    income: String,
    assets: Vec<Asset>,
    members: Vec<MemberValues>,
    reason: String,
    consent: bool,
    confirm_duplicates: bool,
    expected_version: Option<u32>,
}

fn amount_text(a: Amount) -> String {
    let c = a.centimes();
    if c % 100 == 0 {
        (c / 100).to_string()
    } else {
        format!("{}.{:02}", c / 100, c % 100)
    }
}

impl FormValues {
    fn blank() -> FormValues {
        let mut members = vec![MemberValues::default(); NEW_ROWS];
        members[0].relation = Some(Relation::Head);
        FormValues {
            rooms: String::new(),
            members,
            ..Default::default()
        }
    }

    fn of(h: &sanad_domain::Household) -> FormValues {
        let d = &h.data;
        let mut members: Vec<MemberValues> = h
            .members
            .iter()
            .map(|m| MemberValues::of(&m.data, Some(m.id)))
            .collect();
        members.extend(vec![MemberValues::default(); 2]);
        FormValues {
            commune: d.commune_code.clone(),
            address: d.address.clone(),
            dwelling: Some(d.dwelling_type),
            tenure: Some(d.tenure),
            rooms: d.rooms.to_string(),
            water: amount_text(d.water_spending),
            electricity: amount_text(d.electricity_spending),
            phone_spending: amount_text(d.phone_spending),
            gas: amount_text(d.gas_spending),
            income: amount_text(d.declared_income),
            assets: d.assets.iter().copied().collect(),
            members,
            reason: String::new(),
            consent: false,
            confirm_duplicates: false,
            expected_version: Some(h.version),
        }
    }

    fn posted(f: &Posted) -> FormValues {
        let rows: usize = f.get("rows").parse().unwrap_or(NEW_ROWS).clamp(1, MAX_ROWS);
        FormValues {
            commune: f.get("commune").to_string(),
            address: f.get("address").to_string(),
            dwelling: DwellingType::parse(f.get("dwelling_type")),
            tenure: Tenure::parse(f.get("tenure")),
            rooms: f.get("rooms").to_string(),
            water: f.get("water").to_string(),
            electricity: f.get("electricity").to_string(),
            phone_spending: f.get("phone_spending").to_string(),
            gas: f.get("gas").to_string(),
            income: f.get("income").to_string(),
            assets: f
                .all("asset")
                .into_iter()
                .filter_map(Asset::parse)
                .collect(),
            members: (0..rows).map(|n| MemberValues::posted(f, n)).collect(),
            reason: f.get("reason").to_string(),
            consent: f.get("consent") == "1",
            confirm_duplicates: f.get("confirm_duplicates") == "1",
            expected_version: f.get("expected_version").parse().ok(),
        }
    }

    /// The household to submit, with the row of each submitted member and the errors per form
    /// field (in the reader's words) of what could not be read.
    fn input(&self, t: Tr) -> (HouseholdInput, Vec<usize>, HashMap<String, String>) {
        let mut errors: HashMap<String, String> = HashMap::new();
        let mut bad = |name: String, code: &str| {
            errors.entry(name).or_insert_with(|| error_words(t, code));
        };
        let amount = |name: &str, text: &str, bad: &mut dyn FnMut(String, &str)| {
            if text.is_empty() {
                return Amount::ZERO;
            }
            Amount::parse(text).unwrap_or_else(|_| {
                bad(name.to_string(), "format");
                Amount::ZERO
            })
        };
        let rooms = if self.rooms.is_empty() {
            bad("rooms".into(), "required");
            0
        } else {
            self.rooms.parse::<u16>().unwrap_or_else(|_| {
                bad("rooms".into(), "format");
                0
            })
        };
        let data = HouseholdData {
            commune_code: self.commune.clone(),
            area: None,
            address: self.address.clone(),
            dwelling_type: self.dwelling.unwrap_or(DwellingType::Other),
            tenure: self.tenure.unwrap_or(Tenure::Other),
            rooms,
            water_spending: amount("water", &self.water, &mut bad),
            electricity_spending: amount("electricity", &self.electricity, &mut bad),
            phone_spending: amount("phone_spending", &self.phone_spending, &mut bad),
            gas_spending: amount("gas", &self.gas, &mut bad),
            assets: self.assets.iter().copied().collect(),
            declared_income: amount("income", &self.income, &mut bad),
        };
        let mut members = Vec::new();
        let mut rows = Vec::new();
        for (n, m) in self.members.iter().enumerate() {
            if m.is_empty() {
                continue;
            }
            let k = |name: &str| format!("m{n}-{name}");
            let birth_date = time::Date::parse(
                &m.birth_date,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .unwrap_or_else(|_| {
                bad(
                    k("birth_date"),
                    if m.birth_date.is_empty() {
                        "required"
                    } else {
                        "format"
                    },
                );
                sanad_domain::household::earliest_birth_date()
            });
            let national_id = if m.national_id.is_empty() {
                None
            } else {
                NationalId::parse(&m.national_id)
                    .map_err(|_| bad(k("national_id"), "format"))
                    .ok()
            };
            let phone = if m.phone.is_empty() {
                None
            } else {
                PhoneNumber::parse(&m.phone)
                    .map_err(|_| bad(k("phone"), "format"))
                    .ok()
            };
            let person_id = if m.person_id.is_empty() {
                None
            } else {
                PersonId::parse(&m.person_id)
                    .map_err(|_| bad(k("person_id"), "format"))
                    .ok()
            };
            let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
            for (name, missing) in [
                ("relation", m.relation.is_none()),
                ("sex", m.sex.is_none()),
                ("schooling", m.schooling.is_none()),
                ("occupation", m.occupation.is_none()),
            ] {
                if missing {
                    bad(k(name), "required");
                }
            }
            members.push(MemberInput {
                person_id,
                data: PersonData {
                    relation: m.relation.unwrap_or(Relation::OtherRelative),
                    first_name: m.first_name.clone(),
                    last_name: m.last_name.clone(),
                    first_name_ar: opt(&m.first_name_ar),
                    last_name_ar: opt(&m.last_name_ar),
                    sex: m.sex.unwrap_or(Sex::Female),
                    birth_date,
                    national_id,
                    phone,
                    disability: m.disability.unwrap_or(Disability::None),
                    schooling: m.schooling.unwrap_or(Schooling::None),
                    occupation: m.occupation.unwrap_or(Occupation::Inactive),
                },
            });
            rows.push(n);
        }
        (HouseholdInput { data, members }, rows, errors)
    }
}

/// The registry's field path (`members[2].birth_date`) as the form's field name (`m5-birth_date`).
fn form_name(path: &str, rows: &[usize]) -> String {
    if let Some(rest) = path.strip_prefix("members[")
        && let Some((i, name)) = rest.split_once("].")
        && let Ok(i) = i.parse::<usize>()
    {
        let n = rows.get(i).copied().unwrap_or(i);
        return format!("m{n}-{name}");
    }
    match path {
        "commune_code" => "commune".into(),
        "water_spending" => "water".into(),
        "electricity_spending" => "electricity".into(),
        "gas_spending" => "gas".into(),
        "declared_income" => "income".into(),
        other => other.to_string(),
    }
}

struct Rendered {
    heading: String,
    action: String,
    errors: HashMap<String, String>,
    general: Vec<String>,
    consent_error: bool,
    duplicates: Vec<DuplicateWarning>,
    duplicates_error: bool,
}

fn form_page(ctx: &Ctx, v: &FormValues, r: Rendered) -> HouseholdForm {
    let t = ctx.t();
    let e = &r.errors;
    let members = v
        .members
        .iter()
        .enumerate()
        .map(|(n, m)| {
            let k = |name: &str| format!("m{n}-{name}");
            let row_errors: Vec<String> = e
                .iter()
                .filter(|(name, _)| {
                    name.starts_with(&format!("m{n}-"))
                        && !matches!(
                            name.rsplit('-').next(),
                            Some(
                                "first_name"
                                    | "last_name"
                                    | "first_name_ar"
                                    | "last_name_ar"
                                    | "birth_date"
                                    | "national_id"
                                    | "phone"
                            )
                        )
                })
                .map(|(_, msg)| msg.clone())
                .collect();
            MemberForm {
                n,
                heading: t.t1("form-member", "n", n + 1),
                person_id: m.person_id.clone(),
                first_name: field(&k("first_name"), &m.first_name, e),
                last_name: field(&k("last_name"), &m.last_name, e),
                first_name_ar: field(&k("first_name_ar"), &m.first_name_ar, e),
                last_name_ar: field(&k("last_name_ar"), &m.last_name_ar, e),
                birth_date: field(&k("birth_date"), &m.birth_date, e),
                national_id: field(&k("national_id"), &m.national_id, e),
                phone: field(&k("phone"), &m.phone, e),
                relation: choices(
                    t,
                    Relation::ALL,
                    Relation::as_str,
                    "vocab-relation-",
                    m.relation,
                ),
                relation_name: k("relation"),
                sex: choices(t, Sex::ALL, Sex::as_str, "vocab-sex-", m.sex),
                sex_name: k("sex"),
                disability: choices(
                    t,
                    Disability::ALL,
                    Disability::as_str,
                    "vocab-disability-",
                    m.disability.or(Some(Disability::None)),
                ),
                disability_name: k("disability"),
                schooling: choices(
                    t,
                    Schooling::ALL,
                    Schooling::as_str,
                    "vocab-schooling-",
                    m.schooling,
                ),
                schooling_name: k("schooling"),
                occupation: choices(
                    t,
                    Occupation::ALL,
                    Occupation::as_str,
                    "vocab-occupation-",
                    m.occupation,
                ),
                occupation_name: k("occupation"),
                errors: row_errors,
            }
        })
        .collect();
    let known = [
        "commune",
        "address",
        "rooms",
        "water",
        "electricity",
        "phone_spending",
        "gas",
        "income",
        "reason",
    ];
    let mut general = r.general;
    general.extend(
        e.iter()
            .filter(|(name, _)| !name.starts_with('m') || name.as_str() == "members")
            .filter(|(name, _)| !known.contains(&name.as_str()))
            .map(|(_, msg)| msg.clone()),
    );
    if !e.is_empty() && general.is_empty() {
        general.push(t.t("form-errors-below"));
    }
    HouseholdForm {
        shell: ctx.shell(r.heading.clone()),
        t,
        heading: r.heading,
        action: r.action,
        expected_version: v.expected_version,
        commune: field("commune", &v.commune, e),
        address: field("address", &v.address, e),
        dwelling: choices(
            t,
            DwellingType::ALL,
            DwellingType::as_str,
            "vocab-dwelling-",
            v.dwelling,
        ),
        tenure: choices(t, Tenure::ALL, Tenure::as_str, "vocab-tenure-", v.tenure),
        rooms: field("rooms", &v.rooms, e),
        water: field("water", &v.water, e),
        electricity: field("electricity", &v.electricity, e),
        phone_spending: field("phone_spending", &v.phone_spending, e),
        gas: field("gas", &v.gas, e),
        income: field("income", &v.income, e),
        assets: Asset::ALL
            .iter()
            .map(|&a| Choice {
                value: a.as_str().to_string(),
                label: t.t(&format!("vocab-asset-{}", a.as_str())),
                selected: v.assets.contains(&a),
            })
            .collect(),
        members,
        reason: field("reason", &v.reason, e),
        consent: v.consent,
        consent_error: r.consent_error.then(|| t.t("form-consent-needed")),
        errors: general,
        duplicates: r.duplicates,
        duplicates_error: r.duplicates_error.then(|| t.t("form-duplicates-needed")),
    }
}

fn can_write(ctx: &Ctx) -> Result<(), Response> {
    ctx.require(role_grants(ctx.actor.role, Permission::WriteRegistry))
}

/// `GET /households/new`.
async fn new_form(ctx: Ctx) -> Response {
    if let Err(r) = can_write(&ctx) {
        return r;
    }
    let t = ctx.t();
    let view = form_page(
        &ctx,
        &FormValues::blank(),
        Rendered {
            heading: t.t("register-title"),
            action: "/households/new".into(),
            errors: HashMap::new(),
            general: Vec::new(),
            consent_error: false,
            duplicates: Vec::new(),
            duplicates_error: false,
        },
    );
    render(&view)
}

/// `GET /households/{id}/edit`.
async fn edit_form(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Response {
    if let Err(r) = can_write(&ctx) {
        return r;
    }
    let Ok(id) = HouseholdId::parse(&id) else {
        return ctx.error(ApiError::not_found("household"));
    };
    let household = match state
        .registry
        .household(&ctx.actor, id, &Purpose("update at the centre".into()))
        .await
    {
        Ok(h) => h,
        Err(e) => return ctx.error(e.into()),
    };
    let t = ctx.t();
    let view = form_page(
        &ctx,
        &FormValues::of(&household),
        Rendered {
            heading: t.t1("update-title", "id", id),
            action: format!("/households/{id}/edit"),
            errors: HashMap::new(),
            general: Vec::new(),
            consent_error: false,
            duplicates: Vec::new(),
            duplicates_error: false,
        },
    );
    render(&view)
}

/// The comparison of a candidate, per field, in words.
fn compared(t: Tr, explanation: &serde_json::Value) -> Vec<Fact> {
    let Some(map) = explanation.as_object() else {
        return Vec::new();
    };
    map.iter()
        // The household compared is always another one: it says nothing to the agent.
        .filter(|(field, _)| field.as_str() != "household")
        .filter_map(|(field, v)| {
            let level = v.get("level").and_then(|l| l.as_str()).unwrap_or("");
            let word = match level {
                "null" => return None,
                "exact" => "form-field-same",
                "different" => "form-field-different",
                _ => "form-field-close",
            };
            Some(Fact {
                label: field_label(t, field),
                value: t.t(word),
            })
        })
        .collect()
}

fn field_label(t: Tr, field: &str) -> String {
    let key = match field {
        "first_name" => "form-first-name",
        "last_name" => "form-last-name",
        "first_name_ar" => "form-first-name-ar",
        "last_name_ar" => "form-last-name-ar",
        "birth_date" => "form-birth-date",
        "national_id" => "form-national-id",
        "phone" => "form-phone",
        "sex" => "member-sex",
        "commune" => "form-commune",
        _ => return field.to_string(),
    };
    t.t(key)
}

/// `POST /households/new` and `POST /households/{id}/edit`.
async fn save(
    state: AppState,
    ctx: Ctx,
    existing: Option<HouseholdId>,
    posted: Posted,
) -> Response {
    if let Err(r) = can_write(&ctx) {
        return r;
    }
    let t = ctx.t();
    let mut v = FormValues::posted(&posted);
    let (heading, action) = match existing {
        None => (t.t("register-title"), "/households/new".to_string()),
        Some(id) => (
            t.t1("update-title", "id", id),
            format!("/households/{id}/edit"),
        ),
    };
    let mut r = Rendered {
        heading,
        action,
        errors: HashMap::new(),
        general: Vec::new(),
        consent_error: false,
        duplicates: Vec::new(),
        duplicates_error: false,
    };
    if posted.get("more") == "1" {
        let rows = (v.members.len() + NEW_ROWS).min(MAX_ROWS);
        v.members.resize(rows, MemberValues::default());
        return render(&form_page(&ctx, &v, r));
    }
    let (input, rows, errors) = v.input(t);
    r.errors = errors;
    // The registry's own checks, before anything else, so every error shows at once.
    if let Err(errors) = input.validate(
        state.registry.now().date(),
        sanad_domain::Territories::morocco(),
    ) {
        for f in errors.0 {
            r.errors
                .entry(form_name(&f.field, &rows))
                .or_insert_with(|| error_words(t, &f.code));
        }
    }
    r.consent_error = !v.consent;
    if !r.errors.is_empty() || r.consent_error {
        return render_status(StatusCode::UNPROCESSABLE_ENTITY, &form_page(&ctx, &v, r));
    }
    // Likely duplicates, before saving: the agent checks with the citizen.
    if !v.confirm_duplicates {
        let candidates = match state.registry.preview_duplicates(&ctx.actor, &input) {
            Ok(c) => c,
            Err(e) => return ctx.error(e.into()),
        };
        if !candidates.is_empty() {
            for c in candidates {
                let member = input
                    .members
                    .get(c.member)
                    .map(|m| format!("{} {}", m.data.first_name, m.data.last_name))
                    .unwrap_or_default();
                let known = state
                    .registry
                    .person(
                        &ctx.actor,
                        c.duplicate_of,
                        &Purpose("duplicate check".into()),
                    )
                    .await
                    .ok();
                let (name, date, household) = match &known {
                    Some(p) => (
                        names(ctx.lang, p).0,
                        t.date(&p.data.birth_date),
                        p.household_id.map(|h| h.to_string()),
                    ),
                    None => (c.duplicate_of.to_string(), String::new(), None),
                };
                r.duplicates.push(DuplicateWarning {
                    member,
                    summary: format!(
                        "{} · {}",
                        t.t2("form-duplicate-of", "name", &name, "date", &date),
                        t.t1("review-probability", "percent", t.pct(c.probability))
                    ),
                    household,
                    fields: compared(t, &c.explanation),
                });
            }
            r.duplicates_error = posted.get("checked") == "1";
            return render_status(StatusCode::CONFLICT, &form_page(&ctx, &v, r));
        }
    }
    let consent = if v.reason.is_empty() {
        "assisted registration at the centre; the citizen's consent was recorded".to_string()
    } else {
        format!("{}; the citizen's consent was recorded", v.reason)
    };
    let saved = match existing {
        None => state
            .registry
            .register_household_checked(&ctx.actor, &input, &consent)
            .await
            .map(|(h, _)| h),
        Some(id) => match v.expected_version {
            Some(version) => {
                state
                    .registry
                    .update_household(&ctx.actor, id, version, &input, &consent)
                    .await
            }
            None => {
                return ctx.error(ApiError::bad_field(
                    "expected_version",
                    "required",
                    "the version",
                ));
            }
        },
    };
    match saved {
        Ok(h) => done(&format!("/households/{}", h.id), "done-household-saved"),
        Err(RegistryError::Validation(errors)) => {
            for f in errors.0 {
                r.errors
                    .entry(form_name(&f.field, &rows))
                    .or_insert_with(|| error_words(t, &f.code));
            }
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &form_page(&ctx, &v, r))
        }
        Err(e) => ctx.error(e.into()),
    }
}

async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    save(state, ctx, None, Posted(form)).await
}

async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let Ok(id) = HouseholdId::parse(&id) else {
        return ctx.error(ApiError::not_found("household"));
    };
    save(state, ctx, Some(id), Posted(form)).await
}

// ---- The duplicate review ----------------------------------------------------------------

const REVIEW_PAGE: u32 = 20;

fn level_word(level: &str) -> &'static str {
    match level {
        "exact" => "form-field-same",
        "different" => "form-field-different",
        "null" => "form-field-missing",
        _ => "form-field-close",
    }
}

fn person_value(t: Tr, p: Option<&Person>, field: &str) -> String {
    let Some(p) = p else {
        return String::new();
    };
    let d = &p.data;
    match field {
        "first_name" => d.first_name.clone(),
        "last_name" => d.last_name.clone(),
        "first_name_ar" => d.first_name_ar.clone().unwrap_or_default(),
        "last_name_ar" => d.last_name_ar.clone().unwrap_or_default(),
        "birth_date" => t.date(&d.birth_date),
        "national_id" => d
            .national_id
            .as_ref()
            .map(|n| n.to_string())
            .unwrap_or_default(),
        "phone" => d.phone.as_ref().map(|n| n.to_string()).unwrap_or_default(),
        "sex" => t.t(&format!("vocab-sex-{}", d.sex.as_str())),
        _ => String::new(),
    }
}

/// `GET /review`: the pairs of the reader's territory, pending (or decided with `?decided=1`).
async fn review(State(state): State<AppState>, ctx: Ctx, RawQuery(raw): RawQuery) -> Response {
    if let Err(r) = ctx.require(role_grants(ctx.actor.role, Permission::ReviewDuplicates)) {
        return r;
    }
    let pairs_q = query_pairs(raw);
    let decided = pair(&pairs_q, "decided") == Some("1");
    let after: i64 = pair(&pairs_q, "after")
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    let purpose = Purpose("duplicate review".into());
    let mut found = Vec::new();
    let mut cursor = after;
    let mut more = false;
    // Decided pairs are the accepted and the rejected; pending pairs, one status.
    let statuses: &[PairStatus] = if decided {
        &[PairStatus::Accepted, PairStatus::Rejected]
    } else {
        &[PairStatus::Pending]
    };
    for &status in statuses {
        match state
            .registry
            .duplicate_pairs(&ctx.actor, Some(status), after, REVIEW_PAGE, &purpose)
            .await
        {
            Ok(p) => {
                more |= p.len() as u32 == REVIEW_PAGE;
                found.extend(p);
            }
            Err(e) => return ctx.error(e.into()),
        }
    }
    found.sort_by_key(|p| p.id);
    found.truncate(REVIEW_PAGE as usize);
    if let Some(last) = found.last() {
        cursor = last.id;
    }
    let t = ctx.t();
    let store = state.registry.store();
    let mut pairs = Vec::new();
    for p in &found {
        let a = store.person(p.person_a).await.ok().flatten();
        let b = store.person(p.person_b).await.ok().flatten();
        let fields = p
            .explanation
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(field, _)| field.as_str() != "household")
                    .map(|(field, v)| {
                        let level = v
                            .get("level")
                            .and_then(|l| l.as_str())
                            .or_else(|| v.as_str())
                            .unwrap_or("");
                        let weight = v.get("weight").and_then(|w| w.as_f64()).unwrap_or(0.0);
                        ReviewField {
                            label: field_label(t, field),
                            a: person_value(t, a.as_ref(), field),
                            b: person_value(t, b.as_ref(), field),
                            level: t.t(level_word(level)),
                            weight: format!(
                                "{}{}",
                                if weight >= 0.0 { "+" } else { "−" },
                                t.dec(weight.abs(), 1)
                            ),
                            kind: if level == "null" {
                                "info"
                            } else if weight >= 0.0 {
                                "ok"
                            } else {
                                "bad"
                            },
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let hit_of = |p: Option<&Person>, id: PersonId| match p {
            Some(p) => hit(ctx.lang, t, p, None),
            None => PersonHit {
                id: id.to_string(),
                name: id.to_string(),
                other_name: String::new(),
                birth: String::new(),
                household: None,
                place: String::new(),
            },
        };
        let merged_id = b.as_ref().and_then(|b| b.merged_into).map(|_| p.id);
        pairs.push(ReviewPair {
            id: p.id,
            probability: t.t1("review-probability", "percent", t.pct(p.probability)),
            state: t.t(match p.status {
                PairStatus::Pending => "review-state-pending",
                PairStatus::Accepted => "review-state-merged",
                PairStatus::Rejected => "review-state-rejected",
            }),
            pending: p.status == PairStatus::Pending,
            merged: merged_id.is_some(),
            merge_id: None,
            a: hit_of(a.as_ref(), p.person_a),
            b: hit_of(b.as_ref(), p.person_b),
            fields,
        });
    }
    // The merge just made can be undone from the page it lands on.
    if let Some(m) = pair(&pairs_q, "undo").and_then(|m| m.parse::<i64>().ok())
        && let Some(pair) = pair(&pairs_q, "pair").and_then(|p| p.parse::<i64>().ok())
        && let Some(row) = pairs.iter_mut().find(|r| r.id == pair)
    {
        row.merge_id = Some(m);
    }
    let next = more.then(|| {
        format!(
            "/review?{}after={cursor}",
            if decided { "decided=1&" } else { "" }
        )
    });
    let view = ReviewPage {
        shell: ctx.shell(t.t("review-title")),
        t,
        pairs,
        decided,
        next,
    };
    render(&view)
}

/// `POST /review/{id}/merge`: the same person; the later record is merged into the earlier.
async fn merge(State(state): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    let pair = match state.registry.duplicate_pair(&ctx.actor, id).await {
        Ok(p) => p,
        Err(e) => return ctx.error(e.into()),
    };
    // Merging accepts the pair; a refused merge leaves it pending.
    let reason = "same person (duplicate review)";
    match state
        .registry
        .merge_persons(&ctx.actor, pair.person_b, pair.person_a, reason)
        .await
    {
        Ok(m) => done(
            &format!("/review?decided=1&after={}&pair={id}&undo={}", id - 1, m.id),
            "done-merged",
        ),
        Err(e) => ctx.error(e.into()),
    }
}

/// `POST /review/{id}/reject`: two different persons.
async fn reject(State(state): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    match state
        .registry
        .decide_duplicate_pair(
            &ctx.actor,
            id,
            PairStatus::Rejected,
            "different persons (duplicate review)",
        )
        .await
    {
        Ok(_) => done("/review", "done-rejected"),
        Err(e) => ctx.error(e.into()),
    }
}

/// `POST /review/merges/{id}/undo`.
async fn undo(State(state): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    match state
        .registry
        .undo_merge(&ctx.actor, id, "merge undone (duplicate review)")
        .await
    {
        Ok(_) => done("/review?decided=1", "done-unmerged"),
        Err(e) => ctx.error(e.into()),
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/search", get(search))
        .route("/households/new", get(new_form).post(create))
        .route("/households/{id}", get(super::household::page))
        .route("/households/{id}/edit", get(edit_form).post(update))
        .route(
            "/households/{id}/declare",
            get(super::declare::form_assisted).post(super::declare::submit_assisted),
        )
        .route(
            "/households/{id}/declarations/{declaration}/documents/{sha}",
            get(super::declare::document),
        )
        .route("/review", get(review))
        .route("/review/{id}/merge", post(merge))
        .route("/review/{id}/reject", post(reject))
        .route("/review/merges/{id}/undo", post(undo))
}
