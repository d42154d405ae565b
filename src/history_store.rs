//! Snapshot history's I/O (wasm): writes each new snapshot to the [`HistoryStore`] once, keeps
//! what a failing store did not acknowledge in a bounded backlog and writes it when the store
//! answers again, and reads an item's series back. The rules are in `history.rs`.
//!
//! History never fails a lookup: recording happens after the result is in hand, and a store
//! that fails or does not answer within [`STORE_TIMEOUT_MS`](crate::store::STORE_TIMEOUT_MS)
//! only delays the snapshot (warned once per outage, recovery at info). Reading a history does
//! fail, with a `StoreError`, when the store cannot be read.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::JsValue;

use crate::error::{Error, ErrorKind};
use crate::history::{self, Backlog, History, HistoryOptions, HistoryStore, MemoryHistoryStore, Pending, Snapshot, Unrecorded};
use crate::log::{Log, LogLevel};
use crate::store::bounded;
use crate::types::PostItemAnalytics;

/// After a store failure, writes wait this long before the store is tried again, so an outage
/// costs one bounded wait, not one per lookup.
const STORE_REST_MS: f64 = 5000.0;

/// What one write to the store did.
#[derive(Debug, Clone, PartialEq)]
enum Written {
    Added,
    Known,
    /// The store rests or failed: the snapshot, to wait in the backlog.
    Failed(Pending),
}

/// What recording one result did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// The store acknowledged a new snapshot.
    Added,
    /// The store had it already (or it was just written).
    Known,
    /// Nothing to record (no metrics, or a `fetched_at` refused and logged).
    Nothing,
    /// The store failed: the snapshot waits in memory.
    Waiting,
}

/// An item's series in the store: what is kept there, read, or written.
pub(crate) struct Recorder {
    pub(crate) options: HistoryOptions,
    store: Rc<dyn HistoryStore>,
    base_url: String,
    workspace_id: Option<String>,
    backlog: RefCell<Backlog>,
    /// When the store last failed (`None`: it answers).
    failed_at: Cell<Option<f64>>,
    /// A flush is under way (one at a time).
    flushing: Cell<bool>,
    log: Log,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").field("options", &self.options).finish_non_exhaustive()
    }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// A store operation bounded in time: its value, or why not.
async fn within<T: 'static>(op: crate::cache::StoreFuture<T>) -> Result<T, String> {
    bounded(op, None).await.unwrap_or_else(|| Err("no answer within 1 s".into()))
}

impl Recorder {
    pub(crate) fn new(options: HistoryOptions, base_url: &str, workspace_id: Option<&str>, log: Log) -> Recorder {
        let store: Rc<dyn HistoryStore> = options.store.clone().unwrap_or_else(|| Rc::new(MemoryHistoryStore::default()));
        Recorder {
            backlog: RefCell::new(Backlog::new(options.max_pending)),
            options,
            store,
            base_url: base_url.to_owned(),
            workspace_id: workspace_id.map(str::to_owned),
            failed_at: Cell::new(None),
            flushing: Cell::new(false),
            log,
        }
    }

    fn keys(&self, id: &str) -> (String, String) {
        history::keys(&self.base_url, self.workspace_id.as_deref(), id)
    }

    fn interval(&self) -> u64 {
        self.options.snapshot_interval_ms
    }

