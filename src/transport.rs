//! One HTTP attempt over `gloo-net`'s `fetch`: headers, timeout and caller abort wired into
//! one `AbortController`, the body read with a size cap. Everything here is wasm-only glue;
//! what the response means is decided in [`crate::response`].

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use crate::config::Config;
use crate::error::{Error, ErrorKind};
use crate::promise::settled;
use crate::response::{Body, ResponseMeta};
use crate::text::{cat, num};
use crate::types::RateLimit;
use crate::validate::MAX_BODY_BYTES;

// The attempt's controller, timer and abort link live in JavaScript: a Rust callback for each
// would be a wasm-bindgen closure per request, and setting them up from here a dozen crossings.
#[wasm_bindgen(module = "/js/runtime.js")]
extern "C" {
    /// One attempt in flight: its `Request`, and whether its timeout fired.
    type Attempt;
    #[wasm_bindgen(js_name = beginAttempt, catch)]
    fn begin_attempt(url: &str, headers: &web_sys::Headers, signal: Option<&AbortSignal>, ms: f64) -> Result<Attempt, JsValue>;
    #[wasm_bindgen(method, getter)]
    fn request(this: &Attempt) -> web_sys::Request;
    #[wasm_bindgen(method, getter, js_name = timedOut)]
    fn timed_out(this: &Attempt) -> bool;
    #[wasm_bindgen(js_name = endAttempt)]
    fn end_attempt(attempt: &Attempt, cancel: bool);
    #[wasm_bindgen(js_name = sleep)]
    fn sleep_promise(ms: f64, signal: Option<&AbortSignal>) -> Promise;
    #[wasm_bindgen(js_name = cancelSleep)]
    fn cancel_sleep(promise: &Promise);
    #[wasm_bindgen(js_name = responseMeta)]
    fn response_meta(response: &web_sys::Response) -> String;
}

/// Ends the attempt when dropped: the timer is cleared (so none keeps Node alive or fires
/// late) and the listener on the caller's signal removed. Dropped before the exchange finished
/// (a Rust caller dropped the future), it aborts the request as well, as dropping a future
/// cancels it.
struct AttemptGuard {
    attempt: Attempt,
    finished: bool,
}

impl Drop for AttemptGuard {
    fn drop(&mut self) {
        end_attempt(&self.attempt, !self.finished);
    }
}

/// `setTimeout` clamps anything above 2^31 - 1 ms to 1 ms; cap it instead.
fn timer_ms(ms: u64) -> f64 {
    ms.min(2_147_483_647) as f64
}

pub(crate) fn aborted_error() -> Error {
    Error::new(
        ErrorKind::Aborted,
        "The request was aborted by the caller's AbortSignal.",
    )
}

/// Waits `ms`, or fails with an `Aborted` error as soon as `signal` fires.
pub(crate) async fn sleep(ms: u64, signal: Option<&AbortSignal>) -> Result<(), Error> {
    if signal.is_some_and(AbortSignal::aborted) {
        return Err(aborted_error());
    }
    if ms == 0 {
        return Ok(());
    }
    /// Clears the timer if the wait is dropped before it ends.
    struct Cancel(Promise);
    impl Drop for Cancel {
        fn drop(&mut self) {
            cancel_sleep(&self.0);
        }
    }
    // The guard exists before the await, so a wait dropped half-way still clears its timer.
    let wait = Cancel(sleep_promise(timer_ms(ms), signal));
    let result = settled(&wait.0).await;
    drop(wait);
    result.map(|_| ()).map_err(|_| aborted_error())
}

/// The request headers for `config`: built once per client and reused (the `Request`
/// constructor copies them).
pub(crate) fn request_headers(config: &Config) -> Result<web_sys::Headers, Error> {
    let headers = web_sys::Headers::new().map_err(|e| connection_error("Headers is unavailable", js_error_text(&e)))?;
    let _ = headers.set("accept", "application/json");
    if let Some(key) = &config.api_key {
        let _ = headers.set("x-api-key", key);
    }
    if let Some(ws) = &config.workspace_id {
        let _ = headers.set("x-workspace-id", ws);
    }
    Ok(headers)
}

/// One request: `Ok` for any HTTP response (the caller interprets the status), `Err` for a
/// connection failure, a timeout or an abort.
pub(crate) async fn send(
    headers: &web_sys::Headers,
    url: &str,
    timeout_ms: u64,
    signal: Option<&AbortSignal>,
) -> Result<(ResponseMeta, Body), Error> {
    // An already-aborted signal is refused by the caller (`Client::fetch`) before each attempt.
    let attempt = begin_attempt(url, headers, signal, timer_ms(timeout_ms)).map_err(|e| {
        Error::invalid_argument(cat(&[
            "The request to ",
            &crate::error::describe_str(url),
            " could not be built: ",
            &js_error_text(&e),
        ]))
    })?;
    let mut guard = AttemptGuard { attempt, finished: false };
    let result = exchange(&guard.attempt, timeout_ms, signal).await;
    guard.finished = true;
    result
}

