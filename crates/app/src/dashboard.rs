//! The dashboard's figures: households registered, scored, eligible, enrolled and paid, per
//! province and programme, and over time. They come from aggregate queries of the `DashboardStore`
//! port (grouped by province, so a million households are never sent over the wire), and are kept
//! in memory for [`FIGURES_MAX_AGE`]: a page reads the figures held, and the first page after they
//! aged starts a refresh in the background and shows the held ones (with their time) meanwhile.
//! Each reader gets the provinces of their territories only.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::Serialize;
use time::OffsetDateTime;

use crate::Targeting;
use crate::auth::Actor;
use crate::policy::{self, Permission};
use crate::registry::{RegistryError, require};
use crate::store::StoreError;
use crate::targeting::EnrolmentState;

/// How long figures are shown before a refresh is started.
pub const FIGURES_MAX_AGE: Duration = Duration::from_secs(60);

/// Households of one province.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProvinceCount {
    pub region_code: String,
    pub province_code: String,
    pub households: u64,
    /// Households with an index under the active model.
    pub scored: u64,
    /// Scored households whose index is at or under each threshold asked for, in order.
    pub under: Vec<u64>,
}

/// Households of one province in one state of a programme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProvinceEnrolment {
    pub programme_code: String,
    pub province_code: String,
    pub state: EnrolmentState,
    /// Distinct households (a programme paid per person counts the household once).
    pub households: u64,
}

/// What a cycle paid in one province.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CyclePaid {
    pub programme_code: String,
    pub cycle_id: i64,
    /// `YYYY-MM` (or the programme's period label).
    pub period: String,
    pub province_code: String,
    /// Distinct households with a payment marked paid.
    pub households: u64,
    /// Centimes paid.
    pub amount: i64,
}

/// Households registered in one month and province.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthCount {
    /// `YYYY-MM`, in UTC.
    pub month: String,
    pub province_code: String,
    pub households: u64,
}

/// The dashboard's port: aggregate queries grouped by province, which both backends answer from
/// their indexes without sending rows of households.
#[async_trait]
pub trait DashboardStore: Send + Sync + 'static {
    /// Households, scored households and scored households at or under each of `thresholds`,
    /// per province (provinces without households absent), in one pass.
    async fn province_counts(&self, thresholds: &[f64]) -> Result<Vec<ProvinceCount>, StoreError>;

    /// Households per programme, province and state of enrolment.
    async fn enrolments_by_province(&self) -> Result<Vec<ProvinceEnrolment>, StoreError>;

    /// Payments marked paid, per cycle and province.
    async fn paid_by_cycle(&self) -> Result<Vec<CyclePaid>, StoreError>;

    /// Households registered per month and province.
    async fn registrations_by_month(&self) -> Result<Vec<MonthCount>, StoreError>;
}

/// A programme as the dashboard names it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProgrammeInfo {
    pub code: String,
    pub name_fr: String,
    pub name_ar: String,
    pub name_en: String,
    pub threshold: Option<f64>,
}

/// Households of one programme under its threshold, per province.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProgrammeUnder {
    pub programme_code: String,
    pub province_code: String,
    pub households: u64,
}

/// Every figure of the dashboard, for the provinces a reader may see.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    /// When the figures were read.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// How long reading them took.
    pub took: Duration,
    pub provinces: Vec<ProvinceCount>,
    pub programmes: Vec<ProgrammeInfo>,
    pub enrolments: Vec<ProvinceEnrolment>,
    pub under_threshold: Vec<ProgrammeUnder>,
    pub paid: Vec<CyclePaid>,
    /// Each programme's latest cycle with a payment made, anywhere: `(programme, cycle, period)`
    /// (a territory paid nothing in it shows none paid, not an older cycle).
    pub last_cycles: Vec<(String, i64, String)>,
    pub months: Vec<MonthCount>,
}

