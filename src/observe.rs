//! What happened in a lookup, as it happens: the events an [`Observer`] receives, for traces,
//! metrics or logs of the caller's choosing.
//!
//! The client reports facts (a lookup began, how the cache served it, each attempt and its
//! answer, each wait and what asked for it, how it ended); turning them into spans and metrics
//! is the observer's business. The npm package turns them into OpenTelemetry spans and metrics
//! and `diagnostics_channel` messages; a Rust app can feed its own `tracing` subscriber:
//!
//! ```
//! use std::cell::RefCell;
//! use std::collections::HashMap;
//! use powerpost_analytics::{Event, Observer};
//!
//! /// Each lookup as a `tracing` span (kind client, named by the template), its attempts and
//! /// waits as events in it.
//! #[derive(Default)]
//! struct Traced {
//!     spans: RefCell<HashMap<u32, tracing::Span>>,
//! }
//!
//! impl Observer for Traced {
//!     fn event(&self, event: &Event) {
//!         let mut spans = self.spans.borrow_mut();
//!         match event {
//!             Event::LookupStart { lookup, post_item_id, url_template, .. } => {
//!                 let span = tracing::info_span!("lookup", otel.name = %format!("GET {url_template}"), otel.kind = "client",
//!                     powerpost.post_item_id = %post_item_id, http.response.status_code = tracing::field::Empty);
//!                 spans.insert(*lookup, span);
//!             }
//!             Event::AttemptEnd { lookup, attempt, status, duration_ms, .. } => {
//!                 if let Some(span) = spans.get(lookup) {
//!                     span.record("http.response.status_code", status.unwrap_or(0));
//!                     tracing::info!(parent: span, attempt, duration_ms, "attempt");
//!                 }
//!             }
//!             Event::Wait { lookup, ms, reason, .. } => {
//!                 if let Some(span) = spans.get(lookup) {
//!                     tracing::info!(parent: span, ms, reason = reason.as_str(), "wait");
//!                 }
//!             }
//!             Event::LookupEnd { lookup, error_type, .. } => {
//!                 if let (Some(span), Some(error)) = (spans.remove(lookup), error_type) {
//!                     tracing::warn!(parent: &span, error.r#type = %error, "lookup failed");
//!                 }
//!             }
//!             _ => {}
//!         }
//!     }
//! }
//!
//! // With the crate's `observe` feature, on wasm32:
//! // let client = Client::new(ClientOptions::new().observer(std::rc::Rc::new(Traced::default())))?;
//! let traced = Traced::default();
//! traced.event(&Event::LookupStart { lookup: 0, post_item_id: "p1".into(), url_full: "https://powerpost.ai/api/v1/post-items/p1/analytics".into(),
//!     url_template: powerpost_analytics::URL_TEMPLATE.into(), server_address: Some("powerpost.ai".into()), server_port: Some(443) });
//! traced.event(&Event::Wait { lookup: 0, attempt: 2, ms: 500, reason: powerpost_analytics::WaitReason::Backoff });
//! traced.event(&Event::LookupEnd { lookup: 0, error_type: None, status: None });
//! assert!(traced.spans.borrow().is_empty());
//! ```
//!
//! [`Observer::propagation`] returns the `traceparent` of the lookup's span (from your tracing
//! layer's OpenTelemetry context), so PowerPost's side (or your proxy) continues the trace.
//!
//! The events never hold the API key, a header value or a response body.

use serde::{Deserialize, Serialize};

use crate::error::ErrorKind;
use crate::retry::WaitSource;
use crate::types::RateLimit;

/// The path template of a lookup (OpenTelemetry's `url.template`, without a base path).
pub const URL_TEMPLATE: &str = "/api/v1/post-items/{post_item_id}/analytics";

/// The name of a lookup's span: the method and [`URL_TEMPLATE`], never the raw path.
pub const SPAN_NAME: &str = "GET /api/v1/post-items/{post_item_id}/analytics";

/// How a lookup was served: by the client's cache, or by a request another lookup of the same id
/// made (only clients with a cache, and proxies, which share requests, say).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheResult {
    /// A fresh entry: no request was made.
    Hit,
    /// No fresh entry: this lookup made the request.
    Miss,
    /// Another lookup's request (or another proxy instance's stored answer) served it.
    Shared,
}

