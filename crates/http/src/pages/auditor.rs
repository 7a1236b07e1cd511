//! The auditor's pages: the audit trail and the access log with their filters and CSV exports,
//! and the verification of the audit log. They read through the same use-cases as the API, which
//! refuse every role without `ReadAuditTrail`.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sanad_app::store::AccessLogQuery;
use sanad_domain::audit::AuditEvent;
use sanad_web::i18n::plain;
use sanad_web::views::auditor::{AccessPage, AccessRow, ChainPage, EventRow, Filters, TrailPage};
use sanad_web::{Tr, url_encode};
use serde::Deserialize;
use time::{Date, OffsetDateTime};

use super::{Ctx, render};
use crate::AppState;
use crate::error::ApiError;

/// Rows on a page.
const PAGE: usize = 50;
/// Events read at most to fill one page of a filtered trail (the store reads the trail in order;
/// a filter that matches rarely gives a shorter page and a link to go on).
const SCAN: usize = 20_000;
/// Rows at most in one CSV export.
const CSV_ROWS: usize = 100_000;

#[derive(Deserialize, Default)]
struct Query {
    actor: Option<String>,
    subject: Option<String>,
    kind: Option<String>,
    from: Option<String>,
    to: Option<String>,
    after: Option<i64>,
}

impl Query {
    fn parse(raw: Option<String>) -> Query {
        raw.and_then(|q| serde_urlencoded::from_str(&q).ok())
            .unwrap_or_default()
    }

    fn text(v: &Option<String>) -> String {
        v.as_deref().unwrap_or("").trim().to_string()
    }

    fn filters(&self, action: &str, with_kind: bool) -> Filters {
        Filters {
            action: action.to_string(),
            actor: Query::text(&self.actor),
            subject: Query::text(&self.subject),
            kind: with_kind.then(|| Query::text(&self.kind)),
            from: Query::text(&self.from),
            to: Query::text(&self.to),
        }
    }

    /// The period as a half-open range of instants; a date that does not parse is ignored.
    fn period(&self) -> (Option<OffsetDateTime>, Option<OffsetDateTime>) {
        let date = |v: &Option<String>| {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            v.as_deref()
                .and_then(|d| Date::parse(d.trim(), format).ok())
        };
        let from = date(&self.from).map(|d| d.midnight().assume_utc());
        let to = date(&self.to)
            .and_then(|d| d.next_day())
            .map(|d| d.midnight().assume_utc());
        (from, to)
    }

    /// The query string of these filters, starting after `after`.
    fn link(&self, path: &str, after: Option<i64>) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("actor", &self.actor),
            ("subject", &self.subject),
            ("kind", &self.kind),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            let v = Query::text(v);
            if !v.is_empty() {
                parts.push(format!("{k}={}", url_encode(&v)));
            }
        }
        if let Some(a) = after {
            parts.push(format!("after={a}"));
        }
        if parts.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{}", parts.join("&"))
        }
    }
}

fn in_period(
    at: OffsetDateTime,
    (from, to): (Option<OffsetDateTime>, Option<OffsetDateTime>),
) -> bool {
    from.is_none_or(|f| at >= f) && to.is_none_or(|t| at < t)
}

fn matches(
    event: &AuditEvent,
    q: &Query,
    period: (Option<OffsetDateTime>, Option<OffsetDateTime>),
) -> bool {
    let actor = Query::text(&q.actor);
    let subject = Query::text(&q.subject);
    let kind = Query::text(&q.kind);
    (actor.is_empty() || event.actor.eq_ignore_ascii_case(&actor))
        && (subject.is_empty() || event.entity_id.eq_ignore_ascii_case(&subject))
        && (kind.is_empty() || event.action.starts_with(&kind))
        && in_period(event.at, period)
}

/// The reason of a change and its other facts, from the event's details (compact JSON).
fn reason_and_facts(details: &str) -> (String, String) {
    match serde_json::from_str::<serde_json::Value>(details) {
        Ok(serde_json::Value::Object(map)) => {
            let reason = map
                .get("reason")
                .and_then(|r| r.as_str())
                .unwrap_or("")
                .to_string();
            let facts = map
                .iter()
                .filter(|(k, _)| k.as_str() != "reason")
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => format!("{k}: {s}"),
                    other => format!("{k}: {other}"),
                })
                .collect::<Vec<_>>()
                .join(" · ");
            (reason, facts)
        }
        _ => (String::new(), details.to_string()),
    }
}