    /// Records `item` in the background (a lookup's result: the caller does not wait).
    pub(crate) fn note(self: &Rc<Self>, id: &str, item: &PostItemAnalytics) {
        if item.metrics.is_none() {
            return; // nothing to record: no task, no copy
        }
        let (this, id, item) = (Rc::clone(self), id.to_owned(), item.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let _ = this.record(&id, &item).await;
        });
    }

    /// Records the snapshot `item` carries; see [`Recorded`]. (A snapshot the store holds
    /// already costs one idempotent write: results come from the API once per snapshot when a
    /// cache or the recorder's schedule is in front, and a store write is cheaper than the
    /// request that brought it.)
    pub(crate) async fn record(&self, id: &str, item: &PostItemAnalytics) -> Recorded {
        let (at, snapshot) = match history::snapshot_of(item, now_ms()) {
            Ok(found) => found,
            Err(Unrecorded::NoMetrics) => return Recorded::Nothing,
            Err(why) => {
                let fetched_at = item.metrics.as_ref().map(|m| crate::error::describe_str(&m.fetched_at)).unwrap_or_default();
                self.log.write(LogLevel::Warn, || {
                    let what = match why {
                        Unrecorded::Future => "is more than 5 min ahead of this clock (history::CLOCK_SKEW_MS)",
                        _ => "is not an RFC 3339 timestamp",
                    };
                    format!("post item {id}: snapshot not recorded in the history: fetched_at {fetched_at} {what}")
                });
                return Recorded::Nothing;
            }
        };
        let key = self.keys(id).0;
        self.flush().await;
        match self.write(&Pending { key, post_item_id: id.to_owned(), at_ms: at, snapshot }).await {
            Written::Added => Recorded::Added,
            Written::Known => Recorded::Known,
            Written::Failed(p) => {
                self.wait(p);
                Recorded::Waiting
            }
        }
    }

    /// Whether the store is left alone now, after a recent failure.
    fn resting(&self) -> bool {
        let now = now_ms();
        self.failed_at.get().is_some_and(|t| now >= t && now - t < STORE_REST_MS)
    }

    /// Notes how a store operation went (a warning per outage, and a line when it is over).
    fn report(&self, op: &str, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => {
                if self.failed_at.take().is_some() {
                    self.log.write(LogLevel::Info, || "the history store answers again; writing the snapshots that waited".into());
                }
            }
            Err(why) => {
                if self.failed_at.replace(Some(now_ms())).is_none() {
                    self.log.write(LogLevel::Warn, || {
                        format!(
                            "the history store failed ({op}: {why}); new snapshots wait in memory (up to {}) and are written \
                             when it answers again; lookups go on",
                            self.options.max_pending
                        )
                    });
                }
            }
        }
    }

    /// Writes one snapshot; a store that rests or fails hands it back.
    async fn write(&self, p: &Pending) -> Written {
        if self.resting() {
            return Written::Failed(p.clone());
        }
        let Some(text) = to_json(&p.snapshot) else { return Written::Known };
        match within(self.store.append(&p.key, p.at_ms, text)).await {
            Ok(added) => {
                self.report("append", Ok(()));
                if added {
                    Written::Added
                } else {
                    Written::Known
                }
            }
            Err(why) => {
                self.report("append", Err(why));
                Written::Failed(p.clone())
            }
        }
    }

    /// Puts `p` in the backlog; warns about a snapshot dropped to make room.
    fn wait(&self, p: Pending) {
        if let Some(dropped) = self.backlog.borrow_mut().push(p) {
            self.log.write(LogLevel::Warn, || {
                format!(
                    "history backlog full ({} snapshots waiting for the store): dropped the oldest, post item {} at {}",
                    self.options.max_pending, dropped.post_item_id, dropped.snapshot.fetched_at
                )
            });
        }
    }

    /// Writes the snapshots that waited, oldest first, one flush at a time; each leaves the
    /// backlog only once the store acknowledged it (a read meanwhile still sees it). Returns how
    /// many the store added.
    pub(crate) async fn flush(&self) -> u32 {
        if self.flushing.replace(true) {
            return 0;
        }
        let mut added = 0;
        loop {
            let Some(p) = self.backlog.borrow().oldest() else { break };
            match self.write(&p).await {
                Written::Failed(_) => break,
                written => {
                    added += u32::from(written == Written::Added);
                    self.backlog.borrow_mut().acknowledged(&p.key, p.at_ms);
                }
            }
        }
        self.flushing.set(false);
        added
    }

    /// Snapshots waiting for the store.
    pub(crate) fn pending(&self) -> usize {
        self.backlog.borrow().len()
    }

    /// A read from the store: refused at once while it rests after a failure (a hung store costs
    /// one bounded wait, not one per item), and its outcome reported. The store is called only
    /// when it is used: a JS promise nobody awaits would reject unhandled.
    async fn read<T: 'static>(&self, op: &str, call: impl FnOnce() -> crate::cache::StoreFuture<T>) -> Result<T, Error> {
        if self.resting() {
            return Err(self.store_error(op, "it failed less than 5 s ago; tried again after that"));
        }
        let outcome = within(call()).await;
        self.report(op, outcome.as_ref().map(|_| ()).map_err(Clone::clone));
        outcome.map_err(|why| self.store_error(op, &why))
    }

    fn store_error(&self, op: &str, why: &str) -> Error {
        // What a store threw is outside text: the key is redacted from it, as in log lines.
        let why = crate::error::redact(why, self.log.secret.as_deref());
        Error::new(ErrorKind::Store, format!("The history store failed ({op}: {why}). Check that it is reachable; recording goes on meanwhile."))
    }

    /// Notes that the API was asked about `id` at `at` (best effort: a failure costs at most
    /// one more request next run).
    pub(crate) async fn mark_checked(&self, id: &str, at: f64) {
        let key = self.keys(id).1;
        if self.resting() {
            return;
        }
        let outcome = within(self.store.set(&key, format!("{}", at.round() as i64))).await;
        self.report("set", outcome);
    }

    /// The history of `id`: what the store holds, with the snapshots still waiting for it
    /// (not written first: a read does not wait for the backlog).
    pub(crate) async fn history(&self, id: &str) -> Result<History, Error> {
        self.history_and_check(id).await.map(|(h, _)| h)
    }

    /// [`Recorder::history`] and when the API was last asked about `id`, in one read each.
    pub(crate) async fn history_and_check(&self, id: &str) -> Result<(History, Option<f64>), Error> {
        let (key, checked_key) = self.keys(id);
        let texts = self.read("list", || self.store.list(&key)).await?;
        let mut snapshots: Vec<Snapshot> = Vec::with_capacity(texts.len());
        for text in &texts {
            // A store is outside data: what does not read as a snapshot is left out.
            match from_json(text) {
                Some(s) => snapshots.push(s),
                None => self.log.write(LogLevel::Debug, || format!("post item {id}: a stored history entry is not a snapshot; left out")),
            }
        }
        snapshots.extend(self.backlog.borrow().of(&key));
        // When the API was last asked about it (the recorder's record): whole milliseconds
        // (integer parsing: float parsing's tables are 10 KB of the module).
        let checked = self.read("get", || self.store.get(&checked_key)).await?;
        let checked = checked.and_then(|t| t.trim().parse::<i64>().ok()).map(|t| t as f64);
        Ok((History::build(id, snapshots, checked, self.interval()), checked))
    }
}

fn to_json(s: &Snapshot) -> Option<String> {
    js_sys::JSON::stringify(&crate::validate::to_js(s)).ok().and_then(|t| t.as_string())
}

/// A stored snapshot, read as response bodies are (JSON.parse, then serde-wasm-bindgen), and
/// checked: its `fetched_at` must be RFC 3339.
fn from_json(text: &str) -> Option<Snapshot> {
    let value: JsValue = js_sys::JSON::parse(text).ok()?;
    let s: Snapshot = crate::validate::from_js(value).ok()?;
    s.at_ms().map(|_| s)
}
