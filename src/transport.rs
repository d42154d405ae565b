//! One HTTP attempt over `gloo-net`'s `fetch`: headers, timeout and caller abort wired into
//! one `AbortController`, the body read with a size cap. wasm-only glue; what the response
//! means is decided in [`crate::response`].
//!
//! The timers and abort links call JavaScript functions directly (`controller.abort` bound to
//! a reason, a promise's own `resolve`/`reject`), so no Rust closure is created per request.

use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal, Headers, RequestInit, RequestRedirect};

use crate::config::{Config, Opt};
use crate::error::{redact, Cause, Error, ErrorKind, JsCause};
use crate::response::{Body, ResponseMeta};
use crate::types::RateLimit;
use crate::validate::MAX_BODY_BYTES;

#[wasm_bindgen]
extern "C" {
    // Globals of every runtime the crate supports (browsers, workers, Node, Deno, Bun, workerd).
    // `fetch` is the call gloo-net's `send` makes, made here: `send` keeps only the name and
    // message of a rejection (the value's `cause` is what says why: ECONNREFUSED, a TLS error, a
    // mock that matched nothing), and it panics if a runtime rejects with a non-Error value.
    // The response is still read through gloo-net's `Response`.
    // `fetch(url, init)`, not `fetch(new Request(url, init))`: undici builds a second Request
    // from a first and makes its signal follow ours.
    #[wasm_bindgen(js_name = fetch)]
    fn fetch_with_str_and_init(url: &str, init: &RequestInit) -> Promise;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);
}

/// `setTimeout` clamps anything above 2^31 - 1 ms to 1 ms; cap it instead.
fn timer_ms(ms: u64) -> f64 {
    ms.min(2_147_483_647) as f64
}

/// `controller.abort(reason)` as a function of no arguments, for timers and listeners.
fn abort_with(controller: &AbortController, reason: &JsValue) -> Function {
    let abort: Function =
        Reflect::get(controller, &JsValue::from_str("abort")).map(JsCast::unchecked_into).unwrap_or_else(|_| Function::new_no_args(""));
    let bound: JsValue = abort.bind1(controller, reason).into();
    bound.unchecked_into()
}

/// One attempt in flight: its controller, the timer that aborts it and the link from the
/// caller's signal. Dropped, it clears the timer (so none keeps Node alive or fires late) and
/// removes the listener; dropped before the exchange finished (a Rust caller dropped the
/// future), it aborts the request too, as dropping a future cancels it.
struct Attempt {
    controller: AbortController,
    timer: JsValue,
    link: Option<(AbortSignal, Function)>,
    finished: bool,
}

impl Attempt {
    fn start(timeout_ms: u64, signal: Option<&AbortSignal>) -> Result<Attempt, JsValue> {
        let controller = AbortController::new()?;
        // The listener first: if adding it throws, no timer is left behind.
        let link = match signal {
            Some(s) => {
                let on_abort = abort_with(&controller, s);
                s.add_event_listener_with_callback("abort", &on_abort)?;
                Some((s.clone(), on_abort))
            }
            None => None,
        };
        let timer = set_timeout(&abort_with(&controller, &controller), timer_ms(timeout_ms));
        Ok(Attempt { controller, timer, link, finished: false })
    }

    fn timed_out(&self) -> bool {
        let signal = self.controller.signal();
        signal.aborted() && Object::is(&signal.reason(), &self.controller)
    }

    /// The value an error keeps as its cause. The timer aborts with the controller itself and
    /// the caller's signal is relayed with the signal: markers, not `Error`s, as creating an
    /// `Error` captures a stack (tens of µs through wasm frames); the `Error` they stand for is
    /// made here, only when one fired.
    fn shown(&self, value: JsValue) -> JsValue {
        if Object::is(&value, &self.controller) {
            js_sys::Error::new("timed out").into()
        } else if self.link.as_ref().is_some_and(|(s, _)| Object::is(&value, s)) {
            js_sys::Error::new("aborted by the caller").into()
        } else {
            value
        }
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        clear_timeout(&self.timer);
        if let Some((signal, on_abort)) = &self.link {
            let _ = signal.remove_event_listener_with_callback("abort", on_abort);
        }
        if !self.finished {
            self.controller.abort_with_reason(&js_sys::Error::new("cancelled: the request future was dropped"));
        }
    }
}

pub(crate) fn aborted_error() -> Error {
    Error::new(ErrorKind::Aborted, "The request was aborted by the caller's AbortSignal.")
}

