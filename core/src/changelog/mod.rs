//! Changelogs between two OpenAPI documents: every difference a caller could notice,
//! classified as breaking or not, and a migration-guide draft built from them.
//!
//! The diff walks paths (matched by template shape, so renaming `{id}` to `{petId}` is
//! not a removal), operations, parameters, request bodies, responses, security and, through
//! local `$ref`s, schemas. Schemas are compared in a direction: what a client sends may
//! not narrow (removed or newly required fields, narrowed enums, tighter constraints),
//! what it receives may not widen or lose fields. A pair of referenced schemas is compared
//! once per direction (recursive and shared schemas cost one visit, and the change is
//! reported where it is defined), so the diff is linear in the size of the documents.

mod bodies;
mod guide;
mod operations;
mod schema;
mod schema_rules;
mod security;
#[cfg(test)]
mod tests;

pub use guide::migration_guide;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashSet;

/// One difference between two documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Stable kind, e.g. `operation-removed`, `property-became-required`.
    pub code: String,
    pub breaking: bool,
    /// `METHOD /path` the change was found in; `None` for document-wide changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Where inside the operation, e.g. `query parameter limit` or
    /// `response 200 application/json body.items[].name`.
    pub location: String,
    /// JSON pointer of the changed member in the new document (the old one for removals).
    pub pointer: String,
    /// What changed, in a sentence.
    pub detail: String,
}

/// Which part of the semver number a set of changes calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bump {
    Patch,
    Minor,
    Major,
}

/// Every change from one document to the next.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Changelog {
    pub breaking: usize,
    pub non_breaking: usize,
    pub changes: Vec<Change>,
}

impl Changelog {
    /// Major for any breaking change, minor for other changes, patch for none.
    pub fn required_bump(&self) -> Bump {
        if self.breaking > 0 {
            Bump::Major
        } else if self.non_breaking > 0 {
            Bump::Minor
        } else {
            Bump::Patch
        }
    }
}

/// Whether values flow from the client (request) or to it (response).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Direction {
    Request,
    Response,
}

/// Where in an operation a comparison is happening.
#[derive(Debug, Clone)]
struct Ctx {
    operation: Option<String>,
    place: String,
}

/// The running state of one diff.
struct Differ<'a> {
    old: &'a Value,
    new: &'a Value,
    changes: Vec<Change>,
    /// Schema pairs already compared, by address of the resolved nodes and direction.
    seen: HashSet<(usize, usize, Direction)>,
}

impl Differ<'_> {
    fn push(
        &mut self,
        code: &str,
        breaking: bool,
        ctx: &Ctx,
        suffix: &str,
        pointer: &str,
        detail: String,
    ) {
        self.changes.push(Change {
            code: code.to_owned(),
            breaking,
            operation: ctx.operation.clone(),
            location: format!("{}{suffix}", ctx.place),
            pointer: pointer.to_owned(),
            detail,
        });
    }
}

/// Compares two OpenAPI documents (3.0 or 3.1, ideally validated).
pub fn diff_documents(old: &Value, new: &Value) -> Changelog {
    let mut differ = Differ {
        old,
        new,
        changes: Vec::new(),
        seen: HashSet::new(),
    };
    operations::diff_paths(&mut differ);
    security::diff_security_schemes(&mut differ);
    let breaking = differ.changes.iter().filter(|c| c.breaking).count();
    Changelog {
        breaking,
        non_breaking: differ.changes.len() - breaking,
        changes: differ.changes,
    }
}
