//! Snapshot history: the rules that turn "only the latest snapshot" into a growth curve. Pure:
//! the clock is passed in, and the store is a trait (the wasm layer, `src/history_store.rs`,
//! does the I/O).
//!
//! PowerPost polls an item's metrics once a day (the snapshot interval) for up to 90 days after
//! it is posted, and the endpoint returns only the latest snapshot. Keeping each one once gives
//! the series:
//! - a snapshot is `{ fetched_at, views, likes, comments }`, keyed by the instant of its
//!   `fetched_at`: a second write of the same snapshot is a no-op, whoever makes it;
//! - a result without metrics records nothing; a `fetched_at` that is not RFC 3339, or is more
//!   than [`CLOCK_SKEW_MS`] ahead of the clock, records nothing (and the caller logs why);
//! - [`History`] is the series ascending by `fetched_at`, with each snapshot's gain over the one
//!   before (counts can go down when a platform corrects itself: kept, never clamped), the gaps
//!   (an expected daily snapshot that is missing), and whether the series is complete.
//!
//! With the default interval of 24 h the derived times are: a due snapshot is looked for once
//! an hour while PowerPost is late ([`late_check_ms`]), a series is complete once it spans the
//! 90-day window or `fetched_at` has not moved for 3 days after it was due ([`STALL_INTERVALS`]),
//! and a complete series is asked again once a week ([`COMPLETE_RECHECK_INTERVALS`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::cache::{rfc3339_ms, StoreFuture, DEFAULT_SNAPSHOT_INTERVAL_MS};
use crate::types::PostItemAnalytics;

/// How far ahead of this clock a `fetched_at` may be (another host's clock running ahead) and
/// still count; the cache's store entries use the same allowance.
pub const CLOCK_SKEW_MS: f64 = 300_000.0;
/// PowerPost polls an item for this many snapshot intervals after it is posted.
pub const WINDOW_INTERVALS: u32 = 90;
/// A series whose newest snapshot is this many intervals old when it was last checked has
/// stopped advancing (complete).
pub const STALL_INTERVALS: u32 = 3;
/// A complete series is checked again after this many intervals (a week at 24 h).
pub const COMPLETE_RECHECK_INTERVALS: u32 = 7;
/// Snapshots waiting in memory for a failing store, by default.
pub const DEFAULT_MAX_PENDING: usize = 10_000;
/// The header a proxy's history answer carries its snapshot interval in (milliseconds).
pub const INTERVAL_HEADER: &str = "x-powerpost-snapshot-interval-ms";
/// At most this many gaps are reported in one history (a hostile store could claim years
/// between two snapshots).
const MAX_GAPS: usize = 90;

/// One daily snapshot of one post item's counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))] #[non_exhaustive]
pub struct Snapshot {
    /// When PowerPost took it: RFC 3339, exactly as the API sent it.
    pub fetched_at: String,
    /// Views or impressions.
    pub views: u64,
    /// Likes or reactions.
    pub likes: u64,
    /// Comments.
    pub comments: u64,
}

impl Snapshot {
    /// Builds a snapshot, e.g. for tests.
    pub fn new(fetched_at: impl Into<String>, views: u64, likes: u64, comments: u64) -> Snapshot {
        Snapshot { fetched_at: fetched_at.into(), views, likes, comments }
    }

    /// Its `fetched_at` as Unix epoch milliseconds, or `None` when it is not RFC 3339.
    pub fn at_ms(&self) -> Option<i64> {
        rfc3339_ms(&self.fetched_at).map(|t| t as i64)
    }
}

/// The change from one snapshot to the next: negative when a platform corrected its counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))] #[non_exhaustive]
pub struct Gain {
    /// The later snapshot's `fetched_at`.
    pub fetched_at: String,
    /// The earlier snapshot's `fetched_at`.
    pub since: String,
    /// Views gained (negative: fewer than before).
    pub views: i64,
    /// Likes gained.
    pub likes: i64,
    /// Comments gained.
    pub comments: i64,
}

