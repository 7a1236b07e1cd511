// The dashboard's aggregate queries on both backends (the `DashboardStore` port). `include!`d into
// the `sqlite` and `postgres` modules, each of which defines `MONTH_OF_CREATED` (the month of a
// household's registration as `YYYY-MM`).

use sanad_app::dashboard::{
    CyclePaid, DashboardStore, MonthCount, ProvinceCount, ProvinceEnrolment,
};

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

async fn op_province_counts(
    db: &Ctx,
    thresholds: &[f64],
) -> Result<Vec<ProvinceCount>, StoreError> {
    // One pass over the households for every threshold.
    let under: String = (1..=thresholds.len())
        .map(|i| format!(", CAST(COALESCE(SUM(CASE WHEN s.pmt_index <= ${i} THEN 1 ELSE 0 END), 0) AS BIGINT)"))
        .collect();
    let sql = format!(
        "SELECT h.region_code, h.province_code, COUNT(*), COUNT(s.household_id){under} \
         FROM households h LEFT JOIN household_scores s ON s.household_id = h.id \
         GROUP BY h.region_code, h.province_code \
         ORDER BY h.province_code"
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for t in thresholds {
        query = query.bind(*t);
    }
    let rows = query.fetch_all(&db.pool).await.map_err(db_error)?;
    rows.iter()
        .map(|row| {
            let get = |i: usize| sqlx::Row::try_get::<i64, _>(row, i).map(count);
            Ok(ProvinceCount {
                region_code: sqlx::Row::try_get(row, 0).map_err(db_error)?,
                province_code: sqlx::Row::try_get(row, 1).map_err(db_error)?,
                households: get(2).map_err(db_error)?,
                scored: get(3).map_err(db_error)?,
                under: (0..thresholds.len())
                    .map(|k| get(4 + k))
                    .collect::<Result<_, _>>()
                    .map_err(db_error)?,
            })
        })
        .collect()
}

async fn op_enrolments_by_province(db: &Ctx) -> Result<Vec<ProvinceEnrolment>, StoreError> {
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT e.programme_code, h.province_code, e.state, COUNT(DISTINCT e.household_id) \
         FROM enrolments e JOIN households h ON h.id = e.household_id \
         GROUP BY e.programme_code, h.province_code, e.state \
         ORDER BY e.programme_code, h.province_code, e.state",
    )
    .fetch_all(&db.pool)
    .await
    .map_err(db_error)?;
    rows.into_iter()
        .map(|(programme_code, province_code, state, households)| {
            Ok(ProvinceEnrolment {
                programme_code,
                province_code,
                state: state_of(&state)?,
                households: count(households),
            })
        })
        .collect()
}

async fn op_paid_by_cycle(db: &Ctx) -> Result<Vec<CyclePaid>, StoreError> {
    let rows: Vec<(String, i64, String, String, i64, i64)> = sqlx::query_as(
        "SELECT c.programme_code, c.id, c.period, h.province_code, COUNT(DISTINCT p.household_id), \
                CAST(COALESCE(SUM(p.amount), 0) AS BIGINT) \
         FROM payments p JOIN cycles c ON c.id = p.cycle_id JOIN households h ON h.id = p.household_id \
         WHERE p.state = 'paid' \
         GROUP BY c.programme_code, c.id, c.period, h.province_code \
         ORDER BY c.programme_code, c.id, h.province_code",
    )
    .fetch_all(&db.pool)
    .await
    .map_err(db_error)?;
    Ok(rows
        .into_iter()
        .map(
            |(programme_code, cycle_id, period, province_code, households, amount)| CyclePaid {
                programme_code,
                cycle_id,
                period,
                province_code,
                households: count(households),
                amount,
            },
        )
        .collect())
}

async fn op_registrations_by_month(db: &Ctx) -> Result<Vec<MonthCount>, StoreError> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {MONTH_OF_CREATED} AS month, h.province_code, COUNT(*) \
         FROM households h GROUP BY month, h.province_code ORDER BY month, h.province_code"
    )))
    .fetch_all(&db.pool)
    .await
    .map_err(db_error)?;
    Ok(rows
        .into_iter()
        .map(|(month, province_code, households)| MonthCount {
            month,
            province_code,
            households: count(households),
        })
        .collect())
}

macro_rules! dashboard_store {
    ($store:ty) => {
        #[async_trait]
        impl DashboardStore for $store {
            async fn province_counts(
                &self,
                thresholds: &[f64],
            ) -> Result<Vec<ProvinceCount>, StoreError> {
                op_province_counts(&self.ctx, thresholds).await
            }

            async fn enrolments_by_province(&self) -> Result<Vec<ProvinceEnrolment>, StoreError> {
                op_enrolments_by_province(&self.ctx).await
            }

            async fn paid_by_cycle(&self) -> Result<Vec<CyclePaid>, StoreError> {
                op_paid_by_cycle(&self.ctx).await
            }

            async fn registrations_by_month(&self) -> Result<Vec<MonthCount>, StoreError> {
                op_registrations_by_month(&self.ctx).await
            }
        }
    };
}
