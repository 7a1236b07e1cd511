// The requests port, one text for both backends (included by sqlite.rs and postgres.rs).
//
// Times are stored to the whole second, in UTC: on SQLite they are RFC 3339 text, and text of one
// shape sorts as the instants do (the queue orders by deadline, the escalation pass compares).

use sanad_app::requests::{
    Escalation, Move, NewRequest, Rating, RatingRow, RequestDocument, RequestFilter, Routing,
    ServiceRequest, SpanRow, StepVisit, StoredDocument,
};

fn request_time(at: time::OffsetDateTime) -> time::OffsetDateTime {
    let at = at.to_offset(time::UtcOffset::UTC);
    at.replace_nanosecond(0).unwrap_or(at)
}

/// A step visit's times are Unix seconds.
fn unix(at: time::OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

fn from_unix(seconds: i64) -> Result<time::OffsetDateTime, StoreError> {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .map_err(|_| StoreError::Internal(format!("a step visit's time is out of range: {seconds}")))
}

#[derive(sqlx::FromRow)]
struct RequestRow {
    id: i64,
    reference: String,
    kind: String,
    definition_version: i64,
    household_id: Option<i64>,
    region_code: String,
    province_code: String,
    commune_code: String,
    centre: String,
    step: String,
    queue_role: String,
    due_at: Option<time::OffsetDateTime>,
    escalation_level: i64,
    state: String,
    outcome: Option<String>,
    subject: Option<String>,
    category: Option<String>,
    channel: String,
    details: String,
    answer: Option<String>,
    submitted_by: String,
    assisted: bool,
    submitted_at: time::OffsetDateTime,
    updated_at: time::OffsetDateTime,
    closed_at: Option<time::OffsetDateTime>,
    version: i64,
}

const REQUEST_COLUMNS: &str = "h.id, h.reference, h.kind, h.definition_version, h.household_id, \
    h.region_code, h.province_code, h.commune_code, h.centre, h.step, h.queue_role, h.due_at, \
    h.escalation_level, h.state, h.outcome, h.subject, h.category, h.channel, h.details, h.answer, \
    h.submitted_by, h.assisted, h.submitted_at, h.updated_at, h.closed_at, h.version";

impl RequestRow {
    fn into_request(
        self,
        documents: Vec<RequestDocument>,
        rating: Option<Rating>,
    ) -> Result<ServiceRequest, StoreError> {
        Ok(ServiceRequest {
            id: self.id,
            reference: self.reference,
            kind: self.kind,
            definition_version: self.definition_version as u32,
            household_id: self.household_id.map(crate::rows::household_id).transpose()?,
            routing: Routing {
                region_code: self.region_code,
                province_code: self.province_code,
                commune_code: self.commune_code,
                centre: self.centre,
            },
            step: self.step,
            queue_role: self.queue_role,
            due_at: self.due_at,
            escalation_level: self.escalation_level as u32,
            state: self.state,
            outcome: self.outcome,
            subject: self.subject,
            category: self.category,
            channel: self.channel,
            details: self.details,
            answer: self.answer,
            submitted_by: self.submitted_by,
            assisted: self.assisted,
            submitted_at: self.submitted_at,
            updated_at: self.updated_at,
            closed_at: self.closed_at,
            version: self.version as u32,
            documents,
            rating,
        })
    }
}

/// The documents and ratings of some requests, read in two queries.
async fn request_extras(
    pool: &Pool,
    ids: &[i64],
) -> Result<(Vec<(i64, RequestDocument)>, Vec<(i64, Rating)>), StoreError> {
    if ids.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut q = QueryBuilder::<Db>::new(
        "SELECT request_id, sha256, name, media_type, size, step FROM request_documents WHERE request_id IN (",
    );
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(") ORDER BY request_id, name");
    let docs: Vec<(i64, String, String, String, i64, String)> =
        q.build_query_as().fetch_all(pool).await.map_err(db_error)?;
    let mut q = QueryBuilder::<Db>::new(
        "SELECT request_id, rating, comment, rated_at FROM request_ratings WHERE request_id IN (",
    );
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(")");
    let ratings: Vec<(i64, i64, String, time::OffsetDateTime)> =
        q.build_query_as().fetch_all(pool).await.map_err(db_error)?;
    Ok((
        docs.into_iter()
            .map(|(id, sha256, name, media_type, size, step)| {
                (id, RequestDocument { sha256, name, media_type, size, step })
            })
            .collect(),
        ratings
            .into_iter()
            .map(|(id, rating, comment, rated_at)| {
                (id, Rating { rating: rating.clamp(1, 5) as u8, comment, rated_at })
            })
            .collect(),
    ))
}

async fn assemble_requests(pool: &Pool, rows: Vec<RequestRow>) -> Result<Vec<ServiceRequest>, StoreError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let (docs, ratings) = request_extras(pool, &ids).await?;
    rows.into_iter()
        .map(|r| {
            let id = r.id;
            let documents = docs.iter().filter(|(d, _)| *d == id).map(|(_, d)| d.clone()).collect();
            let rating = ratings.iter().find(|(d, _)| *d == id).map(|(_, r)| r.clone());
            r.into_request(documents, rating)
        })
        .collect()
}