impl Figures {
    /// A programme's latest cycle with a payment made.
    pub fn last_cycle(&self, programme: &str) -> Option<(i64, &str)> {
        self.last_cycles
            .iter()
            .find(|(p, _, _)| p == programme)
            .map(|(_, id, period)| (*id, period.as_str()))
    }

    /// The figures of the provinces inside the actor's territories. A province is seen whole or
    /// not at all: an account bound to communes sees no province figures (they would count the
    /// neighbouring communes too).
    pub fn scoped(&self, actor: &Actor) -> Figures {
        let sees = |province: &str| sees_province(actor, province);
        Figures {
            at: self.at,
            took: self.took,
            provinces: self
                .provinces
                .iter()
                .filter(|p| sees(&p.province_code))
                .cloned()
                .collect(),
            programmes: self.programmes.clone(),
            enrolments: self
                .enrolments
                .iter()
                .filter(|e| sees(&e.province_code))
                .cloned()
                .collect(),
            under_threshold: self
                .under_threshold
                .iter()
                .filter(|u| sees(&u.province_code))
                .cloned()
                .collect(),
            paid: self
                .paid
                .iter()
                .filter(|p| sees(&p.province_code))
                .cloned()
                .collect(),
            last_cycles: self.last_cycles.clone(),
            months: self
                .months
                .iter()
                .filter(|m| sees(&m.province_code))
                .cloned()
                .collect(),
        }
    }
}

/// Whether the actor may see the figures of a whole province.
pub fn sees_province(actor: &Actor, province: &str) -> bool {
    actor.territories.is_empty()
        || actor
            .territories
            .iter()
            .any(|t| policy::contains(t, province))
}

/// Figures held, with the instant they were read.
type Held = (Instant, Arc<Figures>);

/// The dashboard use-case: its port, the programmes in force (names and thresholds), and the
/// figures held in memory.
#[derive(Clone)]
pub struct Dashboard {
    store: Arc<dyn DashboardStore>,
    targeting: Option<Targeting>,
    max_age: Duration,
    held: Arc<tokio::sync::Mutex<Option<Held>>>,
    refreshing: Arc<AtomicBool>,
}

impl Dashboard {
    pub fn new(store: Arc<dyn DashboardStore>, targeting: Option<Targeting>) -> Dashboard {
        Dashboard {
            store,
            targeting,
            max_age: FIGURES_MAX_AGE,
            held: Arc::default(),
            refreshing: Arc::default(),
        }
    }

    /// Figures older than `max_age` are refreshed (zero: read again for every page, for tests).
    pub fn with_max_age(mut self, max_age: Duration) -> Dashboard {
        self.max_age = max_age;
        self
    }

    /// The figures of the provinces the actor may see.
    pub async fn figures(&self, actor: &Actor) -> Result<Figures, RegistryError> {
        require(actor, Permission::ReadStatistics)?;
        Ok(self.held().await?.scoped(actor))
    }

    /// Reads the figures now and holds them (what a refresh does).
    pub async fn refresh(&self) -> Result<Arc<Figures>, RegistryError> {
        let figures = Arc::new(self.read().await?);
        *self.held.lock().await = Some((Instant::now(), figures.clone()));
        Ok(figures)
    }

    async fn held(&self) -> Result<Arc<Figures>, RegistryError> {
        let mut held = self.held.lock().await;
        match held.as_ref() {
            Some((at, figures)) if at.elapsed() < self.max_age => Ok(figures.clone()),
            Some((_, figures)) if !self.max_age.is_zero() => {
                // Aged: shown once more while one refresh runs in the background.
                if !self.refreshing.swap(true, Ordering::AcqRel) {
                    let me = self.clone();
                    tokio::spawn(async move {
                        if let Err(e) = me.refresh().await {
                            tracing::error!(error = %e, "the dashboard's figures could not be refreshed");
                        }
                        me.refreshing.store(false, Ordering::Release);
                    });
                }
                Ok(figures.clone())
            }
            _ => {
                let figures = Arc::new(self.read().await?);
                *held = Some((Instant::now(), figures.clone()));
                Ok(figures)
            }
        }
    }

