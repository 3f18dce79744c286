//! Group commit: many callers, one durable database transaction.
//!
//! A durable commit costs at least one `fsync`. Paying it once per caller caps
//! a store at a few thousand commits per second however fast the rest is, so
//! both backends funnel every [`Transaction`] through one writer task that
//! commits them in batches:
//!
//! 1. [`GroupCommit::commit`] sends `(Transaction, reply)` over a bounded
//!    channel (a full channel makes callers wait: back-pressure) and awaits
//!    the reply.
//! 2. The writer takes the first request, then drains whatever else is
//!    already queued, up to `max_batch`. It never waits for more to arrive:
//!    under light load a batch is one request and latency is one commit;
//!    under heavy load requests queue up while the previous batch is being
//!    fsynced, and the next batch picks them all up.
//! 3. It opens **one** database transaction for the batch
//!    ([`BatchConnection::begin`]), which also locks and reads the audit
//!    chain head (and refuses a head this chain's key did not seal).
//! 4. It applies each caller's writes and links each caller's audit events
//!    onto the chain in memory ([`AuditChain::link`]), inserting them as
//!    records in the same transaction.
//! 5. It writes the new head, sealed with [`AuditChain::seal_head`], and
//!    `COMMIT`s ([`BatchConnection::finish`]). Only when `COMMIT` has
//!    returned — the data is on disk — does it answer the callers. If the
//!    `COMMIT` itself fails, every caller whose writes were in it gets that
//!    error.
//!
//! **Isolation of failures.** One caller's failure (an
//! [`UpdateObject`](crate::store::Write::UpdateObject) revision conflict, a
//! duplicate insert, …) must fail that caller alone. Each caller therefore
//! runs inside its own `SAVEPOINT`: on failure the writer rolls back to it,
//! restores the in-memory chain position, and that caller's writes *and* its
//! audit records vanish while the others' stay. Savepoints cost two
//! statements per caller (two round trips on PostgreSQL), and failures are
//! rare, so a batch is first run *optimistically* without them; if anyone
//! fails, that attempt is rolled back whole (nothing of it was committed or
//! acknowledged) and the batch is run again with a savepoint per caller. A
//! batch of one needs no savepoint at all: its failure rolls back the whole
//! transaction.
//!
//! A failure that leaves the connection in an unknown state (a failed
//! `BEGIN`, `ROLLBACK TO SAVEPOINT` or `COMMIT`, a lost connection) fails the
//! whole batch and makes the writer [`reset`](BatchConnection::reset) its
//! connection; the next batch reconnects.
//!
//! [`GroupCommit::close`] closes the channel; the writer finishes every
//! request already queued, closes its connection and exits. Commits after
//! that fail with [`StoreError::Closed`].

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::audit::{AuditChain, ChainHead, LinkedEvent};
use crate::store::{Refused, StoreError, Transaction, Write};

/// Where the chain ends: the last record's sequence number and hash
/// (`0`, [`GENESIS`](crate::audit::GENESIS) before the first record).
pub(crate) type ChainPosition = (i64, [u8; 32]);

/// The savepoint that isolates one caller inside a batch.
pub(crate) const SAVEPOINT: &str = "SAVEPOINT strongroom_caller";
pub(crate) const RELEASE_SAVEPOINT: &str = "RELEASE SAVEPOINT strongroom_caller";
pub(crate) const ROLLBACK_TO_SAVEPOINT: &str = "ROLLBACK TO SAVEPOINT strongroom_caller";
pub(crate) const ROLLBACK: &str = "ROLLBACK";

