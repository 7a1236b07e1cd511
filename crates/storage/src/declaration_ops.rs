// The declarations port, one text for both backends (included by sqlite.rs and postgres.rs).

use sanad_app::declarations::{Declaration, DeclarationFilter, DocumentRef, NewDeclaration};

#[derive(sqlx::FromRow)]
struct DeclarationRow {
    id: i64,
    household_id: i64,
    kind: String,
    details: String,
    happened_on: Option<String>,
    status: String,
    declared_by: String,
    declared_at: time::OffsetDateTime,
}

async fn declaration_documents(
    pool: &Pool,
    ids: &[i64],
) -> Result<Vec<(i64, DocumentRef)>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::<Db>::new(
        "SELECT dd.declaration_id, dd.sha256, dd.name, d.media_type, d.size FROM declaration_documents dd \
         JOIN documents d ON d.sha256 = dd.sha256 WHERE dd.declaration_id IN (",
    );
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(") ORDER BY dd.declaration_id, dd.name");
    let rows: Vec<(i64, String, String, String, i64)> =
        q.build_query_as().fetch_all(pool).await.map_err(db_error)?;
    Ok(rows
        .into_iter()
        .map(|(id, sha256, name, media_type, size)| {
            (
                id,
                DocumentRef {
                    sha256,
                    name,
                    media_type,
                    size,
                },
            )
        })
        .collect())
}

async fn op_declare(db: &Ctx, d: &NewDeclaration, change: &Change) -> Result<Declaration, StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let mut tx = begin_write(db).await?;
    let place: Option<(String, String, String)> = sqlx::query_as(
        "SELECT region_code, province_code, commune_code FROM households WHERE id = $1",
    )
    .bind(serial_h(d.household_id))
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    let (region, province, commune) = place.ok_or(StoreError::NotFound)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO declarations (household_id, region_code, province_code, commune_code, kind, details, \
         happened_on, status, declared_by, declared_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'received', $8, $9) \
         RETURNING id",
    )
    .bind(serial_h(d.household_id))
    .bind(&region)
    .bind(&province)
    .bind(&commune)
    .bind(&d.kind)
    .bind(&d.details)
    .bind(&d.happened_on)
    .bind(&change.actor)
    .bind(at)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    let mut documents = Vec::new();
    for doc in &d.documents {
        // Stored once by content; the same file given twice is one document.
        sqlx::query(
            "INSERT INTO documents (sha256, media_type, size, content) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(&doc.sha256)
        .bind(&doc.media_type)
        .bind(doc.bytes.len() as i64)
        .bind(&doc.bytes)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        sqlx::query(
            "INSERT INTO declaration_documents (declaration_id, sha256, name) VALUES ($1, $2, $3) \
             ON CONFLICT (declaration_id, sha256) DO NOTHING",
        )
        .bind(id)
        .bind(&doc.sha256)
        .bind(&doc.name)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        if !documents.iter().any(|r: &DocumentRef| r.sha256 == doc.sha256) {
            documents.push(DocumentRef {
                sha256: doc.sha256.clone(),
                name: doc.name.clone(),
                media_type: doc.media_type.clone(),
                size: doc.bytes.len() as i64,
            });
        }
    }
    // The trail names the kind and the documents' fingerprints, never the declared text.
    append_audit(
        &mut tx,
        change.at,
        vec![AuditEntry {
            actor: change.actor.clone(),
            action: "household.change_declared".into(),
            entity_type: "household".into(),
            entity_id: d.household_id.to_string(),
            details: serde_json::json!({
                "declaration": id,
                "kind": d.kind,
                "documents": documents.iter().map(|r| r.sha256.as_str()).collect::<Vec<_>>(),
                "reason": change.reason,
            })
            .to_string(),
        }],
    )
    .await?;
    tx.commit().await.map_err(db_error)?;
    Ok(Declaration {
        id,
        household_id: d.household_id,
        kind: d.kind.clone(),
        details: d.details.clone(),
        happened_on: d.happened_on.clone(),
        status: "received".into(),
        declared_by: change.actor.clone(),
        declared_at: at,
        documents,
    })
}

async fn op_declarations(db: &Ctx, filter: &DeclarationFilter) -> Result<Vec<Declaration>, StoreError> {
    let mut q = QueryBuilder::<Db>::new(
        "SELECT h.id, h.household_id, h.kind, h.details, h.happened_on, h.status, h.declared_by, h.declared_at \
         FROM declarations h WHERE h.id > ",
    );
    q.push_bind(filter.after);
    if let Some(household) = filter.household_id {
        q.push(" AND h.household_id = ").push_bind(serial_h(household));
    }
    // The declaration keeps the household's codes under the same names as a household row.
    push_territories(&mut q, &filter.territories)?;
    q.push(" ORDER BY h.id DESC LIMIT ").push_bind(i64::from(filter.limit.clamp(1, 500)));
    let rows: Vec<DeclarationRow> = q.build_query_as().fetch_all(&db.pool).await.map_err(db_error)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let docs = declaration_documents(&db.pool, &ids).await?;
    rows.into_iter()
        .map(|r| {
            Ok(Declaration {
                id: r.id,
                household_id: crate::rows::household_id(r.household_id)?,
                kind: r.kind,
                details: r.details,
                happened_on: r.happened_on,
                status: r.status,
                declared_by: r.declared_by,
                declared_at: r.declared_at,
                documents: docs
                    .iter()
                    .filter(|(id, _)| *id == r.id)
                    .map(|(_, d)| d.clone())
                    .collect(),
            })
        })
        .collect()
}

async fn op_document(db: &Ctx, sha256: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    sqlx::query_as("SELECT media_type, content FROM documents WHERE sha256 = $1")
        .bind(sha256)
        .fetch_optional(&db.pool)
        .await
        .map_err(db_error)
}

macro_rules! declaration_store {
    ($store:ty) => {
        #[async_trait]
        impl sanad_app::declarations::DeclarationStore for $store {
            async fn declare(&self, d: &NewDeclaration, change: &Change) -> Result<Declaration, StoreError> {
                op_declare(&self.ctx, d, change).await
            }

            async fn declarations(&self, filter: &DeclarationFilter) -> Result<Vec<Declaration>, StoreError> {
                op_declarations(&self.ctx, filter).await
            }

            async fn document(&self, sha256: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
                op_document(&self.ctx, sha256).await
            }
        }
    };
}
