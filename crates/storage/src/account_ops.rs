// The accounts port, one text for both backends (included by sqlite.rs and postgres.rs, each
// with its own `Db`).

async fn op_accounts(db: &Ctx, after: &str, limit: u32) -> Result<Vec<Account>, StoreError> {
    let rows: Vec<AccountRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.username > $1 ORDER BY a.username LIMIT $2"
    )))
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(&db.pool)
    .await
    .map_err(db_error)?;
    rows.into_iter().map(AccountRow::into_account).collect()
}

async fn op_api_keys(
    db: &Ctx,
    username: Option<&str>,
) -> Result<Vec<sanad_app::accounts::ApiKeyInfo>, StoreError> {
    let rows: Vec<(String, String, String, Option<time::OffsetDateTime>)> = sqlx::query_as(
        "SELECT key_hash, username, scopes, revoked_at FROM api_keys \
         WHERE ($1 IS NULL OR username = $1) ORDER BY username, key_hash",
    )
    .bind(username)
    .fetch_all(&db.pool)
    .await
    .map_err(db_error)?;
    Ok(rows
        .into_iter()
        .map(|(hash, username, scopes, revoked_at)| sanad_app::accounts::ApiKeyInfo {
            id: hash.chars().take(sanad_app::accounts::KEY_ID_CHARS).collect(),
            username,
            scopes: scopes.split_whitespace().map(str::to_string).collect(),
            revoked_at,
        })
        .collect())
}

macro_rules! account_store {
    ($store:ty) => {
        #[async_trait]
        impl sanad_app::AccountStore for $store {
            async fn accounts(&self, after: &str, limit: u32) -> Result<Vec<Account>, StoreError> {
                op_accounts(&self.ctx, after, limit).await
            }

            async fn api_keys(
                &self,
                username: Option<&str>,
            ) -> Result<Vec<sanad_app::accounts::ApiKeyInfo>, StoreError> {
                op_api_keys(&self.ctx, username).await
            }

            async fn save_account(
                &self,
                account: &Account,
                event: AuditEntry,
                at: time::OffsetDateTime,
            ) -> Result<(), StoreError> {
                op_upsert_account(&self.ctx, account, Some((event, at))).await
            }

            async fn add_key(
                &self,
                username: &str,
                key_hash: &str,
                scopes: &[String],
                event: AuditEntry,
                at: time::OffsetDateTime,
            ) -> Result<(), StoreError> {
                op_add_api_key(&self.ctx, username, key_hash, scopes, Some((event, at))).await
            }

            async fn revoke_key(
                &self,
                id: &str,
                event: AuditEntry,
                at: time::OffsetDateTime,
            ) -> Result<u64, StoreError> {
                op_revoke_api_key(&self.ctx, id, at, Some(event)).await
            }
        }
    };
}
