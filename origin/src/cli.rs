//! The command line: `tollgate serve` (the default), `tollgate demo-upstream` and
//! `tollgate audit verify`.

use clap::{Parser, Subcommand};

/// tollgate: an edge-first API gateway. This binary is the origin (control plane).
#[derive(Debug, Parser)]
#[command(name = "tollgate", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to run.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the origin: admin API, edge-facing API, health and OpenAPI document.
    /// Configured by TOLLGATE_ORIGIN_ADDR, TOLLGATE_DATABASE_URL, TOLLGATE_DATA_DIR,
    /// TOLLGATE_ADMIN_TOKEN and TOLLGATE_EDGE_SECRET.
    Serve,
    /// Run a small echo server to stand in for an upstream API in the tour and tests.
    DemoUpstream {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:9090")]
        addr: String,
    },
    /// Work with secrets at rest.
    Secrets {
        #[command(subcommand)]
        command: SecretsCommand,
    },
    /// Work with the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

/// `tollgate secrets …`
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Re-seal every stored secret under the primary master key. Set the new key in
    /// TOLLGATE_MASTER_KEY and the old one in TOLLGATE_MASTER_KEY_PREVIOUS first.
    Rotate,
}

/// `tollgate audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole hash chain of the audit log in TOLLGATE_DATABASE_URL; exits 1 and
    /// names the first edited, missing or reordered entry if it is broken.
    Verify,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_is_the_default_and_demo_upstream_takes_an_address() {
        assert!(Cli::parse_from(["tollgate"]).command.is_none());
        assert!(matches!(
            Cli::parse_from(["tollgate", "serve"]).command,
            Some(Command::Serve)
        ));
        match Cli::parse_from(["tollgate", "demo-upstream", "--addr", "127.0.0.1:1"]).command {
            Some(Command::DemoUpstream { addr }) => assert_eq!(addr, "127.0.0.1:1"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
