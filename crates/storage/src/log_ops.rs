// The audit log's operations (the `AuditLogStore` port), SQL shared by SQLite and PostgreSQL.
// `include!`d after `ops.rs` into each backend module, which defines `lead_integration` (one
// integrator at a time) and `SETTLED` (the condition that an event's transaction is over).

use sanad_app::audit_log::{AuditLogStore, HeadSigner, Integrated, LeafEvent, Pending, TreeHead};
use sanad_tlog::Hash;

const EVENT_COLUMNS: &str =
    "seq, at, actor, action, entity_type, entity_id, details, prev_hash, hash, leaf_index";

fn to_hash(bytes: Vec<u8>) -> Result<Hash, StoreError> {
    Hash::try_from(bytes).map_err(|_| StoreError::Internal("a tree node is not 32 bytes".into()))
}

/// Reads stored complete subtrees by (level, index), in chunks.
async fn read_nodes(
    conn: &mut <Db as sqlx::Database>::Connection,
    keys: &[(u32, u64)],
) -> Result<std::collections::HashMap<(u32, u64), Hash>, StoreError> {
    let mut out = std::collections::HashMap::new();
    for chunk in keys.chunks(200) {
        // One index probe per (level, idx) pair.
        let mut q = QueryBuilder::<Db>::new(
            "SELECT CAST(level AS BIGINT), idx, hash FROM audit_tree_nodes WHERE (level, idx) IN (",
        );
        let mut pairs = q.separated(", ");
        for (level, index) in chunk {
            pairs.push("(");
            pairs.push_bind_unseparated(i64::from(*level));
            pairs.push_unseparated(", ");
            pairs.push_bind_unseparated(*index as i64);
            pairs.push_unseparated(")");
        }
        q.push(")");
        let rows: Vec<(i64, i64, Vec<u8>)> =
            q.build_query_as().fetch_all(&mut *conn).await.map_err(db_error)?;
        for (level, index, hash) in rows {
            out.insert((level as u32, index as u64), to_hash(hash)?);
        }
    }
    Ok(out)
}

fn tree_head_of(row: (i64, String, time::OffsetDateTime, String)) -> TreeHead {
    let (size, root, at, note) = row;
    TreeHead {
        size: size as u64,
        root,
        at,
        note,
    }
}

