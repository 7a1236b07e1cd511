// The keys port (`KeyringStore`), same SQL on both backends. `include!`d after `ops.rs` into the
// `sqlite` and `postgres` modules, like it.

use sanad_app::crypto::DataCipher;
use sanad_app::keyring::{
    InstallationKey, KeyEndorsement, KeyKind, KeyringStore, Relation, Rotation, SealedCount,
};

/// Rows read per page when walking sealed values.
const KEY_PAGE: i64 = 5_000;
/// Rows written per statement by a rotation (5 parameters each, under both backends' limits).
const RESEAL_ROWS: usize = 1_000;

type KeyRow = (String, String, Option<String>, String, time::OffsetDateTime);

fn key_from_row((kind, fingerprint, public_key, status, recorded_at): KeyRow) -> Result<InstallationKey, StoreError> {
    Ok(InstallationKey {
        kind: KeyKind::parse(&kind)
            .ok_or_else(|| StoreError::Internal(format!("stored key kind `{kind}` is not valid")))?,
        fingerprint,
        public_key,
        active: status == "active",
        recorded_at,
    })
}

async fn op_installation_keys(db: &Ctx) -> Result<Vec<InstallationKey>, StoreError> {
    let rows: Vec<KeyRow> = sqlx::query_as(
        "SELECT kind, fingerprint, public_key, status, recorded_at FROM installation_keys \
         ORDER BY recorded_at, fingerprint",
    )
    .fetch_all(&db.pool)
    .await
    .map_err(db_error)?;
    rows.into_iter().map(key_from_row).collect()
}

async fn active_key(tx: &mut Tx, kind: KeyKind) -> Result<Option<InstallationKey>, StoreError> {
    let row: Option<KeyRow> = sqlx::query_as(
        "SELECT kind, fingerprint, public_key, status, recorded_at FROM installation_keys \
         WHERE kind = $1 AND status = 'active'",
    )
    .bind(kind.as_str())
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_error)?;
    row.map(key_from_row).transpose()
}

async fn op_record_key(
    db: &Ctx,
    kind: KeyKind,
    fingerprint: &str,
    public_key: Option<&str>,
    at: time::OffsetDateTime,
) -> Result<InstallationKey, StoreError> {
    let mut tx = begin_write(db).await?;
    if let Some(active) = active_key(&mut tx, kind).await? {
        return Ok(active);
    }
    // Another process may record its key between the read and the insert: the unique index on
    // the active key of a kind keeps one, and the read below names it.
    sqlx::query(
        "INSERT INTO installation_keys (kind, fingerprint, public_key, status, recorded_at) \
         VALUES ($1, $2, $3, 'active', $4) ON CONFLICT DO NOTHING",
    )
    .bind(kind.as_str())
    .bind(fingerprint)
    .bind(public_key)
    .bind(sanad_domain::audit::storable_time(at))
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let active = active_key(&mut tx, kind).await?;
    tx.commit().await.map_err(db_error)?;
    active.ok_or_else(|| {
        StoreError::Internal(format!("the {kind} key {fingerprint} is recorded as retired and no key is active"))
    })
}

async fn op_sealed_sample(db: &Ctx) -> Result<Option<String>, StoreError> {
    let person: Option<String> = sqlx::query_scalar(
        "SELECT COALESCE(national_id_enc, phone_enc) FROM persons \
         WHERE national_id_enc IS NOT NULL OR phone_enc IS NOT NULL LIMIT 1",
    )
    .fetch_optional(&db.pool)
    .await
    .map_err(db_error)?;
    if person.is_some() {
        return Ok(person);
    }
    let snapshot: Option<String> = sqlx::query_scalar(
        "SELECT snapshot FROM household_versions WHERE snapshot LIKE '%\"sealed:%' LIMIT 1",
    )
    .fetch_optional(&db.pool)
    .await
    .map_err(db_error)?;
    Ok(snapshot.as_deref().and_then(crate::rows::first_sealed))
}

async fn op_checkpoint_keys(db: &Ctx) -> Result<Vec<String>, StoreError> {
    sqlx::query_scalar("SELECT DISTINCT public_key FROM audit_checkpoints ORDER BY public_key")
        .fetch_all(&db.pool)
        .await
        .map_err(db_error)
}

type SealedPersonRow = (i64, Option<String>, Option<String>);
type SealedVersionRow = (i64, i64, String);

async fn sealed_persons_page<'e, E>(exec: E, after: i64) -> Result<Vec<SealedPersonRow>, StoreError>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    sqlx::query_as(
        "SELECT id, national_id_enc, phone_enc FROM persons \
         WHERE id > $1 AND (national_id_enc IS NOT NULL OR phone_enc IS NOT NULL) ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(KEY_PAGE)
    .fetch_all(exec)
    .await
    .map_err(db_error)
}

