//! The cache's storage: entries in memory, or in the caller's [`CacheStore`] (IndexedDB, Redis,
//! a KV namespace) behind a bounded, failure-tolerant adapter. Used by the client and the proxy.
//! wasm-only (store calls are JS promises, bounded by a JS timer).
//!
//! A store is a cache, never a point of failure: every operation is bounded to
//! [`STORE_TIMEOUT_MS`], a failed or slow `get` is a miss, and while the store fails the entries
//! are kept in memory instead (the first failure is logged once at warn level, the recovery at
//! info).

use std::cell::RefCell;
#[cfg(feature = "proxy")]
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;

use js_sys::Reflect;
use wasm_bindgen::JsValue;
use web_sys::AbortSignal;

use crate::cache::{CacheOptions, CacheStore, Entry, Lru, StoreFuture};
use crate::log::Log;
#[cfg(feature = "proxy")]
use crate::log::LogLevel;

/// Store operations wait at most this long: a store that never answers costs a miss, not a
/// lookup that never ends.
pub(crate) const STORE_TIMEOUT_MS: u64 = 1000;

/// After a store failure, the store is left alone this long before it is tried again, so an
/// outage costs one bounded wait, not one per lookup.
#[cfg(feature = "proxy")]
const STORE_RETRY_MS: u64 = 5000;



/// `op`, or `None` if it takes longer than [`STORE_TIMEOUT_MS`] or `signal` fires first.
pub(crate) async fn bounded<T>(op: Pin<Box<dyn Future<Output = T>>>, signal: Option<&AbortSignal>) -> Option<T> {
    within(STORE_TIMEOUT_MS, op, signal).await
}

/// `op`, or `None` if it takes longer than `ms` or `signal` fires first.
pub(crate) async fn within<T>(ms: u64, op: Pin<Box<dyn Future<Output = T>>>, signal: Option<&AbortSignal>) -> Option<T> {
    let mut op = op;
    let mut timer = Box::pin(crate::transport::sleep(ms, signal));
    std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = op.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        if timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
}

/// A cache: its options, the partition of its keys, and where entries live.
pub(crate) struct Cache {
    pub(crate) options: CacheOptions,
    /// Base URL, workspace and key fingerprint: the prefix of every entry's key.
    pub(crate) partition: String,
    memory: RefCell<Lru>,
    /// Store keys written by this client, for `clear` (a store cannot be listed).
    written: RefCell<Vec<String>>,
    /// Health of the store (shared with background writes): when it last failed.
    health: Reporter,
}

/// When the store last failed, and the log that says so.
#[cfg(feature = "proxy")]
struct Health {
    failed_at: Cell<Option<f64>>,
    log: Log,
}

#[cfg(feature = "proxy")]
type Reporter = Rc<Health>;

// The browser entries keep today's behaviour (a failed operation is a miss, nothing logged)
// and their size; the proxy, where a shared store is the point, reports and rests it.
#[cfg(not(feature = "proxy"))]
#[derive(Clone)]
struct Reporter;

#[cfg(not(feature = "proxy"))]
impl Reporter {
    fn report(&self, _op: &str, _outcome: Result<(), String>) {}

    fn resting(&self, _now: f64) -> bool {
        false
    }
}

#[cfg(feature = "proxy")]
impl Health {
    /// Records how a store operation went.
    fn report(&self, op: &str, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => {
                if self.failed_at.take().is_some() {
                    self.log.write(LogLevel::Info, || "the cache store answers again; using it".into());
                }
            }
            Err(why) => {
                if self.failed_at.replace(Some(js_sys::Date::now())).is_none() {
                    self.log.write(LogLevel::Warn, || {
                        format!(
                            "the cache store failed ({op}: {why}); lookups go on without it (entries kept in memory) \
                             and it is tried again every {} s",
                            STORE_RETRY_MS / 1000
                        )
                    });
                }
            }
        }
    }

    /// Whether the store is left alone now, after a recent failure.
    fn resting(&self, now: f64) -> bool {
        self.failed_at.get().is_some_and(|t| now >= t && now - t < STORE_RETRY_MS as f64)
    }
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").field("options", &self.options).finish_non_exhaustive()
    }
}

/// A store operation's outcome: what it gave, or why it failed (an error, or no answer in time).
async fn attempt<T>(op: StoreFuture<T>, signal: Option<&AbortSignal>) -> Result<T, String> {
    // Why is only said where it is logged (the proxy build).
    bounded(op, signal).await.unwrap_or_else(|| Err(if cfg!(feature = "proxy") { "no answer within 1 s".into() } else { String::new() }))
}

impl Cache {
    pub(crate) fn new(options: CacheOptions, partition: String, log: Log) -> Cache {
        Cache {
            memory: RefCell::new(Lru::new(options.max_entries)),
            options,
            partition,
            written: RefCell::new(Vec::new()),
            #[cfg(feature = "proxy")]
            health: Rc::new(Health { failed_at: Cell::new(None), log }),
            #[cfg(not(feature = "proxy"))]
            health: {
                let _ = log;
                Reporter
            },
        }
    }

