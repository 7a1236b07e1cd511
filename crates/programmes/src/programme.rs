//! A programme as data (the TOML or JSON file a manager edits) and its compiled form, which
//! decides one household: eligible or not (and which condition failed), who benefits, how much per
//! period and how that amount was made, and what an agent should look at (flags).

use std::collections::{BTreeMap, BTreeSet};

use sanad_domain::{Amount, HouseholdFacts, MemberFacts};
use serde::{Deserialize, Serialize};
use time::Date;

use crate::budget::Budget;
use crate::compile::{self, Bound, Limits, Node, Schema, Ty};
use crate::error::{DefinitionError, EvalError};
use crate::eval::{self, Frame, Input, Value};
use crate::messages::{Lang, has_message};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Names {
    pub fr: String,
    pub ar: String,
    pub en: String,
}

impl Names {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Fr => &self.fr,
            Lang::Ar => &self.ar,
            Lang::En => &self.en,
        }
    }
}

/// Whom a programme pays or covers: the household as one, or each member found by `beneficiary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Household,
    Person,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Monthly,
    Quarterly,
    Yearly,
    Once,
    /// No cash (an adhesion, a card).
    None,
}

impl Frequency {
    pub fn code(self) -> &'static str {
        match self {
            Frequency::Monthly => "monthly",
            Frequency::Quarterly => "quarterly",
            Frequency::Yearly => "yearly",
            Frequency::Once => "once",
            Frequency::None => "none",
        }
    }
}

/// One eligibility condition: a CEL expression that must be true, and the message a household
/// reads when it is not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub name: String,
    pub expression: String,
    pub message_key: String,
    /// The message in each language, for a key the shipped translations do not have (a
    /// programme defined by a manager); the shipped text is used otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<Names>,
}

/// A line of the benefit: on the household (no `per_member`), or once for each member for whom
/// `per_member` holds, with `member` and `rank` (1 for the eldest of those members) in scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenefitLineDef {
    pub name: String,
    pub message_key: String,
    /// The message in each language, for a key the shipped translations do not have (a
    /// programme defined by a manager); the shipped text is used otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<Names>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_member: Option<String>,
    /// MAD per period; a line worth 0 is left out of the decision.
    pub amount: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Benefit {
    /// The least a household receives per period (MAD); a top-up line makes up the difference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor_message_key: Option<String>,
    pub lines: Vec<BenefitLineDef>,
}

/// Something an agent should look at, raised whether or not the household is eligible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagDef {
    pub name: String,
    pub message_key: String,
    /// The message in each language, for a key the shipped translations do not have (a
    /// programme defined by a manager); the shipped text is used otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<Names>,
    /// A condition on the household, or on each `member` with `per_member = true`.
    pub when: String,
    #[serde(default)]
    pub per_member: bool,
}

/// Parameters that change from a date on (the yearly increases of an allowance).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    #[serde(with = "date_text")]
    pub from: Date,
    pub parameters: BTreeMap<String, f64>,
}

/// A public text a figure or rule comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// When it was published or read, as written by the source (`2023-12-01`).
    pub date: String,
    pub supports: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Programme {
    pub code: String,
    pub version: u32,
    pub names: Names,
    pub unit: Unit,
    pub frequency: Frequency,
    /// The most one cycle (one period's payments) may pay out, in MAD; a [`Budget`], since a
    /// national programme pays more in a month than an [`Amount`] may hold.
    #[serde(
        default,
        deserialize_with = "crate::budget::cap_field::deserialize",
        skip_serializing_if = "Option::is_none"
    )]
    pub budget_cap: Option<Budget>,
    #[serde(with = "date_text")]
    pub start: Date,
    #[serde(
        default,
        with = "opt_date_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub end: Option<Date>,
    /// The index cut-off; conditions read it as `programme.threshold`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_threshold: Option<f64>,
    #[serde(default)]
    pub parameters: BTreeMap<String, f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedule: Vec<Schedule>,
    pub conditions: Vec<Condition>,
    /// For `unit = "person"`: which members benefit (a condition on `member`); every member when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beneficiary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub benefit: Option<Benefit>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<FlagDef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Source>,
}

