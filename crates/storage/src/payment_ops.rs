// Cycles, payments and adhesions on both backends (the `PaymentStore` port). `include!`d into the
// `sqlite` and `postgres` modules after `targeting_ops.rs`. Bulk rows travel as one JSON array
// per statement (`json_rows`, per dialect): one bound parameter instead of one per value, which
// keeps a batch of ten thousand rows a single round trip on both backends.

use sanad_app::payments::{
    Adhesion, AdhesionAnswerRecord, AdhesionBatch, AdhesionState, AdhesionUpdate, Batch,
    BatchState, Cycle, CycleInput, CycleState, Entitlement, EntitlementFilter, MeansRecord,
    NewCycle, NewReconciliation, Payment, PaymentCheck, PaymentFilter, PaymentState,
    PaymentStore, PaymentUpdate, Reconciliation, end_to_end_id, payment_entry,
};

fn conflict(field: &str, code: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Conflict {
        field: field.into(),
        code,
        message: message.into(),
    }
}

fn count_u64(what: &str, v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| crate::rows::corrupt(what, v))
}

#[derive(sqlx::FromRow)]
struct CycleRow {
    id: i64,
    programme_code: String,
    programme_version: i64,
    period: String,
    period_start: time::Date,
    state: String,
    budget_cap: Option<i64>,
    prepared_by: String,
    prepared_at: time::OffsetDateTime,
    approved_by: Option<String>,
    approved_at: Option<time::OffsetDateTime>,
    last_household: Option<i64>,
    entitlements: i64,
    total: i64,
    skipped: i64,
}

const CYCLE_COLUMNS: &str = "id, programme_code, programme_version, period, period_start, state, \
     budget_cap, prepared_by, prepared_at, approved_by, approved_at, last_household, entitlements, \
     total, skipped";

impl CycleRow {
    fn into_cycle(self) -> Result<Cycle, StoreError> {
        Ok(Cycle {
            id: self.id,
            programme_version: version_u32("programme version", self.programme_version)?,
            programme_code: self.programme_code,
            period: self.period,
            period_start: self.period_start,
            state: crate::rows::vocab("cycle state", &self.state, CycleState::parse)?,
            budget_cap: self.budget_cap,
            prepared_by: self.prepared_by,
            prepared_at: self.prepared_at,
            approved_by: self.approved_by,
            approved_at: self.approved_at,
            last_household: self
                .last_household
                .map(crate::rows::household_id)
                .transpose()?,
            entitlements: count_u64("entitlements", self.entitlements)?,
            total: self.total,
            skipped: count_u64("skipped", self.skipped)?,
        })
    }
}

async fn cycle_in(tx: &mut Tx, id: i64) -> Result<Cycle, StoreError> {
    let sql = format!("SELECT {CYCLE_COLUMNS} FROM cycles WHERE id = $1");
    let row: Option<CycleRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_error)?;
    row.ok_or(StoreError::NotFound)?.into_cycle()
}

#[derive(sqlx::FromRow)]
struct BatchRow {
    id: i64,
    cycle_id: i64,
    kind: String,
    state: String,
    payments: i64,
    total: i64,
    created_by: String,
    created_at: time::OffsetDateTime,
    exported_at: Option<time::OffsetDateTime>,
    file_sha256: Option<String>,
}

const BATCH_COLUMNS: &str =
    "id, cycle_id, kind, state, payments, total, created_by, created_at, exported_at, file_sha256";

impl BatchRow {
    fn into_batch(self) -> Result<Batch, StoreError> {
        Ok(Batch {
            id: self.id,
            cycle_id: self.cycle_id,
            kind: self.kind,
            state: crate::rows::vocab("batch state", &self.state, BatchState::parse)?,
            payments: count_u64("payments", self.payments)?,
            total: self.total,
            created_by: self.created_by,
            created_at: self.created_at,
            exported_at: self.exported_at,
            file_sha256: self.file_sha256,
        })
    }
}

#[derive(sqlx::FromRow)]
struct PaymentRow {
    id: i64,
    cycle_id: i64,
    household_id: i64,
    person_id: i64,
    batch_id: i64,
    attempt: i64,
    amount: i64,
    kind: String,
    means: String,
    holder: String,
    reference: String,
    state: String,
    reason_code: String,
    reason: String,
    booked_on: Option<time::Date>,
}

const PAYMENT_COLUMNS: &str = "p.id, p.cycle_id, p.household_id, p.person_id, p.batch_id, \
     p.attempt, p.amount, p.kind, p.means, p.holder, p.reference, p.state, p.reason_code, p.reason, \
     p.booked_on";