/// What a backend provides to the writer: one connection, used only by the
/// writer task, that can run a batch transaction.
#[async_trait]
pub(crate) trait BatchConnection: Send + 'static {
    /// Opens the batch's transaction (connecting first if needed), takes the
    /// write lock that serializes all writers of the database, and returns
    /// the current end of the audit chain, checked against `chain`.
    async fn begin(&mut self, chain: &AuditChain) -> Result<ChainPosition, StoreError>;
    /// Runs a transaction-control statement ([`SAVEPOINT`], [`ROLLBACK`], …).
    async fn control(&mut self, sql: &'static str) -> Result<(), StoreError>;
    /// Applies one caller's writes and inserts its (already linked) audit
    /// records. A backend may fuse common shapes (one object write plus one
    /// record) into a single statement; [`apply_each`] is the plain way.
    async fn apply(
        &mut self,
        writes: &[Write],
        records: &[LinkedEvent<'_>],
    ) -> Result<(), StoreError>;
    /// Applies one row write.
    async fn write(&mut self, write: &Write) -> Result<(), StoreError>;
    /// Inserts one audit record.
    async fn append(&mut self, record: &LinkedEvent<'_>) -> Result<(), StoreError>;
    /// Writes the new chain head (if the batch added records) and commits;
    /// returns once the database reports the commit durable.
    async fn finish(&mut self, head: Option<&ChainHead>) -> Result<(), StoreError>;
    /// Commits a batch of a single transaction in one call to the database,
    /// if the backend can for this transaction; `None` means "use the
    /// regular path", which must then produce the outcome (a backend that
    /// hits any error here rolls back and returns `None`, so the regular path
    /// reports it precisely). The default never can.
    async fn commit_one(
        &mut self,
        _chain: &AuditChain,
        _tx: &Transaction,
    ) -> Option<Result<(), StoreError>> {
        None
    }
    /// Drops the connection after a failure that left it in an unknown
    /// state; the next [`begin`](Self::begin) reconnects.
    async fn reset(&mut self);
    /// Closes the connection for good.
    async fn close(&mut self);
}

/// A failed commit hands its transaction back, so a caller that retries
/// (the key-use audit queue) needs no copy of it made in advance.
type Outcome = Result<(), Refused>;
type Reply = oneshot::Sender<Outcome>;

struct Request {
    tx: Transaction,
    reply: Reply,
}

/// The front end of a writer task. See the module docs.
pub(crate) struct GroupCommit {
    sender: Mutex<Option<mpsc::Sender<Request>>>,
    task: tokio::sync::Mutex<Option<JoinHandle<()>>>,
}

impl GroupCommit {
    /// Starts the writer task on `conn`. `max_batch` bounds how many
    /// transactions share one database transaction; `queue` bounds how many
    /// may wait for the writer before callers are held back.
    pub(crate) fn start<C: BatchConnection>(
        conn: C,
        chain: Arc<AuditChain>,
        max_batch: usize,
        queue: usize,
    ) -> Self {
        let (sender, receiver) = mpsc::channel(queue.max(1));
        let task = tokio::spawn(run(conn, chain, receiver, max_batch.max(1)));
        Self {
            sender: Mutex::new(Some(sender)),
            task: tokio::sync::Mutex::new(Some(task)),
        }
    }

    /// Commits `tx` with whatever else is pending; returns once it is
    /// durable (or has failed, with `tx` handed back).
    pub(crate) async fn commit(&self, tx: Transaction) -> Result<(), Refused> {
        let sender = self
            .sender
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        let Some(sender) = sender else {
            return Err((StoreError::Closed, Some(tx)));
        };
        if tx.writes.is_empty() && tx.audit.is_empty() {
            return Ok(());
        }
        let (reply, answer) = oneshot::channel();
        if let Err(refused) = sender.send(Request { tx, reply }).await {
            return Err((StoreError::Closed, Some(refused.0.tx)));
        }
        drop(sender);
        match answer.await {
            Ok(outcome) => outcome,
            Err(_) => Err((
                StoreError::Backend(
                    "the commit writer stopped before answering; the outcome of this commit is unknown"
                        .into(),
                ),
                None,
            )),
        }
    }

    /// Stops accepting commits, lets the writer finish the queued ones and
    /// waits for it to close its connection. Idempotent.
    pub(crate) async fn close(&self) {
        drop(
            self.sender
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .take(),
        );
        let task = self.task.lock().await.take();
        if let Some(task) = task {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "the store's commit writer task failed");
            }
        }
    }
}

