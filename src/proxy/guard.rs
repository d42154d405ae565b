//! What the proxy may spend upstream, the key's rate limit: at most `max_active` requests at
//! once, the rest waiting in a first-come queue of at most `max_queue`; past that, refused at
//! once. Pure (tickets and counts, no waiting): the wasm side parks and wakes the requests.

use std::collections::VecDeque;

/// Default `maxConcurrentUpstream`: upstream requests in flight at once.
pub const DEFAULT_MAX_CONCURRENT_UPSTREAM: u32 = 8;
/// Default `maxQueue`: requests waiting for an upstream slot.
pub const DEFAULT_MAX_QUEUE: u32 = 256;
/// The `Retry-After` of a 503 `PROXY_BUSY`, in seconds.
pub(crate) const BUSY_RETRY_AFTER_S: u64 = 1;

/// The admission rules: who may send upstream now, who waits, who is refused.
#[derive(Debug)]
pub(crate) struct Guard {
    max_active: usize,
    max_queue: usize,
    active: usize,
    /// Tickets of the waiting requests, first come first.
    queue: VecDeque<u64>,
    next_ticket: u64,
}

/// The answer to a request for an upstream slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Send now (the slot is taken: [`Guard::release`] it after).
    Go,
    /// Wait with this ticket until [`Guard::turn`] says go.
    Queued(u64),
    /// The queue is full: refuse.
    Busy,
}

impl Guard {
    pub(crate) fn new(max_active: u32, max_queue: u32) -> Guard {
        Guard {
            max_active: (max_active as usize).max(1),
            max_queue: max_queue as usize,
            active: 0,
            queue: VecDeque::new(),
            next_ticket: 0,
        }
    }

    /// A new request asks for a slot. Waiting requests go first: a free slot is theirs.
    pub(crate) fn ask(&mut self) -> Admit {
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

    /// Whether the waiting `ticket` may send now; if so its slot is taken and it leaves the queue.
    pub(crate) fn turn(&mut self, ticket: u64) -> bool {
        let go = self.queue.front() == Some(&ticket) && self.active < self.max_active;
        if go {
            self.queue.pop_front();
            self.active += 1;
        }
        go
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
        assert_eq!((g.ask(), g.ask()), (Admit::Go, Admit::Go));
        let (Admit::Queued(a), Admit::Queued(b)) = (g.ask(), g.ask()) else { panic!("queued") };
        assert_eq!(g.ask(), Admit::Busy, "the queue is full");
        assert_eq!(g.load(), (2, 2));
        assert!(!g.turn(a), "no slot yet");
        assert_eq!(g.release(), Some(a), "the first waiting is woken");
        assert!(!g.turn(b), "first come first");
        assert!(g.turn(a));
        assert_eq!(g.load(), (2, 1));
        // A newcomer does not overtake the queue when a slot frees.
        assert_eq!(g.release(), Some(b));
        assert!(matches!(g.ask(), Admit::Queued(_)));
        assert!(g.turn(b));
        assert_eq!(g.load(), (2, 1));
    }

    #[test]
    fn a_waiting_request_that_leaves_passes_its_turn_on() {
        let mut g = Guard::new(1, 3);
        assert_eq!(g.ask(), Admit::Go);
        let (Admit::Queued(a), Admit::Queued(b)) = (g.ask(), g.ask()) else { panic!("queued") };
        assert_eq!(g.leave(b), None, "no slot free: nobody to wake");
        assert_eq!(g.release(), Some(a));
        // Woken, but gone before it looked: the next one is woken instead.
        let Admit::Queued(c) = g.ask() else { panic!("queued") };
        assert_eq!(g.leave(a), Some(c));
        assert!(g.turn(c));
        assert_eq!(g.load(), (1, 0));
        assert_eq!(g.release(), None);
        assert_eq!(g.load(), (0, 0));
    }

    #[test]
    fn no_queue_refuses_at_once_and_limits_are_at_least_one() {
        let mut g = Guard::new(0, 0);
        assert_eq!(g.ask(), Admit::Go, "at least one request at a time");
        assert_eq!(g.ask(), Admit::Busy);
    }
}