impl PaymentRow {
    fn into_payment(self) -> Result<Payment, StoreError> {
        Ok(Payment {
            id: self.id,
            end_to_end_id: end_to_end_id(self.id),
            cycle_id: self.cycle_id,
            household_id: crate::rows::household_id(self.household_id)?,
            person_id: person_of_key(self.person_id)?,
            batch_id: self.batch_id,
            attempt: version_u32("attempt", self.attempt)?,
            amount: self.amount,
            kind: self.kind,
            means: self.means,
            holder: self.holder,
            reference: self.reference,
            state: crate::rows::vocab("payment state", &self.state, PaymentState::parse)?,
            reason_code: self.reason_code,
            reason: self.reason,
            booked_on: self.booked_on,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ReconciliationRow {
    id: i64,
    file_sha256: String,
    file_name: String,
    format: String,
    lines: i64,
    paid: i64,
    failed: i64,
    reversed: i64,
    unchanged: i64,
    imported_by: String,
    imported_at: time::OffsetDateTime,
}

impl ReconciliationRow {
    fn into_record(self) -> Result<Reconciliation, StoreError> {
        Ok(Reconciliation {
            id: self.id,
            file_sha256: self.file_sha256,
            file_name: self.file_name,
            format: self.format,
            lines: count_u64("lines", self.lines)?,
            paid: count_u64("paid", self.paid)?,
            failed: count_u64("failed", self.failed)?,
            reversed: count_u64("reversed", self.reversed)?,
            unchanged: count_u64("unchanged", self.unchanged)?,
            imported_by: self.imported_by,
            imported_at: self.imported_at,
        })
    }
}

const RECONCILIATION_COLUMNS: &str = "id, file_sha256, file_name, format, lines, paid, failed, \
     reversed, unchanged, imported_by, imported_at";

async fn op_set_payment_means(db: &Ctx, m: &MeansRecord, change: &Change) -> Result<(), StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let mut tx = begin_write(db).await?;
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM households WHERE id = $1")
        .bind(serial_h(m.household_id))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
    if exists.is_none() {
        return Err(StoreError::NotFound);
    }
    sqlx::query(
        "INSERT INTO payment_means (household_id, kind, details, holder, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (household_id) DO UPDATE SET \
         kind = excluded.kind, details = excluded.details, holder = excluded.holder, \
         updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(serial_h(m.household_id))
    .bind(&m.kind)
    .bind(&m.details)
    .bind(&m.holder)
    .bind(&change.actor)
    .bind(at)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    // The account number itself stays out of the log: its digest says which one was recorded.
    let entry = payment_entry(
        &change.actor,
        "payment_means.set",
        "household",
        m.household_id.to_string(),
        serde_json::json!({
            "kind": m.kind,
            "reason": change.reason,
            "details_sha256": sanad_app::targeting::sha256_hex(m.details.as_bytes()),
        }),
    );
    append_audit(&mut tx, at, vec![entry]).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(())
}

async fn op_import_payment_means(
    db: &Ctx,
    rows: &[MeansRecord],
    change: &Change,
) -> Result<u64, StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let mut tx = begin_write(db).await?;
    let mut written = 0u64;
    let mut digest = String::new();
    for chunk in rows.chunks(JSON_ROWS_PER_STATEMENT) {
        let json: Vec<serde_json::Value> = chunk
            .iter()
            .map(|m| serde_json::json!([serial_h(m.household_id), m.kind, m.details, m.holder]))
            .collect();
        let source = json_rows(&[
            ("household_id", "BIGINT"),
            ("kind", "TEXT"),
            ("details", "TEXT"),
            ("holder", "TEXT"),
        ]);
        let missing: Option<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT j.household_id FROM {source} LEFT JOIN households h ON h.id = j.household_id \
             WHERE h.id IS NULL LIMIT 1"
        )))
        .bind(serde_json::Value::Array(json.clone()).to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        if let Some(h) = missing {
            return Err(conflict(
                "household_id",
                "unknown_household",
                format!(
                    "a household of the registry: {} does not exist (nothing was recorded)",
                    crate::rows::household_id(h)?
                ),
            ));
        }
        let sql = format!(
            "INSERT INTO payment_means (household_id, kind, details, holder, updated_by, updated_at) \
             SELECT household_id, kind, details, holder, $2, $3 FROM {source} WHERE TRUE \
             ON CONFLICT (household_id) DO UPDATE SET kind = excluded.kind, details = excluded.details, \
             holder = excluded.holder, updated_by = excluded.updated_by, updated_at = excluded.updated_at"
        );
        written += sqlx::query(AssertSqlSafe(sql))
            .bind(serde_json::Value::Array(json).to_string())
            .bind(&change.actor)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?
            .rows_affected();
        for m in chunk {
            digest.push_str(&format!("{}\t{}\t{}\n", m.household_id, m.kind, m.details));
        }
    }
    let entry = payment_entry(
        &change.actor,
        "payment_means.import",
        "payment_means_batch",
        String::new(),
        serde_json::json!({
            "count": rows.len(),
            "reason": change.reason,
            "sha256": sanad_app::targeting::sha256_hex(digest.as_bytes()),
        }),
    );
    append_audit(&mut tx, at, vec![entry]).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(written)
}

async fn op_payment_means(db: &Ctx, household: HouseholdId) -> Result<Option<MeansRecord>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        kind: String,
        details: String,
        holder: String,
        updated_by: String,
        updated_at: time::OffsetDateTime,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT kind, details, holder, updated_by, updated_at FROM payment_means WHERE household_id = $1",
    )
    .bind(serial_h(household))
    .fetch_optional(&db.pool)
    .await
    .map_err(db_error)?;
    Ok(row.map(|r| MeansRecord {
        household_id: household,
        kind: r.kind,
        details: r.details,
        holder: r.holder,
        updated_by: r.updated_by,
        updated_at: r.updated_at,
    }))
}

#[allow(dead_code)] // On SQLite, `sqlite_payments` takes this path (see the `*_impl` methods).
async fn op_cycle_inputs(
    db: &Ctx,
    programme_code: &str,
    after: Option<HouseholdId>,
    upto: HouseholdId,
) -> Result<Vec<CycleInput>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        household_id: i64,
        person_id: i64,
        version: i64,
        pmt_index: Option<f64>,
        scored_version: Option<i64>,
    }
    let after = after.map(serial_h).unwrap_or(0);
    let last = serial_h(upto);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT e.household_id, e.person_id, h.version, s.pmt_index, s.household_version AS scored_version \
         FROM enrolments e JOIN households h ON h.id = e.household_id \
         LEFT JOIN household_scores s ON s.household_id = e.household_id \
         WHERE e.programme_code = $1 AND e.state = 'enrolled' AND e.household_id > $2 \
         AND e.household_id <= $3 ORDER BY e.household_id, e.person_id",
    )
    .bind(programme_code)
    .bind(after)
    .bind(last)
    .fetch_all(&db.pool)
    .await
    .map_err(db_error)?;
    rows.into_iter()
        .map(|r| {
            Ok(CycleInput {
                household_id: crate::rows::household_id(r.household_id)?,
                person_id: person_of_key(r.person_id)?,
                household_version: version_u32("household version", r.version)?,
                index: match (r.pmt_index, r.scored_version) {
                    (Some(i), Some(v)) => Some((i, version_u32("scored version", v)?)),
                    _ => None,
                },
            })
        })
        .collect()
}

async fn op_start_cycle(db: &Ctx, c: &NewCycle, change: &Change) -> Result<Cycle, StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let mut tx = begin_write(db).await?;
    let existing: Option<i64> =
        sqlx::query_scalar("SELECT id FROM cycles WHERE programme_code = $1 AND period = $2")
            .bind(&c.programme_code)
            .bind(&c.period)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
    if let Some(id) = existing {
        let cycle = cycle_in(&mut tx, id).await?;
        if cycle.state == CycleState::Computing
            && cycle.programme_version == c.programme_version
            && cycle.budget_cap == c.budget_cap
        {
            return Ok(cycle);
        }
        return Err(conflict(
            "period",
            "cycle_exists",
            format!(
                "a period without a cycle: cycle {} of {} for {} is already {}",
                cycle.id,
                c.programme_code,
                c.period,
                cycle.state.as_str()
            ),
        ));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO cycles (programme_code, programme_version, period, period_start, state, \
         budget_cap, prepared_by, prepared_at) VALUES ($1, $2, $3, $4, 'computing', $5, $6, $7) \
         RETURNING id",
    )
    .bind(&c.programme_code)
    .bind(i64::from(c.programme_version))
    .bind(&c.period)
    .bind(c.period_start)
    .bind(c.budget_cap)
    .bind(&change.actor)
    .bind(at)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    let entry = payment_entry(
        &change.actor,
        "cycle.start",
        "cycle",
        id.to_string(),
        serde_json::json!({
            "programme": c.programme_code,
            "programme_version": c.programme_version,
            "period": c.period,
            "budget_cap": c.budget_cap,
            "reason": change.reason,
        }),
    );
    append_audit(&mut tx, at, vec![entry]).await?;
    let cycle = cycle_in(&mut tx, id).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(cycle)
}

