//! Turns a JSON document into [`PostItemAnalytics`], or into an [`Error`] that names the first
//! bad field by path, what was expected there and what was found.
//!
//! The rules are written once, against the small [`Doc`] view of a [`json::Value`]: a body parsed
//! in Rust and a value handed over from JavaScript (copied field by field into a `Value`) go
//! through the same code, compiled once.

use crate::error::{describe_str, Error};
use crate::json::{self, Value};
use crate::text::{cat, num, push_num};
use crate::types::{Metrics, PostItemAnalytics, PostStatus};

/// Bodies larger than this are rejected without being kept in memory.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Largest count that survives a round trip through a JavaScript number (2^53 − 1).
pub const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// What a JSON-like value is, as far as validation cares.
pub(crate) enum Node<S> {
    Null,
    Bool(bool),
    Number(f64),
    String(S),
    Array,
    Object,
    /// Something JSON cannot hold (a JS function, symbol, bigint, a throwing getter…).
    Other(&'static str),
}

/// A read-only view of a JSON-like document.
pub(crate) trait Doc: Sized {
    type Str: AsRef<str>;
    fn node(&self) -> Node<Self::Str>;
    /// The value of `key` when `self` is an object; `None` when the key is absent
    /// (or `undefined` in JavaScript).
    fn get(&self, key: &str) -> Option<Self>;
}

impl<'a> Doc for &'a Value {
    type Str = &'a str;
    fn node(&self) -> Node<&'a str> {
        match *self {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) if n.is_finite() => Node::Number(*n),
            Value::Number(_) => Node::Other("a number out of range"),
            Value::String(s) => Node::String(s.as_str()),
            Value::Array(_) => Node::Array,
            Value::Object(_) => Node::Object,
            Value::Other(what) => Node::Other(what),
        }
    }
    fn get(&self, key: &str) -> Option<Self> {
        Value::get(self, key)
    }
}

/// A short description of a value for `received`: never the whole value.
pub(crate) fn describe<S: AsRef<str>>(node: &Node<S>) -> String {
    match node {
        Node::Null => "null".into(),
        Node::Bool(b) => if *b { "boolean true" } else { "boolean false" }.into(),
        Node::Number(n) => cat(&["number ", &fmt_number(*n)]),
        Node::String(s) => cat(&["string ", &describe_str(s.as_ref())]),
        Node::Array => "an array".into(),
        Node::Object => "an object".into(),
        Node::Other(what) => (*what).into(),
    }
}

/// Prints a number for an error message without Rust's float formatting machinery (a large
/// part of a WebAssembly module): integers exactly, others to six decimals or in e-notation.
pub(crate) fn fmt_number(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let sign = if n < 0.0 { "-" } else { "" };
    let a = n.abs();
    let mut out = String::from(sign);
    if n.fract() == 0.0 && a < 1e18 {
        push_num(&mut out, a as u64, 1);
        return out;
    }
    if (1e-6..1e18).contains(&a) {
        let micros = (a * 1e6).round() as u64;
        push_num(&mut out, micros / 1_000_000, 1);
        let mut frac = String::new();
        push_num(&mut frac, micros % 1_000_000, 6);
        let frac = frac.trim_end_matches('0');
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        return out;
    }
    // Very large or very small: d.ddde±x.
    let (mut m, mut e) = (a, 0i32);
    while m >= 10.0 {
        m /= 10.0;
        e += 1;
    }
    while m < 1.0 {
        m *= 10.0;
        e -= 1;
    }
    let thousandths = (m * 1000.0).round() as u64;
    push_num(&mut out, thousandths / 1000, 1);
    out.push('.');
    push_num(&mut out, thousandths % 1000, 3);
    out.push_str(if e < 0 { "e-" } else { "e" });
    push_num(&mut out, u64::from(e.unsigned_abs()), 1);
    out
}

const MISSING: &str = "nothing (the field is missing)";

