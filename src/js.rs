//! The `#[wasm_bindgen]` surface: conversion between JavaScript values and the Rust API, and
//! nothing else. Every JavaScript input is checked here for its type (a wrong type is an
//! `InvalidArgumentError`, never a panic); every rule lives in the pure modules.

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use crate::client::{Client, RequestOptions};
use crate::config::{check_count, check_ms, ClientOptions, DEFAULT_CONCURRENCY, MAX_POST_ITEM_ID_CHARS};
use crate::error::Error;
use crate::json::Value;
use crate::task::settle_with;
use crate::text::{cat, num};
use crate::types::{PostItemAnalytics, RateLimit};
use crate::validate;

#[wasm_bindgen(module = "/js/runtime.js")]
extern "C" {
    #[wasm_bindgen(js_name = makeAnalytics)]
    #[allow(clippy::too_many_arguments)]
    fn make_analytics(
        id: &str, post_type: &str, platform: &str, status: &str, has_metrics: bool,
        views: f64, likes: f64, comments: f64, fetched_at: &str,
    ) -> JsValue;
}

#[wasm_bindgen(module = "/js/errors.js")]
extern "C" {
    #[wasm_bindgen(js_name = createError)]
    fn create_error(kind: &str, message: &str, fields: &Object) -> JsValue;
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
        let client = client_options(&options).and_then(Client::new).map_err(to_js_error)?;
        Ok(JsClient { client })
    }

    /// `getPostItemAnalytics(postItemId, options?)`, settling the caller's promise through
    /// `resolve` / `reject` (the package's entry creates the promise).
    #[wasm_bindgen(js_name = getPostItemAnalytics)]
    pub fn get_post_item_analytics(&self, post_item_id: JsValue, options: JsValue, resolve: Function, reject: Function) {
        get(self.client.clone(), post_item_id, options, resolve, reject);
    }

    /// `getPostItemAnalyticsBatch(postItemIds, options?)`, settled like `getPostItemAnalytics`.
    #[wasm_bindgen(js_name = getPostItemAnalyticsBatch)]
    pub fn get_post_item_analytics_batch(
        &self,
        post_item_ids: JsValue,
        options: JsValue,
        resolve: Function,
        reject: Function,
    ) {
        let client = self.client.clone();
        let prepared = (|| {
            let ids = string_array(&post_item_ids)?;
            let opts = request_options(&options)?;
            let concurrency = match field(&options, "concurrency")? {
                None => DEFAULT_CONCURRENCY,
                Some(v) => check_count("concurrency", number(&v, "concurrency")?, 1, 1024)?,
            };
            Ok((ids, opts, concurrency))
        })();
        settle_with(resolve, reject, async move {
            let (ids, opts, concurrency) = prepared.map_err(to_js_error)?;
            let items = client.get_post_item_analytics_batch(&ids, &opts, concurrency).await.map_err(to_js_error)?;
            let out = Array::new_with_length(items.len() as u32);
            for (i, item) in items.into_iter().enumerate() {
                let entry = Object::new();
                set(&entry, "postItemId", &JsValue::from_str(&item.post_item_id));
                match item.result {
                    Ok(a) => {
                        set(&entry, "ok", &JsValue::TRUE);
                        set(&entry, "analytics", &analytics_to_js(&a));
                    }
                    Err(e) => {
                        set(&entry, "ok", &JsValue::FALSE);
                        set(&entry, "error", &to_js_error(e));
                    }
                }
                out.set(i as u32, entry.into());
            }
            Ok(out.into())
        });
    }

    /// The `X-RateLimit-*` headers of the last response seen, or `null`.
    #[wasm_bindgen(getter, js_name = rateLimit)]
    pub fn rate_limit(&self) -> JsValue {
        self.client.rate_limit().map_or(JsValue::NULL, |r| rate_limit_to_js(&r))
    }
}