mod date_text {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use time::Date;
    use time::macros::format_description;

    const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
        format_description!("[year]-[month]-[day]");

    pub fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        let text = d.format(FORMAT).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).map_err(D::Error::custom)
    }

    pub fn parse(text: &str) -> Result<Date, String> {
        Date::parse(text, FORMAT).map_err(|_| format!("expected a date YYYY-MM-DD, found `{text}`"))
    }
}

mod opt_date_text {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use time::Date;

    pub fn serialize<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::date_text::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        text.map(|t| super::date_text::parse(&t).map_err(D::Error::custom))
            .transpose()
    }
}

/// The programmes shipped with Sanad, as (file name, text).
pub fn shipped() -> [(&'static str, &'static str); 4] {
    [
        (
            "asd-family.toml",
            include_str!("../programmes/asd-family.toml"),
        ),
        (
            "amo-tadamon.toml",
            include_str!("../programmes/amo-tadamon.toml"),
        ),
        (
            "school-support.toml",
            include_str!("../programmes/school-support.toml"),
        ),
        (
            "disability-allowance.toml",
            include_str!("../programmes/disability-allowance.toml"),
        ),
    ]
}

impl Programme {
    /// Reads and checks a programme file. Expressions are compiled too, so a file that loads is
    /// one that [`compile`](Self::compile) accepts.
    pub fn from_toml(text: &str) -> Result<Programme, DefinitionError> {
        let programme: Programme = toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|s| line_column(text, s.start))
                .unwrap_or((0, 0));
            DefinitionError {
                condition: None,
                line,
                column,
                message: e.message().to_owned(),
            }
        })?;
        programme.compile()?;
        Ok(programme)
    }

    pub fn from_json(text: &str) -> Result<Programme, DefinitionError> {
        let programme: Programme = serde_json::from_str(text).map_err(|e| DefinitionError {
            condition: None,
            line: u32::try_from(e.line()).unwrap_or(0),
            column: u32::try_from(e.column()).unwrap_or(0),
            message: e.to_string(),
        })?;
        programme.compile()?;
        Ok(programme)
    }

    pub fn to_toml(&self) -> String {
        // Every field is a string, number, date string, table or array of tables: the serializer
        // has nothing it can refuse. Should that change, the JSON form is still a faithful file.
        toml::to_string_pretty(self).unwrap_or_else(|_| self.to_json())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The parameters in force on `on`: the base ones, overridden by each schedule entry from its
    /// date, plus `threshold`.
    pub fn parameters_on(&self, on: Date) -> BTreeMap<String, f64> {
        let mut params = self.parameters.clone();
        let mut schedule: Vec<&Schedule> = self.schedule.iter().collect();
        schedule.sort_by_key(|s| s.from);
        for s in schedule.into_iter().filter(|s| s.from <= on) {
            params.extend(s.parameters.iter().map(|(k, v)| (k.clone(), *v)));
        }
        if let Some(t) = self.index_threshold {
            params.insert("threshold".to_owned(), t);
        }
        params
    }

    /// Every message key the programme names, with the texts the file gives for it, if any.
    fn messages(&self) -> Vec<(&str, Option<&Names>)> {
        let mut out: Vec<(&str, Option<&Names>)> = self
            .conditions
            .iter()
            .map(|c| (c.message_key.as_str(), c.messages.as_ref()))
            .collect();
        if let Some(b) = &self.benefit {
            out.extend(
                b.lines
                    .iter()
                    .map(|l| (l.message_key.as_str(), l.messages.as_ref())),
            );
            out.extend(b.floor_message_key.as_deref().map(|k| (k, None)));
        }
        out.extend(
            self.flags
                .iter()
                .map(|f| (f.message_key.as_str(), f.messages.as_ref())),
        );
        out
    }

    /// The message `key` in `lang`: the file's own text when it gives one, the shipped
    /// translation otherwise (see [`crate::message`]).
    pub fn message(&self, key: &str, lang: Lang, args: &[(&str, String)]) -> String {
        let inline = self
            .messages()
            .into_iter()
            .find_map(|(k, names)| if k == key { names } else { None });
        match inline {
            Some(names) if !names.get(lang).trim().is_empty() => names.get(lang).to_owned(),
            _ => crate::messages::message(key, lang, args),
        }
    }

    /// Every message key the programme names, to check translations.
    pub fn message_keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self
            .conditions
            .iter()
            .map(|c| c.message_key.as_str())
            .collect();
        if let Some(b) = &self.benefit {
            keys.extend(b.lines.iter().map(|l| l.message_key.as_str()));
            keys.extend(b.floor_message_key.as_deref());
        }
        keys.extend(self.flags.iter().map(|f| f.message_key.as_str()));
        keys
    }

    pub fn compile(&self) -> Result<CompiledProgramme, DefinitionError> {
        self.compile_with(Limits::default())
    }

    pub fn compile_with(&self, limits: Limits) -> Result<CompiledProgramme, DefinitionError> {
        self.validate()?;
        let mut starts: Vec<Date> = vec![self.start];
        starts.extend(
            self.schedule
                .iter()
                .map(|s| s.from)
                .filter(|d| *d > self.start),
        );
        starts.sort();
        starts.dedup();
        let mut periods = Vec::with_capacity(starts.len());
        for from in starts {
            let params = self.parameters_on(from);
            periods.push((from, Body::compile(self, &params, limits)?));
        }
        Ok(CompiledProgramme {
            programme: self.clone(),
            periods,
            budget: limits.budget,
        })
    }

    fn validate(&self) -> Result<(), DefinitionError> {
        let code_ok = !self.code.is_empty()
            && self.code.len() <= 64
            && self
                .code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !code_ok {
            return Err(DefinitionError::file(format!(
                "the code `{}` must be 1 to 64 lowercase letters, digits or dashes",
                self.code
            )));
        }
        for lang in Lang::ALL {
            if self.names.get(lang).trim().is_empty() {
                return Err(DefinitionError::file(format!(
                    "the name in {} is empty",
                    lang.code()
                )));
            }
        }
        if let Some(end) = self.end
            && end < self.start
        {
            return Err(DefinitionError::file("the programme ends before it starts"));
        }
        if self.conditions.is_empty() {
            return Err(DefinitionError::file(
                "a programme needs at least one condition",
            ));
        }
        // Each expression is bounded on its own; these bound how many a decision runs.
        let lines = self.benefit.as_ref().map_or(0, |b| b.lines.len());
        if self.conditions.len() > MAX_CONDITIONS
            || lines > MAX_LINES
            || self.flags.len() > MAX_FLAGS
        {
            return Err(DefinitionError::file(format!(
                "at most {MAX_CONDITIONS} conditions, {MAX_LINES} benefit lines and {MAX_FLAGS} flags"
            )));
        }
        let mut names = BTreeSet::new();
        for c in &self.conditions {
            if !names.insert(c.name.as_str()) {
                return Err(DefinitionError::file(format!(
                    "two conditions are named `{}`",
                    c.name
                )));
            }
        }
        if self.parameters.contains_key("threshold") {
            return Err(DefinitionError::file(
                "`threshold` is set by index_threshold, not among the parameters",
            ));
        }
        for (name, value) in self
            .parameters
            .iter()
            .chain(self.schedule.iter().flat_map(|s| s.parameters.iter()))
        {
            if !value.is_finite() {
                return Err(DefinitionError::file(format!(
                    "the parameter `{name}` is not a finite number"
                )));
            }
        }
        for s in &self.schedule {
            for name in s.parameters.keys() {
                if !self.parameters.contains_key(name) {
                    return Err(DefinitionError::file(format!(
                        "the schedule from {} changes `{name}`, which has no base value in [parameters]",
                        s.from
                    )));
                }
            }
        }
        if self.unit == Unit::Household && self.beneficiary.is_some() {
            return Err(DefinitionError::file(
                "`beneficiary` is for unit = \"person\"",
            ));
        }
        if self.frequency == Frequency::None && self.benefit.is_some() {
            return Err(DefinitionError::file(
                "a programme with frequency none pays nothing: remove [benefit]",
            ));
        }
        if self.frequency != Frequency::None && self.benefit.is_none() {
            return Err(DefinitionError::file(
                "a paying programme needs a [benefit]",
            ));
        }
        for (key, inline) in self.messages() {
            for lang in Lang::ALL {
                let given = inline.is_some_and(|n| !n.get(lang).trim().is_empty());
                if !given && !has_message(key, lang) {
                    return Err(DefinitionError::file(format!(
                        "the message `{key}` has no {} translation: add it to the shipped \
                         translations or give `messages` with fr, ar and en",
                        lang.code()
                    )));
                }
            }
        }
        Ok(())
    }
}

