//! A scoring model as versioned data: its file formats (TOML, JSON), their validation, and scoring a
//! household with each variable's contribution.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use sanad_domain::{Area, HouseholdFacts};
use serde::{Deserialize, Serialize};

use crate::variable::{Features, Lang, Variable};

/// The code of the segment used for a household whose region and area have no segment of their own.
pub const NATIONAL: &str = "national";

/// A proxy means test: per segment (region × area), an intercept and one coefficient per variable,
/// predicting ln(annual consumption per person, MAD). Built only through [`Model::from_toml`],
/// [`Model::from_json`] or [`crate::fit`], so a model in hand is always valid.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub id: String,
    pub version: u32,
    pub description: String,
    /// How the model was made, when it was fitted (for the record; scoring ignores it).
    pub fit: Option<FitInfo>,
    variables: Vec<Variable>,
    national: Segment,
    segments: Vec<Segment>,
}

/// The survey a model was fitted on, as written in its file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitInfo {
    /// Households of the survey.
    pub households: usize,
    /// Weighted R² on the survey.
    pub r2: f64,
    /// The shrinkage toward the national coefficients, in survey households (see [`crate::fit`]).
    pub shrinkage: f64,
}

/// One coefficient set.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// `None` for the national segment.
    pub region_code: Option<String>,
    pub area: Option<Area>,
    pub intercept: f64,
    /// Aligned with [`Model::variables`].
    pub coefficients: Vec<f64>,
    /// The average household of the segment (weighted survey means), aligned with the variables:
    /// the point contributions are measured from.
    pub means: Vec<f64>,
    /// Survey households the segment was fitted on (0 when unknown).
    pub households: usize,
    baseline: f64,
}

impl Segment {
    /// `04/rural`, or `national`.
    pub fn code(&self) -> String {
        match (&self.region_code, self.area) {
            (Some(r), Some(a)) => format!("{r}/{}", a.as_str()),
            _ => NATIONAL.to_owned(),
        }
    }

    /// The index of the segment's average household.
    pub fn baseline(&self) -> f64 {
        self.baseline
    }

    pub(crate) fn new(
        region_code: Option<String>,
        area: Option<Area>,
        intercept: f64,
        coefficients: Vec<f64>,
        means: Vec<f64>,
        households: usize,
    ) -> Segment {
        let baseline = intercept
            + coefficients
                .iter()
                .zip(&means)
                .map(|(b, m)| b * m)
                .sum::<f64>();
        Segment {
            region_code,
            area,
            intercept,
            coefficients,
            means,
            households,
            baseline,
        }
    }
}

/// A household's index and how it was made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    /// Predicted ln(annual consumption per person, MAD).
    pub index: f64,
    /// The coefficient set used, e.g. `04/rural`, or `national`.
    pub segment: String,
    /// The index of the segment's average household.
    pub baseline: f64,
    /// `index == baseline + Σ effect`, one per variable of the model, in the model's order.
    pub contributions: Vec<Contribution>,
}

impl Score {
    /// The contributions as a citizen reads them: each bill's "no bill" dummy folded into the
    /// bill's own line (a household with no water bill sees one line about its water bill, not a
    /// negative and a positive one that nearly cancel). The effects still add up to
    /// `index - baseline`.
    pub fn explained(&self) -> Vec<Contribution> {
        let mut out: Vec<Contribution> = Vec::with_capacity(self.contributions.len());
        for c in &self.contributions {
            let partner = c.variable.bill_amount().and_then(|amount| {
                self.contributions
                    .iter()
                    .any(|o| o.variable == amount)
                    .then_some(amount)
            });
            match partner {
                Some(amount) => {
                    if let Some(line) = out.iter_mut().find(|o| o.variable == amount) {
                        line.effect += c.effect;
                    } else {
                        out.push(Contribution {
                            variable: amount,
                            value: 0.0,
                            effect: c.effect,
                        });
                    }
                }
                None => match out.iter_mut().find(|o| o.variable == c.variable) {
                    // The dummy came first and opened the line: add the amount's own part.
                    Some(line) => {
                        line.value = c.value;
                        line.effect += c.effect;
                    }
                    None => out.push(*c),
                },
            }
        }
        out
    }

    /// The `n` lines of [`Score::explained`] that moved the index most, either way, largest first:
    /// what an explanation shows first.
    pub fn largest(&self, n: usize) -> Vec<Contribution> {
        let mut all = self.explained();
        all.sort_by(|a, b| b.effect.abs().total_cmp(&a.effect.abs()));
        all.truncate(n);
        all
    }
}

