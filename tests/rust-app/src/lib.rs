//! A Rust web app using `powerpost-analytics` as a library: it sets its own global allocator,
//! keeps the crate's `PostItemAnalytics` inside its own serde state, and exports only what it
//! defines itself (`app_*`). `check.mjs` builds it for wasm32 and runs it against the dev server.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use powerpost_analytics::{Client, ClientOptions, PostItemAnalytics};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

/// The README's Rust example, as written there (copied in by check.mjs before each build).
#[allow(dead_code)]
mod readme_example;

/// The app's allocator: the system one, counting allocations (an app with its own allocator
/// must compile and be the one in use).
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The app's own state, with the crate's type inside.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub title: String,
    pub items: Vec<PostItemAnalytics>,
}

/// Looks up `id`, stores it in the app's state, round-trips the state through serde_json and
/// returns the JSON.
#[wasm_bindgen]
pub async fn app_lookup(base_url: String, api_key: String, workspace_id: String, id: String) -> Result<String, JsValue> {
    let err = |e: &dyn std::fmt::Display| JsValue::from_str(&e.to_string());
    let options = ClientOptions::new().base_url(base_url).api_key(api_key).workspace_id(workspace_id);
    let client = Client::new(options).map_err(|e| err(&e))?;
    let item = client.get_post_item_analytics(&id).await.map_err(|e| err(&e))?;
    let state = Dashboard { title: "My posts".into(), items: vec![item] };
    let json = serde_json::to_string(&state).map_err(|e| err(&e))?;
    let back: Dashboard = serde_json::from_str(&json).map_err(|e| err(&e))?;
    if back != state {
        return Err(JsValue::from_str("the state did not survive a serde_json round trip"));
    }
    Ok(json)
}

/// Allocations made through the app's allocator so far.
#[wasm_bindgen]
pub fn app_allocations() -> usize {
    ALLOCATIONS.load(Ordering::Relaxed)
}