/// A daily snapshot that should be in the series and is not (PowerPost skipped a day, or nobody
/// looked before the next one replaced it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))] #[non_exhaustive]
pub struct Gap {
    /// When the missing snapshot was expected (RFC 3339, UTC).
    pub expected_at: String,
    /// The `fetched_at` of the snapshot before it.
    pub after: String,
    /// The `fetched_at` of the snapshot after it.
    pub before: String,
}

/// The recorded history of one post item.
///
/// ```
/// use powerpost_analytics::{History, Snapshot};
///
/// let day = 86_400_000;
/// let h = History::build("p1", vec![
///     Snapshot::new("2026-04-03T09:00:00Z", 130, 9, 2),
///     Snapshot::new("2026-04-01T09:00:00Z", 100, 5, 1),
///     Snapshot::new("2026-04-01T09:00:00Z", 100, 5, 1), // the same snapshot again: once
/// ], None, day);
/// assert_eq!(h.snapshots.len(), 2);
/// assert_eq!(h.gains[0].views, 30);
/// assert_eq!(h.gaps[0].expected_at, "2026-04-02T09:00:00Z");
/// assert!(!h.complete);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "PostItemHistory"))] #[non_exhaustive]
pub struct History {
    /// The item.
    pub post_item_id: String,
    /// Its snapshots, ascending by `fetched_at`, one per `fetched_at`.
    pub snapshots: Vec<Snapshot>,
    /// Each snapshot's gain over the one before (one fewer than the snapshots).
    pub gains: Vec<Gain>,
    /// Expected snapshots that are missing between recorded ones.
    pub gaps: Vec<Gap>,
    /// Whether the series will not grow: it spans PowerPost's 90-day window, or `fetched_at`
    /// had stopped advancing when the item was last checked.
    pub complete: bool,
}

impl History {
    /// The history of `post_item_id` from its snapshots in any order (duplicates and snapshots
    /// whose `fetched_at` is not RFC 3339 dropped; of two at one instant the first given is
    /// kept), `checked_at_ms` (when the API was last asked about it, if known) and the
    /// snapshot interval.
    pub fn build(
        post_item_id: impl Into<String>,
        snapshots: impl IntoIterator<Item = Snapshot>,
        checked_at_ms: Option<f64>,
        interval_ms: u64,
    ) -> History {
        // (instant, arrival, snapshot): sorted by both, so of two at one instant the first given
        // comes first and is the one kept.
        let mut timed: Vec<(i64, usize, Snapshot)> =
            snapshots.into_iter().enumerate().filter_map(|(i, s)| s.at_ms().map(|at| (at, i, s))).collect();
        timed.sort_unstable_by_key(|(at, i, _)| (*at, *i));
        timed.dedup_by_key(|(at, _, _)| *at);
        let interval = clamp_interval(interval_ms) as i64;
        let mut gains = Vec::with_capacity(timed.len().saturating_sub(1));
        let mut gaps = Vec::new();
        for pair in timed.windows(2) {
            let [(p_at, _, p), (at, _, s)] = pair else { continue };
            let diff = |a: u64, b: u64| (a as i128 - b as i128).clamp(i64::MIN as i128, i64::MAX as i128) as i64;
            gains.push(Gain {
                fetched_at: s.fetched_at.clone(),
                since: p.fetched_at.clone(),
                views: diff(s.views, p.views),
                likes: diff(s.likes, p.likes),
                comments: diff(s.comments, p.comments),
            });
            // Snapshots n intervals apart (rounded: PowerPost's poll time drifts) miss n - 1.
            let steps = (at - p_at + interval / 2) / interval;
            for k in 1..steps {
                if gaps.len() >= MAX_GAPS {
                    break;
                }
                gaps.push(Gap { expected_at: iso_ms(p_at + k * interval), after: p.fetched_at.clone(), before: s.fetched_at.clone() });
            }
        }
        let complete = match (timed.first(), timed.last()) {
            (Some((first, ..)), Some((last, ..))) => {
                let spans_window = last - first >= i64::from(WINDOW_INTERVALS - 1) * interval;
                let stalled = checked_at_ms.is_some_and(|c| c - *last as f64 >= f64::from(STALL_INTERVALS) * interval as f64);
                spans_window || stalled
            }
            _ => false,
        };
        History { post_item_id: post_item_id.into(), snapshots: timed.into_iter().map(|(_, _, s)| s).collect(), gains, gaps, complete }
    }

