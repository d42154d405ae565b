//! The proxy's rules (cargo feature `proxy`): the server-side half of proxy mode. A browser
//! client whose `baseUrl` points at the proxy asks it for
//! `{base_path}/api/v1/post-items/{id}/analytics`; the proxy checks who asks and what, looks the
//! item up with the server's key (through the client: its retries, timeout, cache and in-flight
//! sharing), and answers with a body the crate has validated. It forwards that one request and
//! nothing else: no other path, method, query or incoming header reaches PowerPost.
//!
//! This file is pure (routing, the id rules, CORS, the answers), so every refusal is tested
//! natively; [`Proxy`] (wasm32) is the Fetch-API handler over it.

use std::fmt;

use crate::config::{check_post_item_id, ClientOptions};
use crate::error::{redact, Error, ErrorKind};
use crate::types::{PostItemAnalytics, RateLimit};

mod callers;
mod guard;
#[cfg(all(target_arch = "wasm32", feature = "proxy"))]
mod handler;
mod missing;
#[cfg(all(target_arch = "wasm32", feature = "proxy"))]
pub(crate) mod upstream;
pub use guard::{DEFAULT_MAX_CONCURRENT_UPSTREAM, DEFAULT_MAX_QUEUE};
pub use missing::DEFAULT_CACHE_NOT_FOUND_MS;
#[cfg_attr(not(all(target_arch = "wasm32", feature = "proxy")), allow(unused_imports))]
pub use callers::DEFAULT_CALLER_PER_MINUTE;
#[cfg_attr(not(all(target_arch = "wasm32", feature = "proxy")), allow(unused_imports))]
pub(crate) use callers::Callers;
#[cfg_attr(not(all(target_arch = "wasm32", feature = "proxy")), allow(unused_imports))]
pub(crate) use missing::Missing;
#[cfg_attr(not(all(target_arch = "wasm32", feature = "proxy")), allow(unused_imports))]
pub(crate) use guard::{pause_after, Admit, Guard, Pause, Turn};
#[cfg(all(target_arch = "wasm32", feature = "proxy"))]
pub use handler::{Authorize, AuthorizeFuture, CallerKey, Proxy};

/// The path every forwarded request has after the base path, around the id.
const API_PREFIX: &str = "/api/v1/post-items/";
const API_SUFFIX: &str = "/analytics";
/// The history route: the same id rules, read from the proxy's history store.
const HISTORY_SUFFIX: &str = "/analytics/history";

/// Longest `X-Request-Id` passed on to the browser.
const MAX_REQUEST_ID_CHARS: usize = 200;

/// How long a browser may keep a preflight answer.
const PREFLIGHT_MAX_AGE_S: u32 = 600;

/// The options of a [`Proxy`]: the client's (key, workspace, upstream `base_url`, timeout,
/// retries, logging, cache) plus who may call it and where it is mounted.
///
/// ```
/// use powerpost_analytics::{ClientOptions, ProxyOptions};
///
/// let options = ProxyOptions::new(ClientOptions::new().api_key("pp_live_sk_…").workspace_id("ws_1"))
///     .base_path("/api/powerpost")
///     .allowed_origins(["https://app.example.com"]);
/// # let _ = options;
/// ```
#[derive(Clone)]
pub struct ProxyOptions {
    pub(crate) client: ClientOptions,
    pub(crate) base_path: String,
    pub(crate) allow_anonymous: bool,
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) max_concurrent_upstream: u32,
    pub(crate) max_queue: u32,
    pub(crate) cache_not_found_ms: u64,
    /// Lookups a minute per caller: `None` until set (then on for `allow_anonymous` without
    /// `authorize`, off otherwise), `Some(0)` off.
    pub(crate) caller_per_minute: Option<u32>,
    #[cfg(all(target_arch = "wasm32", feature = "proxy"))]
    pub(crate) caller_key: Option<CallerKey>,
    #[cfg(all(target_arch = "wasm32", feature = "proxy"))]
    pub(crate) authorize: Option<Authorize>,
}

impl Default for ProxyOptions {
    fn default() -> ProxyOptions {
        ProxyOptions {
            client: ClientOptions::default(),
            base_path: String::new(),
            allow_anonymous: false,
            allowed_origins: Vec::new(),
            max_concurrent_upstream: DEFAULT_MAX_CONCURRENT_UPSTREAM,
            max_queue: DEFAULT_MAX_QUEUE,
            cache_not_found_ms: DEFAULT_CACHE_NOT_FOUND_MS,
            caller_per_minute: None,
            #[cfg(all(target_arch = "wasm32", feature = "proxy"))]
            caller_key: None,
            #[cfg(all(target_arch = "wasm32", feature = "proxy"))]
            authorize: None,
        }
    }
}

impl fmt::Debug for ProxyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyOptions")
            .field("client", &self.client)
            .field("base_path", &self.base_path)
            .field("allow_anonymous", &self.allow_anonymous)
            .field("allowed_origins", &self.allowed_origins)
            .field("max_concurrent_upstream", &self.max_concurrent_upstream)
            .field("max_queue", &self.max_queue)
            .field("cache_not_found_ms", &self.cache_not_found_ms)
            .field("caller_per_minute", &self.caller_per_minute)
            .finish_non_exhaustive()
    }
}

impl ProxyOptions {
    /// Options with the client's `options` (the key and workspace, or the `POWERPOST_*`
    /// variables, are the server's), mounted at the root, same-origin only.
    pub fn new(client: ClientOptions) -> ProxyOptions {
        ProxyOptions { client, ..ProxyOptions::default() }
    }

    /// Where the app mounts the proxy (`/api/powerpost`): the browser client's `baseUrl` is
    /// this path on the app's origin. Default: the root.
    pub fn base_path(mut self, path: impl Into<String>) -> Self {
        self.base_path = path.into();
        self
    }