/// How far one variable moved the household's index away from the segment's average household.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Contribution {
    pub variable: Variable,
    /// The household's value of the variable.
    pub value: f64,
    /// coefficient × (value − the average household's value), in log points of consumption.
    pub effect: f64,
}

impl Contribution {
    /// The contribution in one sentence, e.g. « le nombre de pièces par personne a relevé votre
    /// indice de 0,12 ». Effects below 0.005 read as "did not change".
    pub fn sentence(&self, lang: Lang) -> String {
        let label = self.variable.label(lang);
        let size = self.effect.abs();
        let amount = match lang {
            Lang::Fr | Lang::Ar => format!("{size:.2}").replace('.', ","),
            Lang::En => format!("{size:.2}"),
        };
        let up = self.effect > 0.0;
        if size < 0.005 {
            return match lang {
                Lang::Fr => format!("{} n'a guère changé votre indice", capitalise(label)),
                Lang::Ar => format!("لم يغير {label} مؤشركم تقريبا"),
                Lang::En => format!("{} hardly changed your index", capitalise(label)),
            };
        }
        match (lang, up) {
            (Lang::Fr, true) => format!("{} a relevé votre indice de {amount}", capitalise(label)),
            (Lang::Fr, false) => {
                format!("{} a abaissé votre indice de {amount}", capitalise(label))
            }
            (Lang::Ar, true) => format!("رفع {label} مؤشركم بمقدار {amount}"),
            (Lang::Ar, false) => format!("خفض {label} مؤشركم بمقدار {amount}"),
            (Lang::En, true) => format!("{} raised your index by {amount}", capitalise(label)),
            (Lang::En, false) => format!("{} lowered your index by {amount}", capitalise(label)),
        }
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Why a model file was refused. `Invalid` names the field (`segments[3].coefficients.has_fridg`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("the model file is not valid {format}: {message}")]
    Syntax {
        format: &'static str,
        message: String,
    },
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

impl ModelError {
    /// The field at fault, when the file parsed but did not validate.
    pub fn field(&self) -> Option<&str> {
        match self {
            ModelError::Invalid { field, .. } => Some(field),
            ModelError::Syntax { .. } => None,
        }
    }

    fn invalid(field: impl Into<String>, message: impl Into<String>) -> ModelError {
        ModelError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The file's shape; [`Model`] is what it means once validated.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    id: String,
    version: u32,
    #[serde(default)]
    description: String,
    variables: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fit: Option<FitInfo>,
    national: SegmentFile,
    #[serde(default)]
    segments: Vec<SegmentFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SegmentFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    area: Option<Area>,
    #[serde(default)]
    households: usize,
    intercept: f64,
    coefficients: BTreeMap<String, f64>,
    means: BTreeMap<String, f64>,
}

/// Longest accepted model id.
const MAX_ID_LEN: usize = 64;

impl Model {
    pub(crate) fn new(
        id: String,
        version: u32,
        description: String,
        variables: Vec<Variable>,
        national: Segment,
        segments: Vec<Segment>,
        fit: Option<FitInfo>,
    ) -> Model {
        Model {
            id,
            version,
            description,
            fit,
            variables,
            national,
            segments,
        }
    }

    /// Reads and validates a model file in TOML.
    pub fn from_toml(text: &str) -> Result<Model, ModelError> {
        let file: ModelFile = toml::from_str(text).map_err(|e| ModelError::Syntax {
            format: "TOML",
            message: e.to_string().trim_end().to_owned(),
        })?;
        Model::from_file(file)
    }

    /// Reads and validates a model file in JSON (the same fields as the TOML file).
    pub fn from_json(text: &str) -> Result<Model, ModelError> {
        let file: ModelFile = serde_json::from_str(text).map_err(|e| ModelError::Syntax {
            format: "JSON",
            message: e.to_string(),
        })?;
        Model::from_file(file)
    }

    /// The model as JSON, read back by [`Model::from_json`].
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.to_file()).unwrap_or_default()
    }

    /// The model as a TOML file, read back by [`Model::from_toml`] into an equal model. Each
    /// coefficient carries its variable's English label as a comment, for a reviewer.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Proxy means test: predicts ln(annual consumption per person, MAD)."
        );
        let _ = writeln!(out, "id = {}", quote(&self.id));
        let _ = writeln!(out, "version = {}", self.version);
        let _ = writeln!(out, "description = {}", quote(&self.description));
        let _ = writeln!(out, "variables = [");
        for v in &self.variables {
            let _ = writeln!(out, "    {},", quote(v.code()));
        }
        let _ = writeln!(out, "]");
        if let Some(fit) = &self.fit {
            let _ = writeln!(out, "\n[fit]");
            let _ = writeln!(out, "households = {}", fit.households);
            let _ = writeln!(out, "r2 = {}", float(fit.r2));
            let _ = writeln!(out, "shrinkage = {}", float(fit.shrinkage));
        }
        self.write_segment(&mut out, &self.national, "national");
        for s in &self.segments {
            self.write_segment(&mut out, s, "segments");
        }
        out
    }

    fn write_segment(&self, out: &mut String, s: &Segment, table: &str) {
        let array = table == "segments";
        let _ = writeln!(out);
        if array {
            let _ = writeln!(out, "[[{table}]]");
            if let Some(r) = &s.region_code {
                let _ = writeln!(out, "region = {}", quote(r));
            }
            if let Some(a) = s.area {
                let _ = writeln!(out, "area = {}", quote(a.as_str()));
            }
        } else {
            let _ = writeln!(out, "[{table}]");
        }
        let _ = writeln!(out, "households = {}", s.households);
        let _ = writeln!(out, "intercept = {}", float(s.intercept));
        let _ = writeln!(out, "\n[{table}.coefficients]");
        for (v, b) in self.variables.iter().zip(&s.coefficients) {
            let _ = writeln!(out, "{} = {}  # {}", v.code(), float(*b), v.label(Lang::En));
        }
        let _ = writeln!(out, "\n[{table}.means]");
        for (v, m) in self.variables.iter().zip(&s.means) {
            let _ = writeln!(out, "{} = {}", v.code(), float(*m));
        }
    }

    fn to_file(&self) -> ModelFile {
        let segment = |s: &Segment| SegmentFile {
            region: s.region_code.clone(),
            area: s.area,
            households: s.households,
            intercept: s.intercept,
            coefficients: self.by_code(&s.coefficients),
            means: self.by_code(&s.means),
        };
        ModelFile {
            id: self.id.clone(),
            version: self.version,
            description: self.description.clone(),
            variables: self.variables.iter().map(|v| v.code().to_owned()).collect(),
            fit: self.fit.clone(),
            national: segment(&self.national),
            segments: self.segments.iter().map(segment).collect(),
        }
    }

    fn by_code(&self, values: &[f64]) -> BTreeMap<String, f64> {
        self.variables
            .iter()
            .zip(values)
            .map(|(v, x)| (v.code().to_owned(), *x))
            .collect()
    }

    fn from_file(file: ModelFile) -> Result<Model, ModelError> {
        check_id(&file.id).map_err(|message| ModelError::invalid("id", message))?;
        if file.version == 0 {
            return Err(ModelError::invalid(
                "version",
                "expected a version from 1 up",
            ));
        }
        let mut variables = Vec::with_capacity(file.variables.len());
        for (i, code) in file.variables.iter().enumerate() {
            let v = Variable::parse(code)
                .ok_or_else(|| unknown_variable(&format!("variables[{i}]"), code))?;
            if variables.contains(&v) {
                return Err(ModelError::invalid(
                    format!("variables[{i}]"),
                    format!("`{code}` is listed twice"),
                ));
            }
            variables.push(v);
        }
        if let Some(fit) = &file.fit
            && !(fit.r2.is_finite() && fit.shrinkage.is_finite())
        {
            return Err(ModelError::invalid("fit", "expected finite numbers"));
        }
        let national = segment_from_file(&variables, file.national, "national")?;
        if national.region_code.is_some() || national.area.is_some() {
            return Err(ModelError::invalid(
                "national",
                "the national segment has no region or area",
            ));
        }
        let mut seen = HashSet::new();
        let mut segments = Vec::with_capacity(file.segments.len());
        for (i, s) in file.segments.into_iter().enumerate() {
            let field = format!("segments[{i}]");
            let s = segment_from_file(&variables, s, &field)?;
            let (Some(region), Some(_)) = (&s.region_code, s.area) else {
                return Err(ModelError::invalid(
                    field,
                    "a segment names its `region` and its `area` (urban or rural)",
                ));
            };
            if region.is_empty()
                || region.len() > 8
                || !region.chars().all(|c| c.is_ascii_alphanumeric())
            {
                return Err(ModelError::invalid(
                    format!("{field}.region"),
                    format!("expected a region code such as \"04\", found {region:?}"),
                ));
            }
            if !seen.insert(s.code()) {
                return Err(ModelError::invalid(
                    field,
                    format!("segment {} is defined twice", s.code()),
                ));
            }
            segments.push(s);
        }
        Ok(Model {
            id: file.id,
            version: file.version,
            description: file.description,
            fit: file.fit,
            variables,
            national,
            segments,
        })
    }

    /// The variables, in the order of every segment's coefficients.
    pub fn variables(&self) -> &[Variable] {
        &self.variables
    }

    pub fn national(&self) -> &Segment {
        &self.national
    }

    /// The region × area segments (the national one apart).
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The coefficient set a household of `region_code`, `area` is scored with.
    pub fn segment(&self, region_code: &str, area: Area) -> &Segment {
        self.segments
            .iter()
            .find(|s| s.area == Some(area) && s.region_code.as_deref() == Some(region_code))
            .unwrap_or(&self.national)
    }

    /// Scores a household: its index, the segment used, the segment's average index and each
    /// variable's contribution. Pure; well under a microsecond.
    pub fn score(&self, facts: &HouseholdFacts) -> Score {
        let features = Features::of(facts);
        let segment = self.segment(&facts.region_code, facts.area);
        let mut index = segment.baseline;
        let contributions = self
            .variables
            .iter()
            .zip(segment.coefficients.iter().zip(&segment.means))
            .map(|(&variable, (b, m))| {
                let value = features.get(variable);
                let effect = b * (value - m);
                index += effect;
                Contribution {
                    variable,
                    value,
                    effect,
                }
            })
            .collect();
        Score {
            index,
            segment: segment.code(),
            baseline: segment.baseline,
            contributions,
        }
    }

    /// The index alone, without allocating: for rescoring millions of households. Equal to
    /// [`Model::score`]'s index up to rounding (it sums in another order).
    pub fn index(&self, facts: &HouseholdFacts) -> f64 {
        let features = Features::of(facts);
        let segment = self.segment(&facts.region_code, facts.area);
        self.predict(segment, &features)
    }

    pub(crate) fn predict(&self, segment: &Segment, features: &Features) -> f64 {
        segment.intercept
            + self
                .variables
                .iter()
                .zip(&segment.coefficients)
                .map(|(&v, b)| b * features.get(v))
                .sum::<f64>()
    }
}

