//! `strongroom serve`: the long-running process.
//!
//! One tokio runtime runs everything:
//!
//! ```text
//!   signals (SIGTERM/SIGINT) ──▶ Shutdown ──┬─▶ HTTPS API listener ─┐
//!                                           ├─▶ KMIP listener ──────┤ share one Kms
//!                                           └─▶ admin socket ───────┤
//!   lifecycle sweeper (date-driven state changes)                    │
//!   key rotator (automatic rotation of named keys, every minute)     │
//!   KMIP reloader (clients and CRL, every 30 s)                      │
//!   Kms (root unsealed, storage, audit queue) ◀──────────────────────┘
//! ```
//!
//! Start-up: data directory → admin socket (refuses if a server already
//! runs on this data directory) → TLS → root of trust and storage (`Kms`) →
//! KMIP PKI (CA, server certificate, CRL, client directory) → bind
//! listeners → (dev) default organization, project, KMIP admin client and
//! `bootstrap.json` →
//! serve → wait until `Kms::ready()` → log "ready". Shutdown: stop accepting,
//! drain in-flight requests (bounded), stop the sweeper, `Kms::close()`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use kms_core::service::Kms;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::bootstrap::{self, Bootstrap};
use crate::config::{Config, Mode};
use crate::http::{self, AppState};
use crate::install;
use crate::shutdown::{OsSignals, Shutdown};

/// How often date-driven lifecycle transitions are applied.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// How often keys with an automatic rotation period are checked.
pub const ROTATION_INTERVAL: Duration = Duration::from_secs(60);

/// What start-up prepared, before anything is served.
struct Prepared {
    tls: Arc<rustls::ServerConfig>,
    /// The CA certificate clients should trust (dev mode).
    ca_certificate: Option<PathBuf>,
}

/// Runs the server until SIGTERM/SIGINT. Returns once everything is closed.
pub async fn run(mut config: Config) -> anyhow::Result<()> {
    // Installed first: a signal during start-up must not kill the process
    // halfway through writing something.
    let signals = OsSignals::install().context("cannot install signal handlers")?;
    let dev = config.mode == Mode::Dev;

    install::prepare_data_dir(&mut config, dev)?;
    // Bound first: it also tells whether another server already runs here.
    let admin_listener = crate::admin::bind(&config.data_dir).await?;
    let prepared = prepare_tls(&config)?;

    let (kms, fresh) = if dev {
        bootstrap::open_or_init(&install::open_options(&config)).await?
    } else {
        (install::open_existing(&config).await?, false)
    };

    let result = serve(&config, &kms, fresh, prepared, admin_listener, signals).await;
    kms.close().await;
    match &result {
        Ok(()) => tracing::info!("stopped"),
        Err(e) => tracing::error!(error = format!("{e:#}"), "stopped after an error"),
    }
    result
}

fn prepare_tls(config: &Config) -> anyhow::Result<Prepared> {
    match config.mode {
        Mode::Dev => {
            let paths = bootstrap::ensure_dev_tls(&config.data_dir)?;
            Ok(Prepared {
                tls: crate::tls::https_server_config(&paths.server)?,
                ca_certificate: Some(paths.ca_certificate),
            })
        }
        Mode::Production => {
            let files = config.api.tls.as_ref().with_context(|| {
                format!(
                    "the HTTPS API needs a certificate: set [api] tls_cert and tls_key in {} (or STRONGROOM_API_TLS_CERT and STRONGROOM_API_TLS_KEY)",
                    config
                        .file
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| "the config file".into())
                )
            })?;
            if let Some(mode) = crate::fsutil::loose_mode(&files.key) {
                tracing::warn!(
                    "TLS key {} is accessible to other users (mode {mode:03o}); consider chmod 600",
                    files.key.display()
                );
            }
            Ok(Prepared {
                tls: crate::tls::https_server_config(files)?,
                ca_certificate: None,
            })
        }
    }
}