async fn store_request_documents(
    tx: &mut Tx,
    request: i64,
    step: &str,
    documents: &[StoredDocument],
) -> Result<(), StoreError> {
    for doc in documents {
        if let Some(content) = &doc.content {
            // Stored once by content, shared with the declarations' documents.
            sqlx::query(
                "INSERT INTO documents (sha256, media_type, size, content) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (sha256) DO NOTHING",
            )
            .bind(&doc.sha256)
            .bind(&doc.media_type)
            .bind(doc.size)
            .bind(content)
            .execute(&mut **tx)
            .await
            .map_err(db_error)?;
        }
        sqlx::query(
            "INSERT INTO request_documents (request_id, sha256, name, media_type, size, step) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (request_id, sha256) DO NOTHING",
        )
        .bind(request)
        .bind(&doc.sha256)
        .bind(&doc.name)
        .bind(&doc.media_type)
        .bind(doc.size)
        .bind(step)
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    }
    Ok(())
}

async fn op_submit_request(
    db: &Ctx,
    r: &NewRequest,
    change: &Change,
) -> Result<ServiceRequest, StoreError> {
    let at = request_time(change.at);
    let due_at = r.due_at.map(request_time);
    let mut tx = begin_write(db).await?;
    let year = at.year();
    // One counter row per family and year: the reference numbers of a year have no gaps.
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO request_counters (prefix, year, next) VALUES ($1, $2, 2) \
         ON CONFLICT (prefix, year) DO UPDATE SET next = request_counters.next + 1 RETURNING next - 1",
    )
    .bind(&r.prefix)
    .bind(i64::from(year))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    let reference = (r.format_reference)(&r.prefix, year, seq as u64);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO service_requests (reference, secret_digest, kind, definition_version, household_id, \
         region_code, province_code, commune_code, centre, step, queue_role, due_at, subject, category, \
         channel, details, submitted_by, assisted, submitted_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19) \
         RETURNING id",
    )
    .bind(&reference)
    .bind(&r.secret_digest)
    .bind(&r.kind)
    .bind(i64::from(r.definition_version))
    .bind(r.household_id.map(serial_h))
    .bind(&r.routing.region_code)
    .bind(&r.routing.province_code)
    .bind(&r.routing.commune_code)
    .bind(&r.routing.centre)
    .bind(&r.step)
    .bind(&r.queue_role)
    .bind(due_at)
    .bind(&r.subject)
    .bind(&r.category)
    .bind(&r.channel)
    .bind(&r.details)
    .bind(&change.actor)
    .bind(r.assisted)
    .bind(at)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    sqlx::query(
        "INSERT INTO request_steps (request_id, seq, step, from_step, action, actor, role, reason, entered_at, due_at) \
         VALUES ($1, 1, $2, NULL, 'submit', $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(&r.step)
    .bind(&change.actor)
    .bind(if r.assisted { "agent" } else { "citizen" })
    .bind(&change.reason)
    .bind(unix(at))
    .bind(due_at.map(unix))
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    store_request_documents(&mut tx, id, &r.step, &r.documents).await?;
    // The citizen's SMS commits with the request, or neither does.
    if let Some(notify) = &r.notify {
        let message = notify
            .received(&reference)
            .map_err(|e| StoreError::Internal(format!("the receipt message: {e}")))?;
        op_enqueue(&mut tx, &db.cipher, &message, at).await?;
    }
    // The trail names the request, its kind, where it is and the documents' fingerprints; never
    // the citizen's own words.
    append_audit(
        &mut tx,
        at,
        vec![AuditEntry {
            actor: change.actor.clone(),
            action: "request.submitted".into(),
            entity_type: "request".into(),
            entity_id: reference.clone(),
            details: serde_json::json!({
                "kind": r.kind,
                "household": r.household_id.map(|h| h.to_string()),
                "step": r.step,
                "centre": r.routing.centre,
                "assisted": r.assisted,
                "documents": r.documents.iter().map(|d| d.sha256.as_str()).collect::<Vec<_>>(),
                "reason": change.reason,
            })
            .to_string(),
        }],
    )
    .await?;
    tx.commit().await.map_err(db_error)?;
    op_request(db, id).await?.ok_or(StoreError::NotFound)
}

