//! Runs a checked tree ([`crate::compile::Node`]) on one household. Values borrow from the facts
//! and the tree, so a condition that only compares fields allocates nothing. Every node costs one
//! operation from a budget: a rule that multiplies lists is cut off, never left to run.

use std::rc::Rc;

use sanad_domain::{Asset, AssetSet, HouseholdFacts, MemberFacts};

use crate::compile::{Arith, Cmp, Comp, CompKind, HField, Kind, MField, Node};
use crate::error::EvalError;

#[derive(Debug, Clone)]
pub(crate) enum Value<'a> {
    Bool(bool),
    Int(i64),
    Double(f64),
    Str(&'a str),
    Member(&'a MemberFacts),
    List(List<'a>),
}

#[derive(Debug, Clone)]
pub(crate) enum List<'a> {
    Members(&'a [MemberFacts]),
    Assets(AssetSet),
    Values(Rc<Vec<Value<'a>>>),
}

impl<'a> List<'a> {
    fn len(&self) -> usize {
        match self {
            List::Members(m) => m.len(),
            List::Assets(a) => a.len() as usize,
            List::Values(v) => v.len(),
        }
    }

    fn get(&self, i: usize) -> Option<Value<'a>> {
        match self {
            List::Members(m) => m.get(i).map(Value::Member),
            List::Assets(set) => Asset::ALL
                .iter()
                .filter(|a| set.contains(**a))
                .nth(i)
                .map(|a| Value::Str(a.as_str())),
            List::Values(v) => v.get(i).cloned(),
        }
    }
}

/// What one evaluation reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Input<'a> {
    pub facts: &'a HouseholdFacts,
    pub index: Option<f64>,
}

/// The mutable part of an evaluation: variable slots and the operations spent. One frame can be
/// reused for many households (the slots are overwritten, the count reset by [`Frame::reset`]).
#[derive(Debug)]
pub(crate) struct Frame<'a> {
    pub slots: Vec<Value<'a>>,
    ops: u64,
    budget: u64,
}

impl<'a> Frame<'a> {
    pub fn new(slots: usize, budget: u64) -> Frame<'a> {
        Frame {
            slots: vec![Value::Bool(false); slots],
            ops: 0,
            budget,
        }
    }

    pub fn reset(&mut self) {
        self.ops = 0;
    }

    fn spend(&mut self) -> Result<(), EvalError> {
        self.ops += 1;
        if self.ops > self.budget {
            Err(EvalError::Budget(self.budget))
        } else {
            Ok(())
        }
    }
}

/// The checker guarantees types; a mismatch here is a bug in this crate, reported as an error
/// rather than a panic so that one household's decision never takes a batch down.
fn mismatch<T>() -> Result<T, EvalError> {
    Err(EvalError::Internal)
}

