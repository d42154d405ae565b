//! The response types: what `GET /api/v1/post-items/{id}/analytics` returns, once validated.
//!
//! They derive `Serialize` and `Deserialize` with the API's field names, so an app can keep them
//! in its own serde state, a cache or a server-function payload. Deserializing them directly
//! does not check the API's rules; [`parse_post_item_analytics`](crate::parse_post_item_analytics)
//! does.
//!
//! The structs are `#[non_exhaustive]`: PowerPost may add response fields, and adding one here
//! must not break code that builds or matches these types. Build one with
//! [`PostItemAnalytics::new`] and [`Metrics::new`] (or deserialize one) in tests.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The analytics of one post item, as validated from the API's response.
///
/// Field names follow the PowerPost documentation.
///
/// ```
/// use powerpost_analytics::{Metrics, PostItemAnalytics, PostStatus};
///
/// let item = PostItemAnalytics::new("p1", "tiktok-video", "tiktok", PostStatus::Posted,
///     Some(Metrics::new(10, 2, 0, "2026-04-15T09:00:00Z")));
/// let json = serde_json::to_string(&item).unwrap();
/// assert_eq!(json, r#"{"post_item_id":"p1","post_type":"tiktok-video","platform":"tiktok","status":"posted","metrics":{"views":10,"likes":2,"comments":0,"fetched_at":"2026-04-15T09:00:00Z"}}"#);
/// assert_eq!(serde_json::from_str::<PostItemAnalytics>(&json).unwrap(), item);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))] #[non_exhaustive]
pub struct PostItemAnalytics {
    /// The id that was queried (checked to be the one that was asked for).
    pub post_item_id: String,
    /// The kind of post, e.g. `instagram-reel`, `tiktok-video`.
    pub post_type: String,
    /// The platform derived from the post type, e.g. `instagram`.
    pub platform: String,
    /// Where the item is in its life cycle.
    pub status: PostStatus,
    /// The latest snapshot, or `None` (JSON `null`) while the item has not been posted or polled.
    pub metrics: Option<Metrics>,
}

impl PostItemAnalytics {
    /// Builds a value, e.g. for tests or fixtures. Fields PowerPost adds later get defaults here.
    pub fn new(
        post_item_id: impl Into<String>,
        post_type: impl Into<String>,
        platform: impl Into<String>,
        status: PostStatus,
        metrics: Option<Metrics>,
    ) -> PostItemAnalytics {
        PostItemAnalytics {
            post_item_id: post_item_id.into(),
            post_type: post_type.into(),
            platform: platform.into(),
            status,
            metrics,
        }
    }
}

/// One daily snapshot of the counts of a post item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))] #[non_exhaustive]
pub struct Metrics {
    /// Views or impressions (0 when the platform does not report them).
    pub views: u64,
    /// Likes or reactions (0 when the platform does not report them).
    pub likes: u64,
    /// Comments (0 when the platform does not report them).
    pub comments: u64,
    /// When the snapshot was taken: an RFC 3339 timestamp, exactly as the server sent it.
    /// Snapshots are taken once a day for 90 days after posting, then this stops moving.
    pub fetched_at: String,
}

impl Metrics {
    /// Builds a snapshot, e.g. for tests or fixtures.
    pub fn new(views: u64, likes: u64, comments: u64, fetched_at: impl Into<String>) -> Metrics {
        Metrics { views, likes, comments, fetched_at: fetched_at.into() }
    }
}

/// The status of a post item. Statuses the API may add later are kept in [`PostStatus::Other`]
/// rather than rejected, so a new server value cannot break a dashboard; it serializes as the
/// wire string, unknown values included.
///
/// `#[non_exhaustive]`: a status PowerPost documents later may get its own variant.
///
/// ```
/// use powerpost_analytics::PostStatus;
///
/// let s: PostStatus = serde_json::from_str(r#""archived""#).unwrap();
/// assert_eq!(s, PostStatus::Other("archived".into()));
/// assert_eq!(serde_json::to_string(&s).unwrap(), r#""archived""#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
pub enum PostStatus {
    /// Not yet published.
    Draft,
    /// Being published.
    Posting,
    /// Published.
    Posted,
    /// Publishing failed.
    Failed,
    /// A status this version of the crate does not know, passed through unchanged.
    Other(String),
}

