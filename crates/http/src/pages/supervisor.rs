//! The supervisor's dashboard (also the home of managers, auditors and administrators): the
//! figures of the reader's territory per programme, a choropleth map of the regions (or of one
//! region's provinces, `?region=`) coloured by the measure chosen (`?measure=`, `?programme=`),
//! the same figures as tables, charts over time, and each table as CSV (`/dashboard.csv`).
//!
//! The figures come from `sanad_app::Dashboard` (aggregates per province held for a minute), cut
//! to the provinces the reader may see; a region outside their territory is answered as missing.
//! The measures of requests and complaints (the usual time at a step, the steps past their
//! deadline, the citizens' marks) come from the `Requests` use-case, which scopes them to the
//! reader, read once for the place shown and grouped per area; only when one of them is chosen.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sanad_app::Actor;
use sanad_app::dashboard::{Figures, ProgrammeInfo, sees_province};
use sanad_app::policy::{self, Permission};
use sanad_app::requests::AreaFigures;
use sanad_domain::{Territories, TerritoryLevel};
use sanad_web::chart::{self, Bar};
use sanad_web::i18n::plain;
use sanad_web::map::{self, Area};
use sanad_web::views::supervisor::{
    Chart, Choice, DashboardPage, ProgrammeRow, RequestAreaRow, TerritoryRow,
};
use sanad_web::{Lang, Tr, url_encode};
use serde::Deserialize;

use super::requests::duration;
use super::{Ctx, render};
use crate::AppState;
use crate::error::ApiError;

/// Months shown on the chart of registrations.
const MONTHS: usize = 24;

#[derive(Deserialize, Default)]
struct Query {
    region: Option<String>,
    measure: Option<String>,
    programme: Option<String>,
    table: Option<String>,
}

impl Query {
    fn parse(raw: Option<&str>) -> Query {
        raw.and_then(|q| serde_urlencoded::from_str(q).ok())
            .unwrap_or_default()
    }
}

/// What the map shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Measure {
    Households,
    Scored,
    Eligible,
    Enrolled,
    Paid,
    Under,
    Gap,
    /// Requests: the usual (median) time a step took, every service together.
    Delay,
    /// Requests: the share of step visits past their deadline.
    Breaches,
    /// The citizens' average mark, 1 to 5.
    Rating,
}

impl Measure {
    const ALL: [Measure; 10] = [
        Measure::Households,
        Measure::Scored,
        Measure::Eligible,
        Measure::Enrolled,
        Measure::Paid,
        Measure::Under,
        Measure::Gap,
        Measure::Delay,
        Measure::Breaches,
        Measure::Rating,
    ];

    /// Whether it is a measure of requests and complaints (not of a programme).
    fn of_requests(self) -> bool {
        matches!(self, Measure::Delay | Measure::Breaches | Measure::Rating)
    }

    fn code(self) -> &'static str {
        match self {
            Measure::Households => "households",
            Measure::Scored => "scored",
            Measure::Eligible => "eligible",
            Measure::Enrolled => "enrolled",
            Measure::Paid => "paid",
            Measure::Under => "under",
            Measure::Gap => "gap",
            Measure::Delay => "delay",
            Measure::Breaches => "breaches",
            Measure::Rating => "rating",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Measure::Households => "supervisor-measure-households",
            Measure::Scored => "supervisor-measure-scored",
            Measure::Eligible => "supervisor-measure-eligible",
            Measure::Enrolled => "supervisor-measure-enrolled",
            Measure::Paid => "supervisor-measure-paid",
            Measure::Under => "supervisor-measure-under",
            Measure::Gap => "supervisor-measure-gap",
            Measure::Delay => "supervisor-measure-delay",
            Measure::Breaches => "supervisor-measure-breaches",
            Measure::Rating => "supervisor-measure-rating",
        }
    }

    /// The measure asked for; those of requests only for a reader who may read them.
    fn parse(text: Option<&str>, requests: bool) -> Measure {
        Measure::offered(requests)
            .find(|m| Some(m.code()) == text)
            .unwrap_or(Measure::Households)
    }

    fn offered(requests: bool) -> impl Iterator<Item = Measure> {
        Measure::ALL
            .into_iter()
            .filter(move |m| requests || !m.of_requests())
    }

    /// What the measure counts, when its name does not say it all.
    fn note(self) -> Option<&'static str> {
        match self {
            Measure::Delay => Some("supervisor-requests-note-delay"),
            Measure::Breaches => Some("supervisor-requests-note-breaches"),
            Measure::Rating => Some("supervisor-requests-note-rating"),
            _ => None,
        }
    }

    /// An area's value of a measure of requests; none without figures.
    fn of_area(self, a: Option<&AreaFigures>) -> Option<f64> {
        let a = a?;
        match self {
            Measure::Delay => a.finished.median_seconds.map(|s| s as f64),
            Measure::Breaches => a.breach_share(),
            Measure::Rating => a.average_rating(),
            _ => None,
        }
    }

    /// A value of the measure in words.
    fn words(self, t: Tr, v: f64) -> String {
        match self {
            Measure::Under | Measure::Breaches => t.pct(v),
            Measure::Delay => duration(t, v.round() as i64),
            Measure::Rating => t.t1("supervisor-rating-value", "mark", t.dec(v, 1)),
            _ => t.num(v.round() as i64),
        }
    }
}

