//! What the proxy may spend upstream, the key's rate limit: at most `max_active` requests at
//! once, the rest waiting in a first-come queue of at most `max_queue`; past that, refused at
//! once. When PowerPost says the budget is spent (429, or `X-RateLimit-Remaining: 0`), nothing
//! goes upstream until the reset it named. Pure (tickets, counts and times, no waiting): the
//! wasm side parks and wakes the requests, and shares the pause through a store.

use std::collections::VecDeque;

use crate::retry::WaitHints;
use crate::types::RateLimit;

/// Default `maxConcurrentUpstream`: upstream requests in flight at once.
pub const DEFAULT_MAX_CONCURRENT_UPSTREAM: u32 = 8;
/// Default `maxQueue`: requests waiting for an upstream slot.
pub const DEFAULT_MAX_QUEUE: u32 = 256;
/// The `Retry-After` of a 503 `PROXY_BUSY`, in seconds.
pub(crate) const BUSY_RETRY_AFTER_S: u64 = 1;

/// A pause longer than this is cut to it: an absurd wait from upstream must not stop the proxy
/// for good (rate-limit windows are at most an hour).
pub(crate) const PAUSE_MAX_MS: u64 = 3_600_000;
/// The pause after a 429 that names no wait.
pub(crate) const PAUSE_DEFAULT_MS: u64 = 1_000;

/// The admission rules: who may send upstream now, who waits, who is refused.
#[derive(Debug)]
pub(crate) struct Guard {
    max_active: usize,
    max_queue: usize,
    active: usize,
    /// Tickets of the waiting requests, first come first.
    queue: VecDeque<u64>,
    next_ticket: u64,
    pause: Option<Pause>,
}

/// Nothing goes upstream before `until_ms` (Unix epoch ms): the key's budget is spent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Pause {
    pub(crate) until_ms: f64,
    /// The `X-RateLimit-*` of the answer that said so, passed on to callers.
    pub(crate) rate_limit: Option<RateLimit>,
}

impl Pause {
    /// As a store keeps it: `pause <until_ms> [<limit> <remaining> <reset>]`, whole numbers
    /// (integer parsing only: float parsing's tables would weigh on the proxy's module).
    pub(crate) fn to_store(self) -> String {
        let until = self.until_ms.max(0.0).ceil() as u64;
        match self.rate_limit {
            Some(r) => format!("pause {until} {} {} {}", r.limit, r.remaining, r.reset),
            None => format!("pause {until}"),
        }
    }

    /// From a store's text; `None` for anything else.
    pub(crate) fn from_store(text: &str) -> Option<Pause> {
        let mut parts = text.strip_prefix("pause ")?.split(' ').map(str::parse::<u64>);
        let until_ms = parts.next()?.ok()? as f64;
        let rest: Vec<u64> = parts.collect::<Result<_, _>>().ok()?;
        let rate_limit = match rest.as_slice() {
            [] => None,
            [limit, remaining, reset] => Some(RateLimit::new(*limit, *remaining, *reset)),
            _ => return None,
        };
        Some(Pause { until_ms, rate_limit })
    }
}

/// Until when the key's budget is spent, from an upstream answer of `status` (and what it said
/// about waiting): a 429, or `X-RateLimit-Remaining: 0` on any answer, pauses until the wait the
/// client's rules read (`Retry-After`, the body's `retryAfter`, `X-RateLimit-Reset`), at most
/// [`PAUSE_MAX_MS`].
pub(crate) fn pause_after(status: u16, hints: &WaitHints, now_ms: f64) -> Option<Pause> {
    let spent = hints.rate_limit.is_some_and(|r| r.remaining == 0);
    if status != 429 && !spent {
        return None;
    }
    let wait = match hints.server_wait_ms(now_ms) {
        Some(ms) => ms,
        None if status == 429 => PAUSE_DEFAULT_MS,
        None => return None,
    };
    let wait = wait.min(PAUSE_MAX_MS);
    (wait > 0).then_some(Pause { until_ms: now_ms + wait as f64, rate_limit: hints.rate_limit })
}

/// The answer to a request for an upstream slot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Admit {
    /// Send now (the slot is taken: [`Guard::release`] it after).
    Go,
    /// Wait with this ticket until [`Guard::turn`] says go.
    Queued(u64),
    /// The queue is full: refuse.
    Busy,
    /// The key's budget is spent until then: refuse.
    Paused(Pause),
}

