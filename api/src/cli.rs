//! The `strongroom` command line.
//!
//! ```text
//! strongroom serve --config FILE [--data-dir DIR] [--api-listen ADDR] [--kmip-listen ADDR]
//! strongroom serve --dev [--data-dir DIR] [--api-listen ADDR] [--kmip-listen ADDR]
//! strongroom init --config FILE [--data-dir DIR]
//! strongroom audit verify [--config FILE | --dev] [--data-dir DIR]
//! strongroom root rotate [--config FILE | --dev] [--data-dir DIR]
//! strongroom root migrate --to FILE [--config FILE | --dev] [--data-dir DIR]
//! strongroom kmip client create --project P --name N --operations create,get,…|all [INSTALL]
//! strongroom kmip client cert --name N --out DIR [--csr FILE] [--ttl 90d] [INSTALL]
//! strongroom kmip client revoke --name N [INSTALL]
//! strongroom kmip client list [INSTALL]
//! strongroom login [--save] [CONNECTION]
//! strongroom whoami [CONNECTION]
//! strongroom key create|list|get|rotate|delete … [CONNECTION]
//! strongroom encrypt|decrypt|sign|verify --key KEY_ID … [CONNECTION]
//! ```
//!
//! (`CONNECTION` is `--url`, `--ca-cert`, `--client-id`,
//! `--client-secret-file`, `--token-file`, `--json`, or their
//! `STRONGROOM_*` variables: see [`crate::client`]. These commands talk
//! to a server over HTTPS and need no install.)
//!
//! (`INSTALL` is `--config FILE` or `--dev`, and `--data-dir DIR`.)
//!
//! `root rotate`, `root migrate` and `kmip client …` go to the running server through its
//! admin socket when it is running (it keeps serving), and open the install
//! themselves when it is not.
//!
//! Exit status: 0 on success; 1 with a one-line `error: …` on standard error
//! for any failure (including a broken audit chain); 2 for a usage error.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::config::{self, Env, Mode, Overrides};

/// Strongroom: a self-hosted, hardware-backed key management service.
#[derive(Debug, Parser)]
#[command(name = "strongroom", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (HTTPS API and KMIP).
    Serve(ServeArgs),
    /// Initialise a new install: create and seal its root key.
    Init(InitArgs),
    /// Work with the tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Rotate the root key, or move it to another root of trust.
    Root {
        #[command(subcommand)]
        command: RootCommand,
    },
    /// Administer the KMIP listener.
    Kmip {
        #[command(subcommand)]
        command: KmipCommand,
    },
    #[command(flatten)]
    Client(crate::client::ClientCommand),
}