/// `getPostItemAnalytics(postItemId, options?)`: a one-off client for one call.
#[wasm_bindgen(js_name = getPostItemAnalytics)]
pub fn get_post_item_analytics(post_item_id: JsValue, options: JsValue, resolve: Function, reject: Function) {
    match client_options(&options).and_then(Client::new) {
        Ok(client) => get(client, post_item_id, options, resolve, reject),
        Err(e) => reject_for(&reject, e, &post_item_id),
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
    validate::validate(&&js_to_value(&value, &RESPONSE_KEYS), expected.as_deref())
        .map(|a| analytics_to_js(&a))
        .map_err(to_js_error)
}

fn get(client: Client, post_item_id: JsValue, options: JsValue, resolve: Function, reject: Function) {
    let (id, opts) =
        match id_string(&post_item_id, "postItemId").and_then(|id| Ok((id, request_options(&options)?))) {
            Ok(prepared) => prepared,
            Err(e) => return reject_for(&reject, e, &post_item_id),
        };
    settle_with(resolve, reject, async move {
        let item = client.get_post_item_analytics_with(&id, &opts).await.map_err(to_js_error)?;
        Ok(analytics_to_js(&item))
    });
}

/// Rejects the caller's promise with `e`, naming the id it was about when it is a usable string.
fn reject_for(reject: &Function, e: Error, post_item_id: &JsValue) {
    let _ = reject.call1(&JsValue::UNDEFINED, &to_js_error(with_id(e, post_item_id)));
}

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

// ---- Property names ----------------------------------------------------------------------

/// Property names used on every call, converted to JS strings once: turning a Rust string into
/// a JS one costs a TextDecoder call, which dominated a validation.
const KEYS: [&str; 21] = [
    "post_item_id", "post_type", "platform", "status", "metrics", "views", "likes", "comments", "fetched_at",
    "apiKey", "workspaceId", "baseUrl", "dangerouslyAllowBrowser", "timeoutMs", "maxRetries", "maxRetryWaitMs",
    "signal", "concurrency", "postItemId", "ok", "analytics",
];

thread_local! {
    static KEY_VALUES: Vec<JsValue> = KEYS.iter().map(|k| JsValue::from_str(k)).collect();
}

/// Calls `f` with `key` as a JS string, cached for the names in [`KEYS`].
fn with_key<R>(key: &str, f: impl FnOnce(&JsValue) -> R) -> R {
    match KEYS.iter().position(|k| *k == key) {
        Some(i) => KEY_VALUES.with(|values| match values.get(i) {
            Some(v) => f(v),
            None => f(&JsValue::from_str(key)),
        }),
        None => f(&JsValue::from_str(key)),
    }
}

// ---- JS → Rust -------------------------------------------------------------------------

fn type_name(v: &JsValue) -> String {
    if v.is_null() {
        "null".into()
    } else if Array::is_array(v) {
        "an array".into()
    } else {
        let t = v.js_typeof().as_string().unwrap_or_default();
        match t.as_str() {
            "object" => "an object".into(),
            "undefined" => "undefined".into(),
            other => cat(&["a ", other]),
        }
    }
}

/// Reads `obj[key]`; `None` for undefined. A throwing getter or proxy trap is an error.
fn field(obj: &JsValue, key: &str) -> Result<Option<JsValue>, Error> {
    if obj.is_undefined() || obj.is_null() {
        return Ok(None);
    }
    let v = with_key(key, |k| Reflect::get(obj, k))
        .map_err(|_| Error::invalid_argument(cat(&["Reading option `", key, "` threw an exception."])))?;
    Ok((!v.is_undefined()).then_some(v))
}

fn check_options_object(options: &JsValue, what: &str) -> Result<(), Error> {
    if options.is_undefined() || options.is_null() || (options.is_object() && !Array::is_array(options) && !options.is_function()) {
        Ok(())
    } else {
        Err(Error::invalid_argument(cat(&[what, " must be an object, got ", &type_name(options), "."])))
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
                Error::invalid_argument(cat(&[
                    "Option `",
                    key,
                    "` is ",
                    &num(js.length().into()),
                    " characters long; at most ",
                    &num(MAX_OPTION_CHARS.into()),
                    " are accepted.",
                ]))
            }),
            None => Err(Error::invalid_argument(cat(&["Option `", key, "` must be a string, got ", &type_name(&v), "."]))),
        },
    }
}