/// What a waiting request learns when it looks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Turn {
    /// Its slot is taken: send.
    Go,
    /// Not yet.
    Wait,
    /// The budget was spent meanwhile: it has left the queue, refuse.
    Paused(Pause),
}

impl Guard {
    pub(crate) fn new(max_active: u32, max_queue: u32) -> Guard {
        Guard {
            max_active: (max_active as usize).max(1),
            max_queue: max_queue as usize,
            active: 0,
            queue: VecDeque::new(),
            next_ticket: 0,
            pause: None,
        }
    }

    /// The pause in force at `now_ms`, if any.
    pub(crate) fn paused(&self, now_ms: f64) -> Option<Pause> {
        self.pause.filter(|p| now_ms < p.until_ms)
    }

    /// Stops everything until `pause.until_ms` (a later pause in force is kept). Returns the
    /// waiting tickets when the pause is new or longer: they are to be woken, and refused.
    pub(crate) fn pause(&mut self, pause: Pause) -> Vec<u64> {
        if self.pause.is_some_and(|p| p.until_ms >= pause.until_ms) {
            return Vec::new();
        }
        self.pause = Some(pause);
        self.queue.iter().copied().collect()
    }

    /// A new request asks for a slot at `now_ms`. Waiting requests go first: a free slot is theirs.
    pub(crate) fn ask(&mut self, now_ms: f64) -> Admit {
        if let Some(p) = self.paused(now_ms) {
            return Admit::Paused(p);
        }
        if self.queue.is_empty() && self.active < self.max_active {
            self.active += 1;
            return Admit::Go;
        }
        if self.queue.len() >= self.max_queue {
            return Admit::Busy;
        }
        self.next_ticket += 1;
        self.queue.push_back(self.next_ticket);
        Admit::Queued(self.next_ticket)
    }

    /// Whether the waiting `ticket` may send at `now_ms`; if so its slot is taken and it leaves
    /// the queue. During a pause it leaves the queue refused.
    pub(crate) fn turn(&mut self, ticket: u64, now_ms: f64) -> Turn {
        if let Some(p) = self.paused(now_ms) {
            self.queue.retain(|t| *t != ticket);
            return Turn::Paused(p);
        }
        if self.queue.front() == Some(&ticket) && self.active < self.max_active {
            self.queue.pop_front();
            self.active += 1;
            return Turn::Go;
        }
        Turn::Wait
    }

    /// A waiting request gives up (its time is over, or it was dropped). Returns the ticket to
    /// wake when that lets the next one go.
    pub(crate) fn leave(&mut self, ticket: u64) -> Option<u64> {
        self.queue.retain(|t| *t != ticket);
        self.next_up()
    }

    /// A request that went is done with its slot. Returns the ticket to wake, if one waits.
    pub(crate) fn release(&mut self) -> Option<u64> {
        self.active = self.active.saturating_sub(1);
        self.next_up()
    }

    /// The first waiting ticket, when a slot is free for it.
    pub(crate) fn next_up(&self) -> Option<u64> {
        self.queue.front().copied().filter(|_| self.active < self.max_active)
    }

