//! The Rust API's real request path, against the dev server over loopback HTTP.
//! Runs under `wasm-pack test --node` and `--headless --chrome` (where CORS applies);
//! `tests/run-wasm-tests.mjs` starts the server and passes its URL at compile time.
#![cfg(target_arch = "wasm32")]

use powerpost_analytics::{Client, ClientOptions, ErrorKind, PostStatus, RequestOptions};
use wasm_bindgen_test::*;

const KEY: &str = "pp_test_sk_local_dev";
const WS: &str = "ws_local_dev";
const SAMPLE: &str = "550e8400-e29b-41d4-a716-446655440000";

fn base() -> &'static str {
    option_env!("POWERPOST_TEST_BASE_URL").unwrap_or("http://127.0.0.1:4010")
}

fn options() -> ClientOptions {
    ClientOptions::new().base_url(base()).api_key(KEY).workspace_id(WS).dangerously_allow_browser(true)
}

fn client() -> Client {
    Client::new(options()).unwrap()
}

/// A fresh tag per run so per-id counters on the server start at zero.
fn tag(prefix: &str) -> String {
    format!("{prefix}{}", (js_sys::Math::random() * 1e12) as u64)
}

/// What the dev server recorded for `id`: `{ count, requests: [...] }`.
async fn dev_requests(id: &str) -> serde_json::Value {
    let url = format!("{}/__dev/requests?id={}", base(), js_sys::encode_uri_component(id));
    let text = gloo_net::http::Request::get(&url).send().await.unwrap().text().await.unwrap();
    serde_json::from_str(&text).unwrap()
}

async fn server_count(id: &str) -> u64 {
    dev_requests(id).await["count"].as_u64().unwrap()
}

/// Whether the client went away before the last response for `id` was complete.
async fn last_closed_early(id: &str) -> bool {
    closed_early(&dev_requests(id).await)
}

/// Polls the server's log every 20 ms until `what` holds for `id`; false after 10 s. A wait on
/// what the server saw instead of a fixed sleep, which a busy machine can outlast.
async fn server_sees(id: &str, what: impl Fn(&serde_json::Value) -> bool) -> bool {
    let deadline = now() + 10_000.0;
    while now() < deadline {
        if what(&dev_requests(id).await) {
            return true;
        }
        sleep_ms(20).await;
    }
    false
}

fn closed_early(log: &serde_json::Value) -> bool {
    log["requests"].as_array().and_then(|r| r.last()).is_some_and(|r| r["closedEarly"] == true)
}

fn now() -> f64 {
    js_sys::Date::now()
}

#[wasm_bindgen_test]
async fn fetches_and_validates_a_posted_item() {
    let c = client();
    let item = c.get_post_item_analytics(SAMPLE).await.unwrap();
    assert_eq!(item.post_item_id, SAMPLE);
    assert_eq!(item.platform, "instagram");
    assert_eq!(item.status, PostStatus::Posted);
    let m = item.metrics.unwrap();
    assert_eq!((m.views, m.likes, m.comments), (12450, 890, 42));
    let rl = c.rate_limit().expect("rate limit headers are exposed (CORS) and read");
    assert!(rl.limit > 0);
}

#[wasm_bindgen_test]
async fn draft_has_null_metrics() {
    let item = client().get_post_item_analytics("1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a").await.unwrap();
    assert_eq!(item.status, PostStatus::Draft);
    assert!(item.metrics.is_none());
}

#[wasm_bindgen_test]
async fn missing_counts_are_zero() {
    let m = client().get_post_item_analytics("fault-missing-counts").await.unwrap().metrics.unwrap();
    assert_eq!((m.likes, m.comments), (0, 0));
    assert!(m.views > 0);
}

