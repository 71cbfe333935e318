//! The items of a config file's `apis` list: an API and its versions, read and checked
//! (names, paths, URLs, auth by the origin's own rules; each OpenAPI document loaded and
//! validated) before anything is sent.

use super::file::{
    expand_env, sunset_ms, Reader, UpstreamAuth, WantedApi, WantedVersion, STATUSES,
};
use super::ConfigError;
use crate::admin::fields;
use crate::admin::shedding::Shedding;
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tollgate_core::openapi::{load_document, SourceFormat};
use tollgate_core::version::parse_version;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiEntry {
    name: String,
    base_path: String,
    upstream_url: String,
    #[serde(default)]
    auth: Option<Value>,
    #[serde(default)]
    upstream_auth: Option<UpstreamAuth>,
    #[serde(default)]
    shedding: Option<Value>,
    #[serde(default)]
    versions: Vec<VersionEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionEntry {
    version: String,
    spec: String,
    #[serde(default)]
    upstream_url: Option<String>,
    #[serde(default = "draft")]
    status: String,
    #[serde(default)]
    sunset: Option<String>,
    #[serde(default)]
    migration_url: Option<String>,
    #[serde(default)]
    migration_note: Option<String>,
}

fn draft() -> String {
    "draft".into()
}

pub fn read_api(
    r: &Reader,
    dir: &Path,
    pointer: &str,
    api: ApiEntry,
) -> Result<WantedApi, ConfigError> {
    let name = r.checked(&format!("{pointer}/name"), fields::text("name", &api.name))?;
    let base_path = r.checked(
        &format!("{pointer}/base_path"),
        fields::base_path("base_path", &api.base_path),
    )?;
    let upstream_url = r.checked(
        &format!("{pointer}/upstream_url"),
        fields::http_url("upstream_url", &api.upstream_url),
    )?;
    let auth = r.checked(
        &format!("{pointer}/auth"),
        crate::admin::apis::parse_auth(api.auth),
    )?;
    let auth = r.checked(
        &format!("{pointer}/auth"),
        crate::admin::apis::check_auth(auth),
    )?;
    let auth = serde_json::to_value(auth).map_err(|e| r.error(pointer, e.to_string()))?;
    let upstream_auth = match api.upstream_auth {
        Some(u) => {
            let value = expand_env(&u.value)
                .map_err(|m| r.error(&format!("{pointer}/upstream_auth/value"), m))?;
            Some(UpstreamAuth {
                header: u.header,
                value,
            })
        }
        None => None,
    };
    if let Some(shedding) = &api.shedding {
        let _: Shedding = r.typed(&format!("{pointer}/shedding"), shedding)?;
    }
    let mut versions = Vec::new();
    for (i, v) in api.versions.into_iter().enumerate() {
        versions.push(read_version(r, dir, &format!("{pointer}/versions/{i}"), v)?);
    }
    Ok(WantedApi {
        line: r.line(pointer),
        body: serde_json::json!({"name": name, "base_path": base_path, "upstream_url": upstream_url, "auth": auth}),
        upstream_auth,
        shedding: api.shedding,
        versions,
    })
}

fn read_version(
    r: &Reader,
    dir: &Path,
    pointer: &str,
    v: VersionEntry,
) -> Result<WantedVersion, ConfigError> {
    let version = parse_version(&v.version)
        .map_err(|e| r.error(&format!("{pointer}/version"), e.to_string()))?
        .to_string();
    let status = STATUSES
        .iter()
        .position(|s| *s == v.status)
        .ok_or_else(|| {
            r.error(
                &format!("{pointer}/status"),
                "must be draft, published, deprecated or retired",
            )
        })?;
    let spec_path: PathBuf = dir.join(&v.spec);
    let spec_text = std::fs::read_to_string(&spec_path).map_err(|e| {
        r.error(
            &format!("{pointer}/spec"),
            format!("cannot read {}: {e}", spec_path.display()),
        )
    })?;
    let format = if spec_text.trim_start().starts_with('{') {
        SourceFormat::Json
    } else {
        SourceFormat::Yaml
    };
    let spec = load_document(spec_text.as_bytes(), format)
        .map_err(|issues| {
            let first = issues.first().map(|i| {
                let at = match (i.line, i.column) {
                    (Some(l), Some(c)) => format!("{}:{l}:{c}: ", spec_path.display()),
                    _ => String::new(),
                };
                format!("{at}`{}`: {}", i.pointer, i.message)
            });
            r.error(
                &format!("{pointer}/spec"),
                format!(
                    "invalid OpenAPI document ({} error(s)); the first: {}",
                    issues.len(),
                    first.unwrap_or_default()
                ),
            )
        })?
        .value;
    let upstream_url = match v.upstream_url {
        Some(u) => Some(r.checked(
            &format!("{pointer}/upstream_url"),
            fields::http_url("upstream_url", &u),
        )?),
        None => None,
    };
    if let Some(s) = &v.sunset {
        if sunset_ms(s).is_none() {
            return Err(r.error(
                &format!("{pointer}/sunset"),
                "must be RFC 3339 (`2027-01-31T00:00:00Z`) or a date (`2027-01-31`)",
            ));
        }
    }
    if status >= 2 && v.sunset.is_none() {
        return Err(r.error(pointer, "a deprecated or retired version needs `sunset` (and `migration_url` or `migration_note`)"));
    }
    Ok(WantedVersion {
        line: r.line(pointer),
        version,
        spec_text,
        spec,
        upstream_url,
        status,
        sunset: v.sunset,
        migration_url: v.migration_url,
        migration_note: v.migration_note,
    })
}