async fn op_request(db: &Ctx, id: i64) -> Result<Option<ServiceRequest>, StoreError> {
    let row: Option<RequestRow> =
        sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM service_requests h WHERE h.id = $1"
        )))
            .bind(id)
            .fetch_optional(&db.pool)
            .await
            .map_err(db_error)?;
    match row {
        None => Ok(None),
        Some(row) => Ok(assemble_requests(&db.pool, vec![row]).await?.pop()),
    }
}

async fn op_request_by_reference(db: &Ctx, reference: &str) -> Result<Option<ServiceRequest>, StoreError> {
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM service_requests WHERE reference = $1")
        .bind(reference)
        .fetch_optional(&db.pool)
        .await
        .map_err(db_error)?;
    match id {
        None => Ok(None),
        Some(id) => op_request(db, id).await,
    }
}

async fn op_request_secret(db: &Ctx, reference: &str) -> Result<Option<String>, StoreError> {
    sqlx::query_scalar("SELECT secret_digest FROM service_requests WHERE reference = $1")
        .bind(reference)
        .fetch_optional(&db.pool)
        .await
        .map_err(db_error)
}

async fn op_request_history(db: &Ctx, id: i64) -> Result<Vec<StepVisit>, StoreError> {
    #[allow(clippy::type_complexity)]
    let rows: Vec<(i64, String, Option<String>, String, String, String, String, i64, Option<i64>, Option<i64>)> =
        sqlx::query_as(
            "SELECT seq, step, from_step, action, actor, role, reason, entered_at, due_at, left_at \
             FROM request_steps WHERE request_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&db.pool)
        .await
        .map_err(db_error)?;
    rows.into_iter()
        .map(|(seq, step, from_step, action, actor, role, reason, entered_at, due_at, left_at)| {
            Ok(StepVisit {
                seq: seq as u32,
                step,
                from_step,
                action,
                actor,
                role,
                reason,
                entered_at: from_unix(entered_at)?,
                due_at: due_at.map(from_unix).transpose()?,
                left_at: left_at.map(from_unix).transpose()?,
            })
        })
        .collect()
}

/// The version a request is at now, to tell a conflict from a request that does not exist.
async fn request_conflict(tx: &mut Tx, id: i64, expected: u32) -> StoreError {
    let current: Result<Option<i64>, _> =
        sqlx::query_scalar("SELECT version FROM service_requests WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await;
    match current {
        Ok(Some(v)) => StoreError::VersionConflict { expected, current: v as u32 },
        Ok(None) => StoreError::NotFound,
        Err(e) => db_error(e),
    }
}

async fn op_advance_request(
    db: &Ctx,
    id: i64,
    m: &Move,
    change: &Change,
) -> Result<ServiceRequest, StoreError> {
    let at = request_time(change.at);
    let due_at = m.due_at.map(request_time);
    let closing = m.outcome.is_some();
    let mut tx = begin_write(db).await?;
    // Moves from the step it was read at, at the version it was read at: a second agent acting
    // on the same request at the same time gets a conflict, never a double move.
    let moved = sqlx::query(
        "UPDATE service_requests SET step = $1, queue_role = $2, due_at = $3, escalation_level = 0, \
         state = $4, outcome = $5, answer = COALESCE($6, answer), centre = COALESCE($7, centre), \
         updated_at = $8, closed_at = $9, version = version + 1 \
         WHERE id = $10 AND version = $11 AND step = $12 AND state = $13",
    )
    .bind(&m.to_step)
    .bind(&m.queue_role)
    .bind(due_at)
    .bind(if closing { "closed" } else { "open" })
    .bind(&m.outcome)
    .bind(&m.answer)
    .bind(&m.centre)
    .bind(at)
    .bind(if closing { Some(at) } else { None })
    .bind(id)
    .bind(i64::from(m.expected_version))
    .bind(&m.from_step)
    .bind(if m.reopen { "closed" } else { "open" })
    .execute(&mut *tx)
    .await
    .map_err(db_error)?
    .rows_affected();
    if moved == 0 {
        return Err(request_conflict(&mut tx, id, m.expected_version).await);
    }
    sqlx::query("UPDATE request_steps SET left_at = $1 WHERE request_id = $2 AND left_at IS NULL")
        .bind(unix(at))
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    // A final step is reached and left at once: it is where the request ended, not a queue.
    sqlx::query(
        "INSERT INTO request_steps (request_id, seq, step, from_step, action, actor, role, reason, entered_at, due_at, left_at) \
         SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM request_steps WHERE request_id = $1",
    )
    .bind(id)
    .bind(&m.to_step)
    .bind(&m.from_step)
    .bind(&m.action)
    .bind(&change.actor)
    .bind(&m.role)
    .bind(&change.reason)
    .bind(unix(at))
    .bind(due_at.map(unix))
    .bind(if closing { Some(unix(at)) } else { None })
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    store_request_documents(&mut tx, id, &m.to_step, &m.documents).await?;
    if let Some(message) = &m.notify {
        op_enqueue(&mut tx, &db.cipher, message, at).await?;
    }
    // The card or attestation of the step reached commits with the move, or neither does.
    if let Some(certificate) = &m.certificate {
        op_insert_certificate(&mut tx, certificate, Some(id), change).await?;
    }
    let reference: String = sqlx::query_scalar("SELECT reference FROM service_requests WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
    append_audit(
        &mut tx,
        at,
        vec![AuditEntry {
            actor: change.actor.clone(),
            action: if m.reopen { "request.reopened" } else { "request.moved" }.into(),
            entity_type: "request".into(),
            entity_id: reference,
            details: serde_json::json!({
                "from": m.from_step,
                "to": m.to_step,
                "action": m.action,
                "role": m.role,
                "outcome": m.outcome,
                "documents": m.documents.iter().map(|d| d.sha256.as_str()).collect::<Vec<_>>(),
                "reason": change.reason,
                "facts": m.details,
            })
            .to_string(),
        }],
    )
    .await?;
    tx.commit().await.map_err(db_error)?;
    op_request(db, id).await?.ok_or(StoreError::NotFound)
}

async fn op_escalate_requests(
    db: &Ctx,
    late: &[Escalation],
    change: &Change,
) -> Result<u64, StoreError> {
    if late.is_empty() {
        return Ok(0);
    }
    let at = request_time(change.at);
    let mut tx = begin_write(db).await?;
    let mut done = 0;
    let mut events = Vec::new();
    for e in late {
        let reference: Option<String> = sqlx::query_scalar(
            "UPDATE service_requests SET queue_role = $1, escalation_level = $2, updated_at = $3, \
             version = version + 1 WHERE id = $4 AND version = $5 AND state = 'open' RETURNING reference",
        )
        .bind(&e.to_role)
        .bind(i64::from(e.level))
        .bind(at)
        .bind(e.request_id)
        .bind(i64::from(e.expected_version))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        if let Some(reference) = reference {
            done += 1;
            events.push(AuditEntry {
                actor: change.actor.clone(),
                action: "request.escalated".into(),
                entity_type: "request".into(),
                entity_id: reference,
                details: serde_json::json!({
                    "level": e.level,
                    "to_role": e.to_role,
                    "reason": change.reason,
                })
                .to_string(),
            });
        }
    }
    append_audit(&mut tx, at, events).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(done)
}

async fn op_list_requests(db: &Ctx, f: &RequestFilter) -> Result<Vec<ServiceRequest>, StoreError> {
    let mut q = QueryBuilder::<Db>::new(format!(
        "SELECT {REQUEST_COLUMNS} FROM service_requests h WHERE 1 = 1"
    ));
    if let Some(household) = f.household_id {
        q.push(" AND h.household_id = ").push_bind(serial_h(household));
    }
    push_territories(&mut q, &f.territories)?;
    if let Some(centre) = &f.centre {
        q.push(" AND h.centre = ").push_bind(centre.clone());
    }
    if !f.queue_roles.is_empty() {
        q.push(" AND h.queue_role IN (");
        let mut list = q.separated(", ");
        for role in &f.queue_roles {
            list.push_bind(role.clone());
        }
        q.push(")");
    }
    if !f.kinds.is_empty() {
        q.push(" AND h.kind IN (");
        let mut list = q.separated(", ");
        for kind in &f.kinds {
            list.push_bind(kind.clone());
        }
        q.push(")");
    }
    if !f.hidden_categories.is_empty() {
        q.push(" AND (h.category IS NULL OR h.category NOT IN (");
        let mut list = q.separated(", ");
        for category in &f.hidden_categories {
            list.push_bind(category.clone());
        }
        q.push("))");
    }
    if let Some(state) = &f.state {
        q.push(" AND h.state = ").push_bind(state.clone());
    }
    if let Some(at) = f.overdue_at {
        q.push(" AND h.state = 'open' AND h.due_at < ").push_bind(request_time(at));
    }
    q.push(
        " ORDER BY CASE WHEN h.due_at IS NULL THEN 1 ELSE 0 END, h.due_at, h.id LIMIT ",
    )
    .push_bind(i64::from(f.limit.clamp(1, 1000)));
    let rows: Vec<RequestRow> = q.build_query_as().fetch_all(&db.pool).await.map_err(db_error)?;
    assemble_requests(&db.pool, rows).await
}

// SQLite reads them on its batch reader instead (`crate::sqlite_requests`), the same query.
#[allow(dead_code)]
async fn op_request_spans(
    db: &Ctx,
    territories: &[String],
    kinds: &[String],
) -> Result<Vec<SpanRow>, StoreError> {
    // `+h.id`: the requests of the territory are found first (by their territory index), then
    // their visits by the visits' key, not every visit of the country checked against the filter.
    let mut q = QueryBuilder::<Db>::new(
        "SELECT h.kind, s.step, h.centre, h.commune_code, s.entered_at, s.left_at, s.due_at \
         FROM service_requests h JOIN request_steps s ON s.request_id = +h.id WHERE 1 = 1",
    );
    push_territories(&mut q, territories)?;
    if !kinds.is_empty() {
        q.push(" AND h.kind IN (");
        let mut list = q.separated(", ");
        for kind in kinds {
            list.push_bind(kind.clone());
        }
        q.push(")");
    }
    #[allow(clippy::type_complexity)]
    let rows: Vec<(String, String, String, String, i64, Option<i64>, Option<i64>)> =
        q.build_query_as().fetch_all(&db.pool).await.map_err(db_error)?;
    rows.into_iter()
        .map(|(kind, step, centre, commune_code, entered_at, left_at, due_at)| {
            Ok(SpanRow {
                kind,
                step,
                centre,
                commune_code,
                entered_at: from_unix(entered_at)?,
                left_at: left_at.map(from_unix).transpose()?,
                due_at: due_at.map(from_unix).transpose()?,
            })
        })
        .collect()
}

async fn op_rate_request(db: &Ctx, id: i64, rating: &Rating, change: &Change) -> Result<(), StoreError> {
    let at = request_time(change.at);
    let mut tx = begin_write(db).await?;
    let reference: Option<(String, String)> =
        sqlx::query_as("SELECT reference, state FROM service_requests WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
    let (reference, state) = reference.ok_or(StoreError::NotFound)?;
    if state != "closed" {
        return Err(StoreError::Conflict {
            field: "rating".into(),
            code: "still_open",
            message: "a request that is closed".into(),
        });
    }
    let inserted = sqlx::query(
        "INSERT INTO request_ratings (request_id, rating, comment, rated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (request_id) DO NOTHING",
    )
    .bind(id)
    .bind(i64::from(rating.rating))
    .bind(&rating.comment)
    .bind(at)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?
    .rows_affected();
    if inserted == 0 {
        return Err(StoreError::Conflict {
            field: "rating".into(),
            code: "already_rated",
            message: "one rating per request".into(),
        });
    }
    // The rating itself is aggregate data; the comment stays out of the trail.
    append_audit(
        &mut tx,
        at,
        vec![AuditEntry {
            actor: change.actor.clone(),
            action: "request.rated".into(),
            entity_type: "request".into(),
            entity_id: reference,
            details: serde_json::json!({ "rating": rating.rating }).to_string(),
        }],
    )
    .await?;
    tx.commit().await.map_err(db_error)?;
    Ok(())
}

async fn op_request_ratings(db: &Ctx, territories: &[String]) -> Result<Vec<RatingRow>, StoreError> {
    let mut q = QueryBuilder::<Db>::new(
        "SELECT h.kind, h.centre, h.commune_code, COUNT(*), CAST(SUM(r.rating) AS BIGINT) \
         FROM request_ratings r JOIN service_requests h ON h.id = r.request_id WHERE 1 = 1",
    );
    push_territories(&mut q, territories)?;
    q.push(" GROUP BY h.kind, h.centre, h.commune_code ORDER BY h.kind, h.centre, h.commune_code");
    let rows: Vec<(String, String, String, i64, i64)> =
        q.build_query_as().fetch_all(&db.pool).await.map_err(db_error)?;
    Ok(rows
        .into_iter()
        .map(|(kind, centre, commune_code, count, sum)| RatingRow {
            kind,
            centre,
            commune_code,
            count: count.max(0) as u64,
            sum: sum.max(0) as u64,
        })
        .collect())
}

macro_rules! request_store {
    ($store:ty) => {
        #[async_trait]
        impl sanad_app::requests::RequestStore for $store {
            async fn submit(&self, r: &NewRequest, change: &Change) -> Result<ServiceRequest, StoreError> {
                op_submit_request(&self.ctx, r, change).await
            }

            async fn request(&self, id: i64) -> Result<Option<ServiceRequest>, StoreError> {
                op_request(&self.ctx, id).await
            }

            async fn by_reference(&self, reference: &str) -> Result<Option<ServiceRequest>, StoreError> {
                op_request_by_reference(&self.ctx, reference).await
            }

            async fn secret_digest(&self, reference: &str) -> Result<Option<String>, StoreError> {
                op_request_secret(&self.ctx, reference).await
            }

            async fn history(&self, id: i64) -> Result<Vec<StepVisit>, StoreError> {
                op_request_history(&self.ctx, id).await
            }

            async fn advance(&self, id: i64, m: &Move, change: &Change) -> Result<ServiceRequest, StoreError> {
                op_advance_request(&self.ctx, id, m, change).await
            }

            async fn escalate(&self, late: &[Escalation], change: &Change) -> Result<u64, StoreError> {
                op_escalate_requests(&self.ctx, late, change).await
            }

            async fn requests(&self, filter: &RequestFilter) -> Result<Vec<ServiceRequest>, StoreError> {
                op_list_requests(&self.ctx, filter).await
            }

            async fn spans(&self, territories: &[String], kinds: &[String]) -> Result<Vec<SpanRow>, StoreError> {
                self.spans_impl(territories, kinds).await
            }

            async fn rate(&self, id: i64, rating: &Rating, change: &Change) -> Result<(), StoreError> {
                op_rate_request(&self.ctx, id, rating, change).await
            }

            async fn ratings(&self, territories: &[String]) -> Result<Vec<RatingRow>, StoreError> {
                op_request_ratings(&self.ctx, territories).await
            }

            async fn request_document(&self, sha256: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
                op_document(&self.ctx, sha256).await
            }
        }
    };
}