fn number(v: &JsValue, key: &str) -> Result<f64, Error> {
    v.as_f64()
        .ok_or_else(|| Error::invalid_argument(cat(&["Option `", key, "` must be a number, got ", &type_name(v), "."])))
}

fn ms_opt(options: &JsValue, key: &str) -> Result<Option<u64>, Error> {
    field(options, key)?.map(|v| check_ms(key, number(&v, key)?)).transpose()
}

fn retries_opt(options: &JsValue) -> Result<Option<u32>, Error> {
    field(options, "maxRetries")?
        .map(|v| check_count("maxRetries", number(&v, "maxRetries")?, 0, 100))
        .transpose()
}

fn client_options(options: &JsValue) -> Result<ClientOptions, Error> {
    check_options_object(options, "options")?;
    let mut o = ClientOptions::new();
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
            Error::invalid_argument(cat(&["Option `dangerouslyAllowBrowser` must be a boolean, got ", &type_name(&v), "."]))
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
    Ok(o)
}

fn request_options(options: &JsValue) -> Result<RequestOptions, Error> {
    if options.is_undefined() {
        return Ok(RequestOptions::default()); // the common case, in one crossing
    }
    check_options_object(options, "options")?;
    let signal = match field(options, "signal")? {
        None => None,
        Some(v) => Some(v.dyn_into::<AbortSignal>().map_err(|v| {
            Error::invalid_argument(cat(&["Option `signal` must be an AbortSignal, got ", &type_name(&v), "."]))
        })?),
    };
    Ok(RequestOptions { signal, timeout_ms: ms_opt(options, "timeoutMs")?, max_retries: retries_opt(options)? })
}

/// A post item id from JS: a string, checked for length before it is copied into wasm memory.
fn id_string(v: &JsValue, name: &str) -> Result<String, Error> {
    let Some(js) = v.dyn_ref::<js_sys::JsString>() else {
        return Err(Error::invalid_argument(cat(&[name, " must be a string, got ", &type_name(v), "."])));
    };
    let s = bounded_string(js, MAX_ID_UTF16).ok_or_else(|| {
        Error::invalid_argument(cat(&[
            name,
            " is ",
            &num(js.length().into()),
            " characters long; PowerPost ids are at most ",
            &num(MAX_POST_ITEM_ID_CHARS as u64),
            ".",
        ]))
    })?;
    crate::config::check_post_item_id(&s).map_err(|e| {
        let mut e = e;
        // The id rules' messages start with "postItemId"; name the argument actually given.
        if let Some(rest) = e.message().strip_prefix("postItemId").filter(|_| name != "postItemId") {
            let m = cat(&[name, rest]);
            e.inner_mut().message = m;
        }
        e
    })?;
    Ok(s)
}

fn string_array(v: &JsValue) -> Result<Vec<String>, Error> {
    if !Array::is_array(v) {
        return Err(Error::invalid_argument(cat(&["postItemIds must be an array of strings, got ", &type_name(v), "."])));
    }
    let arr: &Array = v.unchecked_ref();
    (0..arr.length())
        .map(|i| {
            let item = arr.get(i);
            match item.dyn_ref::<js_sys::JsString>() {
                // Per-item rules (empty, over 256 characters) are reported per item by the
                // batch; only a string too long to copy safely fails the whole batch.
                Some(js) => bounded_string(js, MAX_OPTION_CHARS).ok_or_else(|| {
                    Error::invalid_argument(cat(&[
                        "postItemIds[",
                        &num(i.into()),
                        "] is ",
                        &num(js.length().into()),
                        " characters long; PowerPost ids are at most ",
                        &num(MAX_POST_ITEM_ID_CHARS as u64),
                        ".",
                    ]))
                }),
                None => Err(Error::invalid_argument(cat(&["postItemIds[", &num(i.into()), "] must be a string, got ", &type_name(&item), "."]))),
            }
        })
        .collect()
}

