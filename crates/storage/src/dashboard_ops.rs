// The dashboard's aggregate queries on both backends (the `DashboardStore` port). `include!`d into
// the `sqlite` and `postgres` modules, each of which defines `MONTH_OF_CREATED` (the month of a
// household's registration as `YYYY-MM`).

use sanad_app::dashboard::{
    CyclePaid, DashboardStore, MonthCount, ProvinceCount, ProvinceEnrolment, ProvinceUnder,
};

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

async fn op_province_counts(db: &Ctx) -> Result<Vec<ProvinceCount>, StoreError> {
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT h.region_code, h.province_code, COUNT(*), COUNT(s.household_id) \
         FROM households h LEFT JOIN household_scores s ON s.household_id = h.id \
         GROUP BY h.region_code, h.province_code \
         ORDER BY h.province_code",
    )
    .fetch_all(&db.pool)
    .await
    .map_err(db_error)?;
    Ok(rows
        .into_iter()
        .map(|(region_code, province_code, households, scored)| ProvinceCount {
            region_code,
            province_code,
            households: count(households),
            scored: count(scored),
        })
        .collect())
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

async fn op_under_threshold(db: &Ctx, threshold: f64) -> Result<Vec<ProvinceUnder>, StoreError> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT h.province_code, COUNT(*) \
         FROM household_scores s JOIN households h ON h.id = s.household_id \
         WHERE s.pmt_index <= $1 \
         GROUP BY h.province_code ORDER BY h.province_code",
    )
    .bind(threshold)
    .fetch_all(&db.pool)
    .await
    .map_err(db_error)?;
    Ok(rows
        .into_iter()
        .map(|(province_code, households)| ProvinceUnder {
            province_code,
            households: count(households),
        })
        .collect())
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
            async fn province_counts(&self) -> Result<Vec<ProvinceCount>, StoreError> {
                op_province_counts(&self.ctx).await
            }

            async fn enrolments_by_province(&self) -> Result<Vec<ProvinceEnrolment>, StoreError> {
                op_enrolments_by_province(&self.ctx).await
            }

            async fn under_threshold(
                &self,
                threshold: f64,
            ) -> Result<Vec<ProvinceUnder>, StoreError> {
                op_under_threshold(&self.ctx, threshold).await
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