fn event_row(t: Tr, e: &AuditEvent) -> EventRow {
    let (reason, facts) = reason_and_facts(&e.details);
    EventRow {
        seq: e.seq,
        at: t.datetime(&e.at),
        actor: e.actor.clone(),
        action: e.action.clone(),
        subject: e.entity_id.clone(),
        reason,
        facts,
        hash: e.hash.chars().take(12).collect(),
        integrated: e.leaf_index.is_some(),
    }
}

/// Reads the trail after `after` until `want` events match or `scan` were read; returns the
/// matches, the last sequence number read and whether the trail goes on.
async fn scan_trail(
    state: &AppState,
    ctx: &Ctx,
    q: &Query,
    want: usize,
    scan: usize,
) -> Result<(Vec<AuditEvent>, i64, bool, usize), ApiError> {
    let period = q.period();
    let mut after = q.after.unwrap_or(0);
    let mut found = Vec::new();
    let mut read = 0usize;
    loop {
        let batch = state.registry.audit_events(&ctx.actor, after, 500).await?;
        let more = batch.len() == 500;
        for e in batch {
            read += 1;
            after = e.seq;
            if matches(&e, q, period) {
                found.push(e);
                if found.len() == want {
                    return Ok((found, after, true, read));
                }
            }
        }
        if !more {
            return Ok((found, after, false, read));
        }
        if read >= scan {
            return Ok((found, after, true, read));
        }
    }
}

