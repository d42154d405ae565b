//! When to retry and how long to wait: `Retry-After`, the body's `retryAfter`, the rate-limit
//! reset, and exponential backoff with jitter. Pure functions; the clock and the random
//! number are passed in.

use crate::types::RateLimit;

/// First backoff step.
pub const BACKOFF_INITIAL_MS: u64 = 500;
/// Backoff never waits longer than this between two attempts.
pub const BACKOFF_MAX_MS: u64 = 8_000;

/// What a failed response said about waiting.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WaitHints {
    /// The `Retry-After` header, as sent.
    pub retry_after_header: Option<String>,
    /// The body's `retryAfter`, in seconds.
    pub body_retry_after_secs: Option<f64>,
    /// The `X-RateLimit-*` headers.
    pub rate_limit: Option<RateLimit>,
}

/// Where a wait came from, for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitSource {
    /// The `Retry-After` header.
    RetryAfterHeader,
    /// The body's `retryAfter`.
    BodyRetryAfter,
    /// `X-RateLimit-Remaining: 0`, until `X-RateLimit-Reset`.
    RateLimitReset,
    /// Exponential backoff: the server named no wait.
    Backoff,
}

impl WaitSource {
    /// How a log line names it.
    pub fn describe(self) -> &'static str {
        match self {
            WaitSource::RetryAfterHeader => "the Retry-After header",
            WaitSource::BodyRetryAfter => "the body's retryAfter",
            WaitSource::RateLimitReset => "X-RateLimit-Reset",
            WaitSource::Backoff => "backoff",
        }
    }
}

impl WaitHints {
    /// The wait the server asked for, in milliseconds, if it asked: `Retry-After`, else the
    /// body's `retryAfter`, else — when `X-RateLimit-Remaining` is 0 — until
    /// `X-RateLimit-Reset`.
    pub fn server_wait_ms(&self, now_ms: f64) -> Option<u64> {
        self.server_wait(now_ms).map(|(ms, _)| ms)
    }

    /// [`WaitHints::server_wait_ms`], with where the wait came from.
    pub fn server_wait(&self, now_ms: f64) -> Option<(u64, WaitSource)> {
        if let Some(ms) = self.retry_after_header.as_deref().and_then(|h| parse_retry_after(h, now_ms)) {
            return Some((ms, WaitSource::RetryAfterHeader));
        }
        if let Some(secs) = self.body_retry_after_secs.filter(|s| s.is_finite() && *s >= 0.0) {
            return Some((secs_to_ms(secs), WaitSource::BodyRetryAfter));
        }
        match self.rate_limit {
            Some(rl) if rl.remaining == 0 => Some((until_epoch_secs(rl.reset, now_ms), WaitSource::RateLimitReset)),
            _ => None,
        }
    }
}

fn secs_to_ms(secs: f64) -> u64 {
    // Saturating float-to-int cast: absurd values become u64::MAX, never a panic.
    (secs * 1000.0).ceil() as u64
}

fn until_epoch_secs(epoch_secs: u64, now_ms: f64) -> u64 {
    let target = epoch_secs as f64 * 1000.0;
    if target > now_ms {
        (target - now_ms).ceil() as u64
    } else {
        0
    }
}