#[allow(dead_code)] // On SQLite, `sqlite_payments` takes this path (see the `*_impl` methods).
async fn op_finish_cycle(db: &Ctx, cycle: i64, change: &Change) -> Result<Cycle, StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let mut tx = begin_write(db).await?;
    let c = cycle_in(&mut tx, cycle).await?;
    if c.state != CycleState::Computing {
        return Ok(c);
    }
    let (count, total): (i64, Option<i64>) =
        sqlx::query_as("SELECT COUNT(*), CAST(SUM(amount) AS BIGINT) FROM entitlements WHERE cycle_id = $1")
            .bind(cycle)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
    let total = total.unwrap_or(0);
    if let Some(cap) = c.budget_cap
        && total > cap
    {
        return Err(conflict(
            "budget_cap",
            "over_budget",
            format!(
                "a total within the cap of {} MAD: the cycle comes to {} MAD, {} MAD over",
                sanad_app::payments::mad(cap),
                sanad_app::payments::mad(total),
                sanad_app::payments::mad(total - cap)
            ),
        ));
    }
    // The digest of every entitlement, in key order: a row forged later does not match the log.
    let digest = entitlements_digest(&mut tx, cycle).await?;
    sqlx::query("UPDATE cycles SET state = 'computed', entitlements = $2, total = $3 WHERE id = $1")
        .bind(cycle)
        .bind(count)
        .bind(total)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    let entry = payment_entry(
        &change.actor,
        "cycle.compute",
        "cycle",
        cycle.to_string(),
        serde_json::json!({
            "entitlements": count,
            "total": total,
            "skipped": c.skipped,
            "sha256": digest,
        }),
    );
    append_audit(&mut tx, at, vec![entry]).await?;
    let c = cycle_in(&mut tx, cycle).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(c)
}

/// SHA-256 over the entitlements of a cycle, one line each (`household person version amount`)
/// in key order, worked out by the server (PostgreSQL only: on SQLite, `sqlite_payments` hashes
/// the rows as it reads them): millions of rows need not cross the connection.
#[allow(dead_code)] // On SQLite, `sqlite_payments` takes this path (see the `*_impl` methods).
async fn entitlements_digest(tx: &mut Tx, cycle: i64) -> Result<String, StoreError> {
    sqlx::query_scalar(
        "SELECT encode(sha256(convert_to(COALESCE(string_agg(household_id::text || E'\\t' || \
         person_id::text || E'\\t' || household_version::text || E'\\t' || amount::text || E'\\n', '' \
         ORDER BY household_id, person_id), ''), 'UTF8')), 'hex') FROM entitlements WHERE cycle_id = $1",
    )
    .bind(cycle)
    .fetch_one(&mut **tx)
    .await
    .map_err(db_error)
}

async fn op_approve_cycle(db: &Ctx, cycle: i64, change: &Change) -> Result<Cycle, StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let mut tx = begin_write(db).await?;
    let c = cycle_in(&mut tx, cycle).await?;
    match c.state {
        CycleState::Computed => {}
        CycleState::Approved if c.approved_by.as_deref() == Some(change.actor.as_str()) => {
            return Ok(c);
        }
        other => {
            return Err(conflict(
                "cycle",
                "cycle_not_computed",
                format!(
                    "a computed cycle waiting for approval: cycle {cycle} is {}",
                    other.as_str()
                ),
            ));
        }
    }
    if c.prepared_by == change.actor {
        return Err(conflict(
            "approved_by",
            "same_manager",
            format!(
                "a second manager: {} prepared cycle {cycle} and cannot approve it too",
                change.actor
            ),
        ));
    }
    sqlx::query(
        "UPDATE cycles SET state = 'approved', approved_by = $2, approved_at = $3 \
         WHERE id = $1 AND state = 'computed'",
    )
    .bind(cycle)
    .bind(&change.actor)
    .bind(at)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let entry = payment_entry(
        &change.actor,
        "cycle.approve",
        "cycle",
        cycle.to_string(),
        serde_json::json!({
            "entitlements": c.entitlements,
            "total": c.total,
            "prepared_by": c.prepared_by,
            "reason": change.reason,
        }),
    );
    append_audit(&mut tx, at, vec![entry]).await?;
    let c = cycle_in(&mut tx, cycle).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(c)
}

async fn op_cancel_cycle(db: &Ctx, cycle: i64, change: &Change) -> Result<Cycle, StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let mut tx = begin_write(db).await?;
    let c = cycle_in(&mut tx, cycle).await?;
    match c.state {
        CycleState::Computing | CycleState::Computed => {}
        CycleState::Cancelled => return Ok(c),
        CycleState::Approved => {
            return Err(conflict(
                "cycle",
                "cycle_approved",
                format!("a cycle not yet approved: cycle {cycle} is approved"),
            ));
        }
    }
    sqlx::query("UPDATE cycles SET state = 'cancelled' WHERE id = $1")
        .bind(cycle)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    let entry = payment_entry(
        &change.actor,
        "cycle.cancel",
        "cycle",
        cycle.to_string(),
        serde_json::json!({ "reason": change.reason }),
    );
    append_audit(&mut tx, at, vec![entry]).await?;
    let c = cycle_in(&mut tx, cycle).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(c)
}

async fn op_cycle(db: &Ctx, id: i64) -> Result<Option<Cycle>, StoreError> {
    let sql = format!("SELECT {CYCLE_COLUMNS} FROM cycles WHERE id = $1");
    let row: Option<CycleRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&db.pool)
        .await
        .map_err(db_error)?;
    row.map(CycleRow::into_cycle).transpose()
}

async fn op_cycles(db: &Ctx, programme_code: Option<&str>) -> Result<Vec<Cycle>, StoreError> {
    let sql = format!(
        "SELECT {CYCLE_COLUMNS} FROM cycles WHERE ($1 IS NULL OR programme_code = $1) ORDER BY id"
    );
    let rows: Vec<CycleRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(programme_code)
        .fetch_all(&db.pool)
        .await
        .map_err(db_error)?;
    rows.into_iter().map(CycleRow::into_cycle).collect()
}

