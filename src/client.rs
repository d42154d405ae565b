//! The client: one lookup with timeouts, retries and cancellation, and batch lookups that share
//! one rate-limit pause. wasm-only (the request goes through `fetch`).

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;

use js_sys::Reflect;
use wasm_bindgen::JsValue;
use web_sys::AbortSignal;

use crate::config::{
    check_concurrency, check_max_retries, ClientOptions, Config, Env, Opt, Runtime, UnreadEnv, ENV_API_KEY,
    ENV_BASE_URL, ENV_WORKSPACE_ID,
};
use crate::error::{Error, ErrorKind};
use crate::response::{self, fmt_wait};
use crate::cache::{partition, CacheMode, Entry};
#[cfg(feature = "proxy")]
use crate::cache::CacheOptions;
use crate::history::{History, HistoryOptions};
use crate::history_store::{Recorded, Recorder};
use crate::inflight::InFlight;
use crate::store::Cache;
use crate::log::LogLevel;
#[cfg(feature = "observe")]
use crate::observe::{CacheResult, Event, Trace};
use crate::retry::{backoff_ms, WaitSource};
use crate::transport;
use crate::types::{PostItemAnalytics, RateLimit};

/// `globalThis[a][b]…`, or undefined when a step is missing or its getter throws (Deno without
/// `--allow-env` throws on `process.env` reads).
fn global_path(path: &[&str]) -> JsValue {
    let mut v: JsValue = js_sys::global().into();
    for key in path {
        if !v.is_object() && !v.is_function() {
            return JsValue::UNDEFINED;
        }
        v = Reflect::get(&v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
    }
    v
}

/// Why this runtime counts as a browser (a page or a web worker, where an API key is visible
/// to visitors), or `None` for a server.
pub(crate) fn browser_reason() -> Option<&'static str> {
    let defined = global_defined;
    if defined("window") && defined("document") {
        return Some("a `window` and a `document` exist, as in a page or under jsdom or happy-dom");
    }
    // Web workers have WorkerGlobalScope; so do Cloudflare Workers, which run on a server.
    if defined("WorkerGlobalScope") {
        let ua = global_path(&["navigator", "userAgent"]).as_string().unwrap_or_default();
        if defined("importScripts") || !ua.starts_with("Cloudflare-Workers") {
            return Some("this is a web worker");
        }
    }
    None
}

/// Whether `globalThis[name]` is defined.
pub(crate) fn global_defined(name: &str) -> bool {
    !global_path(&[name]).is_undefined()
}

/// The `POWERPOST_*` variables of `process.env`, where the runtime has one.
pub(crate) fn process_env() -> Env {
    Env::read(|name| global_path(&["process", "env", name]).as_string())
}

/// Per-call options.
#[derive(Debug, Clone, Default)]
pub struct RequestOptions {
    /// Aborts the request in flight and any retry wait at once.
    pub signal: Option<AbortSignal>,
    /// Overrides the client's per-attempt timeout.
    pub timeout_ms: Option<u64>,
    /// Overrides the client's retry count.
    pub max_retries: Option<u32>,
    /// How this call uses the client's cache, when it has one.
    pub cache: CacheMode,
    /// Reports this call's lookups to an observer instead of the client's (feature `observe`).
    #[cfg(feature = "observe")]
    pub observer: Option<crate::observe::ObserverRef>,
}

#[cfg(feature = "observe")]
impl RequestOptions {
    /// These options for lookup `lookup` of a call over many ids (its events say which).
    fn for_lookup(&self, lookup: u32) -> RequestOptions {
        RequestOptions { observer: self.observer.as_ref().map(|o| o.at(lookup)), ..self.clone() }
    }
}

/// One entry of a batch result, in input order.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BatchItem {
    /// The id as given.
    pub post_item_id: String,
    /// Its analytics, or why not.
    pub result: Result<PostItemAnalytics, Error>,
    /// Whether the analytics came from the client's cache.
    pub from_cache: bool,
}

/// What [`Client::record_snapshots`] did.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RecordSummary {
    /// The ids whose next snapshot was due, and which were looked up (input order, once each).
    pub looked_up: Vec<String>,
    /// The ids not due: their latest snapshot is less than an interval old, or their series is
    /// complete and was checked within the week.
    pub skipped: Vec<String>,
    /// New snapshots the store acknowledged.
    pub recorded: u32,
    /// Snapshots waiting in memory for a failing store (written when it answers again).
    pub pending: u32,
    /// The ids whose lookup failed, and why (the others were recorded all the same).
    pub errors: Vec<(String, Error)>,
}

/// A lookup's result and where it came from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Lookup {
    /// The analytics.
    pub item: PostItemAnalytics,
    /// True when served from the client's cache (no request was made).
    pub from_cache: bool,
}

/// What the proxy answers with besides the item: until when the snapshot rule keeps it current
/// (its `Cache-Control`), and the response's request id and rate limit (passed on). Only the
/// proxy build collects them; the browser entries stay as they were.
#[cfg(feature = "proxy")]
#[derive(Debug, Clone, Default)]
pub(crate) struct Meta {
    pub(crate) fresh_until_ms: f64,
    pub(crate) request_id: Option<String>,
    pub(crate) rate_limit: Option<RateLimit>,
}