#[wasm_bindgen_test]
async fn api_errors_map_to_kinds_with_server_details() {
    let c = client();
    let e = c.get_post_item_analytics("does-not-exist").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!((e.status(), e.code()), (Some(404), Some("NOT_FOUND")));
    assert!(e.request_id().is_some_and(|r| r.starts_with("req_")));
    assert_eq!(e.post_item_id(), Some("does-not-exist"));
    assert_eq!(e.attempts(), 1, "404 is not retried");
    // Another workspace's item is a 404 too.
    let e = c.get_post_item_analytics("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);

    let bad_key = Client::new(options().api_key("pp_test_sk_wrong")).unwrap();
    let e = bad_key.get_post_item_analytics(SAMPLE).await.unwrap_err();
    assert_eq!((e.kind(), e.code()), (ErrorKind::Authentication, Some("INVALID_API_KEY")));
    assert!(!e.to_string().contains("pp_test_sk_wrong"));

    let no_scope = Client::new(options().api_key("pp_test_sk_no_analytics_scope")).unwrap();
    let e = no_scope.get_post_item_analytics(SAMPLE).await.unwrap_err();
    assert_eq!((e.kind(), e.code()), (ErrorKind::PermissionDenied, Some("INSUFFICIENT_SCOPE")));
    assert!(e.to_string().contains("analytics:read"));

    let other_ws = Client::new(options().workspace_id("ws_someone_else")).unwrap();
    let e = other_ws.get_post_item_analytics(SAMPLE).await.unwrap_err();
    assert_eq!((e.kind(), e.code()), (ErrorKind::PermissionDenied, Some("FORBIDDEN")));

    // Proxy mode allows leaving the workspace out; the dev server then answers 400.
    let no_ws = Client::new(
        ClientOptions::new().base_url(base()).api_key(KEY).dangerously_allow_browser(true),
    )
    .unwrap();
    let e = no_ws.get_post_item_analytics(SAMPLE).await.unwrap_err();
    assert_eq!((e.kind(), e.code()), (ErrorKind::BadRequest, Some("VALIDATION_ERROR")));
}

#[wasm_bindgen_test]
async fn invalid_bodies_are_invalid_response_errors() {
    let c = client();
    for (id, path) in [
        ("fault-invalid-json", "$"),
        ("fault-truncated", "$"),
        ("fault-wrong-shape", "metrics.views"),
        ("fault-mismatch", "post_item_id"),
        ("fault-huge", "$"),
        ("fault-huge-chunked", "$"),
    ] {
        let e = c.get_post_item_analytics(id).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidResponse, "{id}: {e}");
        assert_eq!(e.path(), Some(path), "{id}");
        assert_eq!(e.status(), Some(200), "{id}");
        assert_eq!(e.attempts(), 1, "{id}: invalid bodies are not retried");
    }
    let e = c.get_post_item_analytics("fault-wrong-shape").await.unwrap_err();
    assert_eq!(e.received(), Some("string \"12\""));
}

/// On wasm JavaScript prints the numbers of messages (src/validate.rs, `fmt_number`); the text is
/// the native printer's (its unit test has the same cases).
#[wasm_bindgen_test]
fn numbers_in_messages_print_as_javascript_does() {
    use powerpost_analytics::parse_post_item_analytics;
    for (n, shown) in [("1.5", "1.5"), ("-0.25", "-0.25"), ("1.00000001", "1.00000001"), ("1e300", "1e+300"), ("-2.5e-7", "-2.5e-7")] {
        let body = format!(
            r#"{{"post_item_id":"p1","post_type":"reel","platform":"instagram","status":"posted","metrics":{{"views":{n},"likes":0,"comments":0,"fetched_at":"2026-04-15T09:00:00Z"}}}}"#
        );
        let e = parse_post_item_analytics(body.as_bytes(), Some("p1")).unwrap_err();
        assert_eq!((e.path(), e.received()), (Some("metrics.views"), Some(format!("number {shown}").as_str())), "{n}");
    }
}

#[wasm_bindgen_test]
async fn server_errors_with_odd_bodies() {
    let c = Client::new(options().max_retries(0)).unwrap();
    let e = c.get_post_item_analytics("fault-502-html").await.unwrap_err();
    assert_eq!((e.kind(), e.status()), (ErrorKind::Server, Some(502)));
    assert!(e.to_string().contains("HTML"));
    let e = c.get_post_item_analytics("fault-503-empty").await.unwrap_err();
    assert_eq!((e.kind(), e.status()), (ErrorKind::Server, Some(503)));
    assert!(e.to_string().contains("empty"));
}

