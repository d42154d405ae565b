//! The README's defaults table is checked against the constants in the code, so the docs
//! cannot drift from the behaviour.

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
