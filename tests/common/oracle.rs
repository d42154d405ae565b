//! The rules of the core issue written independently of `src/validate.rs`, over serde_json
//! values: the oracle the property tests compare the validator against, natively
//! (`src/properties.rs`) and on wasm, where the body reader is `JSON.parse` + serde-wasm-bindgen
//! (`tests/wasm_client.rs`). Included by path in both; not a test of its own.

use serde_json::Value as J;

/// RFC 3339 `date-time` written from the RFC's grammar for the oracle, independently of
/// `validate::is_rfc3339`: full-date "T" partial-time time-offset, with calendar ranges.
pub fn oracle_rfc3339(s: &str) -> bool {
    let num = |p: &str, len: usize| (p.len() == len && p.bytes().all(|b| b.is_ascii_digit())).then(|| p.parse::<u32>().ok()).flatten();
    let Some((date, time)) = s.split_once(['T', 't']) else { return false };
    let mut d = date.split('-');
    let (Some(y), Some(m), Some(day), None) = (d.next().and_then(|p| num(p, 4)), d.next().and_then(|p| num(p, 2)), d.next().and_then(|p| num(p, 2)), d.next()) else {
        return false;
    };
    let leap = y % 400 == 0 || (y % 4 == 0 && y % 100 != 0);
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&m) || day < 1 || day > month_days[(m - 1) as usize] {
        return false;
    }
    let (partial, offset_ok) = if let Some(p) = time.strip_suffix(['Z', 'z']) {
        (p, true)
    } else if time.len() >= 6 && time.is_char_boundary(time.len() - 6) {
        let (p, off) = time.split_at(time.len() - 6);
        let ok = (off.starts_with('+') || off.starts_with('-'))
            && matches!(off[1..].split_once(':'), Some((h, mi)) if num(h, 2).is_some_and(|h| h <= 23) && num(mi, 2).is_some_and(|mi| mi <= 59));
        (p, ok)
    } else {
        return false;
    };
    let (hms, frac) = match partial.split_once('.') {
        Some((hms, frac)) => (hms, Some(frac)),
        None => (partial, None),
    };
    if frac.is_some_and(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    let mut t = hms.split(':');
    matches!((t.next().and_then(|p| num(p, 2)), t.next().and_then(|p| num(p, 2)), t.next().and_then(|p| num(p, 2)), t.next()),
        (Some(h), Some(mi), Some(sec), None) if h <= 23 && mi <= 59 && sec <= 60)
        && offset_ok
}

/// (post_item_id, post_type, platform, status, metrics) as the oracle sees them.
pub type Expected = (String, String, String, String, Option<(u64, u64, u64, String)>);

/// The rules of the core issue, written independently over serde_json values.
pub fn oracle(v: &J, expected_id: &str) -> Result<Expected, String> {
    let o = v.as_object().ok_or("$")?;
    let non_empty = |k: &str| match o.get(k) {
        Some(J::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(k.to_owned()),
    };
    let id = non_empty("post_item_id")?;
    if id != expected_id {
        return Err("post_item_id".into());
    }
    let post_type = non_empty("post_type")?;
    let platform = non_empty("platform")?;
    let status = match o.get("status") {
        Some(J::String(s)) => s.clone(),
        _ => return Err("status".into()),
    };
    let metrics = match o.get("metrics") {
        Some(J::Null) => None,
        Some(J::Object(m)) => {
            let fetched = match m.get("fetched_at") {
                Some(J::String(s)) if oracle_rfc3339(s) => s.clone(),
                _ => return Err("metrics.fetched_at".into()),
            };
            let count = |k: &str| -> Result<u64, String> {
                match m.get(k) {
                    None | Some(J::Null) => Ok(0),
                    Some(J::Number(n)) => match n.as_f64() {
                        Some(f) if f.fract() == 0.0 && (0.0..=9_007_199_254_740_991.0).contains(&f) => Ok(f as u64),
                        _ => Err(format!("metrics.{k}")),
                    },
                    _ => Err(format!("metrics.{k}")),
                }
            };
            Some((count("views")?, count("likes")?, count("comments")?, fetched))
        }
        _ => return Err("metrics".into()),
    };
    Ok((id, post_type, platform, status, metrics))
}