#[wasm_bindgen_test]
async fn connection_failures_are_connection_errors() {
    let c = Client::new(options().max_retries(0)).unwrap();
    let e = c.get_post_item_analytics("fault-reset").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    assert!(e.cause().is_some());
    let refused = Client::new(options().base_url("http://127.0.0.1:9").max_retries(0)).unwrap();
    let e = refused.get_post_item_analytics(SAMPLE).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    assert!(e.is_retryable());
}

/// A URL the runtime's URL parser refuses (an empty punycode label) but the options' checks
/// let through: a mistake to fix, not a network failure to retry. Engines whose parser takes it
/// fail to connect instead.
#[wasm_bindgen_test]
async fn a_url_fetch_refuses_is_an_invalid_argument() {
    let c = Client::new(options().base_url("https://xn--").max_retries(2)).unwrap();
    let e = c.get_post_item_analytics(SAMPLE).await.unwrap_err();
    let in_node = !js_sys::Reflect::get(&js_sys::global(), &"process".into()).unwrap().is_undefined();
    if in_node || e.kind() != ErrorKind::Connection {
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        assert!(e.message().contains("could not be built") && !e.is_retryable() && e.attempts() == 1, "{e}");
    }
}

#[wasm_bindgen_test]
async fn timeouts_cover_headers_and_body() {
    let c = Client::new(options().timeout_ms(300).max_retries(0)).unwrap();
    // Servers that answer, only later than the timeout: after 1.5 s, five times the timeout. A
    // timeout that fires late (or not for the body) gets the answer and fails here, whatever
    // the machine's speed; the server also saw the client leave before it answered.
    let late_headers = tag("fault-slow-1500--");
    let late_body = tag("fault-slow-body-1500--");
    for id in [late_headers.as_str(), late_body.as_str(), "fault-hang", "fault-endless"] {
        let start = now();
        let e = c.get_post_item_analytics(id).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout, "{id}: {e}");
        assert!(e.is_connection());
        assert!(e.to_string().contains("timed out after 300 ms"), "{id}: {e}");
        let took = now() - start;
        assert!(took >= 250.0, "{id} timed out early, after {took} ms");
        if id.starts_with("fault-slow") {
            assert!(server_sees(id, closed_early).await, "{id}: the server answered before the client gave up");
        }
    }
}

#[wasm_bindgen_test]
async fn abort_before_and_during() {
    let c = client();
    let ctl = web_sys::AbortController::new().unwrap();
    ctl.abort();
    let id = tag("gen-abort-");
    let opts = RequestOptions { signal: Some(ctl.signal()), ..Default::default() };
    let e = c.get_post_item_analytics_with(&id, &opts).await.unwrap_err();
    assert_eq!((e.kind(), e.attempts()), (ErrorKind::Aborted, 0));
    assert_eq!(server_count(&id).await, 0, "an aborted signal sends nothing");

    let ctl = web_sys::AbortController::new().unwrap();
    let signal = ctl.signal();
    let timer = gloo_timers_free_abort(ctl, 100);
    let start = now();
    let opts = RequestOptions { signal: Some(signal), ..Default::default() };
    let e = c.get_post_item_analytics_with("fault-hang", &opts).await.unwrap_err();
    drop(timer);
    assert_eq!(e.kind(), ErrorKind::Aborted);
    assert!(now() - start < 3000.0);
}

/// Calls `callback` after `ms`, through the global `setTimeout` (no timer crate needed).
fn set_timeout(callback: &wasm_bindgen::JsValue, ms: i32) {
    let f: js_sys::Function = js_sys::Reflect::get(&js_sys::global(), &"setTimeout".into()).unwrap().into();
    f.call2(&wasm_bindgen::JsValue::NULL, callback, &ms.into()).unwrap();
}

/// Aborts `ctl` after `ms` using a plain JS timer.
fn gloo_timers_free_abort(ctl: web_sys::AbortController, ms: i32) -> wasm_bindgen::closure::Closure<dyn FnMut()> {
    let cb = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || ctl.abort_with_reason(&"stop".into()));
    set_timeout(cb.as_ref(), ms);
    cb
}

/// Resolves after `ms`, through a plain JS timer.
async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| set_timeout(&resolve, ms));
    js_sys::futures::JsFuture::from(promise).await.unwrap();
}

