//! Lockout after repeated failed logins (per client id, per node).
//!
//! Infisical's rule and settings: `lockoutThreshold` failures, each within
//! `lockoutCounterResetSeconds` of the previous one, lock the client id for
//! `lockoutDurationSeconds`; while locked, every login — right or wrong —
//! is refused with 429 `locked_out` and `Retry-After`. A success clears the
//! counter. The state lives in memory, bounded to [`MAX_TRACKED`] client
//! ids (the oldest entries are dropped first by the cache), so a flood of
//! made-up client ids cannot exhaust memory.

use std::time::{Duration, Instant};

use quick_cache::sync::Cache;
use uuid::Uuid;

use super::records::UniversalAuth;

pub const MAX_TRACKED: usize = 100_000;

#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

/// Failed-login counters.
pub struct Lockout {
    entries: Cache<Uuid, Failures>,
}

impl Default for Lockout {
    fn default() -> Self {
        Self {
            entries: Cache::new(MAX_TRACKED),
        }
    }
}

impl Lockout {
    /// How long `client` stays locked, if it is.
    pub fn locked_for(&self, client: Uuid) -> Option<Duration> {
        let until = self.entries.get(&client)?.locked_until?;
        until.checked_duration_since(Instant::now())
    }

    /// Counts a failed login; locks once the threshold is reached.
    pub fn failed(&self, config: &UniversalAuth) {
        if !config.lockout_enabled {
            return;
        }
        let now = Instant::now();
        let reset = Duration::from_secs(config.lockout_counter_reset_seconds);
        let mut f = match self.entries.get(&config.client_id) {
            Some(f)
                if now.duration_since(f.last) <= reset
                    && f.locked_until.is_none_or(|u| u <= now) =>
            {
                Failures {
                    count: f.count.saturating_add(1),
                    last: now,
                    locked_until: None,
                }
            }
            _ => Failures {
                count: 1,
                last: now,
                locked_until: None,
            },
        };
        if f.count >= config.lockout_threshold.max(1) {
            f.locked_until = Some(now + Duration::from_secs(config.lockout_duration_seconds));
            tracing::warn!(client_id = %config.client_id, "universal auth client locked after repeated failed logins");
        }
        self.entries.insert(config.client_id, f);
    }

    pub fn succeeded(&self, client: Uuid) {
        self.entries.remove(&client);
    }
}
