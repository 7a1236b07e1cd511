//! Rows as both backends return them, and their conversion to domain values. Integer columns are
//! BIGINT on PostgreSQL and INTEGER on SQLite, so they are all read as `i64`.

use sanad_app::StoreError;
use sanad_app::crypto::DataCipher;
use sanad_app::store::{HouseholdSummary, HouseholdVersion};
use sanad_domain::audit::AuditEvent;
use sanad_domain::territory::Area;
use sanad_domain::{
    Amount, Asset, Disability, DwellingType, Household, HouseholdData, HouseholdId, NationalId,
    Occupation, Person, PersonData, PersonId, PhoneNumber, Relation, Schooling, Sex, Tenure,
};
use time::{Date, OffsetDateTime};

pub(crate) fn corrupt(what: &str, value: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("stored {what} `{value}` is not valid"))
}

pub(crate) fn vocab<T>(
    what: &str,
    text: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    parse(text).ok_or_else(|| corrupt(what, text))
}

pub(crate) fn amount(what: &str, centimes: i64) -> Result<Amount, StoreError> {
    Amount::from_centimes(centimes).ok_or_else(|| corrupt(what, centimes))
}

pub(crate) fn household_id(serial: i64) -> Result<HouseholdId, StoreError> {
    HouseholdId::from_serial(serial as u64).ok_or_else(|| corrupt("household id", serial))
}

pub(crate) fn person_id(serial: i64) -> Result<PersonId, StoreError> {
    PersonId::from_serial(serial as u64).ok_or_else(|| corrupt("person id", serial))
}

pub(crate) fn serial_h(id: HouseholdId) -> i64 {
    id.serial() as i64
}

pub(crate) fn serial_p(id: PersonId) -> i64 {
    id.serial() as i64
}

pub(crate) fn assets_text(assets: &std::collections::BTreeSet<Asset>) -> String {
    assets
        .iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>()
        .join(";")
}