/// Waits `ms`, or fails with an `Aborted` error as soon as `signal` fires. Dropped half-way,
/// it clears its timer and listener.
pub(crate) async fn sleep(ms: u64, signal: Option<&AbortSignal>) -> Result<(), Error> {
    if signal.is_some_and(AbortSignal::aborted) {
        return Err(aborted_error());
    }
    if ms == 0 {
        return Ok(());
    }
    /// The timer and the listener of one wait, undone when the wait ends or is dropped.
    struct Wait {
        timer: JsValue,
        link: Option<(AbortSignal, Function)>,
    }
    impl Drop for Wait {
        fn drop(&mut self) {
            clear_timeout(&self.timer);
            if let Some((signal, reject)) = &self.link {
                let _ = signal.remove_event_listener_with_callback("abort", reject);
            }
        }
    }
    let mut wait = Wait { timer: JsValue::UNDEFINED, link: None };
    // The promise's own resolve and reject are the timer and the listener.
    let promise = Promise::new(&mut |resolve, reject| {
        wait.timer = set_timeout(&resolve, timer_ms(ms));
        if let Some(s) = signal {
            if s.add_event_listener_with_callback("abort", &reject).is_ok() {
                wait.link = Some((s.clone(), reject));
            }
        }
    });
    let result = JsFuture::from(promise).await;
    drop(wait);
    result.map(|_| ()).map_err(|_| aborted_error())
}

/// The request headers for `config`: built once per client and reused (`fetch` copies them
/// into the request it builds).
pub(crate) fn request_headers(config: &Config) -> Result<Headers, Error> {
    let names = config.surface.name(Opt::BaseUrl);
    let headers = Headers::new().map_err(|e| connection_error("Headers is unavailable", js_error_text(&e), names))?;
    let _ = headers.set("accept", "application/json");
    if let Some(key) = &config.api_key {
        let _ = headers.set("x-api-key", key);
    }
    if let Some(ws) = &config.workspace_id {
        let _ = headers.set("x-workspace-id", ws);
    }
    Ok(headers)
}

/// What one request got: the parts the client reads, the body, and the response headers (read
/// in full only when an error needs them).
pub(crate) struct Exchange {
    pub(crate) meta: ResponseMeta,
    pub(crate) body: Body,
    pub(crate) headers: gloo_net::http::Headers,
}

/// One request: `Ok` for any HTTP response (the caller interprets the status), `Err` for a
/// connection failure, a timeout or an abort.
pub(crate) async fn send(
    config: &Config,
    headers: &JsValue,
    url: &str,
    timeout_ms: u64,
    signal: Option<&AbortSignal>,
) -> Result<Exchange, Error> {
    // An already-aborted signal is refused by the caller (`Client::fetch`) before each attempt.
    let base_url = config.surface.name(Opt::BaseUrl);
    let mut attempt = Attempt::start(timeout_ms, signal)
        .map_err(|e| connection_error("The request could not be started", js_error_text(&e), base_url))?;
    let init = RequestInit::new();
    // GET is fetch's default method.
    init.set_headers(headers);
    init.set_signal(Some(&attempt.controller.signal()));
    // Redirects are surfaced as errors rather than followed with the key attached.
    init.set_redirect(RequestRedirect::Manual);
    let result = exchange(config, &attempt, url, &init, timeout_ms, signal).await;
    attempt.finished = true;
    result
}

