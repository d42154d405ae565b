// The data types of powerpost-analytics, generated from the Rust types by src/ts.rs (ts-rs).
// Do not edit: change the Rust types and run `make types` (UPDATE_TYPES=1 cargo test --lib ts::the_checked_in_declarations).

/**
 * The analytics of one post item, as validated from the API's response.
 *
 * Field names follow the PowerPost documentation.
 */
export type PostItemAnalytics = {
/**
 * The id that was queried (checked to be the one that was asked for).
 */
post_item_id: string,
/**
 * The kind of post, e.g. `instagram-reel`, `tiktok-video`.
 */
post_type: string,
/**
 * The platform derived from the post type, e.g. `instagram`.
 */
platform: string,
/**
 * Where the item is in its life cycle.
 */
status: PostStatus,
/**
 * The latest snapshot, or `None` (JSON `null`) while the item has not been posted or polled.
 */
metrics: Metrics | null, };

/**
 * One daily snapshot of the counts of a post item.
 */
export type Metrics = {
/**
 * Views or impressions (0 when the platform does not report them).
 */
views: number,
/**
 * Likes or reactions (0 when the platform does not report them).
 */
likes: number,
/**
 * Comments (0 when the platform does not report them).
 */
comments: number,
/**
 * When the snapshot was taken: an RFC 3339 timestamp, exactly as the server sent it.
 * Snapshots are taken once a day for 90 days after posting, then this stops moving.
 */
fetched_at: string, };

/**
 * The status of a post item: the documented ones, or any other string PowerPost
 * sends later (passed through unchanged, never rejected).
 */
export type PostStatus = "draft" | "posting" | "posted" | "failed" | (string & {});

/**
 * The rate-limit budget reported by the `X-RateLimit-*` headers of a response.
 */
export type RateLimit = {
/**
 * Requests allowed in the current window.
 */
limit: number,
/**
 * Requests left in the current window.
 */
remaining: number,
/**
 * When the window resets, in Unix epoch seconds.
 */
reset: number, };

/**
 * One entry of `getPostItemAnalyticsBatch`'s result, in input order.
 */
export type BatchResult = {
/**
 * The id as given.
 */
postItemId: string, ok: true, analytics: import('./index.js').PostItemAnalytics, } | {
/**
 * The id as given.
 */
postItemId: string, ok: false, error: import('./index.js').PowerPostError, };

/**
 * One daily snapshot of one post item's counts.
 */
export type Snapshot = {
/**
 * When PowerPost took it: RFC 3339, exactly as the API sent it.
 */
fetched_at: string,
/**
 * Views or impressions.
 */
views: number,
/**
 * Likes or reactions.
 */
likes: number,
/**
 * Comments.
 */
comments: number, };

/**
 * The change from one snapshot to the next: negative when a platform corrected its counts.
 */
export type Gain = {
/**
 * The later snapshot's `fetched_at`.
 */
fetched_at: string,
/**
 * The earlier snapshot's `fetched_at`.
 */
since: string,
/**
 * Views gained (negative: fewer than before).
 */
views: number,
/**
 * Likes gained.
 */
likes: number,
/**
 * Comments gained.
 */
comments: number, };

/**
 * A daily snapshot that should be in the series and is not (PowerPost skipped a day, or nobody
 * looked before the next one replaced it).
 */
export type Gap = {
/**
 * When the missing snapshot was expected (RFC 3339, UTC).
 */
expected_at: string,
/**
 * The `fetched_at` of the snapshot before it.
 */
after: string,
/**
 * The `fetched_at` of the snapshot after it.
 */
before: string, };

/**
 * The recorded history of one post item.
 */
export type PostItemHistory = {
/**
 * The item.
 */
post_item_id: string,
/**
 * Its snapshots, ascending by `fetched_at`, one per `fetched_at`.
 */
snapshots: Array<Snapshot>,
/**
 * Each snapshot's gain over the one before (one fewer than the snapshots).
 */
gains: Array<Gain>,
/**
 * Expected snapshots that are missing between recorded ones.
 */
gaps: Array<Gap>,
/**
 * Whether the series will not grow: it spans PowerPost's 90-day window, or `fetched_at`
 * had stopped advancing when the item was last checked.
 */
complete: boolean, };

/**
 * What `recordSnapshots` did.
 */
export type RecordSummary = {
/**
 * Ids whose next snapshot was due, looked up once each.
 */
lookedUp: Array<string>,
/**
 * Ids not due (fetched less than a snapshot interval ago, or complete and checked this week).
 */
skipped: Array<string>,
/**
 * New snapshots the store acknowledged.
 */
recorded: number,
/**
 * Snapshots waiting in memory for a failing store.
 */
pending: number,
/**
 * Ids whose lookup failed, and why; the others were recorded all the same.
 */
errors: Array<RecordError>, };

/**
 * An id `recordSnapshots` could not look up, and why.
 */
export type RecordError = { postItemId: string, error: import('./index.js').PowerPostError, };

/**
 * What went wrong, in the categories a caller acts on.
 *
 * The JavaScript surface maps each kind to an error class (`NotFoundError` for
 * `ErrorKind::NotFound`, …) and exposes `ErrorKind::as_str` as the `kind` field.
 */
export type ErrorKind = "invalid_argument" | "connection" | "timeout" | "aborted" | "invalid_response" | "api" | "bad_request" | "authentication" | "permission_denied" | "not_found" | "rate_limit" | "server" | "store";

/**
 * The body of an error answer of the PowerPost API and of `powerpost-analytics/proxy`
 * (`ApiError.body` holds the one received, parsed).
 */
export type ErrorEnvelope = { error: ErrorBody,
/**
 * Seconds to wait before asking again (429, and the proxy's 503 `PROXY_BUSY`).
 */
retryAfter?: number, };

/**
 * What went wrong, in an `ErrorEnvelope`.
 */
export type ErrorBody = {
/**
 * A sentence for people.
 */
message: string,
/**
 * A stable code for programs: `NOT_FOUND`, `RATE_LIMIT_EXCEEDED`, the proxy's `PROXY_BUSY`,
 * `CALLER_LIMIT_EXCEEDED`, `UNAUTHORIZED`, …
 */
code: string, };
