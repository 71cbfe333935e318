//! The admin API as the config commands call it: over HTTP, with the operator's token,
//! so role checks, validation, audit and config-version bumps all apply as for any
//! other client. A problem answer becomes its `detail`.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::path::PathBuf;

/// Where the origin is and who is calling.
#[derive(Debug, Clone)]
pub struct Target {
    pub origin: String,
    pub token: String,
    pub org: Option<String>,
}

impl Target {
    /// `--origin`, else `TOLLGATE_ORIGIN_URL`, else `http://$TOLLGATE_ORIGIN_ADDR`; the token
    /// from `TOLLGATE_ADMIN_TOKEN` or `$TOLLGATE_DATA_DIR/admin-token`.
    pub fn from_env(origin: Option<String>, org: Option<String>) -> Result<Target, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let origin = origin
            .or_else(|| var("TOLLGATE_ORIGIN_URL"))
            .unwrap_or_else(|| {
                let addr = var("TOLLGATE_ORIGIN_ADDR").unwrap_or_else(|| "127.0.0.1:8080".into());
                format!("http://{addr}")
            });
        let token = match var("TOLLGATE_ADMIN_TOKEN") {
            Some(token) => token,
            None => {
                let dir = var("TOLLGATE_DATA_DIR")
                    .unwrap_or_else(|| crate::config::DEFAULT_DATA_DIR.into());
                let file = PathBuf::from(dir).join("admin-token");
                std::fs::read_to_string(&file)
                    .map_err(|e| {
                        format!(
                            "no TOLLGATE_ADMIN_TOKEN and cannot read {}: {e}",
                            file.display()
                        )
                    })?
                    .trim()
                    .to_owned()
            }
        };
        Ok(Target {
            origin: origin.trim_end_matches('/').to_owned(),
            token,
            org,
        })
    }
}

/// An admin API client.
#[derive(Debug, Clone)]
pub struct Client {
    target: Target,
    http: reqwest::Client,
}

/// What went wrong talking to the origin.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("{method} {path}: the origin answered {status}: {detail}")]
    Problem {
        method: Method,
        path: String,
        status: StatusCode,
        detail: String,
    },
    #[error("{method} {path}: {reason}")]
    Transport {
        method: Method,
        path: String,
        reason: String,
    },
}

impl CallError {
    /// The HTTP status, when the origin answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            CallError::Problem { status, .. } => Some(*status),
            CallError::Transport { .. } => None,
        }
    }
}

impl Client {
    pub fn new(target: Target) -> Client {
        Client {
            target,
            http: reqwest::Client::new(),
        }
    }

    /// Sends one request; `Ok(Value::Null)` for an empty success body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, CallError> {
        let url = format!("{}{path}", self.target.origin);
        let mut request = self
            .http
            .request(method.clone(), &url)
            .bearer_auth(&self.target.token);
        if let Some(org) = &self.target.org {
            request = request.header("X-Tollgate-Org", org);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let transport = |reason: String| CallError::Transport {
            method: method.clone(),
            path: path.to_owned(),
            reason,
        };
        let response = request.send().await.map_err(|e| {
            transport(format!(
                "cannot reach the origin at {}: {e}",
                self.target.origin
            ))
        })?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| transport(e.to_string()))?;
        let value: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if status.is_success() {
            return Ok(value);
        }
        let detail = value["detail"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| value.to_string());
        Err(CallError::Problem {
            method,
            path: path.to_owned(),
            status,
            detail,
        })
    }

    pub async fn get(&self, path: &str) -> Result<Value, CallError> {
        self.call(Method::GET, path, None).await
    }

    /// A GET where 404 means "none".
    pub async fn get_optional(&self, path: &str) -> Result<Option<Value>, CallError> {
        match self.get(path).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.status() == Some(StatusCode::NOT_FOUND) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
