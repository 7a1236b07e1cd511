// Operations whose SQL is the same on SQLite and PostgreSQL. This file is `include!`d into the
// `sqlite` and `postgres` modules, where `Db`, `Pool`, `Tx`, `Writer` and `begin_write` name the
// backend's types and its way of starting a write; the compiler checks each copy against its
// backend's types. (A generic function over `sqlx::Database` needs a bound per encoded type and per
// executor lifetime, which hides the SQL under the bounds.)

use futures::TryStreamExt as _;
use sanad_app::store::{
    AccessEntry, AccessLogQuery, AccessRecord, Account, ApiKeyOwner, CandidatePair, Change,
    Checkpoint, DuplicatePair, HouseholdFilter, HouseholdSummary, HouseholdVersion, PairStatus,
    PersonMerge, PersonQuery, RegionCount,
};
use sanad_app::{Role, StoreError};
use sanad_domain::audit::{AuditEntry, AuditEvent, ChainHead};
use sanad_domain::{
    Household, HouseholdData, HouseholdId, HouseholdInput, Person, PersonData, PersonId,
    Territories, TerritoryLevel,
};
// Every dynamic SQL string below is built from constants of this crate and bound parameters.
use sqlx::{AssertSqlSafe, Executor as _, QueryBuilder};

use crate::db_error;
use crate::rows::{
    AuditRow, HouseholdRow, PersonRow, SummaryRow, VersionRow, HOUSEHOLD_COLUMNS, PERSON_COLUMNS,
    assets_text, household_entry, person_id, serial_h, serial_p, snapshot_json,
};

/// What every operation needs: the pool, the cipher of personal identifiers, the backend's
/// writer (what `begin_write` starts a write on) and the batched access log.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub pool: Pool,
    pub cipher: std::sync::Arc<sanad_app::crypto::DataCipher>,
    pub writer: Writer,
    pub access: crate::access_log::AccessLog,
    pub accounts: std::sync::Arc<crate::account_cache::AccountCache>,
    /// Scores and checks every household written (targeting).
    pub assessor: sanad_app::targeting::AssessorSlot,
}

impl Ctx {
    /// Starts the access log's batching task on a copy of this context.
    fn with_access_log(mut self) -> Ctx {
        let flusher = self.clone();
        self.access = crate::access_log::AccessLog::start(move |batch| {
            let db = flusher.clone();
            async move { write_access_batch(&db, &batch).await }
        });
        self
    }
}

/// The keyed hash and the ciphertext of a national id.
fn sealed_nid(
    cipher: &sanad_app::crypto::DataCipher,
    nid: Option<&sanad_domain::NationalId>,
) -> Result<(Option<String>, Option<String>), StoreError> {
    crate::rows::seal(cipher, nid.map(|n| n.as_str()))
}

/// The keyed hash and the ciphertext of a phone number.
fn sealed_phone(
    cipher: &sanad_app::crypto::DataCipher,
    phone: Option<&sanad_domain::PhoneNumber>,
) -> Result<(Option<String>, Option<String>), StoreError> {
    crate::rows::seal(cipher, phone.map(|p| p.as_str()))
}

/// Binds the household's own columns as `$1`…`$15` (territory, dwelling, spending, assets,
/// income, time of the change), in the order the INSERT and the UPDATE both list them.
macro_rules! bind_household_fields {
    ($query:expr, $d:expr, $region:expr, $province:expr, $at:expr) => {
        $query
            .bind(&$region)
            .bind(&$province)
            .bind(&$d.commune_code)
            .bind(area_text($d))
            .bind(&$d.address)
            .bind($d.dwelling_type.as_str())
            .bind($d.tenure.as_str())
            .bind(i64::from($d.rooms))
            .bind($d.water_spending.centimes())
            .bind($d.electricity_spending.centimes())
            .bind($d.phone_spending.centimes())
            .bind($d.gas_spending.centimes())
            .bind(assets_text(&$d.assets))
            .bind($d.declared_income.centimes())
            .bind($at)
    };
}

/// Reserves `n` consecutive serials of `kind` and returns the first.
async fn allocate(tx: &mut Tx, kind: &str, n: i64) -> Result<i64, StoreError> {
    let next: i64 = sqlx::query_scalar(
        "UPDATE id_counters SET next_serial = next_serial + $1 WHERE kind = $2 RETURNING next_serial",
    )
    .bind(n)
    .bind(kind)
    .fetch_one(&mut **tx)
    .await
    .map_err(db_error)?;
    Ok(next - n)
}

/// Appends entries to the audit log inside the writer's transaction. Each event takes the next
/// sequence number without a lock on any shared row (PostgreSQL: `nextval` of a sequence and the
/// transaction id, both column defaults; SQLite: the rowid, under its single writer); its leaf index
/// comes later, from the integrator. The event's hash covers its own fields only.
async fn append_audit(
    tx: &mut Tx,
    at: time::OffsetDateTime,
    entries: Vec<AuditEntry>,
) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let at = sanad_domain::audit::storable_time(at);
    let mut q = QueryBuilder::<Db>::new(
        "INSERT INTO audit_events (at, actor, action, entity_type, entity_id, details, prev_hash, hash) ",
    );
    q.push_values(entries, |mut b, entry| {
        let hash = entry.hash(at);
        b.push_bind(at)
            .push_bind(entry.actor)
            .push_bind(entry.action)
            .push_bind(entry.entity_type)
            .push_bind(entry.entity_id)
            .push_bind(entry.details)
            .push_bind("")
            .push_bind(hash);
    });
    q.build().execute(&mut **tx).await.map_err(db_error)?;
    Ok(())
}

/// Records a household's new state: its version row (who, when, why, snapshot) and its audit event
/// (`action`), in the writer's transaction.
async fn record_household_version(
    tx: &mut Tx,
    cipher: &sanad_app::crypto::DataCipher,
    household: &Household,
    change: &Change,
    action: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO household_versions (household_id, version, at, actor, reason, snapshot) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(serial_h(household.id))
    .bind(i64::from(household.version))
    .bind(household.updated_at)
    .bind(&change.actor)
    .bind(&change.reason)
    .bind(snapshot_json(household, cipher)?)
    .execute(&mut **tx)
    .await
    .map_err(db_error)?;
    // After the writes: on PostgreSQL they waited for a rotation that held the tables, and this
    // statement then sees the key it recorded.
    check_data_key(tx, cipher).await?;
    let entry = household_entry(&change.actor, action, household, &change.reason);
    append_audit(tx, household.updated_at, vec![entry]).await
}

/// Refuses the write when the database records another active data key than the one it sealed
/// with (a rotation committed after this process checked its key): values sealed under two keys
/// never mix. A database that records no data key yet (a test, a fresh file) accepts any.
async fn check_data_key(
    tx: &mut Tx,
    cipher: &sanad_app::crypto::DataCipher,
) -> Result<(), StoreError> {
    let active: Option<String> = sqlx::query_scalar(
        "SELECT fingerprint FROM installation_keys WHERE kind = 'data' AND status = 'active'",
    )
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_error)?;
    match active {
        Some(active) if active != cipher.fingerprint() => Err(StoreError::Conflict {
            field: "data_key".into(),
            code: "retired_key",
            message: crate::RETIRED_DATA_KEY.into(),
        }),
        _ => Ok(()),
    }
}

/// Refuses a national id that another person already has.
async fn check_national_ids(
    tx: &mut Tx,
    cipher: &sanad_app::crypto::DataCipher,
    members: &[(PersonId, &PersonData)],
) -> Result<(), StoreError> {
    for (i, (id, data)) in members.iter().enumerate() {
        let Some(nid) = &data.national_id else { continue };
        let other: Option<i64> =
            sqlx::query_scalar("SELECT id FROM persons WHERE national_id_hash = $1 AND id <> $2")
                .bind(cipher.lookup_hash(nid.as_str()))
                .bind(serial_p(*id))
                .fetch_optional(&mut **tx)
                .await
                .map_err(db_error)?;
        if other.is_some() {
            return Err(StoreError::Conflict {
                field: format!("members[{i}].national_id"),
                code: "national_id_used",
                message: "a national id not used by another person; it already is".into(),
            });
        }
    }
    Ok(())
}