/// The request and the reading of its response, for one started attempt.
async fn exchange(
    attempt: &Attempt,
    timeout_ms: u64,
    signal: Option<&AbortSignal>,
) -> Result<(ResponseMeta, Body), Error> {
    // Only the caller's signal and the timer abort the attempt: which one, is read after.
    let classify = |cause: String, during: &str| {
        if signal.is_some_and(AbortSignal::aborted) {
            aborted_error()
        } else if attempt.timed_out() {
            let mut e = Error::new(
                ErrorKind::Timeout,
                cat(&[
                    "The request timed out after ",
                    &num(timeout_ms),
                    " ms",
                    during,
                    ". Raise `timeoutMs` if the network is slow.",
                ]),
            );
            e.inner_mut().cause = Some("timed out".into());
            e
        } else {
            connection_error(&cat(&["Could not reach the PowerPost API", during]), cause)
        }
    };

    let response = match gloo_net::http::Request::from(attempt.request()).send().await {
        Ok(r) => r,
        Err(gloo_net::Error::JsError(js)) => return Err(classify(error_text(&js.name, js.message), "")),
        Err(gloo_net::Error::GlooError(text)) => return Err(classify(text, "")),
        // Not produced by `send` (only with gloo-net's `json` feature, for bodies).
        #[allow(unreachable_patterns)]
        Err(_) => return Err(classify("the request failed".to_owned(), "")),
    };
    let raw: web_sys::Response = response.into();
    let meta_text = response_meta(&raw);
    let mut lines = meta_text.split('\n').map(|v| Some(v).filter(|v| !v.is_empty()));
    let mut next = || lines.next().flatten();
    let (status, request_id, limit, remaining, reset) = (next(), next(), next(), next(), next());
    let (retry_after, location, content_length) = (next(), next(), next());
    let meta = ResponseMeta {
        // Browsers answer a `redirect: 'manual'` redirect with an opaque response of status 0.
        status: status.and_then(|s| s.parse().ok()).unwrap_or(0),
        request_id: request_id.map(str::to_owned),
        retry_after: retry_after.map(str::to_owned),
        rate_limit: RateLimit::from_headers(limit, remaining, reset),
        location: location.map(str::to_owned),
    };
    let declared = content_length.and_then(|v| v.trim().parse::<u64>().ok());
    let body =
        read_body(&raw, declared).await.map_err(|e| classify(js_error_text(&e), " while reading the response body"))?;
    Ok((meta, body))
}

/// Reads the body, giving up (and cancelling the stream) past [`MAX_BODY_BYTES`].
async fn read_body(raw: &web_sys::Response, declared: Option<u64>) -> Result<Body, JsValue> {
    let max = MAX_BODY_BYTES as u64;
    if let Some(len) = declared {
        if len > max {
            if let Some(stream) = raw.body() {
                let _ = stream.cancel();
            }
            return Ok(Body::TooLarge { bytes_seen: len });
        }
        // Fast path: the runtime enforces Content-Length, so the body is at most `len` bytes.
        let buf = settled(&raw.array_buffer()?).await?;
        return Ok(Body::Complete(Uint8Array::new(&buf).to_vec()));
    }
    let Some(stream) = raw.body() else {
        return Ok(Body::Complete(Vec::new()));
    };
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut out = Vec::new();
    loop {
        let chunk = settled(&reader.read()).await?;
        let done = js_sys::Reflect::get(&chunk, &JsValue::from_str("done"))?;
        if done.is_truthy() {
            return Ok(Body::Complete(out));
        }
        let value: Uint8Array = js_sys::Reflect::get(&chunk, &JsValue::from_str("value"))?.unchecked_into();
        let seen = out.len() as u64 + u64::from(value.length());
        if seen > max {
            let _ = reader.cancel();
            return Ok(Body::TooLarge { bytes_seen: seen });
        }
        out.extend_from_slice(&value.to_vec());
    }
}

fn connection_error(what: &str, cause: String) -> Error {
    let mut e = Error::new(ErrorKind::Connection, cat(&[what, ": ", &cause, ". Check the network connection and baseUrl."]));
    e.inner_mut().cause = Some(cause);
    e
}

/// `TypeError: fetch failed`-style text of a thrown JS value.
fn js_error_text(err: &JsValue) -> String {
    if let Some(e) = err.dyn_ref::<js_sys::Error>() {
        error_text(&String::from(e.name()), String::from(e.message()))
    } else if let Some(s) = err.as_string() {
        s
    } else {
        "unknown error".to_owned()
    }
}

/// `name: message`, or just the message for a plain `Error`.
fn error_text(name: &str, message: String) -> String {
    if name.is_empty() || name == "Error" {
        message
    } else {
        cat(&[name, ": ", &message])
    }
}
