//! API versions in the database: rows, look-ups, the answer shape, the snapshot entries
//! the edge routes by, and changelogs between stored documents (computed off the async
//! workers, since a large document takes a noticeable slice of CPU).

use crate::clock::format_rfc3339;
use crate::error::AppError;
use serde::{Deserialize, Serialize};
use sqlx::{Any, Executor};
use tollgate_core::changelog::{diff_documents, migration_guide, Bump, Changelog};
use tollgate_core::version::parse_version;
use tollgate_core::{ApiId, VersionRoute, VersionStatus};
use utoipa::ToSchema;

/// The changelog of a version against the one before it, in brief.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChangelogSummary {
    /// The version compared against.
    pub from: String,
    pub breaking: usize,
    pub non_breaking: usize,
    /// `major`, `minor` or `patch`: what the changes call for.
    #[schema(pattern = "^(major|minor|patch)$")]
    pub required_bump: String,
}

/// One version of an API as the admin API shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiVersion {
    #[schema(value_type = String)]
    pub api_id: ApiId,
    /// Semantic version, e.g. `2.1.0`.
    pub version: String,
    /// `draft`, `published`, `deprecated` or `retired`.
    #[schema(pattern = "^(draft|published|deprecated|retired)$")]
    pub status: String,
    /// Where the edge routes this version: `{base_path}/v{major}`.
    pub route: String,
    /// Overrides the API's upstream for this version.
    pub upstream_url: Option<String>,
    /// The document's `openapi` member, e.g. `3.1.0`.
    pub openapi: String,
    /// The document's `info.title`.
    pub title: String,
    /// How the document was uploaded: `json` or `yaml`.
    pub spec_format: String,
    /// Against the previous version; absent for the first one.
    pub changelog: Option<ChangelogSummary>,
    pub migration_url: Option<String>,
    pub migration_note: Option<String>,
    /// RFC 3339 timestamps.
    pub created_at: String,
    pub updated_at: String,
    pub published_at: Option<String>,
    pub deprecated_at: Option<String>,
    pub sunset_at: Option<String>,
    pub retired_at: Option<String>,
}

/// A stored version without its document.
#[derive(Debug, sqlx::FromRow)]
pub struct VersionRow {
    pub api_id: String,
    pub version: String,
    pub major: i64,
    pub status: String,
    pub upstream_url: Option<String>,
    pub openapi: String,
    pub title: String,
    pub spec_format: String,
    pub changelog_from: Option<String>,
    pub changelog_json: Option<String>,
    pub migration_url: Option<String>,
    pub migration_note: Option<String>,
    pub published_at: Option<i64>,
    pub deprecated_at: Option<i64>,
    pub sunset_at: Option<i64>,
    pub retired_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Columns of [`VersionRow`].
pub const VERSION_COLUMNS: &str = "api_id, version, major, status, upstream_url, openapi, title, \
    spec_format, changelog_from, changelog_json, migration_url, migration_note, published_at, \
    deprecated_at, sunset_at, retired_at, created_at, updated_at";

fn unexpected(e: impl Into<anyhow::Error>, what: String) -> AppError {
    AppError::Unexpected(e.into().context(what))
}

impl VersionRow {
    /// The stored status.
    pub fn status(&self) -> Result<VersionStatus, AppError> {
        VersionStatus::parse(&self.status).ok_or_else(|| {
            AppError::Unexpected(anyhow::anyhow!(
                "version {} has status {}",
                self.version,
                self.status
            ))
        })
    }

    /// The stored changelog, if any.
    pub fn changelog(&self) -> Result<Option<Changelog>, AppError> {
        self.changelog_json
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| unexpected(e, format!("stored changelog of {}", self.version)))
    }

    /// The admin API's view, routed under `base_path`.
    pub fn into_version(self, base_path: &str) -> Result<ApiVersion, AppError> {
        let changelog = match (&self.changelog_from, self.changelog()?) {
            (Some(from), Some(log)) => Some(ChangelogSummary {
                from: from.clone(),
                breaking: log.breaking,
                non_breaking: log.non_breaking,
                required_bump: bump_name(log.required_bump()).into(),
            }),
            _ => None,
        };
        let time = |ms: Option<i64>| ms.map(format_rfc3339);
        Ok(ApiVersion {
            api_id: ApiId(self.api_id),
            route: format!("{base_path}/v{}", self.major),
            version: self.version,
            status: self.status,
            upstream_url: self.upstream_url,
            openapi: self.openapi,
            title: self.title,
            spec_format: self.spec_format,
            changelog,
            migration_url: self.migration_url,
            migration_note: self.migration_note,
            created_at: format_rfc3339(self.created_at),
            updated_at: format_rfc3339(self.updated_at),
            published_at: time(self.published_at),
            deprecated_at: time(self.deprecated_at),
            sunset_at: time(self.sunset_at),
            retired_at: time(self.retired_at),
        })
    }
}