async fn insert_person(
    tx: &mut Tx,
    cipher: &sanad_app::crypto::DataCipher,
    p: &Person,
) -> Result<(), StoreError> {
    let d = &p.data;
    let (nid_hash, nid_enc) = sealed_nid(cipher, d.national_id.as_ref())?;
    let (phone_hash, phone_enc) = sealed_phone(cipher, d.phone.as_ref())?;
    sqlx::query(
        "INSERT INTO persons (id, household_id, relation, first_name, last_name, first_name_ar, last_name_ar, \
         sex, birth_date, national_id_hash, national_id_enc, disability, schooling, occupation, search_name, \
         phone_hash, phone_enc) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(serial_p(p.id))
    .bind(p.household_id.map(serial_h))
    .bind(d.relation.as_str())
    .bind(&d.first_name)
    .bind(&d.last_name)
    .bind(&d.first_name_ar)
    .bind(&d.last_name_ar)
    .bind(d.sex.as_str())
    .bind(d.birth_date)
    .bind(nid_hash)
    .bind(nid_enc)
    .bind(d.disability.as_str())
    .bind(d.schooling.as_str())
    .bind(d.occupation.as_str())
    .bind(sanad_app::search::stored_search_key(d))
    .bind(phone_hash)
    .bind(phone_enc)
    .execute(&mut **tx)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Attaches an existing person who belongs to no household, with their updated facts. Returns
/// false when the person is unknown or in another household.
async fn attach_person(
    tx: &mut Tx,
    cipher: &sanad_app::crypto::DataCipher,
    index: usize,
    id: PersonId,
    household: HouseholdId,
    d: &PersonData,
) -> Result<(), StoreError> {
    let (nid_hash, nid_enc) = sealed_nid(cipher, d.national_id.as_ref())?;
    let (phone_hash, phone_enc) = sealed_phone(cipher, d.phone.as_ref())?;
    let done = sqlx::query(
        "UPDATE persons SET household_id = $1, relation = $2, first_name = $3, last_name = $4, \
         first_name_ar = $5, last_name_ar = $6, sex = $7, birth_date = $8, national_id_hash = $9, \
         national_id_enc = $10, disability = $11, schooling = $12, occupation = $13, search_name = $14, \
         phone_hash = $16, phone_enc = $17 \
         WHERE id = $15 AND household_id IS NULL",
    )
    .bind(serial_h(household))
    .bind(d.relation.as_str())
    .bind(&d.first_name)
    .bind(&d.last_name)
    .bind(&d.first_name_ar)
    .bind(&d.last_name_ar)
    .bind(d.sex.as_str())
    .bind(d.birth_date)
    .bind(nid_hash)
    .bind(nid_enc)
    .bind(d.disability.as_str())
    .bind(d.schooling.as_str())
    .bind(d.occupation.as_str())
    .bind(sanad_app::search::stored_search_key(d))
    .bind(serial_p(id))
    .bind(phone_hash)
    .bind(phone_enc)
    .execute(&mut **tx)
    .await
    .map_err(db_error)?;
    if done.rows_affected() == 1 {
        return Ok(());
    }
    let current: Option<Option<i64>> =
        sqlx::query_scalar("SELECT household_id FROM persons WHERE id = $1")
            .bind(serial_p(id))
            .fetch_optional(&mut **tx)
            .await
            .map_err(db_error)?;
    let field = format!("members[{index}].person_id");
    Err(match current {
        None => StoreError::Conflict {
            field,
            code: "unknown_person",
            message: format!("a person of the registry; {id} is not"),
        },
        Some(other) => StoreError::Conflict {
            field,
            code: "in_another_household",
            message: format!(
                "a person in no other household; {id} belongs to {}",
                other
                    .and_then(|h| HouseholdId::from_serial(h as u64))
                    .map(|h| h.to_string())
                    .unwrap_or_default()
            ),
        },
    })
}

/// Writes the members of `id`: existing persons are attached, new ones get serials. Returns the
/// members in id order.
async fn write_members(
    tx: &mut Tx,
    cipher: &sanad_app::crypto::DataCipher,
    id: HouseholdId,
    input: &HouseholdInput,
) -> Result<Vec<Person>, StoreError> {
    let new_count = input.members.iter().filter(|m| m.person_id.is_none()).count() as i64;
    let mut next = if new_count > 0 {
        allocate(tx, "person", new_count).await?
    } else {
        0
    };
    let mut members = Vec::with_capacity(input.members.len());
    for m in &input.members {
        let pid = match m.person_id {
            Some(pid) => pid,
            None => {
                let pid = person_id(next)?;
                next += 1;
                pid
            }
        };
        members.push(Person {
            id: pid,
            household_id: Some(id),
            merged_into: None,
            data: m.data.clone(),
        });
    }
    let pairs: Vec<_> = members.iter().map(|m| (m.id, &m.data)).collect();
    check_national_ids(tx, cipher, &pairs).await?;
    for (i, (m, input)) in members.iter().zip(&input.members).enumerate() {
        match input.person_id {
            Some(pid) => attach_person(tx, cipher, i, pid, id, &m.data).await?,
            None => insert_person(tx, cipher, m).await?,
        }
    }
    members.sort_by_key(|m| m.id);
    Ok(members)
}

fn territory_of(data: &HouseholdData) -> Result<(String, String), StoreError> {
    let commune = Territories::morocco()
        .commune(&data.commune_code)
        .ok_or_else(|| StoreError::Conflict {
            field: "commune_code".into(),
            code: "unknown_commune",
            message: "the HCP code of a commune".into(),
        })?;
    Ok((
        commune.region_code.clone(),
        commune.parent_code.clone().unwrap_or_default(),
    ))
}

fn area_text(data: &HouseholdData) -> &'static str {
    data.area.map(|a| a.as_str()).unwrap_or("rural")
}

async fn op_register_household(
    db: &Ctx,
    input: &HouseholdInput,
    change: &Change,
) -> Result<Household, StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let (region_code, province_code) = territory_of(&input.data)?;
    let mut tx = begin_write(db).await?;
    let id = crate::rows::household_id(allocate(&mut tx, "household", 1).await?)?;
    let d = &input.data;
    let insert = sqlx::query(
        "INSERT INTO households (region_code, province_code, commune_code, area, address, \
         dwelling_type, tenure, rooms, water_spending, electricity_spending, phone_spending, gas_spending, \
         assets, declared_income, updated_at, created_at, id, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16, 1)",
    );
    bind_household_fields!(insert, d, region_code, province_code, at)
        .bind(serial_h(id))
        .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let members = write_members(&mut tx, &db.cipher, id, input).await?;
    let household = Household {
        id,
        version: 1,
        region_code,
        province_code,
        data: input.data.clone(),
        members,
        created_at: at,
        updated_at: at,
    };
    record_household_version(&mut tx, &db.cipher, &household, change, "household.create").await?;
    assess_in_tx(&mut tx, &db.assessor, &household, change).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(household)
}

