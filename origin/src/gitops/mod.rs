//! Declarative config (GitOps): `tollgate diff FILE`, `tollgate apply FILE` and
//! `tollgate export` keep a YAML file of APIs, versions, plans and limits and the origin
//! in step. The commands are clients of the admin API, so every change is checked,
//! permission-checked and audited as if made by hand. Format: docs/CONFIG.md.

pub mod apply;
pub mod client;
pub mod compare;
pub mod current;
pub mod export;
pub mod file;
pub mod file_items;
pub mod plan;
pub mod plan_api;

use reqwest::Method;
use serde_json::Value;
use std::fmt;
use std::path::Path;

/// An error in (or caused by) the config file, shown as `file:line:column: message`.
#[derive(Debug)]
pub struct ConfigError {
    pub location: String,
    pub message: String,
}

impl ConfigError {
    /// An error at a line and column of `file` (0 when the whole file is meant).
    pub fn at(file: &Path, line: usize, column: usize, message: impl Into<String>) -> ConfigError {
        let location = match (line, column) {
            (0, _) => file.display().to_string(),
            (l, 0) => format!("{}:{l}", file.display()),
            (l, c) => format!("{}:{l}:{c}", file.display()),
        };
        ConfigError {
            location,
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Delete,
}

/// One admin API call. `api`, when set, is the base path of the API whose id goes in
/// place of `{api}` in the path and into the body's `api_id` (known only once the API
/// exists, which for a new one is during `apply`).
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    pub path: String,
    pub body: Option<Value>,
    pub api: Option<String>,
}

impl Call {
    pub fn new(method: Method, path: &str, body: Option<Value>) -> Call {
        Call {
            method,
            path: path.to_owned(),
            body,
            api: None,
        }
    }

    /// A call on `/admin/v1/apis/{api}{suffix}` for the API at `base_path`.
    pub fn on_api(method: Method, base_path: &str, suffix: &str, body: Option<Value>) -> Call {
        Call {
            method,
            path: format!("/admin/v1/apis/{{api}}{suffix}"),
            body,
            api: Some(base_path.to_owned()),
        }
    }
}

/// One item of the plan and the calls that carry it out.
#[derive(Debug)]
pub struct Step {
    pub action: Action,
    pub what: String,
    pub line: Option<usize>,
    /// Field-level changes, for updates.
    pub details: Vec<String>,
    pub calls: Vec<Call>,
}

/// Everything to do, what is already right, and remarks that change nothing.
#[derive(Debug, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub unchanged: usize,
    pub notes: Vec<String>,
}

impl Plan {
    fn push(&mut self, step: Step) {
        self.steps.push(step);
    }

    /// Keeps an update only if it changes something (every change has a detail line).
    fn changed_or_not(&mut self, step: Step) {
        if step.details.is_empty() {
            self.unchanged += 1;
        } else {
            self.steps.push(step);
        }
    }

    fn count(&self, action: Action) -> usize {
        self.steps.iter().filter(|s| s.action == action).count()
    }

    /// The one-line summary `diff` and `apply` end with.
    pub fn summary(&self) -> String {
        if self.steps.is_empty() {
            return format!(
                "No changes: the origin matches the file ({} unchanged).",
                self.unchanged
            );
        }
        format!(
            "Plan: {} to create, {} to update, {} to delete, {} unchanged.",
            self.count(Action::Create),
            self.count(Action::Update),
            self.count(Action::Delete),
            self.unchanged
        )
    }
}

/// How a step is shown: `+ api /weather  (tollgate.yaml:3)` and its details.
pub fn render_step(step: &Step, file: &Path) -> String {
    let sign = match step.action {
        Action::Create => '+',
        Action::Update => '~',
        Action::Delete => '-',
    };
    let mut out = format!("{sign} {}", step.what);
    if let Some(line) = step.line {
        out.push_str(&format!("  ({}:{line})", file.display()));
    }
    for detail in &step.details {
        out.push_str(&format!("\n    {detail}"));
    }
    out
}

/// Prints the plan as `diff` shows it.
pub fn print_plan(plan: &Plan, file: &Path) {
    for step in &plan.steps {
        println!("{}", render_step(step, file));
    }
    for note in &plan.notes {
        println!("! {note}");
    }
    if plan.unchanged > 0 && !plan.steps.is_empty() {
        println!("= {} unchanged", plan.unchanged);
    }
    println!("{}", plan.summary());
}