async fn sealed_versions_page<'e, E>(
    exec: E,
    after: (i64, i64),
) -> Result<Vec<SealedVersionRow>, StoreError>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    sqlx::query_as(
        "SELECT household_id, version, snapshot FROM household_versions \
         WHERE (household_id > $1 OR (household_id = $1 AND version > $2)) AND snapshot IS NOT NULL \
         ORDER BY household_id, version LIMIT $3",
    )
    .bind(after.0)
    .bind(after.1)
    .bind(KEY_PAGE)
    .fetch_all(exec)
    .await
    .map_err(db_error)
}

async fn op_count_sealed(db: &Ctx, cipher: &DataCipher) -> Result<SealedCount, StoreError> {
    let mut count = SealedCount::default();
    let mut tally = |opens: bool| {
        if opens {
            count.opened += 1
        } else {
            count.refused += 1
        }
    };
    let mut after = 0;
    loop {
        let page = sealed_persons_page(&db.pool, after).await?;
        let Some(last) = page.last() else { break };
        after = last.0;
        for (_, nid, phone) in &page {
            for enc in [nid, phone].into_iter().flatten() {
                tally(cipher.decrypt(enc).is_ok());
            }
        }
    }
    let mut after = (0, 0);
    loop {
        let page = sealed_versions_page(&db.pool, after).await?;
        let Some(last) = page.last() else { break };
        after = (last.0, last.1);
        for (_, _, snapshot) in &page {
            let (opened, refused) = crate::rows::count_snapshot(snapshot, cipher);
            count.opened += opened;
            count.refused += refused;
        }
    }
    Ok(count)
}

fn reseal(old: &DataCipher, new: &DataCipher, enc: Option<&String>, id: i64) -> Result<(Option<String>, Option<String>), StoreError> {
    let clear = enc
        .map(|e| {
            old.decrypt(e).map_err(|_| {
                StoreError::Internal(format!(
                    "a sealed value of person {} does not open under the active data key",
                    person_id(id).map(|p| p.to_string()).unwrap_or_default()
                ))
            })
        })
        .transpose()?;
    crate::rows::seal(new, clear.as_deref())
}

/// Refuses unless `fingerprint` is the active key of `kind`, and unless `new` is a key this
/// database has never used.
async fn check_rotation(tx: &mut Tx, kind: KeyKind, fingerprint: &str, new: &str) -> Result<(), StoreError> {
    let active = active_key(tx, kind).await?;
    if active.as_ref().map(|k| k.fingerprint.as_str()) != Some(fingerprint) {
        return Err(StoreError::Conflict {
            field: format!("{kind}_key_file"),
            code: "not_active_key",
            message: format!(
                "the active {kind} key of this database (fingerprint {}), not {fingerprint}",
                active.map(|k| k.fingerprint).unwrap_or_else(|| "none recorded".into())
            ),
        });
    }
    let known: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM installation_keys WHERE kind = $1 AND fingerprint = $2")
        .bind(kind.as_str())
        .bind(new)
        .fetch_one(&mut **tx)
        .await
        .map_err(db_error)?;
    if known > 0 {
        return Err(StoreError::Conflict {
            field: "new_key".into(),
            code: "key_used_before",
            message: format!("a key this database has never used; {new} was used before"),
        });
    }
    Ok(())
}

async fn switch_active_key(
    tx: &mut Tx,
    kind: KeyKind,
    new: &str,
    public_key: Option<&str>,
    at: time::OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE installation_keys SET status = 'retired' WHERE kind = $1 AND status = 'active'")
        .bind(kind.as_str())
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    sqlx::query(
        "INSERT INTO installation_keys (kind, fingerprint, public_key, status, recorded_at) \
         VALUES ($1, $2, $3, 'active', $4)",
    )
    .bind(kind.as_str())
    .bind(new)
    .bind(public_key)
    .bind(at)
    .execute(&mut **tx)
    .await
    .map_err(db_error)?;
    Ok(())
}

fn rotation_entry(change: &Change, kind: KeyKind, old: &str, new: &str, extra: serde_json::Value) -> AuditEntry {
    let mut details = serde_json::json!({ "retired": old, "active": new, "reason": change.reason });
    if let (Some(d), serde_json::Value::Object(more)) = (details.as_object_mut(), extra) {
        d.extend(more);
    }
    AuditEntry {
        actor: change.actor.clone(),
        action: format!("key.rotate_{kind}"),
        entity_type: "installation_key".into(),
        entity_id: kind.as_str().into(),
        details: details.to_string(),
    }
}