async fn op_update_household(
    db: &Ctx,
    id: HouseholdId,
    expected_version: u32,
    input: &HouseholdInput,
    change: &Change,
) -> Result<Household, StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let (region_code, province_code) = territory_of(&input.data)?;
    let mut tx = begin_write(db).await?;
    fill_imported_snapshot(&mut tx, &db.cipher, id, expected_version).await?;
    let d = &input.data;
    let update = sqlx::query_scalar(
        "UPDATE households SET version = version + 1, region_code = $1, province_code = $2, \
         commune_code = $3, area = $4, address = $5, dwelling_type = $6, tenure = $7, rooms = $8, \
         water_spending = $9, electricity_spending = $10, phone_spending = $11, gas_spending = $12, \
         assets = $13, declared_income = $14, updated_at = $15 \
         WHERE id = $16 AND version = $17 RETURNING created_at",
    );
    let created_at: Option<time::OffsetDateTime> =
        bind_household_fields!(update, d, region_code, province_code, at)
    .bind(serial_h(id))
    .bind(i64::from(expected_version))
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    let Some(created_at) = created_at else {
        let current: Option<i64> = sqlx::query_scalar("SELECT version FROM households WHERE id = $1")
            .bind(serial_h(id))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
        return Err(match current {
            None => StoreError::NotFound,
            Some(v) => StoreError::VersionConflict {
                expected: expected_version,
                current: v as u32,
            },
        });
    };
    // Everyone leaves, then the members of the new state join again: a person left out stays in
    // the registry without a household, and the head may change without breaking the one-head index.
    sqlx::query("UPDATE persons SET household_id = NULL WHERE household_id = $1")
        .bind(serial_h(id))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    let members = write_members(&mut tx, &db.cipher, id, input).await?;
    let household = Household {
        id,
        version: expected_version + 1,
        region_code,
        province_code,
        data: input.data.clone(),
        members,
        created_at,
        updated_at: at,
    };
    record_household_version(&mut tx, &db.cipher, &household, change, "household.update").await?;
    assess_in_tx(&mut tx, &db.assessor, &household, change).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(household)
}

async fn load_household(
    conn: &mut <Db as sqlx::Database>::Connection,
    cipher: &sanad_app::crypto::DataCipher,
    id: HouseholdId,
) -> Result<Option<Household>, StoreError> {
    // One statement for a household and its members; a household without members (or none at
    // all) takes the two below.
    let joined: Vec<crate::rows::HouseholdMemberRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {} FROM households h JOIN persons p ON p.household_id = h.id WHERE h.id = $1 ORDER BY p.id",
        crate::rows::HOUSEHOLD_MEMBER_COLUMNS
    )))
    .bind(serial_h(id))
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    if let Some(first) = joined.first() {
        let household = first.household();
        let members = joined
            .into_iter()
            .map(|r| r.member.into_person(cipher))
            .collect::<Result<_, _>>()?;
        return household.into_household(members).map(Some);
    }
    let row: Option<HouseholdRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {HOUSEHOLD_COLUMNS} FROM households WHERE id = $1"
    )))
    .bind(serial_h(id))
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?;
    let Some(row) = row else { return Ok(None) };
    let members: Vec<PersonRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {PERSON_COLUMNS} FROM persons WHERE household_id = $1 ORDER BY id"
    )))
    .bind(serial_h(id))
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let members = members
        .into_iter()
        .map(|r| r.into_person(cipher))
        .collect::<Result<_, _>>()?;
    row.into_household(members).map(Some)
}

/// Writes the snapshot of an imported version (left NULL by the bulk load) from the current row,
/// before an update changes that row.
async fn fill_imported_snapshot(
    tx: &mut Tx,
    cipher: &sanad_app::crypto::DataCipher,
    id: HouseholdId,
    version: u32,
) -> Result<(), StoreError> {
    let missing: Option<i64> = sqlx::query_scalar(
        "SELECT version FROM household_versions WHERE household_id = $1 AND version = $2 AND snapshot IS NULL",
    )
    .bind(serial_h(id))
    .bind(i64::from(version))
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_error)?;
    if missing.is_none() {
        return Ok(());
    }
    let Some(current) = load_household(&mut *tx, cipher, id).await? else {
        return Ok(());
    };
    if current.version != version {
        return Ok(());
    }
    sqlx::query("UPDATE household_versions SET snapshot = $1 WHERE household_id = $2 AND version = $3")
        .bind(snapshot_json(&current, cipher)?)
        .bind(serial_h(id))
        .bind(i64::from(version))
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    Ok(())
}

async fn op_household(db: &Ctx, id: HouseholdId) -> Result<Option<Household>, StoreError> {
    let pool = &db.pool;
    let mut conn = pool.acquire().await.map_err(db_error)?;
    load_household(&mut conn, &db.cipher, id).await
}

async fn op_household_versions(
    db: &Ctx,
    id: HouseholdId,
) -> Result<Vec<HouseholdVersion>, StoreError> {
    let pool = &db.pool;
    let rows: Vec<VersionRow> = sqlx::query_as(
        "SELECT version, at, actor, reason, snapshot FROM household_versions \
         WHERE household_id = $1 ORDER BY version",
    )
    .bind(serial_h(id))
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    let current = if rows.iter().any(|r| r.snapshot.is_none()) {
        op_household(db, id).await?
    } else {
        None
    };
    rows.into_iter()
        .map(|r| r.into_version(current.as_ref(), &db.cipher))
        .collect()
}

/// The column that holds a territory code of that code's level.
fn territory_column(code: &str) -> Result<&'static str, StoreError> {
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

/// ` AND (h.region_code = … OR h.commune_code = …)` for a list of territories (none: no filter).
fn push_territories(q: &mut QueryBuilder<Db>, territories: &[String]) -> Result<(), StoreError> {
    if territories.is_empty() {
        return Ok(());
    }
    q.push(" AND (");
    for (i, code) in territories.iter().enumerate() {
        if i > 0 {
            q.push(" OR ");
        }
        q.push(format!("h.{} = ", territory_column(code)?));
        q.push_bind(code.clone());
    }
    q.push(")");
    Ok(())
}

async fn op_list_households(
    db: &Ctx,
    filter: &HouseholdFilter,
) -> Result<Vec<HouseholdSummary>, StoreError> {
    let pool = &db.pool;
    let mut q = QueryBuilder::<Db>::new(
        "SELECT h.id, h.version, h.commune_code, h.region_code, h.area, \
         (SELECT COUNT(*) FROM persons m WHERE m.household_id = h.id) AS members, \
         p.first_name, p.last_name \
         FROM households h LEFT JOIN persons p ON p.household_id = h.id AND p.relation = 'head' \
         WHERE h.id > ",
    );
    q.push_bind(filter.after.map(serial_h).unwrap_or(0));
    push_territories(&mut q, &filter.territories)?;
    q.push(" ORDER BY h.id LIMIT ");
    q.push_bind(i64::from(filter.limit));
    let rows: Vec<SummaryRow> = q
        .build_query_as()
        .fetch_all(pool)
        .await
        .map_err(db_error)?;
    rows.into_iter().map(SummaryRow::into_summary).collect()
}

async fn op_person(db: &Ctx, id: PersonId) -> Result<Option<Person>, StoreError> {
    let pool = &db.pool;
    let row: Option<PersonRow> =
        sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {PERSON_COLUMNS} FROM persons WHERE id = $1"
        )))
            .bind(serial_p(id))
            .fetch_optional(pool)
            .await
            .map_err(db_error)?;
    row.map(|r| r.into_person(&db.cipher)).transpose()
}

async fn op_search_persons(db: &Ctx, query: &PersonQuery) -> Result<Vec<Person>, StoreError> {
    let pool = &db.pool;
    let columns = PERSON_COLUMNS
        .split(", ")
        .map(|c| format!("p.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut q = QueryBuilder::<Db>::new(format!(
        "SELECT {columns} FROM persons p LEFT JOIN households h ON h.id = p.household_id \
         WHERE p.merged_into IS NULL"
    ));
    if let Some(id) = query.person_id {
        q.push(" AND p.id = ").push_bind(serial_p(id));
    }
    if let Some(nid) = &query.national_id {
        q.push(" AND p.national_id_hash = ")
            .push_bind(db.cipher.lookup_hash(nid));
    }
    if let Some(phone) = &query.phone {
        // Normalised by the app layer; the look-up hash is of the E.164 form.
        q.push(" AND p.phone_hash = ")
            .push_bind(db.cipher.lookup_hash(phone.as_str()));
    }
    for (i, word) in query.name_words.iter().enumerate() {
        // Words are folded to letters and digits, so they hold no LIKE wildcard; a word matches
        // the folded names, or by its skeleton the names' skeletons (after the mark).
        q.push(" AND (p.search_name LIKE ").push_bind(format!("%{word}%"));
        if let Some(Some(sound)) = query.name_sounds.get(i) {
            q.push(" OR p.search_name LIKE ").push_bind(format!(
                "%{}% {sound}%",
                sanad_app::search::SOUNDS_MARK
            ));
        }
        q.push(")");
    }
    push_territories(&mut q, &query.territories)?;
    if !query.include_unattached {
        q.push(" AND p.household_id IS NOT NULL");
    }
    q.push(" ORDER BY p.id LIMIT ").push_bind(i64::from(query.limit));
    let rows: Vec<PersonRow> = q
        .build_query_as()
        .fetch_all(pool)
        .await
        .map_err(db_error)?;
    rows.into_iter()
        .map(|r| r.into_person(&db.cipher))
        .collect()
}