/// One territory's figures for one programme.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    households: u64,
    scored: u64,
    /// Eligible, enrolled or suspended: meeting the conditions.
    eligible: u64,
    /// Enrolled or suspended.
    enrolled: u64,
    /// Eligible, not enrolled.
    gap: u64,
    paid: u64,
    paid_amount: i64,
    under: u64,
}

impl Sums {
    fn add(&mut self, o: &Sums) {
        self.households += o.households;
        self.scored += o.scored;
        self.eligible += o.eligible;
        self.enrolled += o.enrolled;
        self.gap += o.gap;
        self.paid += o.paid;
        self.paid_amount += o.paid_amount;
        self.under += o.under;
    }

    fn share_under(&self) -> Option<f64> {
        (self.households > 0).then(|| self.under as f64 / self.households as f64)
    }

    fn value(&self, m: Measure) -> Option<f64> {
        Some(match m {
            Measure::Households => self.households as f64,
            Measure::Scored => self.scored as f64,
            Measure::Eligible => self.eligible as f64,
            Measure::Enrolled => self.enrolled as f64,
            Measure::Paid => self.paid as f64,
            Measure::Gap => self.gap as f64,
            Measure::Under => return self.share_under(),
            Measure::Delay | Measure::Breaches | Measure::Rating => return None,
        })
    }
}

/// The province of each row of the figures, summed per province for one programme.
fn per_province(f: &Figures, programme: Option<&str>) -> BTreeMap<String, Sums> {
    let mut out: BTreeMap<String, Sums> = BTreeMap::new();
    for p in &f.provinces {
        let s = out.entry(p.province_code.clone()).or_default();
        s.households += p.households;
        s.scored += p.scored;
    }
    let Some(programme) = programme else {
        return out;
    };
    for e in f
        .enrolments
        .iter()
        .filter(|e| e.programme_code == programme)
    {
        let s = out.entry(e.province_code.clone()).or_default();
        use sanad_app::targeting::EnrolmentState::*;
        match e.state {
            Eligible => {
                s.eligible += e.households;
                s.gap += e.households;
            }
            Enrolled | Suspended => {
                s.eligible += e.households;
                s.enrolled += e.households;
            }
            Exited => {}
        }
    }
    for u in f
        .under_threshold
        .iter()
        .filter(|u| u.programme_code == programme)
    {
        out.entry(u.province_code.clone()).or_default().under += u.households;
    }
    if let Some((cycle, _)) = f.last_cycle(programme) {
        for p in f.paid.iter().filter(|p| p.cycle_id == cycle) {
            let s = out.entry(p.province_code.clone()).or_default();
            s.paid += p.households;
            s.paid_amount += p.amount;
        }
    }
    out
}

fn region_of(province: &str) -> &str {
    province.split('.').next().unwrap_or(province)
}

/// Whether the actor sees at least part of a region.
fn sees_region(actor: &Actor, region: &str) -> bool {
    actor.territories.is_empty()
        || actor
            .territories
            .iter()
            .any(|t| policy::contains(t, region) || policy::contains(region, t))
}