const MAX_CONDITIONS: usize = 64;
const MAX_LINES: usize = 32;
const MAX_FLAGS: usize = 32;

fn line_column(text: &str, offset: usize) -> (u32, u32) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (
        u32::try_from(line).unwrap_or(0),
        u32::try_from(column).unwrap_or(0),
    )
}

/// An expression after checking, with the slots its evaluation needs.
#[derive(Debug, Clone, PartialEq)]
struct Compiled {
    node: Node,
    slots: usize,
}

#[derive(Debug, Clone, PartialEq)]
struct CondC {
    name: String,
    message_key: String,
    rule: Compiled,
}

#[derive(Debug, Clone, PartialEq)]
struct LineC {
    name: String,
    message_key: String,
    per_member: Option<Compiled>,
    amount: Compiled,
}

#[derive(Debug, Clone, PartialEq)]
struct FlagC {
    name: String,
    message_key: String,
    per_member: bool,
    when: Compiled,
}

/// The compiled rules of one period of parameters.
#[derive(Debug, Clone, PartialEq)]
struct Body {
    conditions: Vec<CondC>,
    beneficiary: Option<Compiled>,
    lines: Vec<LineC>,
    floor: Option<(Compiled, String)>,
    flags: Vec<FlagC>,
    slots: usize,
}