/// Polls `f` once; true while it is still pending.
async fn poll_once<F: std::future::Future + ?Sized>(f: &mut std::pin::Pin<Box<F>>) -> bool {
    std::future::poll_fn(|cx| std::task::Poll::Ready(f.as_mut().poll(cx).is_pending())).await
}

/// Watches the global `fetch` without replacing what it does: each call goes to the runtime's
/// own fetch, and the URL of each response that arrived (its headers read) is noted. Dropped,
/// the original `fetch` is put back.
struct FetchWatch(wasm_bindgen::JsValue);

impl FetchWatch {
    fn start() -> FetchWatch {
        let install = js_sys::Function::new_no_args(
            "const original = globalThis.fetch; const answered = [];
             globalThis.fetch = function (input, init) {
               const url = typeof input === 'string' ? input : input.url;
               return original.call(globalThis, input, init).then((r) => { answered.push(url); return r; });
             };
             return { answered, restore() { globalThis.fetch = original; } };",
        );
        FetchWatch(install.call0(&wasm_bindgen::JsValue::NULL).unwrap())
    }

    /// Waits (polling every 20 ms, at most 10 s) until a response for a URL containing `id` arrived.
    async fn until_answered(&self, id: &str) -> bool {
        let answered: js_sys::Array = js_sys::Reflect::get(&self.0, &"answered".into()).unwrap().into();
        let deadline = now() + 10_000.0;
        while now() < deadline {
            if answered.iter().any(|u| u.as_string().is_some_and(|u| u.contains(id))) {
                return true;
            }
            sleep_ms(20).await;
        }
        false
    }
}

impl Drop for FetchWatch {
    fn drop(&mut self) {
        let restore: js_sys::Function = js_sys::Reflect::get(&self.0, &"restore".into()).unwrap().into();
        let _ = restore.call0(&self.0);
    }
}

#[wasm_bindgen_test]
async fn dropping_a_lookup_cancels_its_request() {
    let c = client();
    // Tagged ids (`--tag`): the server keeps a log of their own for this run.
    let hang = tag("fault-hang--");
    let mut lookup = Box::pin(c.get_post_item_analytics(&hang));
    // One poll sends the request; it then waits for an answer that never comes.
    assert!(poll_once(&mut lookup).await);
    assert!(server_sees(&hang, |v| v["count"] == 1).await, "the request was sent");
    assert!(!last_closed_early(&hang).await, "still open while the future lives");
    drop(lookup);
    assert!(server_sees(&hang, closed_early).await, "dropping the future aborted the request");

    // Dropped while reading the body (headers arrived, the body is 20 s away). The sign that
    // the headers arrived: the runtime's fetch resolved with the response (watched, not
    // replaced: the request is the real one). Only then is the lookup polled into the body read.
    let slow_body = tag("fault-slow-body-20000--");
    let watch = FetchWatch::start();
    let mut lookup = Box::pin(c.get_post_item_analytics(&slow_body));
    assert!(poll_once(&mut lookup).await);
    assert!(server_sees(&slow_body, |v| v["count"] == 1).await, "the request was sent");
    let answered = watch.until_answered(&slow_body).await;
    drop(watch);
    assert!(answered, "the response's headers arrived");
    assert!(poll_once(&mut lookup).await, "now waiting for the body");
    assert!(!last_closed_early(&slow_body).await, "still open while the future lives");
    drop(lookup);
    assert!(server_sees(&slow_body, closed_early).await, "dropping the future aborted the body read");
    // The client is still usable, its awaits included.
    for _ in 0..3 {
        assert_eq!(c.get_post_item_analytics(SAMPLE).await.unwrap().post_item_id, SAMPLE);
    }
}

#[wasm_bindgen_test]
async fn retries_then_succeeds_and_counts_attempts() {
    let c = Client::new(options().max_retry_wait_ms(50)).unwrap();
    let id = tag("flaky-500-2-");
    let item = c.get_post_item_analytics(&id).await.unwrap();
    assert_eq!(item.post_item_id, id);
    assert_eq!(server_count(&id).await, 3);

    let id = tag("flaky-500-5-");
    let e = c.get_post_item_analytics(&id).await.unwrap_err();
    assert_eq!((e.kind(), e.attempts()), (ErrorKind::Server, 3));
    assert!(e.to_string().contains("after 3 attempts"), "{e}");
    assert_eq!(server_count(&id).await, 3);

    let id = tag("flaky-reset-1-");
    assert!(c.get_post_item_analytics(&id).await.is_ok());
    assert_eq!(server_count(&id).await, 2);
}

