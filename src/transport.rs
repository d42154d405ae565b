//! One HTTP attempt over `gloo-net`'s `fetch`: headers, timeout and caller abort wired into
//! one `AbortController`, the body read with a size cap. Everything here is wasm-only glue;
//! what the response means is decided in [`crate::response`].

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{AbortController, AbortSignal, RequestInit, RequestRedirect};

use crate::config::Config;
use crate::error::{Error, ErrorKind};
use crate::promise::settled;
use crate::response::{Body, ResponseMeta};
use crate::text::{cat, num};
use crate::types::RateLimit;
use crate::validate::MAX_BODY_BYTES;

// Timers and abort links are plain JavaScript functions: a Rust callback for each would be a
// wasm-bindgen closure per request.
#[wasm_bindgen(module = "/js/runtime.js")]
extern "C" {
    #[wasm_bindgen(js_name = abortAfter)]
    fn abort_after(controller: &AbortController, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = stopTimer)]
    fn stop_timer(handle: &JsValue);
    #[wasm_bindgen(js_name = linkAbort)]
    fn link_abort(signal: &AbortSignal, controller: &AbortController) -> JsValue;
    #[wasm_bindgen(js_name = unlinkAbort)]
    fn unlink_abort(signal: &AbortSignal, handle: &JsValue);
    #[wasm_bindgen(js_name = sleep)]
    fn sleep_promise(ms: f64, signal: Option<&AbortSignal>) -> Promise;
    #[wasm_bindgen(js_name = cancelSleep)]
    fn cancel_sleep(promise: &Promise);
    #[wasm_bindgen(js_name = responseMeta)]
    fn response_meta(headers: &web_sys::Headers) -> String;
}

/// Aborts a controller when the caller's signal fires; undone on drop.
struct AbortLink<'a> {
    signal: &'a AbortSignal,
    handle: JsValue,
}

impl Drop for AbortLink<'_> {
    fn drop(&mut self) {
        unlink_abort(self.signal, &self.handle);
    }
}

/// A running timeout; cleared on drop so no timer keeps Node alive or fires late.
struct Timer(JsValue);

impl Drop for Timer {
    fn drop(&mut self) {
        stop_timer(&self.0);
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
    let promise = sleep_promise(timer_ms(ms), signal);
    let result = settled(&promise).await;
    drop(Cancel(promise));
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
    let controller =
        AbortController::new().map_err(|e| connection_error("AbortController is unavailable", js_error_text(&e)))?;
    // The internal controller is always aborted with an Error object: gloo-net expects fetch
    // to reject with an Error, and a caller's `abort('string')` reason must not reach it.
    let _link = signal.map(|s| AbortLink { signal: s, handle: link_abort(s, &controller) });
    let _timer = Timer(abort_after(&controller, timer_ms(timeout_ms)));
    // Only the caller's signal and the timer abort the controller: which one, is read after.
    let classify = |cause: String, during: &str| {
        if signal.is_some_and(AbortSignal::aborted) {
            aborted_error()
        } else if controller.signal().aborted() {
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

    let init = RequestInit::new();
    init.set_method("GET");
    // Redirects are surfaced as errors rather than followed with the key attached.
    init.set_redirect(RequestRedirect::Manual);
    init.set_signal(Some(&controller.signal()));
    init.set_headers(headers);
    let raw = web_sys::Request::new_with_str_and_init(url, &init).map_err(|e| {
        Error::invalid_argument(cat(&[
            "The request URL ",
            &crate::error::describe_str(url),
            " could not be built: ",
            &js_error_text(&e),
        ]))
    })?;

    let response = match gloo_net::http::Request::from(raw).send().await {
        Ok(r) => r,
        Err(gloo_net::Error::JsError(js)) => return Err(classify(error_text(&js.name, js.message), "")),
        Err(gloo_net::Error::GlooError(text)) => return Err(classify(text, "")),
        // Not produced by `send` (only with gloo-net's `json` feature, for bodies).
        #[allow(unreachable_patterns)]
        Err(_) => return Err(classify("the request failed".to_owned(), "")),
    };
    let raw: web_sys::Response = response.into();
    let meta_text = response_meta(&raw.headers());
    let mut lines = meta_text.split('\n').map(|v| Some(v).filter(|v| !v.is_empty()));
    let mut next = || lines.next().flatten();
    let (request_id, limit, remaining, reset) = (next(), next(), next(), next());
    let (retry_after, location, content_length) = (next(), next(), next());
    let meta = ResponseMeta {
        // Browsers answer a `redirect: 'manual'` redirect with an opaque response of status 0.
        status: raw.status(),
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