async fn op_region_counts(db: &Ctx) -> Result<Vec<RegionCount>, StoreError> {
    let pool = &db.pool;
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT h.region_code, COUNT(DISTINCT h.id), COUNT(p.id) \
         FROM households h LEFT JOIN persons p ON p.household_id = h.id \
         GROUP BY h.region_code ORDER BY h.region_code",
    )
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    Ok(rows
        .into_iter()
        .map(|(region_code, households, persons)| RegionCount {
            region_code,
            households: households as u64,
            persons: persons as u64,
        })
        .collect())
}

async fn op_record_access(db: &Ctx, access: &AccessRecord) -> Result<(), StoreError> {
    if db.access.is_on() {
        db.access.record(access.clone()).await
    } else {
        write_access_batch(db, std::slice::from_ref(access)).await
    }
}

/// Inserts the records of reads in one transaction (multi-row inserts of at most 500 rows).
async fn write_access_batch(db: &Ctx, batch: &[AccessRecord]) -> Result<(), StoreError> {
    let rows: Vec<(time::OffsetDateTime, &AccessRecord, &String)> = batch
        .iter()
        .flat_map(|a| {
            let at = sanad_domain::audit::storable_time(a.at);
            a.entity_ids.iter().map(move |id| (at, a, id))
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let mut tx = begin_write(db).await?;
    for chunk in rows.chunks(500) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO access_log (at, actor, entity_type, entity_id, purpose) ",
        );
        q.push_values(chunk, |mut b, (at, access, id)| {
            b.push_bind(*at)
                .push_bind(access.actor.clone())
                .push_bind(access.entity_type)
                .push_bind((*id).clone())
                .push_bind(access.purpose.clone());
        });
        q.build().execute(&mut *tx).await.map_err(db_error)?;
    }
    tx.commit().await.map_err(db_error)
}

async fn op_export_households(
    db: &Ctx,
    after: Option<HouseholdId>,
    limit: u32,
) -> Result<Vec<(HouseholdId, HouseholdData)>, StoreError> {
    let pool = &db.pool;
    let rows: Vec<HouseholdRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {HOUSEHOLD_COLUMNS} FROM households WHERE id > $1 ORDER BY id LIMIT $2"
    )))
    .bind(after.map(serial_h).unwrap_or(0))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    rows.into_iter()
        .map(|r| Ok((crate::rows::household_id(r.id)?, r.data()?)))
        .collect()
}

async fn op_export_persons(
    db: &Ctx,
    after: Option<PersonId>,
    limit: u32,
) -> Result<Vec<Person>, StoreError> {
    let pool = &db.pool;
    let mut out = Vec::with_capacity(limit as usize);
    let sql = format!("SELECT {PERSON_COLUMNS} FROM persons WHERE id > $1 ORDER BY id LIMIT $2");
    let mut rows = sqlx::query_as::<_, PersonRow>(AssertSqlSafe(sql))
        .bind(after.map(serial_p).unwrap_or(0))
        .bind(i64::from(limit))
        .fetch(pool);
    while let Some(row) = rows.try_next().await.map_err(db_error)? {
        out.push(row.into_person(&db.cipher)?);
    }
    Ok(out)
}

async fn op_audit_events(
    db: &Ctx,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<AuditEvent>, StoreError> {
    let pool = &db.pool;
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT seq, at, actor, action, entity_type, entity_id, details, prev_hash, hash, leaf_index \
         FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after_seq)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    Ok(rows.into_iter().map(AuditEvent::from).collect())
}

/// Creates or replaces an account (unlocking it); with `event`, its audit event commits with it.
async fn op_upsert_account(
    db: &Ctx,
    account: &Account,
    event: Option<(AuditEntry, time::OffsetDateTime)>,
) -> Result<(), StoreError> {
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
    if let Some((entry, at)) = event {
        append_audit(&mut tx, at, vec![entry]).await?;
    }
    tx.commit().await.map_err(db_error)?;
    db.accounts.forget(&account.username);
    Ok(())
}

const ACCOUNT_COLUMNS: &str =
    "a.username, a.role, a.password_hash, a.territories, a.household_id, a.failed_logins, a.locked_until";

#[derive(sqlx::FromRow)]
struct AccountRow {
    username: String,
    role: String,
    password_hash: String,
    territories: String,
    household_id: Option<i64>,
    failed_logins: i64,
    locked_until: Option<time::OffsetDateTime>,
}

impl AccountRow {
    fn into_account(self) -> Result<Account, StoreError> {
        Ok(Account {
            role: Role::parse(&self.role)
                .ok_or_else(|| StoreError::Internal(format!("stored role `{}` is not valid", self.role)))?,
            username: self.username,
            password_hash: self.password_hash,
            territories: self
                .territories
                .split(';')
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
            household_id: self.household_id.map(crate::rows::household_id).transpose()?,
            failed_logins: u32::try_from(self.failed_logins).unwrap_or(u32::MAX),
            locked_until: self.locked_until,
        })
    }
}

async fn op_account(db: &Ctx, username: &str) -> Result<Option<Account>, StoreError> {
    if let Some(account) = db.accounts.get(username) {
        return Ok(Some(account));
    }
    let pool = &db.pool;
    let row: Option<AccountRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.username = $1"
    )))
    .bind(username)
    .fetch_optional(pool)
    .await
    .map_err(db_error)?;
    let account = row.map(AccountRow::into_account).transpose()?;
    if let Some(a) = &account {
        db.accounts.put(a);
    }
    Ok(account)
}

/// Adds an API key (its hash); with `event`, its audit event commits with it.
async fn op_add_api_key(
    db: &Ctx,
    username: &str,
    key_hash: &str,
    scopes: &[String],
    event: Option<(AuditEntry, time::OffsetDateTime)>,
) -> Result<(), StoreError> {
    let mut tx = begin_write(db).await?;
    sqlx::query("INSERT INTO api_keys (key_hash, username, scopes) VALUES ($1, $2, $3)")
        .bind(key_hash)
        .bind(username)
        .bind(scopes.join(" "))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    if let Some((entry, at)) = event {
        append_audit(&mut tx, at, vec![entry]).await?;
    }
    tx.commit().await.map_err(db_error)?;
    Ok(())
}

async fn op_api_key_account(db: &Ctx, key_hash: &str) -> Result<Option<ApiKeyOwner>, StoreError> {
    let pool = &db.pool;
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        account: AccountRow,
        scopes: String,
    }
    let row: Option<Row> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS}, k.scopes FROM api_keys k \
         JOIN accounts a ON a.username = k.username WHERE k.key_hash = $1 AND k.revoked_at IS NULL"
    )))
    .bind(key_hash)
    .fetch_optional(pool)
    .await
    .map_err(db_error)?;
    row.map(|r| {
        Ok(ApiKeyOwner {
            account: r.account.into_account()?,
            scopes: r.scopes.split_whitespace().map(str::to_string).collect(),
        })
    })
    .transpose()
}

/// Revokes the active keys whose hash starts with `key_id`; with `event`, its audit event commits
/// with the revocation when a key was revoked.
async fn op_revoke_api_key(
    db: &Ctx,
    key_id: &str,
    at: time::OffsetDateTime,
    event: Option<AuditEntry>,
) -> Result<u64, StoreError> {
    let mut tx = begin_write(db).await?;
    if key_id.len() < 12 || !key_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(0);
    }
    let done = sqlx::query(
        "UPDATE api_keys SET revoked_at = $1 WHERE key_hash LIKE $2 AND revoked_at IS NULL",
    )
    .bind(sanad_domain::audit::storable_time(at))
    .bind(format!("{}%", key_id.to_ascii_lowercase()))
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    if let Some(entry) = event
        && done.rows_affected() > 0
    {
        append_audit(&mut tx, at, vec![entry]).await?;
    }
    tx.commit().await.map_err(db_error)?;
    Ok(done.rows_affected())
}