#[wasm_bindgen_test]
async fn rate_limits_are_honoured() {
    let c = Client::new(options().max_retry_wait_ms(5_000)).unwrap();
    let id = tag("flaky-429-1-");
    let start = now();
    assert!(c.get_post_item_analytics(&id).await.is_ok());
    assert!(now() - start >= 900.0, "waited Retry-After: 1");
    assert_eq!(server_count(&id).await, 2);

    let e = c.get_post_item_analytics("fault-429-long").await.unwrap_err();
    assert_eq!((e.kind(), e.attempts()), (ErrorKind::RateLimit, 1));
    assert_eq!(e.retry_after_ms(), Some(3_600_000));
    assert!(e.rate_limit().is_some());

    // Remaining: 0 with a reset 1–2 s ahead and no Retry-After: the wait is until the reset,
    // not the 375–500 ms backoff of a first retry.
    let id = tag("flaky-ratelimit-1-");
    let start = now();
    assert!(c.get_post_item_analytics(&id).await.is_ok());
    let took = now() - start;
    assert!(took >= 900.0, "waited for X-RateLimit-Reset: {took} ms");
    assert_eq!(server_count(&id).await, 2);
}

#[wasm_bindgen_test]
async fn redirects_are_not_followed() {
    let e = client().get_post_item_analytics("fault-redirect").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Api, "{e}");
    assert!(e.to_string().contains("redirect"));
}

#[wasm_bindgen_test]
async fn hostile_ids_stay_one_path_segment() {
    let c = client();
    for id in ["../x", "a/b", "a?b", "a#b", "%2e", "%2e%2e", "...", "a b", "é"] {
        let before = server_count(id).await;
        let e = c.get_post_item_analytics(id).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{id}: {e}");
        assert_eq!(server_count(id).await, before + 1, "{id} arrived as itself");
    }
    for id in ["", ".", "..", "a\nb"] {
        let e = c.get_post_item_analytics(id).await.unwrap_err();
        assert_eq!((e.kind(), e.attempts()), (ErrorKind::InvalidArgument, 0), "{id:?}");
    }
}

