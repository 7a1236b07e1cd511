//! The two ways a rule goes wrong: refused when it is defined ([`DefinitionError`], with where), or
//! stopped while it runs on one household ([`EvalError`]).

use std::fmt;

/// A programme, condition or formula refused when it is defined. `line` and `column` count from 1
/// within the expression (0 when the error is about the file, not an expression).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DefinitionError {
    /// The condition (or `benefit.<line>`, `flag.<name>`) whose expression is wrong.
    pub condition: Option<String>,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl DefinitionError {
    pub(crate) fn file(message: impl Into<String>) -> DefinitionError {
        DefinitionError {
            condition: None,
            line: 0,
            column: 0,
            message: message.into(),
        }
    }

    pub(crate) fn in_condition(mut self, name: &str) -> DefinitionError {
        self.condition = Some(name.to_owned());
        self
    }
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = &self.condition {
            write!(f, "in `{name}`, ")?;
        }
        if self.line > 0 {
            write!(f, "line {}, column {}: ", self.line, self.column)?;
        }
        f.write_str(&self.message)
    }
}

/// A rule that could not finish on one household.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("the household has no index yet")]
    NotScored,
    #[error("the rule went over its budget of {0} operations")]
    Budget(u64),
    #[error("division by zero")]
    DivisionByZero,
    #[error("a whole number went out of range")]
    Overflow,
    #[error("position {index} is outside a list of {len}")]
    OutOfRange { index: i64, len: usize },
    #[error("the formula gave {0}, which is not an amount of dirhams")]
    BadAmount(String),
    /// A value of a type the checker ruled out: a bug in this crate, reported rather than a panic.
    #[error("internal error in the rule evaluator")]
    Internal,
}