/// `GET /audit`: the audit trail.
async fn trail(State(state): State<AppState>, ctx: Ctx, RawQuery(raw): RawQuery) -> Response {
    let q = Query::parse(raw);
    let (events, last, more, read) = match scan_trail(&state, &ctx, &q, PAGE, SCAN).await {
        Ok(r) => r,
        Err(e) => return ctx.error(e),
    };
    let t = ctx.t();
    let view = TrailPage {
        shell: ctx.shell(t.t("auditor-trail-title")),
        t,
        filters: q.filters("/audit", true),
        rows: events.iter().map(|e| event_row(t, e)).collect(),
        next: more.then(|| q.link("/audit", Some(last))),
        csv: q.link("/audit.csv", None),
        scanned: read as i64,
    };
    render(&view)
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

/// `GET /audit.csv`: the filtered trail as CSV.
async fn trail_csv(State(state): State<AppState>, ctx: Ctx, RawQuery(raw): RawQuery) -> Response {
    let mut q = Query::parse(raw);
    q.after = None;
    let (events, _, _, _) = match scan_trail(&state, &ctx, &q, CSV_ROWS, usize::MAX).await {
        Ok(r) => r,
        Err(e) => return ctx.error(e),
    };
    let t = ctx.t();
    let mut rows = vec![
        [
            "auditor-col-seq",
            "auditor-col-at",
            "auditor-col-actor",
            "auditor-col-action",
            "auditor-col-subject",
            "auditor-col-reason",
            "auditor-col-hash",
        ]
        .iter()
        .map(|k| t.t(k))
        .collect::<Vec<_>>(),
    ];
    for e in &events {
        let (reason, _) = reason_and_facts(&e.details);
        rows.push(vec![
            e.seq.to_string(),
            e.at.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            e.actor.clone(),
            e.action.clone(),
            e.entity_id.clone(),
            reason,
            e.hash.clone(),
        ]);
    }
    csv_response("audit.csv", rows)
}

async fn read_access(
    state: &AppState,
    ctx: &Ctx,
    q: &Query,
    want: usize,
) -> Result<(Vec<sanad_app::store::AccessEntry>, i64, bool), ApiError> {
    let period = q.period();
    let mut after = q.after.unwrap_or(0);
    let mut found = Vec::new();
    let actor = Some(Query::text(&q.actor)).filter(|s| !s.is_empty());
    let subject = Some(Query::text(&q.subject)).filter(|s| !s.is_empty());
    loop {
        let batch = state
            .registry
            .access_log(
                &ctx.actor,
                AccessLogQuery {
                    actor: actor.clone(),
                    entity_id: subject.clone(),
                    after,
                    limit: 500,
                },
            )
            .await?;
        let more = batch.len() == 500;
        for e in batch {
            after = e.id;
            if in_period(e.at, period) {
                found.push(e);
                if found.len() == want {
                    return Ok((found, after, true));
                }
            }
        }
        if !more {
            return Ok((found, after, false));
        }
    }
}

/// `GET /audit/access`: the access log.
async fn access(State(state): State<AppState>, ctx: Ctx, RawQuery(raw): RawQuery) -> Response {
    let q = Query::parse(raw);
    let (entries, last, more) = match read_access(&state, &ctx, &q, PAGE).await {
        Ok(r) => r,
        Err(e) => return ctx.error(e),
    };
    let t = ctx.t();
    let view = AccessPage {
        shell: ctx.shell(t.t("auditor-access-title")),
        t,
        filters: q.filters("/audit/access", false),
        rows: entries
            .iter()
            .map(|e| AccessRow {
                at: t.datetime(&e.at),
                actor: e.actor.clone(),
                subject_kind: e.entity_type.clone(),
                subject: e.entity_id.clone(),
                purpose: e.purpose.clone(),
            })
            .collect(),
        next: more.then(|| q.link("/audit/access", Some(last))),
        csv: q.link("/audit/access.csv", None),
    };
    render(&view)
}

/// `GET /audit/access.csv`.
async fn access_csv(State(state): State<AppState>, ctx: Ctx, RawQuery(raw): RawQuery) -> Response {
    let mut q = Query::parse(raw);
    q.after = None;
    let (entries, _, _) = match read_access(&state, &ctx, &q, CSV_ROWS).await {
        Ok(r) => r,
        Err(e) => return ctx.error(e),
    };
    let t = ctx.t();
    let mut rows = vec![
        [
            "auditor-col-at",
            "auditor-col-actor",
            "auditor-col-subject",
            "auditor-col-purpose",
        ]
        .iter()
        .map(|k| t.t(k))
        .collect::<Vec<_>>(),
    ];
    for e in &entries {
        rows.push(vec![
            e.at.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            e.actor.clone(),
            format!("{} {}", e.entity_type, e.entity_id),
            e.purpose.clone(),
        ]);
    }
    csv_response("access-log.csv", rows)
}

/// `GET /audit/chain`: the whole log checked now, as `sanad audit verify` does.
async fn chain(State(state): State<AppState>, ctx: Ctx) -> Response {
    // Reading the trail is what an auditor may do; the check reads it whole.
    if let Err(e) = state.registry.audit_events(&ctx.actor, 0, 1).await {
        return ctx.error(ApiError::from(e));
    }
    let store = state.registry.store().clone();
    let key = state
        .audit_verifier_key
        .as_deref()
        .and_then(|k| sanad_tlog::note::parse_verifier_key(k).ok())
        .map(|(_, key)| key);
    let trusted = match (&key, &state.keyring) {
        (Some(key), Some(keyring)) => {
            match sanad_app::audit::trusted_audit_key_bounds(keyring.as_ref(), key).await {
                Ok(t) => Some(t),
                Err(e) => return ctx.error(ApiError::from(e)),
            }
        }
        (Some(key), None) => Some(vec![(*key, None)]),
        _ => None,
    };
    let v = match sanad_app::audit::verify_bounded(store.as_ref(), trusted.as_deref()).await {
        Ok(v) => v,
        Err(sanad_app::audit::AuditError::Store(e)) => return ctx.error(ApiError::from(e)),
        Err(e) => {
            tracing::error!(error = %e, "audit verification failed to run");
            return ctx.error(ApiError::internal());
        }
    };
    let t = ctx.t();
    let view = ChainPage {
        shell: ctx.shell(t.t("auditor-chain-title")),
        t,
        intact: v.broken.is_none(),
        problem: v.broken.clone(),
        events: v.events as i64,
        tree_size: v.tree_size as i64,
        root: v.root.clone(),
        heads: v.heads as i64,
        chained: v.chained as i64,
        pending: v.pending.count as i64,
        pending_since: v.pending.oldest_at.map(|at| t.datetime(&at)),
        keyed: trusted.is_some(),
        checked_at: t.datetime(&OffsetDateTime::now_utc()),
    };
    render(&view)
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/audit", get(trail))
        .route("/audit.csv", get(trail_csv))
        .route("/audit/access", get(access))
        .route("/audit/access.csv", get(access_csv))
        .route("/audit/chain", get(chain))
}