#[wasm_bindgen_test]
async fn batch_keeps_order_dedups_and_reports_per_item() {
    let c = Client::new(options().max_retry_wait_ms(50)).unwrap();
    let a = tag("gen-a-");
    let ids: Vec<String> = vec![a.clone(), "does-not-exist".into(), a.clone(), SAMPLE.into(), String::new()];
    let out = c.get_post_item_analytics_batch(&ids, &RequestOptions::default(), 2).await.unwrap();
    assert_eq!(out.len(), 5);
    assert_eq!(out.iter().map(|b| b.post_item_id.as_str()).collect::<Vec<_>>(), ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out[0].result.is_ok() && out[2].result.is_ok() && out[3].result.is_ok());
    assert_eq!(out[1].result.as_ref().unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(out[4].result.as_ref().unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert_eq!(server_count(&a).await, 1, "duplicates are fetched once");
}

#[wasm_bindgen_test]
fn browser_guard_applies_only_in_browsers() {
    let in_page = js_sys::Reflect::has(&js_sys::global(), &"document".into()).unwrap_or(false);
    let r = Client::new(ClientOptions::new().base_url(base()).api_key(KEY).workspace_id(WS));
    assert_eq!(r.is_err(), in_page, "{r:?}");
    if let Err(e) = r {
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(!e.to_string().contains(KEY));
    }
}

#[wasm_bindgen_test]
async fn the_cache_serves_again_without_a_request_and_reload_asks_again() {
    use powerpost_analytics::{CacheMode, CacheOptions};
    let c = Client::new(options().cache(CacheOptions::new())).unwrap();
    let id = tag("gen-cache-");
    let first = c.lookup(&id, &RequestOptions::default()).await.unwrap();
    let second = c.lookup(&id, &RequestOptions::default()).await.unwrap();
    assert!(!first.from_cache && second.from_cache);
    assert_eq!(first.item, second.item);
    assert_eq!(server_count(&id).await, 1, "served from the cache");
    let reload = RequestOptions { cache: CacheMode::Reload, ..Default::default() };
    assert!(!c.lookup(&id, &reload).await.unwrap().from_cache);
    assert_eq!(server_count(&id).await, 2, "reload asked the network");
    c.clear_cache().await;
    assert!(!c.lookup(&id, &RequestOptions::default()).await.unwrap().from_cache);
    assert_eq!(server_count(&id).await, 3, "clear_cache emptied it");
}

// --- The body reader the package ships, against serde_json ---------------------------------
//
// On wasm a body is parsed by the JS engine's `JSON.parse` and read with serde-wasm-bindgen;
// natively by serde_json (src/properties.rs compares that one). Here the shipped reader is
// compared with serde_json on the same generated bodies: refused as "not JSON" exactly when
// serde_json refuses (but for what JSON's grammar allows and serde_json alone limits: numbers
// beyond a double, nesting past 128, lone surrogates; JSON.parse reads those), and when
// serde_json reads a document, the same result as the rules' oracle gives over serde_json's value.
// A fixed seed and a bounded number of cases: the same bodies on every run and in every engine.

#[path = "common/oracle.rs"]
mod oracle;

/// xorshift64*: a fixed-seed source of generated bodies (proptest's does not build for wasm32).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.below(v.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// JSON-ish glue, as the native property's: well-formed pieces in random order.
fn jsonish(r: &mut Rng) -> String {
    const ATOMS: &[&str] = &["{", "}", "[", "]", ",", ":", "\"k\"", "null", "true", " ", "-0", "1e400", "\"\\ud83d\"",
        "\"\\ud83d\\ude00\"", "\"\\u00e9\"", "\"\\ude00\"", "12", "-3.25e-2", "1.", "01", "9007199254740993", "\"a\\\"b\"", "\"\\/\"",
        "\"\\x\"", "\"tab\tin\"", "\u{feff}", "\u{0}", "é", "'k'", "NaN", "Infinity", "\n", "\"\\u12\""];
    (0..r.below(24)).map(|_| r.pick(ATOMS)).collect()
}

/// Documents close to the real shape, every field sometimes missing, of another type, empty,
/// negative, fractional, huge or oddly spelt; as text, sometimes with escapes, duplicate keys,
/// whitespace, a BOM, an extra deep or out-of-range value, or cut short.
fn document_text(r: &mut Rng) -> String {
    // Mostly values the rules accept (so that whole documents are often valid), else anything.
    let text = |r: &mut Rng| {
        if r.chance(80) {
            r.pick(&["\"p1\"", "\"instagram\"", "\"insta\\u0067ram\"", "\"x y\"", "\"posted\"", "\"\\ud83d\\ude00\""]).to_owned()
        } else {
            r.pick(&["\"\"", "1", "null", "[\"x\"]", "{}", "\"p\\u0031\"", "true"]).to_owned()
        }
    };
    let count = |r: &mut Rng| {
        if r.chance(75) {
            r.pick(&["12", "0", "12.0", "1e2", "1E+2", "-0", "-0.0", "null", "9007199254740991", "4294967295", "0.0000001e7"]).to_owned()
        } else {
            r.pick(&["-1", "1.5", "\"12\"", "true", "9007199254740992", "18446744073709551616", "1e400", "{}"]).to_owned()
        }
    };
    let stamp = |r: &mut Rng| {
        if r.chance(75) {
            r.pick(&["\"2026-04-15T09:00:00Z\"", "\"2024-02-29T23:59:60.5-05:30\"", "\"2026-04-15T09:00:00\\u005a\"", "\"2000-02-29t00:00:00+23:59\""]).to_owned()
        } else {
            r.pick(&["\"2100-02-29T00:00:00Z\"", "\"2026-04-15T09:00:00+24:00\"", "\"2026-04-15 09:00\"", "5", "null"]).to_owned()
        }
    };
    let mut fields: Vec<(String, String)> = Vec::new();
    let id = if r.chance(90) { r.pick(&["\"p1\"", "\"\\u00701\""]).to_owned() } else { text(r) };
    for (k, v) in [("post_item_id", id), ("post_type", text(r)), ("platform", text(r)), ("status", text(r))] {
        if r.chance(95) {
            fields.push((k.to_owned(), v));
        }
    }
    if r.chance(95) {
        let metrics = match r.below(8) {
            0 => "null".to_owned(),
            1 => "[]".to_owned(),
            _ => {
                let mut m = Vec::new();
                for k in ["views", "likes", "comments"] {
                    if r.chance(90) {
                        m.push(format!("\"{k}\":{}", count(r)));
                    }
                }
                if r.chance(95) {
                    m.push(format!("\"fetched_at\":{}", stamp(r)));
                }
                format!("{{{}}}", m.join(","))
            }
        };
        fields.push(("metrics".to_owned(), metrics));
    }
    if r.chance(20) {
        // The same key twice: the last one counts, in both readers.
        let k = r.pick(&["post_item_id", "platform", "status"]).to_owned();
        fields.push((k, text(r)));
    }
    if r.chance(20) {
        let extra = match r.below(4) {
            0 => format!("{}1{}", "[".repeat(130), "]".repeat(130)),
            1 => "1e400".to_owned(),
            2 => "\"\\ud800\"".to_owned(),
            _ => "{\"deep\":[1,2,{\"x\":null}]}".to_owned(),
        };
        fields.push(("unknown".to_owned(), extra));
    }
    let sep = if r.chance(20) { " \n\t" } else { "" };
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\"{sep}:{sep}{v}")).collect();
    let mut s = format!("{sep}{{{}}}{sep}", body.join(&format!(",{sep}")));
    if r.chance(25) {
        s.truncate(r.below(s.len() + 1));
    }
    s
}