/// The keys of a response, and of its `metrics`: all the validator reads.
const RESPONSE_KEYS: [&str; 5] = ["post_item_id", "post_type", "platform", "status", "metrics"];
const METRICS_KEYS: [&str; 4] = ["views", "likes", "comments", "fetched_at"];

/// The fields the validator reads, copied from a JavaScript value into a [`Value`], so that
/// both inputs share one compiled validator. Only the response's own keys are read (never
/// every property of a hostile object); other containers keep only their kind, which is all
/// the rules look at.
fn js_to_value(v: &JsValue, keys: &[&str]) -> Value {
    if v.is_null() {
        Value::Null
    } else if let Some(b) = v.as_bool() {
        Value::Bool(b)
    } else if let Some(n) = v.as_f64() {
        if n.is_finite() {
            Value::Number(n)
        } else {
            Value::Other("a non-finite number")
        }
    } else if let Some(s) = v.dyn_ref::<js_sys::JsString>() {
        // No field of a valid response can be longer than the 1 MiB body limit; longer
        // strings are described without being copied into wasm memory.
        match bounded_string(s, crate::MAX_BODY_BYTES as u32) {
            Some(copy) => Value::String(copy),
            None => Value::Other("a string longer than 1 MiB"),
        }
    } else if Array::is_array(v) {
        Value::Array(Vec::new())
    } else if v.is_function() {
        Value::Other("a function")
    } else if v.is_object() {
        let mut members = Vec::new();
        for &key in keys {
            let nested: &[&str] = if key == "metrics" { &METRICS_KEYS } else { &[] };
            match with_key(key, |k| Reflect::get(v, k)) {
                Ok(x) if x.is_undefined() => {}
                Ok(x) => members.push((key.to_owned(), js_to_value(&x, nested))),
                Err(_) => members.push((key.to_owned(), Value::Other("a property whose getter throws"))),
            }
        }
        Value::Object(members)
    } else if v.is_undefined() {
        Value::Other("undefined")
    } else if v.is_symbol() {
        Value::Other("a symbol")
    } else if v.is_bigint() {
        Value::Other("a bigint")
    } else {
        Value::Other("an unsupported value")
    }
}

// ---- Rust → JS -------------------------------------------------------------------------

fn set(obj: &Object, key: &str, value: &JsValue) {
    // Only fails on frozen objects or proxies, and these are fresh plain objects.
    let _ = with_key(key, |k| Reflect::set(obj, k, value));
}

/// One call builds the plain result object in JavaScript, with one shape for every result.
fn analytics_to_js(a: &PostItemAnalytics) -> JsValue {
    match &a.metrics {
        Some(m) => make_analytics(
            &a.post_item_id, &a.post_type, &a.platform, a.status.as_str(), true,
            m.views as f64, m.likes as f64, m.comments as f64, &m.fetched_at,
        ),
        None => make_analytics(&a.post_item_id, &a.post_type, &a.platform, a.status.as_str(), false, 0.0, 0.0, 0.0, ""),
    }
}

fn rate_limit_to_js(r: &RateLimit) -> JsValue {
    let o = Object::new();
    set(&o, "limit", &JsValue::from_f64(r.limit as f64));
    set(&o, "remaining", &JsValue::from_f64(r.remaining as f64));
    set(&o, "reset", &JsValue::from_f64(r.reset as f64));
    o.into()
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
        set(&f, "rateLimit", &e.rate_limit().map_or(JsValue::UNDEFINED, |r| rate_limit_to_js(&r)));
    }
    if e.kind() == crate::ErrorKind::RateLimit {
        set(&f, "retryAfterMs", &n(e.retry_after_ms().map(|v| v as f64)));
    }
    if e.is_invalid_response() {
        set(&f, "path", &s(e.path()));
        set(&f, "expected", &s(e.expected()));
        set(&f, "received", &s(e.received()));
    }
    if let Some(c) = e.cause() {
        let cause = js_sys::Error::new(c);
        set(&f, "cause", &cause.into());
    }
    create_error(e.kind().as_str(), e.message(), &f)
}
