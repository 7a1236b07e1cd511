// The outbox port, one text for both backends (included at the end of sqlite.rs and postgres.rs,
// where `OUTBOX_SKIP_LOCKED` is how the backend keeps two claims off the same rows).
//
// For the other stores: `op_enqueue` queues a message inside a write transaction they already
// hold, so that a change and the notification announcing it commit together or not at all:
//
//     let mut tx = begin_write(db).await?;
//     // … the request's transition …
//     op_enqueue(&mut tx, &db.cipher, &message, change.at).await?;
//     tx.commit().await.map_err(db_error)?;

use sanad_app::outbox as outbox_port;

/// Microseconds since the epoch: the claim's ordering key, compared as a number on both backends
/// (SQLite keeps timestamps as text whose fraction has no fixed width).
fn outbox_us(at: time::OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000) as i64
}

fn outbox_time(us: i64) -> Result<time::OffsetDateTime, StoreError> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1_000)
        .map_err(|e| StoreError::Internal(format!("outbox time out of range: {e}")))
}

fn outbox_state(text: &str) -> Result<outbox_port::MessageState, StoreError> {
    outbox_port::MessageState::parse(text)
        .ok_or_else(|| StoreError::Internal(format!("unknown outbox state `{text}`")))
}

fn outbox_channel(text: &str) -> Result<outbox_port::Channel, StoreError> {
    outbox_port::Channel::parse(text)
        .ok_or_else(|| StoreError::Internal(format!("unknown outbox channel `{text}`")))
}

/// Queues `message` in the caller's write transaction (the recipient and the code sealed with
/// `cipher`), due at `at`. A message with the same idempotency key already there is left as it is
/// and its id answered (`created: false`); on PostgreSQL a concurrent transaction enqueueing the
/// same key waits for this one and then finds it.
pub(crate) async fn op_enqueue(
    tx: &mut Tx,
    cipher: &sanad_app::crypto::DataCipher,
    message: &outbox_port::NewMessage,
    at: time::OffsetDateTime,
) -> Result<outbox_port::Enqueued, StoreError> {
    let at = sanad_domain::audit::storable_time(at);
    let (hash, sealed) = crate::rows::seal(cipher, Some(message.recipient.address()))?;
    let code = message
        .params
        .code
        .as_ref()
        .map(|c| cipher.encrypt(c.as_str()))
        .transpose()
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    let key = message.idempotency_key.as_str();
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO outbox_messages (idempotency_key, channel, recipient_hash, recipient_sealed, template, \
         language, params, code_sealed, business_ref, state, attempts, due_us, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', 0, $10, $11, $11) \
         ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(key)
    .bind(message.channel().as_str())
    .bind(hash)
    .bind(sealed)
    .bind(message.template.key())
    .bind(message.language.code())
    .bind(message.params.stored_json())
    .bind(code)
    .bind(&message.business_ref)
    .bind(outbox_us(at))
    .bind(at)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_error)?;
    if let Some(id) = id {
        return Ok(outbox_port::Enqueued { id, created: true });
    }
    let id: i64 = sqlx::query_scalar("SELECT id FROM outbox_messages WHERE idempotency_key = $1")
        .bind(key)
        .fetch_one(&mut **tx)
        .await
        .map_err(db_error)?;
    Ok(outbox_port::Enqueued { id, created: false })
}

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: i64,
    channel: String,
    recipient_sealed: String,
    template: String,
    language: String,
    params: String,
    code_sealed: Option<String>,
    idempotency_key: String,
    business_ref: Option<String>,
    attempts: i32,
    created_at: time::OffsetDateTime,
    due_us: i64,
}

impl ClaimedRow {
    /// Opens the row for its provider. What cannot be opened or read back is left `None` for the
    /// worker to record as a failure of this message alone.
    fn open(self, cipher: &sanad_app::crypto::DataCipher) -> Result<outbox_port::Message, StoreError> {
        let channel = outbox_channel(&self.channel)?;
        let recipient = cipher
            .decrypt(&self.recipient_sealed)
            .ok()
            .and_then(|address| outbox_port::Recipient::parse(channel, &address).ok());
        let code = match &self.code_sealed {
            None => Ok(None),
            Some(sealed) => cipher.decrypt(sealed).map(Some),
        };
        let params = code
            .ok()
            .and_then(|code| outbox_port::Params::from_stored(&self.params, code.as_deref()).ok());
        Ok(outbox_port::Message {
            id: self.id,
            recipient,
            channel,
            template: self.template,
            language: self.language,
            params,
            idempotency_key: self.idempotency_key,
            business_ref: self.business_ref,
            attempts: u32::try_from(self.attempts).unwrap_or(0),
            created_at: self.created_at,
            lease_until: outbox_time(self.due_us)?,
        })
    }
}

