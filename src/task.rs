//! Runs the futures behind the JavaScript API: a minimal single-threaded executor. Each wake
//! queues the task; one promise reaction per batch of wakes polls the queue.
//!
//! It replaces `wasm_bindgen_futures::future_to_promise`, whose queue schedules through
//! `queueMicrotask` (in Node an `AsyncResource` per call) and whose promise wrapper costs a
//! closure per call: both measurable on a loopback request, and a few KB of module. wasm-only.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, RawWaker, RawWakerVTable, Waker};

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/runtime.js")]
extern "C" {
    fn schedule(run: &JsValue);
}

struct Task {
    /// `None` once the future has completed.
    future: RefCell<Option<Pin<Box<dyn Future<Output = ()>>>>>,
    queued: Cell<bool>,
}

thread_local! {
    static QUEUE: RefCell<Vec<Rc<Task>>> = const { RefCell::new(Vec::new()) };
    static SCHEDULED: Cell<bool> = const { Cell::new(false) };
    // Created once and never dropped: it lives as long as the module.
    static RUN: JsValue = Closure::<dyn FnMut()>::new(run_queue).into_js_value();
}

/// Runs `future` to completion in the background.
pub(crate) fn spawn(future: impl Future<Output = ()> + 'static) {
    enqueue(Rc::new(Task { future: RefCell::new(Some(Box::pin(future))), queued: Cell::new(false) }));
}

/// Runs `future` and settles a JavaScript promise with its outcome through the promise's
/// `resolve` and `reject` functions.
pub(crate) fn settle_with(
    resolve: js_sys::Function,
    reject: js_sys::Function,
    future: impl Future<Output = Result<JsValue, JsValue>> + 'static,
) {
    spawn(async move {
        // Calling resolve/reject runs no user code synchronously (reactions are queued).
        let _ = match future.await {
            Ok(v) => resolve.call1(&JsValue::UNDEFINED, &v),
            Err(e) => reject.call1(&JsValue::UNDEFINED, &e),
        };
    });
}

fn enqueue(task: Rc<Task>) {
    if task.queued.replace(true) {
        return;
    }
    QUEUE.with(|q| q.borrow_mut().push(task));
    if !SCHEDULED.with(|s| s.replace(true)) {
        RUN.with(schedule);
    }
}

/// Polls every task queued so far; wakes during the run queue another run.
fn run_queue() {
    SCHEDULED.with(|s| s.set(false));
    let tasks = QUEUE.with(|q| std::mem::take(&mut *q.borrow_mut()));
    for task in tasks {
        task.queued.set(false);
        let waker = waker_for(&task);
        let mut cx = Context::from_waker(&waker);
        let mut slot = task.future.borrow_mut();
        if let Some(future) = slot.as_mut() {
            if future.as_mut().poll(&mut cx).is_ready() {
                // Dropping the future also drops its wakers: no Rc cycle outlives the task.
                *slot = None;
            }
        }
    }
}

fn waker_for(task: &Rc<Task>) -> Waker {
    // SAFETY: the vtable below keeps the Rc counts balanced (clone adds one, drop and wake
    // consume one); wasm32 without threads never moves a waker across threads.
    unsafe { Waker::from_raw(raw_waker(Rc::clone(task))) }
}

fn raw_waker(task: Rc<Task>) -> RawWaker {
    RawWaker::new(Rc::into_raw(task).cast(), &VTABLE)
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone_waker, wake, wake_by_ref, drop_waker);

unsafe fn clone_waker(p: *const ()) -> RawWaker {
    let task = ManuallyDrop::new(unsafe { Rc::from_raw(p.cast::<Task>()) });
    raw_waker(Rc::clone(&task))
}

unsafe fn wake(p: *const ()) {
    enqueue(unsafe { Rc::from_raw(p.cast::<Task>()) });
}

unsafe fn wake_by_ref(p: *const ()) {
    let task = ManuallyDrop::new(unsafe { Rc::from_raw(p.cast::<Task>()) });
    enqueue(Rc::clone(&task));
}

unsafe fn drop_waker(p: *const ()) {
    drop(unsafe { Rc::from_raw(p.cast::<Task>()) });
}