/// The request and the reading of its response, for one started attempt.
async fn exchange(
    config: &Config,
    attempt: &Attempt,
    url: &str,
    init: &RequestInit,
    timeout_ms: u64,
    signal: Option<&AbortSignal>,
) -> Result<Exchange, Error> {
    let secret = config.api_key.as_deref();
    // Only the caller's signal and the timer abort the attempt: which one, is read after. The
    // value the runtime rejected with (or the caller's abort reason) becomes the error's cause.
    let classify = |value: JsValue, during: &str| {
        let mut e = if signal.is_some_and(AbortSignal::aborted) {
            let reason = signal.map(AbortSignal::reason).filter(|r| !r.is_undefined());
            let mut e = aborted_error();
            with_js_cause(&mut e, attempt.shown(reason.unwrap_or(value)), secret);
            return e;
        } else if attempt.timed_out() {
            let mut e = Error::new(
                ErrorKind::Timeout,
                format!(
                    "The request timed out after {timeout_ms} ms{during}. Raise {} if the network is slow.",
                    config.surface.name(Opt::TimeoutMs)
                ),
            );
            e.inner_mut().cause = Some("timed out".into());
            e
        } else {
            let cause = redact(&js_error_text(&value), secret);
            connection_error(&format!("Could not reach the PowerPost API{during}"), cause, config.surface.name(Opt::BaseUrl))
        };
        with_js_cause(&mut e, attempt.shown(value), secret);
        e
    };

    let response = match JsFuture::from(fetch_with_str_and_init(url, init)).await {
        Ok(value) => match value.dyn_into::<web_sys::Response>() {
            Ok(raw) => gloo_net::http::Response::from(raw),
            Err(other) => return Err(classify(other, " (fetch resolved with something that is not a Response)")),
        },
        Err(rejection) => {
            // A URL or init that fetch refuses is the caller's mistake, not a network failure:
            // told apart as before fetch took the URL, by the Request constructor's verdict.
            if let Err(e) = web_sys::Request::new_with_str_and_init(url, init) {
                return Err(Error::invalid_argument(format!(
                    "The request to {} could not be built: {}",
                    crate::error::describe_str(url),
                    js_error_text(&e)
                )));
            }
            return Err(classify(rejection, ""));
        }
    };
    let status = response.status();
    let headers = response.headers();
    let get = |name: &str| headers.get(name).filter(|v| !v.is_empty());
    // Retry-After and Location only mean something on a failure or a redirect.
    let failed = !(200..300).contains(&status);
    let meta = ResponseMeta {
        // Browsers answer a `redirect: 'manual'` redirect with an opaque response of status 0.
        status,
        request_id: get("x-request-id"),
        retry_after: if failed { get("retry-after") } else { None },
        rate_limit: RateLimit::from_headers(
            get("x-ratelimit-limit").as_deref(),
            get("x-ratelimit-remaining").as_deref(),
            get("x-ratelimit-reset").as_deref(),
        ),
        location: if failed { get("location") } else { None },
    };
    let declared = get("content-length").and_then(|v| v.trim().parse::<u64>().ok());
    // The proxy (server side, where every header is visible): without a Content-Encoding,
    // Content-Length is the body's own size (the runtime fails a body that does not match it),
    // so a declared size within the cap is read whole. Not in browsers: a cross-origin answer
    // hides Content-Encoding, and a compressed body's Content-Length says nothing of its size.
    #[cfg(feature = "proxy")]
    let whole = declared.is_some_and(|len| len <= MAX_BODY_BYTES as u64) && get("content-encoding").is_none();
    let raw: web_sys::Response = response.into();
    #[cfg(feature = "proxy")]
    let body = if whole { read_whole(&raw).await } else { read_body(&raw, declared).await };
    #[cfg(not(feature = "proxy"))]
    let body = read_body(&raw, declared).await;
    let body = body.map_err(|e| classify(e, " while reading the response body"))?;
    Ok(Exchange { meta, body, headers })
}

/// Every response header, names in lower case, values with the key redacted.
pub(crate) fn header_list(headers: &gloo_net::http::Headers, secret: Option<&str>) -> Vec<(String, String)> {
    headers.entries().map(|(name, value)| (name.to_ascii_lowercase(), redact(&value, secret))).collect()
}

/// Keeps `value` as the error's cause: its chain of `cause`s (text and `code`, redacted) for
/// `std::error::Error::source`, and for the JS surface the value itself, unless some link of
/// it carries the key (undici's MockAgent, for one, quotes the request headers in its
/// message): then a copy of the chain built from the redacted text.
fn with_js_cause(e: &mut Error, value: JsValue, secret: Option<&str>) {
    let chain = cause_chain(&value, secret, 8);
    #[cfg(not(target_feature = "atomics"))]
    {
        let shown = match secret {
            Some(key) if carries(&value, key, 8) => chain.as_ref().map_or(JsValue::UNDEFINED, rebuilt),
            _ => value,
        };
        e.inner_mut().js_cause = Some(JsCause(shown));
    }
    e.inner_mut().source = chain;
}

/// Whether `key` is anywhere in the first `depth` links of `value`'s chain: its name, message,
/// code or any own enumerable property (as `JSON.stringify` sees them). A link that cannot be
/// inspected (a getter that throws, a cycle) counts as carrying it.
fn carries(value: &JsValue, key: &str, depth: u8) -> bool {
    if depth == 0 || value.is_undefined() || value.is_null() {
        return false;
    }
    if let Some(s) = value.as_string() {
        return s.contains(key);
    }
    if !value.is_object() {
        return false;
    }
    let mut texts = Vec::new();
    for name in ["name", "message", "code", "stack"] {
        match Reflect::get(value, &JsValue::from_str(name)) {
            Ok(v) => texts.extend(v.as_string()),
            Err(_) => return true,
        }
    }
    match js_sys::JSON::stringify(value) {
        Ok(json) => texts.extend(json.as_string()),
        Err(_) => return true,
    }
    texts.iter().any(|t| t.contains(key))
        || Reflect::get(value, &JsValue::from_str("cause")).map_or(true, |next| carries(&next, key, depth - 1))
}