    /// Lets the proxy answer anyone who finds its URL, without an authorize callback. Without
    /// one of the two, creating the proxy fails: an open proxy spends your key and rate limit
    /// for every visitor of the web.
    pub fn allow_anonymous(mut self, allow: bool) -> Self {
        self.allow_anonymous = allow;
        self
    }

    /// Origins (`https://app.example.com`) whose pages may call the proxy cross-origin: it
    /// answers their preflight and sets `Access-Control-Allow-Origin` for them only. Default:
    /// none (same-origin pages only).
    pub fn allowed_origins<S: Into<String>>(mut self, origins: impl IntoIterator<Item = S>) -> Self {
        self.allowed_origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// At most this many requests to PowerPost at once (default
    /// [`DEFAULT_MAX_CONCURRENT_UPSTREAM`], 8; at least 1): the key's rate limit is spent no
    /// faster than that, whoever calls. Lookups of one id share one request, and cache hits
    /// take no slot.
    pub fn max_concurrent_upstream(mut self, n: u32) -> Self {
        self.max_concurrent_upstream = n.max(1);
        self
    }

    /// At most this many lookups wait for an upstream slot (default [`DEFAULT_MAX_QUEUE`],
    /// 256), each for at most its timeout; past either, the proxy answers 503 `PROXY_BUSY`
    /// with `Retry-After`, without asking PowerPost.
    pub fn max_queue(mut self, n: u32) -> Self {
        self.max_queue = n;
        self
    }

    /// With a cache, how long a 404 from PowerPost is answered from it (default
    /// [`DEFAULT_CACHE_NOT_FOUND_MS`], 60 s; 0 turns it off), so that a repeated unknown id does
    /// not reach upstream each time.
    pub fn cache_not_found_ms(mut self, ms: u64) -> Self {
        self.cache_not_found_ms = ms;
        self
    }

    /// At most `per_minute` lookups a minute from one caller (0 turns the limit off); past it,
    /// 429 `CALLER_LIMIT_EXCEEDED` with `Retry-After`, counted before anything is asked of
    /// PowerPost. A caller is its client address (known through `toNodeListener`, and in
    /// Cloudflare Workers) unless [`ProxyOptions::caller_key`] says otherwise. Default: off
    /// with an `authorize` callback, [`DEFAULT_CALLER_PER_MINUTE`] (60) with `allow_anonymous`.
    pub fn caller_limit(mut self, per_minute: u32) -> Self {
        self.caller_per_minute = Some(per_minute);
        self
    }

    /// Who counts as one caller for [`ProxyOptions::caller_limit`], from the incoming request
    /// (a user id from the session, say); `None` leaves a request uncounted.
    #[cfg(all(target_arch = "wasm32", feature = "proxy"))]
    pub fn caller_key<F>(mut self, key: F) -> Self
    where
        F: Fn(&web_sys::Request) -> Option<String> + 'static,
    {
        self.caller_key = Some(std::rc::Rc::new(key));
        self
    }

    /// Decides who may call the proxy, from the incoming request: `Ok(true)` lets it through,
    /// `Ok(false)` answers 401, `Err(why)` answers 500 (`why` is logged, never sent).
    ///
    /// ```ignore
    /// let options = ProxyOptions::new(ClientOptions::new())
    ///     .authorize(|req: &web_sys::Request| {
    ///         let session = req.headers().get("cookie").ok().flatten();
    ///         async move { Ok(session.is_some_and(|c| c.contains("session="))) }
    ///     });
    /// ```
    #[cfg(all(target_arch = "wasm32", feature = "proxy"))]
    pub fn authorize<F, Fut>(mut self, authorize: F) -> Self
    where
        F: Fn(&web_sys::Request) -> Fut + 'static,
        Fut: std::future::Future<Output = Result<bool, String>> + 'static,
    {
        let boxed: Authorize = std::rc::Rc::new(move |req: &web_sys::Request| Box::pin(authorize(req)) as handler::AuthorizeFuture);
        self.authorize = Some(boxed);
        self
    }
}

/// The routing and CORS rules, checked once when the proxy is created.
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    base_path: String,
    allowed_origins: Vec<String>,
}

/// What a request path asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// The analytics of the post item with this (decoded, checked) id.
    Analytics(String),
    /// Its recorded snapshot history (`…/analytics/history`).
    History(String),
    /// Anything else.
    NotFound,
}

/// What the proxy does with a request, before anyone is asked anything.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Look the item up (`head`: answer without a body); `history`: read its recorded history
    /// instead (the same checks, no upstream request).
    Forward { id: String, head: bool, history: bool },
    /// Answer at once.
    Answer(Answer),
}

/// A response the proxy sends: status, headers and a JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Option<String>,
}

impl Answer {
    /// An answer in the API's error envelope, never cached.
    pub(crate) fn error(status: u16, code: &str, message: &str, retry_after_s: Option<u64>) -> Answer {
        let mut body = serde_json::json!({ "error": { "message": message, "code": code } });
        if let (Some(s), Some(obj)) = (retry_after_s, body.as_object_mut()) {
            obj.insert("retryAfter".into(), s.into());
        }
        let mut headers = json_headers();
        headers.push(("cache-control", "no-store".into()));
        if let Some(s) = retry_after_s {
            headers.push(("retry-after", s.to_string()));
        }
        Answer { status, headers, body: Some(body.to_string()) }
    }

    pub(crate) fn with(mut self, name: &'static str, value: String) -> Answer {
        self.headers.push((name, value));
        self
    }
}

fn json_headers() -> Vec<(&'static str, String)> {
    vec![("content-type", "application/json; charset=utf-8".into()), ("x-content-type-options", "nosniff".into())]
}

impl Rules {
    /// The template of the routes the proxy forwards (OpenTelemetry's `http.route`).
    pub(crate) fn route_template(&self, history: bool) -> String {
        format!("{}{}{}", self.base_path, crate::observe::URL_TEMPLATE, if history { "/history" } else { "" })
    }

