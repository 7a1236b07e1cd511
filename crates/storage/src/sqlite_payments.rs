//! The bulk paths of payments on SQLite: a cycle's inputs and entitlements, the digest that closes
//! it, a batch's payments for its file, and the checks and updates of an answer file. They run on
//! the rescoring connections (`crate::sqlite_targeting`) with prepared statements in a tight loop:
//! through sqlx, every row goes to a worker thread and back (and, for writes, through a JSON array
//! that SQLite parses again), which costs more than the work on a cycle of millions. The rules are
//! the same as on every other path: the same keys, the same state-checked updates, one
//! transaction per call.

use std::path::Path;

use rusqlite::{OptionalExtension as _, TransactionBehavior, params};
use sanad_app::StoreError;
use sanad_app::payments::{
    CycleInput, Entitlement, NewReconciliation, Payment, PaymentCheck, PaymentState, PaymentUpdate,
    end_to_end_id, payment_entry,
};
use sanad_app::store::Change;
use sanad_domain::audit::AuditEntry;
use time::format_description::well_known::Rfc3339;

use crate::rows::{corrupt, household_id, person_id, serial_h, serial_p, vocab};
use crate::sqlite_targeting::{BatchConnection, err};

fn ts(at: time::OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

fn person_of_key(key: i64) -> Result<Option<sanad_domain::PersonId>, StoreError> {
    if key == 0 {
        Ok(None)
    } else {
        person_id(key).map(Some)
    }
}

fn u32_of(what: &str, v: i64) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| corrupt(what, v))
}

fn conflict(field: &str, code: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Conflict {
        field: field.into(),
        code,
        message: message.into(),
    }
}

/// As the shared `append_audit`: the event waits for the integrator to chain it.
pub(crate) fn append_audit(
    tx: &rusqlite::Transaction<'_>,
    at: time::OffsetDateTime,
    entry: AuditEntry,
) -> Result<(), StoreError> {
    let at = sanad_domain::audit::storable_time(at);
    let hash = entry.hash(at);
    tx.prepare_cached(
        "INSERT INTO audit_events (at, actor, action, entity_type, entity_id, details, prev_hash, hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, '', ?7)",
    )
    .map_err(err)?
    .execute(params![
        ts(at),
        entry.actor,
        entry.action,
        entry.entity_type,
        entry.entity_id,
        entry.details,
        hash
    ])
    .map_err(err)?;
    Ok(())
}

pub(crate) fn cycle_inputs(
    conn: &BatchConnection,
    path: &Path,
    programme_code: &str,
    after: i64,
    upto: i64,
) -> Result<Vec<CycleInput>, StoreError> {
    conn.with(path, |conn| {
        let mut q = conn
            .prepare_cached(
                "SELECT e.household_id, e.person_id, h.version, s.pmt_index, s.household_version \
                 FROM enrolments e JOIN households h ON h.id = e.household_id \
                 LEFT JOIN household_scores s ON s.household_id = e.household_id \
                 WHERE e.programme_code = ?1 AND e.state = 'enrolled' AND e.household_id > ?2 \
                 AND e.household_id <= ?3 ORDER BY e.household_id, e.person_id",
            )
            .map_err(err)?;
        let mut rows = q.query(params![programme_code, after, upto]).map_err(err)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(err)? {
            let index: Option<f64> = r.get(3).map_err(err)?;
            let scored: Option<i64> = r.get(4).map_err(err)?;
            out.push(CycleInput {
                household_id: household_id(r.get(0).map_err(err)?)?,
                person_id: person_of_key(r.get(1).map_err(err)?)?,
                household_version: u32_of("household version", r.get(2).map_err(err)?)?,
                index: match (index, scored) {
                    (Some(i), Some(v)) => Some((i, u32_of("scored version", v)?)),
                    _ => None,
                },
            });
        }
        Ok(out)
    })
}

