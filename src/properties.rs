//! Property-based fuzzing of everything that reads outside data: the body reader, the
//! validator, the error-envelope and header parsers. Properties: nothing panics; a body is
//! refused as "not JSON" exactly when the JSON parser refuses it; the validator accepts
//! exactly the documents an independent oracle of the rules accepts, and returns the same
//! values; timestamps, built field by field around the calendar's edges, are read as the
//! RFC's grammar says; the API key never reaches any surface of an error (body and request id
//! included). The oracle (`tests/common/oracle.rs`) is shared with the wasm test that compares
//! the reader the package ships (`JSON.parse` + serde-wasm-bindgen) against serde_json. `PROPTEST_CASES` sets the number of cases
//! (`make test` runs a bounded number, `make fuzz` many more); failures are saved under
//! `proptest-regressions/` and replayed as regression tests.

use proptest::prelude::*;
use serde_json::{json, Value as J};

use crate::response::{interpret, Body, ResponseMeta};
use crate::types::RateLimit;
use crate::{parse_post_item_analytics, retry, ErrorKind};

#[path = "../tests/common/oracle.rs"]
mod oracle;
use oracle::{oracle, oracle_rfc3339};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400)
}

/// JSON-ish text: mostly well-formed pieces, glued in random order, so that both valid and
/// subtly invalid documents come up often.
fn jsonish() -> impl Strategy<Value = String> {
    // `1e400` (beyond a double's range) is weighted down: it makes serde_json refuse the whole
    // text, which would otherwise dominate the generated refusals.
    let atom = prop_oneof![
        3 => Just("{".to_owned()), 3 => Just("}".to_owned()), 3 => Just("[".to_owned()), 3 => Just("]".to_owned()),
        3 => Just(",".to_owned()), 3 => Just(":".to_owned()), 3 => Just("\"k\"".to_owned()), 3 => Just("null".to_owned()),
        3 => Just("true".to_owned()), 3 => Just(" ".to_owned()), 3 => Just("-0".to_owned()), 1 => Just("1e400".to_owned()),
        3 => Just("\"\\ud83d\"".to_owned()), 3 => Just("\"\\ud83d\\ude00\"".to_owned()), 3 => Just("\"\\u00e9\"".to_owned()),
        3 => "-?[0-9]{1,25}(\\.[0-9]{1,5})?([eE][+-]?[0-9]{1,4})?",
        3 => "\"[a-z\\\\\"/ ]{0,8}\"",
        3 => any::<char>().prop_map(|c| c.to_string()),
    ];
    prop::collection::vec(atom, 0..24).prop_map(|v| v.concat())
}

/// Texts for the "not JSON" property: jsonish glue (mostly refused) and serialized
/// documents, cut short at a random point half of the time (mostly accepted when whole).
fn texts() -> impl Strategy<Value = String> {
    let doc = (document(), any::<bool>(), any::<prop::sample::Index>()).prop_map(|(v, cut, at)| {
        let s = serde_json::to_string(&v).unwrap_or_default();
        if cut {
            let end = at.index(s.len().max(1));
            s.get(..end).unwrap_or(&s).to_owned()
        } else {
            s
        }
    });
    prop_oneof![jsonish(), doc]
}

/// Whether serde_json accepts `s` as a JSON document, after the byte-order mark the body
/// reader skips (as `res.json()` does). Numbers beyond a double's range and nesting past 128
/// levels are refusals too (documented: both are "not JSON" at `$` natively).
fn reference_accepts(s: &str) -> bool {
    let s = s.strip_prefix('\u{feff}').unwrap_or(s);
    serde_json::from_str::<J>(s).is_ok()
}