/// A model id: what names the model in files, URLs and the audit log.
pub(crate) fn check_id(id: &str) -> Result<(), String> {
    let id_ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if id.is_empty() || id.len() > MAX_ID_LEN || !id.chars().all(id_ok) {
        return Err(format!(
            "expected 1 to {MAX_ID_LEN} letters, digits, `-`, `_` or `.`, found {id:?}"
        ));
    }
    Ok(())
}

fn unknown_variable(field: &str, code: &str) -> ModelError {
    ModelError::invalid(
        field,
        format!(
            "unknown variable `{code}`; the variables are: {}",
            Variable::ALL
                .iter()
                .map(|v| v.code())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

fn segment_from_file(
    variables: &[Variable],
    s: SegmentFile,
    field: &str,
) -> Result<Segment, ModelError> {
    if !s.intercept.is_finite() {
        return Err(ModelError::invalid(
            format!("{field}.intercept"),
            format!("expected a finite number, found {}", s.intercept),
        ));
    }
    let read = |map: &BTreeMap<String, f64>, part: &str| -> Result<Vec<f64>, ModelError> {
        for (code, x) in map {
            let at = format!("{field}.{part}.{code}");
            let Some(v) = Variable::parse(code) else {
                return Err(unknown_variable(&at, code));
            };
            if !variables.contains(&v) {
                return Err(ModelError::invalid(
                    at,
                    format!("`{code}` is not in the model's `variables`"),
                ));
            }
            if !x.is_finite() {
                return Err(ModelError::invalid(
                    at,
                    format!("expected a finite number, found {x}"),
                ));
            }
        }
        variables
            .iter()
            .map(|v| {
                map.get(v.code()).copied().ok_or_else(|| {
                    ModelError::invalid(
                        format!("{field}.{part}"),
                        format!("no value for `{}`", v.code()),
                    )
                })
            })
            .collect()
    };
    let coefficients = read(&s.coefficients, "coefficients")?;
    let means = read(&s.means, "means")?;
    Ok(Segment::new(
        s.region,
        s.area,
        s.intercept,
        coefficients,
        means,
        s.households,
    ))
}

/// A TOML basic string.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A float that TOML reads back to the same bits (Rust's shortest round-trip form).
/// `{:?}` writes `1e-7`, `1e20`, `-0.0` and `0.5`, all valid TOML; the model holds no NaN or infinity.
fn float(x: f64) -> String {
    format!("{x:?}")
}