/// As the shared `record_entitlements`: the cycle must still be computing; a row already written
/// (a resumed run) is kept as it is.
pub(crate) fn record_entitlements(
    conn: &BatchConnection,
    path: &Path,
    cycle: i64,
    rows: &[Entitlement],
    last: i64,
    skipped: u64,
) -> Result<u64, StoreError> {
    conn.with(path, |conn| {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let state: Option<String> = tx
            .query_row("SELECT state FROM cycles WHERE id = ?1", [cycle], |r| {
                r.get(0)
            })
            .optional()
            .map_err(err)?;
        match state.as_deref() {
            None => return Err(StoreError::NotFound),
            Some("computing") => {}
            Some(other) => {
                return Err(conflict(
                    "cycle",
                    "cycle_not_computing",
                    format!("a cycle being computed: cycle {cycle} is {other}"),
                ));
            }
        }
        let mut added = 0u64;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO entitlements (cycle_id, household_id, person_id, household_version, \
                     pmt_index, amount) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                     ON CONFLICT (cycle_id, household_id, person_id) DO NOTHING",
                )
                .map_err(err)?;
            for e in rows {
                added += insert
                    .execute(params![
                        cycle,
                        serial_h(e.household_id),
                        e.person_id.map(serial_p).unwrap_or(0),
                        i64::from(e.household_version),
                        e.index,
                        e.amount
                    ])
                    .map_err(err)? as u64;
            }
        }
        tx.execute(
            "UPDATE cycles SET last_household = ?2, skipped = skipped + ?3 WHERE id = ?1",
            params![cycle, last, i64::try_from(skipped).unwrap_or(i64::MAX)],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(added)
    })
}

/// As the shared `finish_cycle`, in one `BEGIN IMMEDIATE` transaction: the count, total and
/// digest of the entitlements, the cap checked, the cycle computed, its audit event. A cycle no
/// longer computing is left as it is.
pub(crate) fn finish_cycle(
    conn: &BatchConnection,
    path: &Path,
    cycle: i64,
    change: &Change,
) -> Result<(), StoreError> {
    use sha2::Digest as _;
    use std::fmt::Write as _;
    conn.with(path, |conn| {
        let at = sanad_domain::audit::storable_time(change.at);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let head: Option<(String, Option<i64>, i64)> = tx
            .query_row(
                "SELECT state, budget_cap, skipped FROM cycles WHERE id = ?1",
                [cycle],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(err)?;
        let Some((state, cap, skipped)) = head else {
            return Err(StoreError::NotFound);
        };
        if state != "computing" {
            return Ok(());
        }
        // One pass in key order: the count, the total and the digest of every entitlement
        // (`household person version amount` a line), so a row forged later does not match the log.
        let mut hasher = sha2::Sha256::new();
        let (mut count, mut total) = (0i64, 0i64);
        {
            let mut q = tx
                .prepare_cached(
                    "SELECT household_id, person_id, household_version, amount FROM entitlements \
                     WHERE cycle_id = ?1 ORDER BY household_id, person_id",
                )
                .map_err(err)?;
            let mut rows = q.query([cycle]).map_err(err)?;
            let mut line = String::with_capacity(64);
            while let Some(r) = rows.next().map_err(err)? {
                let (h, p, v, a): (i64, i64, i64, i64) = (
                    r.get(0).map_err(err)?,
                    r.get(1).map_err(err)?,
                    r.get(2).map_err(err)?,
                    r.get(3).map_err(err)?,
                );
                line.clear();
                let _ = writeln!(line, "{h}\t{p}\t{v}\t{a}");
                hasher.update(line.as_bytes());
                count += 1;
                total = total.saturating_add(a);
            }
        }
        if let Some(cap) = cap
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
        let digest = hex::encode(hasher.finalize());
        tx.execute(
            "UPDATE cycles SET state = 'computed', entitlements = ?2, total = ?3 WHERE id = ?1",
            params![cycle, count, total],
        )
        .map_err(err)?;
        append_audit(
            &tx,
            at,
            payment_entry(
                &change.actor,
                "cycle.compute",
                "cycle",
                cycle.to_string(),
                serde_json::json!({
                    "entitlements": count,
                    "total": total,
                    "skipped": skipped,
                    "sha256": digest,
                }),
            ),
        )?;
        tx.commit().map_err(err)?;
        Ok(())
    })
}

/// A page of a batch's payments in id order, as the shared `batch_payments`.
pub(crate) fn batch_payments(
    conn: &BatchConnection,
    path: &Path,
    batch: i64,
    after: i64,
    limit: u32,
) -> Result<Vec<Payment>, StoreError> {
    conn.with(path, |conn| {
        let mut q = conn
            .prepare_cached(
                "SELECT id, cycle_id, household_id, person_id, batch_id, attempt, amount, kind, \
                 means, holder, reference, state, reason_code, reason, booked_on \
                 FROM payments WHERE batch_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
            )
            .map_err(err)?;
        let mut rows = q
            .query(params![batch, after, i64::from(limit.max(1))])
            .map_err(err)?;
        let mut out = Vec::with_capacity(limit as usize);
        while let Some(r) = rows.next().map_err(err)? {
            let id: i64 = r.get(0).map_err(err)?;
            let state: String = r.get(11).map_err(err)?;
            let booked: Option<String> = r.get(14).map_err(err)?;
            out.push(Payment {
                id,
                end_to_end_id: end_to_end_id(id),
                cycle_id: r.get(1).map_err(err)?,
                household_id: household_id(r.get(2).map_err(err)?)?,
                person_id: person_of_key(r.get(3).map_err(err)?)?,
                batch_id: r.get(4).map_err(err)?,
                attempt: u32_of("attempt", r.get(5).map_err(err)?)?,
                amount: r.get(6).map_err(err)?,
                kind: r.get(7).map_err(err)?,
                means: r.get(8).map_err(err)?,
                holder: r.get(9).map_err(err)?,
                reference: r.get(10).map_err(err)?,
                state: vocab("payment state", &state, PaymentState::parse)?,
                reason_code: r.get(12).map_err(err)?,
                reason: r.get(13).map_err(err)?,
                booked_on: booked.map(|b| parse_date(&b)).transpose()?,
            });
        }
        Ok(out)
    })
}

fn parse_date(text: &str) -> Result<time::Date, StoreError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.get(..10).unwrap_or(text), &format).map_err(|_| corrupt("date", text))
}

