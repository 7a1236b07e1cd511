//! Duplicate detection in the product: the registration-time check (a match index over the registry,
//! trained once, queried for each new person) and the registry-wide run that fills the review queue.
//! Phones take part in both; a phone two members of one household share names the household, not
//! a person, and counts for nothing.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

use sanad_dedup::{DedupConfig, MatchIndex, Record};
use sanad_domain::{HouseholdId, Person, PersonId};
use serde::Serialize;

use crate::store::{CandidatePair, RegistryStore, StoreError};

/// A registered person who may be the same human being as a member just registered.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PossibleDuplicate {
    /// Index of the member in the submitted household.
    pub member: usize,
    /// The registry id the new member received.
    pub person_id: PersonId,
    /// The person already in the registry.
    pub duplicate_of: PersonId,
    pub probability: f64,
    /// Per field: the comparison level and its weight in bits.
    #[schema(value_type = Object)]
    pub explanation: serde_json::Value,
}

/// A person of the registry that a member about to be registered may be.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Candidate {
    /// Index of the member in the submitted household.
    pub member: usize,
    pub duplicate_of: PersonId,
    pub probability: f64,
    #[schema(value_type = Object)]
    pub explanation: serde_json::Value,
}

/// The record the matcher sees of a person.
pub fn record_of(person: &Person, commune: Option<&str>) -> Record {
    let d = &person.data;
    Record {
        id: person.id.to_string(),
        first_name: d.first_name.clone(),
        last_name: d.last_name.clone(),
        first_name_ar: d.first_name_ar.clone(),
        last_name_ar: d.last_name_ar.clone(),
        sex: Some(if d.sex == sanad_domain::Sex::Male {
            'M'
        } else {
            'F'
        }),
        birth_date: Some(d.birth_date.to_string()),
        national_id: d.national_id.as_ref().map(|n| n.to_string()),
        commune: commune.map(str::to_string),
        household_id: person.household_id.map(|h| h.to_string()),
        phone: d.phone.as_ref().map(|p| p.to_string()),
    }
}

/// Clears the phone of the records that share it with another record of their household: a
/// family phone would make a father and his son, alike in name and commune, look like one person.
pub fn forget_household_phones(records: &mut [Record]) {
    let mut count: HashMap<(&str, &str), u32> = HashMap::new();
    for r in records.iter() {
        if let (Some(h), Some(p)) = (r.household_id.as_deref(), r.phone.as_deref()) {
            *count.entry((h, p)).or_default() += 1;
        }
    }
    let shared: HashSet<(String, String)> = count
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|((h, p), _)| (h.to_owned(), p.to_owned()))
        .collect();
    for r in records.iter_mut() {
        if let (Some(h), Some(p)) = (&r.household_id, &r.phone)
            && shared.contains(&(h.clone(), p.clone()))
        {
            r.phone = None;
        }
    }
}

/// The weights behind a pair's probability, as the review queue shows them: the match weight
/// (bits), the fields compared with their level and weight (largest first), and what the fields do
/// not explain (the prior; with the household links, in a registry-wide run). The same numbers as
/// the waterfall of `sanad dedup --explain`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WeightBreakdown {
    /// log2(p / (1 − p)).
    pub match_weight: f64,
    /// The match weight minus the field weights.
    pub prior: f64,
    pub fields: Vec<FieldWeight>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FieldWeight {
    pub field: String,
    pub level: String,
    /// Bits added to the match weight (negative: evidence of two persons).
    pub weight: f64,
}

