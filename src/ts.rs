//! The TypeScript declarations of the package's data, generated from the Rust types with ts-rs
//! at test time only (a dev-dependency: neither the crate's users nor the wasm carry any of it)
//! into `pkg-template/types/data.d.ts`. The hand-written `index.d.ts` keeps the API surface
//! (functions, classes, options) and imports these; the CommonJS `.d.cts` are made from the same
//! files by `scripts/build-pkg.mjs`.
//!
//! `cargo test` fails, naming the type, when the checked-in file is not what the types generate;
//! `make types` writes it. Numbers are `number` (serde-wasm-bindgen returns numbers, and the
//! validator refuses counts beyond 2^53) and `Option` is `T | null` (the package's serializer
//! turns `None` into `null`: `validate::to_js`). What the JavaScript surface builds itself
//! (src/js.rs: the batch result, the recording summary) and the error envelope of the API and
//! the proxy are described below as Rust types; the package test `types-runtime` checks the
//! values the real wasm returns against all of these declarations.
//!
//! The `#[cfg_attr(test, derive(ts_rs::TS))]` on the types share a line with another attribute:
//! the wasm carries the line numbers of its panic locations, so a line added above code that can
//! panic would change the package's bytes (the size gate holds them unchanged).

#![allow(dead_code)] // The shapes below exist for their declarations.

use std::collections::BTreeSet;

use serde::Serialize;
use ts_rs::{Config, TS};

use crate::{Error, ErrorKind, Gain, Gap, History, Metrics, PostItemAnalytics, PostStatus, RateLimit, Snapshot};

/// Where the declarations go, from the crate's root.
const FILE: &str = "pkg-template/types/data.d.ts";
/// How to write them again.
const REGENERATE: &str = "`make types` (UPDATE_TYPES=1 cargo test --lib ts::the_checked_in_declarations)";

/// One entry of `getPostItemAnalyticsBatch`'s result, in input order.
#[derive(TS)]
#[ts(untagged, rename_all_fields = "camelCase")]
enum BatchResult {
    /// The item was looked up (or served from the cache).
    Found {
        /// The id as given.
        post_item_id: String,
        #[ts(type = "true")]
        ok: bool,
        #[ts(type = "import('./index.js').PostItemAnalytics")]
        analytics: PostItemAnalytics,
    },
    /// This item failed; the others are unaffected.
    Failed {
        /// The id as given.
        post_item_id: String,
        #[ts(type = "false")]
        ok: bool,
        #[ts(type = "import('./index.js').PowerPostError")]
        error: Error,
    },
}

/// What `recordSnapshots` did.
#[derive(TS)]
#[ts(rename_all = "camelCase")]
struct RecordSummary {
    /// Ids whose next snapshot was due, looked up once each.
    looked_up: Vec<String>,
    /// Ids not due (fetched less than a snapshot interval ago, or complete and checked this week).
    skipped: Vec<String>,
    /// New snapshots the store acknowledged.
    recorded: u32,
    /// Snapshots waiting in memory for a failing store.
    pending: u32,
    /// Ids whose lookup failed, and why; the others were recorded all the same.
    errors: Vec<RecordError>,
}

/// An id `recordSnapshots` could not look up, and why.
#[derive(TS)]
#[ts(rename_all = "camelCase")]
struct RecordError {
    post_item_id: String,
    #[ts(type = "import('./index.js').PowerPostError")]
    error: Error,
}

/// The body of an error answer of the PowerPost API and of `powerpost-analytics/proxy`
/// (`ApiError.body` holds the one received, parsed).
#[derive(TS, Serialize)]
struct ErrorEnvelope {
    error: ErrorBody,
    /// Seconds to wait before asking again (429, and the proxy's 503 `PROXY_BUSY`).
    #[serde(rename = "retryAfter", skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    retry_after: Option<u64>,
}

/// What went wrong, in an [`ErrorEnvelope`].
#[derive(TS, Serialize)]
struct ErrorBody {
    /// A sentence for people.
    message: String,
    /// A stable code for programs: `NOT_FOUND`, `RATE_LIMIT_EXCEEDED`, the proxy's `PROXY_BUSY`,
    /// `CALLER_LIMIT_EXCEEDED`, `UNAUTHORIZED`, …
    code: String,
}

/// [`PostStatus`] is a string on the wire (`#[serde(from, into = "String")]`, which ts-rs cannot
/// read): each status that has a variant, and any other string (passed through unchanged).
impl TS for PostStatus {
    type WithoutGenerics = PostStatus;
    type OptionInnerType = PostStatus;

    fn docs() -> Option<String> {
        Some(ts_rs::format_docs(&[" The status of a post item: the documented ones, or any other string PowerPost", " sends later (passed through unchanged, never rejected)."]))
    }
    fn name(_: &Config) -> String {
        "PostStatus".into()
    }
    fn inline(_: &Config) -> String {
        // An exhaustive match: a new variant does not compile until it is declared here.
        let known = [PostStatus::Draft, PostStatus::Posting, PostStatus::Posted, PostStatus::Failed].map(|s| match s {
            PostStatus::Draft | PostStatus::Posting | PostStatus::Posted | PostStatus::Failed => format!("\"{}\"", s.as_str()),
            PostStatus::Other(_) => String::new(),
        });
        format!("{} | (string & {{}})", known.join(" | "))
    }
    fn decl(cfg: &Config) -> String {
        format!("type PostStatus = {};", Self::inline(cfg))
    }
    fn decl_concrete(cfg: &Config) -> String {
        Self::decl(cfg)
    }
}