/// The typed entry points below handle the common nodes without building a [`Value`]; anything
/// else goes through [`eval`]. This is where a condition's nanoseconds go.
pub(crate) fn eval_bool<'a>(
    node: &'a Node,
    input: &Input<'a>,
    frame: &mut Frame<'a>,
) -> Result<bool, EvalError> {
    match node {
        Node::Bool(b) => Ok(*b),
        Node::And(a, b) => {
            frame.spend()?;
            Ok(eval_bool(a, input, frame)? && eval_bool(b, input, frame)?)
        }
        Node::Or(a, b) => {
            frame.spend()?;
            Ok(eval_bool(a, input, frame)? || eval_bool(b, input, frame)?)
        }
        Node::Not(a) => {
            frame.spend()?;
            Ok(!eval_bool(a, input, frame)?)
        }
        Node::Cmp(cmp, Kind::Int, a, b) => {
            frame.spend()?;
            let x = eval_int(a, input, frame)?;
            let y = eval_int(b, input, frame)?;
            Ok(compare(*cmp, x, y))
        }
        Node::Cmp(cmp, Kind::Double, a, b) => {
            frame.spend()?;
            let x = eval_double(a, input, frame)?;
            let y = eval_double(b, input, frame)?;
            Ok(compare(*cmp, x, y))
        }
        Node::Cmp(cmp, Kind::Str, a, b) => {
            frame.spend()?;
            let x = eval_str(a, input, frame)?;
            let y = eval_str(b, input, frame)?;
            Ok(compare(*cmp, x, y))
        }
        Node::In(Kind::Str, a, l) if matches!(l.as_ref(), Node::List(_)) => {
            frame.spend()?;
            let x = eval_str(a, input, frame)?;
            let Node::List(items) = l.as_ref() else {
                return mismatch();
            };
            for item in items {
                if eval_str(item, input, frame)? == x {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Node::Comp(c) if matches!(c.range, Node::Members) && c.map.is_none() => {
            frame.spend()?;
            members_predicate(c, input, frame)
        }
        _ => match eval(node, input, frame)? {
            Value::Bool(b) => Ok(b),
            _ => mismatch(),
        },
    }
}

fn eval_str<'a>(
    node: &'a Node,
    input: &Input<'a>,
    frame: &mut Frame<'a>,
) -> Result<&'a str, EvalError> {
    match node {
        Node::Str(s) => Ok(s),
        Node::VarMember(slot, field) => match frame.slots.get(*slot) {
            Some(Value::Member(m)) => match member(m, *field) {
                Value::Str(s) => Ok(s),
                _ => mismatch(),
            },
            _ => mismatch(),
        },
        _ => match eval(node, input, frame)? {
            Value::Str(s) => Ok(s),
            _ => mismatch(),
        },
    }
}

/// `exists`, `all`, `exists_one` and counts straight over the household's members.
fn members_predicate<'a>(
    c: &'a Comp,
    input: &Input<'a>,
    frame: &mut Frame<'a>,
) -> Result<bool, EvalError> {
    let Some(pred) = &c.pred else {
        return mismatch();
    };
    let mut count = 0usize;
    for m in &input.facts.members {
        frame.spend()?;
        match frame.slots.get_mut(c.slot) {
            Some(slot) => *slot = Value::Member(m),
            None => return mismatch(),
        }
        let holds = eval_bool(pred, input, frame)?;
        match c.kind {
            CompKind::Exists if holds => return Ok(true),
            CompKind::All if !holds => return Ok(false),
            _ if holds => count += 1,
            _ => {}
        }
    }
    match c.kind {
        CompKind::Exists => Ok(false),
        CompKind::All => Ok(true),
        CompKind::ExistsOne => Ok(count == 1),
        _ => mismatch(),
    }
}

/// A number as a double (a formula may give an int).
pub(crate) fn eval_number<'a>(
    node: &'a Node,
    input: &Input<'a>,
    frame: &mut Frame<'a>,
) -> Result<f64, EvalError> {
    match eval(node, input, frame)? {
        Value::Double(x) => Ok(x),
        Value::Int(i) => Ok(i as f64),
        _ => mismatch(),
    }
}

fn eval_int<'a>(
    node: &'a Node,
    input: &Input<'a>,
    frame: &mut Frame<'a>,
) -> Result<i64, EvalError> {
    match node {
        Node::Int(i) => Ok(*i),
        Node::VarMember(slot, MField::Age) => match frame.slots.get(*slot) {
            Some(Value::Member(m)) => Ok(i64::from(m.age)),
            _ => mismatch(),
        },
        Node::Var(slot) => match frame.slots.get(*slot) {
            Some(Value::Int(i)) => Ok(*i),
            _ => mismatch(),
        },
        Node::Household(HField::Size) => Ok(input.facts.members.len() as i64),
        Node::Comp(c) if c.kind == CompKind::Count && matches!(c.range, Node::Members) => {
            frame.spend()?;
            let Some(pred) = &c.pred else {
                return mismatch();
            };
            let mut count = 0i64;
            for m in &input.facts.members {
                frame.spend()?;
                match frame.slots.get_mut(c.slot) {
                    Some(slot) => *slot = Value::Member(m),
                    None => return mismatch(),
                }
                count += i64::from(eval_bool(pred, input, frame)?);
            }
            Ok(count)
        }
        _ => match eval(node, input, frame)? {
            Value::Int(i) => Ok(i),
            _ => mismatch(),
        },
    }
}