async fn op_entitlements(db: &Ctx, f: &EntitlementFilter) -> Result<Vec<Entitlement>, StoreError> {
    let mut q = QueryBuilder::<Db>::new(
        "SELECT household_id, person_id, household_version, pmt_index, amount FROM entitlements \
         WHERE cycle_id = ",
    );
    q.push_bind(f.cycle_id);
    if let Some(h) = f.household_id {
        q.push(" AND household_id = ").push_bind(serial_h(h));
    }
    if let Some((h, p)) = f.after {
        q.push(" AND (household_id > ")
            .push_bind(serial_h(h))
            .push(" OR (household_id = ")
            .push_bind(serial_h(h))
            .push(" AND person_id > ")
            .push_bind(person_key(p))
            .push("))");
    }
    q.push(" ORDER BY household_id, person_id LIMIT ")
        .push_bind(i64::from(f.limit.max(1)));
    let rows: Vec<(i64, i64, i64, Option<f64>, i64)> = q
        .build_query_as()
        .fetch_all(&db.pool)
        .await
        .map_err(db_error)?;
    rows.into_iter()
        .map(|(h, p, v, index, amount)| {
            Ok(Entitlement {
                cycle_id: f.cycle_id,
                household_id: crate::rows::household_id(h)?,
                person_id: person_of_key(p)?,
                household_version: version_u32("household version", v)?,
                index,
                amount,
            })
        })
        .collect()
}

async fn batch_in(tx: &mut Tx, id: i64) -> Result<Batch, StoreError> {
    let sql = format!("SELECT {BATCH_COLUMNS} FROM payment_batches WHERE id = $1");
    let row: Option<BatchRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_error)?;
    row.ok_or(StoreError::NotFound)?.into_batch()
}

#[allow(dead_code)] // On SQLite, `sqlite_payments` takes this path (see the `*_impl` methods).
async fn op_open_batch(
    db: &Ctx,
    cycle: i64,
    kind: &str,
    change: &Change,
) -> Result<Option<Batch>, StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let mut tx = begin_write(db).await?;
    let c = cycle_in(&mut tx, cycle).await?;
    if c.state != CycleState::Approved {
        return Err(conflict(
            "cycle",
            "cycle_not_approved",
            format!(
                "an approved cycle: cycle {cycle} is {} (a second manager approves it before any file leaves)",
                c.state.as_str()
            ),
        ));
    }
    let open: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM payment_batches WHERE cycle_id = $1 AND kind = $2 AND state = 'open'",
    )
    .bind(cycle)
    .bind(kind)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    if let Some(id) = open {
        return batch_in(&mut tx, id).await.map(Some);
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO payment_batches (cycle_id, kind, state, created_by, created_at) \
         VALUES ($1, $2, 'open', $3, $4) RETURNING id",
    )
    .bind(cycle)
    .bind(kind)
    .bind(&change.actor)
    .bind(at)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    // Owed: no live attempt (pending, sent or paid). The attempt number follows the failed or
    // reversed ones; the unique index on live attempts refuses a second one whatever happens.
    // The first batch of a cycle (no attempt of it yet, in this transaction) owes every
    // entitlement as attempt 1, without looking up the attempts of each.
    let first: bool =
        sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM payments WHERE cycle_id = $1)")
            .bind(cycle)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
    let (attempt, owed) = if first {
        ("1", "")
    } else {
        (crate::rows::NEXT_ATTEMPT, crate::rows::WITHOUT_LIVE_ATTEMPT)
    };
    let sql = format!(
        "INSERT INTO payments (cycle_id, household_id, person_id, batch_id, attempt, amount, kind, \
         means, holder, reference, state) \
         SELECT e.cycle_id, e.household_id, e.person_id, $2, {attempt}, \
         e.amount, m.kind, m.details, m.holder, {RANDOM_CODE}, 'pending' \
         FROM entitlements e JOIN payment_means m ON m.household_id = e.household_id \
         WHERE e.cycle_id = $1 AND m.kind = $3 AND e.amount > 0 {owed} \
         ORDER BY e.household_id, e.person_id"
    );
    let added = sqlx::query(AssertSqlSafe(sql))
        .bind(cycle)
        .bind(id)
        .bind(kind)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
    if added == 0 {
        // Nothing owed by this means: no empty batch is kept.
        drop(tx);
        return Ok(None);
    }
    let (count, total): (i64, Option<i64>) =
        sqlx::query_as("SELECT COUNT(*), CAST(SUM(amount) AS BIGINT) FROM payments WHERE batch_id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
    sqlx::query("UPDATE payment_batches SET payments = $2, total = $3 WHERE id = $1")
        .bind(id)
        .bind(count)
        .bind(total.unwrap_or(0))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    let entry = payment_entry(
        &change.actor,
        "batch.open",
        "payment_batch",
        id.to_string(),
        serde_json::json!({
            "cycle": cycle,
            "kind": kind,
            "payments": count,
            "total": total.unwrap_or(0),
        }),
    );
    append_audit(&mut tx, at, vec![entry]).await?;
    let b = batch_in(&mut tx, id).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(Some(b))
}

async fn op_batch(db: &Ctx, id: i64) -> Result<Option<Batch>, StoreError> {
    let sql = format!("SELECT {BATCH_COLUMNS} FROM payment_batches WHERE id = $1");
    let row: Option<BatchRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&db.pool)
        .await
        .map_err(db_error)?;
    row.map(BatchRow::into_batch).transpose()
}

async fn op_batches(db: &Ctx, cycle: i64) -> Result<Vec<Batch>, StoreError> {
    let sql = format!("SELECT {BATCH_COLUMNS} FROM payment_batches WHERE cycle_id = $1 ORDER BY id");
    let rows: Vec<BatchRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(cycle)
        .fetch_all(&db.pool)
        .await
        .map_err(db_error)?;
    rows.into_iter().map(BatchRow::into_batch).collect()
}

#[allow(dead_code)] // On SQLite, `sqlite_payments` takes this path (see the `*_impl` methods).
async fn op_batch_payments(
    db: &Ctx,
    batch: i64,
    after: Option<i64>,
    limit: u32,
) -> Result<Vec<Payment>, StoreError> {
    let sql = format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments p WHERE p.batch_id = $1 AND p.id > $2 \
         ORDER BY p.id LIMIT $3"
    );
    let rows: Vec<PaymentRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(batch)
        .bind(after.unwrap_or(0))
        .bind(i64::from(limit.max(1)))
        .fetch_all(&db.pool)
        .await
        .map_err(db_error)?;
    rows.into_iter().map(PaymentRow::into_payment).collect()
}