    /// The newest snapshot's time, in epoch ms.
    pub fn last_at_ms(&self) -> Option<i64> {
        self.snapshots.last().and_then(Snapshot::at_ms)
    }
}

/// Why a result recorded nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unrecorded {
    /// The item has no metrics yet (draft, posting, not polled).
    NoMetrics,
    /// `fetched_at` is not an RFC 3339 timestamp.
    Unparsable,
    /// `fetched_at` is more than [`CLOCK_SKEW_MS`] ahead of the clock.
    Future,
}

/// The snapshot a result carries, with its instant, or why it records nothing (`now_ms` is
/// this host's clock).
pub fn snapshot_of(item: &PostItemAnalytics, now_ms: f64) -> Result<(i64, Snapshot), Unrecorded> {
    let m = item.metrics.as_ref().ok_or(Unrecorded::NoMetrics)?;
    let at = rfc3339_ms(&m.fetched_at).ok_or(Unrecorded::Unparsable)?;
    if at > now_ms + CLOCK_SKEW_MS {
        return Err(Unrecorded::Future);
    }
    Ok((at as i64, Snapshot::new(m.fetched_at.clone(), m.views, m.likes, m.comments)))
}

/// What a history body (the proxy's `GET …/analytics/history`) must be, for messages.
const HISTORY_SHAPE: &str = "a history { post_item_id, snapshots, gains, gaps, complete }";

/// The parts of a proxy's history that are facts (the rest is derived from them again here).
#[derive(Deserialize)]
struct WireHistory {
    post_item_id: String,
    snapshots: Vec<Snapshot>,
    complete: bool,
}

/// Reads a history answered by a proxy: the documented shape, about `post_item_id`, every
/// snapshot's `fetched_at` RFC 3339. Gains and gaps are derived again from the snapshots with
/// `interval_ms` (the proxy's, from its `x-powerpost-snapshot-interval-ms` header), so a proxy
/// cannot hand over numbers its own snapshots do not give. Pure, so every shape is tested natively.
pub fn parse_history(body: &[u8], post_item_id: &str, interval_ms: u64) -> Result<History, crate::Error> {
    use crate::Error;
    let wire: WireHistory = crate::validate::parse_body(body).map_err(|e| {
        // JSON of another shape is told apart from a body that is not JSON.
        match crate::validate::normalized_json(body) {
            Some(_) => Error::invalid_response("$", HISTORY_SHAPE, "JSON of another shape"),
            None => e,
        }
    })?;
    if wire.post_item_id != post_item_id {
        return Err(Error::invalid_response(
            "post_item_id",
            &format!("the id that was asked for ({})", crate::error::describe_str(post_item_id)),
            &crate::error::describe_str(&wire.post_item_id),
        ));
    }
    if let Some(bad) = wire.snapshots.iter().find(|s| s.at_ms().is_none()) {
        return Err(Error::invalid_response("snapshots", "RFC 3339 timestamps", &crate::error::describe_str(&bad.fetched_at)));
    }
    let mut history = History::build(post_item_id, wire.snapshots, None, interval_ms);
    history.complete = wire.complete;
    Ok(history)
}

/// The longest snapshot interval the rules take: a year (the window's 90 intervals stay far
/// inside `i64` milliseconds).
pub const MAX_INTERVAL_MS: u64 = 365 * 86_400_000;

/// `ms` within 1 ms and [`MAX_INTERVAL_MS`].
pub fn clamp_interval(ms: u64) -> u64 {
    ms.clamp(1, MAX_INTERVAL_MS)
}

