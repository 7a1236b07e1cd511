//! Ad-hoc rules: one CEL condition, compiled once, run on many households (how many would a
//! threshold of 9.4 admit?). Counting splits the households over threads with `std::thread::scope`.

use std::collections::BTreeMap;

use sanad_domain::HouseholdFacts;
use time::Date;

use crate::compile::{self, Limits, Node, Schema, Ty};
use crate::error::{DefinitionError, EvalError};
use crate::eval::{self, Frame, Input};

/// A compiled condition over `household`, `members` and, when compiled with parameters,
/// `programme`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    source: String,
    node: Node,
    slots: usize,
    budget: u64,
}

/// What a count found: households admitted, refused, and those the rule could not decide (no
/// index yet, or over its budget).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub admitted: usize,
    pub refused: usize,
    pub errors: usize,
}

impl Tally {
    fn add(self, other: Tally) -> Tally {
        Tally {
            admitted: self.admitted + other.admitted,
            refused: self.refused + other.refused,
            errors: self.errors + other.errors,
        }
    }
}

impl Rule {
    /// A rule with no programme parameters and the default limits.
    pub fn compile(expr: &str) -> Result<Rule, DefinitionError> {
        Self::build(expr, None, Limits::default())
    }

    /// A rule that may read `programme.<name>` from `parameters`.
    pub fn compile_with(
        expr: &str,
        parameters: &BTreeMap<String, f64>,
        limits: Limits,
    ) -> Result<Rule, DefinitionError> {
        Self::build(expr, Some(parameters), limits)
    }

    fn build(
        expr: &str,
        parameters: Option<&BTreeMap<String, f64>>,
        limits: Limits,
    ) -> Result<Rule, DefinitionError> {
        let schema = Schema {
            programme: parameters,
            bound: Vec::new(),
            limits,
        };
        let checked = compile::compile(expr, &schema)?;
        if checked.ty != Ty::Bool {
            return Err(DefinitionError {
                condition: None,
                line: 1,
                column: 1,
                message: format!(
                    "a rule must be true or false; this one gives a {}",
                    ty_name(&checked.ty)
                ),
            });
        }
        Ok(Rule {
            source: expr.to_owned(),
            node: checked.node,
            slots: checked.slots,
            budget: limits.budget,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the household passes. `_on` is accepted for symmetry with programme decisions: the
    /// facts are already taken at a date (ages), and a rule reads no clock.
    pub fn admits(
        &self,
        facts: &HouseholdFacts,
        index: Option<f64>,
        _on: Date,
    ) -> Result<bool, EvalError> {
        let mut frame = Frame::new(self.slots, self.budget);
        eval::eval_bool(&self.node, &Input { facts, index }, &mut frame)
    }

    /// How many of `households` (with `indexes` in the same order; a missing index is `None`) the
    /// rule admits, on `threads` threads. A household the rule cannot decide is not admitted.
    pub fn count_parallel(
        &self,
        households: &[HouseholdFacts],
        indexes: &[Option<f64>],
        on: Date,
        threads: usize,
    ) -> usize {
        self.tally_parallel(households, indexes, on, threads)
            .admitted
    }

    /// As [`count_parallel`](Self::count_parallel), with the refusals and errors counted too.
    pub fn tally_parallel(
        &self,
        households: &[HouseholdFacts],
        indexes: &[Option<f64>],
        _on: Date,
        threads: usize,
    ) -> Tally {
        let threads = threads.max(1);
        let chunk = households.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let workers: Vec<_> = households
                .chunks(chunk)
                .enumerate()
                .map(|(i, part)| {
                    let start = i * chunk;
                    scope.spawn(move || self.tally(part, indexes, start))
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().unwrap_or_default())
                .fold(Tally::default(), Tally::add)
        })
    }

    fn tally(&self, part: &[HouseholdFacts], indexes: &[Option<f64>], start: usize) -> Tally {
        let mut frame = Frame::new(self.slots, self.budget);
        let mut tally = Tally::default();
        for (i, facts) in part.iter().enumerate() {
            // Each household's members live in their own allocation: reading one a few households
            // ahead starts its cache miss while this one is evaluated (a plain load, no unsafe
            // prefetch), which is most of the time a member rule takes on millions of households.
            let ahead = part
                .get(i + LOOKAHEAD)
                .and_then(|h| h.members.first())
                .map_or(0, |m| m.age);
            std::hint::black_box(ahead);
            let index = indexes.get(start + i).copied().flatten();
            frame.reset();
            match eval::eval_bool(&self.node, &Input { facts, index }, &mut frame) {
                Ok(true) => tally.admitted += 1,
                Ok(false) => tally.refused += 1,
                Err(_) => tally.errors += 1,
            }
        }
        tally
    }
}

/// How many households ahead a count touches the members of.
const LOOKAHEAD: usize = 4;

pub(crate) fn ty_name(t: &Ty) -> &'static str {
    match t {
        Ty::Bool => "bool",
        Ty::Int | Ty::Double => "number",
        Ty::Str(_) => "string",
        Ty::List(_) => "list",
        Ty::Member => "member",
    }
}