#[allow(dead_code)] // On SQLite, `sqlite_payments` takes this path (see the `*_impl` methods).
async fn op_mark_exported(
    db: &Ctx,
    batch: i64,
    file_sha256: &str,
    change: &Change,
) -> Result<Batch, StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let mut tx = begin_write(db).await?;
    let b = batch_in(&mut tx, batch).await?;
    if b.state == BatchState::Exported {
        if b.file_sha256.as_deref() == Some(file_sha256) {
            return Ok(b);
        }
        return Err(conflict(
            "file_sha256",
            "batch_exported",
            format!(
                "the file already handed over for batch {batch} (SHA-256 {})",
                b.file_sha256.unwrap_or_default()
            ),
        ));
    }
    sqlx::query("UPDATE payments SET state = 'sent' WHERE batch_id = $1 AND state = 'pending'")
        .bind(batch)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    sqlx::query(
        "UPDATE payment_batches SET state = 'exported', exported_at = $2, file_sha256 = $3 WHERE id = $1",
    )
    .bind(batch)
    .bind(at)
    .bind(file_sha256)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let entry = payment_entry(
        &change.actor,
        "batch.export",
        "payment_batch",
        batch.to_string(),
        serde_json::json!({
            "cycle": b.cycle_id,
            "payments": b.payments,
            "total": b.total,
            "file_sha256": file_sha256,
        }),
    );
    append_audit(&mut tx, at, vec![entry]).await?;
    let b = batch_in(&mut tx, batch).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(b)
}

async fn op_payments(db: &Ctx, f: &PaymentFilter) -> Result<Vec<Payment>, StoreError> {
    let mut q = QueryBuilder::<Db>::new("SELECT ");
    q.push(PAYMENT_COLUMNS).push(" FROM payments p WHERE 1 = 1");
    if let Some(c) = f.cycle_id {
        q.push(" AND p.cycle_id = ").push_bind(c);
    }
    if let Some(h) = f.household_id {
        q.push(" AND p.household_id = ").push_bind(serial_h(h));
    }
    if let Some(s) = f.state {
        q.push(" AND p.state = ").push_bind(s.as_str());
    }
    if let Some(a) = f.after {
        q.push(" AND p.id > ").push_bind(a);
    }
    push_enrolment_territories(&mut q, "p.household_id", &f.territories)?;
    q.push(" ORDER BY p.id LIMIT ").push_bind(i64::from(f.limit.max(1)));
    let rows: Vec<PaymentRow> = q
        .build_query_as()
        .fetch_all(&db.pool)
        .await
        .map_err(db_error)?;
    rows.into_iter().map(PaymentRow::into_payment).collect()
}

async fn op_reconciliation(db: &Ctx, sha: &str) -> Result<Option<Reconciliation>, StoreError> {
    let sql = format!("SELECT {RECONCILIATION_COLUMNS} FROM reconciliations WHERE file_sha256 = $1");
    let row: Option<ReconciliationRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(sha)
        .fetch_optional(&db.pool)
        .await
        .map_err(db_error)?;
    row.map(ReconciliationRow::into_record).transpose()
}

#[allow(dead_code)] // On SQLite, `sqlite_payments` takes this path (see the `*_impl` methods).
async fn op_record_reconciliation(
    db: &Ctx,
    file: &NewReconciliation,
    updates: &[PaymentUpdate],
    change: &Change,
) -> Result<Reconciliation, StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let mut tx = begin_write(db).await?;
    let seen: Option<i64> =
        sqlx::query_scalar("SELECT id FROM reconciliations WHERE file_sha256 = $1")
            .bind(&file.file_sha256)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
    if let Some(id) = seen {
        return Err(conflict(
            "file",
            "answer_imported",
            format!("a new answer file: this one was imported already (reconciliation {id})"),
        ));
    }
    let c = &file.counts;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO reconciliations (file_sha256, file_name, format, lines, paid, failed, reversed, \
         unchanged, imported_by, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(&file.file_sha256)
    .bind(&file.file_name)
    .bind(&file.format)
    .bind(i64::try_from(file.lines).unwrap_or(i64::MAX))
    .bind(i64::try_from(c.paid).unwrap_or(i64::MAX))
    .bind(i64::try_from(c.failed).unwrap_or(i64::MAX))
    .bind(i64::try_from(c.reversed).unwrap_or(i64::MAX))
    .bind(i64::try_from(c.unchanged).unwrap_or(i64::MAX))
    .bind(&change.actor)
    .bind(at)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    let mut applied = 0u64;
    for chunk in updates.chunks(JSON_ROWS_PER_STATEMENT) {
        let json: Vec<serde_json::Value> = chunk
            .iter()
            .map(|u| {
                serde_json::json!([
                    u.id,
                    u.from.as_str(),
                    u.to.as_str(),
                    u.reason_code,
                    u.reason,
                    u.booked_on.map(|d| d.to_string()),
                ])
            })
            .collect();
        let source = json_rows(&[
            ("id", "BIGINT"),
            ("from_state", "TEXT"),
            ("to_state", "TEXT"),
            ("reason_code", "TEXT"),
            ("reason", "TEXT"),
            ("booked_on", "DATE"),
        ]);
        let sql = format!(
            "UPDATE payments SET state = j.to_state, reason_code = j.reason_code, reason = j.reason, \
             booked_on = COALESCE(j.booked_on, payments.booked_on), reconciliation_id = $2, \
             live = CASE WHEN j.to_state IN ('failed', 'reversed') THEN NULL ELSE payments.live END \
             FROM {source} WHERE payments.id = j.id AND payments.state = j.from_state"
        );
        applied += sqlx::query(AssertSqlSafe(sql))
            .bind(serde_json::Value::Array(json).to_string())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?
            .rows_affected();
    }
    if applied != updates.len() as u64 {
        return Err(conflict(
            "file",
            "payments_changed",
            format!(
                "payments in the states the answer was checked against: {} of {} changed meanwhile (import it again)",
                updates.len() as u64 - applied,
                updates.len()
            ),
        ));
    }
    let mut text = String::new();
    for u in updates {
        text.push_str(&format!("{}\t{}\t{}\t{}\n", u.id, u.from.as_str(), u.to.as_str(), u.reason_code));
    }
    let entry = payment_entry(
        &change.actor,
        "payment.reconcile",
        "reconciliation",
        id.to_string(),
        serde_json::json!({
            "file_sha256": file.file_sha256,
            "format": file.format,
            "lines": file.lines,
            "paid": c.paid,
            "failed": c.failed,
            "reversed": c.reversed,
            "unchanged": c.unchanged,
            "updates_sha256": sanad_app::targeting::sha256_hex(text.as_bytes()),
        }),
    );
    append_audit(&mut tx, at, vec![entry]).await?;
    let sql = format!("SELECT {RECONCILIATION_COLUMNS} FROM reconciliations WHERE id = $1");
    let row: ReconciliationRow = sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    row.into_record()
}