    /// Checks the base path and the origins.
    pub(crate) fn new(base_path: &str, allowed_origins: &[String]) -> Result<Rules, Error> {
        let base = base_path.trim_end_matches('/');
        let bad = |why: &str| {
            Err(Error::invalid_argument(format!(
                "Option `basePath` {} {why}: pass the path the app mounts the proxy at, such as \"/api/powerpost\".",
                crate::error::describe_str(base_path)
            )))
        };
        if !base.is_empty() && !base.starts_with('/') {
            return bad("must start with /");
        }
        if base.contains(['?', '#', '%', '\\']) || base.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return bad("may hold only a plain path (no query, fragment, percent-encoding, backslash or spaces)");
        }
        if base.split('/').skip(1).any(|s| s.is_empty() || s == "." || s == "..") {
            return bad("has an empty, . or .. segment, which URL parsers change before the proxy sees the path");
        }
        let mut origins = Vec::with_capacity(allowed_origins.len());
        for origin in allowed_origins {
            origins.push(check_origin(origin)?);
        }
        Ok(Rules { base_path: base.to_owned(), allowed_origins: origins })
    }

    /// The methods answered, for `Allow`: `OPTIONS` too when there are preflights to answer.
    pub(crate) fn allow(&self) -> &'static str {
        if self.has_cors() {
            "GET, HEAD, OPTIONS"
        } else {
            "GET, HEAD"
        }
    }

    /// Whether cross-origin pages may call the proxy at all.
    pub(crate) fn has_cors(&self) -> bool {
        !self.allowed_origins.is_empty()
    }

    /// `origin` when it is one of the allowed origins.
    pub(crate) fn allowed<'a>(&self, origin: Option<&'a str>) -> Option<&'a str> {
        origin.filter(|o| self.allowed_origins.iter().any(|a| a == o))
    }

    /// What the path of `url` (absolute, as `Request.url` has it) asks for. The query and
    /// fragment are dropped; the id segment is percent-decoded once and must pass the
    /// client's id rules, and decode to no `/`, `\`, `%` (double encoding) or dot segment.
    pub(crate) fn route(&self, url: &str) -> Route {
        let path = path_of(url);
        let Some(rest) = path.strip_prefix(self.base_path.as_str()) else { return Route::NotFound };
        let Some(rest) = rest.strip_prefix(API_PREFIX) else { return Route::NotFound };
        let (segment, history) = match rest.strip_suffix(API_SUFFIX) {
            Some(segment) => (segment, false),
            None => match rest.strip_suffix(HISTORY_SUFFIX) {
                Some(segment) => (segment, true),
                None => return Route::NotFound,
            },
        };
        if segment.contains('/') {
            return Route::NotFound;
        }
        match decode_segment(segment) {
            Some(id) if check_post_item_id(&id).is_ok() && !id.contains(['/', '\\', '%']) => {
                if history {
                    Route::History(id)
                } else {
                    Route::Analytics(id)
                }
            }
            _ => Route::NotFound,
        }
    }

    /// What to do with a request, from its method, URL and headers: a refusal, a preflight
    /// answer, or the id to look up. (Authorization comes after this, for requests that would
    /// be forwarded.)
    pub(crate) fn plan(&self, method: &str, url: &str, headers: &RequestHeaders<'_>) -> Plan {
        let route = self.route(url);
        let allowed = self.allowed(headers.origin);
        if method == "OPTIONS" && self.has_cors() && headers.preflight_method.is_some() {
            let answer = match (&route, allowed) {
                (Route::NotFound, _) => not_found(),
                (_, None) => cross_origin_refused(headers.origin),
                (Route::Analytics(_) | Route::History(_), Some(origin)) => {
                    let ok = matches!(headers.preflight_method, Some("GET" | "HEAD"));
                    let mut a = if ok {
                        Answer { status: 204, headers: vec![("cache-control", "no-store".into())], body: None }
                    } else {
                        method_not_allowed(self.allow())
                    };
                    a.headers.extend(cors_headers(origin));
                    a.headers.push(("access-control-allow-methods", "GET, HEAD".into()));
                    if let Some(h) = headers.preflight_headers.filter(|h| is_token_list(h)) {
                        a.headers.push(("access-control-allow-headers", h.to_owned()));
                    }
                    a.headers.push(("access-control-max-age", PREFLIGHT_MAX_AGE_S.to_string()));
                    a
                }
            };
            return Plan::Answer(self.finish(answer, headers.origin));
        }
        let (id, history) = match route {
            Route::NotFound => return Plan::Answer(self.finish(not_found(), headers.origin)),
            Route::Analytics(id) => (id, false),
            Route::History(id) => (id, true),
        };
        let answer = if method != "GET" && method != "HEAD" {
            method_not_allowed(self.allow())
        } else if headers.cross_site && allowed.is_none() {
            // A page of another site, as the browser itself says: not served unless allowed.
            cross_origin_refused(headers.origin)
        } else {
            return Plan::Forward { id, head: method == "HEAD", history };
        };
        Plan::Answer(self.finish(answer, headers.origin))
    }

    /// Adds what every answer carries: CORS headers for an allowed origin and `Vary: Origin`
    /// whenever the answer depends on the origin.
    pub(crate) fn finish(&self, mut answer: Answer, origin: Option<&str>) -> Answer {
        if self.has_cors() {
            if !answer.headers.iter().any(|(n, _)| *n == "access-control-allow-origin") {
                if let Some(o) = self.allowed(origin) {
                    answer.headers.extend(cors_headers(o));
                    answer.headers.push((
                        "access-control-expose-headers",
                        "x-request-id, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset, retry-after, x-powerpost-snapshot-interval-ms".into(),
                    ));
                }
            }
            answer.headers.push(("vary", "Origin".into()));
        }
        answer
    }
}