/// `major`, `minor` or `patch`.
pub fn bump_name(bump: Bump) -> &'static str {
    match bump {
        Bump::Major => "major",
        Bump::Minor => "minor",
        Bump::Patch => "patch",
    }
}

/// The API's name and base path, or 404.
pub async fn find_api<'e>(
    db: impl Executor<'e, Database = Any>,
    api_id: &str,
) -> Result<(String, String), AppError> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT name, base_path FROM apis WHERE id = $1")
            .bind(api_id)
            .fetch_optional(db)
            .await?;
    row.ok_or_else(|| AppError::NotFound {
        what: "API",
        id: api_id.to_owned(),
    })
}

/// One version, or 404.
pub async fn find_version<'e>(
    db: impl Executor<'e, Database = Any>,
    api_id: &str,
    version: &str,
) -> Result<VersionRow, AppError> {
    let row: Option<VersionRow> = sqlx::query_as(&format!(
        "SELECT {VERSION_COLUMNS} FROM api_versions WHERE api_id = $1 AND version = $2"
    ))
    .bind(api_id)
    .bind(version)
    .fetch_optional(db)
    .await?;
    row.ok_or_else(|| AppError::NotFound {
        what: "version",
        id: format!("{version}` of API `{api_id}"),
    })
}

/// Every version of an API, oldest (by semver) first.
pub async fn list_versions<'e>(
    db: impl Executor<'e, Database = Any>,
    api_id: &str,
) -> Result<Vec<VersionRow>, AppError> {
    let mut rows: Vec<VersionRow> = sqlx::query_as(&format!(
        "SELECT {VERSION_COLUMNS} FROM api_versions WHERE api_id = $1"
    ))
    .bind(api_id)
    .fetch_all(db)
    .await?;
    rows.sort_by_cached_key(|r| parse_version(&r.version).ok());
    Ok(rows)
}

/// The stored document of a version, as JSON text.
pub async fn spec_text<'e>(
    db: impl Executor<'e, Database = Any>,
    api_id: &str,
    version: &str,
) -> Result<String, AppError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT spec FROM api_versions WHERE api_id = $1 AND version = $2")
            .bind(api_id)
            .bind(version)
            .fetch_optional(db)
            .await?;
    row.map(|(s,)| s).ok_or_else(|| AppError::NotFound {
        what: "version",
        id: format!("{version}` of API `{api_id}"),
    })
}

/// Every version of every API, as the snapshot carries them.
pub async fn load_version_routes<'e>(
    db: impl Executor<'e, Database = Any>,
) -> Result<Vec<VersionRoute>, AppError> {
    type Row = (
        String,
        String,
        String,
        Option<String>,
        Option<i64>,
        Option<i64>,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT api_id, version, status, upstream_url, deprecated_at, sunset_at, migration_url \
         FROM api_versions ORDER BY api_id, version",
    )
    .fetch_all(db)
    .await?;
    let secs = |ms: Option<i64>| ms.and_then(|ms| u64::try_from(ms / 1_000).ok());
    rows.into_iter()
        .map(
            |(api_id, version, status, upstream_url, deprecated_at, sunset_at, migration_url)| {
                let status = VersionStatus::parse(&status).ok_or_else(|| {
                    AppError::Unexpected(anyhow::anyhow!("version {version} has status {status}"))
                })?;
                Ok(VersionRoute {
                    api_id: ApiId(api_id),
                    version,
                    status,
                    upstream_url,
                    deprecated_at: secs(deprecated_at),
                    sunset_at: secs(sunset_at),
                    migration_url,
                })
            },
        )
        .collect()
}

/// A changelog and its migration guide draft, as stored with a version.
pub struct Diffed {
    pub changelog: Changelog,
    pub json: String,
    pub guide: String,
}

/// Diffs two stored documents (JSON text) on a blocking thread.
pub async fn diff_specs(
    api_name: String,
    from: (String, String),
    to: (String, String),
) -> Result<Diffed, AppError> {
    tokio::task::spawn_blocking(move || {
        let old: serde_json::Value = serde_json::from_str(&from.1)
            .map_err(|e| unexpected(e, format!("stored spec {}", from.0)))?;
        let new: serde_json::Value = serde_json::from_str(&to.1)
            .map_err(|e| unexpected(e, format!("stored spec {}", to.0)))?;
        let changelog = diff_documents(&old, &new);
        let major = |v: &str| parse_version(v).map(|v| v.major).ok();
        let guide = migration_guide(
            &api_name,
            &from.0,
            &to.0,
            &changelog,
            major(&from.0) != major(&to.0),
        );
        let json = serde_json::to_string(&changelog)
            .map_err(|e| unexpected(e, "encoding changelog".into()))?;
        Ok(Diffed {
            changelog,
            json,
            guide,
        })
    })
    .await
    .map_err(|e| unexpected(e, "changelog task".into()))?
}
