//! From CEL text to a typed tree that runs on [`HouseholdFacts`] without building a CEL context.
//!
//! The `cel` crate parses (and gives positions); this module checks every name and type against
//! the schema a rule may read (`household`, `members`, `programme`, plus the variables a formula is
//! given) and folds the programme's parameters into constants. Whatever it accepts, [`crate::eval`]
//! can run: the only errors left at run time are a missing index, arithmetic and the budget.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use cel::common::ast::operators as op;
use cel::common::ast::{CallExpr, ComprehensionExpr, Expr, IdedExpr, LiteralValue, SourceInfo};
use sanad_domain::{
    Area, Asset, Disability, DwellingType, Occupation, Relation, Schooling, Sex, Tenure,
};

use crate::error::DefinitionError;

/// Bounds on what a rule may be, so that a hostile one is refused before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest expression, in bytes.
    pub max_length: usize,
    /// Deepest nesting of the expression tree.
    pub max_depth: usize,
    /// Most elements in a list written in the rule.
    pub max_list: usize,
    /// Most comprehensions (`exists`, `map`…) nested in one another.
    pub max_comprehension_nesting: usize,
    /// Most operations one evaluation may take before it is cut off.
    pub budget: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_length: 4096,
            max_depth: 32,
            max_list: 256,
            max_comprehension_nesting: 3,
            budget: 100_000,
        }
    }
}

/// The closed vocabularies a string field holds, so that `m.relation == 'chlid'` is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Vocab {
    Relation,
    Sex,
    Disability,
    Schooling,
    Occupation,
    Dwelling,
    Tenure,
    Area,
    Asset,
}

impl Vocab {
    fn accepts(self, code: &str) -> bool {
        match self {
            Vocab::Relation => Relation::parse(code).is_some(),
            Vocab::Sex => Sex::parse(code).is_some(),
            Vocab::Disability => Disability::parse(code).is_some(),
            Vocab::Schooling => Schooling::parse(code).is_some(),
            Vocab::Occupation => Occupation::parse(code).is_some(),
            Vocab::Dwelling => DwellingType::parse(code).is_some(),
            Vocab::Tenure => Tenure::parse(code).is_some(),
            Vocab::Area => code == Area::Urban.as_str() || code == Area::Rural.as_str(),
            Vocab::Asset => Asset::parse(code).is_some(),
        }
    }

    fn expected(self) -> String {
        match self {
            Vocab::Relation => Relation::expected(),
            Vocab::Sex => Sex::expected(),
            Vocab::Disability => Disability::expected(),
            Vocab::Schooling => Schooling::expected(),
            Vocab::Occupation => Occupation::expected(),
            Vocab::Dwelling => DwellingType::expected(),
            Vocab::Tenure => Tenure::expected(),
            Vocab::Area => "urban | rural".to_owned(),
            Vocab::Asset => Asset::expected(),
        }
    }
}

/// The type of an expression. Strings remember their vocabulary, if any.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ty {
    Bool,
    Int,
    Double,
    Str(Option<Vocab>),
    List(Box<Ty>),
    Member,
}

/// `name` with its indefinite article, for messages.
fn an(name: &str) -> String {
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name}")
}

impl Ty {
    fn name(&self) -> String {
        match self {
            Ty::Bool => "bool".into(),
            Ty::Int => "int".into(),
            Ty::Double => "double".into(),
            Ty::Str(_) => "string".into(),
            Ty::List(t) => format!("list of {}", t.name()),
            Ty::Member => "member".into(),
        }
    }

    fn is_number(&self) -> bool {
        matches!(self, Ty::Int | Ty::Double)
    }

