//! Turns a JSON document into [`PostItemAnalytics`], or into an [`Error`] that names the first
//! bad field by path, what was expected there and what was found.
//!
//! Reading is serde's: natively `serde_json` parses the body; on wasm the JS engine parses it
//! (`JSON.parse`) and `serde-wasm-bindgen` reads the value. Both feed the same `Deserialize`
//! impls ([`Field`], [`Wire`]), which keep every field the rules look at and only the kind of
//! anything else. The rules then run over that typed view in a fixed order, so the first bad
//! field is the same whichever deserializer produced it (`serde_json`'s objects iterate in
//! sorted key order, `JSON.parse`'s in document order; a path taken from the deserializer, as
//! `serde_path_to_error` does, would name a different first error on each target).

use std::fmt;
use std::marker::PhantomData;

use serde::de::{value::MapAccessDeserializer, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::error::{describe_str, Error};
use crate::types::{Metrics, PostItemAnalytics, PostStatus};

/// Bodies larger than this are rejected without being kept in memory.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Largest count that survives a round trip through a JavaScript number (2^53 − 1).
pub const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// What a JSON value is, as far as the rules care: scalars are kept, arrays only by kind
/// (objects are [`Field::Object`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Seen {
    Null,
    Bool(bool),
    /// A non-negative integer, exact.
    Unsigned(u64),
    /// A negative integer, exact.
    Negative(i64),
    /// Any other number (fractional, or beyond the integer types).
    Float(f64),
    String(String),
    Array,
    /// Something JSON cannot hold (binary data from a JS typed array).
    Other(&'static str),
}

impl Seen {
    /// A short description for `received`: never the whole value.
    pub(crate) fn describe(&self) -> String {
        match self {
            Seen::Null => "null".into(),
            Seen::Bool(b) => format!("boolean {b}"),
            Seen::Unsigned(n) => format!("number {n}"),
            Seen::Negative(n) => format!("number {n}"),
            Seen::Float(n) => format!("number {}", fmt_number(*n)),
            Seen::String(s) => format!("string {}", describe_str(s)),
            Seen::Array => "an array".into(),
            Seen::Other(what) => (*what).into(),
        }
    }
}

/// Prints a number as JavaScript does (`String(n)`): integers in full below 10^21, shortest
/// round-trip digits otherwise (so `1.00000001` is not shown as `1`), e-notation for very large
/// or small.
pub(crate) fn fmt_number(n: f64) -> String {
    if n.is_nan() {
        "NaN".into()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        fmt_finite(n)
    }
}

/// On wasm JavaScript prints it (`JSON.stringify` writes a finite number as `String(n)` does),
/// so that Rust's float printer stays out of the module (bench/NOTES.md, seventh pass).
#[cfg(target_arch = "wasm32")]
fn fmt_finite(n: f64) -> String {
    js_sys::JSON::stringify(&wasm_bindgen::JsValue::from_f64(n)).map(String::from).unwrap_or_default()
}

#[cfg(not(target_arch = "wasm32"))]
fn fmt_finite(n: f64) -> String {
    if n == 0.0 {
        "0".into()
    } else if n.abs() >= 1e21 || n.abs() < 1e-6 {
        // JavaScript signs a positive exponent: 1e+300.
        let e = format!("{n:e}");
        match e.split_once('e') {
            Some((digits, exp)) if !exp.starts_with('-') => format!("{digits}e+{exp}"),
            _ => e,
        }
    } else {
        format!("{n}")
    }
}

/// One field of a document: absent, an object read as `T`, or any other value.
#[derive(Debug, Default)]
pub(crate) enum Field<T = IgnoredAny> {
    #[default]
    Missing,
    Object(T),
    Value(Seen),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FieldVisitor(PhantomData))
    }
}