    /// The store to use now: none without one, or while it rests after a failure.
    fn store(&self, now: f64) -> Option<&Rc<dyn CacheStore>> {
        self.options.store.as_ref().filter(|_| !self.health.resting(now))
    }

    /// A fresh entry for `key` (about post item `id`), if there is one.
    pub(crate) async fn read(&self, key: &str, id: &str, now: f64, signal: Option<&AbortSignal>) -> Option<Entry> {
        let Some(store) = self.store(now) else { return self.memory.borrow_mut().get(key, now) };
        let text = match attempt(store.get(key), signal).await {
            Ok(text) => {
                self.health.report("get", Ok(()));
                text?
            }
            Err(why) => {
                // An abort by the caller is not the store's failure.
                if !signal.is_some_and(AbortSignal::aborted) {
                    self.health.report("get", Err(why));
                }
                return self.memory.borrow_mut().get(key, now);
            }
        };
        match stored_entry(&text, id, &self.options, now) {
            Some(e) if e.is_fresh(now) => Some(e),
            _ => {
                // Stale or unreadable: removed in the background.
                let (store, key, health) = (Rc::clone(store), key.to_owned(), self.health.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    let outcome = attempt(store.delete(&key), None).await;
                    health.report("delete", outcome);
                });
                None
            }
        }
    }

    /// Stores `entry` under `key`, in the background: the caller has its result, and a slow
    /// store must not hold it.
    pub(crate) fn write(&self, key: &str, entry: Entry) {
        if let Some(pending) = self.start_write(key, entry) {
            let health = self.health.clone();
            wasm_bindgen_futures::spawn_local(async move {
                health.report("set", attempt(pending, None).await);
            });
        }
    }

    /// Stores `entry` under `key` and waits for the store (bounded): the proxy answers only
    /// once another instance asking next would find the entry. A failed write keeps the entry
    /// in memory.
    #[cfg(feature = "proxy")]
    pub(crate) async fn write_now(&self, key: &str, entry: Entry) {
        let kept = (key.to_owned(), entry.clone());
        if let Some(pending) = self.start_write(key, entry) {
            let outcome = attempt(pending, None).await;
            if outcome.is_err() {
                self.memory.borrow_mut().put(kept.0, kept.1);
            }
            self.health.report("set", outcome);
        }
    }

    /// Puts `entry` in memory (no store, or a resting one) or starts the store's `set`.
    fn start_write(&self, key: &str, entry: Entry) -> Option<StoreFuture<()>> {
        let Some(store) = self.store(entry.stored_at_ms) else {
            self.memory.borrow_mut().put(key.to_owned(), entry);
            return None;
        };
        let record = js_sys::Object::new();
        let _ = Reflect::set(&record, &JsValue::from_str("item"), &crate::validate::to_js(&entry.item));
        let _ = Reflect::set(&record, &JsValue::from_str("storedAt"), &JsValue::from_f64(entry.stored_at_ms));
        let text = js_sys::JSON::stringify(&record).ok().and_then(|t| t.as_string())?;
        {
            // What `clear` deletes, bounded like the memory cache.
            let mut written = self.written.borrow_mut();
            if !written.iter().any(|k| k == key) {
                written.push(key.to_owned());
                if written.len() > self.options.max_entries {
                    written.remove(0);
                }
            }
        }
        Some(store.set(key, text))
    }

    /// Empties memory and deletes what this cache wrote to its store.
    pub(crate) async fn clear(&self) {
        self.memory.borrow_mut().clear();
        let written: Vec<String> = std::mem::take(&mut *self.written.borrow_mut());
        if let Some(store) = &self.options.store {
            for key in written {
                let outcome = attempt(store.delete(&key), None).await;
                self.health.report("delete", outcome);
            }
        }
    }
}

/// What [`Cache::claim`] found: this instance fetches the item (and releases the lock key
/// after), another one does, or the store cannot say.
#[cfg(feature = "proxy")]
pub(crate) enum Claim {
    /// The claim's key and this instance's token in it.
    Mine(String, String),
    Theirs,
    Unknown,
}

/// Where the claim on entry `key` is kept: a key no entry can have (entries' keys all start with
/// the partition's `powerpost-analytics/v1`, whatever the id).
#[cfg(feature = "proxy")]
fn claim_key(key: &str) -> String {
    format!("powerpost-analytics/claim {key}")
}

/// How long a claimant waits after writing its claim before reading it back: any instance that
/// read "no claim" before it wrote its own has written it by then (a store round trip is well
/// under a millisecond on a LAN), and the last writer wins.
#[cfg(feature = "proxy")]
const CLAIM_SETTLE_MS: u64 = 20;

/// How often an instance waiting on another's claim looks for the entry.
#[cfg(feature = "proxy")]
const CLAIM_POLL_MS: u64 = 25;