async fn op_record_login_failure(
    db: &Ctx,
    username: &str,
    max_failures: u32,
    lock_until: time::OffsetDateTime,
) -> Result<u32, StoreError> {
    let mut tx = begin_write(db).await?;
    let failures: Option<i64> = sqlx::query_scalar(
        "UPDATE accounts SET failed_logins = failed_logins + 1, \
         locked_until = CASE WHEN failed_logins + 1 >= $1 THEN $2 ELSE locked_until END \
         WHERE username = $3 RETURNING failed_logins",
    )
    .bind(i64::from(max_failures))
    .bind(sanad_domain::audit::storable_time(lock_until))
    .bind(username)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    db.accounts.forget(username);
    Ok(failures.map(|f| u32::try_from(f).unwrap_or(u32::MAX)).unwrap_or(0))
}

async fn op_create_session(
    db: &Ctx,
    token_hash: &str,
    username: &str,
    csrf_token: &str,
    expires_at: time::OffsetDateTime,
) -> Result<(), StoreError> {
    let mut tx = begin_write(db).await?;
    sqlx::query(
        "INSERT INTO sessions (token_hash, username, csrf_token, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(username)
    .bind(csrf_token)
    .bind(sanad_domain::audit::storable_time(expires_at))
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(())
}

async fn op_session(
    db: &Ctx,
    token_hash: &str,
    now: time::OffsetDateTime,
) -> Result<Option<(Account, String)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        account: AccountRow,
        csrf_token: String,
        expires_at: time::OffsetDateTime,
    }
    let row: Option<Row> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS}, s.csrf_token, s.expires_at FROM sessions s \
         JOIN accounts a ON a.username = s.username WHERE s.token_hash = $1"
    )))
    .bind(token_hash)
    .fetch_optional(&db.pool)
    .await
    .map_err(db_error)?;
    match row {
        Some(r) if r.expires_at > now => Ok(Some((r.account.into_account()?, r.csrf_token))),
        _ => Ok(None),
    }
}

async fn op_put_login_flow(
    db: &Ctx,
    state_hash: &str,
    flow: &sanad_app::store::LoginFlow,
) -> Result<(), StoreError> {
    let mut tx = begin_write(db).await?;
    sqlx::query("DELETE FROM login_flows WHERE expires_at < $1")
        .bind(sanad_domain::audit::storable_time(time::OffsetDateTime::now_utc()))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    sqlx::query(
        "INSERT INTO login_flows (state_hash, browser_hash, nonce, verifier, next, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(state_hash)
    .bind(&flow.browser_hash)
    .bind(&flow.nonce)
    .bind(&flow.verifier)
    .bind(&flow.next)
    .bind(sanad_domain::audit::storable_time(flow.expires_at))
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    tx.commit().await.map_err(db_error)
}

async fn op_take_login_flow(
    db: &Ctx,
    state_hash: &str,
    now: time::OffsetDateTime,
) -> Result<Option<sanad_app::store::LoginFlow>, StoreError> {
    let mut tx = begin_write(db).await?;
    // One statement deletes and returns it: two callbacks with the same state cannot both win.
    let row: Option<(String, String, String, String, time::OffsetDateTime)> = sqlx::query_as(
        "DELETE FROM login_flows WHERE state_hash = $1 \
         RETURNING browser_hash, nonce, verifier, next, expires_at",
    )
    .bind(state_hash)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(row
        .filter(|r| r.4 > now)
        .map(
            |(browser_hash, nonce, verifier, next, expires_at)| sanad_app::store::LoginFlow {
                browser_hash,
                nonce,
                verifier,
                next,
                expires_at,
            },
        ))
}

async fn op_delete_session(db: &Ctx, token_hash: &str) -> Result<(), StoreError> {
    let mut tx = begin_write(db).await?;
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(())
}

async fn op_record_login_success(db: &Ctx, username: &str) -> Result<(), StoreError> {
    let mut tx = begin_write(db).await?;
    sqlx::query("UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE username = $1 AND (failed_logins > 0 OR locked_until IS NOT NULL)")
        .bind(username)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    db.accounts.forget(username);
    Ok(())
}

async fn op_append_audit_event(
    db: &Ctx,
    entry: AuditEntry,
    at: time::OffsetDateTime,
) -> Result<(), StoreError> {
    let mut tx = begin_write(db).await?;
    append_audit(&mut tx, sanad_domain::audit::storable_time(at), vec![entry]).await?;
    tx.commit().await.map_err(db_error)
}

async fn op_prune_access_log(
    db: &Ctx,
    before: time::OffsetDateTime,
    change: &Change,
) -> Result<u64, StoreError> {
    let before = sanad_domain::audit::storable_time(before);
    let mut tx = begin_write(db).await?;
    let deleted = sqlx::query("DELETE FROM access_log WHERE at < $1")
        .bind(before)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
    let cutoff = before
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    append_audit(
        &mut tx,
        sanad_domain::audit::storable_time(change.at),
        vec![AuditEntry {
            actor: change.actor.clone(),
            action: "access_log.prune".into(),
            entity_type: "access_log".into(),
            entity_id: cutoff.clone(),
            details: serde_json::json!({ "before": cutoff, "deleted": deleted, "reason": change.reason })
                .to_string(),
        }],
    )
    .await?;
    tx.commit().await.map_err(db_error)?;
    Ok(deleted)
}

async fn op_access_log(db: &Ctx, query: &AccessLogQuery) -> Result<Vec<AccessEntry>, StoreError> {
    let pool = &db.pool;
    let mut q = QueryBuilder::<Db>::new(
        "SELECT id, at, actor, entity_type, entity_id, purpose FROM access_log WHERE id > ",
    );
    q.push_bind(query.after);
    if let Some(actor) = &query.actor {
        q.push(" AND actor = ").push_bind(actor.clone());
    }
    if let Some(entity) = &query.entity_id {
        q.push(" AND entity_id = ").push_bind(entity.clone());
    }
    q.push(" ORDER BY id LIMIT ").push_bind(i64::from(query.limit));
    let rows: Vec<(i64, time::OffsetDateTime, String, String, String, String)> =
        q.build_query_as().fetch_all(pool).await.map_err(db_error)?;
    Ok(rows
        .into_iter()
        .map(|(id, at, actor, entity_type, entity_id, purpose)| AccessEntry {
            id,
            at,
            actor,
            entity_type,
            entity_id,
            purpose,
        })
        .collect())
}

async fn op_add_checkpoint(db: &Ctx, c: &Checkpoint) -> Result<(), StoreError> {
    let mut tx = begin_write(db).await?;
    sqlx::query(
        "INSERT INTO audit_checkpoints (seq, hash, at, public_key, signature) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (seq) DO NOTHING",
    )
    .bind(c.seq)
    .bind(&c.hash)
    .bind(c.at)
    .bind(&c.public_key)
    .bind(&c.signature)
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(())
}

async fn op_audit_head(db: &Ctx) -> Result<ChainHead, StoreError> {
    let pool = &db.pool;
    let (seq, hash): (i64, String) = sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(pool)
        .await
        .map_err(db_error)?;
    Ok(ChainHead { seq, hash })
}

async fn op_checkpoints(db: &Ctx) -> Result<Vec<Checkpoint>, StoreError> {
    let pool = &db.pool;
    let rows: Vec<(i64, String, time::OffsetDateTime, String, String)> = sqlx::query_as(
        "SELECT seq, hash, at, public_key, signature FROM audit_checkpoints ORDER BY seq",
    )
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    Ok(rows
        .into_iter()
        .map(|(seq, hash, at, public_key, signature)| Checkpoint { seq, hash, at, public_key, signature })
        .collect())
}

/// Loads the territorial division (idempotent).
/// Runs the migrations of `migrator` numbered below `before` (all of them with `i64::MAX`; fewer
/// to build an older release's schema in a test), then seeds the territories.
async fn op_migrate(
    db: &Ctx,
    mut migrator: sqlx::migrate::Migrator,
    before: i64,
) -> Result<(), StoreError> {
    migrator.migrations = migrator
        .migrations
        .iter()
        .filter(|m| m.version < before)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    migrator
        .run(&db.pool)
        .await
        .map_err(|e| StoreError::Internal(format!("migration failed: {e}")))?;
    op_seed_territories(db).await
}

async fn op_seed_territories(db: &Ctx) -> Result<(), StoreError> {
    let pool = &db.pool;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM territories")
        .fetch_one(pool)
        .await
        .map_err(db_error)?;
    let all: Vec<_> = Territories::morocco().all().collect();
    if count as usize == all.len() {
        return Ok(());
    }
    let mut tx = pool.begin().await.map_err(db_error)?;
    tx.execute("DELETE FROM territories WHERE code NOT IN (SELECT commune_code FROM households)")
        .await
        .map_err(db_error)?;
    for chunk in all.chunks(200) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO territories (code, level, name_fr, name_ar, parent_code, region_code, area, iso_3166_2, population_2024) ",
        );
        q.push_values(chunk, |mut b, t| {
            b.push_bind(t.code.clone())
                .push_bind(t.level.as_str())
                .push_bind(t.name_fr.clone())
                .push_bind(t.name_ar.clone())
                .push_bind(t.parent_code.clone())
                .push_bind(t.region_code.clone())
                .push_bind(t.area.map(|a| a.as_str()))
                .push_bind(t.iso_3166_2.clone())
                .push_bind(t.population_2024 as i64);
        });
        q.push(" ON CONFLICT (code) DO NOTHING");
        q.build().execute(&mut *tx).await.map_err(db_error)?;
    }
    tx.commit().await.map_err(db_error)
}