async fn op_integrate(
    db: &Ctx,
    limit: u32,
    signer: &dyn HeadSigner,
    at: time::OffsetDateTime,
) -> Result<Option<Integrated>, StoreError> {
    let mut tx = begin_write(db).await?;
    if !lead_integration(&mut tx).await? {
        return Ok(None);
    }
    // A rotation commits under the same lead (see `lock_log`): once it has, the old key signs
    // nothing more, even in a server that has not noticed yet.
    let active: Option<Option<String>> = sqlx::query_scalar(
        "SELECT public_key FROM installation_keys WHERE kind = 'audit' AND status = 'active'",
    )
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    if let Some(Some(active)) = active
        && active != signer.public_key_hex()
    {
        return Err(StoreError::Conflict {
            field: "audit_key".into(),
            code: "retired_key",
            message: "the active audit key of this database (this one was rotated away)".into(),
        });
    }
    let size: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(size), 0) FROM audit_tree_heads")
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
    let size = size as u64;
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM audit_events WHERE leaf_index IS NULL{SETTLED} ORDER BY seq LIMIT $1"
    );
    let rows: Vec<AuditRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(i64::from(limit.max(1)))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
    if rows.is_empty() {
        return Ok(None);
    }
    let events: Vec<AuditEvent> = rows.into_iter().map(AuditEvent::from).collect();
    // An event altered while it waited would be sealed into the tree as altered: refuse instead.
    if let Some(bad) = events.iter().find(|e| e.expected_hash() != e.hash) {
        return Err(StoreError::Internal(format!(
            "audit event {} does not match its hash (altered before integration); the log is not extended",
            bad.seq
        )));
    }
    let leaves: Vec<Hash> = events.iter().map(AuditEvent::leaf_hash).collect();
    let frontier = read_nodes(&mut tx, &sanad_tlog::merkle::frontier(size)).await?;
    let made = sanad_tlog::merkle::append(size, &leaves, &mut |level, index| {
        frontier.get(&(level, index)).copied()
    })
    .map_err(|e| StoreError::Internal(format!("audit tree: {e}")))?;
    for chunk in made.chunks(5000) {
        let mut q = QueryBuilder::<Db>::new("INSERT INTO audit_tree_nodes (level, idx, hash) ");
        q.push_values(chunk, |mut b, (level, index, hash)| {
            b.push_bind(i64::from(*level))
                .push_bind(*index as i64)
                .push_bind(hash.to_vec());
        });
        q.build().execute(&mut *tx).await.map_err(db_error)?;
    }
    for (i, chunk) in events.chunks(5000).enumerate() {
        let base = size + (i * 5000) as u64;
        let mut q = QueryBuilder::<Db>::new("WITH v (s, l) AS (");
        q.push_values(chunk.iter().enumerate(), |mut b, (j, e)| {
            b.push_bind(e.seq).push_bind((base + j as u64) as i64);
        });
        q.push(
            ") UPDATE audit_events SET leaf_index = v.l FROM v WHERE audit_events.seq = v.s",
        );
        q.build().execute(&mut *tx).await.map_err(db_error)?;
    }
    let new_size = size + events.len() as u64;
    let mut nodes: std::collections::HashMap<(u32, u64), Hash> = frontier;
    nodes.extend(made.iter().map(|(l, i, h)| ((*l, *i), *h)));
    let root = sanad_tlog::merkle::root_of(&mut nodes, new_size);
    let checkpoint = sanad_tlog::note::Checkpoint {
        origin: signer.origin().to_string(),
        size: new_size,
        root,
    };
    let head = TreeHead {
        size: new_size,
        root: hex_of(&root),
        at: sanad_domain::audit::storable_time(at),
        note: signer.sign(&checkpoint),
    };
    sqlx::query("INSERT INTO audit_tree_heads (size, root, at, note) VALUES ($1, $2, $3, $4)")
        .bind(head.size as i64)
        .bind(&head.root)
        .bind(head.at)
        .bind(&head.note)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(Some(Integrated {
        leaves: events.len() as u64,
        head,
    }))
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn op_pending_events(db: &Ctx) -> Result<Pending, StoreError> {
    let (count, oldest): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), MIN(seq) FROM audit_events WHERE leaf_index IS NULL",
    )
    .fetch_one(&db.pool)
    .await
    .map_err(db_error)?;
    let oldest_at = match oldest {
        Some(seq) => Some(
            sqlx::query_scalar::<_, time::OffsetDateTime>("SELECT at FROM audit_events WHERE seq = $1")
                .bind(seq)
                .fetch_one(&db.pool)
                .await
                .map_err(db_error)?,
        ),
        None => None,
    };
    Ok(Pending {
        count: count as u64,
        oldest_at,
    })
}

async fn op_tree_heads(db: &Ctx) -> Result<Vec<TreeHead>, StoreError> {
    let rows: Vec<(i64, String, time::OffsetDateTime, String)> =
        sqlx::query_as("SELECT size, root, at, note FROM audit_tree_heads ORDER BY size")
            .fetch_all(&db.pool)
            .await
            .map_err(db_error)?;
    Ok(rows.into_iter().map(tree_head_of).collect())
}

async fn op_tree_head(db: &Ctx, size: Option<u64>) -> Result<Option<TreeHead>, StoreError> {
    let row: Option<(i64, String, time::OffsetDateTime, String)> = match size {
        Some(size) => sqlx::query_as("SELECT size, root, at, note FROM audit_tree_heads WHERE size = $1")
            .bind(size as i64)
            .fetch_optional(&db.pool)
            .await,
        None => sqlx::query_as(
            "SELECT size, root, at, note FROM audit_tree_heads ORDER BY size DESC LIMIT 1",
        )
        .fetch_optional(&db.pool)
        .await,
    }
    .map_err(db_error)?;
    Ok(row.map(tree_head_of))
}

#[derive(sqlx::FromRow)]
struct LeafRow {
    #[sqlx(flatten)]
    event: AuditRow,
    node: Option<Vec<u8>>,
}

