//! `strongroom root rotate` and `strongroom root migrate --to FILE`.
//!
//! Both go to the running server through the [admin socket](crate::admin)
//! when there is one, so the server keeps serving while it rotates or
//! migrates; otherwise they open the install themselves. Either way the
//! work is done by kms-core (`Kms::rotate_root`, `Kms::migrate_root`),
//! which is atomic and audited; this module only chooses where it runs and
//! shows progress.

use std::path::Path;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use kms_core::service::{Actor, RotationProgress};

use crate::admin::{self, Reply, Request};
use crate::config::Config;
use crate::install;

/// `strongroom root rotate`.
pub async fn rotate(mut config: Config) -> anyhow::Result<()> {
    install::prepare_data_dir(&mut config, false)?;
    let bar = Bar::new();
    let remote = admin::request(&config.data_dir, &Request::RootRotate, |reply| {
        if let Reply::Progress {
            term,
            rewrapped,
            total,
        } = reply
        {
            bar.show(*term, *rewrapped, *total);
        }
    })
    .await?;
    let reply = match remote {
        Some(reply) => reply,
        None => {
            let kms = install::open_existing(&config).await?;
            let result = kms
                .rotate_root(&local_actor(), &|p: RotationProgress| {
                    bar.show(p.term, p.rewrapped, p.total)
                })
                .await;
            kms.close().await;
            Reply::from(result.context("root rotation failed")?)
        }
    };
    bar.finish();
    match reply {
        Reply::Rotated {
            term,
            resumed,
            rewrapped,
            retired,
        } => {
            let what = if resumed {
                "finished the interrupted rotation to"
            } else {
                "rotated the root key to"
            };
            println!(
                "{what} term {term}: {rewrapped} project key versions re-wrapped, terms {retired:?} retired"
            );
            Ok(())
        }
        Reply::Failed { message } => bail!("root rotation failed: {message}"),
        other => bail!("unexpected answer from the server: {other:?}"),
    }
}

/// `strongroom root migrate --to FILE`.
pub async fn migrate(mut config: Config, to: &Path) -> anyhow::Result<()> {
    install::prepare_data_dir(&mut config, false)?;
    let to =
        std::fs::canonicalize(to).with_context(|| format!("migration target {}", to.display()))?;
    let request = Request::RootMigrate { config: to.clone() };
    let reply = match admin::request(&config.data_dir, &request, |_| {}).await? {
        Some(reply) => reply,
        None => {
            let target = crate::root::migration_target(&to, &config.data_dir).await?;
            let shown = target.describe();
            let kms = install::open_existing(&config).await?;
            let result = kms.migrate_root(&local_actor(), target).await;
            kms.close().await;
            result.context("root migration failed")?;
            Reply::Migrated { to: shown }
        }
    };
    match reply {
        Reply::Migrated { to: shown } => {
            println!("the root key is now sealed by {shown}");
            println!(
                "next: restart with the [root] section of {} in your configuration",
                to.display()
            );
            Ok(())
        }
        Reply::Failed { message } => bail!("root migration failed: {message}"),
        other => bail!("unexpected answer from the server: {other:?}"),
    }
}

fn local_actor() -> Actor {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    Actor::new(format!("cli:{user}"), None)
}

/// The command line's progress bar; drawn only on a terminal.
struct Bar(ProgressBar);

impl Bar {
    fn new() -> Self {
        let bar = ProgressBar::new(0);
        let style = ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} project key versions ({eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        Self(bar)
    }

    fn show(&self, term: u32, rewrapped: u64, total: u64) {
        self.0
            .set_message(format!("re-wrapping under root term {term}"));
        self.0.set_length(total);
        self.0.set_position(rewrapped);
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}