/// The state and amount of each payment named (unknown ids are left out).
pub(crate) fn payment_checks(
    conn: &BatchConnection,
    path: &Path,
    ids: &[i64],
) -> Result<Vec<PaymentCheck>, StoreError> {
    conn.with(path, |conn| {
        // One snapshot for every id.
        let tx = conn.transaction().map_err(err)?;
        let mut out = Vec::with_capacity(ids.len());
        {
            let mut q = tx
                .prepare_cached("SELECT state, amount FROM payments WHERE id = ?1")
                .map_err(err)?;
            for &id in ids {
                let found: Option<(String, i64)> = q
                    .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
                    .map_err(err)?;
                if let Some((state, amount)) = found {
                    out.push(PaymentCheck {
                        id,
                        state: vocab("payment state", &state, PaymentState::parse)?,
                        amount,
                    });
                }
            }
        }
        tx.commit().map_err(err)?;
        Ok(out)
    })
}

/// As the shared `record_reconciliation`, in one `BEGIN IMMEDIATE` transaction: the file once,
/// every update only from the state it was checked in (all or nothing), the audit event. Gives the
/// new reconciliation's id.
pub(crate) fn record_reconciliation(
    conn: &BatchConnection,
    path: &Path,
    file: &NewReconciliation,
    updates: &[PaymentUpdate],
    change: &Change,
) -> Result<i64, StoreError> {
    conn.with(path, |conn| {
        let at = sanad_domain::audit::storable_time(change.at);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let seen: Option<i64> = tx
            .query_row(
                "SELECT id FROM reconciliations WHERE file_sha256 = ?1",
                [&file.file_sha256],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        if let Some(id) = seen {
            return Err(conflict(
                "file",
                "answer_imported",
                format!("a new answer file: this one was imported already (reconciliation {id})"),
            ));
        }
        let c = &file.counts;
        let big = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let id: i64 = tx
            .query_row(
                "INSERT INTO reconciliations (file_sha256, file_name, format, lines, paid, failed, \
                 reversed, unchanged, imported_by, imported_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
                params![
                    file.file_sha256,
                    file.file_name,
                    file.format,
                    big(file.lines),
                    big(c.paid),
                    big(c.failed),
                    big(c.reversed),
                    big(c.unchanged),
                    change.actor,
                    ts(at)
                ],
                |r| r.get(0),
            )
            .map_err(err)?;
        let mut applied = 0u64;
        let mut text = String::with_capacity(updates.len() * 32);
        {
            use std::fmt::Write as _;
            // An attempt that ends (failed, reversed) leaves the live attempts; the others keep
            // their mark, and a statement that does not name it leaves its index alone.
            let mut settle = tx
                .prepare_cached(
                    "UPDATE payments SET state = ?3, reason_code = ?4, reason = ?5, \
                     booked_on = COALESCE(?6, booked_on), reconciliation_id = ?7 \
                     WHERE id = ?1 AND state = ?2",
                )
                .map_err(err)?;
            let mut end = tx
                .prepare_cached(
                    "UPDATE payments SET state = ?3, reason_code = ?4, reason = ?5, \
                     booked_on = COALESCE(?6, booked_on), reconciliation_id = ?7, live = NULL \
                     WHERE id = ?1 AND state = ?2",
                )
                .map_err(err)?;
            for u in updates {
                let ends = matches!(u.to, PaymentState::Failed | PaymentState::Reversed);
                let update = if ends { &mut end } else { &mut settle };
                applied += update
                    .execute(params![
                        u.id,
                        u.from.as_str(),
                        u.to.as_str(),
                        u.reason_code,
                        u.reason,
                        u.booked_on.map(|d| d.to_string()),
                        id
                    ])
                    .map_err(err)? as u64;
                let _ = writeln!(
                    text,
                    "{}\t{}\t{}\t{}",
                    u.id,
                    u.from.as_str(),
                    u.to.as_str(),
                    u.reason_code
                );
            }
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
        append_audit(
            &tx,
            at,
            payment_entry(
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
            ),
        )?;
        tx.commit().map_err(err)?;
        Ok(id)
    })
}

/// A ten-digit pick-up code, drawn by the database for each payment.
pub(crate) const RANDOM_CODE: &str = "printf('%010d', abs(random() % 10000000000))";

/// As the shared `open_batch`, on the batch connection (its page cache holds the indexes of a
/// cycle of millions of payments; the writer's would spill them to the log): the batch still open
/// for this kind, or a new one with every entitlement still owed by this means, or none. Gives the
/// batch's id.
pub(crate) fn open_batch(
    conn: &BatchConnection,
    path: &Path,
    cycle: i64,
    kind: &str,
    change: &Change,
) -> Result<Option<i64>, StoreError> {
    conn.with(path, |conn| {
        let at = sanad_domain::audit::storable_time(change.at);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let state: Option<String> = tx
            .query_row("SELECT state FROM cycles WHERE id = ?1", [cycle], |r| {
                r.get(0)
            })
            .optional()
            .map_err(err)?;
        let Some(state) = state else {
            return Err(StoreError::NotFound);
        };
        if state != "approved" {
            return Err(conflict(
                "cycle",
                "cycle_not_approved",
                format!(
                    "an approved cycle: cycle {cycle} is {state} (a second manager approves it before any file leaves)"
                ),
            ));
        }
        let open: Option<i64> = tx
            .query_row(
                "SELECT id FROM payment_batches WHERE cycle_id = ?1 AND kind = ?2 AND state = 'open'",
                params![cycle, kind],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        if let Some(id) = open {
            tx.commit().map_err(err)?;
            return Ok(Some(id));
        }
        let id: i64 = tx
            .query_row(
                "INSERT INTO payment_batches (cycle_id, kind, state, created_by, created_at) \
                 VALUES (?1, ?2, 'open', ?3, ?4) RETURNING id",
                params![cycle, kind, change.actor, ts(at)],
                |r| r.get(0),
            )
            .map_err(err)?;
        // Owed: no live attempt (pending, sent or paid). The attempt number follows the failed or
        // reversed ones; the unique index on live attempts refuses a second one whatever happens.
        // The first batch of a cycle (no attempt of it yet, in this transaction) owes every
        // entitlement as attempt 1, without looking up the attempts of each.
        let first: bool = tx
            .query_row(
                "SELECT NOT EXISTS (SELECT 1 FROM payments WHERE cycle_id = ?1)",
                [cycle],
                |r| r.get(0),
            )
            .map_err(err)?;
        let (attempt, owed) = if first {
            ("1", "")
        } else {
            (crate::rows::NEXT_ATTEMPT, crate::rows::WITHOUT_LIVE_ATTEMPT)
        };
        let added = tx
            .execute(
                &format!(
                    "INSERT INTO payments (cycle_id, household_id, person_id, batch_id, attempt, amount, kind, \
                     means, holder, reference, state) \
                     SELECT e.cycle_id, e.household_id, e.person_id, ?2, {attempt}, \
                     e.amount, m.kind, m.details, m.holder, {RANDOM_CODE}, 'pending' \
                     FROM entitlements e JOIN payment_means m ON m.household_id = e.household_id \
                     WHERE e.cycle_id = ?1 AND m.kind = ?3 AND e.amount > 0 {owed} \
                     ORDER BY e.household_id, e.person_id"
                ),
                params![cycle, id, kind],
            )
            .map_err(err)?;
        if added == 0 {
            // Nothing owed by this means: no empty batch is kept.
            drop(tx);
            return Ok(None);
        }
        let (count, total): (i64, Option<i64>) = tx
            .query_row(
                "SELECT COUNT(*), SUM(amount) FROM payments WHERE batch_id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(err)?;
        let total = total.unwrap_or(0);
        tx.execute(
            "UPDATE payment_batches SET payments = ?2, total = ?3 WHERE id = ?1",
            params![id, count, total],
        )
        .map_err(err)?;
        append_audit(
            &tx,
            at,
            payment_entry(
                &change.actor,
                "batch.open",
                "payment_batch",
                id.to_string(),
                serde_json::json!({
                    "cycle": cycle,
                    "kind": kind,
                    "payments": count,
                    "total": total,
                }),
            ),
        )?;
        tx.commit().map_err(err)?;
        Ok(Some(id))
    })
}

/// As the shared `mark_exported`, on the batch connection: the batch's payments sent, the batch
/// exported with its file's digest (the same digest again does nothing; another is refused).
pub(crate) fn mark_exported(
    conn: &BatchConnection,
    path: &Path,
    batch: i64,
    file_sha256: &str,
    change: &Change,
) -> Result<(), StoreError> {
    conn.with(path, |conn| {
        let at = sanad_domain::audit::storable_time(change.at);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        type Head = (String, Option<String>, i64, i64, i64);
        let head: Option<Head> = tx
            .query_row(
                "SELECT state, file_sha256, cycle_id, payments, total FROM payment_batches WHERE id = ?1",
                [batch],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()
            .map_err(err)?;
        let Some((state, sha, cycle, payments, total)) = head else {
            return Err(StoreError::NotFound);
        };
        if state == "exported" {
            if sha.as_deref() == Some(file_sha256) {
                return Ok(());
            }
            return Err(conflict(
                "file_sha256",
                "batch_exported",
                format!(
                    "the file already handed over for batch {batch} (SHA-256 {})",
                    sha.unwrap_or_default()
                ),
            ));
        }
        tx.execute(
            "UPDATE payments SET state = 'sent' WHERE batch_id = ?1 AND state = 'pending'",
            [batch],
        )
        .map_err(err)?;
        tx.execute(
            "UPDATE payment_batches SET state = 'exported', exported_at = ?2, file_sha256 = ?3 WHERE id = ?1",
            params![batch, ts(at), file_sha256],
        )
        .map_err(err)?;
        append_audit(
            &tx,
            at,
            payment_entry(
                &change.actor,
                "batch.export",
                "payment_batch",
                batch.to_string(),
                serde_json::json!({
                    "cycle": cycle,
                    "payments": payments,
                    "total": total,
                    "file_sha256": file_sha256,
                }),
            ),
        )?;
        tx.commit().map_err(err)?;
        Ok(())
    })
}