async fn op_outbox_claim(
    db: &Ctx,
    worker: &str,
    limit: u32,
    lease: std::time::Duration,
    now: time::OffsetDateTime,
) -> Result<Vec<outbox_port::Message>, StoreError> {
    let now = sanad_domain::audit::storable_time(now);
    let lease_until = now + lease;
    // The rows are picked and leased in one statement; on PostgreSQL a concurrent claim skips the
    // rows this one locked, on SQLite the writer's transaction keeps every other claim out.
    let sql = format!(
        "WITH picked AS (SELECT id FROM outbox_messages \
         WHERE state IN ('queued', 'failed', 'in_flight') AND due_us <= $1 \
         ORDER BY due_us, id LIMIT $2{OUTBOX_SKIP_LOCKED}) \
         UPDATE outbox_messages SET state = 'in_flight', lease_owner = $3, due_us = $4, \
         attempts = attempts + 1, updated_at = $5 \
         WHERE id IN (SELECT id FROM picked) \
         RETURNING id, channel, recipient_sealed, template, language, params, code_sealed, \
         idempotency_key, business_ref, attempts, created_at, due_us"
    );
    let mut tx = begin_write(db).await?;
    let rows: Vec<ClaimedRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(outbox_us(now))
        .bind(i64::from(limit.clamp(1, 10_000)))
        .bind(worker)
        .bind(outbox_us(lease_until))
        .bind(now)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    let mut messages = rows
        .into_iter()
        .map(|r| r.open(&db.cipher))
        .collect::<Result<Vec<_>, _>>()?;
    // RETURNING keeps no order.
    messages.sort_by_key(|m| m.id);
    Ok(messages)
}

async fn op_outbox_mark_sent(
    db: &Ctx,
    id: i64,
    worker: &str,
    provider_ref: &str,
    at: time::OffsetDateTime,
) -> Result<bool, StoreError> {
    let at = sanad_domain::audit::storable_time(at);
    let mut tx = begin_write(db).await?;
    let done = sqlx::query(
        "UPDATE outbox_messages SET state = 'sent', provider_ref = $1, sent_at = $2, updated_at = $2, \
         lease_owner = NULL WHERE id = $3 AND state = 'in_flight' AND lease_owner = $4",
    )
    .bind(provider_ref)
    .bind(at)
    .bind(id)
    .bind(worker)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?
    .rows_affected();
    tx.commit().await.map_err(db_error)?;
    Ok(done == 1)
}

async fn op_outbox_mark_failed(
    db: &Ctx,
    id: i64,
    worker: &str,
    error: &str,
    retry_at: Option<time::OffsetDateTime>,
    at: time::OffsetDateTime,
) -> Result<bool, StoreError> {
    let at = sanad_domain::audit::storable_time(at);
    let (state, due) = match retry_at {
        Some(r) => ("failed", r),
        None => ("dead", at),
    };
    let mut tx = begin_write(db).await?;
    let done = sqlx::query(
        "UPDATE outbox_messages SET state = $1, last_error = $2, due_us = $3, updated_at = $4, \
         lease_owner = NULL WHERE id = $5 AND state = 'in_flight' AND lease_owner = $6",
    )
    .bind(state)
    .bind(error)
    .bind(outbox_us(due))
    .bind(at)
    .bind(id)
    .bind(worker)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?
    .rows_affected();
    tx.commit().await.map_err(db_error)?;
    Ok(done == 1)
}

async fn op_outbox_stats(db: &Ctx) -> Result<outbox_port::OutboxStats, StoreError> {
    let counts: Vec<(String, i64)> =
        sqlx::query_as("SELECT state, COUNT(*) FROM outbox_messages GROUP BY state")
            .fetch_all(&db.pool)
            .await
            .map_err(db_error)?;
    let mut stats = outbox_port::OutboxStats::default();
    for (state, n) in counts {
        let n = u64::try_from(n).unwrap_or(0);
        match outbox_state(&state)? {
            outbox_port::MessageState::Queued => stats.queued = n,
            outbox_port::MessageState::InFlight => stats.in_flight = n,
            outbox_port::MessageState::Sent => stats.sent = n,
            outbox_port::MessageState::Failed => stats.failed = n,
            outbox_port::MessageState::Dead => stats.dead = n,
        }
    }
    // Ids grow with time: the smallest waiting id is the oldest waiting message.
    stats.oldest_unsent = sqlx::query_scalar(
        "SELECT created_at FROM outbox_messages WHERE state IN ('queued', 'failed', 'in_flight') \
         ORDER BY id LIMIT 1",
    )
    .fetch_optional(&db.pool)
    .await
    .map_err(db_error)?;
    Ok(stats)
}

