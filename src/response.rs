//! What a completed HTTP response means: the validated analytics, or the typed error with the
//! server's code, message, request id, rate limit and wait hints. Pure, so every status and
//! body shape is tested natively.

use crate::config::{Opt, Surface};
use crate::error::{redact, Error, ErrorKind};
use crate::retry::WaitHints;
use crate::types::{PostItemAnalytics, RateLimit};
use crate::validate::{self, Field, Seen, MAX_BODY_BYTES};

/// The parts of a response the client reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponseMeta {
    /// HTTP status; 0 for an opaque redirect in browsers.
    pub status: u16,
    /// `x-request-id`.
    pub request_id: Option<String>,
    /// `Retry-After`.
    pub retry_after: Option<String>,
    /// `X-RateLimit-*`.
    pub rate_limit: Option<RateLimit>,
    /// `Location`, for redirects.
    pub location: Option<String>,
}

/// The body as read: complete, or abandoned once it passed the size limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// The whole body.
    Complete(Vec<u8>),
    /// More than [`MAX_BODY_BYTES`] arrived; reading stopped at `bytes_seen`.
    TooLarge {
        /// Bytes seen (or announced by `Content-Length`) when reading stopped.
        bytes_seen: u64,
    },
}

/// Interprets one response to a request for `post_item_id`. On failure, also returns what the
/// response said about waiting before a retry.
pub fn interpret(
    meta: &ResponseMeta,
    body: &Body,
    post_item_id: &str,
    secret: Option<&str>,
    now_ms: f64,
) -> Result<PostItemAnalytics, (Error, WaitHints)> {
    interpret_for(meta, body, post_item_id, secret, now_ms, Surface::Rust)
}

/// [`interpret`], with messages naming the options of `names`.
pub(crate) fn interpret_for(
    meta: &ResponseMeta,
    body: &Body,
    post_item_id: &str,
    secret: Option<&str>,
    now_ms: f64,
    names: Surface,
) -> Result<PostItemAnalytics, (Error, WaitHints)> {
    // A body carrying the key (a server echoing it, even spelt with JSON escapes) is read with
    // the key redacted: errors quote values shortened, and a shortened copy of the key would
    // escape redacting the error afterwards.
    let scrubbed = match body {
        Body::Complete(bytes) => scrubbed(bytes, secret),
        Body::TooLarge { .. } => None,
    };
    let result = if (200..300).contains(&meta.status) {
        let parsed = match body {
            Body::Complete(bytes) => {
                validate::parse_post_item_analytics(scrubbed.as_ref().map_or(bytes.as_slice(), |t| t.as_bytes()), Some(post_item_id))
            }
            Body::TooLarge { bytes_seen } => Err(Error::invalid_response(
                "$",
                "a JSON document of at most 1 MiB",
                &format!("a body of more than {MAX_BODY_BYTES} bytes ({bytes_seen} seen)"),
            )),
        };
        parsed.map_err(|mut e| {
            e.inner_mut().status = Some(meta.status);
            (e, WaitHints::default())
        })
    } else {
        Err(api_error(meta, body, secret, now_ms, names))
    };
    result.map_err(|(mut e, hints)| {
        let inner = e.inner_mut();
        if let Body::Complete(bytes) = body {
            let kept = scrubbed.as_ref().map_or(bytes.as_slice(), |t| t.as_bytes());
            inner.body = Some(crate::error::error_body(kept, secret));
        }
        inner.request_id = meta.request_id.as_deref().map(|r| redact(r, secret));
        inner.rate_limit = meta.rate_limit;
        inner.post_item_id = Some(post_item_id.to_owned());
        (e, hints)
    })
}

/// The body with the key redacted when it carries the key, as written or spelt with JSON
/// escapes (`\u0070`), which a reader would turn back into the key; `None` otherwise.
pub(crate) fn scrubbed(bytes: &[u8], secret: Option<&str>) -> Option<String> {
    let key = secret.filter(|k| !k.is_empty())?;
    let text = String::from_utf8_lossy(bytes);
    if text.contains(key) {
        return Some(redact(&text, Some(key)));
    }
    if text.contains('\\') {
        // The same JSON with plain characters (the parser's own output), or, for a body that
        // does not parse (cut short, an HTML page), the escapes decoded where they stand.
        let plain = validate::normalized_json(bytes).unwrap_or_else(|| unescape(&text));
        return plain.contains(key).then(|| redact(&plain, Some(key)));
    }
    None
}

