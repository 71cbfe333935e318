//! Start-up and shutdown: connect and migrate, bind, serve until SIGINT or SIGTERM.

use crate::config::Config;
use crate::db::{self, Db};
use crate::routes::{app, AppState};
use anyhow::Context;
use axum::Router;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// A bound, migrated origin that has not started serving yet.
pub struct Application {
    listener: TcpListener,
    local_addr: SocketAddr,
    router: Router,
    db: Db,
}

impl Application {
    /// Connects to and migrates the database, then binds the listen address.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let pool = db::connect(&config.database_url).await?;
        let ledger = crate::usage::ledger::Ledger::open(pool.clone())
            .await
            .context("opening the usage ledger's writer connection")?;
        let state = AppState {
            db: pool.clone(),
            ledger: ledger.clone(),
            admin_token: Arc::new(config.admin_token),
            edge_secret: Arc::new(config.edge_secret),
            master_keys: Arc::new(config.master_keys),
            payments: crate::payments::Payments::from_config(&config.payments)?,
        };
        crate::webhooks::delivery::spawn(state.clone());
        crate::usage::fold::spawn(ledger);
        let listener = TcpListener::bind(&config.addr)
            .await
            .with_context(|| format!("binding {} (TOLLGATE_ORIGIN_ADDR)", config.addr))?;
        let local_addr = listener.local_addr().context("reading the bound address")?;
        Ok(Application {
            listener,
            local_addr,
            router: app(state),
            db: pool,
        })
    }

    /// The bound port (useful when the address asked for port 0).
    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(addr = %self.local_addr, "origin serving");
        let served = axum::serve(
            self.listener,
            // The portal throttles log-ins per client address.
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP");
        // Closing the pool lets SQLite checkpoint its WAL before the process exits.
        self.db.close().await;
        tracing::info!("stopped");
        served
    }
}

/// A future completing on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed when
/// this is called, not when it is first awaited, so call it before announcing the
/// address: a signal sent right after the announcement then stops the server cleanly.
#[cfg(unix)]
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{signal, SignalKind};
    let listen = |kind: SignalKind, name: &'static str| {
        let handler = signal(kind)
            .inspect_err(|e| tracing::error!(error = %e, "cannot listen for {name}"))
            .ok();
        async move {
            match handler {
                Some(mut handler) => {
                    handler.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        }
    };
    let interrupt = listen(SignalKind::interrupt(), "SIGINT");
    let terminate = listen(SignalKind::terminate(), "SIGTERM");
    async move {
        tokio::select! {
            () = interrupt => {}
            () = terminate => {}
        }
        tracing::info!("shutting down");
    }
}

/// A future completing on Ctrl-C.
#[cfg(not(unix))]
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        tracing::info!("shutting down");
    }
}
