//! What the snapshot tells the edge about request validation: for each API with
//! validation on, each live (published or deprecated) version's compiled document.
//!
//! Compiling is done once per document, not per snapshot: a version's document never
//! changes after import, so compiled forms are cached by (API, version, created_at) and a
//! snapshot rebuilt for an unrelated change (a key revoked) reuses them. Documents that
//! stopped compiling (a setting made before a new version was published) are left out
//! with an error in the log; the edge then forwards that version unchecked.

use crate::admin::validation::ValidationSettings;
use crate::error::AppError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use tollgate_core::validation::{
    compile_document, ApiValidation, CompileIssue, CompiledValidation, RequestMode, ResponseMode,
};
use tollgate_core::ApiId;

/// Most compiled documents kept in memory.
const CACHE_ENTRIES: usize = 256;

type CacheKey = (String, String, i64);
/// `None`: the document does not compile (remembered so it is not retried every time).
type Cache = Mutex<HashMap<CacheKey, Option<Arc<CompiledValidation>>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Cache::default)
}

/// One live version's document.
pub struct LiveSpec {
    pub api_id: String,
    pub version: String,
    pub created_at: i64,
    pub text: String,
}

const LIVE: &str = "status IN ('published', 'deprecated')";

/// Live versions' documents, of one API or of every API with validation on.
pub async fn live_specs(db: &crate::db::Db, api: Option<&str>) -> Result<Vec<LiveSpec>, AppError> {
    let rows: Vec<(String, String, i64, String)> = match api {
        Some(id) => {
            sqlx::query_as(&format!("SELECT api_id, version, created_at, spec FROM api_versions WHERE api_id = $1 AND {LIVE} ORDER BY version"))
                .bind(id)
                .fetch_all(db)
                .await?
        }
        None => sqlx::query_as(&format!("SELECT api_id, version, created_at, spec FROM api_versions WHERE {LIVE} AND api_id IN (SELECT api_id FROM api_validation) ORDER BY api_id, version"))
            .fetch_all(db)
            .await?,
    };
    Ok(rows
        .into_iter()
        .map(|(api_id, version, created_at, text)| LiveSpec {
            api_id,
            version,
            created_at,
            text,
        })
        .collect())
}

/// Compiles a stored document (JSON text).
pub fn compile_spec(text: &str) -> Result<CompiledValidation, Vec<CompileIssue>> {
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        vec![CompileIssue {
            pointer: String::new(),
            message: format!("the stored document is not JSON: {e}"),
        }]
    })?;
    compile_document(&doc)
}

/// Every validation the edge applies, compiling only documents not seen before.
pub async fn load_validations(db: &crate::db::Db) -> Result<Vec<ApiValidation>, AppError> {
    let settings: Vec<(String, String)> = sqlx::query_as("SELECT v.api_id, v.settings_json FROM api_validation v JOIN apis a ON a.id = v.api_id ORDER BY v.api_id")
        .fetch_all(db)
        .await?;
    if settings.is_empty() {
        return Ok(Vec::new());
    }
    let versions: Vec<(String, String, i64)> = sqlx::query_as(&format!("SELECT api_id, version, created_at FROM api_versions WHERE {LIVE} AND api_id IN (SELECT api_id FROM api_validation) ORDER BY api_id, version"))
        .fetch_all(db)
        .await?;
    let missing = {
        let cached = cache()
            .lock()
            .map_err(|_| AppError::Unexpected(anyhow::anyhow!("validation cache poisoned")))?;
        versions
            .iter()
            .any(|(a, v, c)| !cached.contains_key(&(a.clone(), v.clone(), *c)))
    };
    if missing {
        compile_missing(live_specs(db, None).await?).await?;
    }
    let cached = cache()
        .lock()
        .map_err(|_| AppError::Unexpected(anyhow::anyhow!("validation cache poisoned")))?;
    let mut out = Vec::new();
    for (api_id, json) in settings {
        let Ok(s) = serde_json::from_str::<ValidationSettings>(&json) else {
            tracing::error!(%api_id, "stored validation settings do not parse; validation left off");
            continue;
        };
        let (requests, responses) = s.modes();
        if requests == RequestMode::Off && responses == ResponseMode::Off {
            continue;
        }
        for (a, version, created_at) in versions.iter().filter(|(a, _, _)| *a == api_id) {
            if let Some(Some(spec)) = cached.get(&(a.clone(), version.clone(), *created_at)) {
                out.push(ApiValidation {
                    api_id: ApiId(api_id.clone()),
                    version: Some(version.clone()),
                    requests,
                    responses,
                    max_body_bytes: s
                        .max_body_bytes
                        .unwrap_or(crate::admin::validation::DEFAULT_MAX_BODY),
                    spec: CompiledValidation::clone(spec),
                });
            }
        }
    }
    Ok(out)
}

async fn compile_missing(specs: Vec<LiveSpec>) -> Result<(), AppError> {
    let todo: Vec<LiveSpec> = {
        let cached = cache()
            .lock()
            .map_err(|_| AppError::Unexpected(anyhow::anyhow!("validation cache poisoned")))?;
        specs
            .into_iter()
            .filter(|s| !cached.contains_key(&(s.api_id.clone(), s.version.clone(), s.created_at)))
            .collect()
    };
    let compiled = tokio::task::spawn_blocking(move || {
        todo.into_iter()
            .map(|s| match compile_spec(&s.text) {
                Ok(c) => ((s.api_id, s.version, s.created_at), Some(Arc::new(c))),
                Err(issues) => {
                    let first = issues.first().map(|i| format!("{}: {}", i.pointer, i.message)).unwrap_or_default();
                    tracing::error!(api_id = %s.api_id, version = %s.version, %first, "document cannot be compiled for validation; left unchecked");
                    ((s.api_id, s.version, s.created_at), None)
                }
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| AppError::Unexpected(anyhow::Error::new(e).context("compiling documents")))?;
    let mut cached = cache()
        .lock()
        .map_err(|_| AppError::Unexpected(anyhow::anyhow!("validation cache poisoned")))?;
    if cached.len() + compiled.len() > CACHE_ENTRIES {
        cached.clear();
    }
    cached.extend(compiled);
    Ok(())
}