#[derive(Debug, Subcommand)]
pub enum KmipCommand {
    /// KMIP clients: who may connect, in which project, for what.
    Client {
        #[command(subcommand)]
        command: KmipClientCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum KmipClientCommand {
    /// Create a client in a project with a set of permitted operations.
    Create(KmipCreateArgs),
    /// Issue a client certificate: writes client.pem, ca.pem and (unless
    /// --csr) client.key into --out.
    Cert(KmipCertArgs),
    /// Disable a client and revoke all its certificates.
    Revoke(KmipNameArgs),
    /// List the clients.
    List(InstallArgs),
}

#[derive(Debug, Args)]
pub struct KmipCreateArgs {
    #[command(flatten)]
    pub install: InstallArgs,
    /// Project id the client acts in.
    #[arg(long, value_name = "PROJECT")]
    pub project: kms_core::ids::ProjectId,
    /// Client name (the certificate's common name).
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// Comma-separated KMIP operations (create,get,locate,…) or `all`.
    #[arg(long, value_name = "LIST")]
    pub operations: String,
}

#[derive(Debug, Args)]
pub struct KmipCertArgs {
    #[command(flatten)]
    pub install: InstallArgs,
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// Directory for client.pem, client.key and ca.pem.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Certify the key of this PKCS#10 request (PEM or DER) instead of
    /// generating one; no client.key is written.
    #[arg(long, value_name = "FILE")]
    pub csr: Option<PathBuf>,
    /// Lifetime: 90d, 12h, 30m, …
    #[arg(long, value_name = "DURATION", default_value = crate::kmip::commands::DEFAULT_TTL,
          value_parser = config::parse_duration)]
    pub ttl: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct KmipNameArgs {
    #[command(flatten)]
    pub install: InstallArgs,
    #[arg(long, value_name = "NAME")]
    pub name: String,
}

#[derive(Debug, Subcommand)]
pub enum RootCommand {
    /// A new root key term: project keys are re-wrapped under it and the old
    /// term retired. Finishes an interrupted rotation instead, if there is one.
    Rotate(InstallArgs),
    /// Re-seal the root key under the root of trust of another configuration
    /// file (only its [root] section is used).
    Migrate(MigrateArgs),
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub install: InstallArgs,
    /// Configuration file whose [root] section names the new root of trust.
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole audit chain; names the first bad record.
    Verify(InstallArgs),
}

/// Which install: a config file, or dev mode.
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Configuration file (TOML). See strongroom.example.toml.
    #[arg(long, short = 'c', value_name = "FILE", conflicts_with = "dev")]
    pub config: Option<PathBuf>,
    /// Development mode: everything generated in the data directory
    /// (./strongroom-data unless --data-dir). Not for production.
    #[arg(long)]
    pub dev: bool,
    /// Data directory (overrides data_dir and STRONGROOM_DATA_DIR).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub install: InstallArgs,
    /// Address of the HTTPS API, IP:PORT (port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    pub api_listen: Option<SocketAddr>,
    /// Address of the KMIP listener, IP:PORT.
    #[arg(long, value_name = "ADDR")]
    pub kmip_listen: Option<SocketAddr>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Configuration file (TOML). See strongroom.example.toml.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory (overrides data_dir and STRONGROOM_DATA_DIR).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// Parses the command line, runs the command, and turns the outcome into an
/// exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the context chain joined by ": ".
            let message = format!("{e:#}").replace('\n', " ");
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let command = match cli.command {
        // Clients of a server: no install, no configuration, no server logs.
        Command::Client(c) => return crate::client::run(c),
        other => other,
    };
    let env = Env::from_process();
    let (config, command) = match command {
        Command::Serve(args) => {
            let overrides = Overrides {
                data_dir: args.install.data_dir.clone(),
                api_listen: args.api_listen,
                kmip_listen: args.kmip_listen,
            };
            (load(&args.install, &env, overrides)?, Job::Serve)
        }
        Command::Init(args) => {
            let overrides = Overrides {
                data_dir: args.data_dir,
                ..Overrides::default()
            };
            let config = config::load(args.config.as_deref(), Mode::Production, &env, &overrides)?;
            (config, Job::Init)
        }
        Command::Audit {
            command: AuditCommand::Verify(args),
        } => {
            let overrides = Overrides {
                data_dir: args.data_dir.clone(),
                ..Overrides::default()
            };
            (load(&args, &env, overrides)?, Job::AuditVerify)
        }
        Command::Root {
            command: RootCommand::Rotate(args),
        } => {
            let overrides = Overrides {
                data_dir: args.data_dir.clone(),
                ..Overrides::default()
            };
            (load(&args, &env, overrides)?, Job::RootRotate)
        }
        Command::Root {
            command: RootCommand::Migrate(args),
        } => {
            let overrides = Overrides {
                data_dir: args.install.data_dir.clone(),
                ..Overrides::default()
            };
            (
                load(&args.install, &env, overrides)?,
                Job::RootMigrate(args.to),
            )
        }
        Command::Kmip {
            command: KmipCommand::Client { command },
        } => {
            let (install, job) = kmip_job(command);
            let overrides = Overrides {
                data_dir: install.data_dir.clone(),
                ..Overrides::default()
            };
            (load(&install, &env, overrides)?, Job::Kmip(job))
        }
        Command::Client(_) => unreachable!("handled above"),
    };

    crate::logging::init(&config.log);
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("strongroom")
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(async move {
        match command {
            Job::Serve => crate::serve::run(config).await,
            Job::Init => crate::commands::init(config).await,
            Job::AuditVerify => crate::commands::audit_verify(config).await,
            Job::RootRotate => crate::root_commands::rotate(config).await,
            Job::RootMigrate(to) => crate::root_commands::migrate(config, &to).await,
            Job::Kmip(job) => crate::kmip::commands::run(config, job).await,
        }
    });
    // Connections that outlived the drain are dropped here.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result
}