/// RFC 3339 timestamps built field by field, each field mostly at the edges of its range and
/// sometimes just past them: years around the century rules (1900, 2000, 2100 are not all leap
/// years), Feb 28–30 and the 30th/31st, hours 23/24, minutes 59/60, leap seconds, offsets up to
/// 99, fractions, lower-case separators, and now and then a field of the wrong width.
fn stamp() -> impl Strategy<Value = String> {
    let pick = |v: &'static [&'static str]| prop::sample::select(v).prop_map(str::to_owned);
    // Every field at the edges of its range (whether the day exists depends on the month and
    // the year: the calendar's own edges); then, two times in three, one field replaced by a
    // value just past its range or of the wrong width, so that each boundary is met alone.
    let fields = (
        prop_oneof![2 => pick(&["1900", "2000", "2100"]), 1 => pick(&["1600", "2024", "2025", "2026", "0000", "9999"])],
        prop_oneof![2 => Just("02".to_owned()), 1 => pick(&["01", "04", "12"])],
        pick(&["28", "29", "30", "31", "01"]),
        pick(&["T", "t"]),
        pick(&["00", "09", "23"]),
        pick(&["00", "59"]),
        pick(&["00", "59", "60"]),
        pick(&["", "", ".5", ".123456", ".0000000001"]),
        prop_oneof![1 => pick(&["Z", "z"]),
            2 => (pick(&["+", "-"]), pick(&["00", "05", "23"]), pick(&["00", "30", "59"])).prop_map(|(sign, h, m)| format!("{sign}{h}:{m}"))],
    );
    let wrong: [&'static [&'static str]; 9] = [
        &["999", "20260", "+2026", "2O26"],
        &["00", "13", "2", "002"],
        &["00", "32", "1", "015"],
        &[" ", "_", "TT"],
        &["24", "99", "9", "009"],
        &["60", "99", "5"],
        &["61", "99", "5"],
        &[".", ".x", ",5"],
        &["+24:00", "-24:00", "+99:00", "-99:59", "+23:60", "-05:99", "", "+0200", "+02", "+2:00", "Z ", "UTC", "+02:00Z"],
    ];
    let broken = (0usize..14, any::<prop::sample::Index>());
    (fields, broken).prop_map(move |((y, mo, d, t, h, mi, s, f, o), (which, at))| {
        let mut parts = [y, mo, d, t, h, mi, s, f, o];
        if let (Some(part), Some(values)) = (parts.get_mut(which), wrong.get(which)) {
            *part = at.get(values).to_string();
        }
        let [y, mo, d, t, h, mi, s, f, o] = parts;
        format!("{y}-{mo}-{d}{t}{h}:{mi}:{s}{f}{o}")
    })
}