/// Validates an already-parsed document.
pub(crate) fn validate<D: Doc>(doc: &D, expected_id: Option<&str>) -> Result<PostItemAnalytics, Error> {
    if !matches!(doc.node(), Node::Object) {
        return Err(Error::invalid_response("$", "an object", &describe(&doc.node())));
    }
    let post_item_id = non_empty_string(doc, "post_item_id")?;
    if let Some(want) = expected_id {
        if post_item_id != want {
            return Err(Error::invalid_response(
                "post_item_id",
                &cat(&["the requested id ", &describe_str(want)]),
                &cat(&["string ", &describe_str(&post_item_id), " (a proxy or cache may have mixed up responses)"]),
            ));
        }
    }
    let post_type = non_empty_string(doc, "post_type")?;
    let platform = non_empty_string(doc, "platform")?;
    let status = match doc.get("status").map(|v| v.node()) {
        Some(Node::String(s)) => PostStatus::from_wire(s.as_ref()),
        Some(other) => return Err(Error::invalid_response("status", "a string", &describe(&other))),
        None => return Err(Error::invalid_response("status", "a string", MISSING)),
    };
    let metrics = match doc.get("metrics") {
        None => return Err(Error::invalid_response("metrics", "an object or null", MISSING)),
        Some(m) => match m.node() {
            Node::Null => None,
            Node::Object => Some(metrics(&m)?),
            other => return Err(Error::invalid_response("metrics", "an object or null", &describe(&other))),
        },
    };
    Ok(PostItemAnalytics { post_item_id, post_type, platform, status, metrics })
}

fn non_empty_string<D: Doc>(doc: &D, key: &str) -> Result<String, Error> {
    match doc.get(key).map(|v| v.node()) {
        Some(Node::String(s)) if !s.as_ref().is_empty() => Ok(s.as_ref().to_owned()),
        Some(other) => Err(Error::invalid_response(key, "a non-empty string", &describe(&other))),
        None => Err(Error::invalid_response(key, "a non-empty string", MISSING)),
    }
}

fn metrics<D: Doc>(m: &D) -> Result<Metrics, Error> {
    let fetched_at = match m.get("fetched_at").map(|v| v.node()) {
        Some(Node::String(s)) if is_rfc3339(s.as_ref()) => s.as_ref().to_owned(),
        Some(other) => {
            return Err(Error::invalid_response(
                "metrics.fetched_at",
                "an RFC 3339 timestamp with a timezone",
                &describe(&other),
            ))
        }
        None => {
            return Err(Error::invalid_response(
                "metrics.fetched_at",
                "an RFC 3339 timestamp with a timezone",
                MISSING,
            ))
        }
    };
    Ok(Metrics {
        views: count(m, "views", "metrics.views")?,
        likes: count(m, "likes", "metrics.likes")?,
        comments: count(m, "comments", "metrics.comments")?,
        fetched_at,
    })
}

/// A count: missing or null is 0 (platforms that do not report it); otherwise a
/// non-negative integer no larger than 2^53 − 1.
fn count<D: Doc>(m: &D, key: &str, path: &str) -> Result<u64, Error> {
    const EXPECTED: &str = "a non-negative integer";
    match m.get(key).map(|v| v.node()) {
        None | Some(Node::Null) => Ok(0),
        Some(Node::Number(n)) if n.fract() == 0.0 && (0.0..=MAX_SAFE_INTEGER).contains(&n) => Ok(n as u64),
        Some(Node::Number(n)) if n.fract() == 0.0 && n > MAX_SAFE_INTEGER => Err(Error::invalid_response(
            path,
            "a non-negative integer no larger than 2^53 - 1",
            &describe(&Node::<&str>::Number(n)),
        )),
        Some(other) => Err(Error::invalid_response(path, EXPECTED, &describe(&other))),
    }
}