/// A generated body: glue or a document, now and then with a BOM or a byte that is not UTF-8.
fn body(r: &mut Rng) -> Vec<u8> {
    let mut bytes = if r.chance(30) { jsonish(r) } else { document_text(r) }.into_bytes();
    if r.chance(5) {
        bytes.splice(0..0, *b"\xEF\xBB\xBF");
    }
    if r.chance(8) && !bytes.is_empty() {
        let at = r.below(bytes.len());
        bytes.insert(at, *[0xFF, 0xC3, 0x80, 0xED].get(r.below(4)).unwrap());
    }
    bytes
}

/// `text` with what only serde_json limits made ordinary, each piece kept in its grammatical
/// role: a lone surrogate escape becomes `\u0041`, the generator's out-of-range number `1e400`
/// becomes `1e+00` (the same kinds of characters), its 130-deep nesting one level. A text
/// serde_json refuses but reads after this is one JSON's grammar allows.
fn within_serde_json_limits(text: &str) -> String {
    let text = text.replace("1e400", "1e+00").replace(&"[".repeat(130), "[").replace(&"]".repeat(130), "]");
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '\\' {
            continue;
        }
        match chars.next() {
            Some('u') => {
                let hex: String = (0..4).filter_map(|_| chars.next_if(char::is_ascii_hexdigit)).collect();
                let surrogate = hex.len() == 4 && u32::from_str_radix(&hex, 16).is_ok_and(|n| (0xD800..0xE000).contains(&n));
                out.push('u');
                out.push_str(if surrogate { "0041" } else { &hex });
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[wasm_bindgen_test]
fn the_shipped_reader_agrees_with_serde_json() {
    use powerpost_analytics::parse_post_item_analytics;
    const CASES: usize = 3000;
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut read, mut valid, mut refused, mut grammar_only) = (0, 0, 0, 0);
    for case in 0..CASES {
        let bytes = body(&mut r);
        let shown = String::from_utf8_lossy(&bytes);
        let ours = parse_post_item_analytics(&bytes, Some("p1"));
        let not_json = ours.as_ref().err().is_some_and(|e| e.path() == Some("$") && e.expected() == Some("a JSON document"));
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        match serde_json::from_slice::<serde_json::Value>(text) {
            Ok(v) => {
                read += 1;
                match (oracle::oracle(&v, "p1"), &ours) {
                    (Ok((id, ty, pl, st, m)), Ok(a)) => {
                        let got = (a.post_item_id.clone(), a.post_type.clone(), a.platform.clone(), a.status.as_str().to_owned(),
                            a.metrics.clone().map(|m| (m.views, m.likes, m.comments, m.fetched_at)));
                        assert_eq!(got, (id, ty, pl, st, m), "case {case}: {shown:?}");
                        valid += 1;
                    }
                    (Err(path), Err(e)) => assert_eq!(e.path(), Some(path.as_str()), "case {case}: {shown:?}: {e}"),
                    (want, got) => panic!("case {case}: {shown:?}: serde_json + oracle {want:?}, the wasm reader {got:?}"),
                }
            }
            Err(e) => {
                let why = e.to_string();
                // (A body that is not UTF-8 is not a JSON text, whatever it says.)
                if std::str::from_utf8(text).is_ok_and(|t| serde_json::from_str::<serde_json::Value>(&within_serde_json_limits(t)).is_ok()) {
                    // JSON's grammar allows it; only serde_json limits it. JSON.parse reads it.
                    grammar_only += 1;
                    assert!(!not_json, "case {case}: {shown:?}: JSON.parse reads this ({why}), yet refused as not JSON: {ours:?}");
                } else {
                    refused += 1;
                    assert!(not_json, "case {case}: {shown:?}: serde_json refuses it ({why}), the wasm reader gave {ours:?}");
                }
            }
        }
    }
    // The generator reaches every branch often enough to mean something.
    assert!(read >= 300 && valid >= 100 && refused >= 300 && grammar_only >= 30,
        "read {read} (valid {valid}), refused {refused}, grammar-only {grammar_only} of {CASES}");
}

/// A proxy's history body as the browser client reads it (`JSON.parse`, then serde-wasm-bindgen
/// into the wire structs): counts are safe non-negative integers, members present and of their
/// type, extra members ignored, snapshots an array; anything else is "JSON of another shape".
/// Pins what the wasm build accepts, whatever reads it (the native tests see serde_json's).
#[wasm_bindgen_test]
fn a_proxys_history_body_is_read_strictly_under_json_parse() {
    let day = 86_400_000;
    let snap = |views: &str| format!(r#"{{"fetched_at":"2026-04-01T09:00:00Z","views":{views},"likes":2,"comments":3}}"#);
    let body = |snapshots: &str, complete: &str| format!(r#"{{"post_item_id":"p","snapshots":{snapshots},"complete":{complete},"gains":[]}}"#);
    let cases: Vec<(String, bool)> = vec![
        (body(&format!("[{}]", snap("1")), "true"), true),
        (body("[]", "false"), true),
        (body("\"\"", "false"), false),
        (body(&format!("[{}]", snap("9007199254740991")), "true"), true),
        (body(r#"[{"fetched_at":"2026-04-01T09:00:00Z","views":1,"likes":2,"comments":3,"x":{}}]"#, "true"), true),
        (body(&format!("[{}]", snap("9007199254740992")), "true"), false),
        (body(&format!("[{}]", snap("1.5")), "true"), false),
        (body(&format!("[{}]", snap("-1")), "true"), false),
        (body(&format!("[{}]", snap("\"1\"")), "true"), false),
        (body(&format!("[{}]", snap("null")), "true"), false),
        (body(r#"[{"fetched_at":"2026-04-01T09:00:00Z","views":1,"likes":2}]"#, "true"), false),
        (body(r#"[["2026-04-01T09:00:00Z",1,2,3]]"#, "true"), false),
        (body(&format!("[{},null]", snap("1")), "true"), false),
        (body("\"x\"", "true"), false),
        (body("{}", "true"), false),
        (body("[]", "1"), false),
        (body("[]", "null"), false),
        (r#"{"post_item_id":7,"snapshots":[],"complete":true}"#.to_owned(), false),
        (r#"{"snapshots":[],"complete":true}"#.to_owned(), false),
        ("[]".to_owned(), false),
    ];
    for (text, ok) in cases {
        let result = powerpost_analytics::parse_history(text.as_bytes(), "p", day);
        assert_eq!(result.is_ok(), ok, "{text}: {result:?}");
        if let Err(e) = result {
            assert_eq!(e.received(), Some("JSON of another shape"), "{text}");
        }
    }
}