/// `text` with every JSON escape decoded (`\uXXXX`, surrogate pairs, `\n`, `\"`, …) wherever it
/// stands; anything else, a lone surrogate or a bad escape included, is kept as it is.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let hex4 = |s: &str| s.get(..4).filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit())).and_then(|h| u32::from_str_radix(h, 16).ok());
    while let Some(at) = rest.find('\\') {
        out.push_str(rest.get(..at).unwrap_or_default());
        let after = rest.get(at + 1..).unwrap_or_default();
        let simple = match after.chars().next() {
            Some('"') => Some('"'),
            Some('\\') => Some('\\'),
            Some('/') => Some('/'),
            Some('b') => Some('\u{8}'),
            Some('f') => Some('\u{c}'),
            Some('n') => Some('\n'),
            Some('r') => Some('\r'),
            Some('t') => Some('\t'),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            rest = after.get(1..).unwrap_or_default();
            continue;
        }
        let unit = after.strip_prefix('u').and_then(hex4);
        let low = after.get(5..).and_then(|s| s.strip_prefix("\\u")).and_then(hex4).filter(|l| (0xDC00..0xE000).contains(l));
        let (c, used) = match (unit, low) {
            (Some(hi @ 0xD800..=0xDBFF), Some(lo)) => (char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)), 11),
            (Some(u), _) => (char::from_u32(u), 5),
            (None, _) => (None, 0),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = after.get(used..).unwrap_or_default();
            }
            None => {
                out.push('\\');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

pub(crate) struct Envelope {
    pub(crate) message: Option<String>,
    pub(crate) code: Option<String>,
    pub(crate) retry_after_secs: Option<f64>,
}

/// `{"error": {"message", "code", "retryAfter"}, "retryAfter"}` as sent; any part may be
/// missing or of another type (then it is ignored).
#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct WireEnvelope {
    error: Field<WireErrorObject>,
    #[serde(rename = "retryAfter")]
    retry_after: Field,
}

#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct WireErrorObject {
    message: Field,
    code: Field,
    #[serde(rename = "retryAfter")]
    retry_after: Field,
}

/// Reads PowerPost's error envelope; tolerant of missing parts. `None` when the body is not JSON.
pub(crate) fn envelope(bytes: &[u8]) -> Option<Envelope> {
    let doc = match validate::parse_body::<Field<WireEnvelope>>(bytes).ok()? {
        Field::Object(doc) => doc,
        _ => WireEnvelope::default(),
    };
    let retry_after_secs = number(&doc.retry_after);
    Some(match doc.error {
        Field::Object(e) => Envelope {
            retry_after_secs: retry_after_secs.or_else(|| number(&e.retry_after)),
            message: text(e.message),
            code: text(e.code),
        },
        // `{"error": "text"}`
        other => Envelope { message: text(other), code: None, retry_after_secs },
    })
}

