// `sanad bench requests`: a million requests written straight in SQL (the CLI names no driver).

use crate::SqliteStore;
use sanad_app::StoreError;

fn err(e: sqlx::Error) -> StoreError {
    StoreError::Internal(e.to_string())
}

impl SqliteStore {
    /// Fills an empty store with `n` disability-card requests spread over every commune, each with
    /// one to four step visits (document check, medical committee, decision, card issued) whose
    /// lengths vary around their deadlines, submitted over the year before `now` (Unix seconds).
    /// For `sanad bench requests` only: it writes outside the single writer and the audit trail.
    /// Returns the step visits written.
    pub async fn fill_requests_for_bench(&self, n: u64, now: i64) -> Result<i64, StoreError> {
        // One transaction, so one connection: the temporary table of communes lives there.
        let mut tx = self.pool().begin().await.map_err(err)?;
        sqlx::query(
        "CREATE TEMP TABLE bench_communes (k INTEGER PRIMARY KEY, region TEXT, province TEXT, commune TEXT)",
    )
    .execute(&mut *tx)
    .await.map_err(err)?;
        let communes = sanad_domain::Territories::morocco().communes();
        for chunk in communes.chunks(200) {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO bench_communes (region, province, commune) ",
            );
            q.push_values(chunk, |mut b, c| {
                b.push_bind(c.region_code.clone())
                    .push_bind(c.parent_code.clone())
                    .push_bind(c.code.clone());
            });
            q.build().execute(&mut *tx).await.map_err(err)?;
        }
        let n_communes = communes.len() as i64;
        // Submitted over the year before "now" (2026-12-01); deadlines of 72 h, 720 h and 168 h;
        // every visit's length is a pseudo-random share of twice its deadline.
        sqlx::query(
        "INSERT INTO service_requests (id, reference, secret_digest, kind, definition_version, household_id, \
         region_code, province_code, commune_code, centre, step, queue_role, due_at, state, outcome, subject, \
         channel, details, submitted_by, submitted_at, updated_at) \
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
         SELECT i, 'SR-2026-' || printf('%07d', i) || '-0', '', 'disability_card', 1, NULL, \
                c.region, c.province, c.commune, c.commune, \
                CASE i % 4 WHEN 0 THEN 'document_check' WHEN 1 THEN 'medical_committee' WHEN 2 THEN 'decision' ELSE 'card_issued' END, \
                CASE i % 4 WHEN 0 THEN 'agent' WHEN 1 THEN 'supervisor' ELSE 'manager' END, \
                NULL, CASE i % 4 WHEN 3 THEN 'closed' ELSE 'open' END, CASE i % 4 WHEN 3 THEN 'issued' END, \
                'disability_card', 'web', '', 'bench', \
                strftime('%Y-%m-%dT%H:%M:%SZ', $2 - (i * 7919) % 31536000, 'unixepoch'), \
                strftime('%Y-%m-%dT%H:%M:%SZ', $2, 'unixepoch') \
         FROM n JOIN bench_communes c ON c.k = 1 + i % $3",
    )
    .bind(n as i64)
    .bind(now)
    .bind(n_communes)
    .execute(&mut *tx)
    .await.map_err(err)?;
        // Visit j of request i (j = 1 … 1 + i % 4): its step, its deadline, its length.
        sqlx::query(
        "INSERT INTO request_steps (request_id, seq, step, from_step, action, actor, role, reason, entered_at, due_at, left_at) \
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1), \
         v AS ( \
           SELECT i, j, \
                  $2 - (i * 7919) % 31536000 AS submitted, \
                  CASE j WHEN 1 THEN 72 WHEN 2 THEN 720 WHEN 3 THEN 168 ELSE 0 END * 3600 AS sla, \
                  CASE j WHEN 1 THEN 'document_check' WHEN 2 THEN 'medical_committee' WHEN 3 THEN 'decision' ELSE 'card_issued' END AS step \
           FROM n, (SELECT 1 AS j UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4) js \
           WHERE j <= 1 + i % 4), \
         d AS (SELECT i, j, submitted, sla, step, \
                      CASE WHEN sla = 0 THEN 0 ELSE (i * 104729 + j * 7877) % (2 * sla) END AS len FROM v), \
         t AS (SELECT i, j, sla, step, len, \
                      submitted + COALESCE(SUM(len) OVER (PARTITION BY i ORDER BY j ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS entered \
               FROM d) \
         SELECT i, j, step, NULL, 'bench', 'bench', 'agent', '', entered, \
                CASE WHEN sla = 0 THEN NULL ELSE entered + sla END, \
                CASE WHEN j < 1 + i % 4 THEN entered + len WHEN sla = 0 THEN entered ELSE NULL END \
         FROM t",
    )
    .bind(n as i64)
    .bind(now)
    .execute(&mut *tx)
    .await.map_err(err)?;
        tx.commit().await.map_err(err)?;
        let visits: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM request_steps")
            .fetch_one(self.pool())
            .await
            .map_err(err)?;
        sqlx::query("ANALYZE")
            .execute(self.pool())
            .await
            .map_err(err)?;
        Ok(visits)
    }
}