const MEMBER_SLOT: usize = 0;
const RANK_SLOT: usize = 1;

impl Body {
    fn compile(
        p: &Programme,
        params: &BTreeMap<String, f64>,
        limits: Limits,
    ) -> Result<Body, DefinitionError> {
        let household = Schema {
            programme: Some(params),
            bound: Vec::new(),
            limits,
        };
        let per_member = Schema {
            programme: Some(params),
            bound: vec![Bound {
                name: "member",
                ty: Ty::Member,
            }],
            limits,
        };
        let ranked = Schema {
            programme: Some(params),
            bound: vec![
                Bound {
                    name: "member",
                    ty: Ty::Member,
                },
                Bound {
                    name: "rank",
                    ty: Ty::Int,
                },
            ],
            limits,
        };
        let mut slots = 2;
        let mut one = |source: &str, schema: &Schema<'_>, want_bool: bool, what: &str| {
            let checked = compile::compile(source, schema).map_err(|e| e.in_condition(what))?;
            let ok = if want_bool {
                checked.ty == Ty::Bool
            } else {
                matches!(checked.ty, Ty::Int | Ty::Double)
            };
            if !ok {
                return Err(DefinitionError {
                    condition: Some(what.to_owned()),
                    line: 1,
                    column: 1,
                    message: if want_bool {
                        format!(
                            "a condition must be true or false; this one gives a {}",
                            crate::rule::ty_name(&checked.ty)
                        )
                    } else {
                        format!(
                            "a formula must give a number of dirhams; this one gives a {}",
                            crate::rule::ty_name(&checked.ty)
                        )
                    },
                });
            }
            slots = slots.max(checked.slots);
            Ok(Compiled {
                node: checked.node,
                slots: checked.slots,
            })
        };
        let mut conditions = Vec::new();
        for c in &p.conditions {
            conditions.push(CondC {
                name: c.name.clone(),
                message_key: c.message_key.clone(),
                rule: one(&c.expression, &household, true, &c.name)?,
            });
        }
        let beneficiary = match &p.beneficiary {
            Some(b) => Some(one(b, &per_member, true, "beneficiary")?),
            None => None,
        };
        let mut lines = Vec::new();
        let mut floor = None;
        if let Some(b) = &p.benefit {
            for l in &b.lines {
                let what = format!("benefit.{}", l.name);
                let (per, amount) = match &l.per_member {
                    Some(sel) => (
                        Some(one(sel, &per_member, true, &what)?),
                        one(&l.amount, &ranked, false, &what)?,
                    ),
                    None => (None, one(&l.amount, &household, false, &what)?),
                };
                lines.push(LineC {
                    name: l.name.clone(),
                    message_key: l.message_key.clone(),
                    per_member: per,
                    amount,
                });
            }
            if let Some(f) = &b.floor {
                let key = b
                    .floor_message_key
                    .clone()
                    .unwrap_or_else(|| "benefit-line-floor".to_owned());
                floor = Some((one(f, &household, false, "benefit.floor")?, key));
            }
        }
        let mut flags = Vec::new();
        for f in &p.flags {
            let what = format!("flag.{}", f.name);
            let schema = if f.per_member {
                &per_member
            } else {
                &household
            };
            flags.push(FlagC {
                name: f.name.clone(),
                message_key: f.message_key.clone(),
                per_member: f.per_member,
                when: one(&f.when, schema, true, &what)?,
            });
        }
        Ok(Body {
            conditions,
            beneficiary,
            lines,
            floor,
            flags,
            slots,
        })
    }
}