async fn op_rotate_data_key(
    db: &Ctx,
    old: &DataCipher,
    new: &DataCipher,
    change: &Change,
    progress: &dyn sanad_app::store::Progress,
) -> Result<Rotation, StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let mut tx = begin_write(db).await?;
    // No writer may seal a value under the old key while the rotation runs.
    lock_writers(&mut tx).await?;
    check_rotation(&mut tx, KeyKind::Data, old.fingerprint(), new.fingerprint()).await?;
    let mut done = Rotation::default();
    let (persons, versions): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM persons WHERE national_id_enc IS NOT NULL OR phone_enc IS NOT NULL), \
         (SELECT COUNT(*) FROM household_versions WHERE snapshot IS NOT NULL)",
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    progress.phase("resealing persons", persons as u64);
    let mut after = 0;
    loop {
        let page = sealed_persons_page(&mut *tx, after).await?;
        let Some(last) = page.last() else { break };
        after = last.0;
        let mut rows = Vec::with_capacity(page.len());
        for (id, nid, phone) in &page {
            let (nid_hash, nid_enc) = reseal(old, new, nid.as_ref(), *id)?;
            let (phone_hash, phone_enc) = reseal(old, new, phone.as_ref(), *id)?;
            rows.push((*id, nid_hash, nid_enc, phone_hash, phone_enc));
        }
        // Many rows per statement: VALUES columns are named column1… on both backends.
        for chunk in rows.chunks(RESEAL_ROWS) {
            let mut q = QueryBuilder::<Db>::new(
                "UPDATE persons SET national_id_hash = v.column2, national_id_enc = v.column3, \
                 phone_hash = v.column4, phone_enc = v.column5 FROM (",
            );
            q.push_values(chunk, |mut b, (id, nh, ne, ph, pe)| {
                b.push_bind(*id)
                    .push_bind(nh.clone())
                    .push_bind(ne.clone())
                    .push_bind(ph.clone())
                    .push_bind(pe.clone());
            });
            q.push(") AS v WHERE persons.id = v.column1");
            q.build().execute(&mut *tx).await.map_err(db_error)?;
        }
        done.persons += rows.len() as u64;
        progress.advance(done.persons);
    }
    progress.phase("resealing household versions", versions as u64);
    let mut seen = 0u64;
    let mut after = (0, 0);
    loop {
        let page = sealed_versions_page(&mut *tx, after).await?;
        let Some(last) = page.last() else { break };
        after = (last.0, last.1);
        let mut rows = Vec::new();
        for (household, version, snapshot) in &page {
            if let Some(resealed) = crate::rows::reseal_snapshot(snapshot, old, new)? {
                rows.push((*household, *version, resealed));
            }
        }
        for chunk in rows.chunks(RESEAL_ROWS) {
            let mut q = QueryBuilder::<Db>::new(
                "UPDATE household_versions SET snapshot = v.column3 FROM (",
            );
            q.push_values(chunk, |mut b, (household, version, snapshot)| {
                b.push_bind(*household)
                    .push_bind(*version)
                    .push_bind(snapshot.clone());
            });
            q.push(
                ") AS v WHERE household_versions.household_id = v.column1 \
                 AND household_versions.version = v.column2",
            );
            q.build().execute(&mut *tx).await.map_err(db_error)?;
        }
        done.versions += rows.len() as u64;
        seen += page.len() as u64;
        progress.advance(seen);
    }
    switch_active_key(&mut tx, KeyKind::Data, new.fingerprint(), None, at).await?;
    let entry = rotation_entry(
        change,
        KeyKind::Data,
        old.fingerprint(),
        new.fingerprint(),
        serde_json::json!({ "persons": done.persons, "versions": done.versions }),
    );
    append_audit(&mut tx, at, vec![entry]).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(done)
}