struct FieldVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for FieldVisitor<T> {
    type Value = Field<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Field::Value(Seen::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Field::Value(u64::try_from(v).map_or(Seen::Negative(v), Seen::Unsigned)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Field::Value(Seen::Unsigned(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Field::Value(Seen::Float(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Field::Value(Seen::String(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Field::Value(Seen::String(v)))
    }
    fn visit_bytes<E>(self, _: &[u8]) -> Result<Self::Value, E> {
        Ok(Field::Value(Seen::Other("binary data")))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Field::Value(Seen::Null))
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Field::Value(Seen::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Field::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // Only the kind matters; the items are skipped without being read.
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Field::Value(Seen::Array))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(Field::Object)
    }
}

/// The fields of a response the rules read; everything else is skipped.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(crate) struct Wire {
    post_item_id: Field,
    post_type: Field,
    platform: Field,
    status: Field,
    metrics: Field<WireMetrics>,
}

/// The fields of `metrics` the rules read.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(crate) struct WireMetrics {
    views: Field,
    likes: Field,
    comments: Field,
    fetched_at: Field,
}

/// A whole document, as the deserializers hand it over.
pub(crate) type Document = Field<Wire>;

/// Where the validator looks, in the order it reports: the keys of a response and of its
/// `metrics`, read one by one by a caller that reads each itself (the JavaScript surface, on
/// a caller's object: exactly these keys, never every property of a hostile object).
#[cfg(all(target_arch = "wasm32", feature = "js"))]
impl Wire {
    pub(crate) fn read(mut field: impl FnMut(&'static str) -> Field, metrics: impl FnOnce(&'static str) -> Field<WireMetrics>) -> Wire {
        Wire {
            post_item_id: field("post_item_id"),
            post_type: field("post_type"),
            platform: field("platform"),
            status: field("status"),
            metrics: metrics("metrics"),
        }
    }
}

/// See [`Wire::read`].
#[cfg(all(target_arch = "wasm32", feature = "js"))]
impl WireMetrics {
    pub(crate) fn read(mut field: impl FnMut(&'static str) -> Field) -> WireMetrics {
        WireMetrics { views: field("views"), likes: field("likes"), comments: field("comments"), fetched_at: field("fetched_at") }
    }
}

const MISSING: &str = "nothing (the field is missing)";
const NON_EMPTY: &str = "a non-empty string";
const COUNT: &str = "a non-negative integer";
const TIMESTAMP: &str = "an RFC 3339 timestamp with a timezone";
const METRICS: &str = "an object or null";

/// What the rules expect at `path` (one of the keys above, `metrics.<key>`, or `$`).
pub(crate) fn expected_at(path: &str) -> &'static str {
    match path {
        "$" => "an object",
        "status" => "a string",
        "metrics" => METRICS,
        "metrics.fetched_at" => TIMESTAMP,
        p if p.starts_with("metrics.") => COUNT,
        _ => NON_EMPTY,
    }
}

/// Applies the rules to a deserialized document.
pub(crate) fn validate(doc: Document, expected_id: Option<&str>) -> Result<PostItemAnalytics, Error> {
    let doc = match doc {
        Field::Object(doc) => doc,
        Field::Value(v) => return Err(Error::invalid_response("$", "an object", &v.describe())),
        Field::Missing => return Err(Error::invalid_response("$", "an object", MISSING)),
    };
    let post_item_id = non_empty_string(doc.post_item_id, "post_item_id")?;
    if let Some(want) = expected_id {
        if post_item_id != want {
            return Err(Error::invalid_response(
                "post_item_id",
                &format!("the requested id {}", describe_str(want)),
                &format!("string {} (a proxy or cache may have mixed up responses)", describe_str(&post_item_id)),
            ));
        }
    }
    let post_type = non_empty_string(doc.post_type, "post_type")?;
    let platform = non_empty_string(doc.platform, "platform")?;
    let status = match doc.status {
        Field::Value(Seen::String(s)) => PostStatus::from(s),
        other => return Err(Error::invalid_response("status", "a string", &describe_field(&other))),
    };
    let metrics = match doc.metrics {
        Field::Value(Seen::Null) => None,
        Field::Object(m) => Some(metrics(m)?),
        other => return Err(Error::invalid_response("metrics", METRICS, &describe_field(&other))),
    };
    Ok(PostItemAnalytics { post_item_id, post_type, platform, status, metrics })
}

fn describe_field<T>(field: &Field<T>) -> String {
    match field {
        Field::Missing => MISSING.into(),
        Field::Object(_) => "an object".into(),
        Field::Value(v) => v.describe(),
    }
}

fn non_empty_string(field: Field, key: &str) -> Result<String, Error> {
    match field {
        Field::Value(Seen::String(s)) if !s.is_empty() => Ok(s),
        other => Err(Error::invalid_response(key, NON_EMPTY, &describe_field(&other))),
    }
}

fn metrics(m: WireMetrics) -> Result<Metrics, Error> {
    let fetched_at = match m.fetched_at {
        Field::Value(Seen::String(s)) if is_rfc3339(&s) => s,
        other => return Err(Error::invalid_response("metrics.fetched_at", TIMESTAMP, &describe_field(&other))),
    };
    Ok(Metrics {
        views: count(m.views, "metrics.views")?,
        likes: count(m.likes, "metrics.likes")?,
        comments: count(m.comments, "metrics.comments")?,
        fetched_at,
    })
}

/// A count: missing or null is 0 (platforms that do not report it); otherwise a
/// non-negative integer no larger than 2^53 − 1.
fn count(field: Field, path: &str) -> Result<u64, Error> {
    const MAX: u64 = MAX_SAFE_INTEGER as u64;
    let too_big = || Error::invalid_response(path, "a non-negative integer no larger than 2^53 - 1", &describe_field(&field));
    match &field {
        Field::Missing | Field::Value(Seen::Null) => Ok(0),
        Field::Value(Seen::Unsigned(n)) if *n <= MAX => Ok(*n),
        Field::Value(Seen::Unsigned(_)) => Err(too_big()),
        Field::Value(Seen::Float(n)) if n.fract() == 0.0 && (0.0..=MAX_SAFE_INTEGER).contains(n) => Ok(*n as u64),
        Field::Value(Seen::Float(n)) if n.is_finite() && n.fract() == 0.0 && *n > MAX_SAFE_INTEGER => Err(too_big()),
        Field::Value(Seen::Float(n)) if !n.is_finite() => {
            Err(Error::invalid_response(path, COUNT, "a number out of range"))
        }
        _ => Err(Error::invalid_response(path, COUNT, &describe_field(&field))),
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
/// Natively the body is parsed by `serde_json`, on wasm by the JS engine's `JSON.parse`.
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
    validate(parse_body::<Document>(body)?, expected_id)
}

/// Parses a body as JSON into `T`, describing why not when it is not.
pub(crate) fn parse_body<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, Error> {
    if body.len() > MAX_BODY_BYTES {
        return Err(Error::invalid_response(
            "$",
            "a JSON document of at most 1 MiB",
            &format!("a body of {} bytes", body.len()),
        ));
    }
    let not_json = |why: Syntax| Error::invalid_response("$", "a JSON document", &describe_body(body, why));
    // `res.json()` skips a UTF-8 byte-order mark; so does this.
    let text = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    engine::parse(text).map_err(not_json)
}

/// A JSON body re-written by the parser (escapes decoded), or `None` if it is not JSON.
pub(crate) fn normalized_json(body: &[u8]) -> Option<String> {
    let text = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    engine::normalized(text)
}

/// Why a body is not JSON, as far as the parser tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Syntax {
    /// Not UTF-8 text.
    NotUtf8,
    /// A number beyond the range of a double (serde_json only; `JSON.parse` gives Infinity).
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    OutOfRange,
    /// Nested deeper than the parser allows (serde_json's limit of 128).
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    TooDeep,
    /// Invalid, at this line and column when the parser says.
    Invalid(Option<(usize, usize)>),
}

/// Describes a body that is not JSON without quoting it.
fn describe_body(body: &[u8], why: Syntax) -> String {
    let trimmed = body.trim_ascii_start();
    if trimmed.is_empty() {
        return "an empty body".into();
    }
    if trimmed.first() == Some(&b'<') {
        return format!("an HTML or XML document of {} bytes (often a proxy or gateway page)", body.len());
    }
    match why {
        Syntax::NotUtf8 => format!("a body of {} bytes that is not UTF-8 text", body.len()),
        Syntax::OutOfRange => format!("JSON with a number out of range ({} bytes)", body.len()),
        Syntax::TooDeep => "JSON nested too deeply".into(),
        _ if is_cut_off(body) => format!("JSON cut off after {} bytes", body.len()),
        Syntax::Invalid(Some((line, column))) => {
            format!("invalid JSON ({} bytes; error at line {line} column {column})", body.len())
        }
        Syntax::Invalid(None) => format!("invalid JSON ({} bytes)", body.len()),
    }
}

/// Whether a body that failed to parse ends inside a string or an open object or array: a
/// response cut off mid-way. A scan of quotes and brackets, not a parser.
fn is_cut_off(body: &[u8]) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in body {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    in_string || depth > 0
}

/// The JSON parser: serde_json natively.
#[cfg(not(target_arch = "wasm32"))]
mod engine {
    use super::Syntax;

    pub(crate) fn parse<T: for<'de> serde::Deserialize<'de>>(text: &[u8]) -> Result<T, Syntax> {
        // Through `serde_json::Value`, as `JSON.parse` works: the whole text is checked before
        // any field is, and a duplicate key keeps its last value.
        let value: serde_json::Value = serde_json::from_slice(text).map_err(|e| {
            let message = e.to_string();
            if message.contains("recursion limit") {
                Syntax::TooDeep
            } else if message.contains("number out of range") {
                Syntax::OutOfRange
            } else if std::str::from_utf8(text).is_err() {
                Syntax::NotUtf8
            } else {
                Syntax::Invalid(Some((e.line(), e.column())))
            }
        })?;
        // Every `Deserialize` read here accepts any JSON value, so this cannot fail.
        T::deserialize(&value).map_err(|_| Syntax::Invalid(None))
    }

    pub(crate) fn normalized(text: &[u8]) -> Option<String> {
        serde_json::from_slice::<serde_json::Value>(text).ok().map(|v| v.to_string())
    }
}

/// The JSON parser: the JS engine's `JSON.parse` on wasm, read with serde-wasm-bindgen.
#[cfg(target_arch = "wasm32")]
mod engine {
    use super::Syntax;

    pub(crate) fn parse<T: for<'de> serde::Deserialize<'de>>(text: &[u8]) -> Result<T, Syntax> {
        let text = std::str::from_utf8(text).map_err(|_| Syntax::NotUtf8)?;
        let value = js_sys::JSON::parse(text).map_err(|_| Syntax::Invalid(None))?;
        super::from_js(value).map_err(|_| Syntax::Invalid(None))
    }

    pub(crate) fn normalized(text: &[u8]) -> Option<String> {
        let value = js_sys::JSON::parse(std::str::from_utf8(text).ok()?).ok()?;
        js_sys::JSON::stringify(&value).ok()?.as_string()
    }
}

/// A value as a plain JS object through serde-wasm-bindgen (`None` as `null`, as in the API's
/// JSON).
#[cfg(target_arch = "wasm32")]
pub(crate) fn to_js<T: serde::Serialize>(value: &T) -> wasm_bindgen::JsValue {
    let serializer = serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true);
    // Only fails for numbers beyond 2^53, which the validator refuses.
    value.serialize(&serializer).unwrap_or(wasm_bindgen::JsValue::NULL)
}

/// Reads a JS value (plain JSON data: what `JSON.parse` returns) with serde-wasm-bindgen.
#[cfg(target_arch = "wasm32")]
pub(crate) fn from_js<T: for<'de> Deserialize<'de>>(value: wasm_bindgen::JsValue) -> Result<T, serde_wasm_bindgen::Error> {
    T::deserialize(serde_wasm_bindgen::Deserializer::from(value))
}

/// An invalid-response error at `path` for a value the JavaScript surface refused to read
/// (a throwing getter, a function, a string too long to copy).
#[cfg_attr(not(feature = "js"), allow(dead_code))]
pub(crate) fn refused_at(path: &str, received: &str) -> Error {
    Error::invalid_response(path, expected_at(path), received)
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
            (b"{\"post_item_id\":[1,", "cut off"),
            (b"nope", "invalid JSON"),
            (b"{\"a\":1}}", "invalid JSON"),
            (b"\"\xff\"", "not UTF-8"),
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
    fn a_byte_order_mark_is_skipped_as_res_json_does() {
        let mut body = b"\xEF\xBB\xBF".to_vec();
        body.extend_from_slice(GOOD.as_bytes());
        assert!(parse_post_item_analytics(&body, Some(ID)).is_ok());
    }

    #[test]
    fn duplicate_keys_keep_the_last_value_as_json_parse_does() {
        let body = GOOD.replacen("\"platform\":\"instagram\"", "\"platform\":\"\",\"platform\":\"instagram\"", 1);
        assert_eq!(parse_post_item_analytics(body.as_bytes(), Some(ID)).unwrap().platform, "instagram");
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
        let e = fails(format!("{{\"post_item_id\":\"{}", "secret".repeat(1000)).as_bytes());
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
        for (patch, path, received) in [
            (r#"{"post_type":""}"#, "post_type", "string \"\""),
            (r#"{"post_type":3}"#, "post_type", "number 3"),
            (r#"{"post_type":{"deep":[1]}}"#, "post_type", "an object"),
            (r#"{"platform":null}"#, "platform", "null"),
            (r#"{"platform":"<missing>"}"#, "platform", MISSING),
        ] {
            let e = fails(&with(patch));
            assert_eq!((e.path(), e.received()), (Some(path), Some(received)), "{patch}");
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
        assert_eq!((e.path(), e.expected(), e.received()), (Some("metrics"), Some("an object or null"), Some("an array")));
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
        for (patch, path, received) in [
            (r#"{"metrics.likes":-1}"#, "metrics.likes", "number -1"),
            (r#"{"metrics.comments":1.5}"#, "metrics.comments", "number 1.5"),
            (r#"{"metrics.comments":1.00000001}"#, "metrics.comments", "number 1.00000001"),
            (r#"{"metrics.views":9007199254740992}"#, "metrics.views", "number 9007199254740992"),
            (r#"{"metrics.views":true}"#, "metrics.views", "boolean true"),
            (r#"{"metrics.views":{}}"#, "metrics.views", "an object"),
        ] {
            let e = fails(&with(patch));
            assert_eq!((e.path(), e.received()), (Some(path), Some(received)), "{patch}");
        }
        let ok = parse_post_item_analytics(&with(r#"{"metrics.views":9007199254740991}"#), Some(ID)).unwrap();
        assert_eq!(ok.metrics.unwrap().views, 9_007_199_254_740_991);
        let ok = parse_post_item_analytics(&with(r#"{"metrics.views":-0.0}"#), Some(ID)).unwrap();
        assert_eq!(ok.metrics.unwrap().views, 0);
        let ok = parse_post_item_analytics(&with(r#"{"metrics.views":12.0}"#), Some(ID)).unwrap();
        assert_eq!(ok.metrics.unwrap().views, 12);
    }

    #[test]
    fn huge_exponents_are_out_of_range_not_a_panic() {
        // serde_json refuses a number beyond a double's range while parsing (JSON.parse makes it
        // Infinity, which the count rule then refuses at its path).
        let body = GOOD.replace("12450", "1e400");
        let e = fails(body.as_bytes());
        assert_eq!(e.path(), Some("$"));
        assert!(e.received().unwrap().contains("out of range"), "{e}");
        let e = count(Field::Value(Seen::Float(f64::INFINITY)), "metrics.views").unwrap_err();
        assert_eq!(e.received(), Some("a number out of range"));
    }

    #[test]
    fn numbers_print_as_javascript_does() {
        for (n, s) in [(5.0, "5"), (-1.0, "-1"), (1.5, "1.5"), (0.25, "0.25"), (-0.0, "0"), (1e300, "1e+300"), (-2.5e21, "-2.5e+21"),
            (9_007_199_254_740_992.0, "9007199254740992"), (1e-9, "1e-9"), (f64::NAN, "NaN"), (f64::NEG_INFINITY, "-Infinity"),
            (1.000_000_01, "1.00000001")] {
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
            "2000-02-29T00:00:00Z",
            "2026-04-15T09:00:00+23:59",
        ] {
            assert!(is_rfc3339(good), "{good}");
        }
        for bad in [
            "2026-04-15T09:00:00",
            "2026-04-15",
            "2026-04-15 09:00:00Z",
            "2026-13-15T09:00:00Z",
            "2025-02-29T09:00:00Z",
            "2100-02-29T09:00:00Z",
            "1900-02-29T09:00:00Z",
            "2026-04-31T09:00:00Z",
            "2026-04-15T09:00:00+24:00",
            "2026-04-15T09:00:00-24:00",
            "2026-04-15T09:00:00+99:00",
            "2026-04-15T09:00:00+02:60",
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
    fn the_first_bad_field_in_rule_order_is_reported_whatever_the_key_order() {
        for body in [&br#"{"post_item_id":1,"post_type":2}"#[..], br#"{"post_type":2,"post_item_id":1}"#, br#"{"platform":3}"#] {
            assert_eq!(fails(body).path(), Some("post_item_id"));
        }
        assert_eq!(fails(&with(r#"{"metrics.views":-1,"metrics.fetched_at":5}"#)).path(), Some("metrics.fetched_at"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(fails(deep.as_bytes()).path(), Some("$"));
        let deep_field = format!(r#"{{"post_item_id":{}1{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(fails(deep_field.as_bytes()).path(), Some("$"));
    }

    #[test]
    fn expected_texts_by_path() {
        // The documented texts, written out (not the constants they are built from), for every
        // path the rules report, as expected_at says them and as a refused body reports them.
        let table = [
            ("$", "an object", b"[]".to_vec()),
            ("post_item_id", "a non-empty string", with(r#"{"post_item_id":""}"#)),
            ("post_type", "a non-empty string", with(r#"{"post_type":7}"#)),
            ("platform", "a non-empty string", with(r#"{"platform":null}"#)),
            ("status", "a string", with(r#"{"status":1}"#)),
            ("metrics", "an object or null", with(r#"{"metrics":[]}"#)),
            ("metrics.views", "a non-negative integer", with(r#"{"metrics.views":-1}"#)),
            ("metrics.likes", "a non-negative integer", with(r#"{"metrics.likes":"1"}"#)),
            ("metrics.comments", "a non-negative integer", with(r#"{"metrics.comments":1.5}"#)),
            ("metrics.fetched_at", "an RFC 3339 timestamp with a timezone", with(r#"{"metrics.fetched_at":"2026-04-15"}"#)),
        ];
        for (path, text, body) in table {
            assert_eq!(expected_at(path), text, "{path}");
            let e = fails(&body);
            assert_eq!((e.path(), e.expected()), (Some(path), Some(text)), "{}", String::from_utf8_lossy(&body));
            assert!(e.message().contains(&format!("at `{path}` expected {text}, found ")), "{}", e.message());
        }
        assert_eq!(refused_at("status", "a function").expected(), Some("a string"));
    }
}
