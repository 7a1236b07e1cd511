//! The assessor the registry runs on every household write: the active index model and the
//! compiled programmes, behind [`crate::targeting::Assessor`]. Built from what the stores hold
//! (model and programme files) and rebuilt when a model is activated or a programme defined.

use std::sync::Arc;

use sanad_domain::{HouseholdFacts, PersonId};
use sanad_programmes::{CompiledProgramme, Programme, Unit};
use sanad_targeting::Model;
use time::Date;

use crate::targeting::{Assessment, Assessor, ContributionRecord, Decision, ScoreRecord};

/// A compiled programme with the version it was defined under.
#[derive(Debug, Clone)]
pub struct LoadedProgramme {
    pub compiled: Arc<CompiledProgramme>,
}

impl LoadedProgramme {
    pub fn programme(&self) -> &Programme {
        self.compiled.programme()
    }
}

/// The index model and programmes in force.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    model: Option<Arc<Model>>,
    programmes: Vec<LoadedProgramme>,
}

impl Engine {
    pub fn new(model: Option<Model>, programmes: Vec<CompiledProgramme>) -> Engine {
        let mut programmes: Vec<LoadedProgramme> = programmes
            .into_iter()
            .map(|p| LoadedProgramme {
                compiled: Arc::new(p),
            })
            .collect();
        programmes.sort_by(|a, b| a.programme().code.cmp(&b.programme().code));
        Engine {
            model: model.map(Arc::new),
            programmes,
        }
    }

    pub fn index_model(&self) -> Option<&Model> {
        self.model.as_deref()
    }

    pub fn programmes(&self) -> &[LoadedProgramme] {
        &self.programmes
    }

    pub fn programme(&self, code: &str) -> Option<&LoadedProgramme> {
        self.programmes.iter().find(|p| p.programme().code == code)
    }

    /// The same programmes with another index model (a dry run of a new model version).
    pub fn with_model(&self, model: Model) -> Engine {
        Engine {
            model: Some(Arc::new(model)),
            programmes: self.programmes.clone(),
        }
    }

    /// The programmes checked, as `code@version` sorted and comma-separated (what a rescoring run
    /// is keyed on).
    pub fn programme_set(&self) -> String {
        self.programmes
            .iter()
            .map(|p| format!("{}@{}", p.programme().code, p.programme().version))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Scores `facts` (when a model is active) and decides every programme, with the full
    /// decisions of the rule engine (lines, flags) for explanations.
    pub fn decide_all(
        &self,
        facts: &HouseholdFacts,
        on: Date,
    ) -> (
        Option<sanad_targeting::Score>,
        Vec<sanad_programmes::Decision>,
    ) {
        let score = self.model.as_ref().map(|m| m.score(facts));
        let index = score.as_ref().map(|s| s.index);
        let decisions = self
            .programmes
            .iter()
            .map(|p| p.compiled.decide(facts, index, on))
            .collect();
        (score, decisions)
    }
}

/// The stored form of a score.
pub fn score_record(model: &Model, score: &sanad_targeting::Score) -> ScoreRecord {
    ScoreRecord {
        model_id: model.id.clone(),
        model_version: model.version,
        index: score.index,
        baseline: score.baseline,
        segment: score.segment.clone(),
        contributions: score
            .contributions
            .iter()
            .map(|c| ContributionRecord {
                variable: std::borrow::Cow::Borrowed(c.variable.code()),
                value: c.value,
                effect: c.effect,
            })
            .collect(),
    }
}

/// The stored form of a programme's decision on a household.
pub fn decision_record(
    programme: &Programme,
    facts: &HouseholdFacts,
    decision: &sanad_programmes::Decision,
) -> Decision {
    let member = |i: usize| -> Option<PersonId> { facts.members.get(i).and_then(|m| m.person_id) };
    let mut flags: Vec<String> = decision.flags.iter().map(|f| f.name.clone()).collect();
    flags.sort();
    flags.dedup();
    Decision {
        programme_code: programme.code.clone(),
        programme_version: programme.version,
        eligible: decision.eligible,
        reason: decision
            .failed
            .as_ref()
            .map(|f| f.message_key.clone())
            .unwrap_or_default(),
        beneficiaries: match programme.unit {
            Unit::Household => None,
            Unit::Person => Some(
                decision
                    .beneficiaries
                    .iter()
                    .filter_map(|&i| member(i))
                    .collect(),
            ),
        },
        amount: decision.amount,
        flags,
    }
}

impl Assessor for Engine {
    fn assess(&self, facts: &HouseholdFacts, on: Date) -> Assessment {
        let (score, decisions) = self.decide_all(facts, on);
        Assessment {
            score: match (&self.model, &score) {
                (Some(m), Some(s)) => Some(score_record(m, s)),
                _ => None,
            },
            decisions: self
                .programmes
                .iter()
                .zip(&decisions)
                .map(|(p, d)| decision_record(p.programme(), facts, d))
                .collect(),
        }
    }

    fn model(&self) -> Option<(String, u32)> {
        self.model.as_ref().map(|m| (m.id.clone(), m.version))
    }

    fn programmes(&self) -> Vec<(String, u32)> {
        self.programmes
            .iter()
            .map(|p| (p.programme().code.clone(), p.programme().version))
            .collect()
    }
}