enum Job {
    Serve,
    Init,
    AuditVerify,
    RootRotate,
    RootMigrate(PathBuf),
    Kmip(crate::kmip::commands::KmipCommand),
}

fn kmip_job(command: KmipClientCommand) -> (InstallArgs, crate::kmip::commands::KmipCommand) {
    use crate::kmip::commands::KmipCommand as K;
    match command {
        KmipClientCommand::Create(a) => (
            a.install,
            K::Create {
                name: a.name,
                project: a.project,
                operations: a.operations,
            },
        ),
        KmipClientCommand::Cert(a) => (
            a.install,
            K::Cert {
                name: a.name,
                out: a.out,
                csr: a.csr,
                ttl: a.ttl,
            },
        ),
        KmipClientCommand::Revoke(a) => (a.install, K::Revoke { name: a.name }),
        KmipClientCommand::List(install) => (install, K::List),
    }
}

fn load(args: &InstallArgs, env: &Env, overrides: Overrides) -> anyhow::Result<config::Config> {
    let mode = if args.dev {
        Mode::Dev
    } else {
        Mode::Production
    };
    Ok(config::load(args.config.as_deref(), mode, env, &overrides)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn dev_and_config_conflict() {
        let err = Cli::try_parse_from(["strongroom", "serve", "--dev", "--config", "x.toml"])
            .unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn parses_the_documented_forms() {
        for args in [
            &["strongroom", "serve", "--config", "s.toml"][..],
            &[
                "strongroom",
                "serve",
                "--dev",
                "--data-dir",
                "d",
                "--api-listen",
                "127.0.0.1:0",
            ],
            &[
                "strongroom",
                "serve",
                "--dev",
                "--kmip-listen",
                "[::1]:5696",
            ],
            &["strongroom", "init", "--config", "s.toml"],
            &["strongroom", "audit", "verify", "--config", "s.toml"],
            &["strongroom", "audit", "verify", "--dev", "--data-dir", "d"],
            &["strongroom", "root", "rotate", "--config", "s.toml"],
            &["strongroom", "root", "rotate", "--dev", "--data-dir", "d"],
            &["strongroom", "root", "migrate", "--dev", "--to", "new.toml"],
            &[
                "strongroom",
                "kmip",
                "client",
                "create",
                "--dev",
                "--project",
                "0190b3c2-0000-7000-8000-000000000000",
                "--name",
                "app",
                "--operations",
                "create,get",
            ],
            &[
                "strongroom",
                "kmip",
                "client",
                "cert",
                "--config",
                "s.toml",
                "--name",
                "app",
                "--out",
                "d",
                "--ttl",
                "30d",
            ],
            &[
                "strongroom",
                "kmip",
                "client",
                "revoke",
                "--dev",
                "--name",
                "app",
            ],
            &["strongroom", "kmip", "client", "list", "--dev"],
            &["strongroom", "login", "--save", "--url", "https://h:8443"],
            &["strongroom", "whoami", "--json"],
            &[
                "strongroom",
                "key",
                "create",
                "--project",
                "p",
                "--name",
                "n",
            ],
            &[
                "strongroom",
                "key",
                "--url",
                "https://h",
                "list",
                "--project",
                "p",
                "--json",
            ],
            &["strongroom", "key", "rotate", "k", "--ca-cert", "ca.pem"],
            &["strongroom", "encrypt", "--key", "k", "--in", "f"],
            &["strongroom", "decrypt", "--key", "k", "--out", "f"],
            &[
                "strongroom",
                "sign",
                "--key",
                "k",
                "--algorithm",
                "ECDSA_SHA_256",
            ],
            &[
                "strongroom",
                "verify",
                "--key",
                "k",
                "--algorithm",
                "ECDSA_SHA_256",
                "--signature",
                "AAAA",
            ],
        ] {
            Cli::try_parse_from(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        }
    }

    #[test]
    fn no_client_secret_on_the_command_line() {
        for args in [
            &["strongroom", "login", "--client-secret", "s"][..],
            &["strongroom", "whoami", "--token", "t"],
        ] {
            let err = Cli::try_parse_from(args).unwrap_err();
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::UnknownArgument,
                "{args:?}"
            );
        }
    }

    #[test]
    fn bad_address_is_a_usage_error() {
        let err = Cli::try_parse_from(["strongroom", "serve", "--dev", "--api-listen", "nope"])
            .unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation);
    }
}