/// What the audit trail of an import records, owned, so that its events can be hashed on another
/// thread while the rows are written.
pub(crate) struct ImportAudit {
    actor: String,
    reason: String,
    /// Each household with its version and members.
    households: Vec<(HouseholdId, u32, Vec<PersonId>)>,
    loose: Vec<PersonId>,
}

impl ImportAudit {
    pub(crate) fn of(batch: &sanad_app::store::RegistryBatch, change: &Change) -> ImportAudit {
        ImportAudit {
            actor: change.actor.clone(),
            reason: change.reason.clone(),
            households: batch
                .households
                .iter()
                .map(|h| (h.id, h.version, h.members.iter().map(|m| m.id).collect()))
                .collect(),
            loose: batch.loose_persons.iter().map(|p| p.id).collect(),
        }
    }

    /// The events with their hashes: one per household (as [`household_entry`] writes it), one per
    /// person without a household. Hashing them is the costly part, done on another thread while
    /// the rows are written; each hash depends on its event only.
    pub(crate) fn events(&self, at: time::OffsetDateTime) -> Vec<(AuditEntry, String)> {
        let households = self.households.iter().map(|(id, version, members)| {
            crate::rows::household_entry_of(
                &self.actor,
                "household.import",
                *id,
                *version,
                members.iter().copied(),
                &self.reason,
            )
        });
        let persons = self.loose.iter().map(|id| AuditEntry {
            actor: self.actor.clone(),
            action: "person.import".into(),
            entity_type: "person".into(),
            entity_id: id.to_string(),
            details: serde_json::json!({ "reason": self.reason }).to_string(),
        });
        households
            .chain(persons)
            .map(|entry| {
                let hash = entry.hash(at);
                (entry, hash)
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Deduplication: the review queue and merges.

const PAIR_COLUMNS: &str =
    "id, person_a, person_b, probability, explanation, status, found_at, decided_by, decided_at";

#[derive(sqlx::FromRow)]
struct PairRow {
    id: i64,
    person_a: i64,
    person_b: i64,
    probability: f64,
    explanation: String,
    status: String,
    found_at: time::OffsetDateTime,
    decided_by: Option<String>,
    decided_at: Option<time::OffsetDateTime>,
}

impl PairRow {
    fn into_pair(self) -> Result<DuplicatePair, StoreError> {
        Ok(DuplicatePair {
            id: self.id,
            person_a: person_id(self.person_a)?,
            person_b: person_id(self.person_b)?,
            probability: self.probability,
            explanation: serde_json::from_str(&self.explanation)
                .unwrap_or(serde_json::Value::String(self.explanation)),
            status: PairStatus::parse(&self.status)
                .ok_or_else(|| StoreError::Internal(format!("stored pair status `{}`", self.status)))?,
            found_at: self.found_at,
            decided_by: self.decided_by,
            decided_at: self.decided_at,
        })
    }
}

const MERGE_COLUMNS: &str = "id, kept_person, merged_person, former_household_id, former_relation, at, actor, reason, undone_at, undone_by";

#[derive(sqlx::FromRow)]
struct MergeRow {
    id: i64,
    kept_person: i64,
    merged_person: i64,
    former_household_id: Option<i64>,
    former_relation: String,
    at: time::OffsetDateTime,
    actor: String,
    reason: String,
    undone_at: Option<time::OffsetDateTime>,
    undone_by: Option<String>,
}

impl MergeRow {
    fn into_merge(self) -> Result<PersonMerge, StoreError> {
        Ok(PersonMerge {
            id: self.id,
            kept_person: person_id(self.kept_person)?,
            merged_person: person_id(self.merged_person)?,
            former_household_id: self.former_household_id.map(crate::rows::household_id).transpose()?,
            former_relation: self.former_relation,
            at: self.at,
            actor: self.actor,
            reason: self.reason,
            undone_at: self.undone_at,
            undone_by: self.undone_by,
        })
    }
}

async fn op_add_duplicate_candidates(
    db: &Ctx,
    pairs: &[CandidatePair],
    change: &Change,
) -> Result<u64, StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let mut tx = begin_write(db).await?;
    let mut added = 0u64;
    for p in pairs {
        let (a, b) = if p.person_a < p.person_b {
            (p.person_a, p.person_b)
        } else {
            (p.person_b, p.person_a)
        };
        if a == b {
            continue;
        }
        let done = sqlx::query(
            "INSERT INTO duplicate_pairs (person_a, person_b, probability, explanation, status, found_at) \
             SELECT $1, $2, $3, $4, 'pending', $5 \
             WHERE EXISTS (SELECT 1 FROM persons WHERE id = $1 AND merged_into IS NULL) \
               AND EXISTS (SELECT 1 FROM persons WHERE id = $2 AND merged_into IS NULL) \
             ON CONFLICT (person_a, person_b) DO NOTHING",
        )
        .bind(serial_p(a))
        .bind(serial_p(b))
        .bind(p.probability)
        .bind(&p.explanation)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        added += done.rows_affected();
    }
    append_audit(
        &mut tx,
        at,
        vec![AuditEntry {
            actor: change.actor.clone(),
            action: "duplicates.found".into(),
            entity_type: "duplicate_pairs".into(),
            entity_id: String::new(),
            details: serde_json::json!({ "candidates": pairs.len(), "added": added, "reason": change.reason }).to_string(),
        }],
    )
    .await?;
    tx.commit().await.map_err(db_error)?;
    Ok(added)
}

async fn op_duplicate_pairs(
    db: &Ctx,
    status: Option<PairStatus>,
    territories: &[String],
    after: i64,
    limit: u32,
) -> Result<Vec<DuplicatePair>, StoreError> {
    let pool = &db.pool;
    let mut q = QueryBuilder::<Db>::new(format!("SELECT {PAIR_COLUMNS} FROM duplicate_pairs WHERE id > "));
    q.push_bind(after);
    if let Some(status) = status {
        q.push(" AND status = ").push_bind(status.as_str());
    }
    if !territories.is_empty() {
        q.push(
            " AND EXISTS (SELECT 1 FROM persons p JOIN households h ON h.id = p.household_id \
             WHERE p.id IN (duplicate_pairs.person_a, duplicate_pairs.person_b)",
        );
        push_territories(&mut q, territories)?;
        q.push(")");
    }
    q.push(" ORDER BY id LIMIT ").push_bind(i64::from(limit));
    let rows: Vec<PairRow> = q.build_query_as().fetch_all(pool).await.map_err(db_error)?;
    rows.into_iter().map(PairRow::into_pair).collect()
}

async fn load_pair(tx: &mut Tx, id: i64) -> Result<DuplicatePair, StoreError> {
    let row: Option<PairRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {PAIR_COLUMNS} FROM duplicate_pairs WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_error)?;
    row.ok_or(StoreError::NotFound)?.into_pair()
}

async fn op_decide_duplicate_pair(
    db: &Ctx,
    id: i64,
    decision: PairStatus,
    change: &Change,
) -> Result<DuplicatePair, StoreError> {
    if decision == PairStatus::Pending {
        return Err(StoreError::Conflict {
            field: "decision".into(),
            code: "invalid_decision",
            message: "accept or reject".into(),
        });
    }
    let at = sanad_domain::audit::storable_time(change.at);
    let mut tx = begin_write(db).await?;
    let pair = load_pair(&mut tx, id).await?;
    if pair.status != PairStatus::Pending {
        return Err(StoreError::Conflict {
            field: "id".into(),
            code: "already_decided",
            message: format!("a pending pair; this one was {} by {}", pair.status.as_str(), pair.decided_by.unwrap_or_default()),
        });
    }
    sqlx::query("UPDATE duplicate_pairs SET status = $1, decided_by = $2, decided_at = $3 WHERE id = $4")
        .bind(decision.as_str())
        .bind(&change.actor)
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    append_audit(
        &mut tx,
        at,
        vec![AuditEntry {
            actor: change.actor.clone(),
            action: format!("duplicates.{}", decision.as_str()),
            entity_type: "duplicate_pair".into(),
            entity_id: id.to_string(),
            details: serde_json::json!({
                "persons": [pair.person_a.to_string(), pair.person_b.to_string()],
                "reason": change.reason,
            })
            .to_string(),
        }],
    )
    .await?;
    let pair = load_pair(&mut tx, id).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(pair)
}

async fn load_person_tx(
    tx: &mut Tx,
    cipher: &sanad_app::crypto::DataCipher,
    id: PersonId,
) -> Result<Option<Person>, StoreError> {
    let row: Option<PersonRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {PERSON_COLUMNS} FROM persons WHERE id = $1"
    )))
    .bind(serial_p(id))
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_error)?;
    row.map(|r| r.into_person(cipher)).transpose()
}