/// The request headers the rules read (nothing else of the request is looked at).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct RequestHeaders<'a> {
    pub(crate) origin: Option<&'a str>,
    /// `Sec-Fetch-Site: cross-site`, which only a browser sets (a page cannot forge it).
    pub(crate) cross_site: bool,
    pub(crate) preflight_method: Option<&'a str>,
    pub(crate) preflight_headers: Option<&'a str>,
}

fn cors_headers(origin: &str) -> [(&'static str, String); 1] {
    [("access-control-allow-origin", origin.to_owned())]
}

/// A comma-separated list of header names (what a preflight may ask to send).
fn is_token_list(s: &str) -> bool {
    s.len() <= 1024 && s.split(',').all(|t| {
        let t = t.trim();
        !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    })
}

/// 404 in the API's envelope.
pub(crate) fn not_found() -> Answer {
    Answer::error(
        404,
        "NOT_FOUND",
        "Not found: this proxy answers only GET {basePath}/api/v1/post-items/{post_item_id}/analytics (and …/analytics/history).",
        None,
    )
}

fn method_not_allowed(allow: &str) -> Answer {
    Answer::error(405, "METHOD_NOT_ALLOWED", "Method not allowed: this proxy answers only GET and HEAD.", None).with("allow", allow.into())
}

fn cross_origin_refused(origin: Option<&str>) -> Answer {
    let from = origin.map(|o| format!(" from {}", crate::error::describe_str(o))).unwrap_or_default();
    Answer::error(
        403,
        "ORIGIN_NOT_ALLOWED",
        &format!("Cross-origin requests{from} are not allowed: list the origin in the proxy's allowedOrigins."),
        None,
    )
}

/// The code of the proxy's own 503 when no upstream slot is free.
pub(crate) const BUSY_CODE: &str = "PROXY_BUSY";

/// The error of a lookup refused for want of an upstream slot (`why`): no status (nothing was
/// asked of PowerPost, and the client does not retry it), code [`BUSY_CODE`].
#[cfg_attr(not(all(target_arch = "wasm32", feature = "proxy")), allow(dead_code))]
pub(crate) fn busy_error(why: &str) -> Error {
    let mut e = Error::new(ErrorKind::Server, format!("The proxy is busy: {why}."));
    let inner = e.inner_mut();
    inner.code = Some(BUSY_CODE.to_owned());
    inner.retry_after_ms = Some(guard::BUSY_RETRY_AFTER_S * 1000);
    e
}

/// The error of a lookup refused because the key's budget is spent until `pause.until_ms`:
/// no status (nothing was asked of PowerPost), kind `RateLimit`, the wait and the rate limit
/// known.
#[cfg_attr(not(all(target_arch = "wasm32", feature = "proxy")), allow(dead_code))]
pub(crate) fn paused_error(pause: Pause, now_ms: f64) -> Error {
    let mut e = Error::new(
        ErrorKind::RateLimit,
        "The PowerPost API's rate limit for this key is spent: the proxy asks again after its reset.",
    );
    let inner = e.inner_mut();
    inner.code = Some("RATE_LIMIT_EXCEEDED".to_owned());
    inner.retry_after_ms = Some((pause.until_ms - now_ms).max(0.0).ceil() as u64);
    inner.rate_limit = pause.rate_limit.map(|r| RateLimit { remaining: 0, ..r });
    e
}

/// 500 for a proxy that has no key (or whose environment does not resolve): the server's
/// configuration, not the caller's request, is at fault.
#[cfg_attr(not(all(target_arch = "wasm32", feature = "proxy")), allow(dead_code))]
pub(crate) fn misconfigured() -> Answer {
    Answer::error(500, "PROXY_MISCONFIGURED", "The proxy is not configured (no API key on the server); the server's log says why.", None)
}

/// 429 for a caller past the caller limit, until `wait_ms` from now.
#[cfg_attr(not(all(target_arch = "wasm32", feature = "proxy")), allow(dead_code))]
pub(crate) fn caller_limited(per_minute: u32, wait_ms: u64) -> Answer {
    Answer::error(
        429,
        "CALLER_LIMIT_EXCEEDED",
        &format!("Too many lookups from this caller: this proxy answers at most {per_minute} a minute to each."),
        Some(wait_ms.div_ceil(1000).max(1)),
    )
}

/// 401 for a request `authorize` refused.
pub(crate) fn unauthorized() -> Answer {
    Answer::error(401, "UNAUTHORIZED", "Not authorized to use this proxy.", None)
}

/// 500 for a failure inside the proxy (a throwing `authorize`, a configuration it could not
/// resolve); what went wrong is logged, never sent.
pub(crate) fn internal_error(what: &str) -> Answer {
    Answer::error(500, "INTERNAL_ERROR", &format!("{what}; the server's log says why."), None)
}

/// The answer for a history: never cached by browsers or shared caches (it grows with each
/// snapshot and is private to whoever the app authorised).
pub(crate) fn history_answer(history: &crate::history::History, interval_ms: u64) -> Answer {
    let mut headers = json_headers();
    headers.push(("cache-control", "private, no-cache".into()));
    headers.push((crate::history::INTERVAL_HEADER, interval_ms.to_string()));
    match serde_json::to_string(history) {
        Ok(body) => Answer { status: 200, headers, body: Some(body) },
        Err(_) => internal_error("The proxy could not write the history as JSON"),
    }
}

/// The 404 of the history route on a proxy that keeps no history.
pub(crate) fn no_history() -> Answer {
    Answer::error(
        404,
        "NOT_FOUND",
        "Not found: this proxy keeps no snapshot history (createProxyHandler({ history: true | { store } }) turns it on).",
        None,
    )
}

/// The answer for a successful lookup: the validated item, `private` caching for as long as
/// the snapshot rule says it stays current, and what the browser client reads (request id,
/// rate limit); `cache` says whether it came from the proxy's cache, when it has one.
pub(crate) fn success(
    item: &PostItemAnalytics,
    fresh_until_ms: f64,
    now_ms: f64,
    request_id: Option<&str>,
    rate_limit: Option<RateLimit>,
    cache: Option<bool>,
) -> Answer {
    let mut headers = json_headers();
    let max_age = ((fresh_until_ms - now_ms) / 1000.0).floor().max(0.0) as u64;
    headers.push(("cache-control", format!("private, max-age={max_age}")));
    // Only a proxy with a cache says whether the answer came from it.
    if let Some(hit) = cache {
        headers.push(("x-powerpost-cache", if hit { "hit" } else { "miss" }.into()));
    }
    pass_on(&mut headers, request_id, rate_limit);
    // The types serialize with the API's own field names; a failure here cannot happen for
    // them, and would still be an answer, not a panic.
    match serde_json::to_string(item) {
        Ok(body) => Answer { status: 200, headers, body: Some(body) },
        Err(_) => internal_error("The proxy could not write the analytics as JSON"),
    }
}

fn pass_on(headers: &mut Vec<(&'static str, String)>, request_id: Option<&str>, rate_limit: Option<RateLimit>) {
    if let Some(id) = request_id.filter(|id| !id.is_empty()) {
        headers.push(("x-request-id", crate::error::cut(id, MAX_REQUEST_ID_CHARS).to_owned()));
    }
    if let Some(r) = rate_limit {
        headers.push(("x-ratelimit-limit", r.limit.to_string()));
        headers.push(("x-ratelimit-remaining", r.remaining.to_string()));
        headers.push(("x-ratelimit-reset", r.reset.to_string()));
    }
}

/// The answer for a failed lookup. An API error keeps its status, code and the server's
/// message; a body that failed validation is 502 `INVALID_RESPONSE`; no connection, 502
/// `UPSTREAM_UNAVAILABLE`; a timeout, 504 `UPSTREAM_TIMEOUT`. Everything is redacted of the
/// key (`secret`), and what is passed on is re-written from parsed values, never copied; a
/// wait is clamped to `max_wait_ms`.
pub(crate) fn failure(e: &Error, secret: Option<&str>, max_wait_ms: u64) -> Answer {
    let clean = |s: &str| redact(s, secret);
    if e.status().is_none() && e.code() == Some(BUSY_CODE) {
        return Answer::error(
            503,
            BUSY_CODE,
            "The proxy is busy: too many lookups are waiting for the PowerPost API. Try again shortly.",
            Some(guard::BUSY_RETRY_AFTER_S),
        );
    }
    // Refused here at the limit: nothing was asked of PowerPost.
    let wait_s = |e: &Error| e.retry_after_ms().map(|ms| ms.min(max_wait_ms).div_ceil(1000).max(1));
    let mut answer = match e.kind() {
        ErrorKind::RateLimit if e.status().is_none() => Answer::error(429, "RATE_LIMIT_EXCEEDED", e.message(), wait_s(e)),
        ErrorKind::Timeout => Answer::error(
            504,
            "UPSTREAM_TIMEOUT",
            &format!("The PowerPost API did not answer in time ({}).", attempts(e)),
            None,
        ),
        ErrorKind::Connection => Answer::error(
            502,
            "UPSTREAM_UNAVAILABLE",
            &format!("The proxy could not reach the PowerPost API ({}).", attempts(e)),
            None,
        ),
        ErrorKind::InvalidResponse => {
            let at = match (e.path(), e.expected(), e.received()) {
                (Some(p), Some(exp), Some(rec)) => format!(": at {p}, expected {exp}, found {}", clean(rec)),
                _ => String::new(),
            };
            Answer::error(502, "INVALID_RESPONSE", &format!("The PowerPost API answered with a malformed body{at}."), None)
        }
        _ => match e.status() {
            Some(status) if (400..600).contains(&status) => {
                let (code, message) = api_error_parts(e, status, secret);
                // Never a longer wait than the client itself accepts (`maxRetryWaitMs`): an absurd
                // Retry-After from upstream is not passed on as it came.
                let retry_after_s = e.retry_after_ms().map(|ms| ms.min(max_wait_ms).div_ceil(1000));
                Answer::error(status, &code, &message, retry_after_s)
            }
            Some(status) => Answer::error(
                502,
                "UPSTREAM_UNAVAILABLE",
                &format!(
                    "The PowerPost API answered {}, which the proxy does not follow.",
                    if status == 0 || (300..400).contains(&status) { "with a redirect".to_owned() } else { format!("HTTP {status}") }
                ),
                None,
            ),
            None => internal_error("The proxy failed to look the item up"),
        },
    };
    pass_on(&mut answer.headers, e.request_id().map(clean).as_deref(), e.rate_limit());
    answer
}

/// The code and message an upstream error of `status` is passed on with, redacted of `secret`.
pub(crate) fn api_error_parts(e: &Error, status: u16, secret: Option<&str>) -> (String, String) {
    let clean = |s: &str| redact(s, secret);
    let env = e.body().and_then(|b| crate::response::envelope(b.as_bytes()));
    let message = env.as_ref().and_then(|v| v.message.as_deref()).map(clean).unwrap_or_else(|| {
        format!("The PowerPost API answered HTTP {status} without its JSON error (often a gateway page).")
    });
    let code = e.code().map(clean).unwrap_or_else(|| default_code(status).to_owned());
    (code, message)
}

fn attempts(e: &Error) -> String {
    match e.attempts() {
        0 | 1 => "1 attempt".into(),
        n => format!("{n} attempts"),
    }
}

/// The API's code for a status, for an error without a JSON body.
fn default_code(status: u16) -> &'static str {
    match status {
        400 => "VALIDATION_ERROR",
        401 => "INVALID_API_KEY",
        402 => "INSUFFICIENT_CREDITS",
        403 => "FORBIDDEN",
        404 => "NOT_FOUND",
        409 => "ALREADY_PUBLISHED",
        422 => "PLATFORM_NOT_CONNECTED",
        429 => "RATE_LIMIT_EXCEEDED",
        502 => "BAD_GATEWAY",
        503 => "SERVICE_UNAVAILABLE",
        504 => "GATEWAY_TIMEOUT",
        _ => "INTERNAL_ERROR",
    }
}

/// The path of an absolute URL (`http://host/p?q#f` → `/p`), or of a path-only one.
fn path_of(url: &str) -> &str {
    let after_scheme = match url.find("://") {
        Some(i) => {
            let rest = url.get(i + 3..).unwrap_or("");
            rest.find(['/', '?', '#']).and_then(|j| rest.get(j..)).unwrap_or("")
        }
        None => url,
    };
    let end = after_scheme.find(['?', '#']).unwrap_or(after_scheme.len());
    after_scheme.get(..end).unwrap_or("")
}

/// One percent-decoding of a path segment; `None` for a bad escape or bytes that are not UTF-8.
fn decode_segment(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = |at: usize| bytes.get(at).and_then(|c| char::from(*c).to_digit(16));
            let (hi, lo) = (hex(i + 1)?, hex(i + 2)?);
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// An allowed origin must be exactly what browsers send: `scheme://host[:port]`.
fn check_origin(origin: &str) -> Result<String, Error> {
    let ok = origin
        .split_once("://")
        .is_some_and(|(scheme, rest)| {
            matches!(scheme, "http" | "https")
                && !rest.is_empty()
                && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        });
    if ok {
        Ok(origin.to_owned())
    } else {
        Err(Error::invalid_argument(format!(
            "Option `allowedOrigins` has {}: list origins exactly as browsers send them, such as \"https://app.example.com\" \
             (scheme, host and port; no path, no trailing slash, no wildcard).",
            crate::error::describe_str(origin)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules::new("/api/powerpost", &["https://app.example.com".to_owned()]).unwrap()
    }

    const OK: &str = "http://127.0.0.1:8787/api/powerpost/api/v1/post-items/550e8400-e29b-41d4-a716-446655440000/analytics";

    #[test]
    fn routes_only_the_analytics_path() {
        let r = rules();
        assert_eq!(r.route(OK), Route::Analytics("550e8400-e29b-41d4-a716-446655440000".into()));
        assert_eq!(r.route(&format!("{OK}?x=1#f")), Route::Analytics("550e8400-e29b-41d4-a716-446655440000".into()));
        let h = "http://h";
        for path in [
            "/api/powerpost/api/v1/post-items/x/analytics/",
            "/api/powerpost/api/v1/post-items/x",
            "/api/powerpost/api/v1/posts",
            "/api/v1/post-items/x/analytics",
            "/api/powerpostx/api/v1/post-items/x/analytics",
            "/api/powerpost/api/v1/post-items//analytics",
            "/api/powerpost/api/v1/post-items/a/b/analytics",
            "/api/powerpost/api/v1/post-items/a%2Fb/analytics",
            "/api/powerpost/api/v1/post-items/a%2fb/analytics",
            "/api/powerpost/api/v1/post-items/a%5Cb/analytics",
            "/api/powerpost/api/v1/post-items/%2e%2e/analytics",
            "/api/powerpost/api/v1/post-items/%2E/analytics",
            "/api/powerpost/api/v1/post-items/..%2F..%2Fw/analytics",
            "/api/powerpost/api/v1/post-items/%252e%252e/analytics",
            "/api/powerpost/api/v1/post-items/a%25b/analytics",
            "/api/powerpost/api/v1/post-items/x%00/analytics",
            "/api/powerpost/api/v1/post-items/x%0A/analytics",
            "/api/powerpost/api/v1/post-items/%zz/analytics",
            "/api/powerpost/api/v1/post-items/%ff/analytics",
            "/api/powerpost/api/v1/post-items/%/analytics",
        ] {
            assert_eq!(r.route(&format!("{h}{path}")), Route::NotFound, "{path}");
        }
        let long = "a".repeat(257);
        assert_eq!(r.route(&format!("{h}/api/powerpost/api/v1/post-items/{long}/analytics")), Route::NotFound);
        let max = "a".repeat(256);
        assert_eq!(r.route(&format!("{h}/api/powerpost/api/v1/post-items/{max}/analytics")), Route::Analytics(max));
        // One decoding: an encoded space or a non-ASCII id is an id like any other.
        assert_eq!(r.route(&format!("{h}/api/powerpost/api/v1/post-items/a%20%C3%A9/analytics")), Route::Analytics("a é".into()));
        // The history route: the same id rules.
        assert_eq!(r.route(&format!("{h}/api/powerpost/api/v1/post-items/x/analytics/history")), Route::History("x".into()));
        for bad in ["a%2Fb", "%2e%2e", "x%00", "%zz", ""] {
            assert_eq!(r.route(&format!("{h}/api/powerpost/api/v1/post-items/{bad}/analytics/history")), Route::NotFound, "{bad}");
        }
        for bad in ["/analytics/history/", "/analytics/historyx", "/analytics/history/x", "/history"] {
            assert_eq!(r.route(&format!("{h}/api/powerpost/api/v1/post-items/x{bad}")), Route::NotFound, "{bad}");
        }
        let root = Rules::new("", &[]).unwrap();
        assert_eq!(root.route("http://h/api/v1/post-items/x/analytics"), Route::Analytics("x".into()));
        assert_eq!(root.route_template(false), "/api/v1/post-items/{post_item_id}/analytics");
        assert_eq!(Rules::new("/p/", &[]).unwrap().route_template(true), "/p/api/v1/post-items/{post_item_id}/analytics/history");
        assert_eq!(Rules::new("/p/", &[]).unwrap().route("http://h/p/api/v1/post-items/x/analytics"), Route::Analytics("x".into()));
    }

    #[test]
    fn methods_preflight_and_origins() {
        let r = rules();
        let none = RequestHeaders::default();
        assert_eq!(r.plan("GET", OK, &none), Plan::Forward { id: "550e8400-e29b-41d4-a716-446655440000".into(), head: false, history: false });
        let hist = format!("{OK}/history");
        assert_eq!(r.plan("HEAD", &hist, &none), Plan::Forward { id: "550e8400-e29b-41d4-a716-446655440000".into(), head: true, history: true });
        let Plan::Answer(a) = r.plan("POST", &hist, &none) else { panic!() };
        assert_eq!(a.status, 405, "the history route has the lookup's method rules");
        let Plan::Answer(a) = r.plan("GET", &hist, &RequestHeaders { cross_site: true, ..none }) else { panic!() };
        assert_eq!(a.status, 403, "and its cross-site refusal");
        assert!(matches!(r.plan("HEAD", OK, &none), Plan::Forward { head: true, .. }));
        for m in ["POST", "PUT", "DELETE", "PATCH", "TRACE", "CONNECT", "get"] {
            let Plan::Answer(a) = r.plan(m, OK, &none) else { panic!("{m} forwarded") };
            assert_eq!(a.status, 405, "{m}");
            assert!(a.headers.contains(&("allow", "GET, HEAD, OPTIONS".into())));
        }
        let Plan::Answer(a) = Rules::new("", &[]).unwrap().plan("POST", "http://h/api/v1/post-items/x/analytics", &none) else { panic!() };
        assert!(a.headers.contains(&("allow", "GET, HEAD".into())));
        assert!(!a.headers.iter().any(|(n, _)| n.starts_with("access-control") || *n == "vary"), "no CORS by default");

        let pre = |origin| RequestHeaders { origin: Some(origin), preflight_method: Some("GET"), preflight_headers: Some("accept"), ..none };
        let Plan::Answer(a) = r.plan("OPTIONS", OK, &pre("https://app.example.com")) else { panic!() };
        assert_eq!(a.status, 204);
        assert!(a.headers.contains(&("access-control-allow-origin", "https://app.example.com".into())));
        assert!(a.headers.contains(&("vary", "Origin".into())));
        let Plan::Answer(a) = r.plan("OPTIONS", OK, &pre("https://evil.example")) else { panic!() };
        assert_eq!(a.status, 403);
        assert!(!a.headers.iter().any(|(n, _)| n.starts_with("access-control")));

        let from = |origin, cross_site| RequestHeaders { origin: Some(origin), cross_site, ..none };
        assert!(matches!(r.plan("GET", OK, &from("https://app.example.com", true)), Plan::Forward { .. }));
        let Plan::Answer(a) = r.plan("GET", OK, &from("https://evil.example", true)) else { panic!() };
        assert_eq!(a.status, 403);
        // Without Sec-Fetch-Site the request is served, but no page of that origin can read it.
        assert!(matches!(r.plan("GET", OK, &from("https://evil.example", false)), Plan::Forward { .. }));
        let ok = r.finish(success(&item(), 0.0, 0.0, None, None, None), Some("https://evil.example"));
        assert!(!ok.headers.iter().any(|(n, _)| n.starts_with("access-control")));
        assert!(ok.headers.contains(&("vary", "Origin".into())));
    }

    #[test]
    fn options_are_checked() {
        for bad in ["api", "/a?b", "/a/../b", "/a//b", "/a b", "/%61"] {
            assert!(Rules::new(bad, &[]).unwrap_err().message().contains("basePath"), "{bad}");
        }
        for bad in ["*", "https://a.example/", "a.example", "https://a.example/path", "ftp://a"] {
            assert!(Rules::new("", &[bad.to_owned()]).unwrap_err().message().contains("allowedOrigins"), "{bad}");
        }
        assert!(Rules::new("", &["http://localhost:5173".to_owned(), "https://[::1]:8443".to_owned()]).is_ok());
    }

    fn item() -> PostItemAnalytics {
        crate::parse_post_item_analytics(
            br#"{"post_item_id":"p1","post_type":"x-post","platform":"x","status":"posted",
                 "metrics":{"views":1,"likes":2,"comments":3,"fetched_at":"2026-04-15T09:00:00Z"}}"#,
            None,
        )
        .unwrap()
    }

    #[test]
    fn success_is_private_and_validated_json() {
        let a = success(&item(), 91_500.0, 1_000.0, Some("req_1"), Some(RateLimit::new(10, 9, 99)), None);
        assert!(!a.headers.iter().any(|(n, _)| *n == "x-powerpost-cache"), "no cache, no cache header");
        assert!(success(&item(), 0.0, 0.0, None, None, Some(false)).headers.contains(&("x-powerpost-cache", "miss".into())));
        assert!(success(&item(), 0.0, 0.0, None, None, Some(true)).headers.contains(&("x-powerpost-cache", "hit".into())));
        assert_eq!(a.status, 200);
        assert!(a.headers.contains(&("cache-control", "private, max-age=90".into())));
        assert!(a.headers.contains(&("x-request-id", "req_1".into())));
        assert!(a.headers.contains(&("x-ratelimit-remaining", "9".into())));
        let back: PostItemAnalytics = serde_json::from_str(a.body.as_deref().unwrap()).unwrap();
        assert_eq!(back, item());
        let stale = success(&item(), 0.0, 5_000.0, None, None, Some(true));
        assert!(stale.headers.contains(&("cache-control", "private, max-age=0".into())));
    }

    const WAIT: u64 = crate::config::DEFAULT_MAX_RETRY_WAIT_MS;

    #[test]
    fn waits_passed_on_are_clamped_to_what_the_client_accepts() {
        for (sent, want) in [("18446744073709552", "60"), ("99999", "60"), ("3", "3"), ("0.2", "1")] {
            let meta = crate::response::ResponseMeta { status: 429, retry_after: Some(sent.into()), ..Default::default() };
            let (e, _) = crate::response::interpret(&meta, &crate::response::Body::Complete(b"{}".to_vec()), "p1", None, 0.0).unwrap_err();
            let a = failure(&e, None, WAIT);
            assert!(a.headers.contains(&("retry-after", want.into())), "{sent}: {:?}", a.headers);
            let v: serde_json::Value = serde_json::from_str(a.body.as_deref().unwrap()).unwrap();
            assert_eq!(v["retryAfter"].to_string(), want, "{sent}");
        }
        let meta = crate::response::ResponseMeta { status: 503, retry_after: Some("7200".into()), ..Default::default() };
        let (e, _) = crate::response::interpret(&meta, &crate::response::Body::Complete(b"{}".to_vec()), "p1", None, 0.0).unwrap_err();
        assert!(failure(&e, None, 3_600_000).headers.contains(&("retry-after", "3600".into())));
    }

    #[test]
    fn busy_is_503_proxy_busy_with_retry_after_and_never_retried() {
        let e = busy_error("its queue is full");
        assert!(!e.is_retryable(), "the client must not retry a refusal");
        let a = failure(&e, None, WAIT);
        assert_eq!(a.status, 503);
        assert!(a.headers.contains(&("retry-after", "1".into())) && a.headers.contains(&("cache-control", "no-store".into())));
        let v: serde_json::Value = serde_json::from_str(a.body.as_deref().unwrap()).unwrap();
        assert_eq!((v["error"]["code"].as_str(), v["retryAfter"].as_u64()), (Some("PROXY_BUSY"), Some(1)));
        // An upstream 503 stays the upstream's.
        let meta = crate::response::ResponseMeta { status: 503, ..Default::default() };
        let (e, _) = crate::response::interpret(&meta, &crate::response::Body::Complete(b"{}".to_vec()), "p1", None, 0.0).unwrap_err();
        assert!(failure(&e, None, WAIT).body.unwrap().contains("SERVICE_UNAVAILABLE"));
    }

    #[test]
    fn at_the_limit_the_proxy_answers_429_itself_with_the_wait_and_the_rate_limit() {
        let pause = Pause { until_ms: 10_500.0, rate_limit: Some(RateLimit::new(1000, 3, 42)) };
        let e = paused_error(pause, 1_000.0);
        assert!(e.status().is_none(), "nothing was asked upstream");
        let a = failure(&e, None, WAIT);
        assert_eq!(a.status, 429);
        for h in [("retry-after", "10"), ("x-ratelimit-limit", "1000"), ("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "42"), ("cache-control", "no-store")] {
            assert!(a.headers.contains(&(h.0, h.1.into())), "{h:?} in {:?}", a.headers);
        }
        let v: serde_json::Value = serde_json::from_str(a.body.as_deref().unwrap()).unwrap();
        assert_eq!((v["error"]["code"].as_str(), v["retryAfter"].as_u64()), (Some("RATE_LIMIT_EXCEEDED"), Some(10)));
        // A long pause is passed on as what the client accepts, and a last millisecond as a second.
        let long = failure(&paused_error(Pause { until_ms: 3_600_000.0, rate_limit: None }, 0.0), None, WAIT);
        assert!(long.headers.contains(&("retry-after", "60".into())));
        let last = failure(&paused_error(Pause { until_ms: 1.0, rate_limit: None }, 0.5), None, WAIT);
        assert!(last.headers.contains(&("retry-after", "1".into())));
    }

    #[test]
    fn failures_keep_status_and_never_the_key() {
        let key = "pp_live_sk_CANARY_0123456789";
        let meta = crate::response::ResponseMeta {
            status: 429,
            request_id: Some(format!("req_{key}")),
            retry_after: Some("3".into()),
            rate_limit: Some(RateLimit::new(10, 0, 99)),
            location: None,
        };
        let body = format!(r#"{{"error":{{"message":"slow down {key}","code":"RATE_LIMIT_EXCEEDED"}},"retryAfter":3}}"#);
        let (e, _) = crate::response::interpret(&meta, &crate::response::Body::Complete(body.into_bytes()), "p1", Some(key), 0.0).unwrap_err();
        let a = failure(&e, Some(key), WAIT);
        assert_eq!(a.status, 429);
        let text = format!("{a:?}");
        assert!(!text.contains(key) && !text.contains("CANARY"), "{text}");
        let v: serde_json::Value = serde_json::from_str(a.body.as_deref().unwrap()).unwrap();
        assert_eq!(v["error"]["code"], "RATE_LIMIT_EXCEEDED");
        assert_eq!(v["error"]["message"], "slow down [redacted]");
        assert_eq!(v["retryAfter"], 3);
        assert!(a.headers.contains(&("retry-after", "3".into())));
        assert!(a.headers.contains(&("cache-control", "no-store".into())));
        assert!(a.headers.contains(&("x-ratelimit-remaining", "0".into())));

        let html = crate::response::ResponseMeta { status: 502, ..Default::default() };
        let (e, _) = crate::response::interpret(&html, &crate::response::Body::Complete(b"<html>".to_vec()), "p1", None, 0.0).unwrap_err();
        let a = failure(&e, None, WAIT);
        assert_eq!((a.status, a.body.as_deref().unwrap().contains("BAD_GATEWAY")), (502, true));

        let ok = crate::response::ResponseMeta { status: 200, ..Default::default() };
        let (e, _) = crate::response::interpret(&ok, &crate::response::Body::Complete(b"{".to_vec()), "p1", None, 0.0).unwrap_err();
        assert_eq!(failure(&e, None, WAIT).status, 502);
        assert!(failure(&e, None, WAIT).body.unwrap().contains("INVALID_RESPONSE"));

        let redirect = crate::response::ResponseMeta { status: 302, location: Some(format!("http://x/?k={key}")), ..Default::default() };
        let (e, _) = crate::response::interpret(&redirect, &crate::response::Body::Complete(vec![]), "p1", Some(key), 0.0).unwrap_err();
        let a = failure(&e, Some(key), WAIT);
        assert_eq!(a.status, 502);
        assert!(!format!("{a:?}").contains(key));
    }
}
