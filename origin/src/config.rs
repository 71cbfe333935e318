//! Start-up configuration from the environment (names and defaults in CONTRACT.md).

use crate::payments::PaymentsConfig;
use crate::secrets::{load_or_generate, AdminToken, EdgeSecret, SecretSource};
use crate::vault::MasterKeyring;
use std::path::{Path, PathBuf};

/// Default listen address.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
/// Default directory for local state.
pub const DEFAULT_DATA_DIR: &str = ".tollgate";

/// Everything the origin needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address, e.g. `127.0.0.1:8080` (port 0 picks a free one).
    pub addr: String,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Local state: the SQLite database and generated secrets.
    pub data_dir: PathBuf,
    pub admin_token: AdminToken,
    pub edge_secret: EdgeSecret,
    /// Seals secrets at rest (see `vault`).
    pub master_keys: MasterKeyring,
    /// The payment provider (Stripe) settings; none configured by default.
    pub payments: PaymentsConfig,
}

impl Config {
    /// Reads the process environment, generating secrets where none exist yet and
    /// telling the operator (on stdout) what was generated.
    pub fn from_env() -> anyhow::Result<Config> {
        let (config, generated) = Config::from_lookup(|name| std::env::var(name).ok())?;
        for secret in generated {
            match secret {
                Generated::AdminToken(path) => println!(
                    "generated an admin token (kept in {}; shown only now): {}",
                    path.display(),
                    config.admin_token.expose()
                ),
                Generated::EdgeSecret(path) => {
                    println!("generated an edge secret (kept in {})", path.display())
                }
            }
        }
        Ok(config)
    }

    /// The database URL from the environment, without touching any secret (for CLI tools).
    pub fn database_url_from_env() -> String {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let data_dir =
            PathBuf::from(var("TOLLGATE_DATA_DIR").unwrap_or_else(|| DEFAULT_DATA_DIR.into()));
        var("TOLLGATE_DATABASE_URL").unwrap_or_else(|| default_database_url(&data_dir))
    }

    /// Builds the config from any variable lookup; also returns the secrets it generated.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<(Config, Vec<Generated>)> {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let data_dir =
            PathBuf::from(var("TOLLGATE_DATA_DIR").unwrap_or_else(|| DEFAULT_DATA_DIR.into()));
        let addr = var("TOLLGATE_ORIGIN_ADDR").unwrap_or_else(|| DEFAULT_ADDR.into());
        let database_url =
            var("TOLLGATE_DATABASE_URL").unwrap_or_else(|| default_database_url(&data_dir));
        let mut generated = Vec::new();
        let token_file = data_dir.join("admin-token");
        let (admin_token, source) = load_or_generate(var("TOLLGATE_ADMIN_TOKEN"), &token_file)?;
        if source == SecretSource::Generated {
            generated.push(Generated::AdminToken(token_file));
        }
        let secret_file = data_dir.join("edge-secret");
        let (edge_secret, source) = load_or_generate(var("TOLLGATE_EDGE_SECRET"), &secret_file)?;
        if source == SecretSource::Generated {
            generated.push(Generated::EdgeSecret(secret_file));
        }
        let master_keys = MasterKeyring::load(var, &data_dir)?;
        let payments = PaymentsConfig::from_lookup(var)?;
        let config = Config {
            addr,
            database_url,
            data_dir,
            admin_token: AdminToken::new(admin_token),
            edge_secret: EdgeSecret::new(edge_secret),
            master_keys,
            payments,
        };
        Ok((config, generated))
    }
}

/// A secret created during start-up, with the file it was saved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Generated {
    AdminToken(PathBuf),
    EdgeSecret(PathBuf),
}

/// `sqlite://<data_dir>/tollgate.db`.
pub fn default_database_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("tollgate.db").display())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn defaults_follow_the_contract_and_secrets_are_generated_once() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("state").display().to_string();
        let env: HashMap<&str, String> = [("TOLLGATE_DATA_DIR", data_dir.clone())].into();
        let lookup = |k: &str| env.get(k).cloned();
        let (config, generated) = Config::from_lookup(lookup).unwrap();
        assert_eq!(config.addr, "127.0.0.1:8080");
        assert_eq!(
            config.database_url,
            format!("sqlite://{data_dir}/tollgate.db")
        );
        assert_eq!(generated.len(), 2);
        let (again, generated) = Config::from_lookup(lookup).unwrap();
        assert!(generated.is_empty());
        assert!(again.admin_token.matches(config.admin_token.expose()));
        assert_eq!(again.edge_secret.as_bytes(), config.edge_secret.as_bytes());
    }

    #[test]
    fn environment_values_win() {
        let dir = tempfile::tempdir().unwrap();
        let env: HashMap<&str, String> = [
            ("TOLLGATE_DATA_DIR", dir.path().display().to_string()),
            ("TOLLGATE_ORIGIN_ADDR", "0.0.0.0:9000".into()),
            ("TOLLGATE_DATABASE_URL", "postgres://db/x".into()),
            ("TOLLGATE_ADMIN_TOKEN", "admin-from-env".into()),
            ("TOLLGATE_EDGE_SECRET", "edge-from-env".into()),
        ]
        .into();
        let (config, generated) = Config::from_lookup(|k| env.get(k).cloned()).unwrap();
        assert!(generated.is_empty());
        assert_eq!(config.addr, "0.0.0.0:9000");
        assert_eq!(config.database_url, "postgres://db/x");
        assert!(config.admin_token.matches("admin-from-env"));
        assert_eq!(config.edge_secret.as_bytes(), b"edge-from-env");
        assert!(!dir.path().join("admin-token").exists());
    }
}