    async fn read(&self) -> Result<Figures, RegistryError> {
        let started = Instant::now();
        let at = OffsetDateTime::now_utc();
        let programmes: Vec<ProgrammeInfo> = match &self.targeting {
            Some(t) => t
                .engine()
                .programmes()
                .iter()
                .map(|p| {
                    let p = p.programme();
                    ProgrammeInfo {
                        code: p.code.clone(),
                        name_fr: p.names.fr.clone(),
                        name_ar: p.names.ar.clone(),
                        name_en: p.names.en.clone(),
                        threshold: p.index_threshold,
                    }
                })
                .collect(),
            None => Vec::new(),
        };
        let with_threshold: Vec<(&str, f64)> = programmes
            .iter()
            .filter_map(|p| p.threshold.map(|t| (p.code.as_str(), t)))
            .collect();
        let thresholds: Vec<f64> = with_threshold.iter().map(|(_, t)| *t).collect();
        let provinces = self.store.province_counts(&thresholds).await?;
        let mut under_threshold = Vec::new();
        for p in &provinces {
            for ((code, _), n) in with_threshold.iter().zip(&p.under) {
                under_threshold.push(ProgrammeUnder {
                    programme_code: (*code).to_string(),
                    province_code: p.province_code.clone(),
                    households: *n,
                });
            }
        }
        let enrolments = self.store.enrolments_by_province().await?;
        let paid = self.store.paid_by_cycle().await?;
        let mut last_cycles: Vec<(String, i64, String)> = Vec::new();
        for p in &paid {
            match last_cycles
                .iter_mut()
                .find(|(code, _, _)| *code == p.programme_code)
            {
                Some(last) if last.1 < p.cycle_id => {
                    *last = (p.programme_code.clone(), p.cycle_id, p.period.clone())
                }
                Some(_) => {}
                None => last_cycles.push((p.programme_code.clone(), p.cycle_id, p.period.clone())),
            }
        }
        let months = self.store.registrations_by_month().await?;
        let took = started.elapsed();
        tracing::info!(
            duration_ms = took.as_millis() as u64,
            "dashboard figures read"
        );
        Ok(Figures {
            at,
            took,
            provinces,
            programmes,
            enrolments,
            under_threshold,
            paid,
            last_cycles,
            months,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::Role;

    fn figures() -> Figures {
        let p = |r: &str, code: &str, n| ProvinceCount {
            region_code: r.into(),
            province_code: code.into(),
            households: n,
            scored: n,
            under: Vec::new(),
        };
        Figures {
            at: OffsetDateTime::UNIX_EPOCH,
            took: Duration::ZERO,
            provinces: vec![p("01", "01.051", 3), p("05", "05.081", 4)],
            programmes: Vec::new(),
            enrolments: Vec::new(),
            under_threshold: Vec::new(),
            paid: Vec::new(),
            last_cycles: Vec::new(),
            months: vec![MonthCount {
                month: "2026-01".into(),
                province_code: "01.051".into(),
                households: 3,
            }],
        }
    }

    #[test]
    fn a_supervisor_of_a_region_keeps_only_its_provinces() {
        let mut actor = Actor::system("s");
        actor.role = Role::Supervisor;
        actor.territories = vec!["05".into()];
        let f = figures().scoped(&actor);
        assert_eq!(f.provinces.len(), 1);
        assert_eq!(f.provinces[0].province_code, "05.081");
        assert!(f.months.is_empty());
        actor.territories = vec!["05.081.01.01".into()];
        assert!(
            figures().scoped(&actor).provinces.is_empty(),
            "a commune sees no province"
        );
        actor.territories = Vec::new();
        assert_eq!(figures().scoped(&actor).provinces.len(), 2);
    }
}