/// Documents close to the real shape, with every field sometimes missing, null, of the wrong
/// type, empty, negative, fractional or huge.
fn document() -> impl Strategy<Value = J> {
    let text = prop_oneof![6 => Just(json!("p1")), 1 => Just(json!("")), 8 => Just(json!("instagram")), 1 => Just(json!(1)),
        1 => Just(J::Null), 1 => Just(json!(["x"])), 2 => "[a-z\\- ]{0,6}".prop_map(J::from)];
    let count = prop_oneof![8 => any::<u32>().prop_map(J::from), 1 => Just(json!(0)), 1 => Just(json!(-1)), 1 => Just(json!(1.5)), 1 => Just(json!(12)), 1 => Just(json!("12")),
        1 => Just(J::Null), 1 => Just(json!(9_007_199_254_740_991u64)), 1 => Just(json!(9_007_199_254_740_992u64)), 1 => Just(json!(-0.0)),
        1 => Just(json!(12.0)), 1 => Just(json!(true))];
    let stamp = prop_oneof![4 => Just(json!("2026-04-15T09:00:00Z")), 6 => stamp().prop_map(J::from), 1 => Just(json!("2026-04-15 09:00")), 1 => Just(json!(5)), 1 => Just(J::Null),
        1 => "[0-9T:Z+.\\-]{0,26}".prop_map(J::from)];
    let metrics = prop_oneof![
        2 => Just(J::Null),
        1 => Just(json!([])),
        6 => (prop::option::weighted(0.9, count.clone()), prop::option::weighted(0.9, count.clone()),
            prop::option::weighted(0.9, count), prop::option::weighted(0.95, stamp))
            .prop_map(|(v, l, c, f)| {
                let mut m = serde_json::Map::new();
                for (k, x) in [("views", v), ("likes", l), ("comments", c), ("fetched_at", f)] {
                    if let Some(x) = x {
                        m.insert(k.into(), x);
                    }
                }
                J::Object(m)
            }),
    ];
    let some = |t: BoxedStrategy<J>| prop::option::weighted(0.95, t);
    let id = prop_oneof![6 => Just(json!("p1")), 1 => text.clone()];
    (some(id.boxed()), some(text.clone().boxed()), some(text.clone().boxed()), some(text.boxed()),
        some(metrics.boxed()), any::<bool>())
        .prop_map(|(id, ty, pl, st, me, extra)| {
            let mut o = serde_json::Map::new();
            for (k, x) in [("post_item_id", id), ("post_type", ty), ("platform", pl), ("status", st), ("metrics", me)] {
                if let Some(x) = x {
                    o.insert(k.into(), x);
                }
            }
            if extra {
                o.insert("unknown".into(), json!({"deep": [1, 2, {"x": null}]}));
            }
            J::Object(o)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn reader_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512), status in 100u16..600) {
        let _ = parse_post_item_analytics(&bytes, Some("p1"));
        let _ = interpret(&ResponseMeta { status, ..ResponseMeta::default() }, &Body::Complete(bytes), "p1", Some("k"), 0.0);
    }

    #[test]
    fn not_json_exactly_when_the_parser_refuses(s in texts()) {
        let refused = parse_post_item_analytics(s.as_bytes(), Some("p1"))
            .err()
            .is_some_and(|e| e.path() == Some("$") && e.expected() == Some("a JSON document"));
        prop_assert_eq!(refused, !reference_accepts(&s), "{:?}", s);
    }

    #[test]
    fn validator_agrees_with_the_rules(v in document()) {
        let body = serde_json::to_vec(&v).unwrap();
        let ours = parse_post_item_analytics(&body, Some("p1"));
        match (oracle(&v, "p1"), ours) {
            (Ok((id, ty, pl, st, m)), Ok(a)) => {
                prop_assert_eq!(a.post_item_id, id);
                prop_assert_eq!(a.post_type, ty);
                prop_assert_eq!(a.platform, pl);
                prop_assert_eq!(a.status.as_str(), st.as_str());
                prop_assert_eq!(a.metrics.map(|m| (m.views, m.likes, m.comments, m.fetched_at)), m);
            }
            (Err(path), Err(e)) => {
                prop_assert_eq!(e.kind(), ErrorKind::InvalidResponse);
                prop_assert_eq!(e.path(), Some(path.as_str()));
            }
            (want, got) => prop_assert!(false, "oracle {:?} but validator {:?} for {}", want, got, v),
        }
    }

    #[test]
    fn timestamps_agree_with_the_rfc(s in stamp()) {
        prop_assert_eq!(crate::validate::is_rfc3339(&s), oracle_rfc3339(&s), "{:?}", s);
    }

    #[test]
    fn analytics_round_trip_through_serde(id in "\\PC{0,40}|[\"\\\\\u{0}-\u{1f}a]{0,12}", views in any::<u64>(), likes in any::<u64>(), metrics in any::<bool>()) {
        let m = metrics.then(|| crate::Metrics::new(views, likes, 0, id.clone()));
        let a = crate::PostItemAnalytics::new(id.clone(), "t", "p", crate::PostStatus::from_wire(&id), m);
        let v: J = serde_json::to_value(&a).unwrap();
        prop_assert_eq!(v["post_item_id"].as_str(), Some(id.as_str()));
        prop_assert_eq!(v["status"].as_str(), Some(id.as_str()));
        prop_assert_eq!(serde_json::from_value::<crate::PostItemAnalytics>(v).unwrap(), a);
    }

    #[test]
    fn header_parsers_never_panic(s in ".{0,64}", n in any::<f64>()) {
        let _ = retry::parse_retry_after(&s, n);
        let _ = retry::parse_http_date(&s);
        let _ = RateLimit::from_headers(Some(&s), Some(&s), Some(&s));
        let hints = retry::WaitHints { retry_after_header: Some(s.clone()), body_retry_after_secs: Some(n), rate_limit: None };
        let _ = hints.server_wait_ms(n);
        let _ = retry::backoff_ms(n as u32, n);
    }

    #[test]
    fn retry_after_seconds_are_exact(secs in 0u64..10_000_000) {
        prop_assert_eq!(retry::parse_retry_after(&secs.to_string(), 0.0), Some(secs * 1000));
    }

    #[test]
    fn error_bodies_never_panic_nor_leak_the_key(status in 100u16..600, shape in 0u8..6, noise in ".{0,40}", retry in any::<u8>()) {
        const KEY: &str = "pp_live_sk_CANARY_0123456789";
        let message = format!("{noise}{KEY}{noise}");
        // Always a valid envelope, in the shapes servers send, so the key really is parsed; and
        // a server that spells the key with JSON escapes, which decoding turns back into it.
        let escaped = KEY.replacen('p', "\\u0070", 1).replacen('C', "\\u0043", 1);
        let body = match shape {
            0 => serde_json::to_vec(&json!({"error": {"message": message, "code": KEY}, "retryAfter": retry})),
            1 => serde_json::to_vec(&json!({"error": {"message": message, "code": KEY, "retryAfter": retry}})),
            2 => serde_json::to_vec(&json!({"error": message})),
            3 => serde_json::to_vec(&json!({"error": {"message": message}, "extra": [KEY]})),
            4 => Ok(format!(r#"{{"error":{{"message":"bad key {escaped}","code":"{escaped}"}},"echo":"{escaped}"}}"#).into_bytes()),
            _ => Ok(format!("<html>{noise} {KEY} </html>").into_bytes()),
        }.unwrap();
        for b in [Body::Complete(body), Body::TooLarge { bytes_seen: 2_000_000 }] {
            let parsed = matches!(b, Body::Complete(_)) && shape < 5;
            // The server echoes the key in its request id and Location too, as fault-echo-key does.
            let meta = ResponseMeta { status, location: Some(format!("https://x/{KEY}")), request_id: Some(format!("req_{KEY}")),
                retry_after: Some(KEY.into()), ..ResponseMeta::default() };
            if let Err((e, _)) = interpret(&meta, &b, "p1", Some(KEY), 0.0) {
                let shown = every_surface(&e);
                prop_assert!(!shown.contains(KEY), "{}", shown);
                // The key was in what the error shows, and was taken out.
                let redirect = (300..400).contains(&status);
                if parsed && !(200..300).contains(&status) || redirect {
                    prop_assert!(shown.contains("[redacted]"), "{}", shown);
                }
                if let Body::Complete(_) = b {
                    prop_assert!(e.body().is_some_and(|t| t.contains("[redacted]")), "the body is kept, redacted: {:?}", e.body());
                }
                prop_assert_eq!(e.request_id(), Some("req_[redacted]"));
            }
        }
    }
}

/// Everything an error shows: Display, Debug, every accessor that returns text (the response's
/// body and headers included) and the chain of sources.
fn every_surface(e: &crate::Error) -> String {
    use std::error::Error as _;
    let mut shown = format!("{e}\n{e:?}\n{}", e.message());
    for part in [e.code(), e.request_id(), e.path(), e.expected(), e.received(), e.post_item_id(), e.cause(), e.body()].into_iter().flatten() {
        shown.push('\n');
        shown.push_str(part);
    }
    for (name, value) in e.headers().unwrap_or_default() {
        shown.push_str(&format!("\n{name}: {value}"));
    }
    let mut source = e.source();
    while let Some(s) = source {
        shown.push_str(&format!("\n{s} {s:?}"));
        source = s.source();
    }
    shown
}

/// Guards the generator: a validator property that only ever sees rejections proves little.
/// A plain test with a fixed seed (PROPTEST_CASES must not scale it).
#[test]
fn documents_cover_both_outcomes() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = document();
    let accepted = (0..2000)
        .filter(|_| strategy.new_tree(&mut runner).map(|t| oracle(&t.current(), "p1").is_ok()).unwrap_or(false))
        .count();
    assert!((100..=1900).contains(&accepted), "accepted {accepted} of 2000");
}

/// Guards the timestamp generator: both outcomes, and the edges two wrong rules would pass
/// (every fourth year a leap year; offsets up to 99) come up within `make test`'s 400 cases.
#[test]
fn stamps_cover_the_edges() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = stamp();
    let all: Vec<String> = (0..400).map(|_| strategy.new_tree(&mut runner).unwrap().current()).collect();
    let valid = all.iter().filter(|s| oracle_rfc3339(s)).count();
    assert!((40..=360).contains(&valid), "{valid} of 400 valid");
    let century_feb29 = all.iter().filter(|s| (s.starts_with("2100-02-29") || s.starts_with("1900-02-29")) && oracle_rfc3339(&s.replacen("-02-29", "-02-28", 1))).count();
    let big_offset = all.iter().filter(|s| s.len() >= 6 && matches!(s.get(s.len() - 6..s.len() - 3), Some("+24" | "-24" | "+99" | "-99"))).count();
    assert!(century_feb29 >= 4 && big_offset >= 4, "Feb 29 of 1900/2100 (otherwise valid): {century_feb29}, offsets 24/99: {big_offset}");
}