/// Writes a new version of household `id` after its membership changed outside an update.
async fn bump_household_version(
    tx: &mut Tx,
    cipher: &sanad_app::crypto::DataCipher,
    assessor: &sanad_app::targeting::AssessorSlot,
    id: HouseholdId,
    change: &Change,
    action: &str,
) -> Result<(), StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let version: i64 = sqlx::query_scalar("SELECT version FROM households WHERE id = $1")
        .bind(serial_h(id))
        .fetch_one(&mut **tx)
        .await
        .map_err(db_error)?;
    fill_imported_snapshot(tx, cipher, id, version as u32).await?;
    sqlx::query("UPDATE households SET version = version + 1, updated_at = $1 WHERE id = $2")
        .bind(at)
        .bind(serial_h(id))
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    let household = load_household(&mut *tx, cipher, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    record_household_version(tx, cipher, &household, change, action).await?;
    assess_in_tx(tx, assessor, &household, change).await
}

async fn op_merge_persons(
    db: &Ctx,
    kept: PersonId,
    merged: PersonId,
    change: &Change,
) -> Result<PersonMerge, StoreError> {
    let conflict = |field: &str, code: &'static str, message: String| StoreError::Conflict {
        field: field.into(),
        code,
        message,
    };
    if kept == merged {
        return Err(conflict("into", "same_person", "another person than the one merged".into()));
    }
    let at = sanad_domain::audit::storable_time(change.at);
    let mut tx = begin_write(db).await?;
    let keeper = load_person_tx(&mut tx, &db.cipher, kept)
        .await?
        .ok_or_else(|| conflict("into", "unknown_person", format!("a person of the registry; {kept} is not")))?;
    let person = load_person_tx(&mut tx, &db.cipher, merged).await?.ok_or(StoreError::NotFound)?;
    if let Some(other) = keeper.merged_into {
        return Err(conflict("into", "merged_person", format!("a person not merged away; {kept} was merged into {other}")));
    }
    if let Some(other) = person.merged_into {
        return Err(conflict("id", "already_merged", format!("a person not yet merged; {merged} was merged into {other}")));
    }
    if let Some(h) = person.household_id
        && person.data.relation == sanad_domain::Relation::Head
    {
        let others: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM persons WHERE household_id = $1 AND id <> $2")
            .bind(serial_h(h))
            .bind(serial_p(merged))
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        if others > 0 {
            return Err(conflict(
                "id",
                "head_of_household",
                format!("a person who is not the head of a household with other members; make another member of {h} its head first"),
            ));
        }
    }
    sqlx::query("UPDATE persons SET household_id = NULL, merged_into = $1 WHERE id = $2")
        .bind(serial_p(kept))
        .bind(serial_p(merged))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    if let Some(h) = person.household_id {
        bump_household_version(&mut tx, &db.cipher, &db.assessor, h, change, "household.member_merged").await?;
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO person_merges (kept_person, merged_person, former_household_id, former_relation, at, actor, reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(serial_p(kept))
    .bind(serial_p(merged))
    .bind(person.household_id.map(serial_h))
    .bind(person.data.relation.as_str())
    .bind(at)
    .bind(&change.actor)
    .bind(&change.reason)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_error)?;
    let (a, b) = if kept < merged { (kept, merged) } else { (merged, kept) };
    sqlx::query(
        "UPDATE duplicate_pairs SET status = 'accepted', decided_by = $1, decided_at = $2 \
         WHERE person_a = $3 AND person_b = $4 AND status = 'pending'",
    )
    .bind(&change.actor)
    .bind(at)
    .bind(serial_p(a))
    .bind(serial_p(b))
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    append_audit(
        &mut tx,
        at,
        vec![AuditEntry {
            actor: change.actor.clone(),
            action: "person.merge".into(),
            entity_type: "person".into(),
            entity_id: merged.to_string(),
            details: serde_json::json!({ "merge": id, "into": kept.to_string(), "reason": change.reason }).to_string(),
        }],
    )
    .await?;
    let merge = load_merge(&mut tx, id).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(merge)
}

async fn load_merge(tx: &mut Tx, id: i64) -> Result<PersonMerge, StoreError> {
    let row: Option<MergeRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {MERGE_COLUMNS} FROM person_merges WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_error)?;
    row.ok_or(StoreError::NotFound)?.into_merge()
}

