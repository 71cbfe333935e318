//! The `tollgate` binary: parses the command line and hands over to the library.

use clap::Parser;
use std::io::IsTerminal;
use tollgate_origin::audit::{verify_chain, VerifyReport};
use tollgate_origin::cli::{
    AuditCommand, Cli, Command, MailCommand, OauthCommand, OperatorCommand, Remote, SecretsCommand,
};
use tollgate_origin::gitops;

use tollgate_origin::{demo_upstream, shutdown_signal, Application, Config};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let command = Cli::parse().command.unwrap_or(Command::Serve);
    let shutdown = shutdown_signal();
    match command {
        Command::Serve => {
            let config = Config::from_env()?;
            let app = Application::build(config).await?;
            println!("tollgate origin listening on http://{}", app.local_addr());
            app.run_until_stopped(shutdown).await
        }
        Command::DemoUpstream { addr } => demo_upstream::run(&addr, shutdown).await,
        Command::Audit {
            command: AuditCommand::Verify,
        } => audit_verify().await,
        Command::Operator {
            command:
                OperatorCommand::Create {
                    email,
                    name,
                    org,
                    role,
                },
        } => operator_create(email, name, org, role).await,
        Command::Mail {
            command: MailCommand::Outbox { to, limit },
        } => mail_outbox(to, limit).await,
        Command::Secrets {
            command: SecretsCommand::Rotate,
        } => secrets_rotate().await,
        Command::Oauth {
            command: OauthCommand::RotateKeys,
        } => oauth_rotate_keys().await,
        Command::Diff {
            file,
            prune,
            remote,
        } => {
            let target = target(remote);
            exit_with(gitops::apply::run_diff(target, &file, prune).await)
        }
        Command::Apply {
            file,
            prune,
            remote,
        } => {
            let target = target(remote);
            exit_with(gitops::apply::run_apply(target, &file, prune).await)
        }
        Command::Export { out, remote } => {
            let target = target(remote);
            exit_with(gitops::export::run_export(target, out.as_deref()).await)
        }
    }
}

/// The origin and token the config commands use; exits 1 when there is no token.
fn target(remote: Remote) -> gitops::client::Target {
    gitops::client::Target::from_env(remote.origin, remote.org).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(1)
    })
}

/// Exits with the command's code, or 1 after printing its error.
fn exit_with<E: std::fmt::Display>(result: Result<i32, E>) -> ! {
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1)
        }
    }
}

/// `tollgate secrets rotate`: re-seals secrets under the primary master key.
async fn secrets_rotate() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let db = tollgate_origin::db::connect(&config.database_url).await?;
    let report = tollgate_origin::vault::rotate_secrets(&db, &config.master_keys).await?;
    println!(
        "re-sealed {} secrets under master key {} ({} already were); the previous key can now be retired",
        report.resealed,
        config.master_keys.primary().id(),
        report.already_current
    );
    Ok(())
}

/// `tollgate operator create`: the first console operator (or another one).
async fn operator_create(
    email: String,
    name: Option<String>,
    org: Option<String>,
    role: String,
) -> anyhow::Result<()> {
    use tollgate_origin::console::{create_operator, Grant};
    let grant = match org {
        None => Grant::Platform,
        Some(org_id) => Grant::Org {
            org_id,
            role: tollgate_core::rbac::Role::parse(&role).ok_or_else(|| {
                anyhow::anyhow!("--role must be owner, admin, developer, billing or viewer")
            })?,
        },
    };
    let password = match std::env::var("TOLLGATE_OPERATOR_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let name = name.unwrap_or_else(|| email.split('@').next().unwrap_or("operator").to_owned());
    let db = tollgate_origin::db::connect(&Config::database_url_from_env()).await?;
    let user_id = create_operator(&db, &email, &name, &password, grant)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("operator {user_id} ({email}) can log in at /console/login");
    Ok(())
}

/// `tollgate oauth rotate-keys`: a new signing key becomes active.
async fn oauth_rotate_keys() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let db = tollgate_origin::db::connect(&config.database_url).await?;
    let actor = tollgate_origin::tenancy::Actor {
        who: "cli".into(),
        tenant: tollgate_origin::tenancy::Tenant::Platform,
    };
    let rotation = tollgate_origin::oauth::key_admin::rotate_keys(&db, &config.master_keys, &actor)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "signing key {} is active; {} previous key(s) stay published for {} s",
        rotation.kid,
        rotation.retired.len(),
        rotation.overlap_secs
    );
    Ok(())
}

/// `tollgate mail outbox`: the newest mails, each with its status and text.
async fn mail_outbox(to: Option<String>, limit: i64) -> anyhow::Result<()> {
    let db = tollgate_origin::db::connect(&Config::database_url_from_env()).await?;
    let mails = tollgate_origin::mail::outbox::list(&db, to.as_deref(), limit).await?;
    if mails.is_empty() {
        println!("the outbox is empty");
    }
    for mail in mails {
        println!("── {} · {} · {}", mail.created_at, mail.status, mail.id);
        println!("To: {}\nSubject: {}", mail.to, mail.subject);
        if let Some(error) = mail.error {
            println!("SMTP error: {error}");
        }
        match mail.body {
            Some(body) => println!("\n{body}\n"),
            None => println!("\n(delivered by SMTP; the text is not kept)\n"),
        }
    }
    Ok(())
}

/// `tollgate audit verify`: progress on stderr, verdict on stdout, exit 1 when broken.
async fn audit_verify() -> anyhow::Result<()> {
    let db = tollgate_origin::db::connect(&Config::database_url_from_env()).await?;
    let report = verify_chain(&db, |n| eprint!("\rverified {n} entries…")).await?;
    eprintln!();
    match report {
        VerifyReport::Intact { entries } => {
            println!("audit log intact: {entries} entries, every hash chains to the head");
            Ok(())
        }
        VerifyReport::Broken { verified, reason } => {
            println!("audit log BROKEN after {verified} good entries: {reason}");
            std::process::exit(1);
        }
    }
}