fn eval_double<'a>(
    node: &'a Node,
    input: &Input<'a>,
    frame: &mut Frame<'a>,
) -> Result<f64, EvalError> {
    match node {
        Node::Double(x) => Ok(*x),
        Node::Index => input.index.ok_or(EvalError::NotScored),
        Node::ToDouble(a) => Ok(eval_int(a, input, frame)? as f64),
        _ => match eval(node, input, frame)? {
            Value::Double(x) => Ok(x),
            _ => mismatch(),
        },
    }
}

fn eval_list<'a>(
    node: &'a Node,
    input: &Input<'a>,
    frame: &mut Frame<'a>,
) -> Result<List<'a>, EvalError> {
    match eval(node, input, frame)? {
        Value::List(l) => Ok(l),
        _ => mismatch(),
    }
}

fn household<'a>(field: HField, input: &Input<'a>) -> Value<'a> {
    let f = input.facts;
    match field {
        HField::Size => Value::Int(f.members.len() as i64),
        HField::Region => Value::Str(&f.region_code),
        HField::Area => Value::Str(f.area.as_str()),
        HField::DwellingType => Value::Str(f.dwelling_type.as_str()),
        HField::Tenure => Value::Str(f.tenure.as_str()),
        HField::Rooms => Value::Int(i64::from(f.rooms)),
        HField::Water => Value::Double(f.water_spending.as_f64()),
        HField::Electricity => Value::Double(f.electricity_spending.as_f64()),
        HField::Phone => Value::Double(f.phone_spending.as_f64()),
        HField::Gas => Value::Double(f.gas_spending.as_f64()),
        HField::DeclaredIncome => Value::Double(f.declared_income.as_f64()),
        HField::Assets => Value::List(List::Assets(f.assets)),
        HField::Scored => Value::Bool(input.index.is_some()),
    }
}

fn member(m: &MemberFacts, field: MField) -> Value<'static> {
    match field {
        MField::Age => Value::Int(i64::from(m.age)),
        MField::Sex => Value::Str(m.sex.as_str()),
        MField::Relation => Value::Str(m.relation.as_str()),
        MField::Disability => Value::Str(m.disability.as_str()),
        MField::Schooling => Value::Str(m.schooling.as_str()),
        MField::Occupation => Value::Str(m.occupation.as_str()),
    }
}

fn compare<T: PartialOrd>(cmp: Cmp, a: T, b: T) -> bool {
    match cmp {
        Cmp::Eq => a == b,
        Cmp::Ne => a != b,
        Cmp::Lt => a < b,
        Cmp::Le => a <= b,
        Cmp::Gt => a > b,
        Cmp::Ge => a >= b,
    }
}

fn same(kind: Kind, a: &Value<'_>, b: &Value<'_>) -> bool {
    match (kind, a, b) {
        (Kind::Int, Value::Int(x), Value::Int(y)) => x == y,
        (Kind::Double, Value::Double(x), Value::Double(y)) => x == y,
        (Kind::Str, Value::Str(x), Value::Str(y)) => x == y,
        (Kind::Bool, Value::Bool(x), Value::Bool(y)) => x == y,
        _ => false,
    }
}