async fn run<C: BatchConnection>(
    mut conn: C,
    chain: Arc<AuditChain>,
    mut receiver: mpsc::Receiver<Request>,
    max_batch: usize,
) {
    let mut batch: Vec<Request> = Vec::with_capacity(max_batch);
    // `recv_many` waits for the first request, then takes whatever else is
    // queued, up to the limit, without waiting for more.
    while receiver.recv_many(&mut batch, max_batch).await > 0 {
        let results = commit_batch(&mut conn, &chain, &batch).await;
        for (request, result) in batch.drain(..).zip(results) {
            // A caller that stopped waiting does not care.
            let _ = request
                .reply
                .send(result.map_err(|e| (e, Some(request.tx))));
        }
    }
    conn.close().await;
}

/// Runs one batch; returns one result per request, in order.
///
/// A batch of one may be committed by the backend in a single call
/// ([`BatchConnection::commit_one`]). Otherwise the batch first runs optimistically, without savepoints: in the common
/// case nobody fails, and a savepoint per caller would only cost statements
/// (round trips, on PostgreSQL). If a caller fails in a batch of several, the
/// whole transaction is rolled back — nothing was committed, nothing was
/// acknowledged — and the batch is run again with each caller inside its own
/// savepoint, which isolates the failure.
async fn commit_batch<C: BatchConnection>(
    conn: &mut C,
    chain: &AuditChain,
    batch: &[Request],
) -> Vec<Result<(), StoreError>> {
    if let [single] = batch {
        if let Some(result) = conn.commit_one(chain, &single.tx).await {
            return vec![result];
        }
    }
    match run_batch(conn, chain, batch, false).await {
        Attempt::Done(results) => results,
        Attempt::NeedsIsolation => match run_batch(conn, chain, batch, true).await {
            Attempt::Done(results) => results,
            // Not produced when isolating; fail safe all the same.
            Attempt::NeedsIsolation => batch
                .iter()
                .map(|_| {
                    Err(StoreError::Backend(
                        "group commit could not isolate a failing transaction".into(),
                    ))
                })
                .collect(),
        },
    }
}

enum Attempt {
    Done(Vec<Result<(), StoreError>>),
    /// A caller failed in a batch run without savepoints; it was rolled back.
    NeedsIsolation,
}

async fn begin<C: BatchConnection>(
    conn: &mut C,
    chain: &AuditChain,
) -> Result<ChainPosition, StoreError> {
    match conn.begin(chain).await {
        Ok(position) => Ok(position),
        // A connection that broke since the last batch (a database restart,
        // a network blip) is retried once with a fresh one: nothing has been
        // executed yet.
        Err(StoreError::Unreachable(_)) => {
            conn.reset().await;
            conn.begin(chain).await
        }
        Err(e) => Err(e),
    }
}