impl PostStatus {
    /// Maps the wire value; unknown values become [`PostStatus::Other`].
    pub fn from_wire(s: &str) -> PostStatus {
        match s {
            "draft" => PostStatus::Draft,
            "posting" => PostStatus::Posting,
            "posted" => PostStatus::Posted,
            "failed" => PostStatus::Failed,
            other => PostStatus::Other(other.to_owned()),
        }
    }

    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            PostStatus::Draft => "draft",
            PostStatus::Posting => "posting",
            PostStatus::Posted => "posted",
            PostStatus::Failed => "failed",
            PostStatus::Other(s) => s,
        }
    }
}

impl From<String> for PostStatus {
    fn from(s: String) -> PostStatus {
        match PostStatus::from_wire(&s) {
            PostStatus::Other(_) => PostStatus::Other(s),
            known => known,
        }
    }
}

impl From<PostStatus> for String {
    fn from(s: PostStatus) -> String {
        match s {
            PostStatus::Other(s) => s,
            known => known.as_str().to_owned(),
        }
    }
}

impl fmt::Display for PostStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The rate-limit budget reported by the `X-RateLimit-*` headers of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))] #[non_exhaustive]
pub struct RateLimit {
    /// Requests allowed in the current window.
    pub limit: u64,
    /// Requests left in the current window.
    pub remaining: u64,
    /// When the window resets, in Unix epoch seconds.
    pub reset: u64,
}

impl RateLimit {
    /// Builds a value, e.g. for tests.
    pub fn new(limit: u64, remaining: u64, reset: u64) -> RateLimit {
        RateLimit { limit, remaining, reset }
    }

    /// Reads the three `X-RateLimit-*` header values; `None` unless all three are
    /// non-negative integers.
    pub fn from_headers(limit: Option<&str>, remaining: Option<&str>, reset: Option<&str>) -> Option<RateLimit> {
        let num = |v: Option<&str>| v.and_then(|s| s.trim().parse::<u64>().ok());
        Some(RateLimit {
            limit: num(limit)?,
            remaining: num(remaining)?,
            reset: num(reset)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips_and_keeps_unknown_values() {
        for s in ["draft", "posting", "posted", "failed", "archived", ""] {
            assert_eq!(PostStatus::from_wire(s).as_str(), s);
            let json = serde_json::to_string(&PostStatus::from_wire(s)).unwrap();
            assert_eq!(serde_json::from_str::<PostStatus>(&json).unwrap(), PostStatus::from_wire(s));
        }
        assert_eq!(PostStatus::from_wire("posted"), PostStatus::Posted);
        assert_eq!(PostStatus::from_wire("archived"), PostStatus::Other("archived".into()));
    }

    #[test]
    fn analytics_round_trip_through_serde_json_with_the_api_names() {
        let a = PostItemAnalytics::new(
            "a\"b\\c\n\u{1}é😀",
            "instagram-reel",
            "instagram",
            PostStatus::Other("archived".into()),
            Some(Metrics::new(9_007_199_254_740_991, 0, 3, "2026-04-15T09:00:00Z")),
        );
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["post_item_id"], "a\"b\\c\n\u{1}é😀");
        assert_eq!(v["status"], "archived");
        assert_eq!(v["metrics"]["views"], 9_007_199_254_740_991u64);
        assert_eq!(v.as_object().unwrap().len(), 5);
        assert_eq!(serde_json::from_value::<PostItemAnalytics>(v).unwrap(), a);
        let draft = PostItemAnalytics::new("d", "t", "p", PostStatus::Draft, None);
        assert_eq!(serde_json::to_value(&draft).unwrap()["metrics"], serde_json::Value::Null);
    }

    #[test]
    fn rate_limit_needs_all_three_headers() {
        assert_eq!(
            RateLimit::from_headers(Some("60"), Some(" 0 "), Some("1700000000")),
            Some(RateLimit::new(60, 0, 1_700_000_000))
        );
        assert_eq!(RateLimit::from_headers(Some("60"), None, Some("1")), None);
        assert_eq!(RateLimit::from_headers(Some("60"), Some("-1"), Some("1")), None);
        assert_eq!(RateLimit::from_headers(Some("x"), Some("1"), Some("1")), None);
    }
}
