//! What the origin holds now, read through the admin API in the shape the plan compares
//! against: APIs with their settings and versions, plans, limits and keys per API.

use super::client::{CallError, Client};
use serde_json::Value;
use std::collections::HashMap;

/// One API as stored, with the settings that live on their own endpoints.
#[derive(Debug)]
pub struct CurrentApi {
    pub id: String,
    pub api: Value,
    pub upstream_header: Option<String>,
    pub shedding: Option<Value>,
    pub versions: Vec<Value>,
    /// Keys issued for it, revoked ones included.
    pub keys: usize,
}

/// Everything the caller can see.
#[derive(Debug)]
pub struct Current {
    pub apis: Vec<CurrentApi>,
    pub plans: Vec<Value>,
    pub limits: Vec<Value>,
}

fn list(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        _ => Vec::new(),
    }
}

/// Reads the current state.
pub async fn fetch(client: &Client) -> Result<Current, CallError> {
    let mut keys: HashMap<String, usize> = HashMap::new();
    for key in list(client.get("/admin/v1/keys").await?) {
        if let Some(api) = key["api_id"].as_str() {
            *keys.entry(api.to_owned()).or_default() += 1;
        }
    }
    let mut apis = Vec::new();
    for api in list(client.get("/admin/v1/apis").await?) {
        let id = api["id"].as_str().unwrap_or_default().to_owned();
        let base = format!("/admin/v1/apis/{id}");
        let upstream = client.get(&format!("{base}/upstream-auth")).await?;
        let shedding = client.get_optional(&format!("{base}/shedding")).await?;
        let versions = list(client.get(&format!("{base}/versions")).await?);
        apis.push(CurrentApi {
            keys: keys.get(&id).copied().unwrap_or(0),
            upstream_header: upstream["header"].as_str().map(str::to_owned),
            id,
            api,
            shedding,
            versions,
        });
    }
    Ok(Current {
        apis,
        plans: list(client.get("/admin/v1/plans").await?),
        limits: list(client.get("/admin/v1/limits").await?),
    })
}

impl Current {
    /// The base path of an API id, for limits.
    pub fn base_path_of(&self, api_id: &str) -> Option<&str> {
        self.apis
            .iter()
            .find(|a| a.id == api_id)
            .and_then(|a| a.api["base_path"].as_str())
    }
}