#[cfg(feature = "proxy")]
impl Cache {
    /// Claims the fetch of `key` for this instance among all that share the store, for at most
    /// `hold_ms`: with the store's atomic `add`, exactly one wins; with only get and set, two
    /// could both win if one's read and write were more than [`CLAIM_SETTLE_MS`] apart.
    pub(crate) async fn claim(&self, key: &str, hold_ms: f64) -> Claim {
        let now = js_sys::Date::now();
        let Some(store) = self.store(now) else { return Claim::Unknown };
        let lock = claim_key(key);
        let token = format!("{:x}", (js_sys::Math::random() * 9_007_199_254_740_991.0) as u64);
        let Ok(text) = serde_json::to_string(&ClaimRecord { claim: token.clone(), until: now + hold_ms }) else { return Claim::Unknown };
        // Atomic where the store can: exactly one instance wins. (A claim left by a crashed
        // instance is "theirs" here, and `wait_for_entry` sees that it expired.)
        if let Some(adding) = store.add(&lock, text.clone()) {
            return match attempt(adding, None).await {
                Ok(true) => Claim::Mine(lock, token),
                Ok(false) => Claim::Theirs,
                Err(why) => {
                    self.health.report("add", Err(why));
                    Claim::Unknown
                }
            };
        }
        match attempt(store.get(&lock), None).await {
            Ok(Some(text)) if claim_of(&text).is_some_and(|c| c.until > now) => return Claim::Theirs,
            Ok(_) => {}
            Err(why) => {
                self.health.report("get", Err(why));
                return Claim::Unknown;
            }
        }
        if let Err(why) = attempt(store.set(&lock, text), None).await {
            self.health.report("set", Err(why));
            return Claim::Unknown;
        }
        let _ = crate::transport::sleep(CLAIM_SETTLE_MS, None).await;
        match attempt(store.get(&lock), None).await {
            Ok(Some(text)) if claim_of(&text).is_some_and(|c| c.claim != token) => Claim::Theirs,
            Ok(_) => Claim::Mine(lock, token),
            Err(why) => {
                self.health.report("get", Err(why));
                Claim::Unknown
            }
        }
    }

    /// Waits for the entry of `key` that another instance is fetching; `None` when its claim
    /// ends (released or expired) without one, or after `hold_ms`.
    pub(crate) async fn wait_for_entry(&self, key: &str, id: &str, hold_ms: f64) -> Option<Entry> {
        let lock = claim_key(key);
        let deadline = js_sys::Date::now() + hold_ms;
        loop {
            let _ = crate::transport::sleep(CLAIM_POLL_MS, None).await;
            let now = js_sys::Date::now();
            if let Some(entry) = self.read(key, id, now, None).await {
                return Some(entry);
            }
            let store = self.store(now)?;
            let claimed = match attempt(store.get(&lock), None).await {
                Ok(Some(text)) => claim_of(&text).is_some_and(|c| c.until > now),
                _ => false,
            };
            if !claimed || now >= deadline {
                // The claimant may have stored the entry and ended its claim between the two reads.
                return self.read(key, id, js_sys::Date::now(), None).await;
            }
        }
    }

    /// Ends this instance's claim, if the claim is still its own (one that outlived its hold may
    /// be another instance's by now). Tried even while the store rests after a failure: a claim
    /// left behind would hold the others back until it expires.
    pub(crate) async fn release(&self, lock: &str, token: &str) {
        let Some(store) = &self.options.store else { return };
        match attempt(store.get(lock), None).await {
            Ok(Some(text)) if claim_of(&text).is_some_and(|c| c.claim == token) => {
                let outcome = attempt(store.delete(lock), None).await;
                self.health.report("delete", outcome);
            }
            Ok(_) => {}
            Err(why) => self.health.report("get", Err(why)),
        }
    }
}

/// A stored claim: its owner's token and until when it holds.
#[cfg(feature = "proxy")]
#[derive(serde::Serialize, serde::Deserialize)]
struct ClaimRecord {
    claim: String,
    until: f64,
}

/// The claim stored as `text`, if it is one. Parsed by the JS engine and read by
/// serde-wasm-bindgen, as response bodies are (serde_json's reader would add 10 KiB).
#[cfg(feature = "proxy")]
fn claim_of(text: &str) -> Option<ClaimRecord> {
    serde_wasm_bindgen::from_value(js_sys::JSON::parse(text).ok()?).ok()
}

/// An entry read back from a store: its item goes through the validator again (a store is
/// outside data too), and its life is computed again from the time it was stored (a stored
/// expiry could be anything). An entry stored by a host whose clock runs ahead by up to
/// [`CLOCK_SKEW_MS`](crate::history::CLOCK_SKEW_MS) counts as stored now, not from the future.
fn stored_entry(text: &str, id: &str, options: &CacheOptions, now: f64) -> Option<Entry> {
    let record = js_sys::JSON::parse(text).ok()?;
    let get = |name: &str| Reflect::get(&record, &JsValue::from_str(name)).ok();
    let doc = crate::validate::from_js(get("item")?).ok()?;
    let item = crate::validate::validate(doc, Some(id)).ok()?;
    let stored_at = get("storedAt")?.as_f64().filter(|t| t.is_finite())?;
    let stored_at = if stored_at > now && stored_at - now <= crate::history::CLOCK_SKEW_MS { now } else { stored_at };
    Some(Entry::new(item, stored_at, options))
}