#[derive(sqlx::FromRow)]
struct SummaryOutboxRow {
    id: i64,
    channel: String,
    template: String,
    language: String,
    business_ref: Option<String>,
    state: String,
    attempts: i32,
    last_error: Option<String>,
    provider_ref: Option<String>,
    created_at: time::OffsetDateTime,
    due_us: i64,
}

const OUTBOX_SUMMARY_COLUMNS: &str = "id, channel, template, language, business_ref, state, attempts, \
     last_error, provider_ref, created_at, due_us";

impl SummaryOutboxRow {
    fn summary(self) -> Result<outbox_port::MessageSummary, StoreError> {
        Ok(outbox_port::MessageSummary {
            id: self.id,
            channel: outbox_channel(&self.channel)?,
            template: self.template,
            language: self.language,
            business_ref: self.business_ref,
            state: outbox_state(&self.state)?,
            attempts: u32::try_from(self.attempts).unwrap_or(0),
            last_error: self.last_error,
            provider_ref: self.provider_ref,
            created_at: self.created_at,
            due_at: outbox_time(self.due_us)?,
        })
    }
}

async fn op_outbox_dead(db: &Ctx, limit: u32) -> Result<Vec<outbox_port::MessageSummary>, StoreError> {
    let sql = format!(
        "SELECT {OUTBOX_SUMMARY_COLUMNS} FROM outbox_messages WHERE state = 'dead' ORDER BY id DESC LIMIT $1"
    );
    let rows: Vec<SummaryOutboxRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(i64::from(limit.clamp(1, 1000)))
        .fetch_all(&db.pool)
        .await
        .map_err(db_error)?;
    rows.into_iter().map(SummaryOutboxRow::summary).collect()
}

async fn op_outbox_message(db: &Ctx, id: i64) -> Result<Option<outbox_port::MessageSummary>, StoreError> {
    let sql = format!("SELECT {OUTBOX_SUMMARY_COLUMNS} FROM outbox_messages WHERE id = $1");
    let row: Option<SummaryOutboxRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&db.pool)
        .await
        .map_err(db_error)?;
    row.map(SummaryOutboxRow::summary).transpose()
}

macro_rules! outbox_store {
    ($store:ty) => {
        #[async_trait]
        impl sanad_app::outbox::OutboxStore for $store {
            async fn enqueue(
                &self,
                message: &outbox_port::NewMessage,
                at: time::OffsetDateTime,
            ) -> Result<outbox_port::Enqueued, StoreError> {
                let mut tx = begin_write(&self.ctx).await?;
                let done = op_enqueue(&mut tx, &self.ctx.cipher, message, at).await?;
                tx.commit().await.map_err(db_error)?;
                Ok(done)
            }

            async fn claim(
                &self,
                worker: &str,
                limit: u32,
                lease: std::time::Duration,
                now: time::OffsetDateTime,
            ) -> Result<Vec<outbox_port::Message>, StoreError> {
                op_outbox_claim(&self.ctx, worker, limit, lease, now).await
            }

            async fn mark_sent(
                &self,
                id: i64,
                worker: &str,
                provider_ref: &str,
                at: time::OffsetDateTime,
            ) -> Result<bool, StoreError> {
                op_outbox_mark_sent(&self.ctx, id, worker, provider_ref, at).await
            }

            async fn mark_failed(
                &self,
                id: i64,
                worker: &str,
                error: &str,
                retry_at: Option<time::OffsetDateTime>,
                at: time::OffsetDateTime,
            ) -> Result<bool, StoreError> {
                op_outbox_mark_failed(&self.ctx, id, worker, error, retry_at, at).await
            }

            async fn stats(&self) -> Result<outbox_port::OutboxStats, StoreError> {
                op_outbox_stats(&self.ctx).await
            }

            async fn dead_messages(
                &self,
                limit: u32,
            ) -> Result<Vec<outbox_port::MessageSummary>, StoreError> {
                op_outbox_dead(&self.ctx, limit).await
            }

            async fn message(
                &self,
                id: i64,
            ) -> Result<Option<outbox_port::MessageSummary>, StoreError> {
                op_outbox_message(&self.ctx, id).await
            }
        }
    };
}
