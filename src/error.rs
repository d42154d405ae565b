//! The one error type of the crate: [`Error`], classified by [`ErrorKind`].

use std::fmt::{self, Write as _};

use crate::types::RateLimit;

/// What went wrong, in the categories a caller acts on.
///
/// The JavaScript surface maps each kind to an error class (`NotFoundError` for
/// [`ErrorKind::NotFound`], …) and exposes [`ErrorKind::as_str`] as the `kind` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "snake_case"))] #[non_exhaustive]
pub enum ErrorKind {
    /// Bad input or configuration, detected before anything was sent.
    InvalidArgument,
    /// `fetch` itself failed: DNS, refused or reset connection, CORS.
    Connection,
    /// An attempt took longer than the configured timeout.
    Timeout,
    /// The caller's abort signal fired.
    Aborted,
    /// The body was not JSON, or its shape was not the documented one.
    InvalidResponse,
    /// Any other non-2xx status (and redirects, which are never followed).
    Api,
    /// HTTP 400.
    BadRequest,
    /// HTTP 401.
    Authentication,
    /// HTTP 403.
    PermissionDenied,
    /// HTTP 404.
    NotFound,
    /// HTTP 429.
    RateLimit,
    /// HTTP 5xx.
    Server,
    /// The history store failed or did not answer in time (reading a history; lookups never
    /// fail because of a store).
    Store,
}

impl ErrorKind {
    /// The stable snake_case name, as in the JavaScript `kind` field.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::Connection => "connection",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Aborted => "aborted",
            ErrorKind::InvalidResponse => "invalid_response",
            ErrorKind::Api => "api",
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::Authentication => "authentication",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::NotFound => "not_found",
            ErrorKind::RateLimit => "rate_limit",
            ErrorKind::Server => "server",
            ErrorKind::Store => "store",
        }
    }

    /// The kind for a non-2xx HTTP status.
    pub fn from_status(status: u16) -> ErrorKind {
        match status {
            400 => ErrorKind::BadRequest,
            401 => ErrorKind::Authentication,
            403 => ErrorKind::PermissionDenied,
            404 => ErrorKind::NotFound,
            429 => ErrorKind::RateLimit,
            500..=599 => ErrorKind::Server,
            _ => ErrorKind::Api,
        }
    }

    /// Whether the error came from an HTTP error response (`ApiError` and its subclasses).
    pub fn is_api(self) -> bool {
        matches!(
            self,
            ErrorKind::Api
                | ErrorKind::BadRequest
                | ErrorKind::Authentication
                | ErrorKind::PermissionDenied
                | ErrorKind::NotFound
                | ErrorKind::RateLimit
                | ErrorKind::Server
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from the PowerPost analytics client.
///
/// Opaque on purpose (like `reqwest::Error`): ask it with [`Error::kind`], the `is_*`
/// predicates and the field accessors. Its `Display` is a complete sentence that says what
/// to do; it never contains the API key.
///
/// ```
/// use powerpost_analytics::{parse_post_item_analytics, ErrorKind};
///
/// let err = parse_post_item_analytics(br#"{"post_item_id": 5}"#, None).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidResponse);
/// assert_eq!(err.path(), Some("post_item_id"));
/// assert_eq!(err.received(), Some("number 5"));
/// ```
#[derive(Clone)]
pub struct Error {
    inner: Box<Inner>,
}

#[derive(Clone)]
pub(crate) struct Inner {
    pub(crate) kind: ErrorKind,
    pub(crate) message: String,
    pub(crate) status: Option<u16>,
    pub(crate) code: Option<String>,
    pub(crate) request_id: Option<String>,
    pub(crate) path: Option<String>,
    pub(crate) expected: Option<String>,
    pub(crate) received: Option<String>,
    pub(crate) retry_after_ms: Option<u64>,
    pub(crate) attempts: u32,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) post_item_id: Option<String>,
    pub(crate) cause: Option<String>,
    /// What the runtime reported, as a chain of causes (`TypeError: fetch failed` caused by
    /// `connect ECONNREFUSED …`): [`std::error::Error::source`].
    pub(crate) source: Option<Cause>,
    /// The value the JavaScript runtime threw or rejected with, for the JS surface's `cause`.
    #[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
    pub(crate) js_cause: Option<JsCause>,
    /// The response's headers (lower-case names), for errors from a response.
    pub(crate) headers: Option<Vec<(String, String)>>,
    /// The response's body as sent (capped, the key redacted), for errors from a response.
    pub(crate) body: Option<String>,
}

/// One link of a cause chain reported by the runtime: its text (`TypeError: fetch failed`),
/// its `code` when it has one (`ECONNREFUSED`), and what caused it in turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cause {
    pub(crate) text: String,
    pub(crate) code: Option<String>,
    pub(crate) source: Option<Box<Cause>>,
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) if !self.text.contains(code.as_str()) => write!(f, "{} ({code})", self.text),
            _ => f.write_str(&self.text),
        }
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|c| c as &(dyn std::error::Error + 'static))
    }
}