/// The oracle's own timestamp check against hand-picked cases, so that the validator property
/// compares two independent readings of the RFC.
#[test]
fn oracle_timestamps() {
    for good in ["2026-04-15T09:00:00Z", "2026-04-15t09:00:00z", "2024-02-29T23:59:60.5-05:30", "2026-04-15T09:00:00.123+02:00"] {
        assert!(oracle_rfc3339(good), "{good}");
    }
    for bad in ["2026-04-15T09:00:00", "2025-02-29T09:00:00Z", "2026-04-31T09:00:00Z", "2026-04-15T24:00:00Z", "2026-04-15T09:00:00.Z",
        "2026-04-15T09:00:00+0200", "2026-04-15 09:00:00Z", "+026-04-15T09:00:00Z", "2026-4-15T09:00:00Z", "2026-04-15T09:00:00Z "] {
        assert!(!oracle_rfc3339(bad), "{bad}");
    }
}

/// How often the jsonish generator hits serde_json's two limits (a number beyond a double,
/// nesting past 128): they are refusals like any other, but must stay rare or the
/// differential property mostly tests them.
#[test]
fn texts_cover_both_outcomes_and_rarely_hit_the_parser_limits() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = texts();
    let (mut limits, mut valid) = (0, 0);
    for _ in 0..2000 {
        let s = strategy.new_tree(&mut runner).unwrap().current();
        match serde_json::from_str::<J>(s.strip_prefix('\u{feff}').unwrap_or(&s)) {
            Ok(_) => valid += 1,
            Err(e) if e.to_string().contains("out of range") || e.to_string().contains("recursion limit") => limits += 1,
            Err(_) => {}
        }
    }
    assert!(limits < 100, "{limits} of 2000 hit a parser limit");
    assert!((200..=1800).contains(&valid), "{valid} of 2000 are valid JSON");
}