fn name(lang: Lang, code: &str) -> String {
    match Territories::morocco().get(code) {
        Some(t) if lang == Lang::Ar => t.name_ar.clone(),
        Some(t) => t.name_fr.clone(),
        None => code.to_string(),
    }
}

fn programme_name(lang: Lang, p: &ProgrammeInfo) -> String {
    match lang {
        Lang::Ar => p.name_ar.clone(),
        Lang::Fr => p.name_fr.clone(),
        Lang::En => p.name_en.clone(),
    }
}

/// What one request shows: the region (or none for the regions), the measure, the programme.
struct Shown<'a> {
    region: Option<String>,
    measure: Measure,
    programme: Option<&'a ProgrammeInfo>,
    /// Whether the reader is offered the measures of requests.
    requests: bool,
}

impl Shown<'_> {
    fn link(&self, path: &str, region: Option<&str>, table: Option<&str>) -> String {
        let mut parts = Vec::new();
        if let Some(r) = region {
            parts.push(format!("region={}", url_encode(r)));
        }
        parts.push(format!("measure={}", self.measure.code()));
        if let Some(p) = self.programme {
            parts.push(format!("programme={}", url_encode(&p.code)));
        }
        if let Some(t) = table {
            parts.push(format!("table={t}"));
        }
        format!("{path}?{}", parts.join("&"))
    }
}

/// Reads the query against the reader's scope: the region must be one they see (else 404); a
/// reader whose territories lie in one region starts on it.
fn shown<'a>(
    actor: &Actor,
    q: &Query,
    figures: &'a Figures,
    requests: bool,
) -> Result<Shown<'a>, ApiError> {
    let region = match q.region.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(code) => {
            let known = Territories::morocco()
                .get(code)
                .is_some_and(|t| t.level == TerritoryLevel::Region);
            if !known || !sees_region(actor, code) {
                return Err(ApiError::not_found("region"));
            }
            Some(code.to_string())
        }
        None => {
            let mut regions: Vec<&str> = actor.territories.iter().map(|t| region_of(t)).collect();
            regions.dedup();
            (regions.len() == 1).then(|| regions[0].to_string())
        }
    };
    let programme = q
        .programme
        .as_deref()
        .and_then(|c| figures.programmes.iter().find(|p| p.code == c))
        .or_else(|| figures.programmes.first());
    Ok(Shown {
        region,
        measure: Measure::parse(q.measure.as_deref(), requests),
        programme,
        requests,
    })
}

/// The rows of the table and map: the visible provinces of the region, or the visible regions.
fn rows(actor: &Actor, s: &Shown<'_>, by_province: &BTreeMap<String, Sums>) -> Vec<(String, Sums)> {
    match &s.region {
        Some(region) => Territories::morocco()
            .provinces()
            .iter()
            .filter(|p| p.region_code == *region && sees_province(actor, &p.code))
            .map(|p| {
                (
                    p.code.clone(),
                    by_province.get(&p.code).copied().unwrap_or_default(),
                )
            })
            .collect(),
        None => Territories::morocco()
            .regions()
            .iter()
            .filter(|r| sees_region(actor, &r.code))
            .map(|r| {
                let mut sums = Sums::default();
                for (_, v) in by_province.iter().filter(|(p, _)| region_of(p) == r.code) {
                    sums.add(v);
                }
                (r.code.clone(), sums)
            })
            .collect(),
    }
}

fn in_scope(s: &Shown<'_>, province: &str) -> bool {
    s.region.as_deref().is_none_or(|r| region_of(province) == r)
}

fn measure_text(t: Tr, m: Measure, sums: &Sums) -> String {
    match m {
        Measure::Under => sums.share_under().map(|v| t.pct(v)).unwrap_or_default(),
        _ => t.num(sums.value(m).unwrap_or(0.0) as i64),
    }
}

fn territory_row(
    t: Tr,
    name: String,
    href: Option<String>,
    s: &Sums,
    has_threshold: bool,
) -> TerritoryRow {
    TerritoryRow {
        code: String::new(),
        name,
        href,
        households: t.num(s.households),
        scored: t.num(s.scored),
        eligible: t.num(s.eligible),
        enrolled: t.num(s.enrolled),
        gap: t.num(s.gap),
        paid: t.num(s.paid),
        under: if has_threshold {
            s.share_under().map(|v| t.pct(v)).unwrap_or_default()
        } else {
            t.t("supervisor-no-threshold")
        },
    }
}

