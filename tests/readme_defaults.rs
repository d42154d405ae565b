//! The README's defaults table is checked against the constants in the code, so the docs
//! cannot drift from the behaviour. The proxy's part needs the cargo feature `proxy`
//! (`make test-native` runs this file a second time with it).

use powerpost_analytics::retry::{BACKOFF_INITIAL_MS, BACKOFF_MAX_MS};
use powerpost_analytics::{
    DEFAULT_BASE_URL, DEFAULT_CONCURRENCY, DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_WAIT_MS, DEFAULT_TIMEOUT_MS,
};

fn row(readme: &str, option: &str) -> String {
    let prefix = format!("| `{option}` |");
    readme
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("README defaults table has no row for {option}"))
        .to_owned()
}

#[test]
fn readme_defaults_match_the_code() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(row(&readme, "timeoutMs").contains(&format!("`{DEFAULT_TIMEOUT_MS}`")));
    assert!(row(&readme, "maxRetries").contains(&format!("`{DEFAULT_MAX_RETRIES}`")));
    assert!(row(&readme, "maxRetryWaitMs").contains(&format!("`{DEFAULT_MAX_RETRY_WAIT_MS}`")));
    let conc = readme.lines().find(|l| l.starts_with("| `concurrency` (batch) |")).unwrap();
    assert!(conc.contains(&format!("`{DEFAULT_CONCURRENCY}`")));
    assert!(row(&readme, "baseUrl").contains(&format!("`{DEFAULT_BASE_URL}`")));
    let backoff = readme.lines().find(|l| l.starts_with("| backoff |")).unwrap();
    assert!(backoff.contains(&format!("`{BACKOFF_INITIAL_MS}` ms")) && backoff.contains(&format!("`{BACKOFF_MAX_MS}` ms")));
}

/// The text from `heading` to the next `## ` heading, with each run of whitespace one space (a
/// README sentence may wrap anywhere).
#[cfg(feature = "proxy")]
fn section(text: &str, heading: &str) -> String {
    let start = text.find(heading).unwrap_or_else(|| panic!("README has no section {heading:?}"));
    let rest = &text[start + heading.len()..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    rest[..end].split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What the text says after "`{lead}` (default `": the default it states for that option.
#[cfg(feature = "proxy")]
fn stated_default<'a>(text: &'a str, lead: &str) -> &'a str {
    let marker = format!("{lead} (default `");
    let at = text.find(&marker).unwrap_or_else(|| panic!("no {marker:?}… in the README's proxy section")) + marker.len();
    text[at..].split('`').next().unwrap_or_default()
}

/// `export const {name} = value;` in a JS source, the value with digit separators dropped.
#[cfg(feature = "proxy")]
fn js_const(source: &str, name: &str) -> String {
    let prefix = format!("export const {name} = ");
    let line = source.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no `{prefix}…`"));
    line[prefix.len()..].trim_end_matches(';').replace('_', "").trim_matches('\'').to_owned()
}

/// The proxy's limits (cargo feature `proxy`: `make test-native` runs this file with it), and the
/// CLI's defaults, in the README's proxy section and in the CLI's `--help`.
#[cfg(feature = "proxy")]
#[test]
fn readme_states_the_proxy_defaults() {
    use powerpost_analytics::{
        DEFAULT_CACHE_NOT_FOUND_MS, DEFAULT_CALLER_PER_MINUTE, DEFAULT_MAX_CONCURRENT_UPSTREAM, DEFAULT_MAX_QUEUE,
    };
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let proxy = section(&readme, "## Web apps: the backend half");
    assert_eq!(stated_default(&proxy, "`maxConcurrentUpstream`"), DEFAULT_MAX_CONCURRENT_UPSTREAM.to_string());
    assert_eq!(stated_default(&proxy, "`maxQueue`"), DEFAULT_MAX_QUEUE.to_string());
    assert_eq!(stated_default(&proxy, "`perMinute` lookups a minute"), DEFAULT_CALLER_PER_MINUTE.to_string());
    let on_off = format!(
        "On by default for `allowAnonymous` and the CLI ({DEFAULT_CALLER_PER_MINUTE} a minute per client address), off by default with `authorize`; `callerLimit: false` (CLI: `--caller-limit 0`) turns it off"
    );
    assert!(proxy.contains(&on_off), "README's proxy section lacks {on_off:?}");
    assert_eq!(stated_default(&proxy, "`cacheNotFoundMs`"), DEFAULT_CACHE_NOT_FOUND_MS.to_string());

    // The CLI (pkg-template/bin/proxy-command.mjs): its cache, /healthz and grace period.
    let command = std::fs::read_to_string(format!("{root}/pkg-template/bin/proxy-command.mjs")).unwrap();
    let grace_s = js_const(&command, "GRACE_MS").parse::<u64>().unwrap() / 1000;
    let health = js_const(&command, "HEALTH_PATH");
    let defaults = command.lines().find(|l| l.trim_start().starts_with("const o = {")).expect("the CLI's defaults");
    assert!(defaults.contains("cache: true"), "the CLI caches by default, as the README says: {defaults}");
    assert!(!command.contains("cacheNotFoundMs"), "the CLI keeps 404s for the crate's default, as the README says");
    let not_found_s = DEFAULT_CACHE_NOT_FOUND_MS / 1000;
    let cli = proxy.split("**No backend at all**").nth(1).expect("README's CLI paragraph");
    for stated in [
        format!("It caches in memory by default (the snapshot rule, and 404s for {not_found_s} s)"),
        format!("`GET {health}` (outside the base path; no upstream request) answers 200 while it serves and 503 once it is stopping"),
        format!("gives answers in flight {grace_s} s to finish"),
    ] {
        assert!(cli.contains(&stated), "README's CLI paragraph lacks {stated:?}");
    }
    // The CLI's --help states the same.
    let usage = command.split("PROXY_USAGE = `").nth(1).and_then(|u| u.split('`').next()).expect("PROXY_USAGE");
    let usage = usage.split_whitespace().collect::<Vec<_>>().join(" ");
    for stated in [
        format!("--caller-limit N lookups a minute from one client address (default {DEFAULT_CALLER_PER_MINUTE}; 0 = no limit)"),
        format!("by default answers are cached in memory as the snapshot rule allows, and a 404 for {not_found_s} s"),
        format!("GET {health} answers 200 while the proxy serves and 503 once it is stopping"),
        format!("gives answers in flight {grace_s} s to finish"),
    ] {
        assert!(usage.contains(&stated), "the CLI's --help lacks {stated:?}");
    }
}
