//! Reading a declarative config file (see docs/CONFIG.md) into the state it asks for,
//! checked as far as possible before the origin is asked anything: every error names the
//! file, line and column of the member at fault.

use super::file_items::{read_api, ApiEntry};
use super::ConfigError;
use crate::admin::fields;
use crate::admin::limits::CreateLimit;
use crate::admin::plans::CreatePlan;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::Path;
use tollgate_core::openapi::yaml::{parse_yaml, Position};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    apis: Vec<ApiEntry>,
    #[serde(default)]
    plans: Vec<Value>,
    #[serde(default)]
    limits: Vec<Value>,
}

/// The header the edge adds for the upstream; `value` may hold `${ENV_VAR}`s.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamAuth {
    pub header: String,
    pub value: String,
}

/// Where in the file an item is written.
pub type Line = usize;

/// An API as the file wants it.
#[derive(Debug)]
pub struct WantedApi {
    pub line: Line,
    /// The body of `POST`/`PUT /admin/v1/apis`, normalised as the origin stores it.
    pub body: Value,
    pub upstream_auth: Option<UpstreamAuth>,
    pub shedding: Option<Value>,
    pub versions: Vec<WantedVersion>,
}

/// A version as the file wants it.
#[derive(Debug)]
pub struct WantedVersion {
    pub line: Line,
    pub version: String,
    pub spec_text: String,
    pub spec: Value,
    pub upstream_url: Option<String>,
    /// Index in [`STATUSES`].
    pub status: usize,
    pub sunset: Option<String>,
    pub migration_url: Option<String>,
    pub migration_note: Option<String>,
}

/// A plan or limit as the file wants it: the admin API body, keyed by name.
#[derive(Debug)]
pub struct WantedItem {
    pub line: Line,
    pub name: String,
    pub body: Value,
    /// Limits: the base path of the API it applies to.
    pub api: Option<String>,
    /// Where `api` is written (line, column).
    pub api_at: (usize, usize),
}

/// Everything a file asks for.
#[derive(Debug, Default)]
pub struct Wanted {
    pub apis: Vec<WantedApi>,
    pub plans: Vec<WantedItem>,
    pub limits: Vec<WantedItem>,
}

/// The lifecycle, in the only order it moves.
pub const STATUSES: [&str; 4] = ["draft", "published", "deprecated", "retired"];

/// Locates errors in the file being read.
pub struct Reader<'a> {
    file: &'a Path,
    positions: HashMap<String, Position>,
}

impl Reader<'_> {
    /// Where `pointer` (or its nearest located ancestor) is written.
    pub fn at(&self, pointer: &str) -> Position {
        let mut p = pointer;
        loop {
            if let Some(at) = self.positions.get(p) {
                return *at;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return Position { line: 1, column: 1 },
            }
        }
    }

    /// An error at `pointer`.
    pub fn error(&self, pointer: &str, message: impl Into<String>) -> ConfigError {
        let at = self.at(pointer);
        ConfigError::at(self.file, at.line, at.column, message)
    }

    /// The line of `pointer`.
    pub fn line(&self, pointer: &str) -> Line {
        self.at(pointer).line
    }

    /// Deserializes `value` (found at `pointer`) strictly, locating the first error.
    pub fn typed<T: serde::de::DeserializeOwned>(
        &self,
        pointer: &str,
        value: &Value,
    ) -> Result<T, ConfigError> {
        serde_path_to_error::deserialize(value).map_err(|e| {
            let mut at = pointer.to_owned();
            for segment in e.path().iter() {
                use serde_path_to_error::Segment;
                match segment {
                    Segment::Seq { index } => at.push_str(&format!("/{index}")),
                    Segment::Map { key } | Segment::Enum { variant: key } => {
                        at.push('/');
                        at.push_str(key);
                    }
                    Segment::Unknown => {}
                }
            }
            let message = e.inner().to_string();
            let member = message
                .strip_prefix("missing field `")
                .map(|_| " (missing here)")
                .unwrap_or_default();
            self.error(&at, format!("{message}{member}"))
        })
    }

    /// Turns an origin-side check error into a located one.
    pub fn checked<T>(
        &self,
        pointer: &str,
        result: Result<T, crate::error::AppError>,
    ) -> Result<T, ConfigError> {
        result.map_err(|e| {
            let problem = e.problem();
            self.error(pointer, problem.detail)
        })
    }
}