/// How long a recorder waits before asking again about a snapshot that is due but late (an
/// hour at the default 24 h interval).
pub fn late_check_ms(interval_ms: u64) -> u64 {
    (interval_ms / 24).max(1)
}

/// When the recorder should next ask the API about an item: `last_at_ms` is its newest recorded
/// snapshot, `checked_at_ms` when it was last asked, `complete` whether its series is complete.
/// Never asked: now (`0`). Complete: a week after the last check. Otherwise when the next daily
/// snapshot is due, and while PowerPost is late at most once per [`late_check_ms`].
pub fn next_check_ms(last_at_ms: Option<i64>, checked_at_ms: Option<f64>, complete: bool, interval_ms: u64) -> f64 {
    let Some(checked) = checked_at_ms else { return 0.0 };
    let late = checked + late_check_ms(interval_ms) as f64;
    if complete {
        return checked + f64::from(COMPLETE_RECHECK_INTERVALS) * interval_ms as f64;
    }
    match last_at_ms {
        Some(last) => (last as f64 + interval_ms as f64).max(late),
        // No snapshot yet (no metrics, or a failing id): asked again after the late spacing.
        None => late,
    }
}

/// Options of snapshot history (see the module documentation).
#[derive(Clone)]
pub struct HistoryOptions {
    pub(crate) store: Option<Rc<dyn HistoryStore>>,
    pub(crate) snapshot_interval_ms: u64,
    pub(crate) max_pending: usize,
}

impl Default for HistoryOptions {
    fn default() -> HistoryOptions {
        HistoryOptions { store: None, snapshot_interval_ms: DEFAULT_SNAPSHOT_INTERVAL_MS, max_pending: DEFAULT_MAX_PENDING }
    }
}

impl HistoryOptions {
    /// Memory only, a 24 h snapshot interval, up to 10 000 snapshots waiting for a failing store.
    pub fn new() -> HistoryOptions {
        HistoryOptions::default()
    }
    /// Where the series are kept (default: memory, for this client's life).
    pub fn store(mut self, store: Rc<dyn HistoryStore>) -> HistoryOptions {
        self.store = Some(store);
        self
    }
    /// How often PowerPost takes a snapshot (default 24 h; the dev server's `--day-ms`), from
    /// 1 ms to a year.
    pub fn snapshot_interval_ms(mut self, ms: u64) -> HistoryOptions {
        self.snapshot_interval_ms = clamp_interval(ms);
        self
    }
    /// Snapshots kept in memory while the store fails (at least 1); the oldest go first.
    pub fn max_pending(mut self, n: usize) -> HistoryOptions {
        self.max_pending = n.max(1);
        self
    }
}

impl std::fmt::Debug for HistoryOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HistoryOptions")
            .field("store", &self.store.as_ref().map(|_| "HistoryStore"))
            .field("snapshot_interval_ms", &self.snapshot_interval_ms)
            .field("max_pending", &self.max_pending)
            .finish()
    }
}