/// A programme ready to decide households. Cheap to share between threads.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledProgramme {
    programme: Programme,
    /// Rules per period of parameters, by start date (ascending).
    periods: Vec<(Date, Body)>,
    budget: u64,
}

/// The condition a household failed, with the message it reads.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    pub condition: String,
    pub message_key: String,
    /// Set when the condition could not be evaluated (no index, over budget).
    #[serde(serialize_with = "error_text", skip_serializing_if = "Option::is_none")]
    pub error: Option<EvalError>,
}

fn error_text<S: serde::Serializer>(e: &Option<EvalError>, s: S) -> Result<S::Ok, S::Error> {
    match e {
        Some(e) => s.collect_str(e),
        None => s.serialize_none(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    pub name: String,
    pub message_key: String,
    /// The member it is about, by position in the facts.
    pub member: Option<usize>,
}

/// One part of an amount: a line of the formula for a member (by position) or for the household.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BenefitLine {
    pub name: String,
    pub message_key: String,
    pub member: Option<usize>,
    /// The member's rank among those the line is for (1 = eldest).
    pub rank: Option<u32>,
    pub amount: Amount,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub eligible: bool,
    pub failed: Option<Failure>,
    /// Members (by position in the facts) covered, for `unit = "person"`.
    pub beneficiaries: Vec<usize>,
    /// Per period; zero when the programme pays nothing or the household is not eligible.
    pub amount: Amount,
    pub flags: Vec<Flag>,
    /// The amount, line by line; the lines add up to it exactly.
    pub lines: Vec<BenefitLine>,
}

pub const PERIOD_CONDITION: &str = "period";
pub const NOT_ACTIVE_KEY: &str = "programme-not-active";
pub const NOT_SCORED_KEY: &str = "household-not-scored";
pub const EVALUATION_ERROR_KEY: &str = "rule-evaluation-error";

impl CompiledProgramme {
    pub fn programme(&self) -> &Programme {
        &self.programme
    }

    pub fn code(&self) -> &str {
        &self.programme.code
    }

    fn body(&self, on: Date) -> Option<&Body> {
        self.periods
            .iter()
            .rev()
            .find(|(from, _)| *from <= on)
            .map(|(_, b)| b)
    }

    pub fn decide(&self, facts: &HouseholdFacts, index: Option<f64>, on: Date) -> Decision {
        let active = on >= self.programme.start && self.programme.end.is_none_or(|end| on <= end);
        let body = match self.body(on) {
            Some(b) if active => b,
            _ => {
                return refused(
                    Failure {
                        condition: PERIOD_CONDITION.to_owned(),
                        message_key: NOT_ACTIVE_KEY.to_owned(),
                        error: None,
                    },
                    Vec::new(),
                );
            }
        };
        let input = Input { facts, index };
        let mut frame = Frame::new(body.slots, self.budget);
        let flags = match flags(body, &input, &mut frame) {
            Ok(f) => f,
            Err(e) => return refused(failure("flags", e), Vec::new()),
        };
        for c in &body.conditions {
            frame.reset();
            match eval::eval_bool(&c.rule.node, &input, &mut frame) {
                Ok(true) => {}
                Ok(false) => {
                    return refused(
                        Failure {
                            condition: c.name.clone(),
                            message_key: c.message_key.clone(),
                            error: None,
                        },
                        flags,
                    );
                }
                Err(e) => return refused(failure(&c.name, e), flags),
            }
        }
        let beneficiaries = match self.beneficiaries(body, &input, &mut frame) {
            Ok(b) => b,
            Err(e) => return refused(failure("beneficiary", e), flags),
        };
        let (lines, amount) = match benefit(body, &input, &mut frame) {
            Ok(x) => x,
            Err((what, e)) => return refused(failure(&what, e), flags),
        };
        Decision {
            eligible: true,
            failed: None,
            beneficiaries,
            amount,
            flags,
            lines,
        }
    }

    fn beneficiaries<'a>(
        &self,
        body: &'a Body,
        input: &Input<'a>,
        frame: &mut Frame<'a>,
    ) -> Result<Vec<usize>, EvalError> {
        if self.programme.unit == Unit::Household {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for (i, m) in input.facts.members.iter().enumerate() {
            let covered = match &body.beneficiary {
                Some(rule) => {
                    frame.reset();
                    bind_member(frame, m, None);
                    eval::eval_bool(&rule.node, input, frame)?
                }
                None => true,
            };
            if covered {
                out.push(i);
            }
        }
        Ok(out)
    }
}

fn refused(failed: Failure, flags: Vec<Flag>) -> Decision {
    Decision {
        eligible: false,
        failed: Some(failed),
        beneficiaries: Vec::new(),
        amount: Amount::ZERO,
        flags,
        lines: Vec::new(),
    }
}

fn failure(condition: &str, e: EvalError) -> Failure {
    let key = if e == EvalError::NotScored {
        NOT_SCORED_KEY
    } else {
        EVALUATION_ERROR_KEY
    };
    Failure {
        condition: condition.to_owned(),
        message_key: key.to_owned(),
        error: Some(e),
    }
}

fn bind_member<'a>(frame: &mut Frame<'a>, m: &'a MemberFacts, rank: Option<u32>) {
    if let Some(slot) = frame.slots.get_mut(MEMBER_SLOT) {
        *slot = Value::Member(m);
    }
    if let (Some(r), Some(slot)) = (rank, frame.slots.get_mut(RANK_SLOT)) {
        *slot = Value::Int(i64::from(r));
    }
}