async fn serve(
    config: &Config,
    kms: &Kms,
    fresh: bool,
    prepared: Prepared,
    admin_listener: tokio::net::UnixListener,
    mut signals: OsSignals,
) -> anyhow::Result<()> {
    let api_listener = bind(config.api.listen, "HTTPS API").await?;
    let api_addr = api_listener.local_addr()?;
    let api_url = bootstrap::https_url(api_addr);
    let kmip = crate::kmip::start(kms, &config.kmip)
        .await
        .context("cannot start the KMIP front end")?;
    let kmip_admin = kmip.admin.clone();
    let kmip_listener = bind(config.kmip.listen, "KMIP listener").await?;
    let kmip_address = bootstrap::reachable(kmip_listener.local_addr()?).to_string();

    let bootstrap_path = if config.mode == Mode::Dev {
        let (organization_id, project_id) =
            bootstrap::default_tenancy(kms, &config.data_dir, fresh).await?;
        let previous = if fresh {
            None
        } else {
            Bootstrap::load(&config.data_dir)
        };
        let (identity_client_id, identity_client_secret) =
            bootstrap::ensure_admin_identity(kms, previous.as_ref(), organization_id).await?;
        let kmip_files =
            crate::kmip::dev::ensure_admin_client(&kmip_admin, &config.data_dir, project_id)
                .await
                .context("cannot prepare the dev KMIP admin client")?;
        let document = Bootstrap {
            api_url: api_url.clone(),
            kmip_address: kmip_address.clone(),
            ca_certificate: prepared
                .ca_certificate
                .clone()
                .context("dev mode has a CA certificate")?,
            kmip_ca_certificate: kmip_files.ca_certificate,
            kmip_client_certificate: kmip_files.certificate,
            kmip_client_key: kmip_files.key,
            organization_id,
            project_id,
            api_address: bootstrap::reachable(api_addr).to_string(),
            identity_client_id: Some(identity_client_id),
            identity_client_secret: Some(identity_client_secret),
        };
        Some(document.store(&config.data_dir)?)
    } else {
        None
    };

    let shutdown = Shutdown::new();
    let state = AppState::new(
        kms.clone(),
        shutdown.signal(),
        config.api.limits,
        Some(kmip_admin.clone()),
    )?;
    let pruner = state.rate.spawn_pruner();
    let purger = state.auth.spawn_purger();
    let mut listeners: JoinSet<(&'static str, anyhow::Result<()>)> = JoinSet::new();
    {
        let router = http::router(state.clone());
        let signal = shutdown.signal();
        let tls = prepared.tls.clone();
        listeners.spawn(async move {
            let limits = http::server::Limits::default();
            let result = http::server::serve(api_listener, tls, router, limits, signal).await;
            ("HTTPS API", result)
        });
    }
    {
        let kms = kms.clone();
        let signal = shutdown.signal();
        let path = crate::admin::socket_path(&config.data_dir);
        let admin = kmip_admin.clone();
        listeners.spawn(async move {
            let result = crate::admin::serve(admin_listener, path, kms, admin, signal).await;
            ("admin socket", result)
        });
    }
    {
        let stop = shutdown.signal().receiver();
        let crate::kmip::KmipRuntime {
            listener_config,
            handler,
            ..
        } = kmip;
        listeners.spawn(async move {
            let result =
                kmip_server::listener::serve(kmip_listener, listener_config, handler, stop)
                    .await
                    .map_err(anyhow::Error::from);
            ("KMIP", result)
        });
    }
    let reloader = kmip_admin.spawn_reloader();
    let sweeper = kms.spawn_lifecycle_sweeper(SWEEP_INTERVAL);
    let rotator = spawn_rotator(kms.clone(), ROTATION_INTERVAL);

    // Ready: the listener is serving; wait until the service is too.
    let outcome = tokio::select! {
        ready = wait_ready(kms) => ready,
        signal = signals.recv() => Err(Stop::Signal(signal)),
        Some(ended) = listeners.join_next() => Err(Stop::Listener(describe_end(ended))),
    };
    let stop = match outcome {
        Ok(()) => {
            tracing::info!(api = %api_url, "ready");
            print_summary(
                config,
                &api_url,
                &kmip_address,
                &prepared,
                bootstrap_path.as_ref(),
            );
            tokio::select! {
                signal = signals.recv() => Stop::Signal(signal),
                Some(ended) = listeners.join_next() => Stop::Listener(describe_end(ended)),
            }
        }
        Err(stop) => stop,
    };

    let mut failure = None;
    match stop {
        Stop::Signal(name) => tracing::info!(signal = name, "shutting down"),
        Stop::Listener(error) => {
            tracing::error!(error = %error, "a listener stopped; shutting down");
            failure = Some(error);
        }
    }
    shutdown.trigger();

    // A second signal during the drain means "now".
    let mut impatient = tokio::spawn(async move {
        let name = signals.recv().await;
        tracing::warn!(signal = name, "second signal: exiting without draining");
        std::process::exit(1);
    });
    while let Some(ended) = listeners.join_next().await {
        match ended {
            Ok((_, Ok(()))) => {}
            other => {
                let error = describe_end(other);
                tracing::error!(error = %error, "listener failed while stopping");
                failure.get_or_insert(error);
            }
        }
    }
    impatient.abort();
    let _ = (&mut impatient).await;
    sweeper.abort();
    let _ = sweeper.await;
    rotator.abort();
    let _ = rotator.await;
    reloader.abort();
    let _ = reloader.await;
    pruner.abort();
    let _ = pruner.await;
    purger.abort();
    let _ = purger.await;

    match failure {
        None => Ok(()),
        Some(error) => Err(anyhow::anyhow!(error)),
    }
}

enum Stop {
    Signal(&'static str),
    Listener(String),
}

fn describe_end(
    ended: Result<(&'static str, anyhow::Result<()>), tokio::task::JoinError>,
) -> String {
    match ended {
        Ok((name, Ok(()))) => format!("the {name} listener stopped unexpectedly"),
        Ok((name, Err(e))) => format!("the {name} listener failed: {e:#}"),
        Err(e) => format!("a listener task panicked: {e}"),
    }
}

async fn bind(addr: SocketAddr, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} for the {what}"))
}

/// Waits until `Kms::ready()` passes, retrying while storage is unreachable.
async fn wait_ready(kms: &Kms) -> Result<(), Stop> {
    let mut delay = Duration::from_millis(100);
    loop {
        match kms.ready().await {
            Ok(()) => return Ok(()),
            Err(e) => {
                tracing::warn!(error = %e, "not ready yet; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

fn print_summary(
    config: &Config,
    api_url: &str,
    kmip_address: &str,
    prepared: &Prepared,
    bootstrap: Option<&PathBuf>,
) {
    let mut out = String::new();
    let title = match config.mode {
        Mode::Dev => "Strongroom development server (not for production)",
        Mode::Production => "Strongroom",
    };
    out.push_str(title);
    out.push('\n');
    let mut line = |label: &str, value: &str| {
        out.push_str(&format!("  {label:<16}{value}\n"));
    };
    line("data directory", &config.data_dir.display().to_string());
    line(
        "database",
        &crate::config::redact_url(&config.database_url()),
    );
    line("HTTPS API", api_url);
    line("KMIP", kmip_address);
    if let Some(ca) = &prepared.ca_certificate {
        line("CA certificate", &ca.display().to_string());
    }
    if let Some(path) = bootstrap {
        line("bootstrap", &path.display().to_string());
    }
    out.push_str("ready\n");
    print!("{out}");
    use std::io::Write;
    let _ = std::io::stdout().flush();
}

/// Rotates, every `interval`, the named keys whose automatic rotation
/// period has passed (`Transit::rotate_due`, safe on several nodes at once:
/// a key another node rotated meanwhile is found no longer due).
fn spawn_rotator(kms: Kms, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match kms
                .transit()
                .rotate_due(time::OffsetDateTime::now_utc())
                .await
            {
                Ok(sweep) => {
                    if !sweep.rotated.is_empty() || !sweep.failed.is_empty() {
                        tracing::info!(
                            rotated = sweep.rotated.len(),
                            failed = sweep.failed.len(),
                            "automatic key rotation"
                        );
                    }
                }
                Err(e) => tracing::error!(error = %e, "automatic key rotation could not run"),
            }
        }
    })
}