/// RFC 3339 `date-time`: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`, with real calendar ranges.
pub(crate) fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |from: usize, len: usize| -> Option<u32> {
        let part = b.get(from..from + len)?;
        part.iter().try_fold(0u32, |acc, c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let (Some(year), Some(month), Some(day)) = (digits(0, 4), digits(5, 2), digits(8, 2)) else {
        return false;
    };
    if !(at(4, b'-') && at(7, b'-') && (at(10, b'T') || at(10, b't'))) {
        return false;
    }
    let (Some(hour), Some(minute), Some(second)) = (digits(11, 2), digits(14, 2), digits(17, 2)) else {
        return false;
    };
    if !(at(13, b':') && at(16, b':')) {
        return false;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > days_in_month || hour > 23 || minute > 59 || second > 60 {
        return false;
    }
    let mut i = 19;
    if at(i, b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match b.get(i) {
        Some(b'Z' | b'z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            let (Some(oh), Some(om)) = (digits(i + 1, 2), digits(i + 4, 2)) else {
                return false;
            };
            at(i + 3, b':') && oh <= 23 && om <= 59 && i + 6 == b.len()
        }
        _ => false,
    }
}

/// Parses and validates a response body.
///
/// `expected_id` is the id that was asked for; a body about another item is rejected.
///
/// ```
/// use powerpost_analytics::{parse_post_item_analytics, PostStatus};
///
/// let body = br#"{"post_item_id":"a1","post_type":"tiktok-video","platform":"tiktok",
///   "status":"posted","metrics":{"views":10,"likes":2,"fetched_at":"2026-04-15T09:00:00Z"}}"#;
/// let item = parse_post_item_analytics(body, Some("a1")).unwrap();
/// assert_eq!(item.status, PostStatus::Posted);
/// assert_eq!(item.metrics.unwrap().comments, 0); // not reported by the platform
/// ```
pub fn parse_post_item_analytics(body: &[u8], expected_id: Option<&str>) -> Result<PostItemAnalytics, Error> {
    let value = parse_json(body)?;
    validate(&&value, expected_id)
}

/// Parses a body as JSON, describing why not when it is not.
pub(crate) fn parse_json(body: &[u8]) -> Result<Value, Error> {
    const EXPECTED: &str = "a JSON document";
    if body.len() > MAX_BODY_BYTES {
        return Err(Error::invalid_response(
            "$",
            "a JSON document of at most 1 MiB",
            &cat(&["a body of ", &num(body.len() as u64), " bytes"]),
        ));
    }
    json::parse(body).map_err(|e| Error::invalid_response("$", EXPECTED, &describe_body(body, &e)))
}

/// Describes a body that is not JSON without quoting it.
pub(crate) fn describe_body(body: &[u8], err: &json::ParseError) -> String {
    let trimmed = body.trim_ascii_start();
    if trimmed.is_empty() {
        return "an empty body".into();
    }
    if trimmed.first() == Some(&b'<') {
        return cat(&["an HTML or XML document of ", &num(body.len() as u64), " bytes (often a proxy or gateway page)"]);
    }
    if err.too_deep {
        return cat(&["JSON nested more than ", &num(json::MAX_DEPTH as u64), " levels deep"]);
    }
    if err.eof {
        return cat(&["JSON cut off after ", &num(body.len() as u64), " bytes"]);
    }
    let (line, column) = err.line_column(body);
    cat(&[
        "invalid JSON (",
        &num(body.len() as u64),
        " bytes; error at line ",
        &num(line as u64),
        " column ",
        &num(column as u64),
        ")",
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    const GOOD: &str = r#"{"post_item_id":"550e8400-e29b-41d4-a716-446655440000","post_type":"instagram-reel",
        "platform":"instagram","status":"posted",
        "metrics":{"views":12450,"likes":890,"comments":42,"fetched_at":"2026-04-15T09:00:00Z"}}"#;
    const ID: &str = "550e8400-e29b-41d4-a716-446655440000";

    fn with(field_patch: &str) -> Vec<u8> {
        // Replace one top-level or metrics field by editing the parsed document.
        let mut v: serde_json::Value = serde_json::from_str(GOOD).unwrap();
        let patch: serde_json::Value = serde_json::from_str(field_patch).unwrap();
        for (k, val) in patch.as_object().unwrap() {
            if let Some(inner) = k.strip_prefix("metrics.") {
                let m = v["metrics"].as_object_mut().unwrap();
                if val.is_string() && val.as_str() == Some("<missing>") {
                    m.remove(inner);
                } else {
                    m.insert(inner.into(), val.clone());
                }
            } else if val.as_str() == Some("<missing>") {
                v.as_object_mut().unwrap().remove(k);
            } else {
                v[k] = val.clone();
            }
        }
        serde_json::to_vec(&v).unwrap()
    }

    fn fails(body: &[u8]) -> Error {
        let e = parse_post_item_analytics(body, Some(ID)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidResponse);
        e
    }

    #[test]
    fn sample_response_validates() {
        let item = parse_post_item_analytics(GOOD.as_bytes(), Some(ID)).unwrap();
        assert_eq!(item.post_type, "instagram-reel");
        assert_eq!(item.platform, "instagram");
        assert_eq!(item.status, PostStatus::Posted);
        let m = item.metrics.unwrap();
        assert_eq!((m.views, m.likes, m.comments), (12450, 890, 42));
        assert_eq!(m.fetched_at, "2026-04-15T09:00:00Z");
    }

    #[test]
    fn non_json_bodies_fail_at_root() {
        for (body, word) in [
            (&b""[..], "empty"),
            (b"  \n", "empty"),
            (b"<html><body>502 Bad Gateway</body></html>", "HTML"),
            (b"{\"post_item_id\":\"x", "cut off"),
            (b"nope", "invalid JSON"),
        ] {
            let e = fails(body);
            assert_eq!(e.path(), Some("$"));
            assert_eq!(e.expected(), Some("a JSON document"));
            assert!(e.received().unwrap().contains(word), "{:?}", e.received());
        }
        let e = fails(b"[1,2]");
        assert_eq!((e.path(), e.received()), (Some("$"), Some("an array")));
        let e = fails(b"null");
        assert_eq!(e.received(), Some("null"));
    }

    #[test]
    fn oversized_body_is_rejected() {
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        let e = fails(&big);
        assert_eq!(e.path(), Some("$"));
        assert!(e.received().unwrap().contains("1048577 bytes"));
    }

    #[test]
    fn received_never_contains_the_whole_body() {
        let body = format!("<html>{}</html>", "secret".repeat(1000));
        let e = fails(body.as_bytes());
        assert!(!e.message().contains("secret"));
    }

    #[test]
    fn post_item_id_rules() {
        let e = fails(&with(r#"{"post_item_id":""}"#));
        assert_eq!((e.path(), e.expected()), (Some("post_item_id"), Some("a non-empty string")));
        let e = fails(&with(r#"{"post_item_id":"<missing>"}"#));
        assert_eq!(e.received(), Some(MISSING));
        let e = fails(&with(r#"{"post_item_id":"other-id"}"#));
        assert_eq!(e.path(), Some("post_item_id"));
        assert!(e.received().unwrap().starts_with("string \"other-id\""));
        // Without an expected id any non-empty id passes.
        assert!(parse_post_item_analytics(&with(r#"{"post_item_id":"other-id"}"#), None).is_ok());
    }

    #[test]
    fn post_type_and_platform_are_non_empty_strings() {
        for (patch, path) in [
            (r#"{"post_type":""}"#, "post_type"),
            (r#"{"post_type":3}"#, "post_type"),
            (r#"{"platform":null}"#, "platform"),
            (r#"{"platform":"<missing>"}"#, "platform"),
        ] {
            assert_eq!(fails(&with(patch)).path(), Some(path), "{patch}");
        }
    }

    #[test]
    fn status_passes_unknown_strings_and_rejects_non_strings() {
        let item = parse_post_item_analytics(&with(r#"{"status":"archived"}"#), Some(ID)).unwrap();
        assert_eq!(item.status, PostStatus::Other("archived".into()));
        let e = fails(&with(r#"{"status":1}"#));
        assert_eq!((e.path(), e.received()), (Some("status"), Some("number 1")));
        assert_eq!(fails(&with(r#"{"status":"<missing>"}"#)).path(), Some("status"));
    }

    #[test]
    fn metrics_null_object_or_error() {
        let item = parse_post_item_analytics(&with(r#"{"metrics":null,"status":"draft"}"#), Some(ID)).unwrap();
        assert_eq!(item.metrics, None);
        let e = fails(&with(r#"{"metrics":[]}"#));
        assert_eq!((e.path(), e.expected()), (Some("metrics"), Some("an object or null")));
        assert_eq!(fails(&with(r#"{"metrics":"<missing>"}"#)).path(), Some("metrics"));
    }

    #[test]
    fn counts_default_to_zero_when_missing_or_null() {
        let item = parse_post_item_analytics(
            &with(r#"{"metrics.comments":"<missing>","metrics.likes":null}"#),
            Some(ID),
        )
        .unwrap();
        let m = item.metrics.unwrap();
        assert_eq!((m.views, m.likes, m.comments), (12450, 0, 0));
    }

    #[test]
    fn counts_must_be_safe_non_negative_integers() {
        let e = fails(&with(r#"{"metrics.views":"12"}"#));
        assert_eq!(e.path(), Some("metrics.views"));
        assert_eq!(e.expected(), Some("a non-negative integer"));
        assert_eq!(e.received(), Some("string \"12\""));
        assert!(e.message().contains("expected a non-negative integer, found string \"12\""));
        for (patch, path) in [
            (r#"{"metrics.likes":-1}"#, "metrics.likes"),
            (r#"{"metrics.comments":1.5}"#, "metrics.comments"),
            (r#"{"metrics.views":9007199254740992}"#, "metrics.views"),
            (r#"{"metrics.views":true}"#, "metrics.views"),
            (r#"{"metrics.views":{}}"#, "metrics.views"),
        ] {
            assert_eq!(fails(&with(patch)).path(), Some(path), "{patch}");
        }
        let ok = parse_post_item_analytics(&with(r#"{"metrics.views":9007199254740991}"#), Some(ID)).unwrap();
        assert_eq!(ok.metrics.unwrap().views, 9_007_199_254_740_991);
        let ok = parse_post_item_analytics(&with(r#"{"metrics.views":-0.0}"#), Some(ID)).unwrap();
        assert_eq!(ok.metrics.unwrap().views, 0);
    }

    #[test]
    fn huge_exponents_are_out_of_range_not_a_panic() {
        let body = GOOD.replace("12450", "1e400");
        let e = fails(body.as_bytes());
        assert_eq!((e.path(), e.received()), (Some("metrics.views"), Some("a number out of range")));
    }

    #[test]
    fn numbers_print_without_float_formatting() {
        for (n, s) in [(5.0, "5"), (-1.0, "-1"), (1.5, "1.5"), (0.25, "0.25"), (-0.0, "0"), (1e300, "1.000e300"),
            (9_007_199_254_740_992.0, "9007199254740992"), (1e-9, "1.000e-9"), (f64::NAN, "NaN"), (f64::NEG_INFINITY, "-Infinity"), (1.000_000_01, "1")] {
            assert_eq!(fmt_number(n), s);
        }
    }

    #[test]
    fn fetched_at_must_be_rfc3339_with_zone() {
        for good in [
            "2026-04-15T09:00:00Z",
            "2026-04-15t09:00:00z",
            "2026-04-15T09:00:00.123456Z",
            "2026-04-15T09:00:00+02:00",
            "2024-02-29T23:59:60-05:30",
        ] {
            assert!(is_rfc3339(good), "{good}");
        }
        for bad in [
            "2026-04-15T09:00:00",
            "2026-04-15",
            "2026-04-15 09:00:00Z",
            "2026-13-15T09:00:00Z",
            "2025-02-29T09:00:00Z",
            "2026-04-31T09:00:00Z",
            "2026-04-15T24:00:00Z",
            "2026-04-15T09:00:00.Z",
            "2026-04-15T09:00:00+0200",
            "2026-04-15T09:00:00Z ",
            "yesterday",
            "",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
        let e = fails(&with(r#"{"metrics.fetched_at":"2026-04-15T09:00:00"}"#));
        assert_eq!(e.path(), Some("metrics.fetched_at"));
        assert_eq!(fails(&with(r#"{"metrics.fetched_at":"<missing>"}"#)).path(), Some("metrics.fetched_at"));
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let mut v: serde_json::Value = serde_json::from_str(GOOD).unwrap();
        v["extra"] = serde_json::json!({"deep": [1, 2]});
        v["metrics"]["shares"] = serde_json::json!(5);
        assert!(parse_post_item_analytics(&serde_json::to_vec(&v).unwrap(), Some(ID)).is_ok());
    }

    #[test]
    fn first_bad_field_is_reported() {
        let e = fails(br#"{"post_item_id":1,"post_type":2}"#);
        assert_eq!(e.path(), Some("post_item_id"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(fails(deep.as_bytes()).path(), Some("$"));
    }
}