/// What asked for a wait before an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitReason {
    /// The `Retry-After` header.
    RetryAfter,
    /// The error body's `retryAfter`.
    BodyRetryAfter,
    /// `X-RateLimit-Remaining: 0`: until `X-RateLimit-Reset`.
    RateLimitReset,
    /// Exponential backoff: the server named no wait.
    Backoff,
    /// A batch's shared pause after another item's 429.
    BatchPause,
}

impl WaitReason {
    /// The snake_case name (as serialized).
    pub fn as_str(self) -> &'static str {
        match self {
            WaitReason::RetryAfter => "retry_after",
            WaitReason::BodyRetryAfter => "body_retry_after",
            WaitReason::RateLimitReset => "rate_limit_reset",
            WaitReason::Backoff => "backoff",
            WaitReason::BatchPause => "batch_pause",
        }
    }
}

impl From<WaitSource> for WaitReason {
    fn from(source: WaitSource) -> WaitReason {
        match source {
            WaitSource::RetryAfterHeader => WaitReason::RetryAfter,
            WaitSource::BodyRetryAfter => WaitReason::BodyRetryAfter,
            WaitSource::RateLimitReset => WaitReason::RateLimitReset,
            WaitSource::Backoff => WaitReason::Backoff,
        }
    }
}

/// One thing that happened in a lookup. `lookup` tells the lookups of one call apart: 0 for a
/// single lookup, the position among the distinct ids in a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// A lookup begins.
    LookupStart {
        /// Which lookup of the call.
        lookup: u32,
        /// The id looked up.
        post_item_id: String,
        /// The URL requested (`url.full`: the base URL, which holds no credentials, and the path).
        url_full: String,
        /// The path template requested, with the base URL's path in front
        /// (`url.template`).
        url_template: String,
        /// The host of the base URL (`server.address`), when it is absolute.
        server_address: Option<String>,
        /// Its port, explicit or the scheme's (`server.port`).
        server_port: Option<u16>,
    },
    /// How the cache served it.
    Cache {
        /// Which lookup of the call.
        lookup: u32,
        /// Hit, miss or shared.
        result: CacheResult,
    },
    /// An HTTP attempt begins (the first is 1; `http.request.resend_count` is `attempt - 1`).
    AttemptStart {
        /// Which lookup of the call.
        lookup: u32,
        /// Its number.
        attempt: u32,
    },
    /// An attempt ended: with a response (`status`), or without one (`error_type`: a timeout,
    /// a connection failure, an abort).
    AttemptEnd {
        /// Which lookup of the call.
        lookup: u32,
        /// Its number.
        attempt: u32,
        /// The HTTP status, when a response came.
        status: Option<u16>,
        /// The error's class name (`TimeoutError`, …) when the attempt failed, with or without a
        /// response.
        error_type: Option<String>,
        /// The `X-RateLimit-*` headers, when the response had them.
        rate_limit: Option<RateLimit>,
        /// How long it took, in milliseconds.
        duration_ms: f64,
    },
    /// A wait before the next attempt.
    Wait {
        /// Which lookup of the call.
        lookup: u32,
        /// The attempt that follows the wait.
        attempt: u32,
        /// Its length in milliseconds.
        ms: u64,
        /// What asked for it.
        reason: WaitReason,
    },
    /// The lookup ended.
    LookupEnd {
        /// Which lookup of the call.
        lookup: u32,
        /// The error's class name (`NotFoundError`, …), on failure (OpenTelemetry's
        /// `error.type`).
        error_type: Option<String>,
        /// The HTTP status the lookup failed with, when it had one.
        status: Option<u16>,
    },
    /// A proxy routed a request to a lookup or a history (its `http.route`).
    Route {
        /// The route's template, with the proxy's base path.
        route: String,
    },
}

/// Receives a client's [`Event`]s (option `observer`, feature `observe`). Called synchronously
/// in the lookup: keep it quick, and do not panic.
pub trait Observer {
    /// One event.
    fn event(&self, event: &Event);

    /// Headers to send with each attempt of lookup `lookup`: the W3C `traceparent` and
    /// `tracestate` of its span. Only those two names are sent; anything else is ignored.
    fn propagation(&self, lookup: u32) -> Vec<(String, String)> {
        let _ = lookup;
        Vec::new()
    }
}

