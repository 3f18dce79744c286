//! The loaded module, the chosen token, and the session pool.
//!
//! A PKCS#11 module is loaded and `C_Initialize`d once per process and kept
//! for the life of the process ([`load_module`]): a second
//! `C_Initialize` would fail, and `C_Finalize` would close every session of
//! every user of the module. Login state is per application and token, so
//! the first session that logs in logs in all of them; sessions opened later
//! find themselves logged in already.
//!
//! The pool keeps up to `sessions` open sessions, read-only for the root,
//! read-write for HSM-resident keys (which create and delete token
//! objects). A caller waits
//! for a permit (a tokio semaphore with one permit per session), takes an
//! idle session, and runs its PKCS#11 calls on a blocking thread
//! (`spawn_blocking`), since every cryptoki call may block on the device.
//!
//! Recovery: if a call fails because the session is gone
//! (`CKR_SESSION_HANDLE_INVALID`, `CKR_SESSION_CLOSED`,
//! `CKR_TOKEN_NOT_PRESENT`, `CKR_DEVICE_REMOVED`), the pool drops every idle
//! session (a removed token closes all of them), finds the token again by
//! label or slot, opens a new session, logs in, finds the key again and
//! retries the call once. If the login was lost (`CKR_USER_NOT_LOGGED_IN`)
//! or the key's handle went stale (`CKR_KEY_HANDLE_INVALID`,
//! `CKR_OBJECT_HANDLE_INVALID`), it logs in again, finds the key again and
//! retries once; a key that is no longer in the token is reported as
//! [`Pkcs11Error::KeyMissing`].
//!
//! Every recovery bumps the pool's epoch: callers that cache object handles
//! (the resident keys, by `CKA_ID`) drop their cache when it changes, since
//! handles are only guaranteed stable while the application keeps a session
//! open.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::MechanismType;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, SessionState, UserType};
use cryptoki::slot::Slot;
use secrecy::SecretString;
use tokio::sync::Semaphore;

use super::config::Pkcs11Config;
use super::error::Pkcs11Error;

static MODULES: OnceLock<Mutex<Vec<(PathBuf, Pkcs11)>>> = OnceLock::new();

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Loads and initialises the PKCS#11 module at `path`, once per process;
/// later calls with the same file return the same context.
///
/// Errors: [`Pkcs11Error::ModuleNotFound`] when nothing is at `path`,
/// [`Pkcs11Error::NotALibrary`] when the file does not load as a shared
/// library or exports no `C_GetFunctionList`.
pub fn load_module(path: &Path) -> Result<Pkcs11, Pkcs11Error> {
    let shown = path.display().to_string();
    let canonical = std::fs::canonicalize(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Pkcs11Error::ModuleNotFound {
                path: shown.clone(),
            }
        } else {
            Pkcs11Error::NotALibrary {
                path: shown.clone(),
                reason: e.to_string(),
            }
        }
    })?;
    if !canonical.is_file() {
        return Err(Pkcs11Error::NotALibrary {
            path: shown,
            reason: "not a regular file".into(),
        });
    }
    let mut modules = lock(MODULES.get_or_init(|| Mutex::new(Vec::new())));
    if let Some((_, ctx)) = modules.iter().find(|(p, _)| *p == canonical) {
        return Ok(ctx.clone());
    }
    let ctx = Pkcs11::new(&canonical).map_err(|e| Pkcs11Error::NotALibrary {
        path: shown.clone(),
        reason: match e {
            CkError::LibraryLoading(e) => format!("it does not load as a shared library ({e})"),
            CkError::MissingSymbol(sym) => format!("it exports no {sym}"),
            other => other.to_string(),
        },
    })?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(Pkcs11Error::from_cryptoki(e, &shown, "")),
    }
    tracing::debug!(module = %shown, "loaded PKCS#11 module");
    modules.push((canonical, ctx.clone()));
    Ok(ctx)
}

