//! The step visits of the bottleneck report on SQLite, read on the batch reader with a prepared
//! statement, as rescoring does (`crate::sqlite_targeting`): a region holds a quarter of a
//! million visits at a million requests, and sqlx, which hands every row to a worker thread and
//! back, spent four times what SQLite took to find them. The rows and their order are those of
//! the query every backend runs (`op_request_spans`).

use std::path::Path;

use rusqlite::types::Value;
use sanad_app::StoreError;
use sanad_app::requests::SpanRow;
use sanad_domain::{Territories, TerritoryLevel};

use crate::sqlite_targeting::{BatchConnection, err};

fn from_unix(seconds: i64) -> Result<time::OffsetDateTime, StoreError> {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .map_err(|_| StoreError::Internal(format!("a step time out of range: {seconds}")))
}

/// The column a territory code filters on.
fn column(code: &str) -> Result<&'static str, StoreError> {
    match Territories::morocco().get(code).map(|t| t.level) {
        Some(TerritoryLevel::Region) => Ok("region_code"),
        Some(TerritoryLevel::Province) => Ok("province_code"),
        Some(TerritoryLevel::Commune) => Ok("commune_code"),
        None => Err(StoreError::Conflict {
            field: "territory".into(),
            code: "unknown_territory",
            message: "the HCP code of a region, province or commune".into(),
        }),
    }
}

/// Every step visit of the requests in these territories (all when empty), of these kinds (all
/// when empty).
pub(crate) fn spans(
    conn: &BatchConnection,
    path: &Path,
    territories: &[String],
    kinds: &[String],
) -> Result<Vec<SpanRow>, StoreError> {
    // `+h.id`: the requests of the territory are found first (by their territory index), then
    // their visits by the visits' key, not every visit of the country checked against the filter.
    let mut sql = String::from(
        "SELECT h.kind, s.step, h.centre, h.commune_code, s.entered_at, s.left_at, s.due_at \
         FROM service_requests h JOIN request_steps s ON s.request_id = +h.id WHERE 1 = 1",
    );
    let mut binds: Vec<Value> = Vec::new();
    if !territories.is_empty() {
        let mut any = Vec::new();
        for code in territories {
            any.push(format!("h.{} = ?", column(code)?));
            binds.push(Value::Text(code.clone()));
        }
        sql.push_str(&format!(" AND ({})", any.join(" OR ")));
    }
    if !kinds.is_empty() {
        sql.push_str(&format!(
            " AND h.kind IN ({})",
            vec!["?"; kinds.len()].join(", ")
        ));
        binds.extend(kinds.iter().map(|k| Value::Text(k.clone())));
    }
    conn.with(path, |conn| {
        // One read transaction: the visits of one instant, whatever moves meanwhile.
        let tx = conn.transaction().map_err(err)?;
        let mut out = Vec::new();
        {
            let mut stmt = tx.prepare_cached(&sql).map_err(err)?;
            let mut rows = stmt
                .query(rusqlite::params_from_iter(binds.iter()))
                .map_err(err)?;
            while let Some(row) = rows.next().map_err(err)? {
                let text = |i: usize| row.get::<_, String>(i).map_err(err);
                let entered: i64 = row.get(4).map_err(err)?;
                let left: Option<i64> = row.get(5).map_err(err)?;
                let due: Option<i64> = row.get(6).map_err(err)?;
                out.push(SpanRow {
                    kind: text(0)?,
                    step: text(1)?,
                    centre: text(2)?,
                    commune_code: text(3)?,
                    entered_at: from_unix(entered)?,
                    left_at: left.map(from_unix).transpose()?,
                    due_at: due.map(from_unix).transpose()?,
                });
            }
        }
        tx.commit().map_err(err)?;
        Ok(out)
    })
}