/// `rate_limit` with each count at most 2^53 - 1, so an event carrying it always converts to a
/// JavaScript object (a larger `X-RateLimit-*` value would make the whole event unconvertible).
pub fn js_safe(rate_limit: RateLimit) -> RateLimit {
    // The validator's bound for counts (2^53 - 1, the largest integer a JS number holds exactly).
    const MAX: u64 = crate::validate::MAX_SAFE_INTEGER as u64;
    RateLimit::new(rate_limit.limit.min(MAX), rate_limit.remaining.min(MAX), rate_limit.reset.min(MAX))
}

/// An [`Observer`] as options hold it: shared, compared by identity, shown as `Observer(..)`.
#[derive(Clone)]
pub struct ObserverRef {
    observer: std::rc::Rc<dyn Observer>,
    /// Which lookup of a call the events are about (see [`Event`]'s `lookup`).
    lookup: u32,
}

impl ObserverRef {
    /// Wraps an observer for [`ClientOptions`](crate::ClientOptions) or a call's options.
    pub fn new(observer: std::rc::Rc<dyn Observer>) -> ObserverRef {
        ObserverRef { observer, lookup: 0 }
    }

    /// Reports one event as it is (a proxy's route).
    #[cfg_attr(not(all(target_arch = "wasm32", feature = "proxy")), allow(dead_code))]
    pub(crate) fn event(&self, event: &Event) {
        self.observer.event(event);
    }

    /// The same observer, its events about lookup `lookup` of the call.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn at(&self, lookup: u32) -> ObserverRef {
        ObserverRef { observer: std::rc::Rc::clone(&self.observer), lookup }
    }
}

impl std::fmt::Debug for ObserverRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Observer(..)")
    }
}

impl PartialEq for ObserverRef {
    fn eq(&self, other: &ObserverRef) -> bool {
        std::rc::Rc::ptr_eq(&self.observer, &other.observer) && self.lookup == other.lookup
    }
}

impl Eq for ObserverRef {}

/// The headers [`Observer::propagation`] may add to a request.
pub const PROPAGATED_HEADERS: [&str; 2] = ["traceparent", "tracestate"];

/// Whether `(name, value)` may go upstream: one of [`PROPAGATED_HEADERS`] (any case), with a
/// value of visible ASCII at most 512 bytes long (W3C's limit for `tracestate`).
pub fn propagated(name: &str, value: &str) -> bool {
    PROPAGATED_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name))
        && value.len() <= 512
        && !value.is_empty()
        && value.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// [`Event::LookupStart`]'s `url_template`, `server_address` and `server_port` for a base URL
/// (already checked by [`crate::Config`]: no credentials, no query).
pub fn target_of(base_url: &str) -> (String, Option<String>, Option<u16>) {
    let (scheme, rest) = match base_url.split_once("://") {
        Some((s, rest)) => (Some(s.to_ascii_lowercase()), rest),
        None => (None, base_url),
    };
    let (authority, path) = match scheme {
        Some(_) => rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p)),
        None => ("", rest.trim_start_matches('/')),
    };
    let path = path.trim_end_matches('/');
    let template = if path.is_empty() { URL_TEMPLATE.to_owned() } else { format!("/{path}{URL_TEMPLATE}") };
    if authority.is_empty() {
        return (template, None, None);
    }
    // `[::1]:8080`, `host:8080`, `host`.
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => (h, p.parse::<u16>().ok()),
        _ => (authority, None),
    };
    let port = port.or(match scheme.as_deref() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    });
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    (template, Some(host), port)
}

impl ErrorKind {
    /// The JavaScript error class of this kind (OpenTelemetry's `error.type`).
    pub fn class_name(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "InvalidArgumentError",
            ErrorKind::Connection => "ConnectionError",
            ErrorKind::Timeout => "TimeoutError",
            ErrorKind::Aborted => "RequestAbortedError",
            ErrorKind::InvalidResponse => "InvalidResponseError",
            ErrorKind::Api => "ApiError",
            ErrorKind::BadRequest => "BadRequestError",
            ErrorKind::Authentication => "AuthenticationError",
            ErrorKind::PermissionDenied => "PermissionDeniedError",
            ErrorKind::NotFound => "NotFoundError",
            ErrorKind::RateLimit => "RateLimitError",
            ErrorKind::Server => "ServerError",
            ErrorKind::Store => "StoreError",
        }
    }
}

/// A lookup's observer (and its number in the call), as the request path uses it.
#[derive(Clone, Default)]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) struct Trace(pub(crate) Option<ObserverRef>);

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
impl Trace {
    /// Whether anyone listens.
    pub(crate) fn on(&self) -> bool {
        self.0.is_some()
    }