/// Finds the slot holding the configured token.
pub(crate) fn find_slot(ctx: &Pkcs11, config: &Pkcs11Config) -> Result<Slot, Pkcs11Error> {
    let wanted = config.token_description();
    let module = config.module.display().to_string();
    let slots = ctx
        .get_slots_with_token()
        .map_err(|e| Pkcs11Error::from_cryptoki(e, &module, ""))?;
    let mut present = Vec::new();
    for slot in slots {
        let Ok(info) = ctx.get_token_info(slot) else {
            continue;
        };
        let label = info.label().trim_end().to_string();
        let label_ok = config
            .token_label
            .as_deref()
            .is_none_or(|l| l.trim_end() == label);
        let slot_ok = config.slot_id.is_none_or(|id| id == slot.id());
        if label_ok && slot_ok && info.token_initialized() {
            return Ok(slot);
        }
        present.push(format!("\"{label}\" in slot {}", slot.id()));
    }
    Err(Pkcs11Error::TokenNotPresent {
        wanted,
        module,
        present: if present.is_empty() {
            "none".into()
        } else {
            present.join(", ")
        },
    })
}

/// One token, logged in with one PIN, and one key in it.
pub(crate) struct Token {
    pub(crate) ctx: Pkcs11,
    pub(crate) config: Pkcs11Config,
    pin: SecretString,
    slot: Mutex<Slot>,
    pub(crate) description: String,
}

impl Token {
    /// Loads the module and finds the token (blocking).
    pub(crate) fn connect(config: Pkcs11Config) -> Result<Self, Pkcs11Error> {
        config.validate()?;
        let ctx = load_module(&config.module)?;
        let pin = config.pin.load()?;
        let slot = find_slot(&ctx, &config)?;
        let description = config.token_description();
        let token = Self {
            ctx,
            config,
            pin,
            slot: Mutex::new(slot),
            description,
        };
        token.require_mechanisms(&[(MechanismType::AES_GCM, "CKM_AES_GCM")])?;
        Ok(token)
    }

    pub(crate) fn slot(&self) -> Slot {
        *lock(&self.slot)
    }

    /// Maps a cryptoki error from this token to a precise error.
    pub(crate) fn error(&self, e: CkError) -> Pkcs11Error {
        Pkcs11Error::from_cryptoki(e, &self.description, &self.config.key_label)
    }