impl PartialEq for HistoryOptions {
    fn eq(&self, other: &HistoryOptions) -> bool {
        let same_store = match (&self.store, &other.store) {
            (Some(a), Some(b)) => Rc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        same_store && (self.snapshot_interval_ms, self.max_pending) == (other.snapshot_interval_ms, other.max_pending)
    }
}

impl Eq for HistoryOptions {}

/// Where series are kept: SQLite, Redis, IndexedDB, or [`MemoryHistoryStore`]. Keys hold no
/// secret. Every operation may fail (`Err` says why, for the log); the client keeps snapshots a
/// failing store did not acknowledge in memory and writes them when it answers again.
pub trait HistoryStore {
    /// Adds `snapshot` (JSON text) to the series `key` unless it holds one at `at_ms` already,
    /// atomically (of concurrent writers exactly one adds); `Ok(true)` when this call added it.
    fn append(&self, key: &str, at_ms: i64, snapshot: String) -> StoreFuture<bool>;
    /// Every snapshot of the series `key`, as given to `append`, in any order.
    fn list(&self, key: &str) -> StoreFuture<Vec<String>>;
    /// A small record beside the series (when the item was last checked), if any.
    fn get(&self, key: &str) -> StoreFuture<Option<String>>;
    /// Stores a small record (last writer wins).
    fn set(&self, key: &str, value: String) -> StoreFuture<()>;
}

/// The in-memory [`HistoryStore`] (`history: true`): kept for the client's life.
#[derive(Debug, Default)]
pub struct MemoryHistoryStore {
    /// Series and records by key (a map: a proxy or recorder may hold thousands of items, and a
    /// sorted `Vec` moves them all on each new one), each series' snapshots ascending by instant.
    keys: RefCell<HashMap<String, Kept>>,
}

impl MemoryHistoryStore {
    /// `f` on the entry of `key`, made empty first if there is none.
    fn with<T>(&self, key: &str, f: impl FnOnce(&mut Kept) -> T) -> T {
        let mut keys = self.keys.borrow_mut();
        match keys.get_mut(key) {
            Some(kept) => f(kept),
            None => f(keys.entry(key.to_owned()).or_default()),
        }
    }

    /// `f` on the entry of `key`, if there is one.
    fn read<T>(&self, key: &str, f: impl FnOnce(&Kept) -> T) -> Option<T> {
        self.keys.borrow().get(key).map(f)
    }
}

#[derive(Debug, Default)]
struct Kept {
    series: Vec<(i64, String)>,
    record: Option<String>,
}

impl HistoryStore for MemoryHistoryStore {
    fn append(&self, key: &str, at_ms: i64, snapshot: String) -> StoreFuture<bool> {
        let added = self.with(key, |kept| match kept.series.binary_search_by_key(&at_ms, |(at, _)| *at) {
            Ok(_) => false,
            Err(i) => {
                kept.series.insert(i, (at_ms, snapshot));
                true
            }
        });
        Box::pin(std::future::ready(Ok(added)))
    }
    fn list(&self, key: &str) -> StoreFuture<Vec<String>> {
        let all = self.read(key, |k| k.series.iter().map(|(_, s)| s.clone()).collect()).unwrap_or_default();
        Box::pin(std::future::ready(Ok(all)))
    }
    fn get(&self, key: &str) -> StoreFuture<Option<String>> {
        Box::pin(std::future::ready(Ok(self.read(key, |k| k.record.clone()).flatten())))
    }
    fn set(&self, key: &str, value: String) -> StoreFuture<()> {
        self.with(key, |k| k.record = Some(value));
        Box::pin(std::future::ready(Ok(())))
    }
}

/// The store keys of one item's series and of its "last checked" record: base URL and workspace
/// keep clients apart (one store can hold several), and no key holds a secret.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) fn keys(base_url: &str, workspace_id: Option<&str>, post_item_id: &str) -> (String, String) {
    let scope = format!("{base_url} {} {post_item_id}", workspace_id.unwrap_or("-"));
    (format!("powerpost-analytics/history/v1 {scope}"), format!("powerpost-analytics/checked/v1 {scope}"))
}

/// Snapshots a failing store has not acknowledged, oldest first, bounded: when full the oldest
/// is dropped (and the caller warns). A `Vec`, not a `VecDeque`: dropping the oldest shifts the
/// rest, which only happens while a store has been failing for `max` snapshots, and the queue's
/// own code would add to the browser module.
#[derive(Debug, Default)]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) struct Backlog {
    items: Vec<Pending>,
    max: usize,
}

/// One snapshot waiting for the store.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pending {
    pub(crate) key: String,
    pub(crate) post_item_id: String,
    pub(crate) at_ms: i64,
    pub(crate) snapshot: Snapshot,
}

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
impl Backlog {
    pub(crate) fn new(max: usize) -> Backlog {
        Backlog { items: Vec::new(), max: max.max(1) }
    }

