//! The command line: `tollgate serve` (the default), `tollgate demo-upstream`,
//! `tollgate audit verify` and the declarative config commands `diff`, `apply`, `export`.

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
    /// Work with the OAuth2 server.
    Oauth {
        #[command(subcommand)]
        command: OauthCommand,
    },
    /// Work with operator accounts of the console (`/console`).
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// Read the mail outbox (verification and password-reset mails).
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// Work with the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Show what `apply` would change so the origin matches FILE (docs/CONFIG.md).
    /// Exits 0 when nothing would change, 2 when something would, 1 on errors.
    Diff {
        /// The YAML config file.
        file: std::path::PathBuf,
        /// Also list what is not in the file as to be deleted.
        #[arg(long)]
        prune: bool,
        #[command(flatten)]
        remote: Remote,
    },
    /// Make the origin match FILE: create and update what differs, and with --prune
    /// delete what the file does not list.
    Apply {
        /// The YAML config file.
        file: std::path::PathBuf,
        /// Delete APIs, plans and limits that are not in the file.
        #[arg(long)]
        prune: bool,
        #[command(flatten)]
        remote: Remote,
    },
    /// Write the origin's APIs, versions, plans and limits as a config file (stdout, or
    /// --out FILE); OpenAPI documents go to `specs/` beside it.
    Export {
        /// Write here instead of stdout.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        #[command(flatten)]
        remote: Remote,
    },
}

/// Which origin the config commands talk to, and as whom.
#[derive(Debug, clap::Args)]
pub struct Remote {
    /// Origin URL; default TOLLGATE_ORIGIN_URL, else http://$TOLLGATE_ORIGIN_ADDR.
    /// The token comes from TOLLGATE_ADMIN_TOKEN or $TOLLGATE_DATA_DIR/admin-token.
    #[arg(long)]
    pub origin: Option<String>,
    /// Act in this organisation (sent as X-Tollgate-Org).
    #[arg(long)]
    pub org: Option<String>,
}

/// `tollgate secrets …`
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Re-seal every stored secret under the primary master key. Set the new key in
    /// TOLLGATE_MASTER_KEY and the old one in TOLLGATE_MASTER_KEY_PREVIOUS first.
    Rotate,
}

/// `tollgate oauth …`
#[derive(Debug, Subcommand)]
pub enum OauthCommand {
    /// Make a new signing key active; the previous ones stay published in the JWKS for
    /// the longest token lifetime plus a margin, then drop out.
    RotateKeys,
}

/// `tollgate operator …`
#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Create a console operator (or give an existing user a password and a role): a
    /// platform operator, or with --org a member of that organisation with --role. The
    /// password comes from TOLLGATE_OPERATOR_PASSWORD, else the first line of stdin.
    Create {
        #[arg(long)]
        email: String,
        /// Shown in the console; defaults to the part of the email before `@`.
        #[arg(long)]
        name: Option<String>,
        /// The organisation the operator acts for (default: the whole platform).
        #[arg(long)]
        org: Option<String>,
        /// Their role there: owner, admin, developer, billing or viewer.
        #[arg(long, default_value = "admin", requires = "org")]
        role: String,
    },
}

/// `tollgate mail …`
#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Print the newest mails in the outbox of TOLLGATE_DATABASE_URL (the development
    /// mailbox; with SMTP configured it also shows each mail's delivery status).
    Outbox {
        /// Only mails to this address.
        #[arg(long)]
        to: Option<String>,
        /// How many mails (1–500).
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(i64).range(1..=500))]
        limit: i64,
    },
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
        assert!(matches!(
            Cli::parse_from(["tollgate", "oauth", "rotate-keys"]).command,
            Some(Command::Oauth {
                command: OauthCommand::RotateKeys
            })
        ));
        match Cli::parse_from(["tollgate", "operator", "create", "--email", "a@b.co"]).command {
            Some(Command::Operator {
                command: OperatorCommand::Create { email, org, .. },
            }) => {
                assert_eq!(email, "a@b.co");
                assert!(org.is_none());
            }
            other => panic!("unexpected {other:?}"),
        }
        match Cli::parse_from(["tollgate", "apply", "t.yaml", "--prune", "--org", "org_1"]).command
        {
            Some(Command::Apply {
                file,
                prune,
                remote,
            }) => {
                assert_eq!(file.to_str(), Some("t.yaml"));
                assert!(prune);
                assert_eq!(remote.org.as_deref(), Some("org_1"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
