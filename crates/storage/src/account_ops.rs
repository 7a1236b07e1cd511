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

async fn op_save_account(db: &Ctx, account: &Account, event: AuditEntry, at: time::OffsetDateTime) -> Result<(), StoreError> {
    let mut tx = begin_write(db).await?;
    sqlx::query(
        "INSERT INTO accounts (username, role, password_hash, territories, household_id, failed_logins, locked_until) \
         VALUES ($1, $2, $3, $4, $5, 0, NULL) \
         ON CONFLICT (username) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash, \
         territories = excluded.territories, household_id = excluded.household_id, failed_logins = 0, locked_until = NULL",
    )
    .bind(&account.username)
    .bind(account.role.as_str())
    .bind(&account.password_hash)
    .bind(account.territories.join(";"))
    .bind(account.household_id.map(serial_h))
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    append_audit(&mut tx, at, vec![event]).await?;
    tx.commit().await.map_err(db_error)?;
    db.accounts.forget(&account.username);
    Ok(())
}

async fn op_add_key(
    db: &Ctx,
    username: &str,
    key_hash: &str,
    scopes: &[String],
    event: AuditEntry,
    at: time::OffsetDateTime,
) -> Result<(), StoreError> {
    let mut tx = begin_write(db).await?;
    sqlx::query("INSERT INTO api_keys (key_hash, username, scopes) VALUES ($1, $2, $3)")
        .bind(key_hash)
        .bind(username)
        .bind(scopes.join(" "))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    append_audit(&mut tx, at, vec![event]).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(())
}

async fn op_revoke_key(db: &Ctx, id: &str, event: AuditEntry, at: time::OffsetDateTime) -> Result<u64, StoreError> {
    if id.len() < 12 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(0);
    }
    let mut tx = begin_write(db).await?;
    let done = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE key_hash LIKE $2 AND revoked_at IS NULL")
        .bind(sanad_domain::audit::storable_time(at))
        .bind(format!("{}%", id.to_ascii_lowercase()))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
    if done > 0 {
        append_audit(&mut tx, at, vec![event]).await?;
    }
    tx.commit().await.map_err(db_error)?;
    Ok(done)
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
                op_save_account(&self.ctx, account, event, at).await
            }

            async fn add_key(
                &self,
                username: &str,
                key_hash: &str,
                scopes: &[String],
                event: AuditEntry,
                at: time::OffsetDateTime,
            ) -> Result<(), StoreError> {
                op_add_key(&self.ctx, username, key_hash, scopes, event, at).await
            }

            async fn revoke_key(
                &self,
                id: &str,
                event: AuditEntry,
                at: time::OffsetDateTime,
            ) -> Result<u64, StoreError> {
                op_revoke_key(&self.ctx, id, event, at).await
            }
        }
    };
}
