//! # powerpost-analytics
//!
//! A typed, validated client for PowerPost's
//! [`GET /api/v1/post-items/{post_item_id}/analytics`](https://powerpost.ai) endpoint,
//! for Rust web apps compiled to WebAssembly (Leptos, Yew, …) and, through `wasm-bindgen`,
//! for JavaScript as the npm package `powerpost-analytics`.
//!
//! The pure parts — [`validate`](parse_post_item_analytics), [`Config`] checks, error mapping
//! and [`retry`] timing — build and test natively. The request path ([`Client`]) uses
//! `gloo-net`'s `fetch` and exists on `wasm32` only.
//!
//! ```
//! use powerpost_analytics::{parse_post_item_analytics, ErrorKind};
//!
//! let body = br#"{"post_item_id":"p1","post_type":"instagram-reel","platform":"instagram",
//!                 "status":"posted","metrics":{"views":"12","fetched_at":"2026-04-15T09:00:00Z"}}"#;
//! let err = parse_post_item_analytics(body, Some("p1")).unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::InvalidResponse);
//! assert_eq!(err.path(), Some("metrics.views"));
//! assert!(err.to_string().contains(r#"expected a non-negative integer, found string "12""#));
//! ```
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic))]

#[cfg(any(test, target_arch = "wasm32"))]
mod batch;
// The memory cache and entries are used by the wasm client; the rule is public everywhere.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod cache;
mod config;
mod error;
mod history;
mod log;
// Natively for its tests; on wasm with the `observe` feature (without it, not a byte of it is in
// the module: the browser entries' build).
#[cfg(any(test, feature = "observe"))]
mod observe;
// Natively only the pure rules are built, for their tests.
#[cfg(any(test, feature = "proxy"))]
#[cfg_attr(not(all(feature = "proxy", target_arch = "wasm32")), allow(dead_code))]
mod proxy;
pub mod response;
pub mod retry;
mod types;
mod validate;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties;

#[cfg(target_arch = "wasm32")]
mod client;
#[cfg(target_arch = "wasm32")]
mod history_store;
#[cfg(target_arch = "wasm32")]
mod inflight;
#[cfg(target_arch = "wasm32")]
mod store;
#[cfg(all(target_arch = "wasm32", feature = "js"))]
mod js;

/// The npm package's allocator (feature `package-allocator`, turned on only by the package's
/// build): talc's, smaller than std's dlmalloc. A Rust app never gets it unless it asks.
#[cfg(all(target_arch = "wasm32", feature = "package-allocator"))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
#[cfg(target_arch = "wasm32")]
mod transport;

pub use config::{
    check_count, check_ms, check_post_item_id, ClientOptions, Config, Env, Runtime, DEFAULT_BASE_URL,
    DEFAULT_CONCURRENCY, DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_WAIT_MS, DEFAULT_TIMEOUT_MS, ENV_API_KEY,
    ENV_BASE_URL, ENV_LOG, ENV_WORKSPACE_ID, MAX_CONCURRENCY, MAX_POST_ITEM_ID_CHARS, MAX_RETRIES,
};
pub use cache::{
    fresh_until, rfc3339_ms, CacheMode, CacheOptions, CacheStore, StoreFuture, CACHE_LIMIT_MS, CACHE_NO_METRICS_MS,
    DEFAULT_CACHE_MAX_AGE_MS, DEFAULT_CACHE_MAX_ENTRIES, DEFAULT_SNAPSHOT_INTERVAL_MS,
};
pub use error::{Error, ErrorKind};
pub use history::{
    parse_history, INTERVAL_HEADER,
    iso_ms, late_check_ms, next_check_ms, snapshot_of, Gain, Gap, History, HistoryOptions, HistoryStore, MemoryHistoryStore,
    Snapshot, Unrecorded, CLOCK_SKEW_MS, COMPLETE_RECHECK_INTERVALS, DEFAULT_MAX_PENDING, STALL_INTERVALS, WINDOW_INTERVALS,
};
pub use log::{LogLevel, Logger};
#[cfg(any(test, feature = "observe"))]
pub use observe::{
    js_safe, propagated, target_of, CacheResult, Event, Observer, ObserverRef, WaitReason, PROPAGATED_HEADERS, SPAN_NAME, URL_TEMPLATE,
};
pub use types::{Metrics, PostItemAnalytics, PostStatus, RateLimit};
pub use validate::{parse_post_item_analytics, MAX_BODY_BYTES};

#[cfg(target_arch = "wasm32")]
pub use client::{BatchItem, Client, Lookup, RecordSummary, RequestOptions};
#[cfg(feature = "proxy")]
pub use proxy::{
    ProxyOptions, DEFAULT_CACHE_NOT_FOUND_MS, DEFAULT_CALLER_PER_MINUTE, DEFAULT_MAX_CONCURRENT_UPSTREAM, DEFAULT_MAX_QUEUE,
};
#[cfg(all(feature = "proxy", target_arch = "wasm32"))]
pub use proxy::{Authorize, AuthorizeFuture, CallerKey, Proxy};

// The TypeScript declarations of the data types (pkg-template/types/data.d.ts), from these types.
#[cfg(test)]
mod ts;