#[derive(sqlx::FromRow)]
struct AdhesionBatchRow {
    id: i64,
    programme_code: String,
    state: String,
    adhesions: i64,
    created_by: String,
    created_at: time::OffsetDateTime,
    exported_at: Option<time::OffsetDateTime>,
    file_sha256: Option<String>,
}

const ADHESION_BATCH_COLUMNS: &str =
    "id, programme_code, state, adhesions, created_by, created_at, exported_at, file_sha256";

impl AdhesionBatchRow {
    fn into_batch(self) -> Result<AdhesionBatch, StoreError> {
        Ok(AdhesionBatch {
            id: self.id,
            programme_code: self.programme_code,
            state: crate::rows::vocab("batch state", &self.state, BatchState::parse)?,
            adhesions: count_u64("adhesions", self.adhesions)?,
            created_by: self.created_by,
            created_at: self.created_at,
            exported_at: self.exported_at,
            file_sha256: self.file_sha256,
        })
    }
}

async fn adhesion_batch_in(tx: &mut Tx, id: i64) -> Result<AdhesionBatch, StoreError> {
    let sql = format!("SELECT {ADHESION_BATCH_COLUMNS} FROM adhesion_batches WHERE id = $1");
    let row: Option<AdhesionBatchRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_error)?;
    row.ok_or(StoreError::NotFound)?.into_batch()
}

#[derive(sqlx::FromRow)]
struct AdhesionRow {
    id: i64,
    programme_code: String,
    household_id: i64,
    person_id: i64,
    batch_id: i64,
    attempt: i64,
    state: String,
    insurer_number: String,
    reason_code: String,
    reason: String,
    last_name: String,
    first_name: String,
    birth_date: time::Date,
    sex: String,
    relation: String,
}

const ADHESION_COLUMNS: &str = "a.id, a.programme_code, a.household_id, a.person_id, a.batch_id, \
     a.attempt, a.state, a.insurer_number, a.reason_code, a.reason, p.last_name, p.first_name, \
     p.birth_date, p.sex, p.relation";

impl AdhesionRow {
    fn into_adhesion(self) -> Result<Adhesion, StoreError> {
        Ok(Adhesion {
            id: self.id,
            programme_code: self.programme_code,
            household_id: crate::rows::household_id(self.household_id)?,
            person_id: person_id(self.person_id)?,
            batch_id: self.batch_id,
            attempt: version_u32("attempt", self.attempt)?,
            state: crate::rows::vocab("adhesion state", &self.state, AdhesionState::parse)?,
            insurer_number: self.insurer_number,
            reason_code: self.reason_code,
            reason: self.reason,
            family_name: self.last_name,
            given_name: self.first_name,
            birth_date: self.birth_date,
            sex: self.sex,
            relation: self.relation,
        })
    }
}

async fn op_open_adhesion_batch(
    db: &Ctx,
    programme_code: &str,
    change: &Change,
) -> Result<Option<AdhesionBatch>, StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let mut tx = begin_write(db).await?;
    let open: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM adhesion_batches WHERE programme_code = $1 AND state = 'open'",
    )
    .bind(programme_code)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    if let Some(id) = open {
        return adhesion_batch_in(&mut tx, id).await.map(Some);
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO adhesion_batches (programme_code, state, created_by, created_at) \
         VALUES ($1, 'open', $2, $3) RETURNING id",
    )
    .bind(programme_code)
    .bind(&change.actor)
    .bind(at)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    let added = sqlx::query(
        "INSERT INTO adhesions (programme_code, household_id, person_id, batch_id, attempt, state) \
         SELECT e.programme_code, e.household_id, e.person_id, $2, \
         1 + (SELECT COUNT(*) FROM adhesions q WHERE q.programme_code = e.programme_code \
              AND q.person_id = e.person_id), 'pending' \
         FROM enrolments e WHERE e.programme_code = $1 AND e.state = 'enrolled' AND e.person_id <> 0 \
         AND NOT EXISTS (SELECT 1 FROM adhesions l WHERE l.programme_code = e.programme_code \
           AND l.person_id = e.person_id AND l.state IN ('pending', 'sent', 'accepted')) \
         ORDER BY e.household_id, e.person_id",
    )
    .bind(programme_code)
    .bind(id)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?
    .rows_affected();
    if added == 0 {
        drop(tx);
        return Ok(None);
    }
    sqlx::query("UPDATE adhesion_batches SET adhesions = $2 WHERE id = $1")
        .bind(id)
        .bind(i64::try_from(added).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    let entry = payment_entry(
        &change.actor,
        "adhesion_batch.open",
        "adhesion_batch",
        id.to_string(),
        serde_json::json!({ "programme": programme_code, "adhesions": added }),
    );
    append_audit(&mut tx, at, vec![entry]).await?;
    let b = adhesion_batch_in(&mut tx, id).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(Some(b))
}

async fn op_adhesion_batches(db: &Ctx, programme_code: &str) -> Result<Vec<AdhesionBatch>, StoreError> {
    let sql = format!(
        "SELECT {ADHESION_BATCH_COLUMNS} FROM adhesion_batches WHERE programme_code = $1 ORDER BY id"
    );
    let rows: Vec<AdhesionBatchRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(programme_code)
        .fetch_all(&db.pool)
        .await
        .map_err(db_error)?;
    rows.into_iter().map(AdhesionBatchRow::into_batch).collect()
}

async fn op_adhesion_lines(
    db: &Ctx,
    batch: i64,
    after: Option<i64>,
    limit: u32,
) -> Result<Vec<Adhesion>, StoreError> {
    let sql = format!(
        "SELECT {ADHESION_COLUMNS} FROM adhesions a JOIN persons p ON p.id = a.person_id \
         WHERE a.batch_id = $1 AND a.id > $2 ORDER BY a.id LIMIT $3"
    );
    let rows: Vec<AdhesionRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(batch)
        .bind(after.unwrap_or(0))
        .bind(i64::from(limit.max(1)))
        .fetch_all(&db.pool)
        .await
        .map_err(db_error)?;
    rows.into_iter().map(AdhesionRow::into_adhesion).collect()
}

