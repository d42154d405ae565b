//! The waiting half of [`Guard`]: a request for an upstream slot either goes at once, parks
//! until its turn (woken by the request that frees a slot), or is refused. wasm-only: one
//! thread, wakers instead of locks.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::task::{Poll, Waker};

use web_sys::AbortSignal;

use super::{busy_error, Admit, Guard};
use crate::error::Error;

/// The upstream slots of one proxy, shared by the client's requests.
#[derive(Debug)]
pub(crate) struct Upstream {
    guard: RefCell<Guard>,
    /// The wakers of parked requests, by ticket.
    parked: RefCell<HashMap<u64, Waker>>,
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
        Rc::new(Upstream { guard: RefCell::new(Guard::new(max_active, max_queue)), parked: RefCell::new(HashMap::new()) })
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
        let ticket = match self.guard.borrow_mut().ask() {
            Admit::Go => return Ok(Slot { upstream: Rc::clone(self) }),
            Admit::Busy => return Err(busy_error("its queue is full")),
            Admit::Queued(ticket) => ticket,
        };
        let place = Rc::new(RefCell::new(Place { upstream: Rc::clone(self), ticket, served: false }));
        let waiting = Rc::clone(&place);
        let turn = Box::pin(std::future::poll_fn(move |cx| {
            let mut place = waiting.borrow_mut();
            let went = place.upstream.guard.borrow_mut().turn(place.ticket);
            if went {
                place.served = true;
                // Two slots may have come free before this request looked: pass the other on.
                let next = place.upstream.guard.borrow().next_up();
                place.upstream.wake(next);
                return Poll::Ready(());
            }
            place.upstream.parked.borrow_mut().insert(place.ticket, cx.waker().clone());
            Poll::Pending
        }));
        // `within` drops the wait when it ends; then `place` is the last holder of the place.
        let _ = crate::store::within(wait_ms, turn, signal).await;
        let served = place.borrow().served;
        drop(place);
        // Taken, the slot is freed again by dropping it, whatever happens next.
        let slot = served.then(|| Slot { upstream: Rc::clone(self) });
        if signal.is_some_and(AbortSignal::aborted) {
            return Err(crate::transport::aborted_error());
        }
        slot.ok_or_else(|| busy_error("no upstream slot came free in time"))
    }
}
