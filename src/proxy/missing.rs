//! Ids PowerPost answered 404 for, kept briefly so that a repeated unknown id does not reach
//! upstream each time. Bounded (the oldest goes first) and pure: the clock is passed in.

use std::collections::{HashMap, VecDeque};

/// Default `cacheNotFoundMs`: how long a 404 is answered from the proxy's cache.
pub const DEFAULT_CACHE_NOT_FOUND_MS: u64 = 60_000;

/// The 404s kept: id → (until when, the API's code and message).
#[derive(Debug, Default)]
pub(crate) struct Missing {
    entries: HashMap<String, (f64, String, String)>,
    /// Ids in the order they were first kept, for eviction.
    order: VecDeque<String>,
    max: usize,
}

impl Missing {
    pub(crate) fn new(max: usize) -> Missing {
        Missing { entries: HashMap::new(), order: VecDeque::new(), max: max.max(1) }
    }

    /// The code and message of the 404 kept for `id`, while it lasts. (An expired one stays
    /// until it is evicted: every kept id has its one place in `order`.)
    pub(crate) fn get(&self, id: &str, now_ms: f64) -> Option<(String, String)> {
        self.entries.get(id).filter(|(until, _, _)| now_ms < *until).map(|(_, code, message)| (code.clone(), message.clone()))
    }

    /// Keeps the 404 for `id` until `until_ms`.
    pub(crate) fn put(&mut self, id: &str, until_ms: f64, code: String, message: String) {
        if self.entries.insert(id.to_owned(), (until_ms, code, message)).is_none() {
            self.order.push_back(id.to_owned());
        }
        while self.entries.len() > self.max {
            match self.order.pop_front() {
                Some(old) => self.entries.remove(&old),
                None => break,
            };
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_404_is_kept_until_it_expires_and_the_oldest_goes_first() {
        let mut m = Missing::new(2);
        m.put("a", 1_000.0, "NOT_FOUND".into(), "Post item not found".into());
        assert_eq!(m.get("a", 999.0), Some(("NOT_FOUND".into(), "Post item not found".into())));
        assert_eq!(m.get("a", 1_000.0), None, "expired");
        m.put("b", 1_000.0, "NOT_FOUND".into(), "b".into());
        m.put("c", 1_000.0, "NOT_FOUND".into(), "c".into());
        m.put("d", 1_000.0, "NOT_FOUND".into(), "d".into());
        assert_eq!(m.len(), 2);
        assert!(m.get("b", 0.0).is_none() && m.get("c", 0.0).is_some() && m.get("d", 0.0).is_some());
        for i in 0..1_000 {
            m.put(&format!("x{i}"), 1_000.0, String::new(), String::new());
        }
        assert_eq!((m.len(), m.order.len()), (2, 2));
    }
}
