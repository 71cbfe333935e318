//! `tollgate export`: the origin's catalog, plans and limits as a config file that
//! `apply` accepts unchanged (applying it right away is a no-op). Each version's OpenAPI
//! document is written as JSON to `specs/` beside the file. Secrets never leave the
//! origin: an upstream credential is written as a `${ENV_VAR}` placeholder to fill in.

use super::client::{CallError, Client, Target};
use super::current::fetch;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use yaml_rust2::yaml::{Hash, Yaml};
use yaml_rust2::YamlEmitter;

/// Members the origin answers with that a request body does not take.
const ANSWER_ONLY: [&str; 6] = [
    "id",
    "created_at",
    "updated_at",
    "max_over_admission",
    "api_id",
    "version_count",
];

/// Drops answer-only and empty members, recursively.
fn body_of(value: &Value) -> Value {
    match value {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(k, v)| !v.is_null() && !ANSWER_ONLY.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), body_of(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `TOLLGATE_UPSTREAM_<BASE PATH>`: where `apply` reads an exported credential from.
pub fn secret_variable(base_path: &str) -> String {
    let tail: String = base_path
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("TOLLGATE_UPSTREAM{}", tail.trim_end_matches('_'))
}

fn slug(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_matches('-')
        .to_owned()
}

fn to_yaml(value: &Value) -> Yaml {
    match value {
        Value::Null => Yaml::Null,
        Value::Bool(b) => Yaml::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Yaml::Integer(i),
            None => Yaml::Real(n.to_string()),
        },
        Value::String(s) => Yaml::String(s.clone()),
        Value::Array(items) => Yaml::Array(items.iter().map(to_yaml).collect()),
        Value::Object(o) => {
            let mut hash = Hash::new();
            for (k, v) in o {
                hash.insert(Yaml::String(k.clone()), to_yaml(v));
            }
            Yaml::Hash(hash)
        }
    }
}

/// Renders a JSON value as YAML text.
pub fn render_yaml(value: &Value) -> Result<String, String> {
    let mut out = String::new();
    let mut emitter = YamlEmitter::new(&mut out);
    emitter.multiline_strings(true);
    emitter.dump(&to_yaml(value)).map_err(|e| e.to_string())?;
    out.push('\n');
    Ok(out)
}

/// Builds the file's content, writing each spec under `dir/specs/`.
async fn export_value(client: &Client, dir: &Path) -> Result<(Value, Vec<String>), String> {
    let err = |e: CallError| e.to_string();
    let current = fetch(client).await.map_err(err)?;
    let mut secrets = Vec::new();
    let mut apis = Vec::new();
    for c in &current.apis {
        let base = c.api["base_path"].as_str().unwrap_or_default();
        let mut api = Map::new();
        for k in ["name", "base_path", "upstream_url", "auth"] {
            api.insert(k.into(), c.api[k].clone());
        }
        if let Some(header) = &c.upstream_header {
            let var = secret_variable(base);
            api.insert(
                "upstream_auth".into(),
                json!({"header": header, "value": format!("${{{var}}}")}),
            );
            secrets.push(var);
        }
        if let Some(s) = &c.shedding {
            api.insert("shedding".into(), body_of(s));
        }
        let mut versions = Vec::new();
        for v in &c.versions {
            let number = v["version"].as_str().unwrap_or_default();
            let spec = client
                .get(&format!("/admin/v1/apis/{}/versions/{number}/spec", c.id))
                .await
                .map_err(err)?;
            let rel = PathBuf::from("specs").join(format!("{}-{}.json", slug(base), slug(number)));
            let text = serde_json::to_string_pretty(&spec).map_err(|e| e.to_string())?;
            let path = dir.join(&rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut entry =
                json!({"version": number, "spec": rel.to_string_lossy(), "status": v["status"]});
            for (from, to) in [
                ("upstream_url", "upstream_url"),
                ("sunset_at", "sunset"),
                ("migration_url", "migration_url"),
                ("migration_note", "migration_note"),
            ] {
                if !v[from].is_null() {
                    entry[to] = v[from].clone();
                }
            }
            versions.push(entry);
        }
        if !versions.is_empty() {
            api.insert("versions".into(), Value::Array(versions));
        }
        apis.push(Value::Object(api));
    }
    let plans: Vec<Value> = current.plans.iter().map(body_of).collect();
    let mut limits = Vec::new();
    for l in &current.limits {
        let mut body = body_of(l);
        if let Some(base) = l["api_id"].as_str().and_then(|id| current.base_path_of(id)) {
            body["api"] = Value::String(base.to_owned());
        }
        limits.push(body);
    }
    Ok((
        json!({"apis": apis, "plans": plans, "limits": limits}),
        secrets,
    ))
}

/// `tollgate export [--out FILE]`: YAML on stdout or in FILE; specs in `specs/` beside it.
pub async fn run_export(target: Target, out: Option<&Path>) -> Result<i32, String> {
    let dir = match out.and_then(Path::parent) {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let client = Client::new(target);
    let (value, secrets) = export_value(&client, &dir).await?;
    let mut text = String::from(
        "# Exported by `tollgate export`; `tollgate apply` of this file changes nothing.\n",
    );
    for var in &secrets {
        text.push_str(&format!(
            "# Upstream credentials are not exported: set {var} before applying.\n"
        ));
    }
    text.push_str(&render_yaml(&value)?);
    match out {
        Some(path) => std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(0)
}
