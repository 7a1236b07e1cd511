// The documents port, one text for both backends (included by sqlite.rs and postgres.rs).
//
// A document is numbered from the yearly counters the requests use (prefix `CT`), signed by the
// use-case's closure once numbered, and recorded with its audit event in the caller's
// transaction: the move that ends a request and the card it issues commit together or not at all,
// and the numbers of a year have no gaps.

use sanad_app::certificates::{
    CertificateKeyRow, IssuedCertificate, NewCertificate, Revocation, RevocationReason,
};

#[derive(sqlx::FromRow)]
struct CertificateRow {
    id: String,
    kind: String,
    household_id: i64,
    person_id: Option<i64>,
    request_id: Option<i64>,
    commune_code: String,
    key_id: String,
    payload: String,
    issued_at: time::OffsetDateTime,
    issued_by: String,
    revoked_at: Option<time::OffsetDateTime>,
    revoked_by: Option<String>,
    revocation_reason: Option<String>,
    revocation_note: Option<String>,
}

const CERTIFICATE_COLUMNS: &str = "id, kind, household_id, person_id, request_id, commune_code, key_id, \
    payload, issued_at, issued_by, revoked_at, revoked_by, revocation_reason, revocation_note";

impl CertificateRow {
    fn into_certificate(self) -> Result<IssuedCertificate, StoreError> {
        let revocation = match (self.revoked_at, self.revocation_reason) {
            (Some(at), Some(reason)) => Some(Revocation {
                at,
                by: self.revoked_by.unwrap_or_default(),
                reason: RevocationReason::parse(&reason).ok_or_else(|| {
                    StoreError::Internal(format!("certificate {}: revocation reason {reason}", self.id))
                })?,
                note: self.revocation_note.unwrap_or_default(),
            }),
            _ => None,
        };
        Ok(IssuedCertificate {
            id: self.id,
            kind: self.kind,
            household_id: crate::rows::household_id(self.household_id)?,
            person_id: self.person_id.map(crate::rows::person_id).transpose()?,
            request_id: self.request_id,
            commune_code: self.commune_code,
            key_id: self.key_id,
            payload: self.payload,
            issued_at: self.issued_at,
            issued_by: self.issued_by,
            revocation,
        })
    }
}

#[derive(sqlx::FromRow)]
struct CertificateKeyDbRow {
    key_id: String,
    public_key: String,
    status: String,
    recorded_at: time::OffsetDateTime,
    retired_at: Option<time::OffsetDateTime>,
}

impl From<CertificateKeyDbRow> for CertificateKeyRow {
    fn from(r: CertificateKeyDbRow) -> Self {
        CertificateKeyRow {
            key_id: r.key_id,
            public_key: r.public_key,
            active: r.status == "active",
            recorded_at: r.recorded_at,
            retired_at: r.retired_at,
        }
    }
}

async fn op_certificate_keys(db: &Ctx) -> Result<Vec<CertificateKeyRow>, StoreError> {
    let rows: Vec<CertificateKeyDbRow> = sqlx::query_as(
        "SELECT key_id, public_key, status, recorded_at, retired_at FROM certificate_keys \
         ORDER BY recorded_at, key_id",
    )
    .fetch_all(&db.pool)
    .await
    .map_err(db_error)?;
    Ok(rows.into_iter().map(CertificateKeyRow::from).collect())
}

async fn active_certificate_key(tx: &mut Tx) -> Result<Option<CertificateKeyRow>, StoreError> {
    let row: Option<CertificateKeyDbRow> = sqlx::query_as(
        "SELECT key_id, public_key, status, recorded_at, retired_at FROM certificate_keys \
         WHERE status = 'active'",
    )
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_error)?;
    Ok(row.map(CertificateKeyRow::from))
}

async fn op_record_certificate_key(
    db: &Ctx,
    key_id: &str,
    public_key: &str,
    at: time::OffsetDateTime,
) -> Result<CertificateKeyRow, StoreError> {
    let mut tx = begin_write(db).await?;
    if let Some(active) = active_certificate_key(&mut tx).await? {
        return Ok(active);
    }
    // Two processes starting together: the unique index on the active key keeps one.
    sqlx::query(
        "INSERT INTO certificate_keys (key_id, public_key, status, recorded_at) \
         VALUES ($1, $2, 'active', $3) ON CONFLICT DO NOTHING",
    )
    .bind(key_id)
    .bind(public_key)
    .bind(sanad_domain::audit::storable_time(at))
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let active = active_certificate_key(&mut tx).await?;
    tx.commit().await.map_err(db_error)?;
    active.ok_or_else(|| {
        StoreError::Internal(format!("the certificate key {key_id} is recorded as retired and no key is active"))
    })
}