async fn op_undo_merge(db: &Ctx, id: i64, change: &Change) -> Result<PersonMerge, StoreError> {
    let at = sanad_domain::audit::storable_time(change.at);
    let mut tx = begin_write(db).await?;
    let merge = load_merge(&mut tx, id).await?;
    if merge.undone_at.is_some() {
        return Err(StoreError::Conflict {
            field: "id".into(),
            code: "already_undone",
            message: format!("a merge in force; this one was undone by {}", merge.undone_by.unwrap_or_default()),
        });
    }
    sqlx::query("UPDATE persons SET merged_into = NULL WHERE id = $1")
        .bind(serial_p(merge.merged_person))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    // Back into the former household, unless it has found another head meanwhile.
    let mut rejoined = false;
    if let Some(h) = merge.former_household_id {
        let head_taken = merge.former_relation == "head" && {
            let heads: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM persons WHERE household_id = $1 AND relation = 'head'",
            )
            .bind(serial_h(h))
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
            heads > 0
        };
        if !head_taken {
            sqlx::query("UPDATE persons SET household_id = $1 WHERE id = $2 AND household_id IS NULL")
                .bind(serial_h(h))
                .bind(serial_p(merge.merged_person))
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            bump_household_version(&mut tx, &db.cipher, &db.assessor, h, change, "household.member_unmerged").await?;
            rejoined = true;
        }
    }
    sqlx::query("UPDATE person_merges SET undone_at = $1, undone_by = $2 WHERE id = $3")
        .bind(at)
        .bind(&change.actor)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    append_audit(
        &mut tx,
        at,
        vec![AuditEntry {
            actor: change.actor.clone(),
            action: "person.unmerge".into(),
            entity_type: "person".into(),
            entity_id: merge.merged_person.to_string(),
            details: serde_json::json!({ "merge": id, "rejoined_household": rejoined, "reason": change.reason }).to_string(),
        }],
    )
    .await?;
    let merge = load_merge(&mut tx, id).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(merge)
}

/// The `RegistryStore` impl of a backend: the methods whose SQL both dialects share (the `op_*`
/// functions above) are written here once; the backend adds its own (`backend`, `migrate`,
/// `import_batch`, `backup`).
macro_rules! registry_store {
    ($store:ty { $($own:tt)* }) => {
        #[async_trait]
        impl RegistryStore for $store {
            $($own)*
            async fn register_household(
                &self,
                input: &HouseholdInput,
                change: &Change,
            ) -> Result<Household, StoreError> {
                op_register_household(&self.ctx, input, change).await
            }

            async fn update_household(
                &self,
                id: HouseholdId,
                expected_version: u32,
                input: &HouseholdInput,
                change: &Change,
            ) -> Result<Household, StoreError> {
                op_update_household(&self.ctx, id, expected_version, input, change).await
            }

            async fn household(&self, id: HouseholdId) -> Result<Option<Household>, StoreError> {
                op_household(&self.ctx, id).await
            }

            async fn household_versions(
                &self,
                id: HouseholdId,
            ) -> Result<Vec<HouseholdVersion>, StoreError> {
                op_household_versions(&self.ctx, id).await
            }

            async fn list_households(
                &self,
                filter: &HouseholdFilter,
            ) -> Result<Vec<HouseholdSummary>, StoreError> {
                op_list_households(&self.ctx, filter).await
            }

            async fn person(&self, id: PersonId) -> Result<Option<Person>, StoreError> {
                op_person(&self.ctx, id).await
            }

            async fn search_persons(&self, query: &PersonQuery) -> Result<Vec<Person>, StoreError> {
                op_search_persons(&self.ctx, query).await
            }

            async fn region_counts(&self) -> Result<Vec<RegionCount>, StoreError> {
                op_region_counts(&self.ctx).await
            }

            async fn record_access(&self, access: &AccessRecord) -> Result<(), StoreError> {
                op_record_access(&self.ctx, access).await
            }

            async fn export_households(
                &self,
                after: Option<HouseholdId>,
                limit: u32,
            ) -> Result<Vec<(HouseholdId, HouseholdData)>, StoreError> {
                op_export_households(&self.ctx, after, limit).await
            }

            async fn export_persons(
                &self,
                after: Option<PersonId>,
                limit: u32,
            ) -> Result<Vec<Person>, StoreError> {
                op_export_persons(&self.ctx, after, limit).await
            }

            async fn audit_events(
                &self,
                after_seq: i64,
                limit: u32,
            ) -> Result<Vec<AuditEvent>, StoreError> {
                op_audit_events(&self.ctx, after_seq, limit).await
            }

            async fn upsert_account(&self, account: &Account) -> Result<(), StoreError> {
                op_upsert_account(&self.ctx, account, None).await
            }

            async fn account(&self, username: &str) -> Result<Option<Account>, StoreError> {
                op_account(&self.ctx, username).await
            }

            async fn add_api_key(
                &self,
                username: &str,
                key_hash: &str,
                scopes: &[String],
            ) -> Result<(), StoreError> {
                op_add_api_key(&self.ctx, username, key_hash, scopes, None).await
            }

            async fn api_key_account(&self, key_hash: &str) -> Result<Option<ApiKeyOwner>, StoreError> {
                op_api_key_account(&self.ctx, key_hash).await
            }

            async fn revoke_api_key(
                &self,
                key_id: &str,
                at: time::OffsetDateTime,
            ) -> Result<u64, StoreError> {
                op_revoke_api_key(&self.ctx, key_id, at, None).await
            }

            async fn create_session(
                &self,
                token_hash: &str,
                username: &str,
                csrf_token: &str,
                expires_at: time::OffsetDateTime,
            ) -> Result<(), StoreError> {
                op_create_session(&self.ctx, token_hash, username, csrf_token, expires_at).await
            }

            async fn session(
                &self,
                token_hash: &str,
                now: time::OffsetDateTime,
            ) -> Result<Option<(Account, String)>, StoreError> {
                op_session(&self.ctx, token_hash, now).await
            }

            async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
                op_delete_session(&self.ctx, token_hash).await
            }

            async fn record_login_failure(
                &self,
                username: &str,
                max_failures: u32,
                lock_until: time::OffsetDateTime,
            ) -> Result<u32, StoreError> {
                op_record_login_failure(&self.ctx, username, max_failures, lock_until).await
            }

            async fn record_login_success(&self, username: &str) -> Result<(), StoreError> {
                op_record_login_success(&self.ctx, username).await
            }

            async fn access_log(&self, query: &AccessLogQuery) -> Result<Vec<AccessEntry>, StoreError> {
                op_access_log(&self.ctx, query).await
            }

            async fn prune_access_log(
                &self,
                before: time::OffsetDateTime,
                change: &Change,
            ) -> Result<u64, StoreError> {
                op_prune_access_log(&self.ctx, before, change).await
            }

            async fn audit_head(&self) -> Result<ChainHead, StoreError> {
                op_audit_head(&self.ctx).await
            }

            async fn add_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
                op_add_checkpoint(&self.ctx, checkpoint).await
            }

            async fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
                op_checkpoints(&self.ctx).await
            }

            async fn add_duplicate_candidates(
                &self,
                pairs: &[CandidatePair],
                change: &Change,
            ) -> Result<u64, StoreError> {
                op_add_duplicate_candidates(&self.ctx, pairs, change).await
            }

            async fn duplicate_pairs(
                &self,
                status: Option<PairStatus>,
                territories: &[String],
                after: i64,
                limit: u32,
            ) -> Result<Vec<DuplicatePair>, StoreError> {
                op_duplicate_pairs(&self.ctx, status, territories, after, limit).await
            }

            async fn decide_duplicate_pair(
                &self,
                id: i64,
                decision: PairStatus,
                change: &Change,
            ) -> Result<DuplicatePair, StoreError> {
                op_decide_duplicate_pair(&self.ctx, id, decision, change).await
            }

            async fn merge_persons(
                &self,
                kept: PersonId,
                merged: PersonId,
                change: &Change,
            ) -> Result<PersonMerge, StoreError> {
                op_merge_persons(&self.ctx, kept, merged, change).await
            }

            async fn undo_merge(&self, id: i64, change: &Change) -> Result<PersonMerge, StoreError> {
                op_undo_merge(&self.ctx, id, change).await
            }

            async fn append_audit_event(
                &self,
                entry: AuditEntry,
                at: time::OffsetDateTime,
            ) -> Result<(), StoreError> {
                op_append_audit_event(&self.ctx, entry, at).await
            }

            async fn put_login_flow(
                &self,
                state_hash: &str,
                flow: &sanad_app::store::LoginFlow,
            ) -> Result<(), StoreError> {
                op_put_login_flow(&self.ctx, state_hash, flow).await
            }

            async fn take_login_flow(
                &self,
                state_hash: &str,
                now: time::OffsetDateTime,
            ) -> Result<Option<sanad_app::store::LoginFlow>, StoreError> {
                op_take_login_flow(&self.ctx, state_hash, now).await
            }
        }
    };
}
