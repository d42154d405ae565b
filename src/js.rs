//! The `#[wasm_bindgen]` surface of the npm package (cargo feature `js`): conversion between
//! JavaScript values and the Rust API, and nothing else. Every JavaScript input is checked here
//! for its type (a wrong type is an `InvalidArgumentError`, never a panic); every rule lives in
//! the pure modules. Promises come from `wasm-bindgen-futures`; results become plain objects
//! through `serde-wasm-bindgen`.

use js_sys::{Array, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use std::rc::Rc;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::AbortSignal;

use crate::client::{Client, RequestOptions};
use crate::config::{check_count, check_ms, ClientOptions, Surface, DEFAULT_CONCURRENCY, MAX_CONCURRENCY, MAX_POST_ITEM_ID_CHARS, MAX_RETRIES};
use crate::cache::{CacheMode, CacheOptions, CacheStore, StoreFuture};
use crate::history::{HistoryOptions, HistoryStore};
use crate::error::Error;
use crate::log::{LogLevel, Logger};
use crate::validate::{self, to_js, Document, Field, Seen, Wire, WireMetrics};

#[cfg(feature = "proxy")]
mod proxy;

#[wasm_bindgen(module = "/js/errors.js")]
extern "C" {
    #[wasm_bindgen(js_name = createError)]
    fn create_error(kind: &str, message: &str, fields: &Object) -> JsValue;
}

#[wasm_bindgen]
extern "C" {
    /// `Object.keys`: own enumerable string keys (symbols and inherited properties are not
    /// options); a proxy's throwing trap is caught.
    #[wasm_bindgen(js_namespace = Object, js_name = keys, catch)]
    fn object_keys(value: &JsValue) -> Result<Array, JsValue>;
}

/// The options of the client (`new PowerPost(options)`).
const CLIENT_OPTIONS: &[&str] = &[
    "apiKey", "workspaceId", "baseUrl", "dangerouslyAllowBrowser", "timeoutMs", "maxRetries", "maxRetryWaitMs", "logLevel", "logger",
    "cache", "history",
];
/// The options of one call (`client.getPostItemAnalytics(id, options)`).
const CALL_OPTIONS: &[&str] = &["signal", "timeoutMs", "maxRetries", "cache"];
/// The options of the client's `cache` object.
const CACHE_OPTIONS: &[&str] = &["maxEntries", "maxAgeMs", "snapshotIntervalMs", "store"];
/// The options of the client's `history` object.
const HISTORY_OPTIONS: &[&str] = &["store", "snapshotIntervalMs", "maxPending"];
/// What a batch call adds.
const BATCH_OPTIONS: &[&str] = &["concurrency"];

/// Refuses a key of `options` that is in none of `allowed`, naming it and what was probably
/// meant: a known option spelt differently (`timeout`, `baseURL`, `api_key`), or one that
/// belongs to another call (`signal` on the client). A misspelt option must not be ignored.
fn check_option_names(options: &JsValue, allowed: &[&[&str]]) -> Result<(), Error> {
    if !options.is_object() {
        return Ok(());
    }
    let keys = object_keys(options).map_err(|_| Error::invalid_argument("Reading the options object threw an exception."))?;
    for key in keys.iter() {
        let Some(key) = key.as_string() else { continue };
        if allowed.iter().any(|group| group.contains(&key.as_str())) {
            continue;
        }
        let shown = crate::error::describe_str(&key);
        let elsewhere = if allowed.iter().any(|g| g.contains(&"store")) {
            None
        } else if CALL_OPTIONS.contains(&key.as_str()) {
            Some("a per-call option: pass it to getPostItemAnalytics(id, { … }) or getPostItemAnalyticsBatch(ids, { … })")
        } else if BATCH_OPTIONS.contains(&key.as_str()) {
            Some("an option of getPostItemAnalyticsBatch(ids, { … })")
        } else if CLIENT_OPTIONS.contains(&key.as_str()) {
            Some("a client option: pass it to new PowerPost({ … })")
        } else {
            None
        };
        let known: Vec<&str> = allowed.iter().flat_map(|g| g.iter().copied()).collect();
        return Err(Error::invalid_argument(match (elsewhere, crate::config::similar_name(&key, &known)) {
            (Some(where_), _) => format!("Option {shown} is not accepted here: it is {where_}."),
            (None, Some(meant)) => format!("Unknown option {shown}: did you mean `{meant}`?"),
            (None, None) => format!("Unknown option {shown}; the options here are {}.", known.join(", ")),
        }));
    }
    Ok(())
}


/// The PowerPost analytics client (JavaScript class `PowerPost`).
#[wasm_bindgen(js_name = PowerPost)]
pub struct JsClient {
    client: Client,
}

#[wasm_bindgen(js_class = PowerPost)]
impl JsClient {
    /// `new PowerPost(options?)`; throws `InvalidArgumentError` for bad options.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<JsClient, JsValue> {
        let client = client_options(&options, &[CLIENT_OPTIONS]).and_then(Client::new).map_err(to_js_error)?;
        Ok(JsClient { client })
    }

    /// `getPostItemAnalytics(postItemId, options?)`.
    #[wasm_bindgen(js_name = getPostItemAnalytics)]
    pub fn get_post_item_analytics(&self, post_item_id: JsValue, options: JsValue) -> Promise {
        get(self.client.clone(), post_item_id, options, &[CALL_OPTIONS])
    }

    /// `getPostItemAnalyticsBatch(postItemIds, options?)`.
    #[wasm_bindgen(js_name = getPostItemAnalyticsBatch)]
    pub fn get_post_item_analytics_batch(&self, post_item_ids: JsValue, options: JsValue) -> Promise {
        let client = self.client.clone();
        let prepared = batch_args(&post_item_ids, &options);
        future_to_promise(async move {
            let (ids, opts, concurrency) = prepared.map_err(to_js_error)?;
            let items = client.get_post_item_analytics_batch(&ids, &opts, concurrency).await.map_err(to_js_error)?;
            let out = Array::new_with_length(items.len() as u32);
            for (i, item) in items.into_iter().enumerate() {
                let entry = Object::new();
                set(&entry, "postItemId", &JsValue::from_str(&item.post_item_id));
                match item.result {
                    Ok(a) => {
                        set(&entry, "ok", &JsValue::TRUE);
                        set(&entry, "analytics", &analytics_to_js(&a, item.from_cache));
                    }
                    Err(e) => {
                        set(&entry, "ok", &JsValue::FALSE);
                        set(&entry, "error", &to_js_error(e));
                    }
                }
                out.set(i as u32, entry.into());
            }
            Ok(out.into())
        })
    }

    /// `getPostItemHistory(postItemId)`: the recorded history of one item.
    #[wasm_bindgen(js_name = getPostItemHistory)]
    pub fn get_post_item_history(&self, post_item_id: JsValue) -> Promise {
        let client = self.client.clone();
        let id = id_string(&post_item_id, "postItemId").map_err(|e| with_id(e, &post_item_id));
        future_to_promise(async move {
            let history = client.post_item_history(&id.map_err(to_js_error)?).await.map_err(to_js_error)?;
            Ok(to_js(&history))
        })
    }

    /// `recordSnapshots(postItemIds, options?)`: looks up the items whose snapshot is due and
    /// records what is new; resolves to a summary.
    #[wasm_bindgen(js_name = recordSnapshots)]
    pub fn record_snapshots(&self, post_item_ids: JsValue, options: JsValue) -> Promise {
        let client = self.client.clone();
        let prepared = batch_args(&post_item_ids, &options).and_then(|args| {
            if args.1.cache != CacheMode::Default {
                return Err(Error::invalid_argument("Option `cache` is not accepted here: recordSnapshots always asks the API."));
            }
            Ok(args)
        });
        future_to_promise(async move {
            let (ids, opts, concurrency) = prepared.map_err(to_js_error)?;
            let summary = client.record_snapshots(&ids, &opts, concurrency).await.map_err(to_js_error)?;
            let out = Object::new();
            let strings = |list: &[String]| list.iter().map(|s| JsValue::from_str(s)).collect::<Array>();
            set(&out, "lookedUp", &strings(&summary.looked_up).into());
            set(&out, "skipped", &strings(&summary.skipped).into());
            set(&out, "recorded", &JsValue::from_f64(f64::from(summary.recorded)));
            set(&out, "pending", &JsValue::from_f64(f64::from(summary.pending)));
            let errors = Array::new();
            for (id, e) in summary.errors {
                let entry = Object::new();
                set(&entry, "postItemId", &JsValue::from_str(&id));
                set(&entry, "error", &to_js_error(e));
                errors.push(&entry);
            }
            set(&out, "errors", &errors.into());
            Ok(out.into())
        })
    }

    /// `clearCache()`: empties the client's cache (memory, and what it wrote to its store).
    #[wasm_bindgen(js_name = clearCache)]
    pub fn clear_cache(&self) -> Promise {
        let client = self.client.clone();
        future_to_promise(async move {
            client.clear_cache().await;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// The `X-RateLimit-*` headers of the last response seen, or `null`.
    #[wasm_bindgen(getter, js_name = rateLimit)]
    pub fn rate_limit(&self) -> JsValue {
        self.client.rate_limit().map_or(JsValue::NULL, |r| to_js(&r))
    }
}

/// The arguments of a call over many ids (`getPostItemAnalyticsBatch`, `recordSnapshots`): the
/// ids, the per-call options and `concurrency`.
fn batch_args(post_item_ids: &JsValue, options: &JsValue) -> Result<(Vec<String>, RequestOptions, u32), Error> {
    let ids = string_array(post_item_ids)?;
    let opts = request_options(options, &[CALL_OPTIONS, BATCH_OPTIONS])?;
    let concurrency = match field(options, "concurrency")? {
        None => DEFAULT_CONCURRENCY,
        Some(v) => check_count("concurrency", number(&v, "concurrency")?, 1, MAX_CONCURRENCY)?,
    };
    Ok((ids, opts, concurrency))
}

/// `getPostItemAnalytics(postItemId, options?)`: a one-off client for one call.
#[wasm_bindgen(js_name = getPostItemAnalytics)]
pub fn get_post_item_analytics(post_item_id: JsValue, options: JsValue) -> Promise {
    const ONE_OFF: &[&[&str]] = &[CLIENT_OPTIONS, CALL_OPTIONS];
    let no_cache = match check_options_object(&options, "options").and_then(|()| field(&options, "cache")) {
        Ok(Some(_)) => Err(Error::invalid_argument(
            "Option `cache` needs a client that lives on: the one-off getPostItemAnalytics() keeps nothing between calls. \
             Create one client with new PowerPost({ cache: true }) and reuse it.",
        )),
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    };
    match no_cache.and_then(|()| client_options(&options, ONE_OFF)).and_then(Client::new) {
        Ok(client) => get(client, post_item_id, options, ONE_OFF),
        Err(e) => Promise::reject(&to_js_error(with_id(e, &post_item_id))),
    }
}

/// `parsePostItemAnalytics(value, expectedPostItemId?)`: validates an already-parsed body.
#[wasm_bindgen(js_name = parsePostItemAnalytics)]
pub fn parse_post_item_analytics(value: JsValue, expected_post_item_id: JsValue) -> Result<JsValue, JsValue> {
    let expected = if expected_post_item_id.is_undefined() {
        None
    } else {
        Some(id_string(&expected_post_item_id, "expectedPostItemId").map_err(to_js_error)?)
    };
    read_document(&value).and_then(|doc| validate::validate(doc, expected.as_deref())).map(|a| to_js(&a)).map_err(to_js_error)
}

fn get(client: Client, post_item_id: JsValue, options: JsValue, allowed: &[&[&str]]) -> Promise {
    let prepared = id_string(&post_item_id, "postItemId").and_then(|id| Ok((id, request_options(&options, allowed)?)));
    let (id, opts) = match prepared {
        Ok(prepared) => prepared,
        Err(e) => return Promise::reject(&to_js_error(with_id(e, &post_item_id))),
    };
    future_to_promise(async move {
        let found = client.lookup(&id, &opts).await.map_err(to_js_error)?;
        Ok(analytics_to_js(&found.item, found.from_cache))
    })
}

/// A result as a plain object; one served from the cache carries a non-enumerable
/// `cached: true` (so it does not show in JSON or spreads).
fn analytics_to_js(item: &crate::PostItemAnalytics, from_cache: bool) -> JsValue {
    let obj = to_js(item);
    if from_cache {
        let descriptor = Object::new();
        set(&descriptor, "value", &JsValue::TRUE);
        let _ = Reflect::define_property(obj.unchecked_ref::<Object>(), &JsValue::from_str("cached"), &descriptor);
    }
    obj
}

/// `e`, naming the id it was about when that is a usable string.
fn with_id(e: Error, id: &JsValue) -> Error {
    match id.dyn_ref::<js_sys::JsString>().and_then(|js| bounded_string(js, MAX_ID_UTF16)) {
        Some(s) => e.with_post_item_id(&s),
        None => e,
    }
}

/// UTF-16 units of the longest acceptable id (a character is at most two units).
const MAX_ID_UTF16: u32 = MAX_POST_ITEM_ID_CHARS as u32 * 2;

/// Copies a JS string into Rust only when it is at most `max` UTF-16 units long. WebAssembly
/// memory never shrinks, so a hostile 100 MB value must be refused before the copy, not after.
fn bounded_string(js: &js_sys::JsString, max: u32) -> Option<String> {
    (js.length() <= max).then(|| String::from(js))
}

// ---- JS → Rust -------------------------------------------------------------------------

fn type_name(v: &JsValue) -> String {
    if v.is_null() {
        "null".into()
    } else if Array::is_array(v) {
        "an array".into()
    } else {
        match v.js_typeof().as_string().unwrap_or_default().as_str() {
            "object" => "an object".into(),
            "undefined" => "undefined".into(),
            other => format!("a {other}"),
        }
    }
}

/// Reads `obj[key]`; `None` for undefined. A throwing getter or proxy trap is an error.
fn field(obj: &JsValue, key: &str) -> Result<Option<JsValue>, Error> {
    if obj.is_undefined() || obj.is_null() {
        return Ok(None);
    }
    let v = Reflect::get(obj, &JsValue::from_str(key))
        .map_err(|_| Error::invalid_argument(format!("Reading option `{key}` threw an exception.")))?;
    Ok((!v.is_undefined()).then_some(v))
}

fn check_options_object(options: &JsValue, what: &str) -> Result<(), Error> {
    if options.is_undefined() || options.is_null() || (options.is_object() && !Array::is_array(options) && !options.is_function()) {
        Ok(())
    } else {
        Err(Error::invalid_argument(format!("{what} must be an object, got {}.", type_name(options))))
    }
}

/// Longest string option accepted; checked before the string is copied into wasm memory
/// (which never shrinks), so a hostile 100 MB value costs nothing.
const MAX_OPTION_CHARS: u32 = 8192;

fn string_opt(options: &JsValue, key: &str) -> Result<Option<String>, Error> {
    match field(options, key)? {
        None => Ok(None),
        Some(v) => match v.dyn_ref::<js_sys::JsString>() {
            Some(js) => bounded_string(js, MAX_OPTION_CHARS).map(Some).ok_or_else(|| {
                Error::invalid_argument(format!(
                    "Option `{key}` is {} characters long; at most {MAX_OPTION_CHARS} are accepted.",
                    js.length()
                ))
            }),
            None => Err(Error::invalid_argument(format!("Option `{key}` must be a string, got {}.", type_name(&v)))),
        },
    }
}

fn number(v: &JsValue, key: &str) -> Result<f64, Error> {
    v.as_f64().ok_or_else(|| Error::invalid_argument(format!("Option `{key}` must be a number, got {}.", type_name(v))))
}

fn ms_opt(options: &JsValue, key: &str) -> Result<Option<u64>, Error> {
    field(options, key)?.map(|v| check_ms(key, number(&v, key)?)).transpose()
}

fn retries_opt(options: &JsValue) -> Result<Option<u32>, Error> {
    field(options, "maxRetries")?
        .map(|v| check_count("maxRetries", number(&v, "maxRetries")?, 0, MAX_RETRIES))
        .transpose()
}

fn client_options(options: &JsValue, allowed: &[&[&str]]) -> Result<ClientOptions, Error> {
    check_options_object(options, "options")?;
    check_option_names(options, allowed)?;
    let mut o = ClientOptions { surface: Surface::Js, ..ClientOptions::new() };
    if let Some(s) = string_opt(options, "apiKey")? {
        o = o.api_key(s);
    }
    if let Some(s) = string_opt(options, "workspaceId")? {
        o = o.workspace_id(s);
    }
    if let Some(s) = string_opt(options, "baseUrl")? {
        o = o.base_url(s);
    }
    if let Some(v) = field(options, "dangerouslyAllowBrowser")? {
        let b = v.as_bool().ok_or_else(|| {
            Error::invalid_argument(format!("Option `dangerouslyAllowBrowser` must be a boolean, got {}.", type_name(&v)))
        })?;
        o = o.dangerously_allow_browser(b);
    }
    if let Some(ms) = ms_opt(options, "timeoutMs")? {
        o = o.timeout_ms(ms);
    }
    if let Some(n) = retries_opt(options)? {
        o = o.max_retries(n);
    }
    if let Some(ms) = ms_opt(options, "maxRetryWaitMs")? {
        o = o.max_retry_wait_ms(ms);
    }
    if let Some(level) = string_opt(options, "logLevel")? {
        o = o.log_level(LogLevel::from_user(&level, "Option `logLevel`")?);
    }
    if let Some(cache) = field(options, "cache")? {
        if let Some(c) = cache_options(&cache)? {
            o = o.cache(c);
        }
    }
    if let Some(history) = field(options, "history")? {
        if let Some(h) = history_options(&history)? {
            o = o.history(h);
        }
    }
    if let Some(logger) = field(options, "logger")? {
        if !logger.is_object() {
            return Err(Error::invalid_argument(format!(
                "Option `logger` must be an object with error, warn, info and debug methods (console is one), got {}.",
                type_name(&logger)
            )));
        }
        o = o.logger(Logger::new(move |level, line| log_to(&logger, level, line)));
    }
    Ok(o)
}

/// Calls `logger[level](line)` (or `logger.log(line)` when it has no such method). A logger
/// that throws cannot break a lookup: its exception is dropped.
fn log_to(logger: &JsValue, level: LogLevel, line: &str) {
    let method = |name: &str| Reflect::get(logger, &JsValue::from_str(name)).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    if let Some(f) = method(level.as_str()).or_else(|| method("log")) {
        let _ = f.call1(logger, &JsValue::from_str(line));
    }
}

fn request_options(options: &JsValue, allowed: &[&[&str]]) -> Result<RequestOptions, Error> {
    if options.is_undefined() {
        return Ok(RequestOptions::default()); // the common case, in one crossing
    }
    check_options_object(options, "options")?;
    check_option_names(options, allowed)?;
    let signal = match field(options, "signal")? {
        None => None,
        Some(v) => Some(v.dyn_into::<AbortSignal>().map_err(|v| {
            Error::invalid_argument(format!("Option `signal` must be an AbortSignal, got {}.", type_name(&v)))
        })?),
    };
    let cache = match string_opt(options, "cache")? {
        None => CacheMode::Default,
        Some(mode) => CacheMode::parse(&mode).ok_or_else(|| {
            Error::invalid_argument(format!(
                "Option `cache` of a call must be 'default', 'no-store' or 'reload', got {}.",
                crate::error::describe_str(&mode)
            ))
        })?,
    };
    Ok(RequestOptions {
        signal,
        timeout_ms: ms_opt(options, "timeoutMs")?,
        max_retries: retries_opt(options)?,
        cache,
        #[cfg(feature = "observe")]
        observer: observer_of(options),
    })
}

/// The observer the package's own JavaScript put on a call's options (under a symbol, so it is
/// neither an option name nor visible to a caller's `Object.keys`).
#[cfg(feature = "observe")]
fn observer_of(options: &JsValue) -> Option<crate::observe::ObserverRef> {
    let v = Reflect::get(options, &js_sys::Symbol::for_(OBSERVER_KEY)).ok()?;
    js_observer(v)
}

/// Where the JavaScript side puts a call's observer.
#[cfg(feature = "observe")]
const OBSERVER_KEY: &str = "powerpost-analytics/observer";

/// A JavaScript observer `{ event(e), headers(lookup) }`, if `v` is an object.
#[cfg(feature = "observe")]
pub(crate) fn js_observer(v: JsValue) -> Option<crate::observe::ObserverRef> {
    v.is_object().then(|| crate::observe::ObserverRef::new(Rc::new(JsObserver(v))))
}

/// Calls the JavaScript observer's `event(event)` with each event as a plain object, and
/// `headers(lookup)` for the trace context; what it throws is dropped (it cannot break a lookup).
#[cfg(feature = "observe")]
struct JsObserver(JsValue);

#[cfg(feature = "observe")]
impl JsObserver {
    fn call(&self, method: &str, arg: &JsValue) -> Option<JsValue> {
        let f = Reflect::get(&self.0, &JsValue::from_str(method)).ok()?.dyn_into::<js_sys::Function>().ok()?;
        f.call1(&self.0, arg).ok()
    }
}

#[cfg(feature = "observe")]
impl crate::observe::Observer for JsObserver {
    fn event(&self, event: &crate::observe::Event) {
        self.call("event", &to_js(event));
    }

    fn propagation(&self, lookup: u32) -> Vec<(String, String)> {
        // `[[name, value], …]`; only the first few entries are read.
        let Some(list) = self.call("headers", &JsValue::from_f64(f64::from(lookup))).filter(Array::is_array) else {
            return Vec::new();
        };
        let list: Array = list.unchecked_into();
        (0..list.length().min(4))
            .filter_map(|i| {
                let pair = list.get(i);
                let text = |j: u32| Reflect::get_u32(&pair, j).ok()?.dyn_into::<js_sys::JsString>().ok().filter(|s| s.length() <= 512).map(String::from);
                Some((text(0)?, text(1)?))
            })
            .collect()
    }
}

/// The client's `cache` option: `true`, `false`, or `{ maxEntries, maxAgeMs, snapshotIntervalMs, store }`.
fn cache_options(value: &JsValue) -> Result<Option<CacheOptions>, Error> {
    if let Some(on) = switch_or_object(value, "cache", "maxEntries, maxAgeMs, snapshotIntervalMs, store", CACHE_OPTIONS)? {
        return Ok(on.then(CacheOptions::new));
    }
    let mut o = CacheOptions::new();
    if let Some(n) = size_opt(value, "maxEntries", "cache.maxEntries")? {
        o = o.max_entries(n);
    }
    if let Some(ms) = ms_opt(value, "maxAgeMs")? {
        o = o.max_age_ms(ms);
    }
    if let Some(ms) = ms_opt(value, "snapshotIntervalMs")? {
        o = o.snapshot_interval_ms(ms);
    }
    if let Some(store) = field(value, "store")? {
        if !has_methods(&store, &["get", "set", "delete"]) {
            return Err(Error::invalid_argument(
                "Option `cache.store` must be an object with get(key), set(key, value) and delete(key) methods (each may return a promise).",
            ));
        }
        // The proxy's claim uses an optional add(key, value); the browser entries never call it.
        #[cfg(feature = "proxy")]
        if !Reflect::get(&store, &JsValue::from_str("add")).is_ok_and(|f| f.is_undefined() || f.is_function()) {
            return Err(Error::invalid_argument(
                "Option `cache.store`'s add(key, value) must be a function (set if absent, resolving to true or false).",
            ));
        }
        o = o.store(Rc::new(JsStore(store)));
    }
    Ok(Some(o))
}

/// The client's `history` option: `true`, `false`, or `{ store, snapshotIntervalMs, maxPending }`.
fn history_options(value: &JsValue) -> Result<Option<HistoryOptions>, Error> {
    if let Some(on) = switch_or_object(value, "history", "store, snapshotIntervalMs, maxPending", HISTORY_OPTIONS)? {
        return Ok(on.then(HistoryOptions::new));
    }
    let mut o = HistoryOptions::new();
    if let Some(ms) = ms_opt(value, "snapshotIntervalMs")? {
        if ms == 0 {
            return Err(Error::invalid_argument("Option `history.snapshotIntervalMs` must be at least 1."));
        }
        o = o.snapshot_interval_ms(ms);
    }
    if let Some(n) = size_opt(value, "maxPending", "history.maxPending")? {
        o = o.max_pending(n);
    }
    if let Some(store) = field(value, "store")? {
        if !has_methods(&store, &["append", "list", "get", "set"]) {
            return Err(Error::invalid_argument(
                "Option `history.store` must be an object with append(key, at, snapshot), list(key), get(key) and set(key, value) \
                 methods (each may return a promise): sqliteHistoryStore or redisHistoryStore from powerpost-analytics/stores, or your own.",
            ));
        }
        o = o.store(Rc::new(JsStore(store)));
    }
    Ok(Some(o))
}

/// The `cache` and `history` options: `Some(on)` for a boolean, `None` for an object whose keys
/// are all `allowed`; anything else is refused, naming the object's `shape`.
fn switch_or_object(value: &JsValue, name: &str, shape: &str, allowed: &[&str]) -> Result<Option<bool>, Error> {
    if let Some(on) = value.as_bool() {
        return Ok(Some(on));
    }
    if !value.is_object() || Array::is_array(value) {
        return Err(Error::invalid_argument(format!("Option `{name}` must be true or an object {{ {shape} }}, got {}.", type_name(value))));
    }
    check_option_names(value, &[allowed])?;
    Ok(None)
}

/// A count option of `cache` or `history` (`name` in messages): a whole number from 1 to 10 000 000.
fn size_opt(value: &JsValue, key: &str, name: &str) -> Result<Option<usize>, Error> {
    field(value, key)?.map(|v| Ok(check_count(name, number(&v, name)?, 1, 10_000_000)? as usize)).transpose()
}

/// Whether `store` is an object with each of `methods` a function (a store's shape).
fn has_methods(store: &JsValue, methods: &[&str]) -> bool {
    store.is_object() && methods.iter().all(|name| Reflect::get(store, &JsValue::from_str(name)).is_ok_and(|f| f.is_function()))
}

/// A caller's `{ get, set, delete }` object as a [`CacheStore`]. Each method may return a value
/// or a promise; one that throws or rejects is a store failure (what it threw is only logged,
/// redacted).
struct JsStore(JsValue);

impl JsStore {
    /// Calls `method`; a throw or a rejection is a failure, described by `why` (the cache's
    /// store failures are described only where they are logged).
    fn invoke(&self, method: &'static str, args: &[&JsValue], why: fn(&str, &str, &JsValue) -> String) -> StoreFuture<JsValue> {
        let result = Reflect::get(&self.0, &JsValue::from_str(method)).and_then(|f| {
            let f: js_sys::Function = f.dyn_into()?;
            match args {
                [a] => f.call1(&self.0, a),
                [a, b] => f.call2(&self.0, a, b),
                [a, b, c] => f.call3(&self.0, a, b, c),
                _ => f.call0(&self.0),
            }
        });
        Box::pin(async move {
            let value = result.map_err(|e| why(method, "threw", &e))?;
            JsFuture::from(Promise::resolve(&value)).await.map_err(|e| why(method, "rejected with", &e))
        })
    }

    fn call(&self, method: &'static str, args: &[&JsValue]) -> StoreFuture<JsValue> {
        self.invoke(method, args, store_failure)
    }

    /// For the history store, whose failures are logged in every build.
    fn call_described(&self, method: &'static str, args: &[&JsValue]) -> StoreFuture<JsValue> {
        self.invoke(method, args, |method, how, e| format!("{method}() {how} {}", crate::transport::js_error_text(e)))
    }
}

/// Why a store call failed, for the proxy's warn line (the browser entries log no store
/// failures, and keep their size).
#[cfg(feature = "proxy")]
fn store_failure(method: &str, how: &str, e: &JsValue) -> String {
    format!("{method}() {how} {}", crate::transport::js_error_text(e))
}

#[cfg(not(feature = "proxy"))]
fn store_failure(_method: &str, _how: &str, _e: &JsValue) -> String {
    String::new()
}

impl CacheStore for JsStore {
    fn get(&self, key: &str) -> StoreFuture<Option<String>> {
        let pending = self.call("get", &[&JsValue::from_str(key)]);
        // Copied into wasm memory (which never shrinks) only when it could be an entry.
        let limit = 2 * crate::MAX_BODY_BYTES as u32;
        Box::pin(async move { Ok(pending.await?.dyn_ref::<js_sys::JsString>().and_then(|s| bounded_string(s, limit))) })
    }
    fn set(&self, key: &str, value: String) -> StoreFuture<()> {
        let pending = self.call("set", &[&JsValue::from_str(key), &JsValue::from_str(&value)]);
        Box::pin(async move { pending.await.map(drop) })
    }
    fn delete(&self, key: &str) -> StoreFuture<()> {
        let pending = self.call("delete", &[&JsValue::from_str(key)]);
        Box::pin(async move { pending.await.map(drop) })
    }
    #[cfg(feature = "proxy")]
    fn add(&self, key: &str, value: String) -> Option<StoreFuture<bool>> {
        Reflect::get(&self.0, &JsValue::from_str("add")).ok().filter(JsValue::is_function)?;
        let pending = self.call("add", &[&JsValue::from_str(key), &JsValue::from_str(&value)]);
        Some(Box::pin(async move {
            let added = pending.await?;
            added.as_bool().ok_or_else(|| "add() must resolve to true or false".to_owned())
        }))
    }
}

/// The same object as a [`HistoryStore`]: its failures are always described (they are logged
/// at warn level in every build).
impl HistoryStore for JsStore {
    fn append(&self, key: &str, at_ms: i64, snapshot: String) -> StoreFuture<bool> {
        let pending = self.call_described("append", &[&JsValue::from_str(key), &JsValue::from_f64(at_ms as f64), &JsValue::from_str(&snapshot)]);
        Box::pin(async move {
            let added = pending.await?;
            added.as_bool().ok_or_else(|| "append() must resolve to true or false".to_owned())
        })
    }
    fn list(&self, key: &str) -> StoreFuture<Vec<String>> {
        let pending = self.call_described("list", &[&JsValue::from_str(key)]);
        let limit = crate::MAX_BODY_BYTES as u32;
        Box::pin(async move {
            let value = pending.await?;
            if !Array::is_array(&value) {
                return Err(format!("list() must resolve to an array of strings, got {}", type_name(&value)));
            }
            let texts: &Array = value.unchecked_ref();
            // Entries that are not strings of a sane size are not snapshots; left out.
            Ok(texts.iter().filter_map(|t| t.dyn_ref::<js_sys::JsString>().and_then(|s| bounded_string(s, limit))).collect())
        })
    }
    fn get(&self, key: &str) -> StoreFuture<Option<String>> {
        let pending = self.call_described("get", &[&JsValue::from_str(key)]);
        Box::pin(async move { Ok(pending.await?.dyn_ref::<js_sys::JsString>().and_then(|s| bounded_string(s, MAX_OPTION_CHARS))) })
    }
    fn set(&self, key: &str, value: String) -> StoreFuture<()> {
        let pending = self.call_described("set", &[&JsValue::from_str(key), &JsValue::from_str(&value)]);
        Box::pin(async move { pending.await.map(drop) })
    }
}

/// A post item id from JS: a string, checked for length before it is copied into wasm memory.
fn id_string(v: &JsValue, name: &str) -> Result<String, Error> {
    let Some(js) = v.dyn_ref::<js_sys::JsString>() else {
        return Err(Error::invalid_argument(format!("{name} must be a string, got {}.", type_name(v))));
    };
    let s = bounded_string(js, MAX_ID_UTF16).ok_or_else(|| {
        Error::invalid_argument(format!(
            "{name} is {} characters long; PowerPost ids are at most {MAX_POST_ITEM_ID_CHARS}.",
            js.length()
        ))
    })?;
    crate::config::check_post_item_id(&s).map_err(|mut e| {
        // The id rules' messages start with "postItemId"; name the argument actually given.
        if let Some(rest) = e.message().strip_prefix("postItemId").filter(|_| name != "postItemId") {
            e.inner_mut().message = format!("{name}{rest}");
        }
        e
    })?;
    Ok(s)
}

fn string_array(v: &JsValue) -> Result<Vec<String>, Error> {
    if !Array::is_array(v) {
        return Err(Error::invalid_argument(format!("postItemIds must be an array of strings, got {}.", type_name(v))));
    }
    let arr: &Array = v.unchecked_ref();
    (0..arr.length())
        .map(|i| {
            let item = arr.get(i);
            match item.dyn_ref::<js_sys::JsString>() {
                // Per-item rules (empty, over 256 characters) are reported per item by the
                // batch; only a string too long to copy safely fails the whole batch.
                Some(js) => bounded_string(js, MAX_OPTION_CHARS).ok_or_else(|| {
                    Error::invalid_argument(format!(
                        "postItemIds[{i}] is {} characters long; PowerPost ids are at most {MAX_POST_ITEM_ID_CHARS}.",
                        js.length()
                    ))
                }),
                None => Err(Error::invalid_argument(format!("postItemIds[{i}] must be a string, got {}.", type_name(&item)))),
            }
        })
        .collect()
}

/// A caller's value read for the validator, in place (no copy): of an object only the keys
/// the rules read (never every property of a hostile object), of other containers only their
/// kind; each scalar read by serde-wasm-bindgen, as the body path reads `JSON.parse`'s.
fn read_document(v: &JsValue) -> Result<Document, Error> {
    // The first refusal, at its path; after it nothing more is read (no later getter runs).
    let refusal: std::cell::RefCell<Option<Error>> = std::cell::RefCell::new(None);
    let member = |obj: &JsValue, parent: &str, key: &'static str| {
        if refusal.borrow().is_some() {
            return Read::Missing;
        }
        member(obj, key).unwrap_or_else(|what| {
            *refusal.borrow_mut() = Some(validate::refused_at(&format!("{parent}{key}"), what));
            Read::Missing
        })
    };
    let ignored = |_: JsValue| serde::de::IgnoredAny;
    let doc = read(v.clone()).map_err(|what| validate::refused_at("$", what))?.field(|top| {
        Wire::read(
            |key| member(&top, "", key).field(ignored),
            |key| member(&top, "", key).field(|m| WireMetrics::read(|k| member(&m, "metrics.", k).field(ignored))),
        )
    });
    match refusal.into_inner() {
        Some(e) => Err(e),
        None => Ok(doc),
    }
}

/// A value as far as the validator may look at it; see [`read`].
enum Read {
    Missing,
    Value(Seen),
    /// An object, whose fields only the callers that want them read.
    Object(JsValue),
}

impl Read {
    fn field<T>(self, object: impl FnOnce(JsValue) -> T) -> Field<T> {
        match self {
            Read::Missing => Field::Missing,
            Read::Value(seen) => Field::Value(seen),
            Read::Object(v) => Field::Object(object(v)),
        }
    }
}

thread_local! {
    /// The rules' keys as JS strings, made once: a `&str` handed to JS is decoded on every call.
    static KEYS: std::cell::RefCell<Vec<(&'static str, JsValue)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `obj[key]` (missing when undefined), or why it cannot be read.
fn member(obj: &JsValue, key: &'static str) -> Result<Read, &'static str> {
    let name = KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        // By address: each key is one literal in `Wire::read`.
        if let Some((_, name)) = keys.iter().find(|(k, _)| std::ptr::eq(*k, key)) {
            return name.clone();
        }
        let name = JsValue::from_str(key);
        keys.push((key, name.clone()));
        name
    });
    match Reflect::get(obj, &name) {
        Err(_) => Err("a property whose getter throws"),
        Ok(v) if v.is_undefined() => Ok(Read::Missing),
        Ok(v) => read(v),
    }
}

/// What the validator may see of `v`, or why not: serde-wasm-bindgen must not be handed a
/// function, symbol or bigint, nor a string too long to copy into wasm memory (no field of a
/// valid response can be longer than the 1 MiB body limit).
fn read(v: JsValue) -> Result<Read, &'static str> {
    if let Some(s) = v.dyn_ref::<js_sys::JsString>() {
        if s.length() as usize > crate::MAX_BODY_BYTES {
            return Err("a string longer than 1 MiB");
        }
    } else if Array::is_array(&v) {
        return Ok(Read::Value(Seen::Array));
    } else if v.is_function() {
        return Err("a function");
    } else if v.is_symbol() {
        return Err("a symbol");
    } else if v.is_bigint() {
        return Err("a bigint");
    } else if v.is_object() {
        return Ok(Read::Object(v));
    } else if !(v.is_null() || v.is_undefined() || v.as_bool().is_some() || v.as_f64().is_some()) {
        return Err("an unsupported value");
    }
    // Through the body path's own code: a document that is a scalar is that scalar.
    match validate::from_js::<Document>(v) {
        Ok(Field::Value(seen)) => Ok(Read::Value(seen)),
        _ => Err("an unsupported value"),
    }
}

// ---- Rust → JS -------------------------------------------------------------------------

fn set(obj: &Object, key: &str, value: &JsValue) {
    // Only fails on frozen objects or proxies, and these are fresh plain objects.
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

/// Builds the JavaScript error class instance for `e`.
pub(crate) fn to_js_error(e: Error) -> JsValue {
    let f = Object::new();
    let s = |v: Option<&str>| v.map_or(JsValue::UNDEFINED, JsValue::from_str);
    let n = |v: Option<f64>| v.map_or(JsValue::UNDEFINED, JsValue::from_f64);
    set(&f, "retryable", &JsValue::from_bool(e.is_retryable()));
    set(&f, "attempts", &JsValue::from_f64(f64::from(e.attempts())));
    set(&f, "postItemId", &s(e.post_item_id()));
    if e.kind().is_api() || e.is_invalid_response() {
        set(&f, "status", &n(e.status().map(f64::from)));
        set(&f, "requestId", &s(e.request_id()));
    }
    if e.kind().is_api() {
        set(&f, "code", &s(e.code()));
        set(&f, "rateLimit", &e.rate_limit().map_or(JsValue::UNDEFINED, |r| to_js(&r)));
    }
    if e.kind() == crate::ErrorKind::RateLimit {
        set(&f, "retryAfterMs", &n(e.retry_after_ms().map(|v| v as f64)));
    }
    if e.is_invalid_response() {
        set(&f, "path", &s(e.path()));
        set(&f, "expected", &s(e.expected()));
        set(&f, "received", &s(e.received()));
    }
    if let Some(pairs) = e.headers() {
        // No prototype: a header named `__proto__` is a header like any other.
        let headers = Object::create(JsValue::NULL.unchecked_ref());
        for (name, value) in pairs {
            set(&headers, name, &JsValue::from_str(value));
        }
        set(&f, "headers", &headers.into());
    }
    if let Some(text) = e.body() {
        // The body as sent: parsed when it is JSON, else the text.
        set(&f, "body", &js_sys::JSON::parse(text).unwrap_or_else(|_| JsValue::from_str(text)));
    }
    match (&e.inner_ref().js_cause, e.cause()) {
        (Some(cause), _) => set(&f, "cause", &cause.0),
        (None, Some(text)) => set(&f, "cause", &js_sys::Error::new(text).into()),
        (None, None) => {}
    }
    create_error(e.kind().as_str(), e.message(), &f)
}