async fn op_rotate_certificate_key(
    db: &Ctx,
    old_key_id: &str,
    new_key_id: &str,
    new_public_key: &str,
    change: &Change,
) -> Result<(), StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let mut tx = begin_write(db).await?;
    let retired = sqlx::query(
        "UPDATE certificate_keys SET status = 'retired', retired_at = $1 \
         WHERE key_id = $2 AND status = 'active'",
    )
    .bind(at)
    .bind(old_key_id)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?
    .rows_affected();
    if retired == 0 {
        return Err(StoreError::Conflict {
            field: "key".into(),
            code: "not_active",
            message: format!("the certificate key {old_key_id} is not this database's active key"),
        });
    }
    let inserted = sqlx::query(
        "INSERT INTO certificate_keys (key_id, public_key, status, recorded_at) \
         VALUES ($1, $2, 'active', $3) ON CONFLICT DO NOTHING",
    )
    .bind(new_key_id)
    .bind(new_public_key)
    .bind(at)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?
    .rows_affected();
    if inserted == 0 {
        return Err(StoreError::Conflict {
            field: "new_key".into(),
            code: "known_key",
            message: format!("the key {new_key_id} was used before: rotate to a new key"),
        });
    }
    append_audit(
        &mut tx,
        at,
        vec![AuditEntry {
            actor: change.actor.clone(),
            action: "certificate_key.rotated".into(),
            entity_type: "certificate_key".into(),
            entity_id: new_key_id.to_string(),
            details: serde_json::json!({
                "retired": old_key_id,
                "public_key": new_public_key,
                "reason": change.reason,
            })
            .to_string(),
        }],
    )
    .await?;
    tx.commit().await.map_err(db_error)
}

/// Numbers, signs and records a document inside `tx`, with its audit event.
async fn op_insert_certificate(
    tx: &mut Tx,
    c: &NewCertificate,
    request_id: Option<i64>,
    change: &Change,
) -> Result<String, StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let year = at.year();
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO request_counters (prefix, year, next) VALUES ($1, $2, 2) \
         ON CONFLICT (prefix, year) DO UPDATE SET next = request_counters.next + 1 RETURNING next - 1",
    )
    .bind(&c.prefix)
    .bind(i64::from(year))
    .fetch_one(&mut **tx)
    .await
    .map_err(db_error)?;
    let id = (c.format_id)(&c.prefix, year, seq as u64);
    let signed = (c.sign)(&id)
        .map_err(|e| StoreError::Internal(format!("signing certificate {id}: {e}")))?;
    // A server started before a rotation holds a retired key: it signs nothing more.
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM certificate_keys WHERE key_id = $1")
        .bind(&signed.key_id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_error)?;
    if status.as_deref() != Some("active") {
        return Err(StoreError::Conflict {
            field: "certificate_key".into(),
            code: "key_retired",
            message: format!(
                "the certificate key {} is not this database's active key (rotated?): restart with the current key file",
                signed.key_id
            ),
        });
    }
    sqlx::query(
        "INSERT INTO certificates (id, kind, household_id, person_id, request_id, commune_code, key_id, \
         payload, issued_at, issued_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(c.kind.code())
    .bind(serial_h(c.household_id))
    .bind(c.person_id.map(serial_p))
    .bind(request_id)
    .bind(&c.commune_code)
    .bind(&signed.key_id)
    .bind(&signed.payload)
    .bind(at)
    .bind(&change.actor)
    .execute(&mut **tx)
    .await
    .map_err(db_error)?;
    // The trail names the document, its kind, its holder's ids and the key; the content itself
    // is in the certificates table.
    append_audit(
        tx,
        at,
        vec![AuditEntry {
            actor: change.actor.clone(),
            action: "certificate.issued".into(),
            entity_type: "certificate".into(),
            entity_id: id.clone(),
            details: serde_json::json!({
                "kind": c.kind.code(),
                "household": c.household_id.to_string(),
                "person": c.person_id.map(|p| p.to_string()),
                "request": request_id,
                "key_id": signed.key_id,
                "payload_sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(signed.payload.as_bytes())),
                "reason": change.reason,
            })
            .to_string(),
        }],
    )
    .await?;
    Ok(id)
}

async fn op_issue_certificate(
    db: &Ctx,
    c: &NewCertificate,
    change: &Change,
) -> Result<IssuedCertificate, StoreError> {
    let mut tx = begin_write(db).await?;
    let id = op_insert_certificate(&mut tx, c, None, change).await?;
    tx.commit().await.map_err(db_error)?;
    op_certificate(db, &id).await?.ok_or(StoreError::NotFound)
}

