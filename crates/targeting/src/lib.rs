//! The proxy means test (PMT): the index that says how poor a household is likely to be, from what
//! the registry knows about it, and why.
//!
//! Pure: no database, no HTTP, no clock, no threads (the caller parallelises). Files come in as
//! text or readers.
//!
//! # The index
//! The index is the predicted ln(annual consumption per person, MAD), the scale on which Morocco
//! reads its thresholds (AMO-Tadamon about 9.32, ≈ 11,150 MAD a year). A [`Model`] is a linear
//! formula over the variables of the closed catalogue [`Variable`] (household size and age
//! structure, dependency, dwelling type and tenure, rooms per person, the log of each monthly bill
//! with a "none" dummy, each asset, the head's schooling, occupation and sex, members with a
//! disability), with one coefficient set per region × urban/rural segment and a national set for a
//! household whose segment the survey did not cover.
//!
//! [`Model::score`] returns the index, the segment, the segment's **baseline** (the index of its
//! average surveyed household) and each variable's contribution `coefficient × (value − segment
//! mean)`, so that `index = baseline + Σ contributions` and each contribution reads "compared with
//! the average household of rural Souss-Massa, having no water bill lowered your index by 0.08"
//! ([`Contribution::sentence`], in French, Arabic and English). [`Score::explained`] folds each
//! bill's "no bill" dummy into the bill's line, and [`Score::largest`] picks the lines to show first.
//!
//! `declared_income` is **not** a variable: it is self-reported, cannot be checked for the informal
//! work most poor households live on, and once it decides who gets aid it is the first answer a
//! household learns to lower. A PMT exists precisely to replace it with what an agent can see
//! (the dwelling, the assets) and what is billed (water, electricity, phone).
//!
//! # Model files
//! Models are versioned data, never code: TOML ([`Model::from_toml`], [`Model::to_toml`]) or JSON
//! ([`Model::from_json`], [`Model::to_json`]) with `id`, `version`, `description`, `variables` (the
//! codes), an optional `[fit]` record, a `[national]` table and `[[segments]]` (each with `region`,
//! `area`, `households`, `intercept`, `[coefficients]` and `[means]` keyed by variable code).
//! Validation refuses, naming the field: an unknown variable or field, a missing coefficient or
//! mean, a NaN or infinity, a segment defined twice, a bad id or version 0.
//!
//! # Fitting
//! [`fit`] takes a consumption survey ([`read_survey_csv`]) and fits by weighted least squares with
//! the survey weights, solving the normal equations by Cholesky. The design: national coefficients
//! from the within-segment regression (one intercept per segment, common slopes), then each
//! segment's own coefficients by a ridge regression **toward the national ones** (see
//! [`FitOptions::shrinkage`]), so a large segment (urban Casablanca-Settat) follows its own data
//! while a small one (rural Dakhla-Oued Ed-Dahab) stays close to the country's and does not
//! overfit its hundred households. Intercepts are never shrunk: each segment's level is its own.
//!
//! The shipped model `models/pmt-demo.toml` was fitted on the survey of a generated population
//! (`sanad-synth`); regenerate it with
//! `cargo run --release -p sanad-targeting --example fit_demo_model -- 1500000 2026` (households,
//! seed), which prints the fit report, and judge it out of sample with
//! `cargo run --release -p sanad-targeting --example evaluate_demo_model -- 200000 7`.
//!
//! # Targeting quality
//! [`evaluate`] compares the selection a threshold makes with the truth (inclusion and exclusion
//! errors, the share of the poorest 20 % reached), overall and by segment; the definitions are in
//! [`evaluate()`]'s module documentation ([`Evaluation`]).

mod evaluate;
mod fit;
mod model;
mod survey;
mod variable;

pub use evaluate::{Errors, Evaluated, Evaluation, ThresholdEvaluation, evaluate};
pub use fit::{FitError, FitOptions, FitReport, SegmentFit, SurveyHousehold, fit};
pub use model::{Contribution, FitInfo, Model, ModelError, NATIONAL, Score, Segment};
pub use survey::{
    RegistryHousehold, SurveyError, read_registry_csv, read_survey_csv, read_truth_csv,
};
pub use variable::{Features, Lang, VARIABLE_COUNT, Variable};