    /// Queues `p` (unless the same snapshot waits already); returns the one dropped to make room.
    pub(crate) fn push(&mut self, p: Pending) -> Option<Pending> {
        // The instant first: a cheap comparison rules out nearly every entry.
        if self.items.iter().any(|q| q.at_ms == p.at_ms && q.key == p.key) {
            return None;
        }
        self.items.push(p);
        if self.items.len() > self.max {
            Some(self.items.remove(0))
        } else {
            None
        }
    }

    /// The oldest waiting snapshot. It stays queued until [`Backlog::acknowledged`]: a read
    /// meanwhile still sees it.
    pub(crate) fn oldest(&self) -> Option<Pending> {
        self.items.first().cloned()
    }

    /// Removes the snapshot the store acknowledged.
    pub(crate) fn acknowledged(&mut self, key: &str, at_ms: i64) {
        if let Some(i) = self.items.iter().position(|q| q.at_ms == at_ms && q.key == key) {
            self.items.remove(i);
        }
    }

    /// The snapshots waiting for series `key`.
    pub(crate) fn of(&self, key: &str) -> Vec<Snapshot> {
        self.items.iter().filter(|p| p.key == key).map(|p| p.snapshot.clone()).collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }
}

/// Epoch milliseconds as RFC 3339 in UTC (`…Z`; with `.SSS` only when not a whole second).
pub fn iso_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let frac = ms.rem_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let time = format!("{:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60);
    if frac == 0 {
        format!("{y:04}-{m:02}-{d:02}T{time}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{time}.{frac:03}Z")
    }
}