/// Reads a stored explanation (`{field: {level, weight}}`); fields one record lacks (level
/// `null`, weight 0) are left out.
pub fn weight_breakdown(probability: f64, explanation: &serde_json::Value) -> WeightBreakdown {
    let p = probability.clamp(1e-12, 1.0 - 1e-12);
    let match_weight = (p / (1.0 - p)).log2();
    let mut fields: Vec<FieldWeight> = explanation
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(field, v)| {
                    let level = v.get("level")?.as_str()?;
                    let weight = v.get("weight")?.as_f64()?;
                    (level != "null").then(|| FieldWeight {
                        field: field.clone(),
                        level: level.to_owned(),
                        weight,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    fields.sort_by(|a, b| b.weight.abs().total_cmp(&a.weight.abs()));
    let sum: f64 = fields.iter().map(|f| f.weight).sum();
    let round = |x: f64| (x * 100.0).round() / 100.0;
    WeightBreakdown {
        match_weight: round(match_weight),
        prior: round(match_weight - sum),
        fields,
    }
}

fn explanation_json(fields: &[sanad_dedup::FieldExplanation]) -> serde_json::Value {
    serde_json::Value::Object(
        fields
            .iter()
            .map(|f| {
                (
                    f.field.to_string(),
                    serde_json::json!({ "level": f.level, "weight": (f64::from(f.weight) * 100.0).round() / 100.0 }),
                )
            })
            .collect(),
    )
}

/// Every live person of the registry as a matcher record, with the commune of their household.
pub async fn registry_records(store: &dyn RegistryStore) -> Result<Vec<Record>, StoreError> {
    let mut communes: HashMap<HouseholdId, String> = HashMap::new();
    let mut after = None;
    loop {
        let page = store.export_households(after, 10_000).await?;
        let Some((last, _)) = page.last() else { break };
        after = Some(*last);
        communes.extend(page.into_iter().map(|(id, d)| (id, d.commune_code)));
    }
    let mut records = Vec::new();
    let mut after = None;
    loop {
        let page = store.export_persons(after, 10_000).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        records.extend(page.iter().filter(|p| p.merged_into.is_none()).map(|p| {
            record_of(
                p,
                p.household_id
                    .and_then(|h| communes.get(&h))
                    .map(String::as_str),
            )
        }));
    }
    forget_household_phones(&mut records);
    Ok(records)
}

/// Pairs of a registry-wide run, ready for the review queue.
pub fn candidate_pairs(
    result: &sanad_dedup::DedupResult,
    records: &[Record],
) -> Vec<CandidatePair> {
    result
        .pairs
        .iter()
        .filter_map(|p| {
            let a = PersonId::parse(&records[p.a as usize].id).ok()?;
            let b = PersonId::parse(&records[p.b as usize].id).ok()?;
            Some(CandidatePair {
                person_a: a,
                person_b: b,
                probability: f64::from(p.probability),
                explanation: explanation_json(&p.explanation()).to_string(),
            })
        })
        .collect()
}

/// The registration-time check. Empty until [`DuplicateChecker::load`] has trained on the registry.
#[derive(Default)]
pub struct DuplicateChecker {
    index: RwLock<Option<MatchIndex>>,
}

/// Below this many persons there is too little to learn from; the check stays off.
const MIN_TRAINING_RECORDS: usize = 1000;
/// Planning figure for the share of registrations that are people already registered: the floor
/// of the matcher's prior, so that a registry cleaned of duplicates still flags new ones.
pub const EXPECTED_DUPLICATE_SHARE: f64 = 0.01;
/// Candidates below this probability are not shown to the agent.
pub const WARN_PROBABILITY: f64 = 0.5;

impl DuplicateChecker {
    /// Trains on the registry and builds the index (seconds for a million persons; run it in the
    /// background at start-up). Returns the number of persons indexed.
    pub async fn load(&self, store: &dyn RegistryStore) -> Result<usize, String> {
        let records = registry_records(store).await.map_err(|e| e.to_string())?;
        if records.len() < MIN_TRAINING_RECORDS {
            return Err(format!(
                "{} persons in the registry, fewer than the {MIN_TRAINING_RECORDS} needed to train the matcher",
                records.len()
            ));
        }
        let model = sanad_dedup::train(&records, &DedupConfig::default())
            .map_err(|e| e.to_string())?
            .for_registration_check(EXPECTED_DUPLICATE_SHARE, records.len());
        let index = MatchIndex::build(&records, &model).with_min_probability(WARN_PROBABILITY);
        let n = index.len();
        if let Ok(mut slot) = self.index.write() {
            *slot = Some(index);
        }
        Ok(n)
    }

    pub fn is_ready(&self) -> bool {
        self.index.read().map(|i| i.is_some()).unwrap_or(false)
    }

    /// Looks up the new members of a household not yet saved; the index is left as it was.
    pub fn preview(&self, input: &sanad_domain::HouseholdInput) -> Vec<Candidate> {
        let Ok(guard) = self.index.read() else {
            return Vec::new();
        };
        let Some(index) = guard.as_ref() else {
            return Vec::new();
        };
        let mut members = Vec::new();
        let mut records = Vec::new();
        for (i, m) in input.members.iter().enumerate() {
            let Some(id) = PersonId::from_serial(i as u64 + 1) else {
                continue;
            };
            let person = Person {
                id,
                household_id: None,
                merged_into: None,
                data: m.data.clone(),
            };
            let mut r = record_of(&person, Some(&input.data.commune_code));
            // Not an id of the registry: the index must not take it for one.
            r.id = format!("new-{i}");
            r.household_id = Some("new".into());
            members.push(i);
            records.push(r);
        }
        forget_household_phones(&mut records);
        let mut found = Vec::new();
        for (&i, record) in members.iter().zip(&records) {
            if input.members[i].person_id.is_some() {
                continue;
            }
            for c in index.candidates(record, 5) {
                let Ok(other) = PersonId::parse(&c.id) else {
                    continue;
                };
                if input.members.iter().any(|m| m.person_id == Some(other)) {
                    continue;
                }
                found.push(Candidate {
                    member: i,
                    duplicate_of: other,
                    probability: (c.probability * 1000.0).round() / 1000.0,
                    explanation: explanation_json(&c.explanation),
                });
            }
        }
        found
    }

    /// Looks up each new member (not those already in the registry), then adds them to the index.
    pub fn check_new_members(
        &self,
        household: &sanad_domain::Household,
        new_members: &[(usize, PersonId)],
    ) -> Vec<PossibleDuplicate> {
        let Ok(mut guard) = self.index.write() else {
            return Vec::new();
        };
        let Some(index) = guard.as_mut() else {
            return Vec::new();
        };
        let mut found = Vec::new();
        let records: Vec<Record> = {
            let mut all: Vec<Record> = household
                .members
                .iter()
                .map(|m| record_of(m, Some(&household.data.commune_code)))
                .collect();
            forget_household_phones(&mut all);
            all
        };
        let record_for = |id: &PersonId| {
            household
                .members
                .iter()
                .position(|m| m.id == *id)
                .and_then(|k| records.get(k))
        };
        for (member, id) in new_members {
            let Some(record) = record_for(id) else {
                continue;
            };
            for c in index.candidates(record, 5) {
                let Ok(other) = PersonId::parse(&c.id) else {
                    continue;
                };
                // Members of the same household are not duplicates of each other.
                if household.members.iter().any(|m| m.id == other) {
                    continue;
                }
                found.push(PossibleDuplicate {
                    member: *member,
                    person_id: *id,
                    duplicate_of: other,
                    probability: (c.probability * 1000.0).round() / 1000.0,
                    explanation: explanation_json(&c.explanation),
                });
            }
        }
        for (_, id) in new_members {
            if let Some(record) = record_for(id) {
                index.insert(record.clone());
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, household: &str, phone: Option<&str>) -> Record {
        Record {
            id: id.into(),
            first_name: "Said".into(),
            last_name: "Alaoui".into(),
            household_id: Some(household.into()),
            phone: phone.map(str::to_string),
            ..Record::default()
        }
    }

    #[test]
    fn a_family_phone_is_forgotten_a_personal_one_kept() {
        let mut records = vec![
            record("P1", "H1", Some("+212612345678")),
            record("P2", "H1", Some("+212612345678")),
            record("P3", "H1", Some("+212699999999")),
            record("P4", "H2", Some("+212612345678")),
            record("P5", "H2", None),
        ];
        forget_household_phones(&mut records);
        let phones: Vec<Option<&str>> = records.iter().map(|r| r.phone.as_deref()).collect();
        assert_eq!(
            phones,
            [
                None,
                None,
                Some("+212699999999"),
                Some("+212612345678"),
                None
            ]
        );
    }

    #[test]
    fn the_breakdown_adds_up_to_the_match_weight_and_leaves_out_missing_fields() {
        let explanation = serde_json::json!({
            "first_name": {"level": "exact", "weight": 7.5},
            "birth_date": {"level": "one_digit", "weight": 5.25},
            "national_id": {"level": "null", "weight": 0.0},
            "sex": {"level": "different", "weight": -9.0},
        });
        let b = weight_breakdown(0.8, &explanation);
        assert!((b.match_weight - 2.0).abs() < 0.01);
        let names: Vec<&str> = b.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["sex", "first_name", "birth_date"]);
        assert!((b.prior + 3.75 - b.match_weight).abs() < 0.02);
    }
}