async fn op_mark_adhesions_exported(
    db: &Ctx,
    batch: i64,
    file_sha256: &str,
    change: &Change,
) -> Result<AdhesionBatch, StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let mut tx = begin_write(db).await?;
    let b = adhesion_batch_in(&mut tx, batch).await?;
    if b.state == BatchState::Exported {
        if b.file_sha256.as_deref() == Some(file_sha256) {
            return Ok(b);
        }
        return Err(conflict(
            "file_sha256",
            "batch_exported",
            format!("the file already handed over for adhesion batch {batch}"),
        ));
    }
    sqlx::query("UPDATE adhesions SET state = 'sent' WHERE batch_id = $1 AND state = 'pending'")
        .bind(batch)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    sqlx::query(
        "UPDATE adhesion_batches SET state = 'exported', exported_at = $2, file_sha256 = $3 WHERE id = $1",
    )
    .bind(batch)
    .bind(at)
    .bind(file_sha256)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let entry = payment_entry(
        &change.actor,
        "adhesion_batch.export",
        "adhesion_batch",
        batch.to_string(),
        serde_json::json!({ "adhesions": b.adhesions, "file_sha256": file_sha256 }),
    );
    append_audit(&mut tx, at, vec![entry]).await?;
    let b = adhesion_batch_in(&mut tx, batch).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(b)
}

async fn op_adhesion_checks(db: &Ctx, ids: &[i64]) -> Result<Vec<(i64, AdhesionState)>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(JSON_ROWS_PER_STATEMENT) {
        let json = serde_json::Value::from(chunk.iter().map(|i| serde_json::json!([i])).collect::<Vec<_>>());
        let source = json_rows(&[("id", "BIGINT")]);
        let sql = format!("SELECT a.id, a.state FROM adhesions a JOIN {source} ON a.id = j.id");
        let rows: Vec<(i64, String)> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(json.to_string())
            .fetch_all(&db.pool)
            .await
            .map_err(db_error)?;
        for (id, state) in rows {
            out.push((id, crate::rows::vocab("adhesion state", &state, AdhesionState::parse)?));
        }
    }
    Ok(out)
}

#[derive(sqlx::FromRow)]
struct AdhesionAnswerRow {
    id: i64,
    file_sha256: String,
    file_name: String,
    lines: i64,
    accepted: i64,
    rejected: i64,
    unchanged: i64,
    imported_by: String,
    imported_at: time::OffsetDateTime,
}

impl AdhesionAnswerRow {
    fn into_record(self) -> Result<AdhesionAnswerRecord, StoreError> {
        Ok(AdhesionAnswerRecord {
            id: self.id,
            file_sha256: self.file_sha256,
            file_name: self.file_name,
            lines: count_u64("lines", self.lines)?,
            accepted: count_u64("accepted", self.accepted)?,
            rejected: count_u64("rejected", self.rejected)?,
            unchanged: count_u64("unchanged", self.unchanged)?,
            imported_by: self.imported_by,
            imported_at: self.imported_at,
        })
    }
}

const ADHESION_ANSWER_COLUMNS: &str =
    "id, file_sha256, file_name, lines, accepted, rejected, unchanged, imported_by, imported_at";

async fn op_adhesion_answer(db: &Ctx, sha: &str) -> Result<Option<AdhesionAnswerRecord>, StoreError> {
    let sql = format!("SELECT {ADHESION_ANSWER_COLUMNS} FROM adhesion_answers WHERE file_sha256 = $1");
    let row: Option<AdhesionAnswerRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(sha)
        .fetch_optional(&db.pool)
        .await
        .map_err(db_error)?;
    row.map(AdhesionAnswerRow::into_record).transpose()
}

#[allow(clippy::too_many_arguments)]
async fn op_record_adhesion_answer(
    db: &Ctx,
    file_sha256: &str,
    file_name: &str,
    lines: u64,
    updates: &[AdhesionUpdate],
    unchanged: u64,
    change: &Change,
) -> Result<AdhesionAnswerRecord, StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let mut tx = begin_write(db).await?;
    let seen: Option<i64> =
        sqlx::query_scalar("SELECT id FROM adhesion_answers WHERE file_sha256 = $1")
            .bind(file_sha256)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
    if let Some(id) = seen {
        return Err(conflict(
            "file",
            "answer_imported",
            format!("a new answer file: this one was imported already (answer {id})"),
        ));
    }
    let accepted = updates.iter().filter(|u| u.to == AdhesionState::Accepted).count() as i64;
    let rejected = updates.iter().filter(|u| u.to == AdhesionState::Rejected).count() as i64;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO adhesion_answers (file_sha256, file_name, lines, accepted, rejected, unchanged, \
         imported_by, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(file_sha256)
    .bind(file_name)
    .bind(i64::try_from(lines).unwrap_or(i64::MAX))
    .bind(accepted)
    .bind(rejected)
    .bind(i64::try_from(unchanged).unwrap_or(i64::MAX))
    .bind(&change.actor)
    .bind(at)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    let mut applied = 0u64;
    for chunk in updates.chunks(JSON_ROWS_PER_STATEMENT) {
        let json: Vec<serde_json::Value> = chunk
            .iter()
            .map(|u| {
                serde_json::json!([
                    u.id,
                    u.from.as_str(),
                    u.to.as_str(),
                    u.insurer_number,
                    u.reason_code,
                    u.reason
                ])
            })
            .collect();
        let source = json_rows(&[
            ("id", "BIGINT"),
            ("from_state", "TEXT"),
            ("to_state", "TEXT"),
            ("insurer_number", "TEXT"),
            ("reason_code", "TEXT"),
            ("reason", "TEXT"),
        ]);
        let sql = format!(
            "UPDATE adhesions SET state = j.to_state, insurer_number = j.insurer_number, \
             reason_code = j.reason_code, reason = j.reason, answer_id = $2 \
             FROM {source} WHERE adhesions.id = j.id AND adhesions.state = j.from_state"
        );
        applied += sqlx::query(AssertSqlSafe(sql))
            .bind(serde_json::Value::Array(json).to_string())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?
            .rows_affected();
    }
    if applied != updates.len() as u64 {
        return Err(conflict(
            "file",
            "adhesions_changed",
            "adhesions in the states the answer was checked against (import it again)",
        ));
    }
    let entry = payment_entry(
        &change.actor,
        "adhesion.answer",
        "adhesion_answer",
        id.to_string(),
        serde_json::json!({
            "file_sha256": file_sha256,
            "lines": lines,
            "accepted": accepted,
            "rejected": rejected,
            "unchanged": unchanged,
        }),
    );
    append_audit(&mut tx, at, vec![entry]).await?;
    let sql = format!("SELECT {ADHESION_ANSWER_COLUMNS} FROM adhesion_answers WHERE id = $1");
    let row: AdhesionAnswerRow = sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    row.into_record()
}