fn flags<'a>(
    body: &'a Body,
    input: &Input<'a>,
    frame: &mut Frame<'a>,
) -> Result<Vec<Flag>, EvalError> {
    let mut out = Vec::new();
    for f in &body.flags {
        if f.per_member {
            for (i, m) in input.facts.members.iter().enumerate() {
                frame.reset();
                bind_member(frame, m, None);
                if eval::eval_bool(&f.when.node, input, frame)? {
                    out.push(Flag {
                        name: f.name.clone(),
                        message_key: f.message_key.clone(),
                        member: Some(i),
                    });
                }
            }
        } else {
            frame.reset();
            if eval::eval_bool(&f.when.node, input, frame)? {
                out.push(Flag {
                    name: f.name.clone(),
                    message_key: f.message_key.clone(),
                    member: None,
                });
            }
        }
    }
    Ok(out)
}

/// Members in birth order, eldest first; ties are broken on the member's facts so that the ranks
/// (and so the amount) do not depend on the order members were recorded in.
fn birth_order(members: &[MemberFacts], chosen: &mut [usize]) {
    chosen.sort_by(|&a, &b| {
        let (x, y) = (&members[a], &members[b]);
        y.age
            .cmp(&x.age)
            .then(x.relation.cmp(&y.relation))
            .then(x.sex.cmp(&y.sex))
            .then(x.schooling.cmp(&y.schooling))
            .then(x.occupation.cmp(&y.occupation))
            .then(x.disability.cmp(&y.disability))
            .then(a.cmp(&b))
    });
}