async fn op_rotate_audit_key(
    db: &Ctx,
    old_fingerprint: &str,
    new_fingerprint: &str,
    new_public_key: &str,
    endorsements: &[KeyEndorsement],
    change: &Change,
) -> Result<(), StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let mut tx = begin_write(db).await?;
    // The integrator signs no head while the key changes, so the extent is final.
    lock_log(&mut tx).await?;
    let extent = signed_extent(&mut *tx).await?;
    if endorsements.iter().any(|e| e.up_to_seq != extent) {
        return Err(StoreError::Conflict {
            field: "audit_head".into(),
            code: "chain_moved",
            message: format!("statements naming the signed extent of the log ({extent} leaves)"),
        });
    }
    check_rotation(&mut tx, KeyKind::Audit, old_fingerprint, new_fingerprint).await?;
    switch_active_key(&mut tx, KeyKind::Audit, new_fingerprint, Some(new_public_key), at).await?;
    for e in endorsements {
        sqlx::query(
            "INSERT INTO audit_key_endorsements (endorser, endorsed, relation, up_to_seq, at, signature) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(&e.endorser)
        .bind(&e.endorsed)
        .bind(e.relation.as_str())
        .bind(e.up_to_seq)
        .bind(e.at)
        .bind(&e.signature)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    }
    let entry = rotation_entry(change, KeyKind::Audit, old_fingerprint, new_fingerprint, serde_json::json!({}));
    append_audit(&mut tx, at, vec![entry]).await?;
    tx.commit().await.map_err(db_error)
}

async fn op_audit_key_endorsements(db: &Ctx) -> Result<Vec<KeyEndorsement>, StoreError> {
    let rows: Vec<(String, String, String, i64, time::OffsetDateTime, String)> = sqlx::query_as(
        "SELECT endorser, endorsed, relation, up_to_seq, at, signature FROM audit_key_endorsements \
         ORDER BY at, endorser",
    )
    .fetch_all(&db.pool)
    .await
    .map_err(db_error)?;
    rows.into_iter()
        .map(|(endorser, endorsed, relation, up_to_seq, at, signature)| {
            Ok(KeyEndorsement {
                endorser,
                endorsed,
                relation: Relation::parse(&relation).ok_or_else(|| {
                    StoreError::Internal(format!("stored endorsement relation `{relation}` is not valid"))
                })?,
                up_to_seq,
                at,
                signature,
            })
        })
        .collect()
}

/// How far the signatures of the current audit key reach: the largest tree head signed, or the
/// last checkpoint of the old chain (whose event seq counts its leaves), in leaves.
async fn signed_extent<'e, E>(executor: E) -> Result<i64, StoreError>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    sqlx::query_scalar(
        "SELECT MAX(x) FROM (SELECT COALESCE(MAX(size), 0) AS x FROM audit_tree_heads \
         UNION ALL SELECT COALESCE(MAX(seq), 0) AS x FROM audit_checkpoints) AS extent",
    )
    .fetch_one(executor)
    .await
    .map_err(db_error)
}

async fn op_audit_head_seq(db: &Ctx) -> Result<i64, StoreError> {
    signed_extent(&db.pool).await
}

macro_rules! keyring_store {
    ($store:ty) => {
        #[async_trait]
        impl KeyringStore for $store {
            async fn installation_keys(&self) -> Result<Vec<InstallationKey>, StoreError> {
                op_installation_keys(&self.ctx).await
            }

            async fn record_key(
                &self,
                kind: KeyKind,
                fingerprint: &str,
                public_key: Option<&str>,
                at: time::OffsetDateTime,
            ) -> Result<InstallationKey, StoreError> {
                op_record_key(&self.ctx, kind, fingerprint, public_key, at).await
            }

            async fn sealed_sample(&self) -> Result<Option<String>, StoreError> {
                op_sealed_sample(&self.ctx).await
            }

            async fn checkpoint_keys(&self) -> Result<Vec<String>, StoreError> {
                op_checkpoint_keys(&self.ctx).await
            }

            async fn count_sealed(&self, cipher: &DataCipher) -> Result<SealedCount, StoreError> {
                op_count_sealed(&self.ctx, cipher).await
            }

            async fn rotate_data_key(
                &self,
                old: &DataCipher,
                new: &DataCipher,
                change: &Change,
                progress: &dyn sanad_app::store::Progress,
            ) -> Result<Rotation, StoreError> {
                op_rotate_data_key(&self.ctx, old, new, change, progress).await
            }

            async fn rotate_audit_key(
                &self,
                old_fingerprint: &str,
                new_fingerprint: &str,
                new_public_key: &str,
                endorsements: &[KeyEndorsement],
                change: &Change,
            ) -> Result<(), StoreError> {
                op_rotate_audit_key(
                    &self.ctx,
                    old_fingerprint,
                    new_fingerprint,
                    new_public_key,
                    endorsements,
                    change,
                )
                .await
            }

            async fn audit_key_endorsements(&self) -> Result<Vec<KeyEndorsement>, StoreError> {
                op_audit_key_endorsements(&self.ctx).await
            }

            async fn audit_signed_extent(&self) -> Result<i64, StoreError> {
                op_audit_head_seq(&self.ctx).await
            }
        }
    };
}