    /// Requests sending now, and waiting.
    #[cfg(test)]
    pub(crate) fn load(&self) -> (usize, usize) {
        (self.active, self.queue.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_max_active_go_then_a_bounded_queue_then_busy() {
        let mut g = Guard::new(2, 2);
        assert_eq!((g.ask(0.0), g.ask(0.0)), (Admit::Go, Admit::Go));
        let (Admit::Queued(a), Admit::Queued(b)) = (g.ask(0.0), g.ask(0.0)) else { panic!("queued") };
        assert_eq!(g.ask(0.0), Admit::Busy, "the queue is full");
        assert_eq!(g.load(), (2, 2));
        assert_eq!(g.turn(a, 0.0), Turn::Wait, "no slot yet");
        assert_eq!(g.release(), Some(a), "the first waiting is woken");
        assert_eq!(g.turn(b, 0.0), Turn::Wait, "first come first");
        assert_eq!(g.turn(a, 0.0), Turn::Go);
        assert_eq!(g.load(), (2, 1));
        // A newcomer does not overtake the queue when a slot frees.
        assert_eq!(g.release(), Some(b));
        assert!(matches!(g.ask(0.0), Admit::Queued(_)));
        assert_eq!(g.turn(b, 0.0), Turn::Go);
        assert_eq!(g.load(), (2, 1));
    }

    #[test]
    fn a_waiting_request_that_leaves_passes_its_turn_on() {
        let mut g = Guard::new(1, 3);
        assert_eq!(g.ask(0.0), Admit::Go);
        let (Admit::Queued(a), Admit::Queued(b)) = (g.ask(0.0), g.ask(0.0)) else { panic!("queued") };
        assert_eq!(g.leave(b), None, "no slot free: nobody to wake");
        assert_eq!(g.release(), Some(a));
        // Woken, but gone before it looked: the next one is woken instead.
        let Admit::Queued(c) = g.ask(0.0) else { panic!("queued") };
        assert_eq!(g.leave(a), Some(c));
        assert_eq!(g.turn(c, 0.0), Turn::Go);
        assert_eq!(g.load(), (1, 0));
        assert_eq!(g.release(), None);
        assert_eq!(g.load(), (0, 0));
    }

    #[test]
    fn a_pause_refuses_new_and_waiting_requests_until_it_ends() {
        let mut g = Guard::new(1, 4);
        assert_eq!(g.ask(0.0), Admit::Go);
        let (Admit::Queued(a), Admit::Queued(b)) = (g.ask(0.0), g.ask(0.0)) else { panic!("queued") };
        let p = Pause { until_ms: 5_000.0, rate_limit: Some(RateLimit::new(10, 0, 5)) };
        assert_eq!(g.pause(p), vec![a, b], "the waiting are woken, to be refused");
        assert_eq!(g.pause(Pause { until_ms: 4_000.0, rate_limit: None }), Vec::<u64>::new(), "a shorter pause changes nothing");
        assert_eq!(g.turn(a, 100.0), Turn::Paused(p));
        assert_eq!(g.ask(4_999.0), Admit::Paused(p));
        assert_eq!(g.release(), Some(b));
        assert_eq!(g.turn(b, 200.0), Turn::Paused(p));
        assert_eq!(g.load(), (0, 0));
        assert_eq!(g.ask(5_000.0), Admit::Go, "over at the reset");
    }

    #[test]
    fn the_pause_follows_the_clients_rules_for_waits() {
        let hints = |retry_after: Option<&str>, body: Option<f64>, rl: Option<RateLimit>| WaitHints {
            retry_after_header: retry_after.map(Into::into),
            body_retry_after_secs: body,
            rate_limit: rl,
        };
        let now = 1_000_000.0;
        assert_eq!(pause_after(429, &hints(Some("3"), Some(9.0), None), now).map(|p| p.until_ms), Some(now + 3_000.0));
        assert_eq!(pause_after(429, &hints(None, Some(9.0), None), now).map(|p| p.until_ms), Some(now + 9_000.0));
        let spent = RateLimit::new(100, 0, 1_030);
        let p = pause_after(200, &hints(None, None, Some(spent)), now).unwrap();
        assert_eq!((p.until_ms, p.rate_limit), (1_030_000.0, Some(spent)), "remaining 0 on a success: until the reset");
        assert_eq!(pause_after(200, &hints(None, None, Some(RateLimit::new(100, 1, 1_030))), now), None);
        assert_eq!(pause_after(404, &hints(Some("3"), None, None), now), None, "only the budget pauses");
        assert_eq!(pause_after(429, &hints(None, None, None), now).map(|p| p.until_ms), Some(now + 1_000.0), "a 429 naming no wait");
        assert_eq!(pause_after(429, &hints(Some("18446744073709552"), None, None), now).map(|p| p.until_ms), Some(now + 3_600_000.0), "at most an hour");
        assert_eq!(Pause::from_store(&p.to_store()), Some(p));
        let bare = Pause { until_ms: 5.0, rate_limit: None };
        assert_eq!(Pause::from_store(&bare.to_store()), Some(bare));
        for bad in ["{}", "soon", "pause", "pause x", "pause 1 2", "pause 1 2 3 4 5", "pause -1"] {
            assert_eq!(Pause::from_store(bad), None, "{bad}");
        }
    }

    #[test]
    fn no_queue_refuses_at_once_and_limits_are_at_least_one() {
        let mut g = Guard::new(0, 0);
        assert_eq!(g.ask(0.0), Admit::Go, "at least one request at a time");
        assert_eq!(g.ask(0.0), Admit::Busy);
    }
}