async fn op_adhesions(
    db: &Ctx,
    programme_code: &str,
    household: Option<HouseholdId>,
    after: Option<i64>,
    limit: u32,
) -> Result<Vec<Adhesion>, StoreError> {
    let sql = format!(
        "SELECT {ADHESION_COLUMNS} FROM adhesions a JOIN persons p ON p.id = a.person_id \
         WHERE a.programme_code = $1 AND ($2 IS NULL OR a.household_id = $2) AND a.id > $3 \
         ORDER BY a.id LIMIT $4"
    );
    let rows: Vec<AdhesionRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(programme_code)
        .bind(household.map(serial_h))
        .bind(after.unwrap_or(0))
        .bind(i64::from(limit.max(1)))
        .fetch_all(&db.pool)
        .await
        .map_err(db_error)?;
    rows.into_iter().map(AdhesionRow::into_adhesion).collect()
}

/// The port on this backend's context; the store types delegate to it. The bulk paths go through
/// each store's `*_impl` methods: SQLite runs them on its batch connections (`sqlite_payments`).
macro_rules! impl_payment_store {
    ($store:ty) => {
        #[async_trait]
        impl PaymentStore for $store {
            async fn set_payment_means(&self, means: &MeansRecord, change: &Change) -> Result<(), StoreError> {
                op_set_payment_means(&self.ctx, means, change).await
            }
            async fn payment_means(&self, household: HouseholdId) -> Result<Option<MeansRecord>, StoreError> {
                op_payment_means(&self.ctx, household).await
            }
            async fn import_payment_means(&self, rows: &[MeansRecord], change: &Change) -> Result<u64, StoreError> {
                op_import_payment_means(&self.ctx, rows, change).await
            }
            async fn cycle_inputs(&self, programme_code: &str, after: Option<HouseholdId>, upto: HouseholdId) -> Result<Vec<CycleInput>, StoreError> {
                self.cycle_inputs_impl(programme_code, after, upto).await
            }
            async fn start_cycle(&self, cycle: &NewCycle, change: &Change) -> Result<Cycle, StoreError> {
                op_start_cycle(&self.ctx, cycle, change).await
            }
            async fn record_entitlements(&self, cycle: i64, rows: &[Entitlement], last: HouseholdId, skipped: u64) -> Result<u64, StoreError> {
                self.record_entitlements_impl(cycle, rows, last, skipped).await
            }
            async fn finish_cycle(&self, cycle: i64, change: &Change) -> Result<Cycle, StoreError> {
                self.finish_cycle_impl(cycle, change).await
            }
            async fn approve_cycle(&self, cycle: i64, change: &Change) -> Result<Cycle, StoreError> {
                op_approve_cycle(&self.ctx, cycle, change).await
            }
            async fn cancel_cycle(&self, cycle: i64, change: &Change) -> Result<Cycle, StoreError> {
                op_cancel_cycle(&self.ctx, cycle, change).await
            }
            async fn cycle(&self, id: i64) -> Result<Option<Cycle>, StoreError> {
                op_cycle(&self.ctx, id).await
            }
            async fn cycles(&self, programme_code: Option<&str>) -> Result<Vec<Cycle>, StoreError> {
                op_cycles(&self.ctx, programme_code).await
            }
            async fn entitlements(&self, filter: &EntitlementFilter) -> Result<Vec<Entitlement>, StoreError> {
                op_entitlements(&self.ctx, filter).await
            }
            async fn open_batch(&self, cycle: i64, kind: &str, change: &Change) -> Result<Option<Batch>, StoreError> {
                self.open_batch_impl(cycle, kind, change).await
            }
            async fn batch(&self, id: i64) -> Result<Option<Batch>, StoreError> {
                op_batch(&self.ctx, id).await
            }
            async fn batches(&self, cycle: i64) -> Result<Vec<Batch>, StoreError> {
                op_batches(&self.ctx, cycle).await
            }
            async fn batch_payments(&self, batch: i64, after: Option<i64>, limit: u32) -> Result<Vec<Payment>, StoreError> {
                self.batch_payments_impl(batch, after, limit).await
            }
            async fn mark_exported(&self, batch: i64, file_sha256: &str, change: &Change) -> Result<Batch, StoreError> {
                self.mark_exported_impl(batch, file_sha256, change).await
            }
            async fn payments(&self, filter: &PaymentFilter) -> Result<Vec<Payment>, StoreError> {
                op_payments(&self.ctx, filter).await
            }
            async fn payment_checks(&self, ids: &[i64]) -> Result<Vec<PaymentCheck>, StoreError> {
                self.payment_checks_impl(ids).await
            }
            async fn reconciliation(&self, file_sha256: &str) -> Result<Option<Reconciliation>, StoreError> {
                op_reconciliation(&self.ctx, file_sha256).await
            }
            async fn record_reconciliation(&self, file: &NewReconciliation, updates: &[PaymentUpdate], change: &Change) -> Result<Reconciliation, StoreError> {
                self.record_reconciliation_impl(file, updates, change).await
            }
            async fn open_adhesion_batch(&self, programme_code: &str, change: &Change) -> Result<Option<AdhesionBatch>, StoreError> {
                op_open_adhesion_batch(&self.ctx, programme_code, change).await
            }
            async fn adhesion_batches(&self, programme_code: &str) -> Result<Vec<AdhesionBatch>, StoreError> {
                op_adhesion_batches(&self.ctx, programme_code).await
            }
            async fn adhesion_lines(&self, batch: i64, after: Option<i64>, limit: u32) -> Result<Vec<Adhesion>, StoreError> {
                op_adhesion_lines(&self.ctx, batch, after, limit).await
            }
            async fn mark_adhesions_exported(&self, batch: i64, file_sha256: &str, change: &Change) -> Result<AdhesionBatch, StoreError> {
                op_mark_adhesions_exported(&self.ctx, batch, file_sha256, change).await
            }
            async fn adhesion_checks(&self, ids: &[i64]) -> Result<Vec<(i64, AdhesionState)>, StoreError> {
                op_adhesion_checks(&self.ctx, ids).await
            }
            async fn adhesion_answer(&self, file_sha256: &str) -> Result<Option<AdhesionAnswerRecord>, StoreError> {
                op_adhesion_answer(&self.ctx, file_sha256).await
            }
            async fn record_adhesion_answer(&self, file_sha256: &str, file_name: &str, lines: u64, updates: &[AdhesionUpdate], unchanged: u64, change: &Change) -> Result<AdhesionAnswerRecord, StoreError> {
                op_record_adhesion_answer(&self.ctx, file_sha256, file_name, lines, updates, unchanged, change).await
            }
            async fn adhesions(&self, programme_code: &str, household: Option<HouseholdId>, after: Option<i64>, limit: u32) -> Result<Vec<Adhesion>, StoreError> {
                op_adhesions(&self.ctx, programme_code, household, after, limit).await
            }
        }
    };
}