/// Parses `Retry-After`: delay-seconds or an HTTP-date (RFC 9110), as milliseconds from
/// `now_ms` (0 for a date in the past).
///
/// ```
/// use powerpost_analytics::retry::parse_retry_after;
/// assert_eq!(parse_retry_after("2", 0.0), Some(2000));
/// assert_eq!(parse_retry_after("Thu, 01 Jan 1970 00:00:10 GMT", 4000.0), Some(6000));
/// assert_eq!(parse_retry_after("soon", 0.0), None);
/// ```
pub fn parse_retry_after(value: &str, now_ms: f64) -> Option<u64> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(v.parse::<u64>().map_or(u64::MAX, |s| s.saturating_mul(1000)));
    }
    // Some servers send fractional seconds although the RFC does not allow them.
    if let Some((whole, frac)) = v.split_once('.') {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if digits(whole) && digits(frac) {
            let secs = whole.parse::<u64>().unwrap_or(u64::MAX);
            // Milliseconds from the first three fractional digits, rounded up.
            let mut ms = 0u64;
            for (i, b) in frac.bytes().chain(std::iter::repeat(b'0')).take(3).enumerate() {
                ms += u64::from(b - b'0') * [100, 10, 1].get(i).copied().unwrap_or(0);
            }
            let rest_nonzero = frac.bytes().skip(3).any(|b| b != b'0');
            return Some(secs.saturating_mul(1000).saturating_add(ms + u64::from(rest_nonzero)));
        }
    }
    let epoch_ms = parse_http_date(v)?;
    Some(if epoch_ms > now_ms { (epoch_ms - now_ms).ceil() as u64 } else { 0 })
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) into Unix epoch milliseconds.
pub fn parse_http_date(s: &str) -> Option<f64> {
    let mut parts = s.split_ascii_whitespace();
    let _weekday = parts.next()?.strip_suffix(',')?;
    let day: u32 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':').map(|p| p.parse::<u32>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    if parts.next()? != "GMT" || parts.next().is_some() || hms.next().is_some() {
        return None;
    }
    if !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 || !(1970..=9999).contains(&year) {
        return None;
    }
    let days = days_from_civil(year, month, i64::from(day));
    Some((days * 86_400 + i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(sec)) as f64 * 1000.0)
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Exponential backoff before retry number `retry` (1 for the first retry): 0.5 s doubling to
/// at most 8 s, then shortened by up to 25 % with `random` in `[0, 1)` so that many clients do
/// not retry in lockstep.
///
/// ```
/// use powerpost_analytics::retry::backoff_ms;
/// assert_eq!(backoff_ms(1, 0.0), 500);
/// assert_eq!(backoff_ms(2, 0.0), 1000);
/// assert_eq!(backoff_ms(10, 0.0), 8000);
/// assert_eq!(backoff_ms(1, 0.999_999), 375);
/// ```
pub fn backoff_ms(retry: u32, random: f64) -> u64 {
    let exp = retry.saturating_sub(1).min(16);
    let base = BACKOFF_INITIAL_MS.saturating_mul(1u64 << exp).min(BACKOFF_MAX_MS);
    let jitter = 1.0 - random.clamp(0.0, 1.0) * 0.25;
    (base as f64 * jitter).round() as u64
}

/// Whether an HTTP status is worth retrying (GET is safe to repeat).
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after("0", 0.0), Some(0));
        assert_eq!(parse_retry_after(" 30 ", 0.0), Some(30_000));
        assert_eq!(parse_retry_after("1.5", 0.0), Some(1500));
        assert_eq!(parse_retry_after("99999999999999999999999", 0.0), Some(u64::MAX));
        assert_eq!(parse_retry_after("-1", 0.0), None);
        assert_eq!(parse_retry_after("", 0.0), None);
        assert_eq!(parse_retry_after("1e3", 0.0), None);
        let t = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(t, 784_111_777_000.0);
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t - 2500.0), Some(2500));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t + 1.0), Some(0));
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"), None);
        assert_eq!(parse_http_date("Sun, 32 Nov 1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37:1 GMT"), None);
        assert_eq!(parse_http_date("Thu, 29 Feb 2024 00:00:00 GMT"), Some(1_709_164_800_000.0));
    }

    #[test]
    fn fractional_retry_after_reads_three_digits_and_rounds_up() {
        for (value, ms) in [
            ("1.0001", 1001), // a fourth digit rounds up
            ("1.255", 1255),  // all three digits read, not two
            ("1.25", 1250),
            ("0.001", 1),
            ("0.0001", 1),
            ("1.0000", 1000), // zeros past the third digit are not a remainder
            ("2.9999", 3000),
            ("0.999", 999),
            ("0.0", 0), // the smallest accepted value
            ("00.000", 0),
            (" 1.5 ", 1500),
            ("18446744073709551.615", u64::MAX), // the largest exact one
            ("18446744073709551.616", u64::MAX), // past it: saturates, never wraps
            ("99999999999999999999999.5", u64::MAX),
        ] {
            assert_eq!(parse_retry_after(value, 0.0), Some(ms), "{value:?}");
        }
        for refused in [".5", "1.", "1.5.5", "-1.5", "+1.5", "1,5", "1.5s", "1e-3", "1. 5"] {
            assert_eq!(parse_retry_after(refused, 0.0), None, "{refused:?}");
        }
    }

    #[test]
    fn server_wait_precedence() {
        let rl = Some(RateLimit { limit: 10, remaining: 0, reset: 100 });
        let mut h = WaitHints {
            retry_after_header: Some("3".into()),
            body_retry_after_secs: Some(7.0),
            rate_limit: rl,
        };
        assert_eq!(h.server_wait_ms(0.0), Some(3000), "header first");
        assert_eq!(h.server_wait(0.0), Some((3000, WaitSource::RetryAfterHeader)));
        h.retry_after_header = Some("garbage".into());
        assert_eq!(h.server_wait_ms(0.0), Some(7000), "then the body");
        h.body_retry_after_secs = None;
        assert_eq!(h.server_wait_ms(98_500.0), Some(1500), "then the reset");
        assert_eq!(h.server_wait(98_500.0).map(|w| w.1), Some(WaitSource::RateLimitReset));
        assert_eq!(h.server_wait_ms(200_000.0), Some(0), "a reset in the past");
        h.rate_limit = Some(RateLimit { limit: 10, remaining: 3, reset: 100 });
        assert_eq!(h.server_wait_ms(0.0), None, "budget left: plain backoff");
        h.body_retry_after_secs = Some(f64::NAN);
        assert_eq!(h.server_wait_ms(0.0), None);
    }

    #[test]
    fn backoff_doubles_caps_and_jitters_down() {
        let plain: Vec<u64> = (1..=7).map(|n| backoff_ms(n, 0.0)).collect();
        assert_eq!(plain, [500, 1000, 2000, 4000, 8000, 8000, 8000]);
        assert_eq!(backoff_ms(u32::MAX, 0.0), 8000);
        for r in [0.1, 0.5, 0.9] {
            let b = backoff_ms(3, r);
            assert!((1500..2000).contains(&b), "{b}");
        }
        assert_eq!(backoff_ms(0, 0.0), 500);
    }

    #[test]
    fn retryable_statuses() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(is_retryable_status(s));
        }
        for s in [400, 401, 402, 403, 404, 409, 422, 501, 505] {
            assert!(!is_retryable_status(s));
        }
    }
}