/// Each declared type: its name and its text in the file.
fn declarations() -> Vec<(String, String)> {
    fn one<T: TS + ?Sized + 'static>(cfg: &Config) -> (String, String) {
        let docs = T::docs().map(|d| without_rust_examples(&d)).unwrap_or_default();
        // Rustdoc's links to Rust items (`[`Error`]`) as plain code in TSDoc.
        let text = format!("{docs}export {}\n", T::decl(cfg)).replace("[`", "`").replace("`]", "`");
        (T::ident(cfg), text.lines().map(str::trim_end).collect::<Vec<_>>().join("\n") + "\n")
    }
    let cfg = config();
    vec![
        one::<PostItemAnalytics>(&cfg),
        one::<Metrics>(&cfg),
        one::<PostStatus>(&cfg),
        one::<RateLimit>(&cfg),
        one::<BatchResult>(&cfg),
        one::<Snapshot>(&cfg),
        one::<Gain>(&cfg),
        one::<Gap>(&cfg),
        one::<History>(&cfg),
        one::<RecordSummary>(&cfg),
        one::<RecordError>(&cfg),
        one::<ErrorKind>(&cfg),
        one::<ErrorEnvelope>(&cfg),
        one::<ErrorBody>(&cfg),
    ]
}

/// A type's doc comment without its fenced examples, which are Rust (doctests), not TypeScript.
fn without_rust_examples(docs: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let mut fenced = false;
    let blank = |line: &str| line.trim() == "*";
    for line in docs.lines() {
        if line.trim_start_matches([' ', '*']).starts_with("```") {
            fenced = !fenced;
            continue;
        }
        // Two blank lines where an example was are one.
        let repeated_blank = blank(line) && out.last().is_some_and(|l| blank(l));
        if !fenced && !repeated_blank {
            out.push(line);
        }
    }
    // A blank doc line left before the end by a removed example.
    if out.len() >= 2 && out[out.len() - 2].trim() == "*" {
        out.remove(out.len() - 2);
    }
    out.join("\n") + "\n"
}

fn config() -> Config {
    Config::new().with_large_int("number")
}

/// The whole file.
fn file_text() -> String {
    let mut out = format!(
        "// The data types of powerpost-analytics, generated from the Rust types by src/ts.rs (ts-rs).\n\
         // Do not edit: change the Rust types and run {REGENERATE}.\n"
    );
    for (_, text) in declarations() {
        out.push('\n');
        out.push_str(&text);
    }
    // ts-rs leaves a space at the end of some lines.
    out.lines().map(str::trim_end).collect::<Vec<_>>().join("\n") + "\n"
}

#[test]
#[cfg(not(target_arch = "wasm32"))] // It reads (and writes) the crate's files.
fn the_checked_in_declarations_are_what_the_rust_types_generate() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(FILE);
    let want = file_text();
    if std::env::var_os("UPDATE_TYPES").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    if have == want {
        return;
    }
    let generated = declarations();
    let mut differ: Vec<String> = generated.iter().filter(|(_, text)| !have.contains(text.as_str())).map(|(name, _)| name.clone()).collect();
    // A declaration in the file that no Rust type generates any more.
    let names: BTreeSet<&str> = generated.iter().map(|(name, _)| name.as_str()).collect();
    for line in have.lines() {
        let stale = line.strip_prefix("export type ").and_then(|rest| rest.split([' ', '<']).next()).filter(|n| !names.contains(n));
        differ.extend(stale.map(|n| format!("{n} (no longer generated)")));
    }
    if differ.is_empty() {
        differ.push("(the file's header or order)".into());
    }
    panic!("{FILE} is not what the Rust types generate: {} differ. Regenerate it with {REGENERATE} and commit it.", differ.join(", "));
}

#[test]
fn post_status_declares_each_documented_status_and_any_other_string() {
    assert_eq!(PostStatus::inline(&config()), r#""draft" | "posting" | "posted" | "failed" | (string & {})"#);
}

#[test]
fn error_kinds_are_declared_by_their_js_names() {
    let decl = ErrorKind::decl(&config());
    let declared: BTreeSet<&str> = decl.split('"').skip(1).step_by(2).collect();
    use ErrorKind::*;
    let all = [InvalidArgument, Connection, Timeout, Aborted, InvalidResponse, Api, BadRequest, Authentication, PermissionDenied, NotFound, RateLimit, Server, Store];
    for k in all {
        // Exhaustive: a new kind fails to compile until it is listed above.
        match k {
            InvalidArgument | Connection | Timeout | Aborted | InvalidResponse | Api | BadRequest | Authentication | PermissionDenied
            | NotFound | ErrorKind::RateLimit | Server | Store => {}
        }
    }
    assert_eq!(declared, all.iter().map(|k| k.as_str()).collect(), "{decl}");
}

#[test]
fn the_error_envelope_is_what_the_proxy_answers() {
    for (code, retry) in [("CALLER_LIMIT_EXCEEDED", Some(3)), ("NOT_FOUND", None)] {
        let answer = crate::proxy::Answer::error(429, code, "Too many.", retry);
        let sent: serde_json::Value = serde_json::from_str(answer.body.as_deref().unwrap()).unwrap();
        let declared = ErrorEnvelope { error: ErrorBody { message: "Too many.".into(), code: code.into() }, retry_after: retry };
        assert_eq!(sent, serde_json::to_value(&declared).unwrap());
    }
}