pub(crate) const HOUSEHOLD_COLUMNS: &str = "id, version, region_code, province_code, commune_code, area, address, dwelling_type, tenure, rooms, water_spending, electricity_spending, phone_spending, gas_spending, assets, declared_income, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub(crate) struct HouseholdRow {
    pub id: i64,
    pub version: i64,
    pub region_code: String,
    pub province_code: String,
    pub commune_code: String,
    pub area: String,
    pub address: String,
    pub dwelling_type: String,
    pub tenure: String,
    pub rooms: i64,
    pub water_spending: i64,
    pub electricity_spending: i64,
    pub phone_spending: i64,
    pub gas_spending: i64,
    pub assets: String,
    pub declared_income: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl HouseholdRow {
    pub fn data(&self) -> Result<HouseholdData, StoreError> {
        let mut assets = std::collections::BTreeSet::new();
        for a in self.assets.split(';').filter(|a| !a.is_empty()) {
            assets.insert(vocab("asset", a, Asset::parse)?);
        }
        Ok(HouseholdData {
            commune_code: self.commune_code.clone(),
            area: Some(vocab("area", &self.area, Area::parse)?),
            address: self.address.clone(),
            dwelling_type: vocab("dwelling type", &self.dwelling_type, DwellingType::parse)?,
            tenure: vocab("tenure", &self.tenure, Tenure::parse)?,
            rooms: u16::try_from(self.rooms).map_err(|_| corrupt("rooms", self.rooms))?,
            water_spending: amount("water spending", self.water_spending)?,
            electricity_spending: amount("electricity spending", self.electricity_spending)?,
            phone_spending: amount("phone spending", self.phone_spending)?,
            gas_spending: amount("gas spending", self.gas_spending)?,
            assets,
            declared_income: amount("declared income", self.declared_income)?,
        })
    }

    pub fn into_household(self, members: Vec<Person>) -> Result<Household, StoreError> {
        Ok(Household {
            id: household_id(self.id)?,
            version: u32::try_from(self.version).map_err(|_| corrupt("version", self.version))?,
            data: self.data()?,
            region_code: self.region_code,
            province_code: self.province_code,
            members,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

pub(crate) const PERSON_COLUMNS: &str = "id, household_id, merged_into, relation, first_name, last_name, first_name_ar, last_name_ar, sex, birth_date, national_id_enc, phone_enc, disability, schooling, occupation";

/// The keyed look-up hash and the ciphertext of a personal identifier (national id, phone).
pub(crate) fn seal(
    cipher: &DataCipher,
    value: Option<&str>,
) -> Result<(Option<String>, Option<String>), StoreError> {
    match value {
        None => Ok((None, None)),
        Some(v) => Ok((
            Some(cipher.lookup_hash(v)),
            Some(
                cipher
                    .encrypt(v)
                    .map_err(|e| StoreError::Internal(e.to_string()))?,
            ),
        )),
    }
}

fn open_sealed(cipher: &DataCipher, enc: &str) -> Result<String, StoreError> {
    cipher
        .decrypt(enc)
        .map_err(|e| StoreError::Internal(e.to_string()))
}

#[derive(sqlx::FromRow)]
pub(crate) struct PersonRow {
    pub id: i64,
    pub household_id: Option<i64>,
    pub merged_into: Option<i64>,
    pub relation: String,
    pub first_name: String,
    pub last_name: String,
    pub first_name_ar: Option<String>,
    pub last_name_ar: Option<String>,
    pub sex: String,
    pub birth_date: Date,
    pub national_id_enc: Option<String>,
    pub phone_enc: Option<String>,
    pub disability: String,
    pub schooling: String,
    pub occupation: String,
}

/// A household's columns beside one of its members, from one join (`household_pk` is the
/// household's id, since `id` names the member's).
pub(crate) const HOUSEHOLD_MEMBER_COLUMNS: &str = "h.id AS household_pk, h.version, h.region_code, h.province_code, h.commune_code, h.area, h.address, h.dwelling_type, h.tenure, h.rooms, h.water_spending, h.electricity_spending, h.phone_spending, h.gas_spending, h.assets, h.declared_income, h.created_at, h.updated_at, p.id, p.household_id, p.merged_into, p.relation, p.first_name, p.last_name, p.first_name_ar, p.last_name_ar, p.sex, p.birth_date, p.national_id_enc, p.phone_enc, p.disability, p.schooling, p.occupation";

#[derive(sqlx::FromRow)]
pub(crate) struct HouseholdMemberRow {
    pub household_pk: i64,
    pub version: i64,
    pub region_code: String,
    pub province_code: String,
    pub commune_code: String,
    pub area: String,
    pub address: String,
    pub dwelling_type: String,
    pub tenure: String,
    pub rooms: i64,
    pub water_spending: i64,
    pub electricity_spending: i64,
    pub phone_spending: i64,
    pub gas_spending: i64,
    pub assets: String,
    pub declared_income: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    #[sqlx(flatten)]
    pub member: PersonRow,
}

impl HouseholdMemberRow {
    pub fn household(&self) -> HouseholdRow {
        HouseholdRow {
            id: self.household_pk,
            version: self.version,
            region_code: self.region_code.clone(),
            province_code: self.province_code.clone(),
            commune_code: self.commune_code.clone(),
            area: self.area.clone(),
            address: self.address.clone(),
            dwelling_type: self.dwelling_type.clone(),
            tenure: self.tenure.clone(),
            rooms: self.rooms,
            water_spending: self.water_spending,
            electricity_spending: self.electricity_spending,
            phone_spending: self.phone_spending,
            gas_spending: self.gas_spending,
            assets: self.assets.clone(),
            declared_income: self.declared_income,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

impl PersonRow {
    pub fn into_person(self, cipher: &DataCipher) -> Result<Person, StoreError> {
        Ok(Person {
            id: person_id(self.id)?,
            household_id: self.household_id.map(household_id).transpose()?,
            merged_into: self.merged_into.map(person_id).transpose()?,
            data: PersonData {
                relation: vocab("relation", &self.relation, Relation::parse)?,
                first_name: self.first_name,
                last_name: self.last_name,
                first_name_ar: self.first_name_ar,
                last_name_ar: self.last_name_ar,
                sex: vocab("sex", &self.sex, Sex::parse)?,
                birth_date: self.birth_date,
                national_id: self
                    .national_id_enc
                    .map(|enc| {
                        let clear = open_sealed(cipher, &enc)?;
                        NationalId::parse(&clear).map_err(|_| corrupt("national id", "(encrypted)"))
                    })
                    .transpose()?,
                phone: self
                    .phone_enc
                    .map(|enc| {
                        let clear = open_sealed(cipher, &enc)?;
                        PhoneNumber::parse(&clear).map_err(|_| corrupt("phone", "(encrypted)"))
                    })
                    .transpose()?,
                disability: vocab("disability", &self.disability, Disability::parse)?,
                schooling: vocab("schooling", &self.schooling, Schooling::parse)?,
                occupation: vocab("occupation", &self.occupation, Occupation::parse)?,
            },
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct VersionRow {
    pub version: i64,
    pub at: OffsetDateTime,
    pub actor: String,
    pub reason: String,
    pub snapshot: Option<String>,
}

impl VersionRow {
    /// `current` is the household's current state, for a version whose snapshot is not yet written.
    pub fn into_version(
        self,
        current: Option<&Household>,
        cipher: &DataCipher,
    ) -> Result<HouseholdVersion, StoreError> {
        let snapshot = match (self.snapshot, current) {
            (Some(json), _) => open_snapshot(&json, cipher)?,
            (None, Some(h)) if i64::from(h.version) == self.version => h.clone(),
            (None, _) => {
                return Err(StoreError::Internal(format!(
                    "version {} has no snapshot and is not the current version",
                    self.version
                )));
            }
        };
        Ok(HouseholdVersion {
            version: u32::try_from(self.version).map_err(|_| corrupt("version", self.version))?,
            at: self.at,
            actor: self.actor,
            reason: self.reason,
            snapshot,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SummaryRow {
    pub id: i64,
    pub version: i64,
    pub commune_code: String,
    pub region_code: String,
    pub area: String,
    pub members: i64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

impl SummaryRow {
    pub fn into_summary(self) -> Result<HouseholdSummary, StoreError> {
        Ok(HouseholdSummary {
            id: household_id(self.id)?,
            version: u32::try_from(self.version).map_err(|_| corrupt("version", self.version))?,
            commune_code: self.commune_code,
            region_code: self.region_code,
            area: vocab("area", &self.area, Area::parse)?,
            members: u32::try_from(self.members).unwrap_or(u32::MAX),
            head_first_name: self.first_name,
            head_last_name: self.last_name,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub seq: i64,
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
    pub leaf_index: Option<i64>,
}

impl From<AuditRow> for AuditEvent {
    fn from(r: AuditRow) -> Self {
        AuditEvent {
            seq: r.seq,
            at: r.at,
            actor: r.actor,
            action: r.action,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            details: r.details,
            prev_hash: r.prev_hash,
            hash: r.hash,
            leaf_index: r.leaf_index,
        }
    }
}

/// The audit entry of a household write.
pub(crate) fn household_entry(
    actor: &str,
    action: &str,
    household: &Household,
    reason: &str,
) -> sanad_domain::audit::AuditEntry {
    household_entry_of(
        actor,
        action,
        household.id,
        household.version,
        household.members.iter().map(|m| m.id),
        reason,
    )
}

/// The audit entry of a household write, from the household's id, version and members.
pub(crate) fn household_entry_of(
    actor: &str,
    action: &str,
    id: HouseholdId,
    version: u32,
    members: impl Iterator<Item = PersonId>,
    reason: &str,
) -> sanad_domain::audit::AuditEntry {
    sanad_domain::audit::AuditEntry {
        actor: actor.to_string(),
        action: action.to_string(),
        entity_type: "household".into(),
        entity_id: id.to_string(),
        details: serde_json::json!({
            "version": version,
            "members": members.map(|m| m.to_string()).collect::<Vec<_>>(),
            "reason": reason,
        })
        .to_string(),
    }
}

/// Prefix of an encrypted national id or phone inside a stored snapshot.
const SEALED: &str = "sealed:";

/// The household as JSON for its version history, national ids and phones sealed like the persons
/// table's.
pub(crate) fn snapshot_json(
    household: &Household,
    cipher: &DataCipher,
) -> Result<String, StoreError> {
    let mut value =
        serde_json::to_value(household).map_err(|e| StoreError::Internal(e.to_string()))?;
    for_each_sealed_field(&mut value, |nid| {
        cipher
            .encrypt(nid)
            .map(|enc| format!("{SEALED}{enc}"))
            .map_err(|e| StoreError::Internal(e.to_string()))
    })?;
    Ok(value.to_string())
}

/// Reads a snapshot back, opening its sealed national ids and phones (older snapshots have no phone).
pub(crate) fn open_snapshot(json: &str, cipher: &DataCipher) -> Result<Household, StoreError> {
    let mut value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| StoreError::Internal(format!("stored snapshot is not valid: {e}")))?;
    for_each_sealed_field(&mut value, |stored| match stored.strip_prefix(SEALED) {
        Some(enc) => cipher
            .decrypt(enc)
            .map_err(|e| StoreError::Internal(e.to_string())),
        None => Ok(stored.to_string()),
    })?;
    serde_json::from_value(value)
        .map_err(|e| StoreError::Internal(format!("stored snapshot is not valid: {e}")))
}

/// The members' fields a snapshot keeps sealed.
const SEALED_FIELDS: [&str; 2] = ["national_id", "phone"];

fn for_each_sealed_field(
    value: &mut serde_json::Value,
    mut f: impl FnMut(&str) -> Result<String, StoreError>,
) -> Result<(), StoreError> {
    if let Some(members) = value.get_mut("members").and_then(|m| m.as_array_mut()) {
        for m in members {
            for field in SEALED_FIELDS {
                if let Some(slot) = m.get_mut(field)
                    && let Some(text) = slot.as_str()
                {
                    *slot = serde_json::Value::String(f(text)?);
                }
            }
        }
    }
    Ok(())
}

/// The first sealed value (ciphertext) of a stored snapshot, if it has one.
pub(crate) fn first_sealed(json: &str) -> Option<String> {
    let mut value: serde_json::Value = serde_json::from_str(json).ok()?;
    let mut found = None;
    let _ = for_each_sealed_field(&mut value, |stored| {
        if found.is_none()
            && let Some(enc) = stored.strip_prefix(SEALED)
        {
            found = Some(enc.to_string());
        }
        Ok(stored.to_string())
    });
    found
}

/// A stored snapshot with its sealed values opened by `old` and sealed again by `new` (values an
/// early version left in clear are sealed too); `None` when it holds none. Values that do not open under `old` are an error (never sealed twice).
pub(crate) fn reseal_snapshot(
    json: &str,
    old: &DataCipher,
    new: &DataCipher,
) -> Result<Option<String>, StoreError> {
    let mut value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| StoreError::Internal(format!("stored snapshot is not valid: {e}")))?;
    let mut changed = false;
    for_each_sealed_field(&mut value, |stored| match stored.strip_prefix(SEALED) {
        Some(enc) => {
            let clear = old.decrypt(enc).map_err(|_| {
                StoreError::Internal(
                    "a snapshot value does not open under the active data key".into(),
                )
            })?;
            changed = true;
            new.encrypt(&clear)
                .map(|enc| format!("{SEALED}{enc}"))
                .map_err(|e| StoreError::Internal(e.to_string()))
        }
        // A value written in clear by an early version: sealed now.
        None => {
            changed = true;
            new.encrypt(stored)
                .map(|enc| format!("{SEALED}{enc}"))
                .map_err(|e| StoreError::Internal(e.to_string()))
        }
    })?;
    Ok(changed.then(|| value.to_string()))
}

/// How many sealed values of a snapshot open, and do not open, under `cipher`.
pub(crate) fn count_snapshot(json: &str, cipher: &DataCipher) -> (u64, u64) {
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(json) else {
        return (0, 1);
    };
    let (mut opened, mut refused) = (0, 0);
    let _ = for_each_sealed_field(&mut value, |stored| {
        if let Some(enc) = stored.strip_prefix(SEALED) {
            match cipher.decrypt(enc) {
                Ok(_) => opened += 1,
                Err(_) => refused += 1,
            }
        }
        Ok(stored.to_string())
    });
    (opened, refused)
}

/// The attempt number of a payment being put in a batch: one more than the attempts of its
/// entitlement so far (`e` the entitlement). The first batch of a cycle uses 1 and no look-up.
pub(crate) const NEXT_ATTEMPT: &str = "1 + (SELECT COUNT(*) FROM payments q WHERE q.cycle_id = e.cycle_id \
     AND q.household_id = e.household_id AND q.person_id = e.person_id)";

/// What a later batch of a cycle owes: entitlements without a live attempt (`e` the entitlement,
/// `m` its means). Correlated through the means, so that it is looked up only for the
/// entitlements paid by that means (on the entitlement alone, SQLite tests it before the join,
/// for every entitlement of the cycle and every kind).
pub(crate) const WITHOUT_LIVE_ATTEMPT: &str = "AND NOT EXISTS (SELECT 1 FROM payments l \
     WHERE l.cycle_id = e.cycle_id AND l.household_id = m.household_id \
     AND l.person_id = e.person_id AND l.live = 1)";

/// Largest serials of a batch, to move the counters past them.
pub(crate) fn batch_max_serials(batch: &sanad_app::store::RegistryBatch) -> (i64, i64) {
    let h = batch
        .households
        .iter()
        .map(|h| serial_h(h.id))
        .max()
        .unwrap_or(0);
    let p = batch
        .households
        .iter()
        .flat_map(|h| &h.members)
        .chain(&batch.loose_persons)
        .map(|p| serial_p(p.id))
        .max()
        .unwrap_or(0);
    (h, p)
}
