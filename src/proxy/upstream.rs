//! The waiting half of [`Guard`]: a request for an upstream slot either goes at once, parks
//! until its turn (woken by the request that frees a slot), or is refused; a pause at the rate
//! limit refuses new and waiting requests alike, and is shared through the cache's store so
//! that every instance honours it. wasm-only: one thread, wakers instead of locks.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::task::{Poll, Waker};

use web_sys::AbortSignal;

use super::{busy_error, pause_after, paused_error, Admit, Guard, Pause, Turn};
use crate::cache::CacheStore;
use crate::error::Error;
use crate::retry::WaitHints;

/// How long a store read or write of the pause may take before it counts as no answer.
const STORE_MS: u64 = 1_000;

/// The upstream slots of one proxy, shared by the client's requests.
pub(crate) struct Upstream {
    guard: RefCell<Guard>,
    /// The wakers of parked requests, by ticket.
    parked: RefCell<HashMap<u64, Waker>>,
    /// Where instances sharing a store keep the pause: the store and the key.
    shared: RefCell<Option<(Rc<dyn CacheStore>, String)>>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream").field("guard", &self.guard).finish_non_exhaustive()
    }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// A slot taken: while it lives, one upstream request may be in flight. Dropping it frees the
/// slot for the next one waiting.
pub(crate) struct Slot {
    upstream: Rc<Upstream>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let next = self.upstream.guard.borrow_mut().release();
        self.upstream.wake(next);
    }
}

/// A place in the queue, given up if the request stops waiting (its time is over, it was
/// dropped) before its turn.
struct Place {
    upstream: Rc<Upstream>,
    ticket: u64,
    served: bool,
}

impl Drop for Place {
    fn drop(&mut self) {
        self.upstream.parked.borrow_mut().remove(&self.ticket);
        if !self.served {
            let next = self.upstream.guard.borrow_mut().leave(self.ticket);
            self.upstream.wake(next);
        }
    }
}

impl Upstream {
    pub(crate) fn new(max_active: u32, max_queue: u32) -> Rc<Upstream> {
        Rc::new(Upstream {
            guard: RefCell::new(Guard::new(max_active, max_queue)),
            parked: RefCell::new(HashMap::new()),
            shared: RefCell::new(None),
        })
    }

    /// Shares the pause through `store` under `key` (a key no cache entry has).
    pub(crate) fn share_pause(&self, store: Rc<dyn CacheStore>, key: String) {
        *self.shared.borrow_mut() = Some((store, key));
    }

    /// Pauses every request until `pause.until_ms`: new ones are refused, waiting ones woken
    /// to be refused.
    fn pause(&self, pause: Pause) {
        let woken = self.guard.borrow_mut().pause(pause);
        for ticket in woken {
            self.wake(Some(ticket));
        }
    }

    /// What an upstream answer of `status` said about the key's budget: when it is spent, the
    /// pause starts here and is written to the shared store, if any, before the answer goes on.
    pub(crate) async fn observe(&self, status: u16, hints: &WaitHints) {
        let now = now_ms();
        let Some(pause) = pause_after(status, hints, now) else { return };
        self.pause(pause);
        let shared = self.shared.borrow().clone();
        if let Some((store, key)) = shared {
            // A failed write costs only the sharing: this instance pauses all the same.
            let _ = crate::store::within(STORE_MS, store.set(&key, pause.to_store()), None).await;
        }
    }

    /// The pause another instance wrote to the shared store, taken on here when still in force.
    async fn read_shared(&self, now: f64) {
        let shared = self.shared.borrow().clone();
        let Some((store, key)) = shared else { return };
        if self.guard.borrow().paused(now).is_some() {
            return;
        }
        if let Some(Ok(Some(text))) = crate::store::within(STORE_MS, store.get(&key), None).await {
            if let Some(p) = Pause::from_store(&text).filter(|p| p.until_ms > now) {
                self.pause(p);
            }
        }
    }

    fn wake(&self, ticket: Option<u64>) {
        let waker = ticket.and_then(|t| self.parked.borrow_mut().remove(&t));
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// A slot for one upstream request: at once, or after waiting in the queue for at most
    /// `wait_ms` (the request's own timeout). A full queue, or no turn in time, is a
    /// `PROXY_BUSY` error; the caller's abort ends the wait too.
    pub(crate) async fn slot(self: &Rc<Self>, wait_ms: u64, signal: Option<&AbortSignal>) -> Result<Slot, Error> {
        self.read_shared(now_ms()).await;
        let now = now_ms();
        let admitted = self.guard.borrow_mut().ask(now);
        let ticket = match admitted {
            Admit::Go => return Ok(Slot { upstream: Rc::clone(self) }),
            Admit::Busy => return Err(busy_error("its queue is full")),
            Admit::Paused(p) => return Err(paused_error(p, now)),
            Admit::Queued(ticket) => ticket,
        };
        let place = Rc::new(RefCell::new(Place { upstream: Rc::clone(self), ticket, served: false }));
        let waiting = Rc::clone(&place);
        let turn = Box::pin(std::future::poll_fn(move |cx| {
            let mut place = waiting.borrow_mut();
            let now = now_ms();
            let turn = place.upstream.guard.borrow_mut().turn(place.ticket, now);
            match turn {
                Turn::Go => {
                    place.served = true;
                    // Two slots may have come free before this request looked: pass the other on.
                    let next = place.upstream.guard.borrow().next_up();
                    place.upstream.wake(next);
                    Poll::Ready(None)
                }
                Turn::Paused(p) => Poll::Ready(Some(paused_error(p, now))),
                Turn::Wait => {
                    place.upstream.parked.borrow_mut().insert(place.ticket, cx.waker().clone());
                    Poll::Pending
                }
            }
        }));
        // `within` drops the wait when it ends; then `place` is the last holder of the place.
        let refused = crate::store::within(wait_ms, turn, signal).await.flatten();
        let served = place.borrow().served;
        drop(place);
        // Taken, the slot is freed again by dropping it, whatever happens next.
        let slot = served.then(|| Slot { upstream: Rc::clone(self) });
        if signal.is_some_and(AbortSignal::aborted) {
            return Err(crate::transport::aborted_error());
        }
        match (slot, refused) {
            (Some(slot), _) => Ok(slot),
            (None, Some(paused)) => Err(paused),
            (None, None) => Err(busy_error("no upstream slot came free in time")),
        }
    }
}
