//! In-flight sharing: concurrent lookups of one key wait on one request instead of each making
//! their own. Used by the client's cache and by the proxy (where many browsers ask for the same
//! item at once). wasm-only: the waiting is done with wakers on one thread.

use std::cell::RefCell;
use std::rc::Rc;
use std::task::{Poll, Waker};

use crate::error::{Error, ErrorKind};

/// The requests in flight, by key: a few at a time (a batch's concurrency, or the ids a proxy
/// is asked for at once), so a list.
pub(crate) struct InFlight<T> {
    entries: RefCell<Vec<(String, Rc<Shared<T>>)>>,
}

impl<T> std::fmt::Debug for InFlight<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InFlight").field("keys", &self.entries.borrow().len()).finish()
    }
}

impl<T> Default for InFlight<T> {
    fn default() -> Self {
        InFlight { entries: RefCell::new(Vec::new()) }
    }
}

impl<T: Clone> InFlight<T> {
    /// The request in flight for `key`, if any.
    pub(crate) fn find(&self, key: &str) -> Option<Rc<Shared<T>>> {
        self.entries.borrow().iter().find(|(k, _)| k == key).map(|(_, s)| Rc::clone(s))
    }

    /// Registers a new request for `key`, led by the caller until the returned [`Lead`] is
    /// finished or dropped.
    pub(crate) fn lead(&self, key: String) -> Lead<'_, T> {
        let shared = Rc::new(Shared::default());
        self.entries.borrow_mut().push((key, Rc::clone(&shared)));
        Lead { in_flight: self, shared }
    }
}

/// One request that concurrent lookups of the same key share.
pub(crate) struct Shared<T> {
    state: RefCell<SharedState<T>>,
    waiting: RefCell<Vec<Waker>>,
}

impl<T> Default for Shared<T> {
    fn default() -> Self {
        Shared { state: RefCell::new(SharedState::Pending), waiting: RefCell::new(Vec::new()) }
    }
}

enum SharedState<T> {
    Pending,
    Done(Result<T, Error>),
    /// The leading lookup was dropped or aborted by its own signal: the others try again.
    Abandoned,
}

impl<T: Clone> Shared<T> {
    /// The shared result, or `None` when the leading lookup gave up.
    pub(crate) async fn wait(self: &Rc<Self>) -> Option<Result<T, Error>> {
        std::future::poll_fn(|cx| match &*self.state.borrow() {
            SharedState::Pending => {
                let mut waiting = self.waiting.borrow_mut();
                if !waiting.iter().any(|w| w.will_wake(cx.waker())) {
                    waiting.push(cx.waker().clone());
                }
                Poll::Pending
            }
            SharedState::Done(r) => Poll::Ready(Some(r.clone())),
            SharedState::Abandoned => Poll::Ready(None),
        })
        .await
    }
}

impl<T> Shared<T> {
    fn settle(&self, state: SharedState<T>) {
        *self.state.borrow_mut() = state;
        // Taken out first: a waker may poll right away, and its poll borrows `waiting`.
        let waiting = std::mem::take(&mut *self.waiting.borrow_mut());
        for w in waiting {
            w.wake();
        }
    }
}

/// Leads a shared request: settles it when done, or marks it abandoned if dropped first.
pub(crate) struct Lead<'a, T> {
    in_flight: &'a InFlight<T>,
    shared: Rc<Shared<T>>,
}

impl<T: Clone> Lead<'_, T> {
    /// Hands `result` to the lookups waiting on this request.
    pub(crate) fn finish(self, result: &Result<T, Error>) {
        let state = match result {
            // The leader's own abort is not the others' business.
            Err(e) if e.kind() == ErrorKind::Aborted => SharedState::Abandoned,
            r => SharedState::Done(r.clone()),
        };
        self.shared.settle(state);
    }
}

impl<T> Drop for Lead<'_, T> {
    fn drop(&mut self) {
        // This lead's entry only: a lookup with its own signal may lead another request for the key.
        self.in_flight.entries.borrow_mut().retain(|(_, s)| !Rc::ptr_eq(s, &self.shared));
        if matches!(*self.shared.state.borrow(), SharedState::Pending) {
            self.shared.settle(SharedState::Abandoned);
        }
    }
}