// ---- Snapshot history ---------------------------------------------------------------------
//
// The oracle: a plain, obviously-right reading of the rules over whole seconds: sort by time,
// keep the first of each instant, subtract neighbours, and walk the expected days one by one.

mod history_oracle {
    use crate::history::{History, Snapshot};

    pub(super) const DAY: i64 = 86_400_000;

    /// (seconds since the start, views, likes, comments) → the snapshot.
    pub(super) fn snapshot(start: i64, (secs, v, l, c): (i64, u64, u64, u64)) -> Snapshot {
        Snapshot::new(crate::history::iso_ms(start + secs * 1000), v, l, c)
    }

    pub(super) struct Expected {
        pub(super) times: Vec<i64>,
        pub(super) gains: Vec<(i64, i64, i64)>,
        pub(super) gap_times: Vec<i64>,
        pub(super) complete: bool,
    }

    pub(super) fn expected(start: i64, raw: &[(i64, u64, u64, u64)], checked: Option<i64>) -> Expected {
        let mut kept: Vec<(i64, u64, u64, u64)> = Vec::new();
        for r in raw {
            if !kept.iter().any(|k| k.0 == r.0) {
                kept.push(*r);
            }
        }
        kept.sort_by_key(|k| k.0);
        let ms = |secs: i64| start + secs * 1000;
        let mut gains = Vec::new();
        let mut gap_times = Vec::new();
        for pair in kept.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            gains.push((b.1 as i64 - a.1 as i64, b.2 as i64 - a.2 as i64, b.3 as i64 - a.3 as i64));
            // Every whole day after `a` that is more than half a day before `b` was expected.
            let mut t = ms(a.0) + DAY;
            while ms(b.0) - t >= DAY / 2 && gap_times.len() < 90 {
                gap_times.push(t);
                t += DAY;
            }
        }
        let complete = match (kept.first(), kept.last()) {
            (Some(f), Some(l)) => {
                ms(l.0) - ms(f.0) >= 89 * DAY || checked.is_some_and(|c| c - ms(l.0) >= 3 * DAY)
            }
            _ => false,
        };
        Expected { times: kept.iter().map(|k| ms(k.0)).collect(), gains, gap_times, complete }
    }

    pub(super) fn ours(start: i64, raw: &[(i64, u64, u64, u64)], checked: Option<i64>) -> History {
        History::build("p", raw.iter().map(|r| snapshot(start, *r)), checked.map(|c| c as f64), DAY as u64)
    }
}