/// A JS copy of a redacted cause chain: `Error`s with the text, `code` and `cause` of each link.
fn rebuilt(cause: &Cause) -> JsValue {
    let e = js_sys::Error::new(&cause.text);
    if let Some(code) = &cause.code {
        let _ = Reflect::set(&e, &JsValue::from_str("code"), &JsValue::from_str(code));
    }
    if let Some(next) = &cause.source {
        let _ = Reflect::set(&e, &JsValue::from_str("cause"), &rebuilt(next));
    }
    e.into()
}

/// At most `depth` links of `value`, `value.cause`, … (a cycle ends at the limit).
fn cause_chain(value: &JsValue, secret: Option<&str>, depth: u8) -> Option<Cause> {
    if depth == 0 || value.is_undefined() || value.is_null() {
        return None;
    }
    let prop = |name: &str| Reflect::get(value, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED);
    let (code, next) = if value.is_object() { (prop("code").as_string(), prop("cause")) } else { (None, JsValue::UNDEFINED) };
    Some(Cause {
        text: redact(&js_error_text(value), secret),
        code: code.map(|c| redact(&c, secret)),
        source: cause_chain(&next, secret, depth - 1).map(Box::new),
    })
}

/// Reads a body whose size is known to be within [`MAX_BODY_BYTES`]: one `arrayBuffer()`
/// instead of a reader and a read per chunk (bench/NOTES.md, the proxy against a hand-written
/// handler).
#[cfg(feature = "proxy")]
async fn read_whole(raw: &web_sys::Response) -> Result<Body, JsValue> {
    let buffer = JsFuture::from(raw.array_buffer()?).await?;
    Ok(Body::Complete(Uint8Array::new(&buffer).to_vec()))
}

/// Reads the body, giving up (and cancelling the stream) past [`MAX_BODY_BYTES`].
async fn read_body(raw: &web_sys::Response, declared: Option<u64>) -> Result<Body, JsValue> {
    let max = MAX_BODY_BYTES as u64;
    // Content-Length only refuses early: with a Content-Encoding it is the compressed size, so
    // the decoded body is always read as a stream, with the cap.
    if let Some(len) = declared.filter(|len| *len > max) {
        if let Some(stream) = raw.body() {
            let _ = stream.cancel();
        }
        return Ok(Body::TooLarge { bytes_seen: len });
    }
    let Some(stream) = raw.body() else {
        return Ok(Body::Complete(Vec::new()));
    };
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut out = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read()).await?;
        let done = Reflect::get(&chunk, &JsValue::from_str("done"))?;
        if done.is_truthy() {
            return Ok(Body::Complete(out));
        }
        // A stream that is not bytes (a polyfill or a mock) is refused, not misread. Bytes from
        // another realm (jsdom's Uint8Array is not Node's) fail `instanceof`: `isView` is
        // realm-independent, and `new Uint8Array(view)` makes them this realm's.
        let value = Reflect::get(&chunk, &JsValue::from_str("value"))?;
        let value: Uint8Array = match value.dyn_into::<Uint8Array>() {
            Ok(bytes) => bytes,
            Err(other) if js_sys::ArrayBuffer::is_view(&other) => Uint8Array::new(&other),
            Err(_) => return Err(js_sys::TypeError::new("the response body stream yielded something that is not bytes").into()),
        };
        let seen = out.len() as u64 + u64::from(value.length());
        if seen > max {
            let _ = reader.cancel();
            return Ok(Body::TooLarge { bytes_seen: seen });
        }
        out.extend_from_slice(&value.to_vec());
    }
}

fn connection_error(what: &str, cause: String, base_url: &str) -> Error {
    let mut e = Error::new(ErrorKind::Connection, format!("{what}: {cause}. Check the network connection and {base_url}."));
    e.inner_mut().cause = Some(cause);
    e
}

/// `TypeError: fetch failed`-style text of a thrown JS value.
/// Property reads go through `Reflect` (which catches): a getter that throws must not escape
/// through wasm and leave the call unsettled.
pub(crate) fn js_error_text(err: &JsValue) -> String {
    if let Some(s) = err.as_string() {
        return bounded(s);
    }
    if !err.is_object() {
        return "unknown error".to_owned();
    }
    let text = |name: &str| Reflect::get(err, &JsValue::from_str(name)).ok().and_then(|v| v.as_string()).map(bounded);
    match (text("name"), text("message")) {
        (name, Some(message)) => error_text(name.as_deref().unwrap_or(""), message),
        (Some(name), None) => name,
        (None, None) => "unknown error".to_owned(),
    }
}

/// At most 1 000 characters of a runtime's error text (a message can be anything).
fn bounded(mut s: String) -> String {
    if let Some((cut, _)) = s.char_indices().nth(1000) {
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// `name: message`, or just the message for a plain `Error`.
fn error_text(name: &str, message: String) -> String {
    if name.is_empty() || name == "Error" {
        message
    } else {
        format!("{name}: {message}")
    }
}