fn to_amount(x: f64) -> Result<Amount, EvalError> {
    let centimes = (x * 100.0).round();
    if !centimes.is_finite() || centimes < 0.0 || centimes > Amount::MAX_CENTIMES as f64 {
        return Err(EvalError::BadAmount(format!("{x}")));
    }
    Amount::from_centimes(centimes as i64).ok_or_else(|| EvalError::BadAmount(format!("{x}")))
}

type BenefitResult = Result<(Vec<BenefitLine>, Amount), (String, EvalError)>;

fn benefit<'a>(body: &'a Body, input: &Input<'a>, frame: &mut Frame<'a>) -> BenefitResult {
    let members = &input.facts.members;
    let mut lines = Vec::new();
    let mut total: i64 = 0;
    let mut push =
        |lines: &mut Vec<BenefitLine>, l: &LineC, member, rank, x: f64| -> Result<(), EvalError> {
            let amount = to_amount(x)?;
            if amount.centimes() > 0 {
                total = total
                    .checked_add(amount.centimes())
                    .ok_or(EvalError::Overflow)?;
                lines.push(BenefitLine {
                    name: l.name.clone(),
                    message_key: l.message_key.clone(),
                    member,
                    rank,
                    amount,
                });
            }
            Ok(())
        };
    for l in &body.lines {
        let what = || format!("benefit.{}", l.name);
        match &l.per_member {
            None => {
                frame.reset();
                let x = eval::eval_number(&l.amount.node, input, frame).map_err(|e| (what(), e))?;
                push(&mut lines, l, None, None, x).map_err(|e| (what(), e))?;
            }
            Some(sel) => {
                let mut chosen = Vec::new();
                for (i, m) in members.iter().enumerate() {
                    frame.reset();
                    bind_member(frame, m, None);
                    if eval::eval_bool(&sel.node, input, frame).map_err(|e| (what(), e))? {
                        chosen.push(i);
                    }
                }
                birth_order(members, &mut chosen);
                for (r, &i) in chosen.iter().enumerate() {
                    let rank = u32::try_from(r + 1).unwrap_or(u32::MAX);
                    frame.reset();
                    bind_member(frame, &members[i], Some(rank));
                    let x =
                        eval::eval_number(&l.amount.node, input, frame).map_err(|e| (what(), e))?;
                    push(&mut lines, l, Some(i), Some(rank), x).map_err(|e| (what(), e))?;
                }
            }
        }
    }
    if let Some((rule, key)) = &body.floor {
        frame.reset();
        let what = || "benefit.floor".to_owned();
        let floor = eval::eval_number(&rule.node, input, frame).map_err(|e| (what(), e))?;
        let floor = to_amount(floor).map_err(|e| (what(), e))?;
        if floor.centimes() > total {
            let top_up = Amount::from_centimes(floor.centimes() - total)
                .ok_or_else(|| (what(), EvalError::Overflow))?;
            lines.push(BenefitLine {
                name: "floor".to_owned(),
                message_key: key.clone(),
                member: None,
                rank: None,
                amount: top_up,
            });
            total = floor.centimes();
        }
    }
    let amount =
        Amount::from_centimes(total).ok_or_else(|| ("benefit".to_owned(), EvalError::Overflow))?;
    Ok((lines, amount))
}