    /// Reports the event `make(lookup)` builds, when someone listens.
    pub(crate) fn emit(&self, make: impl FnOnce(u32) -> Event) {
        if let Some(o) = &self.0 {
            o.observer.event(&make(o.lookup));
        }
    }

    /// The propagation headers of this lookup that may be sent (see [`propagated`]).
    pub(crate) fn headers(&self) -> Vec<(String, String)> {
        let mut list = self.0.as_ref().map(|o| o.observer.propagation(o.lookup)).unwrap_or_default();
        list.retain(|(n, v)| propagated(n, v));
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = |u: &str| target_of(u);
        assert_eq!(t("https://api.powerpost.ai"), (URL_TEMPLATE.into(), Some("api.powerpost.ai".into()), Some(443)));
        assert_eq!(t("http://127.0.0.1:8787"), (URL_TEMPLATE.into(), Some("127.0.0.1".into()), Some(8787)));
        assert_eq!(t("http://[::1]:9/pp"), (format!("/pp{URL_TEMPLATE}"), Some("::1".into()), Some(9)));
        assert_eq!(t("http://[::1]"), (URL_TEMPLATE.into(), Some("::1".into()), Some(80)));
        assert_eq!(t("HTTPS://My-App.example/api/powerpost/"), (format!("/api/powerpost{URL_TEMPLATE}"), Some("my-app.example".into()), Some(443)));
        assert_eq!(t("/api/pp"), (format!("/api/pp{URL_TEMPLATE}"), None, None));
        assert_eq!(t("http://h:notaport"), (URL_TEMPLATE.into(), Some("h".into()), Some(80)));
    }

    #[test]
    fn only_trace_context_is_propagated() {
        assert!(propagated("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
        assert!(propagated("TraceState", "vendor=x"));
        for (n, v) in [("x-api-key", "k"), ("authorization", "Bearer x"), ("baggage", "a=b"), ("traceparent", ""), ("traceparent", "a\r\nx-api-key: k")] {
            assert!(!propagated(n, v), "{n}: {v:?}");
        }
        assert!(!propagated("tracestate", &"a".repeat(513)));
    }

    #[test]
    fn class_names_are_the_js_classes() {
        // The JS error classes (js/errors.js `CLASSES`) are what `error.type` must name.
        let js = include_str!("../js/errors.js");
        for kind in [
            ErrorKind::InvalidArgument, ErrorKind::Connection, ErrorKind::Timeout, ErrorKind::Aborted, ErrorKind::InvalidResponse,
            ErrorKind::Api, ErrorKind::BadRequest, ErrorKind::Authentication, ErrorKind::PermissionDenied, ErrorKind::NotFound,
            ErrorKind::RateLimit, ErrorKind::Server, ErrorKind::Store,
        ] {
            let line = format!("  {}: {},", kind.as_str(), kind.class_name());
            assert!(js.contains(&line), "js/errors.js maps {} to another class than {}", kind.as_str(), kind.class_name());
        }
    }

    #[test]
    fn rate_limits_in_events_fit_a_javascript_number() {
        let huge = RateLimit::new(u64::MAX, 1 << 60, (1 << 53) - 1);
        assert_eq!(js_safe(huge), RateLimit::new((1 << 53) - 1, (1 << 53) - 1, (1 << 53) - 1));
        assert_eq!(js_safe(RateLimit::new(1000, 3, 1_780_000_000)), RateLimit::new(1000, 3, 1_780_000_000));
    }

    #[test]
    fn events_serialize_with_a_type_tag() {
        let e = Event::Wait { lookup: 2, attempt: 3, ms: 1500, reason: WaitReason::RetryAfter };
        assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"type":"wait","lookup":2,"attempt":3,"ms":1500,"reason":"retry_after"}"#);
        let back: Event = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(back, e);
        for r in [WaitReason::RetryAfter, WaitReason::BodyRetryAfter, WaitReason::RateLimitReset, WaitReason::Backoff, WaitReason::BatchPause] {
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{}\"", r.as_str()));
        }
        assert_eq!(WaitReason::from(WaitSource::RetryAfterHeader), WaitReason::RetryAfter);
        assert_eq!(serde_json::to_string(&CacheResult::Shared).unwrap(), "\"shared\"");
    }
}