/// A generated snapshot: (seconds since the start, views, likes, comments).
type RawSnapshot = (i64, u64, u64, u64);

fn history_inputs() -> impl Strategy<Value = (Vec<RawSnapshot>, Option<i64>)> {
    // Mostly about a day apart, with repeats, drifts, missed days and corrections.
    let snap = (0i64..(120 * 86_400), 0u64..1_000_000, 0u64..50_000, 0u64..5_000);
    (prop::collection::vec(snap, 0..40), prop::option::of(0i64..(130 * 86_400_000)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn history_agrees_with_the_oracle((raw, checked) in history_inputs()) {
        use history_oracle::*;
        let start = 1_767_225_600_000; // 2026-01-01T00:00:00Z
        let checked = checked.map(|c| start + c);
        let h = ours(start, &raw, checked);
        let want = expected(start, &raw, checked);
        let times: Vec<i64> = h.snapshots.iter().map(|s| s.at_ms().unwrap()).collect();
        prop_assert_eq!(&times, &want.times, "order and one per instant");
        let gains: Vec<(i64, i64, i64)> = h.gains.iter().map(|g| (g.views, g.likes, g.comments)).collect();
        prop_assert_eq!(&gains, &want.gains, "gains, negative ones kept");
        let gaps: Vec<i64> = h.gaps.iter().map(|g| crate::cache::rfc3339_ms(&g.expected_at).unwrap() as i64).collect();
        prop_assert_eq!(&gaps, &want.gap_times, "gaps at their expected times");
        prop_assert_eq!(h.complete, want.complete);
    }

    #[test]
    fn history_is_idempotent_and_order_free((raw, checked) in history_inputs(), seed in any::<u64>()) {
        use history_oracle::*;
        let start = 1_767_225_600_000;
        let h = ours(start, &raw, checked);
        // Written twice, in another order (the first of an instant still first): the same series.
        let mut twice = raw.clone();
        twice.extend(raw.iter().copied());
        let mut shuffled: Vec<(usize, (i64, u64, u64, u64))> = twice.into_iter().enumerate().collect();
        shuffled.sort_by_key(|(i, r)| (r.0, *i)); // stable by time: firsts stay first
        let n = shuffled.len().max(1);
        shuffled.rotate_left((seed as usize) % n);
        shuffled.sort_by_key(|(i, r)| (r.0, *i % raw.len().max(1), *i));
        let again = ours(start, &shuffled.into_iter().map(|(_, r)| r).collect::<Vec<_>>(), checked);
        prop_assert_eq!(&again.snapshots, &h.snapshots);
        prop_assert_eq!(again.gains, h.gains);
        prop_assert_eq!(again.gaps, h.gaps);
    }
}