    /// Same type for comparison: numbers mix, strings of any vocabulary mix.
    fn comparable(&self, other: &Ty) -> bool {
        match (self, other) {
            (a, b) if a.is_number() && b.is_number() => true,
            (Ty::Str(_), Ty::Str(_)) => true,
            (Ty::Bool, Ty::Bool) => true,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HField {
    Size,
    Region,
    Area,
    DwellingType,
    Tenure,
    Rooms,
    Water,
    Electricity,
    Phone,
    Gas,
    DeclaredIncome,
    Assets,
    Scored,
}

const HOUSEHOLD_FIELDS: &[(&str, HField)] = &[
    ("size", HField::Size),
    ("region", HField::Region),
    ("area", HField::Area),
    ("dwelling_type", HField::DwellingType),
    ("tenure", HField::Tenure),
    ("rooms", HField::Rooms),
    ("water_spending", HField::Water),
    ("electricity_spending", HField::Electricity),
    ("phone_spending", HField::Phone),
    ("gas_spending", HField::Gas),
    ("declared_income", HField::DeclaredIncome),
    ("assets", HField::Assets),
    ("scored", HField::Scored),
];

impl HField {
    fn ty(self) -> Ty {
        match self {
            HField::Size | HField::Rooms => Ty::Int,
            HField::Region => Ty::Str(None),
            HField::Area => Ty::Str(Some(Vocab::Area)),
            HField::DwellingType => Ty::Str(Some(Vocab::Dwelling)),
            HField::Tenure => Ty::Str(Some(Vocab::Tenure)),
            HField::Water
            | HField::Electricity
            | HField::Phone
            | HField::Gas
            | HField::DeclaredIncome => Ty::Double,
            HField::Assets => Ty::List(Box::new(Ty::Str(Some(Vocab::Asset)))),
            HField::Scored => Ty::Bool,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MField {
    Age,
    Sex,
    Relation,
    Disability,
    Schooling,
    Occupation,
}

const MEMBER_FIELDS: &[(&str, MField)] = &[
    ("age", MField::Age),
    ("sex", MField::Sex),
    ("relation", MField::Relation),
    ("disability", MField::Disability),
    ("schooling", MField::Schooling),
    ("occupation", MField::Occupation),
];

impl MField {
    fn ty(self) -> Ty {
        match self {
            MField::Age => Ty::Int,
            MField::Sex => Ty::Str(Some(Vocab::Sex)),
            MField::Relation => Ty::Str(Some(Vocab::Relation)),
            MField::Disability => Ty::Str(Some(Vocab::Disability)),
            MField::Schooling => Ty::Str(Some(Vocab::Schooling)),
            MField::Occupation => Ty::Str(Some(Vocab::Occupation)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// How two values are compared, decided when the rule is compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Int,
    Double,
    Str,
    Bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CompKind {
    Exists,
    All,
    ExistsOne,
    /// `map` and `filter`: collect `map` (or the element) where `pred` holds.
    Collect,
    /// `size(x.filter(...))` without building the list.
    Count,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Comp {
    pub kind: CompKind,
    pub range: Node,
    pub slot: usize,
    pub pred: Option<Node>,
    pub map: Option<Node>,
}

/// A checked expression. Every variant's operands have the types it expects.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Bool(bool),
    Int(i64),
    Double(f64),
    Str(String),
    List(Vec<Node>),
    Household(HField),
    Index,
    Members,
    Member(Box<Node>, MField),
    /// `m.age` for a variable `m`: the common case, without a nested node.
    VarMember(usize, MField),
    Var(usize),
    Not(Box<Node>),
    Neg(Kind, Box<Node>),
    ToDouble(Box<Node>),
    ToInt(Box<Node>),
    Arith(Arith, Kind, Box<Node>, Box<Node>),
    Cmp(Cmp, Kind, Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Cond(Box<Node>, Box<Node>, Box<Node>),
    /// Membership of a scalar in a list, compared as `Kind`.
    In(Kind, Box<Node>, Box<Node>),
    Size(Box<Node>),
    Sum(Kind, Box<Node>),
    MinMax {
        max: bool,
        kind: Kind,
        a: Box<Node>,
        b: Box<Node>,
    },
    At(Box<Node>, Box<Node>),
    Comp(Box<Comp>),
}

/// A variable a caller binds before evaluation (a formula's `member` and `rank`).
#[derive(Debug, Clone)]
pub(crate) struct Bound {
    pub name: &'static str,
    pub ty: Ty,
}

/// What an expression may name.
pub(crate) struct Schema<'p> {
    /// `programme.<name>`; `None` for an ad-hoc rule that has no programme.
    pub programme: Option<&'p BTreeMap<String, f64>>,
    /// Variables in slots 0.. in this order.
    pub bound: Vec<Bound>,
    pub limits: Limits,
}

/// The result of a compilation: the tree, its type, and how many slots its evaluation needs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Checked {
    pub node: Node,
    pub ty: Ty,
    pub slots: usize,
}

const RESERVED: &[&str] = &["household", "members", "programme", "member", "rank"];

/// The stack a compilation runs on. The parser and the checker recurse; a server's worker thread
/// (2 MiB) must not be what bounds a hostile rule, so they get a thread of their own.
const COMPILE_STACK: usize = 64 * 1024 * 1024;

pub(crate) fn compile(source: &str, schema: &Schema<'_>) -> Result<Checked, DefinitionError> {
    std::thread::scope(|scope| {
        match std::thread::Builder::new()
            .name("rule-compile".into())
            .stack_size(COMPILE_STACK)
            .spawn_scoped(scope, || compile_here(source, schema))
        {
            Ok(worker) => worker.join().unwrap_or_else(|_| {
                Err(DefinitionError {
                    condition: None,
                    line: 1,
                    column: 1,
                    message: "the expression could not be compiled".into(),
                })
            }),
            // No thread to be had: compile here, still within the nesting limit.
            Err(_) => compile_here(source, schema),
        }
    })
}

/// Deepest bracket nesting outside string literals, with where it first goes past `max`.
fn bracket_depth_exceeds(source: &str, max: usize) -> Option<(u32, u32)> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let (mut line, mut column) = (1u32, 0u32);
    for c in source.chars() {
        if c == '\n' {
            line += 1;
            column = 0;
        } else {
            column += 1;
        }
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' | '{' => {
                depth += 1;
                if depth > max {
                    return Some((line, column));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

fn compile_here(source: &str, schema: &Schema<'_>) -> Result<Checked, DefinitionError> {
    let limits = schema.limits;
    if source.len() > limits.max_length {
        return Err(DefinitionError {
            condition: None,
            line: 1,
            column: 1,
            message: format!(
                "the expression is {} bytes long; at most {} are allowed",
                source.len(),
                limits.max_length
            ),
        });
    }
    if source.trim().is_empty() {
        return Err(DefinitionError {
            condition: None,
            line: 1,
            column: 1,
            message: "the expression is empty".into(),
        });
    }
    if let Some((line, column)) = bracket_depth_exceeds(source, limits.max_depth) {
        return Err(DefinitionError {
            condition: None,
            line,
            column,
            message: format!(
                "the expression is nested more than {} levels deep",
                limits.max_depth
            ),
        });
    }
    let (expr, info) = parse(source, limits)?;
    let mut checker = Checker {
        info: &info,
        source,
        schema,
        scope: schema
            .bound
            .iter()
            .enumerate()
            .map(|(slot, b)| (b.name.to_owned(), b.ty.clone(), slot))
            .collect(),
        slots: schema.bound.len(),
        comprehension_depth: 0,
    };
    let (node, ty) = checker.check(&expr, 0)?;
    Ok(Checked {
        node,
        ty,
        slots: checker.slots,
    })
}

fn parse(source: &str, limits: Limits) -> Result<(IdedExpr, SourceInfo), DefinitionError> {
    // The parser's own recursion limit counts grammar rules, more than expression levels; ours
    // (max_depth) is checked on the tree. The parser's guard keeps its stack bounded first.
    let depth = u16::try_from(limits.max_depth.saturating_add(8)).unwrap_or(u16::MAX);
    // The parser has `expect`s on internal invariants; a rule text must never take the server
    // down, so a panic there becomes a refusal.
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        cel::parser::Parser::new()
            .max_recursion_depth(depth)
            .error_recovery_limit(4)
            .parse_with_source_info(source)
    }));
    match parsed {
        Ok(Ok(parsed)) => Ok(parsed),
        Ok(Err(errors)) => {
            let first = errors.errors.first();
            let (line, column) = first.map(|e| e.pos).unwrap_or((1, 1));
            let message = first
                .map(|e| e.msg.clone())
                .unwrap_or_else(|| "syntax error".into());
            Err(DefinitionError {
                condition: None,
                line: u32::try_from(line.max(1)).unwrap_or(1),
                column: u32::try_from(column.max(1)).unwrap_or(1),
                message,
            })
        }
        Err(_) => Err(DefinitionError {
            condition: None,
            line: 1,
            column: 1,
            message: "the expression could not be parsed".into(),
        }),
    }
}

struct Checker<'a, 'p> {
    info: &'a SourceInfo,
    source: &'a str,
    schema: &'a Schema<'p>,
    /// Names in scope, innermost last, with their slot.
    scope: Vec<(String, Ty, usize)>,
    slots: usize,
    comprehension_depth: usize,
}

type Typed = (Node, Ty);

impl Checker<'_, '_> {
    fn error(&self, id: u64, message: impl Into<String>) -> DefinitionError {
        let (line, column) = self.position(id);
        DefinitionError {
            condition: None,
            line,
            column,
            message: message.into(),
        }
    }

    /// Line and column (from 1, in characters) of the node `id`.
    fn position(&self, id: u64) -> (u32, u32) {
        let Some((start, _)) = self.info.offset_for(id) else {
            return (1, 1);
        };
        // Offsets are in bytes; columns are counted in characters.
        let mut line = 1u32;
        let mut column = 1u32;
        for (i, c) in self.source.char_indices() {
            if i >= start as usize {
                break;
            }
            if c == '\n' {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
        }
        (line, column)
    }

    fn check(&mut self, e: &IdedExpr, depth: usize) -> Result<Typed, DefinitionError> {
        if depth > self.schema.limits.max_depth {
            return Err(self.error(
                e.id,
                format!(
                    "the expression is nested more than {} levels deep",
                    self.schema.limits.max_depth
                ),
            ));
        }
        let d = depth + 1;
        match &e.expr {
            Expr::Literal(lit) => self.literal(e.id, lit),
            Expr::Ident(name) => self.ident(e.id, name),
            Expr::Select(sel) => {
                if sel.test {
                    return Err(
                        self.error(e.id, "has() is not needed: every field is always present")
                    );
                }
                self.select(e.id, &sel.operand, &sel.field, d)
            }
            Expr::List(list) => {
                if list.elements.len() > self.schema.limits.max_list {
                    return Err(self.error(
                        e.id,
                        format!(
                            "a list of {} elements; at most {} are allowed",
                            list.elements.len(),
                            self.schema.limits.max_list
                        ),
                    ));
                }
                if !list.optional_indices.is_empty() {
                    return Err(self.error(e.id, "optional elements are not supported"));
                }
                let mut nodes: Vec<(Node, Ty)> = Vec::with_capacity(list.elements.len());
                let mut elem: Option<Ty> = None;
                for el in &list.elements {
                    let (n, t) = self.check(el, d)?;
                    let own = t.clone();
                    let t = match (&elem, t) {
                        (None, t) => t,
                        (Some(Ty::Int), Ty::Double) | (Some(Ty::Double), Ty::Int) => Ty::Double,
                        (Some(prev), t) if prev.comparable(&t) && prev.name() == t.name() => {
                            match (prev, &t) {
                                (Ty::Str(a), Ty::Str(b)) if a == b => t,
                                (Ty::Str(_), Ty::Str(_)) => Ty::Str(None),
                                _ => t,
                            }
                        }
                        (Some(prev), t) => {
                            return Err(self.error(
                                el.id,
                                format!("a list mixes {} and {}", prev.name(), t.name()),
                            ));
                        }
                    };
                    if matches!(t, Ty::List(_) | Ty::Member) {
                        return Err(
                            self.error(el.id, "a list may hold numbers, strings or bools only")
                        );
                    }
                    elem = Some(t);
                    nodes.push((n, own));
                }
                let Some(elem) = elem else {
                    return Err(self.error(e.id, "an empty list has no type; leave it out"));
                };
                let nodes = nodes
                    .into_iter()
                    .map(|(n, t)| {
                        if elem == Ty::Double {
                            promote(n, &t)
                        } else {
                            n
                        }
                    })
                    .collect();
                Ok((Node::List(nodes), Ty::List(Box::new(elem))))
            }
            Expr::Call(call) => self.call(e.id, call, d),
            Expr::Comprehension(c) => self.comprehension(e.id, c, d),
            Expr::Map(_) | Expr::Struct(_) => {
                Err(self.error(e.id, "maps and messages cannot be written in a rule"))
            }
            Expr::Unspecified => Err(self.error(e.id, "an incomplete expression")),
        }
    }

    fn literal(&self, id: u64, lit: &LiteralValue) -> Result<Typed, DefinitionError> {
        Ok(match lit {
            LiteralValue::Boolean(b) => (Node::Bool(*b.inner()), Ty::Bool),
            LiteralValue::Int(i) => (Node::Int(*i.inner()), Ty::Int),
            LiteralValue::UInt(u) => match i64::try_from(*u.inner()) {
                Ok(i) => (Node::Int(i), Ty::Int),
                Err(_) => return Err(self.error(id, "the number is too large")),
            },
            LiteralValue::Double(f) => (Node::Double(*f.inner()), Ty::Double),
            LiteralValue::String(s) => (Node::Str(s.inner().to_owned()), Ty::Str(None)),
            LiteralValue::Null => return Err(self.error(id, "null is not a value a rule can use")),
            LiteralValue::Bytes(_) => {
                return Err(self.error(id, "bytes are not a value a rule can use"));
            }
        })
    }

    fn ident(&self, id: u64, name: &str) -> Result<Typed, DefinitionError> {
        if let Some((_, ty, slot)) = self.scope.iter().rev().find(|(n, _, _)| n == name) {
            return Ok((Node::Var(*slot), ty.clone()));
        }
        match name {
            "members" => Ok((Node::Members, Ty::List(Box::new(Ty::Member)))),
            "household" | "programme" => Err(self.error(
                id,
                format!(
                    "`{name}` is a record: name one of its fields, e.g. `{name}.{}`",
                    if name == "household" {
                        "size"
                    } else {
                        "threshold"
                    }
                ),
            )),
            _ => Err(self.error(id, format!("unknown name `{name}`"))),
        }
    }

    fn select(
        &mut self,
        id: u64,
        operand: &IdedExpr,
        field: &str,
        depth: usize,
    ) -> Result<Typed, DefinitionError> {
        let shadowed = |name: &str| self.scope.iter().any(|(n, _, _)| n == name);
        // The node's position is its dot; errors point at the field after it.
        let field_error = |this: &Self, message: String| {
            let mut e = this.error(id, message);
            e.column += 1;
            e
        };
        if let Expr::Ident(root) = &operand.expr {
            if root == "household" && !shadowed("household") {
                if field == "index" {
                    return Ok((Node::Index, Ty::Double));
                }
                return match HOUSEHOLD_FIELDS.iter().find(|(n, _)| *n == field) {
                    Some((_, f)) => Ok((Node::Household(*f), f.ty())),
                    None => Err(field_error(
                        self,
                        format!(
                            "the household has no field `{field}`; it has index, {}",
                            HOUSEHOLD_FIELDS
                                .iter()
                                .map(|(n, _)| *n)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )),
                };
            }
            if root == "programme" && !shadowed("programme") {
                let Some(params) = self.schema.programme else {
                    return Err(field_error(
                        self,
                        "this rule has no programme to read parameters from".into(),
                    ));
                };
                return match params.get(field) {
                    Some(v) => Ok((Node::Double(*v), Ty::Double)),
                    None => Err(field_error(
                        self,
                        format!(
                            "the programme has no parameter `{field}`; it has {}",
                            params.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    )),
                };
            }
        }
        let (node, ty) = self.check(operand, depth)?;
        match ty {
            Ty::Member => match MEMBER_FIELDS.iter().find(|(n, _)| *n == field) {
                Some((_, f)) => match node {
                    Node::Var(slot) => Ok((Node::VarMember(slot, *f), f.ty())),
                    node => Ok((Node::Member(Box::new(node), *f), f.ty())),
                },
                None => Err(field_error(
                    self,
                    format!(
                        "a member has no field `{field}`; it has {}",
                        MEMBER_FIELDS
                            .iter()
                            .map(|(n, _)| *n)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
            },
            other => Err(field_error(
                self,
                format!("{} has no field `{field}`", an(&other.name())),
            )),
        }
    }

    fn call(&mut self, id: u64, call: &CallExpr, d: usize) -> Result<Typed, DefinitionError> {
        let name = call.func_name.as_str();
        let args = &call.args;
        // Receiver-style `x.size()` is the same as `size(x)`.
        let mut all: Vec<&IdedExpr> = Vec::with_capacity(args.len() + 1);
        if let Some(t) = &call.target {
            all.push(t);
        }
        all.extend(args.iter());
        let arity = |n: usize| -> Result<(), DefinitionError> {
            if all.len() == n {
                Ok(())
            } else {
                Err(self.error(
                    id,
                    format!(
                        "`{}` takes {n} argument(s), not {}",
                        display_name(name),
                        all.len()
                    ),
                ))
            }
        };
        match name {
            op::LOGICAL_AND | op::LOGICAL_OR => {
                arity(2)?;
                let a = self.expect(all[0], d, &Ty::Bool)?;
                let b = self.expect(all[1], d, &Ty::Bool)?;
                let node = if name == op::LOGICAL_AND {
                    Node::And(Box::new(a), Box::new(b))
                } else {
                    Node::Or(Box::new(a), Box::new(b))
                };
                Ok((node, Ty::Bool))
            }
            op::LOGICAL_NOT => {
                arity(1)?;
                let a = self.expect(all[0], d, &Ty::Bool)?;
                Ok((Node::Not(Box::new(a)), Ty::Bool))
            }
            op::NEGATE => {
                arity(1)?;
                let (a, t) = self.check(all[0], d)?;
                match t {
                    Ty::Int => Ok((Node::Neg(Kind::Int, Box::new(a)), Ty::Int)),
                    Ty::Double => Ok((Node::Neg(Kind::Double, Box::new(a)), Ty::Double)),
                    other => {
                        Err(self.error(all[0].id, format!("cannot negate {}", an(&other.name()))))
                    }
                }
            }
            op::CONDITIONAL => {
                arity(3)?;
                let c = self.expect(all[0], d, &Ty::Bool)?;
                let (a, ta) = self.check(all[1], d)?;
                let (b, tb) = self.check(all[2], d)?;
                let (a, b, t) = match (&ta, &tb) {
                    (Ty::Int, Ty::Double) => (to_double(a), b, Ty::Double),
                    (Ty::Double, Ty::Int) => (a, to_double(b), Ty::Double),
                    (Ty::Str(x), Ty::Str(y)) => (a, b, Ty::Str(if x == y { *x } else { None })),
                    _ if ta == tb => (a, b, ta),
                    _ => {
                        return Err(self.error(
                            all[2].id,
                            format!(
                                "the two branches have different types: {} and {}",
                                ta.name(),
                                tb.name()
                            ),
                        ));
                    }
                };
                Ok((Node::Cond(Box::new(c), Box::new(a), Box::new(b)), t))
            }
            op::ADD | op::SUBSTRACT | op::MULTIPLY | op::DIVIDE | op::MODULO => {
                arity(2)?;
                let arith = match name {
                    op::ADD => Arith::Add,
                    op::SUBSTRACT => Arith::Sub,
                    op::MULTIPLY => Arith::Mul,
                    op::DIVIDE => Arith::Div,
                    _ => Arith::Rem,
                };
                let (a, ta) = self.check(all[0], d)?;
                let (b, tb) = self.check(all[1], d)?;
                for (t, e) in [(&ta, all[0]), (&tb, all[1])] {
                    if !t.is_number() {
                        return Err(self.error(
                            e.id,
                            format!(
                                "`{}` needs numbers, not {}",
                                display_name(name),
                                an(&t.name())
                            ),
                        ));
                    }
                }
                if ta == Ty::Int && tb == Ty::Int {
                    Ok((
                        Node::Arith(arith, Kind::Int, Box::new(a), Box::new(b)),
                        Ty::Int,
                    ))
                } else if arith == Arith::Rem {
                    Err(self.error(id, "`%` needs whole numbers"))
                } else {
                    Ok((
                        Node::Arith(
                            arith,
                            Kind::Double,
                            Box::new(promote(a, &ta)),
                            Box::new(promote(b, &tb)),
                        ),
                        Ty::Double,
                    ))
                }
            }
            op::EQUALS
            | op::NOT_EQUALS
            | op::LESS
            | op::LESS_EQUALS
            | op::GREATER
            | op::GREATER_EQUALS => {
                arity(2)?;
                let cmp = match name {
                    op::EQUALS => Cmp::Eq,
                    op::NOT_EQUALS => Cmp::Ne,
                    op::LESS => Cmp::Lt,
                    op::LESS_EQUALS => Cmp::Le,
                    op::GREATER => Cmp::Gt,
                    _ => Cmp::Ge,
                };
                let (a, ta) = self.check(all[0], d)?;
                let (b, tb) = self.check(all[1], d)?;
                if !ta.comparable(&tb) {
                    return Err(self.error(
                        all[1].id,
                        format!("cannot compare {} with {}", an(&ta.name()), an(&tb.name())),
                    ));
                }
                let ordered = !matches!(cmp, Cmp::Eq | Cmp::Ne);
                if ordered && matches!(ta, Ty::Bool) {
                    return Err(self.error(id, "bools cannot be ordered"));
                }
                self.check_codes(&ta, &b, all[1].id)?;
                self.check_codes(&tb, &a, all[0].id)?;
                let (a, b, kind) = unify_scalars(a, &ta, b, &tb);
                Ok((Node::Cmp(cmp, kind, Box::new(a), Box::new(b)), Ty::Bool))
            }
            op::IN => {
                arity(2)?;
                let (a, ta) = self.check(all[0], d)?;
                let (l, tl) = self.check(all[1], d)?;
                let Ty::List(te) = &tl else {
                    return Err(self.error(
                        all[1].id,
                        format!("`in` needs a list, not {}", an(&tl.name())),
                    ));
                };
                if !ta.comparable(te) {
                    return Err(self.error(
                        all[0].id,
                        format!("cannot look for {} in {}", an(&ta.name()), an(&tl.name())),
                    ));
                }
                if let (Ty::Str(Some(v)), Node::List(items)) = (&ta, &l) {
                    for item in items {
                        if let Node::Str(code) = item
                            && !v.accepts(code)
                        {
                            return Err(self.error(
                                all[1].id,
                                format!("`{code}` is not a known code; expected {}", v.expected()),
                            ));
                        }
                    }
                }
                if let Ty::Str(Some(v)) = te.as_ref()
                    && let Node::Str(code) = &a
                    && !v.accepts(code)
                {
                    return Err(self.error(
                        all[0].id,
                        format!("`{code}` is not a known code; expected {}", v.expected()),
                    ));
                }
                let (a, kind) = match (&ta, te.as_ref()) {
                    (Ty::Int, Ty::Double) => (to_double(a), Kind::Double),
                    (Ty::Double, Ty::Int) => {
                        return Err(
                            self.error(all[0].id, "cannot look for a double in a list of int")
                        );
                    }
                    _ => (a, kind_of(&ta)),
                };
                Ok((Node::In(kind, Box::new(a), Box::new(l)), Ty::Bool))
            }
            op::INDEX => {
                arity(2)?;
                let (l, tl) = self.check(all[0], d)?;
                let Ty::List(te) = tl else {
                    return Err(self.error(all[0].id, format!("cannot index {}", an(&tl.name()))));
                };
                let i = self.expect(all[1], d, &Ty::Int)?;
                Ok((Node::At(Box::new(l), Box::new(i)), *te))
            }
            "size" => {
                arity(1)?;
                let (l, tl) = self.check(all[0], d)?;
                if !matches!(tl, Ty::List(_)) {
                    return Err(self.error(
                        all[0].id,
                        format!("size() needs a list, not {}", an(&tl.name())),
                    ));
                }
                // Counting a filter needs no list.
                if let Node::Comp(c) = &l
                    && c.kind == CompKind::Collect
                    && c.map.is_none()
                {
                    let mut c = c.clone();
                    c.kind = CompKind::Count;
                    return Ok((Node::Comp(c), Ty::Int));
                }
                Ok((Node::Size(Box::new(l)), Ty::Int))
            }
            "sum" => {
                arity(1)?;
                let (l, tl) = self.check(all[0], d)?;
                match tl {
                    Ty::List(t) if *t == Ty::Int => {
                        Ok((Node::Sum(Kind::Int, Box::new(l)), Ty::Int))
                    }
                    Ty::List(t) if *t == Ty::Double => {
                        Ok((Node::Sum(Kind::Double, Box::new(l)), Ty::Double))
                    }
                    other => Err(self.error(
                        all[0].id,
                        format!("sum() needs a list of numbers, not {}", an(&other.name())),
                    )),
                }
            }
            "min" | "max" => {
                arity(2)?;
                let (a, ta) = self.check(all[0], d)?;
                let (b, tb) = self.check(all[1], d)?;
                if !ta.is_number() || !tb.is_number() {
                    return Err(self.error(id, format!("{name}() needs two numbers")));
                }
                let (a, b, kind) = unify_scalars(a, &ta, b, &tb);
                let ty = if kind == Kind::Int {
                    Ty::Int
                } else {
                    Ty::Double
                };
                Ok((
                    Node::MinMax {
                        max: name == "max",
                        kind,
                        a: Box::new(a),
                        b: Box::new(b),
                    },
                    ty,
                ))
            }
            "double" => {
                arity(1)?;
                let (a, t) = self.check(all[0], d)?;
                match t {
                    Ty::Int => Ok((Node::ToDouble(Box::new(a)), Ty::Double)),
                    Ty::Double => Ok((a, Ty::Double)),
                    other => Err(self.error(
                        all[0].id,
                        format!("double() needs a number, not {}", an(&other.name())),
                    )),
                }
            }
            "int" => {
                arity(1)?;
                let (a, t) = self.check(all[0], d)?;
                match t {
                    Ty::Double => Ok((Node::ToInt(Box::new(a)), Ty::Int)),
                    Ty::Int => Ok((a, Ty::Int)),
                    other => Err(self.error(
                        all[0].id,
                        format!("int() needs a number, not {}", an(&other.name())),
                    )),
                }
            }
            other => Err(self.error(id, format!("unknown function `{}`", display_name(other)))),
        }
    }

    /// A string constant compared with a vocabulary field must be one of its codes.
    fn check_codes(&self, field: &Ty, constant: &Node, id: u64) -> Result<(), DefinitionError> {
        if let (Ty::Str(Some(v)), Node::Str(code)) = (field, constant)
            && !v.accepts(code)
        {
            return Err(self.error(
                id,
                format!("`{code}` is not a known code; expected {}", v.expected()),
            ));
        }
        Ok(())
    }

    fn expect(&mut self, e: &IdedExpr, d: usize, want: &Ty) -> Result<Node, DefinitionError> {
        let (n, t) = self.check(e, d)?;
        if &t == want || (matches!((want, &t), (Ty::Str(_), Ty::Str(_)))) {
            Ok(n)
        } else {
            Err(self.error(
                e.id,
                format!("expected {}, found {}", an(&want.name()), an(&t.name())),
            ))
        }
    }

    fn comprehension(
        &mut self,
        id: u64,
        c: &ComprehensionExpr,
        d: usize,
    ) -> Result<Typed, DefinitionError> {
        let shape = macro_shape(c).ok_or_else(|| {
            self.error(
                id,
                "this comprehension is not one of exists, all, exists_one, map, filter",
            )
        })?;
        if self.comprehension_depth >= self.schema.limits.max_comprehension_nesting {
            return Err(self.error(
                id,
                format!(
                    "more than {} comprehensions nested in one another",
                    self.schema.limits.max_comprehension_nesting
                ),
            ));
        }
        if RESERVED.contains(&c.iter_var.as_str()) {
            return Err(self.error(
                id,
                format!("`{}` is a reserved name; pick another variable", c.iter_var),
            ));
        }
        let (range, tr) = self.check(&c.iter_range, d)?;
        let Ty::List(elem) = tr else {
            return Err(self.error(
                c.iter_range.id,
                format!("a comprehension needs a list, not {}", an(&tr.name())),
            ));
        };
        let slot = self.slots;
        self.slots += 1;
        self.scope.push((c.iter_var.clone(), (*elem).clone(), slot));
        self.comprehension_depth += 1;
        let result = (|| -> Result<Typed, DefinitionError> {
            Ok(match shape {
                Shape::Exists(p) | Shape::All(p) | Shape::ExistsOne(p) => {
                    let pred = self.expect(p, d, &Ty::Bool)?;
                    let kind = match shape {
                        Shape::Exists(_) => CompKind::Exists,
                        Shape::All(_) => CompKind::All,
                        _ => CompKind::ExistsOne,
                    };
                    (
                        Node::Comp(Box::new(Comp {
                            kind,
                            range,
                            slot,
                            pred: Some(pred),
                            map: None,
                        })),
                        Ty::Bool,
                    )
                }
                Shape::Map { filter, f } => {
                    let pred = match filter {
                        Some(p) => Some(self.expect(p, d, &Ty::Bool)?),
                        None => None,
                    };
                    let is_filter = matches!(&f.expr, Expr::Ident(n) if *n == c.iter_var);
                    if is_filter {
                        (
                            Node::Comp(Box::new(Comp {
                                kind: CompKind::Collect,
                                range,
                                slot,
                                pred,
                                map: None,
                            })),
                            Ty::List(elem.clone()),
                        )
                    } else {
                        let (m, tm) = self.check(f, d)?;
                        if matches!(tm, Ty::List(_)) {
                            return Err(self.error(f.id, "map() may not build a list of lists"));
                        }
                        (
                            Node::Comp(Box::new(Comp {
                                kind: CompKind::Collect,
                                range,
                                slot,
                                pred,
                                map: Some(m),
                            })),
                            Ty::List(Box::new(tm)),
                        )
                    }
                }
            })
        })();
        self.comprehension_depth -= 1;
        self.scope.pop();
        result
    }
}

enum Shape<'e> {
    Exists(&'e IdedExpr),
    All(&'e IdedExpr),
    ExistsOne(&'e IdedExpr),
    Map {
        filter: Option<&'e IdedExpr>,
        f: &'e IdedExpr,
    },
}

/// Recognises the comprehensions the parser's macros expand to (see `cel::parser::macros`).
fn macro_shape(c: &ComprehensionExpr) -> Option<Shape<'_>> {
    let accu = c.accu_var.as_str();
    let is_accu = |e: &IdedExpr| matches!(&e.expr, Expr::Ident(n) if n == accu);
    let call = |e: &IdedExpr, f: &str| -> Option<Vec<IdedExpr>> {
        match &e.expr {
            Expr::Call(call) if call.func_name == f && call.target.is_none() => {
                Some(call.args.clone())
            }
            _ => None,
        }
    };
    let step = &c.loop_step;
    match &c.accu_init.expr {
        Expr::Literal(LiteralValue::Boolean(b)) => {
            let (f, init) = if *b.inner() {
                (op::LOGICAL_AND, true)
            } else {
                (op::LOGICAL_OR, false)
            };
            let Expr::Call(s) = &step.expr else {
                return None;
            };
            if s.func_name != f || s.args.len() != 2 || !is_accu(&s.args[0]) {
                return None;
            }
            let p = &s.args[1];
            Some(if init {
                Shape::All(p)
            } else {
                Shape::Exists(p)
            })
        }
        Expr::Literal(LiteralValue::Int(_)) => {
            let Expr::Call(s) = &step.expr else {
                return None;
            };
            if s.func_name != op::CONDITIONAL || s.args.len() != 3 {
                return None;
            }
            Some(Shape::ExistsOne(&s.args[0]))
        }
        Expr::List(l) if l.elements.is_empty() => {
            let Expr::Call(s) = &step.expr else {
                return None;
            };
            let appended = |e: &'_ IdedExpr| -> bool {
                call(e, op::ADD).is_some_and(|args| args.len() == 2 && is_accu(&args[0]))
            };
            if s.func_name == op::ADD && s.args.len() == 2 && is_accu(&s.args[0]) {
                let Expr::List(one) = &s.args[1].expr else {
                    return None;
                };
                let f = one.elements.first()?;
                return Some(Shape::Map { filter: None, f });
            }
            if s.func_name == op::CONDITIONAL && s.args.len() == 3 && appended(&s.args[1]) {
                let Expr::Call(add) = &s.args[1].expr else {
                    return None;
                };
                let Expr::List(one) = &add.args.get(1)?.expr else {
                    return None;
                };
                let f = one.elements.first()?;
                return Some(Shape::Map {
                    filter: Some(&s.args[0]),
                    f,
                });
            }
            None
        }
        _ => None,
    }
}

fn display_name(f: &str) -> &str {
    match f {
        op::ADD => "+",
        op::SUBSTRACT => "-",
        op::MULTIPLY => "*",
        op::DIVIDE => "/",
        op::MODULO => "%",
        op::EQUALS => "==",
        op::NOT_EQUALS => "!=",
        op::LESS => "<",
        op::LESS_EQUALS => "<=",
        op::GREATER => ">",
        op::GREATER_EQUALS => ">=",
        op::LOGICAL_AND => "&&",
        op::LOGICAL_OR => "||",
        op::LOGICAL_NOT => "!",
        op::NEGATE => "-",
        op::CONDITIONAL => "?:",
        op::IN => "in",
        op::INDEX => "[]",
        other => other,
    }
}

fn kind_of(t: &Ty) -> Kind {
    match t {
        Ty::Int => Kind::Int,
        Ty::Double => Kind::Double,
        Ty::Bool => Kind::Bool,
        _ => Kind::Str,
    }
}

/// `n` (of type `t`) as a double.
fn promote(n: Node, t: &Ty) -> Node {
    if *t == Ty::Int { to_double(n) } else { n }
}

/// Two comparable scalars brought to one kind: an int meeting a double becomes a double.
fn unify_scalars(a: Node, ta: &Ty, b: Node, tb: &Ty) -> (Node, Node, Kind) {
    match (ta, tb) {
        (Ty::Int, Ty::Int) => (a, b, Kind::Int),
        (Ty::Int, Ty::Double) => (to_double(a), b, Kind::Double),
        (Ty::Double, Ty::Int) => (a, to_double(b), Kind::Double),
        (Ty::Double, Ty::Double) => (a, b, Kind::Double),
        (t, _) => (a, b, kind_of(t)),
    }
}

fn to_double(n: Node) -> Node {
    match n {
        Node::Int(i) => Node::Double(i as f64),
        other => Node::ToDouble(Box::new(other)),
    }
}