async fn op_certificate(db: &Ctx, id: &str) -> Result<Option<IssuedCertificate>, StoreError> {
    let row: Option<CertificateRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&db.pool)
    .await
    .map_err(db_error)?;
    row.map(CertificateRow::into_certificate).transpose()
}

async fn op_household_certificates(
    db: &Ctx,
    household: HouseholdId,
) -> Result<Vec<IssuedCertificate>, StoreError> {
    let rows: Vec<CertificateRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE household_id = $1 ORDER BY issued_at DESC, id DESC"
    )))
    .bind(serial_h(household))
    .fetch_all(&db.pool)
    .await
    .map_err(db_error)?;
    rows.into_iter().map(CertificateRow::into_certificate).collect()
}

async fn op_request_certificate(db: &Ctx, request_id: i64) -> Result<Option<IssuedCertificate>, StoreError> {
    let row: Option<CertificateRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE request_id = $1"
    )))
    .bind(request_id)
    .fetch_optional(&db.pool)
    .await
    .map_err(db_error)?;
    row.map(CertificateRow::into_certificate).transpose()
}

async fn op_revoke_certificate(
    db: &Ctx,
    id: &str,
    reason: RevocationReason,
    note: &str,
    change: &Change,
) -> Result<IssuedCertificate, StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let mut tx = begin_write(db).await?;
    let revoked = sqlx::query(
        "UPDATE certificates SET revoked_at = $1, revoked_by = $2, revocation_reason = $3, revocation_note = $4 \
         WHERE id = $5 AND revoked_at IS NULL",
    )
    .bind(at)
    .bind(&change.actor)
    .bind(reason.as_str())
    .bind(note)
    .bind(id)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?
    .rows_affected();
    if revoked == 0 {
        let exists: Option<String> = sqlx::query_scalar("SELECT id FROM certificates WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
        return Err(match exists {
            None => StoreError::NotFound,
            Some(_) => StoreError::Conflict {
                field: "certificate".into(),
                code: "already_revoked",
                message: format!("the document {id} is revoked already"),
            },
        });
    }
    append_audit(
        &mut tx,
        at,
        vec![AuditEntry {
            actor: change.actor.clone(),
            action: "certificate.revoked".into(),
            entity_type: "certificate".into(),
            entity_id: id.to_string(),
            details: serde_json::json!({ "revocation": reason.as_str(), "reason": change.reason }).to_string(),
        }],
    )
    .await?;
    tx.commit().await.map_err(db_error)?;
    op_certificate(db, id).await?.ok_or(StoreError::NotFound)
}

macro_rules! certificate_store {
    ($store:ty) => {
        #[async_trait]
        impl sanad_app::certificates::CertificateStore for $store {
            async fn certificate_keys(&self) -> Result<Vec<CertificateKeyRow>, StoreError> {
                op_certificate_keys(&self.ctx).await
            }

            async fn record_certificate_key(
                &self,
                key_id: &str,
                public_key: &str,
                at: time::OffsetDateTime,
            ) -> Result<CertificateKeyRow, StoreError> {
                op_record_certificate_key(&self.ctx, key_id, public_key, at).await
            }

            async fn rotate_certificate_key(
                &self,
                old_key_id: &str,
                new_key_id: &str,
                new_public_key: &str,
                change: &Change,
            ) -> Result<(), StoreError> {
                op_rotate_certificate_key(&self.ctx, old_key_id, new_key_id, new_public_key, change).await
            }

            async fn issue_certificate(&self, c: &NewCertificate, change: &Change) -> Result<IssuedCertificate, StoreError> {
                op_issue_certificate(&self.ctx, c, change).await
            }

            async fn certificate(&self, id: &str) -> Result<Option<IssuedCertificate>, StoreError> {
                op_certificate(&self.ctx, id).await
            }

            async fn household_certificates(&self, household: HouseholdId) -> Result<Vec<IssuedCertificate>, StoreError> {
                op_household_certificates(&self.ctx, household).await
            }

            async fn request_certificate(&self, request_id: i64) -> Result<Option<IssuedCertificate>, StoreError> {
                op_request_certificate(&self.ctx, request_id).await
            }

            async fn revoke_certificate(
                &self,
                id: &str,
                reason: RevocationReason,
                note: &str,
                change: &Change,
            ) -> Result<IssuedCertificate, StoreError> {
                op_revoke_certificate(&self.ctx, id, reason, note, change).await
            }
        }
    };
}