/// A JavaScript value kept inside an [`Error`] for the JS surface.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[derive(Clone)]
pub(crate) struct JsCause(#[cfg_attr(not(feature = "js"), allow(dead_code))] pub(crate) wasm_bindgen::JsValue);

// SAFETY: without the `atomics` target feature a wasm32 module has exactly one thread, so the
// value is never reached from another; this keeps `Error: Send + Sync` for Rust users (anyhow,
// `Box<dyn Error + Send + Sync>`). With `atomics` the field does not exist.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
unsafe impl Send for JsCause {}
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
unsafe impl Sync for JsCause {}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                status: None,
                code: None,
                request_id: None,
                path: None,
                expected: None,
                received: None,
                retry_after_ms: None,
                attempts: 0,
                rate_limit: None,
                post_item_id: None,
                cause: None,
                source: None,
                #[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
                js_cause: None,
                headers: None,
                body: None,
            }),
        }
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    pub(crate) fn invalid_response(path: &str, expected: &str, received: &str) -> Error {
        let mut err = Error::new(
            ErrorKind::InvalidResponse,
            format!("The PowerPost API returned an unexpected response: at `{path}` expected {expected}, found {received}."),
        );
        err.inner.path = Some(path.to_owned());
        err.inner.expected = Some(expected.to_owned());
        err.inner.received = Some(received.to_owned());
        err
    }

    pub(crate) fn inner_mut(&mut self) -> &mut Inner {
        &mut self.inner
    }

    #[cfg_attr(not(feature = "js"), allow(dead_code))]
    pub(crate) fn inner_ref(&self) -> &Inner {
        &self.inner
    }

    /// The category of the error.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The human-readable explanation (the same text as `Display`).
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// Whether repeating the same request later may succeed (connection failures, timeouts,
    /// 408, 429 and 500/502/503/504).
    pub fn is_retryable(&self) -> bool {
        match self.kind() {
            ErrorKind::Connection | ErrorKind::Timeout | ErrorKind::RateLimit | ErrorKind::Store => true,
            _ => matches!(self.inner.status, Some(408 | 500 | 502 | 503 | 504)),
        }
    }

    /// True for bad input or configuration.
    pub fn is_invalid_argument(&self) -> bool {
        self.kind() == ErrorKind::InvalidArgument
    }

    /// True for connection failures, including timeouts.
    pub fn is_connection(&self) -> bool {
        matches!(self.kind(), ErrorKind::Connection | ErrorKind::Timeout)
    }

    /// True when an attempt timed out.
    pub fn is_timeout(&self) -> bool {
        self.kind() == ErrorKind::Timeout
    }

    /// True when the caller aborted the request.
    pub fn is_aborted(&self) -> bool {
        self.kind() == ErrorKind::Aborted
    }

    /// True when the response body was not the documented JSON.
    pub fn is_invalid_response(&self) -> bool {
        self.kind() == ErrorKind::InvalidResponse
    }

    /// True when the history store failed.
    pub fn is_store(&self) -> bool {
        self.kind() == ErrorKind::Store
    }

    /// True for any HTTP error response.
    pub fn is_api(&self) -> bool {
        self.kind().is_api()
    }

    /// The HTTP status, for API errors and invalid responses.
    pub fn status(&self) -> Option<u16> {
        self.inner.status
    }

    /// The server's `error.code` (e.g. `NOT_FOUND`), when the body carried one.
    pub fn code(&self) -> Option<&str> {
        self.inner.code.as_deref()
    }

    /// The `x-request-id` response header, when present: quote it to PowerPost support.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// For invalid responses: where in the body the first problem is (`$` is the root).
    pub fn path(&self) -> Option<&str> {
        self.inner.path.as_deref()
    }

    /// For invalid responses: what was expected at [`Error::path`].
    pub fn expected(&self) -> Option<&str> {
        self.inner.expected.as_deref()
    }

    /// For invalid responses: a short description of what was found (never the whole body).
    pub fn received(&self) -> Option<&str> {
        self.inner.received.as_deref()
    }

    /// For rate-limit errors: how long the server asked to wait, in milliseconds.
    pub fn retry_after_ms(&self) -> Option<u64> {
        self.inner.retry_after_ms
    }

    /// How many HTTP requests were made (0 when nothing was sent).
    pub fn attempts(&self) -> u32 {
        self.inner.attempts
    }

    /// The rate-limit headers of the response that failed, when present.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.inner.rate_limit
    }

    /// The post item id the request was for, when known.
    pub fn post_item_id(&self) -> Option<&str> {
        self.inner.post_item_id.as_deref()
    }

    /// For connection errors: what the runtime reported (e.g. `TypeError: fetch failed`).
    pub fn cause(&self) -> Option<&str> {
        self.inner.cause.as_deref()
    }

    /// For errors from an HTTP response: its headers, names in lower case (the key is a
    /// request header and never among them; values that echo it are redacted).
    pub fn headers(&self) -> Option<&[(String, String)]> {
        self.inner.headers.as_deref()
    }

    /// For errors from an HTTP response: its body as sent (at most 8 KiB, the key redacted),
    /// e.g. PowerPost's `{"error": {...}}` with fields this crate does not model.
    pub fn body(&self) -> Option<&str> {
        self.inner.body.as_deref()
    }

    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn with_post_item_id(mut self, id: &str) -> Error {
        self.inner.post_item_id = Some(id.to_owned());
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind()).field("message", &i.message);
        if let Some(s) = i.status {
            d.field("status", &s);
        }
        if let Some(c) = &i.code {
            d.field("code", c);
        }
        if let Some(p) = &i.path {
            d.field("path", p);
        }
        if let Some(r) = &i.request_id {
            d.field("request_id", r);
        }
        d.field("attempts", &i.attempts);
        if let Some(c) = &i.source {
            d.field("source", c);
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source.as_ref().map(|c| c as &(dyn std::error::Error + 'static))
    }
}

/// Longest response body kept on an error.
pub(crate) const MAX_ERROR_BODY_BYTES: usize = 8 * 1024;

/// A response body for an error: lossy UTF-8, cut at [`MAX_ERROR_BODY_BYTES`] on a character
/// boundary, the key redacted.
pub(crate) fn error_body(body: &[u8], secret: Option<&str>) -> String {
    // Redacted before it is cut, so that no part of a key can stay at the cut.
    let text = redact(&String::from_utf8_lossy(body), secret);
    let kept = cut(&text, MAX_ERROR_BODY_BYTES);
    if kept.len() < text.len() {
        format!("{kept}…")
    } else {
        text
    }
}

/// The first `max` bytes of `text` at most, cut on a character boundary.
pub(crate) fn cut(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

/// A short, bounded description of a string for error messages: never the whole input, and
/// never the credentials of a URL (`https://user:password@host` is shown as
/// `https://[credentials]@host`).
pub(crate) fn describe_str(s: &str) -> String {
    const MAX: usize = 40;
    let s = without_userinfo(s);
    let mut out = String::from("\"");
    for (n, ch) in s.chars().enumerate() {
        if n == MAX {
            out.push('…');
            break;
        }
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `s` with the userinfo of a URL (`scheme://userinfo@host`) replaced by `[credentials]`.
fn without_userinfo(s: &str) -> std::borrow::Cow<'_, str> {
    let Some(start) = s.find("://").map(|i| i + 3) else { return s.into() };
    let rest = s.get(start..).unwrap_or_default();
    let authority = rest.find(['/', '?', '#']).map_or(rest, |end| rest.get(..end).unwrap_or_default());
    match (authority.rfind('@'), s.get(..start), rest.get(authority.len()..)) {
        (Some(at), Some(scheme), Some(path)) => {
            format!("{scheme}[credentials]{}{path}", authority.get(at..).unwrap_or_default()).into()
        }
        _ => s.into(),
    }
}

/// Removes every occurrence of `secret` from `text`; used on anything the server sends back
/// so that a server echoing the key cannot put it into an error.
pub(crate) fn redact(text: &str, secret: Option<&str>) -> String {
    match secret.filter(|k| !k.is_empty()) {
        Some(key) => text.replace(key, "[redacted]"),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_maps_to_kind() {
        assert_eq!(ErrorKind::from_status(400), ErrorKind::BadRequest);
        assert_eq!(ErrorKind::from_status(401), ErrorKind::Authentication);
        assert_eq!(ErrorKind::from_status(403), ErrorKind::PermissionDenied);
        assert_eq!(ErrorKind::from_status(404), ErrorKind::NotFound);
        assert_eq!(ErrorKind::from_status(429), ErrorKind::RateLimit);
        assert_eq!(ErrorKind::from_status(503), ErrorKind::Server);
        assert_eq!(ErrorKind::from_status(409), ErrorKind::Api);
        assert_eq!(ErrorKind::from_status(302), ErrorKind::Api);
    }

    #[test]
    fn retryable_follows_the_table() {
        let mut e = Error::new(ErrorKind::Api, "x");
        e.inner.status = Some(408);
        assert!(e.is_retryable());
        e.inner.status = Some(409);
        assert!(!e.is_retryable());
        let mut s = Error::new(ErrorKind::Server, "x");
        s.inner.status = Some(501);
        assert!(!s.is_retryable(), "501 Not Implemented will not change on retry");
        s.inner.status = Some(503);
        assert!(s.is_retryable());
        assert!(Error::new(ErrorKind::Timeout, "t").is_retryable());
        assert!(!Error::new(ErrorKind::InvalidResponse, "t").is_retryable());
        assert!(!Error::new(ErrorKind::NotFound, "t").is_retryable());
        // The client asks the error, not the status table: the two must agree on every status.
        for status in 100..600 {
            let mut e = Error::new(ErrorKind::from_status(status), "x");
            e.inner.status = Some(status);
            assert_eq!(e.is_retryable(), crate::retry::is_retryable_status(status), "HTTP {status}");
        }
    }

    #[test]
    fn describe_str_is_bounded_and_escaped() {
        assert_eq!(describe_str("12"), "\"12\"");
        assert_eq!(describe_str("a\"b\n"), "\"a\\\"b\\u{a}\"");
        let long = "x".repeat(10_000);
        assert!(describe_str(&long).chars().count() < 50);
    }

    #[test]
    fn no_quoted_value_carries_url_credentials() {
        use crate::config::{ClientOptions, Config, Env, Runtime};
        for url in ["https://svc:s3cr3t@api.example.com", "http://s3cr3t@127.0.0.1:9/x", "HTTPS://svc:s3cr3t@h/p?q"] {
            let e = Config::resolve(ClientOptions::new().api_key("k").workspace_id("w").base_url(url), &Env::default(), Runtime::Server).unwrap_err();
            assert!(!e.message().contains("s3cr3t") && e.message().contains("credentials"), "{e}");
            let env = Env { base_url: Some(url.to_owned()), ..Env::default() };
            let e = Config::resolve(ClientOptions::new().api_key("k").workspace_id("w"), &env, Runtime::Server).unwrap_err();
            assert!(!e.message().contains("s3cr3t"), "{e}");
        }
        assert_eq!(describe_str("https://u:p@h/x@y"), "\"https://[credentials]@h/x@y\"");
        assert_eq!(describe_str("mailto:a@b"), "\"mailto:a@b\"");
        assert_eq!(describe_str("https://h/p@x"), "\"https://h/p@x\"");
    }

    #[test]
    fn redact_removes_every_occurrence() {
        for (text, key, want) in [
            ("kk", "k", "[redacted][redacted]"),
            ("pp_live_sk_1pp_live_sk_1", "pp_live_sk_1", "[redacted][redacted]"),
            ("aaab", "aab", "a[redacted]"),
            ("abc", "abcd", "abc"),
        ] {
            assert_eq!(redact(text, Some(key)), want, "{text:?} / {key:?}");
        }
    }

    #[test]
    fn the_cause_chain_is_the_source_chain_and_shows_in_debug() {
        use std::error::Error as _;
        let mut e = Error::new(ErrorKind::Connection, "Could not reach the PowerPost API");
        e.inner.source = Some(Cause {
            text: "TypeError: fetch failed".into(),
            code: None,
            source: Some(Box::new(Cause { text: "connect ECONNREFUSED 127.0.0.1:9".into(), code: Some("ECONNREFUSED".into()), source: None })),
        });
        let first = e.source().unwrap();
        assert_eq!(first.to_string(), "TypeError: fetch failed");
        assert_eq!(first.source().unwrap().to_string(), "connect ECONNREFUSED 127.0.0.1:9");
        assert!(format!("{e:?}").contains("ECONNREFUSED"));
        let coded = Cause { text: "certificate has expired".into(), code: Some("CERT_HAS_EXPIRED".into()), source: None };
        assert_eq!(coded.to_string(), "certificate has expired (CERT_HAS_EXPIRED)");
    }

    #[test]
    fn error_bodies_are_capped_on_a_character_boundary_and_redacted() {
        let body = format!("{{\"k\":\"pp_live_sk_X\"}}{}", "é".repeat(MAX_ERROR_BODY_BYTES));
        let kept = error_body(body.as_bytes(), Some("pp_live_sk_X"));
        assert!(kept.starts_with("{\"k\":\"[redacted]\"}") && kept.ends_with('…'), "{}", &kept[..40]);
        assert!(kept.len() <= MAX_ERROR_BODY_BYTES + 20);
        assert_eq!(error_body(b"short", None), "short");
    }

    #[test]
    fn errors_are_send_and_sync() {
        fn check<T: Send + Sync + 'static>() {}
        check::<Error>();
    }

    #[test]
    fn redact_removes_the_key() {
        let out = redact("bad key pp_live_sk_abc here", Some("pp_live_sk_abc"));
        assert_eq!(out, "bad key [redacted] here");
        assert_eq!(redact("x", None), "x");
        assert_eq!(redact("x", Some("")), "x");
    }

    #[test]
    fn debug_and_display_show_the_fields_and_never_the_key() {
        // Built the way the response path builds it: from a 401 whose server echoed the key in
        // its message, its code, its request id and its body.
        use crate::response::{interpret, Body, ResponseMeta};
        let key = "pp_live_sk_CANARY";
        let body = format!(r#"{{"error":{{"message":"bad key {key}","code":"KEY_{key}"}},"echo":"{key}"}}"#);
        let meta = ResponseMeta { status: 401, request_id: Some(format!("req_{key}")), ..ResponseMeta::default() };
        let (e, _) = interpret(&meta, &Body::Complete(body.into_bytes()), "p1", Some(key), 0.0).unwrap_err();
        // The key was there to leak: each field carries the server's words, redacted.
        assert_eq!((e.code(), e.request_id()), (Some("KEY_[redacted]"), Some("req_[redacted]")));
        assert!(e.body().is_some_and(|b| b.contains(r#""echo":"[redacted]""#)), "{:?}", e.body());
        let d = format!("{e:?}");
        assert!(d.contains("Authentication") && d.contains("401") && d.contains("bad key [redacted]"), "{d}");
        assert!(d.contains("KEY_[redacted]") && d.contains("req_[redacted]"), "{d}");
        assert!(!d.contains(key), "{d}");
        let shown = e.to_string();
        assert!(shown.contains("bad key [redacted]") && !shown.contains(key), "{shown}");
    }
}