/// A lookup as the client's paths share it: the item, whether it came from the cache, and (the
/// proxy build) its [`Meta`].
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub(crate) item: PostItemAnalytics,
    pub(crate) from_cache: bool,
    #[cfg(feature = "proxy")]
    pub(crate) meta: Meta,
}

impl Found {
    fn cached(entry: Entry) -> Found {
        Found {
            #[cfg(feature = "proxy")]
            meta: Meta { fresh_until_ms: entry.fresh_until_ms, ..Meta::default() },
            item: entry.item,
            from_cache: true,
        }
    }
}

/// A PowerPost analytics client. Cheap to clone: clones share configuration and the last
/// seen rate limit.
///
/// ```ignore
/// use powerpost_analytics::{Client, ClientOptions};
///
/// let client = Client::new(ClientOptions::new().base_url("/api/powerpost"))?;
/// let item = client.get_post_item_analytics("550e8400-e29b-41d4-a716-446655440000").await?;
/// if let Some(m) = &item.metrics {
///     println!("{} views as of {}", m.views, m.fetched_at);
/// }
/// ```
///
/// (Not a doc test: the client exists on wasm32 only, where doc tests do not run. The README's
/// fuller example is compiled for wasm32 by `make test`, in `tests/rust-app`.)
#[derive(Clone, Debug)]
pub struct Client {
    inner: Rc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    rate_limit: Cell<Option<RateLimit>>,
    /// Request headers, built on first use and shared by every request of this client.
    headers: std::cell::OnceCell<web_sys::Headers>,
    cache: Option<Cache>,
    /// Lookups in flight, shared by concurrent lookups of one id (with a cache, or in a proxy).
    in_flight: Option<InFlight<Fetched>>,
    /// Snapshot history, when turned on.
    history: Option<Rc<Recorder>>,
    /// A proxy's upstream slots: each attempt takes one.
    #[cfg(feature = "proxy")]
    upstream: Option<Rc<crate::proxy::upstream::Upstream>>,
}

/// What one request (or the request shared with it) gave.
#[derive(Clone)]
struct Fetched {
    item: PostItemAnalytics,
    #[cfg(feature = "proxy")]
    request_id: Option<String>,
    #[cfg(feature = "proxy")]
    rate_limit: Option<RateLimit>,
}

/// A shared "nobody starts a request before…" time, for the workers of one batch.
#[derive(Default)]
struct Gate {
    until_ms: Cell<f64>,
}

impl Gate {
    async fn wait(&self, signal: Option<&AbortSignal>) -> Result<(), Error> {
        loop {
            let now = now_ms();
            let until = self.until_ms.get();
            if until <= now {
                return Ok(());
            }
            transport::sleep((until - now).ceil() as u64, signal).await?;
        }
    }

    /// How long the pause still lasts, in milliseconds (0 when there is none).
    #[cfg(feature = "observe")]
    fn remaining_ms(&self) -> f64 {
        (self.until_ms.get() - now_ms()).max(0.0)
    }

    /// Moves the pause's end to `t` if that is later; true when it did.
    fn pause_until(&self, t: f64) -> bool {
        let later = t > self.until_ms.get();
        if later {
            self.until_ms.set(t);
        }
        later
    }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

impl Client {
    /// Resolves `options` against the environment (`POWERPOST_*` variables where the runtime
    /// has them; never in browsers) and checks them (see [`Config::resolve`]).
    pub fn new(mut options: ClientOptions) -> Result<Client, Error> {
        let env = process_env();
        let (runtime, env) = match browser_reason() {
            None => (Runtime::Server, env),
            Some(why) => {
                // Not read, but named in messages, so "no API key" does not hide a set variable.
                let set = [(ENV_API_KEY, &env.api_key), (ENV_WORKSPACE_ID, &env.workspace_id), (ENV_BASE_URL, &env.base_url)];
                let names = set.iter().filter(|(_, v)| v.is_some()).map(|(n, _)| *n).collect();
                options.unread_env = Some(UnreadEnv { names, why });
                (Runtime::Browser, Env::default())
            }
        };
        Ok(Client::from_config(Config::resolve(options, &env, runtime)?))
    }

    /// A client for an already resolved configuration.
    pub fn from_config(config: Config) -> Client {
        Client::build(config, false)
    }

    /// A client; `share` makes concurrent lookups of one id share one request even without a
    /// cache (the proxy's case: many browsers ask for the same item at once).
    pub(crate) fn build(config: Config, share: bool) -> Client {
        let cache = config.cache.clone().map(|options| {
            let partition = partition(config.base_url(), config.workspace_id(), config.api_key.as_deref());
            Cache::new(options, partition, config.log.clone())
        });
        let in_flight = (share || cache.is_some()).then(InFlight::default);
        let history = config
            .history
            .clone()
            .map(|o| Rc::new(Recorder::new(o, config.base_url(), config.workspace_id(), config.log.clone())));
        Client {
            inner: Rc::new(Inner {
                config,
                rate_limit: Cell::new(None),
                headers: std::cell::OnceCell::new(),
                cache,
                in_flight,
                history,
                #[cfg(feature = "proxy")]
                upstream: None,
            }),
        }
    }

    /// This (new) client, each of its attempts taking a slot of `upstream` first; with a shared
    /// store, the pause at the rate limit is kept there too.
    #[cfg(feature = "proxy")]
    pub(crate) fn with_upstream(mut self, upstream: Rc<crate::proxy::upstream::Upstream>) -> Client {
        if let Some(c) = &self.inner.cache {
            if let Some(store) = &c.options.store {
                upstream.share_pause(Rc::clone(store), format!("powerpost-analytics/pause {}", c.partition));
            }
        }
        if let Some(inner) = Rc::get_mut(&mut self.inner) {
            inner.upstream = Some(upstream);
        }
        self
    }