fn text<T>(f: Field<T>) -> Option<String> {
    match f {
        Field::Value(Seen::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    }
}

fn number<T>(f: &Field<T>) -> Option<f64> {
    match f {
        Field::Value(Seen::Unsigned(n)) => Some(*n as f64),
        Field::Value(Seen::Negative(n)) => Some(*n as f64),
        Field::Value(Seen::Float(n)) => Some(*n),
        _ => None,
    }
}

fn api_error(meta: &ResponseMeta, body: &Body, secret: Option<&str>, now_ms: f64, names: Surface) -> (Error, WaitHints) {
    let status = meta.status;
    let kind = ErrorKind::from_status(status);
    if status == 0 || (300..400).contains(&status) {
        let shown = if status == 0 { "a redirect".to_owned() } else { format!("a redirect (HTTP {status})") };
        let to = meta
            .location
            .as_deref()
            .map(|l| format!(" to {}", crate::error::describe_str(&redact(l, secret))))
            .unwrap_or_default();
        let mut e = Error::new(
            ErrorKind::Api,
            format!(
                "The server answered with {shown}{to}. Redirects are not followed, so the API key cannot be carried \
                 to another address: set {} to the final address.",
                names.name(Opt::BaseUrl)
            ),
        );
        e.inner_mut().status = Some(status);
        return (e, WaitHints::default());
    }
    let env = match body {
        Body::Complete(bytes) => envelope(bytes),
        Body::TooLarge { .. } => None,
    };
    let (server_message, code, body_retry) = match &env {
        Some(e) => (e.message.as_deref().map(|m| redact(m, secret)), e.code.as_deref().map(|c| redact(c, secret)), e.retry_after_secs),
        None => (None, None, None),
    };
    let hints = WaitHints {
        retry_after_header: meta.retry_after.clone(),
        body_retry_after_secs: body_retry,
        rate_limit: meta.rate_limit,
    };
    let retry_after_ms = if kind == ErrorKind::RateLimit || status == 503 { hints.server_wait_ms(now_ms) } else { None };

    let mut msg = format!("PowerPost API error {status}");
    if let Some(c) = &code {
        msg.push(' ');
        msg.push_str(c);
    }
    match (&server_message, body) {
        (Some(m), _) => {
            msg.push_str(": ");
            msg.push_str(m.trim_end_matches('.'));
            msg.push('.');
        }
        (None, Body::Complete(b)) if b.trim_ascii().is_empty() => msg.push_str(" with an empty body."),
        (None, Body::Complete(b)) if b.trim_ascii_start().first() == Some(&b'<') => {
            msg.push_str(" with an HTML body (often a proxy or gateway page), not PowerPost's JSON error.")
        }
        (None, _) if env.is_some() => msg.push('.'),
        (None, _) => msg.push_str(" with a body that is not PowerPost's JSON error."),
    }
    let hint = match kind {
        ErrorKind::BadRequest => format!(
            " Check the request: the X-Workspace-Id header ({} / POWERPOST_WORKSPACE_ID) is required.",
            names.name(Opt::WorkspaceId)
        ),
        ErrorKind::Authentication => format!(" Check the API key ({} / POWERPOST_API_KEY).", names.name(Opt::ApiKey)),
        ErrorKind::PermissionDenied => {
            " The key lacks a scope for this endpoint, or the workspace is not owned by its account.".into()
        }
        ErrorKind::NotFound => " The post item does not exist or belongs to another workspace.".into(),
        ErrorKind::RateLimit => " Rate limit exceeded: slow down or wait for the reset.".into(),
        ErrorKind::Server => " The problem is on the server side; trying again later may help.".into(),
        _ => String::new(),
    };
    msg.push_str(&hint);
    if let Some(ms) = retry_after_ms {
        msg.push_str(&format!(" The server asked to wait {}.", fmt_wait(ms)));
    }
    let mut e = Error::new(kind, msg);
    let inner = e.inner_mut();
    inner.status = Some(status);
    inner.code = code;
    inner.retry_after_ms = retry_after_ms;
    (e, hints)
}

/// `1.5 s`, `250 ms`, `2 min`.
pub(crate) fn fmt_wait(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 120_000 {
        let tenths = ms / 100;
        if tenths % 10 == 0 {
            format!("{} s", tenths / 10)
        } else {
            format!("{}.{} s", tenths / 10, tenths % 10)
        }
    } else {
        format!("{} min", ms.div_ceil(60_000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "pp_live_sk_SECRET";

    fn meta(status: u16) -> ResponseMeta {
        ResponseMeta { status, request_id: Some("req_1".into()), ..ResponseMeta::default() }
    }

    fn err(status: u16, body: &str) -> Error {
        interpret(&meta(status), &Body::Complete(body.as_bytes().to_vec()), "item-1", Some(KEY), 0.0)
            .unwrap_err()
            .0
    }

    fn envelope_body(code: &str, message: &str) -> String {
        format!(r#"{{"error":{{"message":"{message}","code":"{code}"}}}}"#)
    }

    #[test]
    fn every_status_class() {
        for (status, kind, code) in [
            (400, ErrorKind::BadRequest, "VALIDATION_ERROR"),
            (401, ErrorKind::Authentication, "INVALID_API_KEY"),
            (402, ErrorKind::Api, "INSUFFICIENT_CREDITS"),
            (403, ErrorKind::PermissionDenied, "INSUFFICIENT_SCOPE"),
            (404, ErrorKind::NotFound, "NOT_FOUND"),
            (409, ErrorKind::Api, "ALREADY_PUBLISHED"),
            (422, ErrorKind::Api, "PLATFORM_NOT_CONNECTED"),
            (429, ErrorKind::RateLimit, "RATE_LIMIT_EXCEEDED"),
            (500, ErrorKind::Server, "INTERNAL_ERROR"),
        ] {
            let e = err(status, &envelope_body(code, "Something specific"));
            assert_eq!(e.kind(), kind, "{status}");
            assert_eq!(e.status(), Some(status));
            assert_eq!(e.code(), Some(code));
            assert_eq!(e.request_id(), Some("req_1"));
            assert_eq!(e.post_item_id(), Some("item-1"));
            assert!(e.message().contains("Something specific"), "{e}");
            assert!(e.message().contains(&status.to_string()) && e.message().contains(code), "{e}");
        }
    }

    #[test]
    fn html_empty_and_odd_error_bodies() {
        let e = err(502, "<html><body><h1>502 Bad Gateway</h1></body></html>");
        assert_eq!(e.kind(), ErrorKind::Server);
        assert!(e.message().contains("HTML"), "{e}");
        assert!(!e.message().contains("Bad Gateway</h1>"));
        assert_eq!(e.code(), None);
        let e = err(503, "");
        assert!(e.message().contains("empty body"), "{e}");
        let e = err(500, "{\"error\":");
        assert!(e.message().contains("not PowerPost's JSON error"), "{e}");
        let e = err(500, "{}");
        assert_eq!(e.message(), "PowerPost API error 500. The problem is on the server side; trying again later may help.");
    }

    #[test]
    fn rate_limit_wait_from_header_or_body() {
        let mut m = meta(429);
        m.retry_after = Some("2".into());
        let body = Body::Complete(br#"{"error":{"message":"Slow down","code":"RATE_LIMIT_EXCEEDED"},"retryAfter":5}"#.to_vec());
        let (e, hints) = interpret(&m, &body, "i", None, 0.0).unwrap_err();
        assert_eq!(e.retry_after_ms(), Some(2000));
        assert_eq!(hints.body_retry_after_secs, Some(5.0));
        assert!(e.message().contains("wait 2 s"), "{e}");
        m.retry_after = None;
        let (e, _) = interpret(&m, &body, "i", None, 0.0).unwrap_err();
        assert_eq!(e.retry_after_ms(), Some(5000));
        let nested = Body::Complete(br#"{"error":{"message":"x","code":"RATE_LIMIT_EXCEEDED","retryAfter":1}}"#.to_vec());
        assert_eq!(interpret(&m, &nested, "i", None, 0.0).unwrap_err().0.retry_after_ms(), Some(1000));
    }

    #[test]
    fn server_text_is_redacted() {
        let e = err(401, &envelope_body("INVALID_API_KEY", &format!("Key {KEY} is revoked")));
        assert!(!e.message().contains(KEY));
        assert!(e.message().contains("[redacted]"));
        assert!(e.body().unwrap().contains("Key [redacted] is revoked"), "{:?}", e.body());
    }

    #[test]
    fn a_server_echoing_the_key_cannot_put_it_or_a_prefix_of_it_into_an_error() {
        let long_key = format!("pp_live_sk_{}", "L".repeat(61));
        for key in [KEY.to_owned(), long_key] {
            let mut m = meta(200);
            m.request_id = Some(format!("req-{key}"));
            let mismatch = format!(r#"{{"post_item_id":"{key}","post_type":"t","platform":"p","status":"x","metrics":null}}"#);
            let shape = format!(r#"{{"post_item_id":"i","post_type":5,"platform":"{key}","status":"x","metrics":null}}"#);
            for body in [mismatch, shape] {
                let (e, _) = interpret(&m, &Body::Complete(body.into_bytes()), "i", Some(&key), 0.0).unwrap_err();
                let shown = format!("{e} {e:?} {:?} {:?} {:?}", e.received(), e.request_id(), e.body());
                assert!(!shown.contains(&key[..key.len().min(24)]), "{shown}");
            }
            let (e, _) = interpret(&m, &Body::Complete(b"{}".to_vec()), "i", Some(&key), 0.0).unwrap_err();
            assert_eq!(e.request_id(), Some("req-[redacted]"));
        }
    }

    #[test]
    fn a_key_spelt_with_json_escapes_is_found_and_redacted() {
        let escaped: String = KEY.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
        let body = format!(r#"{{"post_item_id":"{escaped}","post_type":"t","platform":"p","status":"x","metrics":null}}"#);
        let (e, _) = interpret(&meta(200), &Body::Complete(body.into_bytes()), "i", Some(KEY), 0.0).unwrap_err();
        let shown = format!("{e} {e:?} {:?} {:?}", e.received(), e.body());
        assert!(!shown.contains(&KEY[..12]) && shown.contains("[redacted]"), "{shown}");
        let body = format!(r#"{{"error":{{"message":"bad key {escaped}","code":"INVALID_API_KEY"}}}}"#);
        let e = err(401, &body);
        let shown = format!("{e} {e:?} {:?}", e.body());
        assert!(!shown.contains(&KEY[..12]), "{shown}");
    }

    #[test]
    fn a_key_spelt_with_escapes_in_a_body_that_is_not_json_is_redacted_too() {
        let key = "pp_live_sk_CANARY0123456789abcdefghijklmnopqrstuvwxyzAB";
        let esc = |c: char| format!("\\u{:04x}", c as u32);
        let all: String = key.chars().map(esc).collect();
        // Cut short, so it does not parse: the escapes must still be read before redacting.
        let truncated = format!(r#"{{"error":{{"message":"bad key {all}"#);
        // One escaped character in an HTML page hides the key from a plain search.
        let (head, tail) = key.split_at(11);
        let first = tail.chars().next().unwrap();
        let html = format!("<html><body>key {head}{}{} rejected</body></html>", esc(first), &tail[1..]);
        for (status, body) in [(401, truncated.clone()), (502, html.clone()), (200, truncated), (200, html)] {
            let (e, _) = interpret(&meta(status), &Body::Complete(body.into_bytes()), "i", Some(key), 0.0).unwrap_err();
            let shown = format!("{e} {e:?} {:?}", e.body());
            assert!(!shown.contains(&all[..18]) && !shown.contains(&tail[1..]) && !shown.contains("CANARY"), "{status}: {shown}");
            assert!(shown.contains("[redacted]"), "{status}: {shown}");
        }
        assert_eq!(unescape(r#"a\u00e9\ud83d\ude00 \"q\" \x \ud83d \u12"#), "aé😀 \"q\" \\x \\ud83d \\u12");
    }

    #[test]
    fn the_body_as_sent_is_kept_on_errors_from_a_response() {
        let body = r#"{"error":{"message":"Nope","code":"NOT_FOUND","hint":"unmodelled"}}"#;
        assert_eq!(err(404, body).body(), Some(body));
        let (e, _) = interpret(&meta(200), &Body::Complete(b"<html>".to_vec()), "i", None, 0.0).unwrap_err();
        assert_eq!(e.body(), Some("<html>"));
        let (e, _) = interpret(&meta(200), &Body::TooLarge { bytes_seen: 2_000_000 }, "i", None, 0.0).unwrap_err();
        assert_eq!(e.body(), None);
    }

    #[test]
    fn redirects_are_errors_that_say_why() {
        let mut m = meta(302);
        m.location = Some("https://evil.example/steal".into());
        let (e, _) = interpret(&m, &Body::Complete(vec![]), "i", Some(KEY), 0.0).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Api);
        assert_eq!(e.status(), Some(302));
        assert!(e.message().contains("not followed") && e.message().contains("evil.example"), "{e}");
        let (e, _) = interpret(&meta(0), &Body::Complete(vec![]), "i", Some(KEY), 0.0).unwrap_err();
        assert!(e.message().contains("redirect"));
    }

    #[test]
    fn success_is_validated_with_status_on_failure() {
        let good = br#"{"post_item_id":"i","post_type":"t","platform":"p","status":"draft","metrics":null}"#;
        assert!(interpret(&meta(200), &Body::Complete(good.to_vec()), "i", None, 0.0).is_ok());
        let (e, _) = interpret(&meta(200), &Body::Complete(good.to_vec()), "other", None, 0.0).unwrap_err();
        assert_eq!((e.kind(), e.path(), e.status()), (ErrorKind::InvalidResponse, Some("post_item_id"), Some(200)));
        assert_eq!(e.request_id(), Some("req_1"));
        let (e, _) = interpret(&meta(200), &Body::TooLarge { bytes_seen: 2_000_000 }, "i", None, 0.0).unwrap_err();
        assert_eq!((e.kind(), e.path()), (ErrorKind::InvalidResponse, Some("$")));
    }

    #[test]
    fn waits_read_well() {
        assert_eq!(fmt_wait(250), "250 ms");
        assert_eq!(fmt_wait(2000), "2 s");
        assert_eq!(fmt_wait(1500), "1.5 s");
        assert_eq!(fmt_wait(600_000), "10 min");
    }
}