/// Households registered per month in the scope, the last [`MONTHS`] months with registrations.
fn months(f: &Figures, s: &Shown<'_>) -> Vec<(String, u64)> {
    let mut by: BTreeMap<&str, u64> = BTreeMap::new();
    for m in f.months.iter().filter(|m| in_scope(s, &m.province_code)) {
        *by.entry(m.month.as_str()).or_default() += m.households;
    }
    let all: Vec<(String, u64)> = by.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    all[all.len().saturating_sub(MONTHS)..].to_vec()
}

/// Households paid per cycle of the programme in the scope.
fn cycles(f: &Figures, s: &Shown<'_>) -> Vec<(String, u64, i64)> {
    let Some(p) = s.programme else {
        return Vec::new();
    };
    let mut by: BTreeMap<i64, (String, u64, i64)> = BTreeMap::new();
    for c in f
        .paid
        .iter()
        .filter(|c| c.programme_code == p.code && in_scope(s, &c.province_code))
    {
        let e = by.entry(c.cycle_id).or_insert((c.period.clone(), 0, 0));
        e.1 += c.households;
        e.2 += c.amount;
    }
    by.into_values().collect()
}

async fn figures(state: &AppState, ctx: &Ctx) -> Result<Figures, ApiError> {
    let Some(dashboard) = &state.dashboard else {
        return Err(ApiError::unavailable());
    };
    Ok(dashboard.figures(&ctx.actor).await?)
}

/// `GET /` for supervisors, managers, auditors and administrators: the dashboard.
pub async fn home(State(state): State<AppState>, ctx: Ctx) -> Response {
    let q = Query::parse(ctx.path.split_once('?').map(|(_, q)| q));
    let f = match figures(&state, &ctx).await {
        Ok(f) => f,
        Err(e) => return ctx.error(e),
    };
    let s = match shown(&ctx.actor, &q, &f, reads_requests(&state, &ctx)) {
        Ok(s) => s,
        Err(e) => return ctx.error(e),
    };
    let requests = if s.measure.of_requests() {
        match request_figures(&state, &ctx, &s).await {
            Ok(r) => Some(r),
            Err(e) => return ctx.error(e),
        }
    } else {
        None
    };
    render(&page(&ctx, &f, &s, requests.as_ref()))
}

/// Whether the reader is offered the measures of requests.
fn reads_requests(state: &AppState, ctx: &Ctx) -> bool {
    state.requests.is_some() && policy::allows(&ctx.actor, Permission::ReadRequests)
}

/// The requests and complaints of the place shown, per area the map draws: its provinces, or
/// the regions. One read of the reader's scope, grouped, whatever the number of areas.
async fn request_figures(
    state: &AppState,
    ctx: &Ctx,
    s: &Shown<'_>,
) -> Result<BTreeMap<String, AreaFigures>, ApiError> {
    let Some(svc) = &state.requests else {
        return Err(ApiError::unavailable());
    };
    let level = match s.region {
        Some(_) => TerritoryLevel::Province,
        None => TerritoryLevel::Region,
    };
    Ok(svc
        .by_area(&ctx.actor, s.region.as_deref(), level)
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .map(|a| (a.area.clone(), a))
        .collect())
}

/// The report of delays of a territory.
fn delays_link(territory: Option<&str>) -> String {
    match territory {
        Some(t) => format!("/requests/bottlenecks?territory={}", url_encode(t)),
        None => "/requests/bottlenecks".to_string(),
    }
}

/// An area's requests and complaints in words.
fn request_row(t: Tr, code: &str, name: String, a: Option<&AreaFigures>) -> RequestAreaRow {
    let dash = || "—".to_string();
    let time = |s: Option<i64>| s.map(|s| duration(t, s)).unwrap_or_else(dash);
    RequestAreaRow {
        code: code.to_string(),
        report: delays_link(Some(code)),
        name,
        median: time(a.and_then(|a| a.finished.median_seconds)),
        p90: time(a.and_then(|a| a.finished.p90_seconds)),
        visits: a.map(|a| t.num(a.visits())).unwrap_or_else(dash),
        waiting: a.map(|a| t.num(a.open.count)).unwrap_or_else(dash),
        breaches: a
            .and_then(|a| {
                a.breach_share().map(|share| {
                    t.t2(
                        "supervisor-breaches-value",
                        "count",
                        t.num(a.breaches()),
                        "share",
                        t.pct(share),
                    )
                })
            })
            .unwrap_or_else(dash),
        late: a.is_some_and(|a| a.breaches() > 0),
        rating: a
            .and_then(AreaFigures::average_rating)
            .map(|v| Measure::Rating.words(t, v))
            .unwrap_or_else(dash),
        ratings: a.map(|a| t.num(a.ratings)).unwrap_or_else(dash),
    }
}

