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
                        Unrecorded::Future => "is more than 5 min ahead of this clock",
                        _ => "is not an RFC 3339 timestamp",
                    };
                    format!("post item {id}: snapshot not recorded in the history: fetched_at {fetched_at} {what}")
                });
                return Recorded::Nothing;
            }
        };
        let key = self.keys(id).0;
        self.flush().await;
        self.write(Pending { key, post_item_id: id.to_owned(), at_ms: at, snapshot }).await
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

    /// Writes one snapshot, or queues it while the store fails.
    async fn write(&self, p: Pending) -> Recorded {
        if self.resting() {
            self.wait(p);
            return Recorded::Waiting;
        }
        let Some(text) = to_json(&p.snapshot) else { return Recorded::Nothing };
        match within(self.store.append(&p.key, p.at_ms, text)).await {
            Ok(added) => {
                self.report("append", Ok(()));
                if added {
                    Recorded::Added
                } else {
                    Recorded::Known
                }
            }
            Err(why) => {
                self.report("append", Err(why));
                self.wait(p);
                Recorded::Waiting
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

    /// Writes the snapshots that waited, oldest first; those the store refuses again wait on.
    pub(crate) async fn flush(&self) {
        if self.backlog.borrow().len() == 0 || self.resting() {
            return;
        }
        let waiting = self.backlog.borrow_mut().take();
        let mut rest = waiting.into_iter();
        while let Some(p) = rest.next() {
            if self.write(p).await == Recorded::Waiting {
                for p in rest.by_ref() {
                    self.wait(p);
                }
            }
        }
    }

    /// Snapshots waiting for the store.
    pub(crate) fn pending(&self) -> usize {
        self.backlog.borrow().len()
    }

    /// When the API was last asked about `id` (the recorder's record), if the store says.
    pub(crate) async fn checked_at(&self, id: &str) -> Result<Option<f64>, Error> {
        let text = within(self.store.get(&self.keys(id).1)).await.map_err(|why| store_error("get", &why))?;
        // Whole milliseconds (integer parsing: float parsing's tables are 10 KB of the module).
        Ok(text.and_then(|t| t.trim().parse::<i64>().ok()).map(|t| t as f64))
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

    /// The history of `id`: what the store holds, with the snapshots still waiting for it.
    pub(crate) async fn history(&self, id: &str) -> Result<History, Error> {
        self.flush().await;
        let (key, _) = self.keys(id);
        let texts = within(self.store.list(&key)).await.map_err(|why| store_error("list", &why))?;
        let mut snapshots: Vec<Snapshot> = Vec::with_capacity(texts.len());
        for text in &texts {
            // A store is outside data: what does not read as a snapshot is left out.
            match from_json(text) {
                Some(s) => snapshots.push(s),
                None => self.log.write(LogLevel::Debug, || format!("post item {id}: a stored history entry is not a snapshot; left out")),
            }
        }
        snapshots.extend(self.backlog.borrow().of(&key));
        let checked = self.checked_at(id).await?;
        Ok(History::build(id, snapshots, checked, self.interval()))
    }
}

fn store_error(op: &str, why: &str) -> Error {
    Error::new(ErrorKind::Store, format!("The history store failed ({op}: {why}). Check that it is reachable; recording goes on meanwhile."))
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