/// The date of a day count since 1970-01-01 (Howard Hinnant's algorithm, the inverse of
/// `retry::days_from_civil`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Metrics, PostStatus};

    const DAY: u64 = 86_400_000;

    fn snap(at: &str, views: u64) -> Snapshot {
        Snapshot::new(at, views, views / 10, views / 100)
    }

    #[test]
    fn iso_round_trips_through_the_parser() {
        for ms in [0i64, 1_776_243_600_000, 1_776_243_600_250, 951_782_400_000, 4_107_542_399_999, -86_400_000] {
            assert_eq!(rfc3339_ms(&iso_ms(ms)), Some(ms as f64), "{}", iso_ms(ms));
        }
        assert_eq!(iso_ms(1_776_243_600_000), "2026-04-15T09:00:00Z");
        assert_eq!(iso_ms(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(iso_ms(1_776_243_600_250), "2026-04-15T09:00:00.250Z");
    }

    #[test]
    fn series_is_ordered_deduplicated_and_keeps_corrections() {
        let h = History::build(
            "p",
            vec![snap("2026-04-03T09:00:00Z", 90), snap("2026-04-01T09:00:00Z", 50), snap("2026-04-02T09:00:00Z", 100),
                 Snapshot::new("2026-04-02T11:00:00+02:00", 999, 0, 0), snap("not a time", 5)],
            None,
            DAY,
        );
        let times: Vec<&str> = h.snapshots.iter().map(|s| s.fetched_at.as_str()).collect();
        assert_eq!(times, ["2026-04-01T09:00:00Z", "2026-04-02T09:00:00Z", "2026-04-03T09:00:00Z"]);
        assert_eq!(h.snapshots[1].views, 100, "the first of two at one instant is kept");
        assert_eq!(h.gains.iter().map(|g| g.views).collect::<Vec<_>>(), [50, -10], "a correction downwards is kept");
        assert_eq!(h.gains[1].since, "2026-04-02T09:00:00Z");
        assert!(h.gaps.is_empty());
    }

    #[test]
    fn gaps_are_the_missing_days_with_their_expected_time() {
        let h = History::build("p", vec![snap("2026-04-01T09:00:00Z", 1), snap("2026-04-04T09:20:00Z", 4)], None, DAY);
        let expected: Vec<&str> = h.gaps.iter().map(|g| g.expected_at.as_str()).collect();
        assert_eq!(expected, ["2026-04-02T09:00:00Z", "2026-04-03T09:00:00Z"]);
        assert_eq!(h.gaps[0].after, "2026-04-01T09:00:00Z");
        assert_eq!(h.gaps[0].before, "2026-04-04T09:20:00Z");
        // A poll time that drifts by hours is not a gap.
        let drift = History::build("p", vec![snap("2026-04-01T09:00:00Z", 1), snap("2026-04-02T20:00:00Z", 2)], None, DAY);
        assert!(drift.gaps.is_empty());
        // Years apart: bounded.
        let far = History::build("p", vec![snap("2000-01-01T00:00:00Z", 1), snap("2026-01-01T00:00:00Z", 2)], None, DAY);
        assert_eq!(far.gaps.len(), MAX_GAPS);
        // An absurd interval (a proxy's header) is clamped, never an overflow.
        let h = History::build("p", vec![snap("2026-04-01T09:00:00Z", 1), snap("2026-04-04T09:20:00Z", 4)], None, u64::MAX);
        assert!(h.gaps.is_empty() && !h.complete);
    }

    #[test]
    fn complete_when_the_window_is_spanned_or_fetched_at_stopped() {
        let start = rfc3339_ms("2026-01-01T09:00:00Z").unwrap() as i64;
        let series = |days: i64| (0..days).map(|d| snap(&iso_ms(start + d * DAY as i64), d as u64)).collect::<Vec<_>>();
        assert!(History::build("p", series(90), None, DAY).complete, "90 daily snapshots span the window");
        assert!(!History::build("p", series(89), None, DAY).complete);
        let last = (start + 88 * DAY as i64) as f64;
        assert!(!History::build("p", series(89), Some(last + 2.9 * DAY as f64), DAY).complete, "late, not stopped");
        assert!(History::build("p", series(89), Some(last + 3.0 * DAY as f64), DAY).complete, "stopped advancing");
        assert!(!History::build("p", Vec::new(), Some(1e15), DAY).complete, "nothing recorded is not complete");
    }

    #[test]
    fn what_a_result_records() {
        let now = rfc3339_ms("2026-04-15T10:00:00Z").unwrap();
        let item = |m: Option<Metrics>| PostItemAnalytics::new("p", "t", "x", PostStatus::Posted, m);
        assert_eq!(snapshot_of(&item(None), now), Err(Unrecorded::NoMetrics));
        assert_eq!(snapshot_of(&item(Some(Metrics::new(1, 2, 3, "soon"))), now), Err(Unrecorded::Unparsable));
        assert_eq!(snapshot_of(&item(Some(Metrics::new(1, 2, 3, "2026-04-15T10:05:01Z"))), now), Err(Unrecorded::Future));
        let (at, s) = snapshot_of(&item(Some(Metrics::new(1, 2, 3, "2026-04-15T10:05:00Z"))), now).unwrap();
        assert_eq!((at as f64, s), (now + 300_000.0, Snapshot::new("2026-04-15T10:05:00Z", 1, 2, 3)), "within the skew allowance");
    }

    #[test]
    fn the_recorder_asks_once_per_snapshot() {
        let hour = 3_600_000.0;
        let last = 1_000_000_000_000i64;
        assert_eq!(next_check_ms(None, None, false, DAY), 0.0, "never asked: now");
        // Asked right after the snapshot: next when the next one is due.
        assert_eq!(next_check_ms(Some(last), Some(last as f64 + hour), false, DAY), last as f64 + DAY as f64);
        // Due and asked, PowerPost late: an hour later, not before.
        let checked = last as f64 + DAY as f64 + 1.0;
        assert_eq!(next_check_ms(Some(last), Some(checked), false, DAY), checked + hour);
        assert_eq!(next_check_ms(None, Some(checked), false, DAY), checked + hour, "no metrics yet: hourly");
        assert_eq!(next_check_ms(Some(last), Some(checked), true, DAY), checked + 7.0 * DAY as f64, "complete: weekly");
        assert_eq!(late_check_ms(2000), 83, "scaled with the interval");
    }

    #[test]
    fn memory_store_appends_once_and_backlog_is_bounded() {
        let store = MemoryHistoryStore::default();
        let run = |f: StoreFuture<bool>| {
            let mut f = f;
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            match f.as_mut().poll(&mut cx) {
                std::task::Poll::Ready(v) => v.unwrap(),
                std::task::Poll::Pending => panic!("memory store is synchronous"),
            }
        };
        assert!(run(store.append("k", 1, "a".into())));
        assert!(!run(store.append("k", 1, "b".into())), "a second write of one instant is a no-op");
        assert!(run(store.append("k2", 1, "c".into())), "series are apart");
        let mut b = Backlog::new(2);
        let p = |at| Pending { key: "k".into(), post_item_id: "p".into(), at_ms: at, snapshot: snap("2026-04-01T09:00:00Z", 1) };
        assert_eq!(b.push(p(1)), None);
        assert_eq!(b.push(p(1)), None, "the same snapshot waits once");
        assert_eq!(b.push(p(2)), None);
        assert_eq!(b.push(p(3)).map(|d| d.at_ms), Some(1), "the oldest goes first");
        assert_eq!(b.len(), 2);
        assert_eq!(b.oldest().map(|o| o.at_ms), Some(2));
        assert_eq!(b.len(), 2, "the oldest stays queued until acknowledged");
        b.acknowledged("k", 2);
        assert_eq!(b.oldest().map(|o| o.at_ms), Some(3));
        b.acknowledged("k", 3);
        assert_eq!(b.len(), 0);
    }

    #[test]
    fn a_proxys_history_body_is_checked() {
        let h = History::build("p1", vec![snap("2026-04-01T09:00:00Z", 1), snap("2026-04-03T09:00:00Z", 5)], None, DAY);
        let body = serde_json::to_vec(&h).unwrap();
        assert_eq!(parse_history(&body, "p1", DAY).unwrap(), h);
        // Gains and gaps come from the snapshots, whatever the body says.
        let mut lying = serde_json::to_value(&h).unwrap();
        lying["gains"][0]["views"] = 1_000_000.into();
        lying["gaps"] = serde_json::json!([]);
        assert_eq!(parse_history(&serde_json::to_vec(&lying).unwrap(), "p1", DAY).unwrap(), h);
        assert_eq!(parse_history(&body, "p1", 2 * DAY).unwrap().gaps, [], "with the proxy's interval");
        assert_eq!(parse_history(&body, "p2", DAY).unwrap_err().path(), Some("post_item_id"));
        assert_eq!(parse_history(b"<html>", "p1", DAY).unwrap_err().path(), Some("$"));
        let e = parse_history(br#"{"post_item_id":"p1","snapshots":"no"}"#, "p1", DAY).unwrap_err();
        assert!(e.is_invalid_response() && e.received() == Some("JSON of another shape"), "{e}");
        let mut bad = h.clone();
        bad.snapshots[1].fetched_at = "yesterday".into();
        let e = parse_history(&serde_json::to_vec(&bad).unwrap(), "p1", DAY).unwrap_err();
        assert_eq!((e.path(), e.received()), (Some("snapshots"), Some(r#""yesterday""#)));
        let e = parse_history(br#"{"post_item_id":"p1","snapshots":[{"fetched_at":"2026-04-01T09:00:00Z","views":-1,"likes":0,"comments":0}],"gains":[],"gaps":[],"complete":false}"#, "p1", DAY).unwrap_err();
        assert!(e.is_invalid_response(), "a negative count");
    }

    #[test]
    fn keys_keep_scopes_apart_and_hold_no_secret() {
        let (a, ca) = keys("https://powerpost.ai", Some("ws1"), "p");
        assert_ne!(a, ca);
        assert_ne!(a, keys("https://powerpost.ai", Some("ws2"), "p").0);
        assert_ne!(a, keys("http://127.0.0.1:4010", Some("ws1"), "p").0);
        assert_ne!(a, keys("https://powerpost.ai", Some("ws1"), "q").0);
    }
}