fn page(
    ctx: &Ctx,
    f: &Figures,
    s: &Shown<'_>,
    requests: Option<&BTreeMap<String, AreaFigures>>,
) -> DashboardPage {
    let t = ctx.t();
    let lang = ctx.lang;
    let actor = &ctx.actor;
    let by_province = per_province(f, s.programme.map(|p| p.code.as_str()));
    let rows = rows(actor, s, &by_province);
    let place = match &s.region {
        Some(r) => name(lang, r),
        None => t.t("supervisor-morocco"),
    };
    let measure = t.t(s.measure.key());
    let programme = s
        .programme
        .map(|p| programme_name(lang, p))
        .unwrap_or_else(|| t.t("supervisor-no-programme"));
    let of_requests = s.measure.of_requests();
    let has_threshold = s.programme.is_some_and(|p| p.threshold.is_some());

    // The map: every shape of the frame; the visible ones coloured, the regions linked down.
    let frame = match &s.region {
        Some(r) => map::provinces_of(r).unwrap_or_else(|| map::regions()),
        None => map::regions(),
    };
    let no_data = t.t(if of_requests {
        "supervisor-requests-no-data"
    } else {
        "supervisor-no-data"
    });
    let areas: Vec<Area> = rows
        .iter()
        .map(|(code, sums)| {
            let (value, text) = if of_requests {
                let a = requests.and_then(|r| r.get(code));
                let value = s.measure.of_area(a);
                let text = match (value, a) {
                    (Some(v), Some(a)) if s.measure == Measure::Rating => {
                        t.tn1("supervisor-rating-title", a.ratings, "mark", t.dec(v, 1))
                    }
                    (Some(v), _) => s.measure.words(t, v),
                    (None, _) => no_data.clone(),
                };
                (value, text)
            } else {
                (sums.value(s.measure), measure_text(t, s.measure, sums))
            };
            // The regions lead down to their provinces; a province's requests to its report.
            let href = match (&s.region, of_requests) {
                (None, _) => Some(s.link("/", Some(code), None)),
                (Some(_), true) => Some(delays_link(Some(code))),
                (Some(_), false) => None,
            };
            Area {
                code: code.clone(),
                title: t.t2(
                    "supervisor-area-title",
                    "name",
                    name(lang, code),
                    "value",
                    text,
                ),
                value,
                href,
            }
        })
        .collect();
    let format = |v: f64| s.measure.words(t, v);
    let choropleth = map::choropleth(
        frame,
        &areas,
        &t.t2("supervisor-map-label", "measure", &measure, "place", &place),
        |from, to| {
            if format(from) == format(to) {
                format(to)
            } else {
                t.t2("supervisor-range", "from", format(from), "to", format(to))
            }
        },
        &no_data,
    );

    let mut total = Sums::default();
    for (_, sums) in &rows {
        total.add(sums);
    }
    let table_rows = rows
        .iter()
        .map(|(code, sums)| {
            let mut row = territory_row(
                t,
                name(lang, code),
                s.region.is_none().then(|| s.link("/", Some(code), None)),
                sums,
                has_threshold,
            );
            row.code = code.clone();
            row
        })
        .collect();

    // Each programme over the scope shown.
    let visible: Vec<&String> = rows.iter().map(|(c, _)| c).collect();
    let programme_rows = f
        .programmes
        .iter()
        .map(|p| {
            let sums = scope_sums(f, s, &visible, &p.code);
            let cycle = f.last_cycle(&p.code);
            ProgrammeRow {
                name: programme_name(lang, p),
                eligible: t.num(sums.eligible),
                enrolled: t.num(sums.enrolled),
                gap: t.num(sums.gap),
                paid: t.num(sums.paid),
                paid_amount: t.mad(sums.paid_amount),
                cycle: cycle
                    .map(|(_, period)| period.to_string())
                    .unwrap_or_else(|| t.t("supervisor-no-cycle")),
                under: if p.threshold.is_some() {
                    sums.share_under().map(|v| t.pct(v)).unwrap_or_default()
                } else {
                    t.t("supervisor-no-threshold")
                },
            }
        })
        .collect();

    let region = s.region.as_deref();
    let mut charts = Vec::new();
    let per_month = months(f, s);
    charts.push(chart_of(
        t,
        t.t("supervisor-chart-months"),
        t.t("supervisor-col-month"),
        per_month.iter().map(|(m, n)| (m.clone(), *n)).collect(),
        s.link("/dashboard.csv", region, Some("months")),
    ));
    let per_cycle = cycles(f, s);
    if !per_cycle.is_empty() {
        charts.push(chart_of(
            t,
            t.t1("supervisor-chart-cycles", "programme", &programme),
            t.t("supervisor-col-period"),
            per_cycle.iter().map(|(p, n, _)| (p.clone(), *n)).collect(),
            s.link("/dashboard.csv", region, Some("cycles")),
        ));
    }

    let sees_more = actor.territories.is_empty()
        || Territories::morocco()
            .regions()
            .iter()
            .filter(|r| sees_region(actor, &r.code))
            .count()
            > 1;
    DashboardPage {
        shell: ctx.shell(t.t1("supervisor-place-title", "place", &place)),
        place: place.clone(),
        t,
        up: (s.region.is_some() && sees_more).then(|| s.link("/", None, None)),
        region: s.region.clone().unwrap_or_default(),
        as_of: t.t1("supervisor-as-of", "at", t.datetime(&f.at)),
        measures: Measure::offered(s.requests)
            .map(|m| Choice {
                value: m.code().into(),
                label: t.t(m.key()),
                selected: m == s.measure,
            })
            .collect(),
        programmes: f
            .programmes
            .iter()
            .map(|p| Choice {
                value: p.code.clone(),
                label: programme_name(lang, p),
                selected: s.programme.is_some_and(|c| c.code == p.code),
            })
            .collect(),
        measure,
        about: if of_requests {
            t.t("supervisor-requests-all")
        } else {
            programme.clone()
        },
        programme,
        map: choropleth.svg,
        legend: choropleth.legend,
        legend_note: s.measure.note().map(|k| t.t(k)),
        requests: requests.map(|r| {
            rows.iter()
                .map(|(code, _)| request_row(t, code, name(lang, code), r.get(code)))
                .collect()
        }),
        delays_href: delays_link(s.region.as_deref()),
        provinces: s.region.is_some(),
        rows: table_rows,
        total: territory_row(t, t.t("supervisor-total"), None, &total, has_threshold),
        territories_csv: s.link("/dashboard.csv", region, Some("territories")),
        programme_rows,
        programmes_csv: s.link("/dashboard.csv", region, Some("programmes")),
        charts,
    }
}

