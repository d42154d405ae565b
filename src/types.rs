//! The response types: what `GET /api/v1/post-items/{id}/analytics` returns, once validated.

use crate::text::{push_hex, push_num};

use std::fmt;

/// The analytics of one post item, as validated from the API's response.
///
/// Field names follow the PowerPost documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostItemAnalytics {
    /// The id that was queried (checked to be the one that was asked for).
    pub post_item_id: String,
    /// The kind of post, e.g. `instagram-reel`, `tiktok-video`.
    pub post_type: String,
    /// The platform derived from the post type, e.g. `instagram`.
    pub platform: String,
    /// Where the item is in its life cycle.
    pub status: PostStatus,
    /// The latest snapshot, or `None` while the item has not been posted or polled yet.
    pub metrics: Option<Metrics>,
}

impl PostItemAnalytics {
    /// The analytics as compact JSON with the API's field names (unknown fields dropped).
    ///
    /// ```
    /// # use powerpost_analytics::{PostItemAnalytics, PostStatus};
    /// let a = PostItemAnalytics { post_item_id: "p\"1".into(), post_type: "t".into(), platform: "x".into(),
    ///     status: PostStatus::Draft, metrics: None };
    /// assert_eq!(a.to_json(), r#"{"post_item_id":"p\"1","post_type":"t","platform":"x","status":"draft","metrics":null}"#);
    /// ```
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(160 + self.post_item_id.len());
        out.push_str("{\"post_item_id\":");
        json_string(&mut out, &self.post_item_id);
        out.push_str(",\"post_type\":");
        json_string(&mut out, &self.post_type);
        out.push_str(",\"platform\":");
        json_string(&mut out, &self.platform);
        out.push_str(",\"status\":");
        json_string(&mut out, self.status.as_str());
        out.push_str(",\"metrics\":");
        match &self.metrics {
            None => out.push_str("null"),
            Some(m) => {
                out.push_str("{\"views\":");
                push_num(&mut out, m.views, 1);
                out.push_str(",\"likes\":");
                push_num(&mut out, m.likes, 1);
                out.push_str(",\"comments\":");
                push_num(&mut out, m.comments, 1);
                out.push_str(",\"fetched_at\":");
                json_string(&mut out, &m.fetched_at);
                out.push('}');
            }
        }
        out.push('}');
        out
    }
}

/// Appends `s` as a JSON string literal, copying runs of plain text at once (only `"`, `\\`
/// and control characters are escaped, all ASCII, so runs split on character boundaries).
fn json_string(out: &mut String, s: &str) {
    out.push('"');
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        if b != b'"' && b != b'\\' && b >= 0x20 {
            continue;
        }
        out.push_str(s.get(run..i).unwrap_or_default());
        out.push('\\');
        match b {
            b'"' | b'\\' => out.push(char::from(b)),
            _ => {
                out.push('u');
                push_hex(out, u32::from(b), 4);
            }
        }
        run = i + 1;
    }
    out.push_str(s.get(run..).unwrap_or_default());
    out.push('"');
}

/// One daily snapshot of the counts of a post item.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// The status of a post item. Statuses the API may add later are kept in [`PostStatus::Other`]
/// rather than rejected, so a new server value cannot break a dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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

impl fmt::Display for PostStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The rate-limit budget reported by the `X-RateLimit-*` headers of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed in the current window.
    pub limit: u64,
    /// Requests left in the current window.
    pub remaining: u64,
    /// When the window resets, in Unix epoch seconds.
    pub reset: u64,
}

impl RateLimit {
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
        }
        assert_eq!(PostStatus::from_wire("posted"), PostStatus::Posted);
        assert_eq!(PostStatus::from_wire("archived"), PostStatus::Other("archived".into()));
    }

    #[test]
    fn to_json_round_trips_through_a_json_parser() {
        let a = PostItemAnalytics {
            post_item_id: "a\"b\\c\n\u{1}é😀".into(),
            post_type: "instagram-reel".into(),
            platform: "instagram".into(),
            status: PostStatus::Other("archived".into()),
            metrics: Some(Metrics { views: 9_007_199_254_740_991, likes: 0, comments: 3, fetched_at: "2026-04-15T09:00:00Z".into() }),
        };
        let v: serde_json::Value = serde_json::from_str(&a.to_json()).unwrap();
        assert_eq!(v["post_item_id"], "a\"b\\c\n\u{1}é😀");
        assert_eq!(v["status"], "archived");
        assert_eq!(v["metrics"]["views"], 9_007_199_254_740_991u64);
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 5);
    }

    #[test]
    fn rate_limit_needs_all_three_headers() {
        assert_eq!(
            RateLimit::from_headers(Some("60"), Some(" 0 "), Some("1700000000")),
            Some(RateLimit { limit: 60, remaining: 0, reset: 1_700_000_000 })
        );
        assert_eq!(RateLimit::from_headers(Some("60"), None, Some("1")), None);
        assert_eq!(RateLimit::from_headers(Some("60"), Some("-1"), Some("1")), None);
        assert_eq!(RateLimit::from_headers(Some("x"), Some("1"), Some("1")), None);
    }
}