pub(crate) fn eval<'a>(
    node: &'a Node,
    input: &Input<'a>,
    frame: &mut Frame<'a>,
) -> Result<Value<'a>, EvalError> {
    frame.spend()?;
    Ok(match node {
        Node::Bool(b) => Value::Bool(*b),
        Node::Int(i) => Value::Int(*i),
        Node::Double(x) => Value::Double(*x),
        Node::Str(s) => Value::Str(s),
        Node::List(items) => {
            let mut values = Vec::with_capacity(items.len());
            for item in items {
                values.push(eval(item, input, frame)?);
            }
            Value::List(List::Values(Rc::new(values)))
        }
        Node::Household(field) => household(*field, input),
        Node::Index => Value::Double(input.index.ok_or(EvalError::NotScored)?),
        Node::Members => Value::List(List::Members(&input.facts.members)),
        Node::Member(of, field) => match eval(of, input, frame)? {
            Value::Member(m) => member(m, *field),
            _ => return mismatch(),
        },
        Node::Var(slot) => match frame.slots.get(*slot) {
            Some(v) => v.clone(),
            None => return mismatch(),
        },
        Node::VarMember(slot, field) => match frame.slots.get(*slot) {
            Some(Value::Member(m)) => member(m, *field),
            _ => return mismatch(),
        },
        Node::Not(a) => Value::Bool(!eval_bool(a, input, frame)?),
        Node::Neg(Kind::Int, a) => Value::Int(
            eval_int(a, input, frame)?
                .checked_neg()
                .ok_or(EvalError::Overflow)?,
        ),
        Node::Neg(_, a) => Value::Double(-eval_double(a, input, frame)?),
        Node::ToDouble(a) => Value::Double(eval_int(a, input, frame)? as f64),
        Node::ToInt(a) => {
            let x = eval_double(a, input, frame)?;
            if !x.is_finite() || x.abs() >= 9.0e18 {
                return Err(EvalError::Overflow);
            }
            Value::Int(x.trunc() as i64)
        }
        Node::Arith(op, Kind::Int, a, b) => {
            let x = eval_int(a, input, frame)?;
            let y = eval_int(b, input, frame)?;
            let r = match op {
                Arith::Add => x.checked_add(y),
                Arith::Sub => x.checked_sub(y),
                Arith::Mul => x.checked_mul(y),
                Arith::Div | Arith::Rem if y == 0 => return Err(EvalError::DivisionByZero),
                Arith::Div => x.checked_div(y),
                Arith::Rem => x.checked_rem(y),
            };
            Value::Int(r.ok_or(EvalError::Overflow)?)
        }
        Node::Arith(op, _, a, b) => {
            let x = eval_double(a, input, frame)?;
            let y = eval_double(b, input, frame)?;
            Value::Double(match op {
                Arith::Add => x + y,
                Arith::Sub => x - y,
                Arith::Mul => x * y,
                Arith::Div => x / y,
                Arith::Rem => x % y,
            })
        }
        Node::Cmp(cmp, kind, a, b) => {
            let x = eval(a, input, frame)?;
            let y = eval(b, input, frame)?;
            Value::Bool(match (kind, x, y) {
                (Kind::Int, Value::Int(x), Value::Int(y)) => compare(*cmp, x, y),
                (Kind::Double, Value::Double(x), Value::Double(y)) => compare(*cmp, x, y),
                (Kind::Str, Value::Str(x), Value::Str(y)) => compare(*cmp, x, y),
                (Kind::Bool, Value::Bool(x), Value::Bool(y)) => compare(*cmp, x, y),
                _ => return mismatch(),
            })
        }
        Node::And(a, b) => Value::Bool(eval_bool(a, input, frame)? && eval_bool(b, input, frame)?),
        Node::Or(a, b) => Value::Bool(eval_bool(a, input, frame)? || eval_bool(b, input, frame)?),
        Node::Cond(c, a, b) => {
            if eval_bool(c, input, frame)? {
                eval(a, input, frame)?
            } else {
                eval(b, input, frame)?
            }
        }
        Node::In(kind, a, l) => {
            let x = eval(a, input, frame)?;
            if let (Node::Household(HField::Assets), Value::Str(code)) = (l.as_ref(), &x) {
                // The common case `'car' in household.assets` is a bit test.
                let found = Asset::parse(code).is_some_and(|a| input.facts.assets.contains(a));
                return Ok(Value::Bool(found));
            }
            if let Node::List(items) = l.as_ref() {
                // A list written in the rule is compared item by item, never built.
                for item in items {
                    let v = eval(item, input, frame)?;
                    if same(*kind, &x, &v) {
                        return Ok(Value::Bool(true));
                    }
                }
                return Ok(Value::Bool(false));
            }
            let list = eval_list(l, input, frame)?;
            let mut found = false;
            for i in 0..list.len() {
                frame.spend()?;
                if let Some(v) = list.get(i)
                    && same(*kind, &x, &v)
                {
                    found = true;
                    break;
                }
            }
            Value::Bool(found)
        }
        Node::Size(l) => Value::Int(eval_list(l, input, frame)?.len() as i64),
        Node::Sum(kind, l) => {
            let list = eval_list(l, input, frame)?;
            match kind {
                Kind::Int => {
                    let mut total: i64 = 0;
                    for i in 0..list.len() {
                        if let Some(Value::Int(x)) = list.get(i) {
                            total = total.checked_add(x).ok_or(EvalError::Overflow)?;
                        }
                    }
                    Value::Int(total)
                }
                _ => {
                    let mut total = 0.0;
                    for i in 0..list.len() {
                        if let Some(Value::Double(x)) = list.get(i) {
                            total += x;
                        }
                    }
                    Value::Double(total)
                }
            }
        }
        Node::MinMax { max, kind, a, b } => match kind {
            Kind::Int => {
                let (x, y) = (eval_int(a, input, frame)?, eval_int(b, input, frame)?);
                Value::Int(if *max { x.max(y) } else { x.min(y) })
            }
            _ => {
                let (x, y) = (eval_double(a, input, frame)?, eval_double(b, input, frame)?);
                Value::Double(if *max { x.max(y) } else { x.min(y) })
            }
        },
        Node::At(l, i) => {
            let list = eval_list(l, input, frame)?;
            let index = eval_int(i, input, frame)?;
            let len = list.len();
            usize::try_from(index)
                .ok()
                .and_then(|i| list.get(i))
                .ok_or(EvalError::OutOfRange { index, len })?
        }
        Node::Comp(c) => comprehension(c, input, frame)?,
    })
}