async fn run_batch<C: BatchConnection>(
    conn: &mut C,
    chain: &AuditChain,
    batch: &[Request],
    isolate: bool,
) -> Attempt {
    let start = match begin(conn, chain).await {
        Ok(position) => position,
        Err(e) => {
            conn.reset().await;
            return Attempt::Done(batch.iter().map(|_| Err(duplicate(&e))).collect());
        }
    };
    let mut position = start;
    let mut results: Vec<Result<(), StoreError>> = Vec::with_capacity(batch.len());

    for request in batch {
        if isolate {
            if let Err(e) = conn.control(SAVEPOINT).await {
                return Attempt::Done(abort(conn, batch.len(), e).await);
            }
        }
        let before = position;
        match apply(conn, chain, &request.tx, &mut position).await {
            Ok(()) => {
                if isolate {
                    if let Err(e) = conn.control(RELEASE_SAVEPOINT).await {
                        return Attempt::Done(abort(conn, batch.len(), e).await);
                    }
                }
                results.push(Ok(()));
            }
            Err(e) if isolate => {
                // This caller's writes and records never happened.
                position = before;
                let undone = match conn.control(ROLLBACK_TO_SAVEPOINT).await {
                    Ok(()) => conn.control(RELEASE_SAVEPOINT).await,
                    Err(fatal) => Err(fatal),
                };
                if let Err(fatal) = undone {
                    return Attempt::Done(abort(conn, batch.len(), fatal).await);
                }
                results.push(Err(e));
            }
            Err(e) => {
                if conn.control(ROLLBACK).await.is_err() {
                    conn.reset().await;
                }
                if batch.len() == 1 {
                    return Attempt::Done(vec![Err(e)]);
                }
                return Attempt::NeedsIsolation;
            }
        }
    }

    if results.iter().all(Result::is_err) {
        if conn.control(ROLLBACK).await.is_err() {
            conn.reset().await;
        }
        return Attempt::Done(results);
    }
    let head = (position != start).then(|| chain.seal_head(position.0, &position.1));
    match conn.finish(head.as_ref()).await {
        Ok(()) => Attempt::Done(results),
        Err(e) => {
            // The outcome is unknown to us; make sure the connection does not
            // carry on inside a half-finished transaction.
            conn.reset().await;
            Attempt::Done(
                results
                    .into_iter()
                    .map(|r| r.and(Err(duplicate(&e))))
                    .collect(),
            )
        }
    }
}

/// Applies one caller's transaction: links its audit events from
/// `position`, then has the backend apply its writes and insert the
/// records. `position` advances only if all of that succeeded.
async fn apply<C: BatchConnection>(
    conn: &mut C,
    chain: &AuditChain,
    tx: &Transaction,
    position: &mut ChainPosition,
) -> Result<(), StoreError> {
    let mut end = *position;
    let mut records = Vec::with_capacity(tx.audit.len());
    for event in &tx.audit {
        let record = chain.link_ref(end.0, end.1, event);
        end = (record.seq, record.hash);
        records.push(record);
    }
    conn.apply(&tx.writes, &records).await?;
    *position = end;
    Ok(())
}

/// The plain way to apply a caller's writes and records: one statement each.
pub(crate) async fn apply_each<C: BatchConnection>(
    conn: &mut C,
    writes: &[Write],
    records: &[LinkedEvent<'_>],
) -> Result<(), StoreError> {
    for write in writes {
        conn.write(write).await?;
    }
    for record in records {
        conn.append(record).await?;
    }
    Ok(())
}

/// Fails the whole batch: rolls back and, if even that fails, drops the
/// connection.
async fn abort<C: BatchConnection>(
    conn: &mut C,
    n: usize,
    e: StoreError,
) -> Vec<Result<(), StoreError>> {
    if conn.control(ROLLBACK).await.is_err() {
        conn.reset().await;
    }
    (0..n).map(|_| Err(duplicate(&e))).collect()
}

/// `StoreError` is not `Clone` (it is part of the public error type); the
/// writer needs one copy per caller.
pub(crate) fn duplicate(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unreachable(s) => StoreError::Unreachable(s.clone()),
        StoreError::Migration(s) => StoreError::Migration(s.clone()),
        StoreError::Conflict(id) => StoreError::Conflict(*id),
        StoreError::RecordConflict(s) => StoreError::RecordConflict(s.clone()),
        StoreError::AlreadyExists(s) => StoreError::AlreadyExists(s.clone()),
        StoreError::NotFound(s) => StoreError::NotFound(s.clone()),
        StoreError::ReadOnly(s) => StoreError::ReadOnly(s.clone()),
        StoreError::Corrupt(s) => StoreError::Corrupt(s.clone()),
        StoreError::Backend(s) => StoreError::Backend(s.clone()),
        StoreError::Closed => StoreError::Closed,
    }
}