    /// Fails with [`Pkcs11Error::MechanismUnsupported`] unless the token
    /// lists every mechanism.
    pub(crate) fn require_mechanisms(
        &self,
        wanted: &[(MechanismType, &'static str)],
    ) -> Result<(), Pkcs11Error> {
        let list = self
            .ctx
            .get_mechanism_list(self.slot())
            .map_err(|e| self.error(e))?;
        for (mechanism, name) in wanted {
            if !list.contains(mechanism) {
                return Err(Pkcs11Error::MechanismUnsupported {
                    mechanism: name,
                    token: self.description.clone(),
                });
            }
        }
        Ok(())
    }

    /// Logs the application in unless this session already is.
    pub(crate) fn login(&self, session: &Session) -> Result<(), Pkcs11Error> {
        if let Ok(info) = session.get_session_info() {
            if matches!(
                info.session_state(),
                SessionState::RoUser | SessionState::RwUser
            ) {
                return Ok(());
            }
        }
        match session.login(UserType::User, Some(&self.pin)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
            Err(e) => Err(self.error(e)),
        }
    }

    /// Opens a logged-in session (read-write if `rw`).
    pub(crate) fn open_session(&self, rw: bool) -> Result<Session, Pkcs11Error> {
        let slot = self.slot();
        let session = if rw {
            self.ctx.open_rw_session(slot)
        } else {
            self.ctx.open_ro_session(slot)
        }
        .map_err(|e| self.error(e))?;
        self.login(&session)?;
        Ok(session)
    }

    /// Finds the token again (it may come back in another slot).
    fn reconnect(&self) -> Result<(), Pkcs11Error> {
        let slot = find_slot(&self.ctx, &self.config)?;
        *lock(&self.slot) = slot;
        Ok(())
    }

    /// The template that finds the root-wrapping key.
    pub(crate) fn key_template(&self) -> Vec<Attribute> {
        vec![
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            Attribute::Label(self.config.key_label.as_bytes().to_vec()),
        ]
    }

    /// Finds the root-wrapping key, checking it cannot leave the token.
    pub(crate) fn find_key(&self, session: &Session) -> Result<ObjectHandle, Pkcs11Error> {
        let found = session
            .find_objects(&self.key_template())
            .map_err(|e| self.error(e))?;
        let key = match found.as_slice() {
            [] => {
                return Err(Pkcs11Error::KeyMissing {
                    label: self.config.key_label.clone(),
                    token: self.description.clone(),
                });
            }
            [key] => *key,
            many => {
                return Err(Pkcs11Error::KeyAmbiguous {
                    label: self.config.key_label.clone(),
                    token: self.description.clone(),
                    count: many.len(),
                });
            }
        };
        let attrs = session
            .get_attributes(key, &[AttributeType::Sensitive, AttributeType::Extractable])
            .map_err(|e| self.error(e))?;
        let protected = attrs.iter().all(|a| match a {
            Attribute::Sensitive(s) => *s,
            Attribute::Extractable(x) => !*x,
            _ => true,
        }) && attrs.len() == 2;
        if !protected {
            return Err(Pkcs11Error::KeyNotProtected {
                label: self.config.key_label.clone(),
                token: self.description.clone(),
            });
        }
        Ok(key)
    }
}

fn rv(e: &CkError) -> Option<RvError> {
    match e {
        CkError::Pkcs11(rv, _) => Some(*rv),
        _ => None,
    }
}

/// The session is gone: reconnect.
fn session_lost(e: &CkError) -> bool {
    matches!(
        rv(e),
        Some(
            RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::TokenNotPresent
                | RvError::DeviceRemoved
        )
    )
}

/// The login or the key handle went stale: log in and find the key again.
fn key_stale(e: &CkError) -> bool {
    matches!(
        rv(e),
        Some(RvError::UserNotLoggedIn | RvError::KeyHandleInvalid | RvError::ObjectHandleInvalid)
    )
}

/// What an operation run on a pooled session can fail with: a PKCS#11
/// return code (which the pool may recover from) or an error already
/// explained (a key that is not in the token, a malformed input).
pub(crate) enum Failure {
    Ck(CkError),
    Explained(Pkcs11Error),
}

impl From<CkError> for Failure {
    fn from(e: CkError) -> Self {
        Failure::Ck(e)
    }
}

impl From<Pkcs11Error> for Failure {
    fn from(e: Pkcs11Error) -> Self {
        Failure::Explained(e)
    }
}

/// A fixed-size pool of logged-in sessions on one token; for the root, with
/// the handle of the root-wrapping key.
pub(crate) struct SessionPool {
    pub(crate) token: Token,
    idle: Mutex<Vec<Session>>,
    /// The root-wrapping key (root pools only).
    key: Mutex<Option<ObjectHandle>>,
    permits: Arc<Semaphore>,
    size: usize,
    /// Read-write sessions (needed to create and delete token objects).
    rw: bool,
    recoveries: AtomicU64,
    /// Bumped at every recovery: object handles cached before it may be
    /// stale (handles are only stable while the application keeps a session).
    epoch: AtomicU64,
    /// Test hook: the next call reports CKR_SESSION_HANDLE_INVALID.
    inject_session_loss: std::sync::atomic::AtomicBool,
}

impl SessionPool {
    /// Opens every read-only session up front and finds the root-wrapping
    /// key (blocking).
    pub(crate) fn open(token: Token) -> Result<Self, Pkcs11Error> {
        let pool = Self::open_sessions(token, false)?;
        let key = {
            let idle = lock(&pool.idle);
            let first = idle
                .first()
                .ok_or_else(|| Pkcs11Error::Config("the session pool is empty".into()))?;
            pool.token.find_key(first)?
        };
        *lock(&pool.key) = Some(key);
        Ok(pool)
    }

    /// Opens every session up front (blocking), read-write if `rw`.
    pub(crate) fn open_sessions(token: Token, rw: bool) -> Result<Self, Pkcs11Error> {
        let size = token.config.sessions;
        let mut sessions = Vec::with_capacity(size);
        for _ in 0..size {
            sessions.push(token.open_session(rw)?);
        }
        Ok(Self {
            token,
            idle: Mutex::new(sessions),
            key: Mutex::new(None),
            permits: Arc::new(Semaphore::new(size)),
            size,
            rw,
            recoveries: AtomicU64::new(0),
            epoch: AtomicU64::new(0),
            inject_session_loss: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Sessions in the pool.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// How many times an operation recovered (reconnected, or logged in and
    /// found the key again) and was retried.
    pub(crate) fn recoveries(&self) -> u64 {
        self.recoveries.load(Ordering::Relaxed)
    }

    /// Changes whenever cached object handles may have gone stale.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Makes the next call fail as if the token had dropped its sessions.
    pub(crate) fn inject_session_loss(&self) {
        self.inject_session_loss.store(true, Ordering::SeqCst);
    }

    /// Runs `op` with a session and the root-wrapping key's handle on a
    /// blocking thread, recovering once from a lost session or a stale
    /// login or handle.
    pub(crate) async fn run<T, F>(self: &Arc<Self>, op: F) -> Result<T, Pkcs11Error>
    where
        T: Send + 'static,
        F: Fn(&Session, ObjectHandle) -> Result<T, CkError> + Send + 'static,
    {
        let pool = Arc::clone(self);
        self.run_session(move |session| {
            let key = pool.key(session)?;
            Ok(op(session, key)?)
        })
        .await
    }

    /// Runs `op` with a pooled session on a blocking thread, recovering once
    /// from a lost session or a stale login or handle. `op` must find the
    /// object handles it uses again when [`SessionPool::epoch`] changed.
    pub(crate) async fn run_session<T, F>(self: &Arc<Self>, op: F) -> Result<T, Pkcs11Error>
    where
        T: Send + 'static,
        F: Fn(&Session) -> Result<T, Failure> + Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|e| Pkcs11Error::Task(e.to_string()))?;
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            pool.run_blocking(&op)
        })
        .await
        .map_err(|e| Pkcs11Error::Task(e.to_string()))?
    }

    fn checkout(&self) -> Result<Session, Pkcs11Error> {
        if let Some(session) = lock(&self.idle).pop() {
            return Ok(session);
        }
        self.token.open_session(self.rw)
    }

    fn checkin(&self, session: Session) {
        let mut idle = lock(&self.idle);
        if idle.len() < self.size {
            idle.push(session);
        }
    }

    fn key(&self, session: &Session) -> Result<ObjectHandle, Pkcs11Error> {
        if let Some(key) = *lock(&self.key) {
            return Ok(key);
        }
        let key = self.token.find_key(session)?;
        *lock(&self.key) = Some(key);
        Ok(key)
    }

    fn explain(&self, failure: Failure) -> Pkcs11Error {
        match failure {
            Failure::Ck(e) => self.token.error(e),
            Failure::Explained(e) => e,
        }
    }

    fn run_blocking<T>(
        &self,
        op: &dyn Fn(&Session) -> Result<T, Failure>,
    ) -> Result<T, Pkcs11Error> {
        let session = self.checkout()?;
        let result = if self.inject_session_loss.swap(false, Ordering::SeqCst) {
            Err(Failure::Ck(CkError::Pkcs11(
                RvError::SessionHandleInvalid,
                cryptoki::context::Function::Encrypt,
            )))
        } else {
            op(&session)
        };
        match result {
            Ok(value) => {
                self.checkin(session);
                Ok(value)
            }
            Err(Failure::Ck(e)) if session_lost(&e) => {
                tracing::warn!(
                    token = %self.token.description,
                    error = %self.token.error(e),
                    "PKCS#11 session lost; reconnecting"
                );
                self.recoveries.fetch_add(1, Ordering::Relaxed);
                self.epoch.fetch_add(1, Ordering::SeqCst);
                drop(session);
                lock(&self.idle).clear();
                *lock(&self.key) = None;
                let disconnected = |e: Pkcs11Error| Pkcs11Error::Disconnected {
                    token: self.token.description.clone(),
                    reason: e.to_string(),
                };
                self.token.reconnect().map_err(disconnected)?;
                let session = self.token.open_session(self.rw).map_err(disconnected)?;
                self.retry(session, op)
            }
            Err(Failure::Ck(e)) if key_stale(&e) => {
                tracing::warn!(
                    token = %self.token.description,
                    error = %self.token.error(e),
                    "PKCS#11 login or key handle went stale; logging in and finding the key again"
                );
                self.recoveries.fetch_add(1, Ordering::Relaxed);
                self.epoch.fetch_add(1, Ordering::SeqCst);
                *lock(&self.key) = None;
                if let Err(e) = self.token.login(&session) {
                    self.checkin(session);
                    return Err(e);
                }
                self.retry(session, op)
            }
            Err(e) => {
                self.checkin(session);
                Err(self.explain(e))
            }
        }
    }

    fn retry<T>(
        &self,
        session: Session,
        op: &dyn Fn(&Session) -> Result<T, Failure>,
    ) -> Result<T, Pkcs11Error> {
        let result = op(&session).map_err(|e| self.explain(e));
        self.checkin(session);
        result
    }
}
