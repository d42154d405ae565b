//! Awaiting a JavaScript promise for the price of one `then`: every await reports to a single
//! long-lived callback with a slot number. `wasm_bindgen_futures::JsFuture` allocates two
//! closures (each a `FinalizationRegistry` entry) per await, a measurable part of a loopback
//! request. wasm-only.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use js_sys::Promise;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/runtime.js")]
extern "C" {
    fn settle(promise: &Promise, slot: u32, callback: &JsValue);
}

/// One await in progress.
enum Slot {
    Free,
    /// Waiting; the waker of the last poll.
    Waiting(Option<Waker>),
    /// Settled, not yet taken.
    Done(Result<JsValue, JsValue>),
    /// The future was dropped first; the settlement frees the slot.
    Abandoned,
}

#[derive(Default)]
struct Slots {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

impl Slots {
    fn take_free(&mut self) -> u32 {
        match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot::Free);
                (self.slots.len() - 1) as u32
            }
        }
    }

    fn release(&mut self, i: u32) {
        if let Some(s) = self.slots.get_mut(i as usize) {
            *s = Slot::Free;
            self.free.push(i);
        }
    }
}

thread_local! {
    static SLOTS: RefCell<Slots> = RefCell::new(Slots::default());
    // Created once and never dropped: it lives as long as the module.
    static CALLBACK: JsValue = Closure::<dyn FnMut(u32, bool, JsValue)>::new(on_settle).into_js_value();
}

fn on_settle(slot: u32, ok: bool, value: JsValue) {
    let waker = SLOTS.with(|s| {
        let mut s = s.borrow_mut();
        match s.slots.get_mut(slot as usize) {
            Some(Slot::Abandoned) => {
                s.release(slot);
                None
            }
            Some(entry @ Slot::Waiting(_)) => {
                let Slot::Waiting(waker) = std::mem::replace(entry, Slot::Done(if ok { Ok(value) } else { Err(value) }))
                else {
                    return None;
                };
                waker
            }
            _ => None,
        }
    });
    // Woken outside the borrow: the task may poll (and start another await) right away.
    if let Some(w) = waker {
        w.wake();
    }
}

/// The outcome of a JavaScript promise, as a future.
pub(crate) struct Settled {
    slot: u32,
    /// Ready was returned and the slot released (it may already serve another await).
    finished: bool,
}

/// Awaits `promise`: `Ok` with its value or `Err` with its rejection reason.
pub(crate) fn settled(promise: &Promise) -> Settled {
    let slot = SLOTS.with(|s| {
        let mut s = s.borrow_mut();
        let i = s.take_free();
        if let Some(entry) = s.slots.get_mut(i as usize) {
            *entry = Slot::Waiting(None);
        }
        i
    });
    CALLBACK.with(|cb| settle(promise, slot, cb));
    Settled { slot, finished: false }
}

impl Future for Settled {
    type Output = Result<JsValue, JsValue>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.finished {
            // Polled after completion: never by an executor; report it rather than hang.
            return Poll::Ready(Err(JsValue::from_str("promise polled after completion")));
        }
        let slot = this.slot;
        let result = SLOTS.with(|s| {
            let mut s = s.borrow_mut();
            match s.slots.get_mut(slot as usize) {
                Some(entry @ Slot::Done(_)) => {
                    let Slot::Done(result) = std::mem::replace(entry, Slot::Waiting(None)) else {
                        return Poll::Pending;
                    };
                    s.release(slot);
                    Poll::Ready(result)
                }
                Some(Slot::Waiting(waker)) => {
                    *waker = Some(cx.waker().clone());
                    Poll::Pending
                }
                _ => Poll::Ready(Err(JsValue::from_str("promise slot lost"))),
            }
        });
        this.finished = result.is_ready();
        result
    }
}

impl Drop for Settled {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let slot = self.slot;
        SLOTS.with(|s| {
            let mut s = s.borrow_mut();
            match s.slots.get_mut(slot as usize) {
                Some(entry @ Slot::Waiting(_)) => *entry = Slot::Abandoned,
                Some(Slot::Done(_)) => s.release(slot),
                _ => {}
            }
        });
    }
}