async fn op_events_by_leaf(db: &Ctx, from: u64, limit: u32) -> Result<Vec<LeafEvent>, StoreError> {
    let rows: Vec<LeafRow> = sqlx::query_as(
        "SELECT e.seq, e.at, e.actor, e.action, e.entity_type, e.entity_id, e.details, e.prev_hash, e.hash, \
         e.leaf_index, n.hash AS node \
         FROM audit_events e LEFT JOIN audit_tree_nodes n ON n.level = 0 AND n.idx = e.leaf_index \
         WHERE e.leaf_index >= $1 ORDER BY e.leaf_index LIMIT $2",
    )
    .bind(from as i64)
    .bind(i64::from(limit))
    .fetch_all(&db.pool)
    .await
    .map_err(db_error)?;
    rows.into_iter()
        .map(|r| {
            Ok(LeafEvent {
                event: AuditEvent::from(r.event),
                stored_leaf: r.node.map(to_hash).transpose()?,
            })
        })
        .collect()
}

async fn op_pending_after(db: &Ctx, after: i64, limit: u32) -> Result<Vec<AuditEvent>, StoreError> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM audit_events WHERE leaf_index IS NULL AND seq > $1 ORDER BY seq LIMIT $2"
    );
    let rows: Vec<AuditRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&db.pool)
        .await
        .map_err(db_error)?;
    Ok(rows.into_iter().map(AuditEvent::from).collect())
}

async fn op_audit_event(db: &Ctx, seq: i64) -> Result<Option<AuditEvent>, StoreError> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM audit_events WHERE seq = $1");
    let row: Option<AuditRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(seq)
        .fetch_optional(&db.pool)
        .await
        .map_err(db_error)?;
    Ok(row.map(AuditEvent::from))
}

async fn op_events_about(db: &Ctx, entity_id: &str) -> Result<Vec<AuditEvent>, StoreError> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM audit_events WHERE entity_id = $1 ORDER BY seq LIMIT 1000"
    );
    let rows: Vec<AuditRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(entity_id)
        .fetch_all(&db.pool)
        .await
        .map_err(db_error)?;
    Ok(rows.into_iter().map(AuditEvent::from).collect())
}

/// The `AuditLogStore` impl of a backend, written once.
macro_rules! audit_log_store {
    ($store:ty) => {
        #[async_trait]
        impl AuditLogStore for $store {
            async fn integrate(
                &self,
                limit: u32,
                signer: &dyn HeadSigner,
                at: time::OffsetDateTime,
            ) -> Result<Option<Integrated>, StoreError> {
                op_integrate(&self.ctx, limit, signer, at).await
            }

            async fn pending_events(&self) -> Result<Pending, StoreError> {
                op_pending_events(&self.ctx).await
            }

            async fn tree_heads(&self) -> Result<Vec<TreeHead>, StoreError> {
                op_tree_heads(&self.ctx).await
            }

            async fn tree_head(&self, size: Option<u64>) -> Result<Option<TreeHead>, StoreError> {
                op_tree_head(&self.ctx, size).await
            }

            async fn tree_nodes(
                &self,
                keys: &[(u32, u64)],
            ) -> Result<std::collections::HashMap<(u32, u64), Hash>, StoreError> {
                let mut conn = self.ctx.pool.acquire().await.map_err(db_error)?;
                read_nodes(&mut conn, keys).await
            }

            async fn events_by_leaf(
                &self,
                from: u64,
                limit: u32,
            ) -> Result<Vec<LeafEvent>, StoreError> {
                op_events_by_leaf(&self.ctx, from, limit).await
            }

            async fn pending_after(
                &self,
                after_seq: i64,
                limit: u32,
            ) -> Result<Vec<AuditEvent>, StoreError> {
                op_pending_after(&self.ctx, after_seq, limit).await
            }

            async fn audit_event(&self, seq: i64) -> Result<Option<AuditEvent>, StoreError> {
                op_audit_event(&self.ctx, seq).await
            }

            async fn events_about(&self, entity_id: &str) -> Result<Vec<AuditEvent>, StoreError> {
                op_events_about(&self.ctx, entity_id).await
            }
        }
    };
}