fn comprehension<'a>(
    c: &'a Comp,
    input: &Input<'a>,
    frame: &mut Frame<'a>,
) -> Result<Value<'a>, EvalError> {
    let list = eval_list(&c.range, input, frame)?;
    let n = list.len();
    let mut count: i64 = 0;
    let mut collected = Vec::new();
    for i in 0..n {
        frame.spend()?;
        let Some(item) = list.get(i) else {
            return mismatch();
        };
        match frame.slots.get_mut(c.slot) {
            Some(slot) => *slot = item.clone(),
            None => return mismatch(),
        }
        let holds = match &c.pred {
            Some(p) => eval_bool(p, input, frame)?,
            None => true,
        };
        match c.kind {
            CompKind::Exists if holds => return Ok(Value::Bool(true)),
            CompKind::All if !holds => return Ok(Value::Bool(false)),
            CompKind::ExistsOne | CompKind::Count if holds => count += 1,
            CompKind::Collect if holds => match &c.map {
                Some(m) => collected.push(eval(m, input, frame)?),
                None => collected.push(item),
            },
            _ => {}
        }
    }
    Ok(match c.kind {
        CompKind::Exists => Value::Bool(false),
        CompKind::All => Value::Bool(true),
        CompKind::ExistsOne => Value::Bool(count == 1),
        CompKind::Count => Value::Int(count),
        CompKind::Collect => Value::List(List::Values(Rc::new(collected))),
    })
}