/// One programme's figures summed over the territories shown.
fn scope_sums(f: &Figures, s: &Shown<'_>, visible: &[&String], programme: &str) -> Sums {
    let by_province = per_province(f, Some(programme));
    let mut sums = Sums::default();
    for (province, v) in &by_province {
        let shown = match &s.region {
            Some(_) => visible.contains(&province),
            None => visible.iter().any(|c| c.as_str() == region_of(province)),
        };
        if shown {
            sums.add(v);
        }
    }
    sums
}

fn chart_of(t: Tr, title: String, column: String, data: Vec<(String, u64)>, csv: String) -> Chart {
    let bars: Vec<Bar> = data
        .iter()
        .map(|(label, n)| Bar {
            label: label.clone(),
            value: *n as f64,
            title: t.t2("supervisor-bar-title", "label", label, "value", t.num(*n)),
        })
        .collect();
    Chart {
        svg: chart::bars(&bars, &title, &t.t("supervisor-axis-households"), |v| {
            t.num(v.round() as i64)
        }),
        rows: data.iter().map(|(l, n)| (l.clone(), t.num(*n))).collect(),
        title,
        column,
        csv,
    }
}

/// `GET /dashboard.csv?table=territories|programmes|months|cycles`: a table of the dashboard, for
/// the same region, measure and programme as the page.
async fn csv(State(state): State<AppState>, ctx: Ctx, RawQuery(raw): RawQuery) -> Response {
    let q = Query::parse(raw.as_deref());
    let f = match figures(&state, &ctx).await {
        Ok(f) => f,
        Err(e) => return ctx.error(e),
    };
    let s = match shown(&ctx.actor, &q, &f, reads_requests(&state, &ctx)) {
        Ok(s) => s,
        Err(e) => return ctx.error(e),
    };
    let t = ctx.t();
    let lang = ctx.lang;
    let head = |keys: &[&str]| keys.iter().map(|k| t.t(k)).collect::<Vec<_>>();
    let share = |s: &Sums| {
        s.share_under()
            .map(|v| format!("{v:.4}"))
            .unwrap_or_default()
    };
    let by_province = per_province(&f, s.programme.map(|p| p.code.as_str()));
    let rows_shown = rows(&ctx.actor, &s, &by_province);
    let (file, table): (&str, Vec<Vec<String>>) = match q.table.as_deref() {
        Some("programmes") => {
            let visible: Vec<&String> = rows_shown.iter().map(|(c, _)| c).collect();
            let mut out = vec![head(&[
                "supervisor-col-programme",
                "supervisor-col-eligible",
                "supervisor-col-enrolled",
                "supervisor-col-gap",
                "supervisor-col-paid",
                "supervisor-col-amount",
                "supervisor-col-cycle",
                "supervisor-col-under",
            ])];
            for p in &f.programmes {
                let sums = scope_sums(&f, &s, &visible, &p.code);
                out.push(vec![
                    programme_name(lang, p),
                    sums.eligible.to_string(),
                    sums.enrolled.to_string(),
                    sums.gap.to_string(),
                    sums.paid.to_string(),
                    format!("{:.2}", sums.paid_amount as f64 / 100.0),
                    f.last_cycle(&p.code)
                        .map(|(_, period)| period.to_string())
                        .unwrap_or_default(),
                    if p.threshold.is_some() {
                        share(&sums)
                    } else {
                        String::new()
                    },
                ]);
            }
            ("dashboard-programmes.csv", out)
        }
        Some("months") => {
            let mut out = vec![head(&[
                "supervisor-col-month",
                "supervisor-axis-households",
            ])];
            for (m, n) in months(&f, &s) {
                out.push(vec![m, n.to_string()]);
            }
            ("dashboard-months.csv", out)
        }
        Some("cycles") => {
            let mut out = vec![head(&[
                "supervisor-col-period",
                "supervisor-axis-households",
                "supervisor-col-amount",
            ])];
            for (p, n, amount) in cycles(&f, &s) {
                out.push(vec![
                    p,
                    n.to_string(),
                    format!("{:.2}", amount as f64 / 100.0),
                ]);
            }
            ("dashboard-cycles.csv", out)
        }
        _ => {
            let mut out = vec![{
                let mut h = vec![
                    "code".to_string(),
                    t.t(if s.region.is_some() {
                        "supervisor-province"
                    } else {
                        "supervisor-region"
                    }),
                ];
                h.extend(head(&[
                    "supervisor-col-households",
                    "supervisor-col-scored",
                    "supervisor-col-eligible",
                    "supervisor-col-enrolled",
                    "supervisor-col-gap",
                    "supervisor-col-paid",
                    "supervisor-col-under",
                ]));
                h
            }];
            for (code, sums) in &rows_shown {
                out.push(vec![
                    code.clone(),
                    name(lang, code),
                    sums.households.to_string(),
                    sums.scored.to_string(),
                    sums.eligible.to_string(),
                    sums.enrolled.to_string(),
                    sums.gap.to_string(),
                    sums.paid.to_string(),
                    share(sums),
                ]);
            }
            ("dashboard-territories.csv", out)
        }
    };
    csv_response(file, table)
}

fn csv_response(name: &str, rows: Vec<Vec<String>>) -> Response {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        if writer.write_record(row.iter().map(|c| plain(c))).is_err() {
            return ApiError::internal().into_response();
        }
    }
    match writer.into_inner() {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => ApiError::internal().into_response(),
    }
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/dashboard.csv", get(csv))
}