    /// Empties the client's cache: memory, and what this client wrote to a store.
    pub async fn clear_cache(&self) {
        if let Some(cache) = &self.inner.cache {
            cache.clear().await;
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The `X-RateLimit-*` headers of the last response that carried them.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.inner.rate_limit.get()
    }

    /// Fetches and validates the analytics of one post item, with the client's defaults.
    pub async fn get_post_item_analytics(&self, post_item_id: &str) -> Result<PostItemAnalytics, Error> {
        self.get_post_item_analytics_with(post_item_id, &RequestOptions::default()).await
    }

    /// Fetches and validates the analytics of one post item.
    ///
    /// Connection failures, timeouts, 408, 429, 500, 502, 503 and 504 are retried up to
    /// `max_retries` times, waiting what the server asks (`Retry-After`, the body's
    /// `retryAfter`, the rate-limit reset) or backing off exponentially. Dropping the future
    /// aborts the request in flight.
    pub async fn get_post_item_analytics_with(
        &self,
        post_item_id: &str,
        options: &RequestOptions,
    ) -> Result<PostItemAnalytics, Error> {
        self.lookup(post_item_id, options).await.map(|l| l.item)
    }

    /// [`Client::get_post_item_analytics_with`], saying whether the result came from the
    /// client's cache (see [`ClientOptions::cache`]).
    pub async fn lookup(&self, post_item_id: &str, options: &RequestOptions) -> Result<Lookup, Error> {
        let found = self.lookup_in(post_item_id, options, None).await.map_err(|e| e.with_post_item_id(post_item_id))?;
        Ok(Lookup { item: found.item, from_cache: found.from_cache })
    }

    /// One lookup through the cache, when there is one: a fresh entry is served; otherwise one
    /// request is made, shared by the lookups of the same id that come while it is in flight.
    async fn lookup_in(&self, id: &str, options: &RequestOptions, gate: Option<&Gate>) -> Result<Found, Error> {
        self.lookup_shared(id, options, gate, false).await
    }

    /// The observer of a call with `options`: its own, or the client's (lookup 0 of the call).
    #[cfg(feature = "observe")]
    fn trace(&self, options: &RequestOptions) -> Trace {
        Trace(options.observer.clone().or_else(|| self.inner.config.observer.clone()))
    }

    /// `work` (one lookup of `id`) between its start and end events.
    #[cfg(feature = "observe")]
    async fn traced<T>(&self, id: &str, trace: &Trace, work: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        trace.emit(|lookup| {
            let (url_template, server_address, server_port) = crate::observe::target_of(self.inner.config.base_url());
            let url_full = self.inner.config.analytics_url(id).unwrap_or_default();
            Event::LookupStart { lookup, post_item_id: id.to_owned(), url_full, url_template, server_address, server_port }
        });
        let result = work.await;
        trace.emit(|lookup| Event::LookupEnd {
            lookup,
            error_type: result.as_ref().err().map(|e| e.kind().class_name().to_owned()),
            status: result.as_ref().err().and_then(Error::status),
        });
        result
    }

    /// [`Client::lookup`] for the proxy: a result is written to the cache's store before it is
    /// returned, so that the next instance asked finds it.
    #[cfg(feature = "proxy")]
    pub(crate) async fn lookup_stored(&self, id: &str, options: &RequestOptions) -> Result<Found, Error> {
        self.lookup_shared(id, options, None, true).await.map_err(|e| e.with_post_item_id(id))
    }

    /// [`Client::lookup_in`]; with `wait_for_store`, a result is written to the cache's store
    /// before it is returned.
    #[cfg(feature = "observe")]
    async fn lookup_shared(&self, id: &str, options: &RequestOptions, gate: Option<&Gate>, wait_for_store: bool) -> Result<Found, Error> {
        let trace = self.trace(options);
        if trace.on() {
            return self.traced(id, &trace, self.lookup_body(id, options, gate, wait_for_store)).await;
        }
        self.lookup_body(id, options, gate, wait_for_store).await
    }

    /// [`Client::lookup_body`] itself: without observers, no future around it.
    #[cfg(not(feature = "observe"))]
    fn lookup_shared<'a>(&'a self, id: &'a str, options: &'a RequestOptions, gate: Option<&'a Gate>, wait_for_store: bool) -> impl Future<Output = Result<Found, Error>> + 'a {
        self.lookup_body(id, options, gate, wait_for_store)
    }

    /// [`Client::lookup_shared`]'s work.
    async fn lookup_body(&self, id: &str, options: &RequestOptions, gate: Option<&Gate>, #[allow(unused)] wait_for_store: bool) -> Result<Found, Error> {
        let cache = self.inner.cache.as_ref().filter(|_| options.cache != CacheMode::NoStore);
        #[cfg(feature = "proxy")]
        let rule = cache.map_or_else(CacheOptions::default, |c| c.options.clone());
        #[cfg_attr(not(feature = "proxy"), allow(unused_variables))]
        let network = |f: Fetched, now: f64| Found {
            #[cfg(feature = "proxy")]
            meta: Meta { fresh_until_ms: crate::cache::fresh_until(&f.item, now, &rule), request_id: f.request_id, rate_limit: f.rate_limit },
            item: f.item,
            from_cache: false,
        };
        let in_flight = match &self.inner.in_flight {
            Some(f) if cache.is_some() || self.inner.cache.is_none() => f,
            _ => return self.fetch(id, options, gate).await.map(|f| network(f, now_ms())),
        };
        let log = &self.inner.config.log;
        crate::config::check_post_item_id(id)?;
        let key = match cache {
            Some(c) => format!("{}{id}", c.partition),
            None => id.to_owned(),
        };
        loop {
            if let Some(cache) = cache.filter(|_| options.cache == CacheMode::Default) {
                let now = now_ms();
                if let Some(entry) = cache.read(&key, id, now, options.signal.as_ref()).await {
                    log.write(LogLevel::Debug, || {
                        format!("cache hit for post item {id} (fresh for {} more)", fmt_wait((entry.fresh_until_ms - now).max(0.0) as u64))
                    });
                    #[cfg(feature = "observe")]
                    self.trace(options).emit(|lookup| Event::Cache { lookup, result: CacheResult::Hit });
                    return Ok(Found::cached(entry));
                }
            }
            // A lookup with a signal of its own does not wait on another's request.
            if let Some(shared) = in_flight.find(&key).filter(|_| options.signal.is_none()) {
                log.write(LogLevel::Debug, || format!("post item {id}: sharing the request in flight"));
                match shared.wait().await {
                    Some(result) => {
                        #[cfg(feature = "observe")]
                        self.trace(options).emit(|lookup| Event::Cache { lookup, result: CacheResult::Shared });
                        return result.map(|f| network(f, now_ms()));
                    }
                    None => continue,
                }
            }
            if cache.is_some() {
                log.write(LogLevel::Debug, || format!("cache miss for post item {id}"));
                #[cfg(feature = "observe")]
                self.trace(options).emit(|lookup| Event::Cache { lookup, result: CacheResult::Miss });
            }
            let lead = in_flight.lead(key.clone());
            #[cfg(feature = "proxy")]
            if let Some(cache) = cache.filter(|_| wait_for_store) {
                let result = self.fetch_across(cache, &key, id, options).await;
                lead.finish(&result.as_ref().map(|(f, _)| f.clone()).map_err(Clone::clone));
                return result.map(|(f, stored)| match stored {
                    Some(entry) => Found::cached(entry),
                    None => network(f, now_ms()),
                });
            }
            let result = self.fetch(id, options, gate).await;
            let now = now_ms();
            if let (Some(cache), Ok(f)) = (cache, &result) {
                cache.write(&key, Entry::new(f.item.clone(), now, &cache.options));
            }
            lead.finish(&result);
            return result.map(|f| network(f, now));
        }
    }

    /// The proxy's miss: one request across every instance sharing the cache's store (the
    /// instance that claims the item fetches it and stores the result before answering; the
    /// others wait for that entry), or, without a usable store, one request here. Returns the
    /// result and, when it came from another instance's entry, until when that entry is fresh.
    #[cfg(feature = "proxy")]
    async fn fetch_across(&self, cache: &Cache, key: &str, id: &str, options: &RequestOptions) -> Result<(Fetched, Option<Entry>), Error> {
        use crate::store::Claim;
        let config = &self.inner.config;
        // A claim covers the claimant's attempts, but at most 30 s: a crashed instance holds the
        // others back no longer than a browser waits (the client's default timeout). Past that,
        // waiting instances fetch for themselves.
        let hold_ms = (config.timeout_ms as f64 * f64::from(config.max_retries + 1) + 1000.0).min(30_000.0);
        let claim = cache.claim(key, hold_ms).await;
        let stored = match &claim {
            Claim::Theirs => cache.wait_for_entry(key, id, hold_ms).await,
            // Another instance may have stored the entry and ended its claim just before ours.
            Claim::Mine(..) => cache.read(key, id, now_ms(), None).await,
            Claim::Unknown => None,
        };
        let result = match stored {
            Some(entry) => {
                config.log.write(LogLevel::Debug, || format!("post item {id}: served from the entry another instance stored"));
                self.trace(options).emit(|lookup| Event::Cache { lookup, result: CacheResult::Shared });
                Ok((Fetched { item: entry.item.clone(), request_id: None, rate_limit: None }, Some(entry)))
            }
            None => {
                let result = self.fetch(id, options, None).await;
                if let Ok(f) = &result {
                    cache.write_now(key, Entry::new(f.item.clone(), now_ms(), &cache.options)).await;
                }
                result.map(|f| (f, None))
            }
        };
        if let Claim::Mine(lock, token) = claim {
            cache.release(&lock, &token).await;
        }
        result
    }

    /// Looks up many items with at most `concurrency` requests in flight. Results come in
    /// input order; a duplicate id is fetched once and reported at each of its positions.
    /// Per-item failures are in the results; only an abort (or bad arguments) fails the
    /// whole batch. A 429 pauses every worker until the server's wait is over.
    pub async fn get_post_item_analytics_batch(
        &self,
        post_item_ids: &[String],
        options: &RequestOptions,
        concurrency: u32,
    ) -> Result<Vec<BatchItem>, Error> {
        check_concurrency(concurrency, self.inner.config.surface)?;
        if let Some(n) = options.max_retries {
            check_max_retries(n, self.inner.config.surface)?;
        }
        if options.signal.as_ref().is_some_and(AbortSignal::aborted) {
            return Err(batch_aborted());
        }
        // Each distinct id is fetched once; `slot_of` maps every input position to its slot.
        let (unique, slot_of) = crate::batch::dedup(post_item_ids);
        let gate = Gate::default();
        #[cfg(not(feature = "observe"))]
        let results = pool(&unique, concurrency, |_, id| async {
            self.lookup_in(id, options, Some(&gate)).await.map_err(|e| e.with_post_item_id(id))
        })
        .await;
        // Each lookup's events carry its position in the call.
        #[cfg(feature = "observe")]
        let results = pool(&unique, concurrency, |i, id| {
            let (item, gate) = (options.for_lookup(i), &gate);
            async move { self.lookup_in(id, &item, Some(gate)).await.map_err(|e| e.with_post_item_id(id)) }
        })
        .await;
        if results.iter().any(|r| matches!(r, Some(Err(e)) if e.kind() == ErrorKind::Aborted)) {
            return Err(batch_aborted());
        }
        Ok(post_item_ids
            .iter()
            .zip(slot_of)
            .map(|(id, slot)| {
                let result = results
                    .get(slot)
                    .cloned()
                    .flatten()
                    .unwrap_or_else(|| Err(Error::invalid_argument("internal: batch item was not fetched")));
                let from_cache = result.as_ref().is_ok_and(|l| l.from_cache);
                BatchItem { post_item_id: id.clone(), result: result.map(|l| l.item), from_cache }
            })
            .collect())
    }

    /// One request (with its retries), and the snapshot it brings recorded in the background
    /// when history is on.
    async fn fetch(&self, id: &str, options: &RequestOptions, gate: Option<&Gate>) -> Result<Fetched, Error> {
        let result = self.request(id, options, gate).await;
        if let (Some(history), Ok(f)) = (&self.inner.history, &result) {
            history.note(id, &f.item);
        }
        result
    }

    /// The history of one post item: from the client's history store (`history` option), or
    /// in proxy mode (a base URL that is not PowerPost's, without `history`) from the proxy's
    /// `GET {baseUrl}/api/v1/post-items/{id}/analytics/history`, in one attempt.
    pub async fn post_item_history(&self, post_item_id: &str) -> Result<History, Error> {
        crate::config::check_post_item_id(post_item_id).map_err(|e| e.with_post_item_id(post_item_id))?;
        let result = match &self.inner.history {
            Some(history) => history.history(post_item_id).await,
            None if self.inner.config.proxy_mode() => self.remote_history(post_item_id).await,
            None => Err(Error::invalid_argument(format!(
                "No snapshot history here: PowerPost keeps only the latest snapshot. Turn history on with {} \
                 (then record with recordSnapshots), or point {} at a proxy that keeps it.",
                self.inner.config.surface.name(Opt::History),
                self.inner.config.surface.name(Opt::BaseUrl),
            ))),
        };
        result.map_err(|e| e.with_post_item_id(post_item_id))
    }

    /// A proxy's history of `id`, in one attempt.
    async fn remote_history(&self, id: &str) -> Result<History, Error> {
        let config = &self.inner.config;
        let url = format!("{}/history", config.analytics_url(id)?);
        let x = transport::send(config, self.headers()?, &url, config.timeout_ms, None).await?;
        if x.meta.rate_limit.is_some() {
            self.inner.rate_limit.set(x.meta.rate_limit);
        }
        let secret = config.api_key.as_deref();
        if (200..300).contains(&x.meta.status) {
            // The proxy's interval (the gaps are derived with it); PowerPost's daily one if unsaid.
            let interval = x.headers.get(crate::history::INTERVAL_HEADER).and_then(|v| v.trim().parse::<u64>().ok()).filter(|v| *v > 0);
            let interval = crate::history::clamp_interval(interval.unwrap_or(crate::DEFAULT_SNAPSHOT_INTERVAL_MS));
            return match &x.body {
                crate::response::Body::Complete(bytes) => {
                    // A body carrying the key is read with it redacted, as a lookup's is: errors quote values.
                    let scrubbed = response::scrubbed(bytes, secret);
                    crate::history::parse_history(scrubbed.as_ref().map_or(bytes.as_slice(), |t| t.as_bytes()), id, interval)
                }
                crate::response::Body::TooLarge { bytes_seen } => Err(Error::invalid_response(
                    "$",
                    "a JSON document of at most 1 MiB",
                    &format!("a body of more than {} bytes ({bytes_seen} seen)", crate::MAX_BODY_BYTES),
                )),
            }
            .map_err(|mut e| {
                e.inner_mut().status = Some(x.meta.status);
                e
            });
        }
        let (mut e, _) = response::interpret_for(&x.meta, &x.body, id, secret, now_ms(), config.surface).map(|_| ()).err().unwrap_or_else(|| {
            (Error::new(ErrorKind::Api, "internal: an error status read as a success"), Default::default())
        });
        e.inner_mut().headers = Some(transport::header_list(&x.headers, secret));
        Err(with_attempts(e, 1))
    }

    /// Looks up the items whose next snapshot is due (see [`crate::next_check_ms`]) and records
    /// what is new, at most `concurrency` at a time through one rate-limit gate (a 429 pauses
    /// them all). An item fetched less than a snapshot interval ago costs nothing. One failing
    /// id is reported in the summary, not as an error; only an abort (or bad arguments, or no
    /// `history` option) fails the call.
    pub async fn record_snapshots(&self, post_item_ids: &[String], options: &RequestOptions, concurrency: u32) -> Result<RecordSummary, Error> {
        let config = &self.inner.config;
        check_concurrency(concurrency, config.surface)?;
        let Some(history) = &self.inner.history else {
            return Err(Error::invalid_argument(format!(
                "recordSnapshots needs history: pass {} (true keeps it in memory; a store keeps it across runs).",
                config.surface.name(Opt::History)
            )));
        };
        if options.signal.as_ref().is_some_and(AbortSignal::aborted) {
            return Err(batch_aborted());
        }
        // Once each, in input order (the batch's dedup, then each id at its first position).
        let (distinct, slot_of) = crate::batch::dedup(post_item_ids);
        let mut seen = vec![false; distinct.len()];
        let unique: Vec<&str> = slot_of
            .iter()
            .filter_map(|&slot| {
                let first = seen.get_mut(slot).is_some_and(|s| !std::mem::replace(s, true));
                distinct.get(slot).copied().filter(|_| first)
            })
            .collect();
        let interval = history.options.snapshot_interval_ms;
        let now = now_ms();
        let gate = Gate::default();
        let signal = options.signal.as_ref();
        let results = pool(&unique, concurrency, |_i, id| {
            #[cfg(feature = "observe")]
            let item = options.for_lookup(_i);
            let gate = &gate;
            async move {
                #[cfg(feature = "observe")]
                let options = &item;
                // A bad id is that id's error, not the run's; an abort stops what is left.
                crate::config::check_post_item_id(id)?;
                if signal.is_some_and(AbortSignal::aborted) {
                    return Err(batch_aborted());
                }
                // Due by its series and last check (an unreadable store: due, and the snapshot
                // waits in memory for it).
                let (last, checked, complete) = match history.history_and_check(id).await {
                    Ok((h, checked)) => (h.last_at_ms(), checked, h.complete),
                    Err(_) => (None, None, false),
                };
                if crate::history::next_check_ms(last, checked, complete, interval) > now {
                    return Ok(None);
                }
                #[cfg(feature = "observe")]
                let trace = self.trace(options);
                #[cfg(feature = "observe")]
                let lookup = self.traced(id, &trace, self.request(id, options, Some(gate)));
                #[cfg(not(feature = "observe"))]
                let lookup = self.request(id, options, Some(gate));
                let fetched = match lookup.await {
                    Ok(f) => f,
                    Err(e) => {
                        // PowerPost's answer about the id (404, 403…) holds until the next check;
                        // a network failure or an abort does not.
                        if e.is_api() {
                            history.mark_checked(id, now_ms()).await;
                        }
                        return Err(e);
                    }
                };
                let recorded = history.record(id, &fetched.item).await;
                history.mark_checked(id, now_ms()).await;
                Ok::<_, Error>(Some(recorded))
            }
        })
        .await;
        let mut summary = RecordSummary::default();
        for (id, result) in unique.iter().map(|id| (*id).to_owned()).zip(results) {
            match result {
                Some(Ok(None)) => summary.skipped.push(id),
                Some(Ok(Some(recorded))) => {
                    summary.recorded += u32::from(recorded == Recorded::Added);
                    summary.looked_up.push(id);
                }
                Some(Err(e)) if e.kind() == ErrorKind::Aborted => return Err(batch_aborted()),
                Some(Err(e)) => {
                    if !e.is_invalid_argument() {
                        summary.looked_up.push(id.clone());
                    }
                    summary.errors.push((id.clone(), e.with_post_item_id(&id)));
                }
                None => summary.errors.push((id, Error::invalid_argument("internal: the item was not looked up"))),
            }
        }
        summary.recorded += history.flush().await;
        summary.pending = history.pending() as u32;
        Ok(summary)
    }

    /// The history options in use, if history is on.
    pub fn history_options(&self) -> Option<&HistoryOptions> {
        self.inner.history.as_ref().map(|h| &h.options)
    }

    /// The request headers, built once per client (lookups and a proxy's history send the same).
    fn headers(&self) -> Result<&JsValue, Error> {
        match self.inner.headers.get() {
            Some(h) => Ok(h),
            None => {
                let h = transport::request_headers(&self.inner.config)?;
                Ok(self.inner.headers.get_or_init(|| h))
            }
        }
    }

    async fn request(&self, id: &str, options: &RequestOptions, gate: Option<&Gate>) -> Result<Fetched, Error> {
        let config = &self.inner.config;
        let url = config.analytics_url(id)?;
        let timeout_ms = options.timeout_ms.unwrap_or(config.timeout_ms);
        let max_retries = check_max_retries(options.max_retries.unwrap_or(config.max_retries), config.surface)?;
        let max_wait = config.max_retry_wait_ms;
        let signal = options.signal.as_ref();
        let headers = self.headers()?;
        let log = &config.log;
        // The path only: the origin adds nothing a reader needs, and the key is never in a URL.
        let path = url.find("/api/v1/").and_then(|i| url.get(i..)).unwrap_or(&url);
        #[cfg(feature = "observe")]
        let trace = self.trace(options);
        let mut attempt: u32 = 0;
        loop {
            if let Some(g) = gate {
                #[cfg(feature = "observe")]
                if trace.on() && g.remaining_ms() > 0.0 {
                    let ms = g.remaining_ms().ceil() as u64;
                    trace.emit(|lookup| Event::Wait { lookup, attempt: attempt + 1, ms, reason: crate::observe::WaitReason::BatchPause });
                }
                g.wait(signal).await.map_err(|e| with_attempts(e, attempt))?;
            }
            if signal.is_some_and(AbortSignal::aborted) {
                log.write(LogLevel::Info, || format!("post item {id}: aborted by the caller's AbortSignal before attempt {}", attempt + 1));
                return Err(with_attempts(transport::aborted_error(), attempt));
            }
            // A proxy's attempt waits for an upstream slot (bounded), held until its answer is read.
            #[cfg(feature = "proxy")]
            let slot = match &self.inner.upstream {
                Some(u) => Some(u.slot(timeout_ms, signal).await.map_err(|e| with_attempts(e, attempt))?),
                None => None,
            };
            attempt += 1;
            #[cfg(not(feature = "observe"))]
            let started = if log.enabled(LogLevel::Info) { now_ms() } else { 0.0 };
            #[cfg(feature = "observe")]
            let started = if log.enabled(LogLevel::Info) || trace.on() { now_ms() } else { 0.0 };
            #[cfg(feature = "observe")]
            trace.emit(|lookup| Event::AttemptStart { lookup, attempt });
            // The attempt's trace context goes with it (to the base URL: the only place requests go).
            #[cfg(feature = "observe")]
            let traced_headers = traced_headers(headers, &trace);
            #[cfg(feature = "observe")]
            let headers = traced_headers.as_ref().unwrap_or(headers);
            // This attempt's status and rate limit, for its event.
            #[cfg(feature = "observe")]
            let mut seen = (None, None);
            let outcome = match transport::send(config, headers, &url, timeout_ms, signal).await {
                Ok(x) => {
                    #[cfg(feature = "observe")]
                    {
                        seen = (Some(x.meta.status), x.meta.rate_limit);
                    }
                    if x.meta.rate_limit.is_some() {
                        self.inner.rate_limit.set(x.meta.rate_limit);
                    }
                    log.write(LogLevel::Debug, || {
                        let rid = x.meta.request_id.as_deref().map(|r| format!(", request {r}")).unwrap_or_default();
                        // Whole ms as an integer: printing an f64 would link Rust's float printer (#31).
                        format!("GET {path} -> {} in {} ms (post item {id}{rid}, attempt {attempt})", x.meta.status, (now_ms() - started).round() as u64)
                    });
                    // The clock only matters for waits, which only failures have.
                    let now = if (200..300).contains(&x.meta.status) { 0.0 } else { now_ms() };
                    let secret = config.api_key.as_deref();
                    let fetched = |item| Fetched {
                        item,
                        #[cfg(feature = "proxy")]
                        request_id: x.meta.request_id.as_deref().map(|r| crate::error::redact(r, secret)),
                        #[cfg(feature = "proxy")]
                        rate_limit: x.meta.rate_limit,
                    };
                    response::interpret_for(&x.meta, &x.body, id, secret, now, config.surface).map(fetched).map_err(|(mut e, hints)| {
                        e.inner_mut().headers = Some(transport::header_list(&x.headers, secret));
                        log.write(LogLevel::Debug, || format!("post item {id}: response body: {}", crate::error::cut(e.body().unwrap_or("(not kept)"), 1024)));
                        (e, Some(hints))
                    })
                }
                Err(e) => {
                    log.write(LogLevel::Info, || {
                        let what = match e.kind() {
                            ErrorKind::Timeout => "timed out",
                            ErrorKind::Aborted => "was aborted by the caller's AbortSignal",
                            _ => "failed",
                        };
                        format!("GET {path} {what} after {} ms (post item {id}, attempt {attempt}): {}", (now_ms() - started).round() as u64, e.message())
                    });
                    Err((e, None))
                }
            };
            #[cfg(feature = "observe")]
            trace.emit(|lookup| {
                let error_type = outcome.as_ref().err().map(|(e, _)| e.kind().class_name().to_owned());
                let rate_limit = seen.1.map(crate::observe::js_safe);
                Event::AttemptEnd { lookup, attempt, status: seen.0, error_type, rate_limit, duration_ms: now_ms() - started }
            });
            // A proxy learns from every answer whether the key's budget is spent.
            #[cfg(feature = "proxy")]
            if let Some(u) = &self.inner.upstream {
                match &outcome {
                    Ok(f) => u.observe(200, &crate::retry::WaitHints { rate_limit: f.rate_limit, ..Default::default() }).await,
                    Err((e, Some(hints))) => u.observe(e.status().unwrap_or(0), hints).await,
                    Err(_) => {}
                }
            }
            let (err, hints) = match outcome {
                Ok(item) => return Ok(item),
                Err(x) => x,
            };
            let mut err = with_attempts(err, attempt);
            if !err.is_retryable() || attempt > max_retries {
                return Err(finish(err, attempt));
            }
            let (wait, source) = match hints.and_then(|h| h.server_wait(now_ms())) {
                Some((w, source)) if w > max_wait => {
                    let inner = err.inner_mut();
                    inner.retry_after_ms = Some(w);
                    let max_name = config.surface.name(Opt::MaxRetryWaitMs).trim_matches('`');
                    inner.message.push_str(&format!(
                        " Not retried: the server asked to wait {}, longer than {max_name} ({}).",
                        fmt_wait(w),
                        fmt_wait(max_wait),
                    ));
                    log.write(LogLevel::Warn, || {
                        format!(
                            "post item {id}: not retried: the server asked to wait {} ({}), longer than {max_name} ({}); raise it to sit such waits out",
                            fmt_wait(w),
                            source.describe(),
                            fmt_wait(max_wait)
                        )
                    });
                    return Err(err);
                }
                Some(found) => found,
                None => (backoff_ms(attempt, js_sys::Math::random()).min(max_wait), WaitSource::Backoff),
            };
            log.write(LogLevel::Info, || {
                let why = match (err.status(), err.code()) {
                    (Some(status), Some(code)) => format!("HTTP {status} {code}"),
                    (Some(status), None) => format!("HTTP {status}"),
                    (None, _) => err.kind().as_str().replace('_', " "),
                };
                let rid = err.request_id().map(|r| format!(", request {r}")).unwrap_or_default();
                format!(
                    "post item {id}: retrying in {} ({}) after {why}{rid}; attempt {} of {}",
                    fmt_wait(wait),
                    source.describe(),
                    attempt + 1,
                    max_retries + 1
                )
            });
            if let Some(g) = gate.filter(|_| err.kind() == ErrorKind::RateLimit) {
                if g.pause_until(now_ms() + wait as f64) {
                    log.write(LogLevel::Info, || {
                        format!("batch: every request waits {} ({}) after a 429 for post item {id}", fmt_wait(wait), source.describe())
                    });
                }
            }
            #[cfg(feature = "observe")]
            trace.emit(|lookup| Event::Wait { lookup, attempt: attempt + 1, ms: wait, reason: source.into() });
            // Nobody's slot waits out a retry's pause.
            #[cfg(feature = "proxy")]
            drop(slot);
            transport::sleep(wait, signal).await.map_err(|e| with_attempts(e, attempt))?;
        }
    }
}

fn batch_aborted() -> Error {
    Error::new(ErrorKind::Aborted, "The batch was aborted by the caller's AbortSignal.")
}

fn with_attempts(mut e: Error, attempts: u32) -> Error {
    e.inner_mut().attempts = attempts;
    e
}

/// The last attempt's error, saying it was retried.
fn finish(mut e: Error, attempts: u32) -> Error {
    if attempts > 1 && e.is_retryable() {
        e.inner_mut().message.push_str(&format!(" (Gave up after {attempts} attempts.)"));
    }
    e
}

/// Runs `work` for each of `ids` with at most `concurrency` running at once; results in input
/// order (`None` only if a worker never reached an id). Each item's work is boxed so that the
/// workers and their polling ([`run_pool`]) are compiled once for the batch and the recorder.
async fn pool<'a, T, F, Fut>(ids: &'a [&'a str], concurrency: u32, work: F) -> Vec<Option<T>>
where
    F: Fn(u32, &'a str) -> Fut,
    Fut: Future<Output = T>,
{
    let results: Vec<Cell<Option<T>>> = ids.iter().map(|_| Cell::new(None)).collect();
    fill(ids, &results, &work, concurrency).await;
    results.into_iter().map(Cell::into_inner).collect()
}

/// [`pool`]'s work: each result in its slot.
async fn fill<'a, 'b, T: 'b, F, Fut>(ids: &'b [&'a str], results: &'b [Cell<Option<T>>], work: &'b F, concurrency: u32)
where
    F: Fn(u32, &'a str) -> Fut,
    Fut: Future<Output = T> + 'b,
{
    let item = |i: usize| -> PoolItem<'b> {
        Box::pin(async move {
            if let (Some(id), Some(slot)) = (ids.get(i), results.get(i)) {
                slot.set(Some(work(i as u32, id).await));
            }
        })
    };
    run_pool(ids.len(), concurrency, &item).await;
}

/// One item's work in [`pool`].
type PoolItem<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

/// The workers of [`pool`]: each takes the next index until there is none.
async fn run_pool<'b>(count: usize, concurrency: u32, item: &dyn Fn(usize) -> PoolItem<'b>) {
    let next = Cell::new(0usize);
    let workers = (0..concurrency.min(count as u32)).map(|_| async {
        loop {
            let i = next.get();
            if i >= count {
                return;
            }
            next.set(i + 1);
            item(i).await;
        }
    });
    join_all(workers.collect()).await;
}

/// Polls all futures until every one is done (no executor or extra crate needed).
async fn join_all<F: Future<Output = ()>>(futures: Vec<F>) {
    let mut slots: Vec<Option<Pin<Box<F>>>> = futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for slot in slots.iter_mut() {
            if let Some(f) = slot {
                if f.as_mut().poll(cx).is_ready() {
                    *slot = None;
                } else {
                    pending = true;
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await
}

/// `headers` with the trace context `trace` propagates, or `None` when it adds none (the
/// client's shared headers are then sent as they are).
#[cfg(feature = "observe")]
fn traced_headers(headers: &JsValue, trace: &Trace) -> Option<JsValue> {
    let extra = trace.headers();
    if extra.is_empty() {
        return None;
    }
    let copy = web_sys::Headers::new_with_headers(wasm_bindgen::JsCast::unchecked_ref(headers)).ok()?;
    for (name, value) in extra {
        let _ = copy.set(&name, &value);
    }
    Some(copy.into())
}
