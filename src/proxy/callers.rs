//! The per-caller limit: at most `per_minute` lookups in a minute from one caller (a client
//! address, or what the app's `key(request)` names), counted before anything is asked of
//! PowerPost. Each caller's minute starts at its first lookup. Pure: the clock is passed in.

use std::collections::HashMap;

/// Default `callerLimit.perMinute` where the limit is on by default (`allowAnonymous`, the CLI).
pub const DEFAULT_CALLER_PER_MINUTE: u32 = 60;
/// Callers counted at once; past that, a caller not counted yet is refused too (a flood of
/// addresses must not buy its way past the limit) until minutes end.
const MAX_CALLERS: usize = 100_000;
const MINUTE_MS: f64 = 60_000.0;

/// Each caller's minute: when it started, and the lookups in it.
#[derive(Debug)]
pub(crate) struct Callers {
    per_minute: u32,
    minutes: HashMap<String, (f64, u32)>,
    /// When ended minutes were last dropped (at most once a second, when the map is full).
    pruned_ms: f64,
}

impl Callers {
    pub(crate) fn new(per_minute: u32) -> Callers {
        Callers { per_minute: per_minute.max(1), minutes: HashMap::new(), pruned_ms: f64::NEG_INFINITY }
    }

    /// Counts one lookup of `caller` at `now_ms`: `Ok` to go on, or `Err(ms)` to wait until
    /// its minute ends.
    pub(crate) fn admit(&mut self, caller: &str, now_ms: f64) -> Result<(), u64> {
        let per_minute = self.per_minute;
        if let Some((start, n)) = self.minutes.get_mut(caller) {
            // A clock that went back starts a new minute rather than a long one.
            if now_ms - *start >= MINUTE_MS || now_ms < *start {
                *start = now_ms;
                *n = 0;
            }
            if *n >= per_minute {
                return Err((*start + MINUTE_MS - now_ms).ceil().max(1.0) as u64);
            }
            *n += 1;
            return Ok(());
        }
        if self.minutes.len() >= MAX_CALLERS && now_ms - self.pruned_ms >= 1_000.0 {
            self.pruned_ms = now_ms;
            self.minutes.retain(|_, (start, _)| now_ms - *start < MINUTE_MS && now_ms >= *start);
        }
        if self.minutes.len() >= MAX_CALLERS {
            return Err(1_000);
        }
        self.minutes.insert(caller.to_owned(), (now_ms, 1));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_per_minute_per_caller_in_its_own_minute() {
        let mut c = Callers::new(3);
        let t = 130_000.0;
        for i in 0..3 {
            assert_eq!(c.admit("203.0.113.9", t + f64::from(i)), Ok(()));
        }
        assert_eq!(c.admit("203.0.113.9", t + 10_000.0), Err(50_000), "until a minute after its first lookup");
        assert_eq!(c.admit("198.51.100.7", t + 10_000.0), Ok(()), "callers apart");
        assert_eq!(c.admit("203.0.113.9", t + 60_000.0), Ok(()), "a new minute");
        assert_eq!(c.admit("203.0.113.9", t - 5.0), Ok(()), "a clock gone back starts one too");
        assert_eq!(Callers::new(0).admit("a", 0.0), Ok(()), "at least one a minute");
    }
}