/// Replaces every `${NAME}` in `text` with that environment variable.
pub fn expand_env(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| "`${` without a closing `}`".to_owned())?;
        let name = &after[..end];
        let value = std::env::var(name)
            .map_err(|_| format!("the environment variable `{name}` is not set"))?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Parses `sunset` as the origin does: RFC 3339 or a date (midnight UTC), in ms.
pub fn sunset_ms(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    crate::clock::parse_rfc3339(raw)
        .or_else(|| crate::clock::parse_rfc3339(&format!("{raw}T00:00:00Z")))
}

/// Reads and checks the file at `path`.
pub fn read_config(path: &Path) -> Result<Wanted, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::at(path, 0, 0, format!("cannot read it: {e}")))?;
    let doc =
        parse_yaml(&text).map_err(|e| ConfigError::at(path, e.at.line, e.at.column, e.message))?;
    let r = Reader {
        file: path,
        positions: doc.positions,
    };
    let root = if doc.value.is_null() {
        Value::Object(Map::new())
    } else {
        doc.value
    };
    let file: FileDoc = r.typed("", &root)?;
    let dir = path.parent().map(Path::to_owned).unwrap_or_default();
    let mut wanted = Wanted::default();
    for (i, api) in file.apis.into_iter().enumerate() {
        wanted
            .apis
            .push(read_api(&r, &dir, &format!("/apis/{i}"), api)?);
    }
    let mut seen = HashMap::new();
    for a in &wanted.apis {
        let base = a.body["base_path"].as_str().unwrap_or_default().to_owned();
        if let Some(first) = seen.insert(base.clone(), a.line) {
            let message = format!("base_path `{base}` is already used on line {first}");
            return Err(ConfigError::at(path, a.line, 1, message));
        }
    }
    for (i, plan) in file.plans.into_iter().enumerate() {
        let pointer = format!("/plans/{i}");
        let _: CreatePlan = r.typed(&pointer, &plan)?;
        let name = r.checked(
            &format!("{pointer}/name"),
            fields::text("name", plan["name"].as_str().unwrap_or_default()),
        )?;
        wanted.plans.push(WantedItem {
            line: r.line(&pointer),
            name,
            body: plan,
            api: None,
            api_at: (0, 0),
        });
    }
    for (i, mut limit) in file.limits.into_iter().enumerate() {
        let pointer = format!("/limits/{i}");
        let api = match limit.as_object_mut().and_then(|o| o.remove("api")) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                Some(r.checked(&format!("{pointer}/api"), fields::base_path("api", &s))?)
            }
            Some(_) => {
                return Err(r.error(
                    &format!("{pointer}/api"),
                    "`api` must be the base_path of an API",
                ))
            }
        };
        if let Some(o) = limit.as_object().filter(|o| o.contains_key("api_id")) {
            let _ = o;
            return Err(r.error(
                &format!("{pointer}/api_id"),
                "name the API by its base_path in `api`, not by id",
            ));
        }
        let _: CreateLimit = r.typed(&pointer, &limit)?;
        let name = limit["name"].as_str().unwrap_or_default().to_owned();
        let at = r.at(&format!("{pointer}/api"));
        let api_at = (at.line, at.column);
        wanted.limits.push(WantedItem {
            line: r.line(&pointer),
            name,
            body: limit,
            api,
            api_at,
        });
    }
    for (kind, items) in [("plan", &wanted.plans), ("limit", &wanted.limits)] {
        let mut names = HashMap::new();
        for item in items {
            if let Some(first) = names.insert(item.name.as_str(), item.line) {
                let message = format!("{kind} `{}` is already defined on line {first}", item.name);
                return Err(ConfigError::at(path, item.line, 1, message));
            }
        }
    }
    Ok(wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.yaml");
        std::fs::write(&path, text).unwrap();
        let e = read_config(&path).unwrap_err();
        e.to_string().replace(&dir.path().display().to_string(), "")
    }

    #[test]
    fn errors_point_at_the_member() {
        assert_eq!(
            error_of("plans:\n  - name: Free\n    rate_limit:\n      requests: many\n      per_seconds: 1\n"),
            "/t.yaml:4:7: invalid type: string \"many\", expected u64"
        );
        assert!(error_of(
            "plans:\n  - name: Free\n    rate_limit: {requests: many, per_seconds: 1}\n"
        )
        .starts_with("/t.yaml:3:18: "));
    }
}
