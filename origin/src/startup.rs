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
        let state = AppState {
            db: pool.clone(),
            admin_token: Arc::new(config.admin_token),
            edge_secret: Arc::new(config.edge_secret),
        };
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
        let served = axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving HTTP");
        // Closing the pool lets SQLite checkpoint its WAL before the process exits.
        self.db.close().await;
        tracing::info!("stopped");
        served
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
