//! Options, their defaults from the environment, and every check done before a request is sent.

use std::fmt;

use crate::error::{describe_str, Error};
use crate::cache::CacheOptions;
use crate::history::HistoryOptions;
use crate::log::{Log, LogLevel, Logger};

/// The real API; the default base URL.
pub const DEFAULT_BASE_URL: &str = "https://powerpost.ai";
/// Default per-attempt timeout.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
/// Default number of retries after the first attempt.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// Default longest wait the client accepts before a retry; a server asking for longer gets
/// its `RateLimitError` at once, with `retry_after_ms` set.
pub const DEFAULT_MAX_RETRY_WAIT_MS: u64 = 60_000;
/// Default number of requests in flight for batch lookups.
pub const DEFAULT_CONCURRENCY: u32 = 4;
/// Longest accepted post item id.
pub const MAX_POST_ITEM_ID_CHARS: usize = 256;
/// Most retries a client or a call may ask for.
pub const MAX_RETRIES: u32 = 100;
/// Most requests a batch may keep in flight.
pub const MAX_CONCURRENCY: u32 = 1024;
/// The environment variables read (outside browsers) when an option is not given.
pub const ENV_API_KEY: &str = "POWERPOST_API_KEY";
/// See [`ENV_API_KEY`].
pub const ENV_WORKSPACE_ID: &str = "POWERPOST_WORKSPACE_ID";
/// See [`ENV_API_KEY`].
pub const ENV_BASE_URL: &str = "POWERPOST_BASE_URL";
/// The log level (`off`, `error`, `warn`, `info`, `debug`), where the environment is read.
pub const ENV_LOG: &str = "POWERPOST_LOG";

/// Which API the caller uses, so that messages name options as the caller wrote them: the
/// Rust builder methods, or the JavaScript option names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Surface {
    #[default]
    Rust,
    #[cfg_attr(not(feature = "js"), allow(dead_code))]
    Js,
}

/// The options messages talk about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opt {
    ApiKey,
    WorkspaceId,
    BaseUrl,
    DangerouslyAllowBrowser,
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    TimeoutMs,
    MaxRetries,
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    MaxRetryWaitMs,
    Concurrency,
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    History,
}

impl Surface {
    /// How the caller sets `opt`, for messages.
    pub(crate) fn name(self, opt: Opt) -> &'static str {
        match (self, opt) {
            (Surface::Rust, Opt::ApiKey) => "`ClientOptions::api_key`",
            (Surface::Rust, Opt::WorkspaceId) => "`ClientOptions::workspace_id`",
            (Surface::Rust, Opt::BaseUrl) => "`ClientOptions::base_url`",
            (Surface::Rust, Opt::DangerouslyAllowBrowser) => "`ClientOptions::dangerously_allow_browser(true)`",
            (Surface::Rust, Opt::TimeoutMs) => "`ClientOptions::timeout_ms` (or `RequestOptions::timeout_ms`)",
            (Surface::Rust, Opt::MaxRetries) => "`ClientOptions::max_retries`",
            (Surface::Rust, Opt::MaxRetryWaitMs) => "`ClientOptions::max_retry_wait_ms`",
            (Surface::Rust, Opt::Concurrency) => "`concurrency`",
            (Surface::Rust, Opt::History) => "`ClientOptions::history`",
            (Surface::Js, Opt::ApiKey) => "`apiKey`",
            (Surface::Js, Opt::WorkspaceId) => "`workspaceId`",
            (Surface::Js, Opt::BaseUrl) => "`baseUrl`",
            (Surface::Js, Opt::DangerouslyAllowBrowser) => "`dangerouslyAllowBrowser: true`",
            (Surface::Js, Opt::TimeoutMs) => "`timeoutMs`",
            (Surface::Js, Opt::MaxRetries) => "`maxRetries`",
            (Surface::Js, Opt::MaxRetryWaitMs) => "`maxRetryWaitMs`",
            (Surface::Js, Opt::Concurrency) => "`concurrency`",
            (Surface::Js, Opt::History) => "`history: true` (or `history: { store }`)",
        }
    }

    /// "the `apiKey` option" / "`ClientOptions::api_key`".
    pub(crate) fn option(self, opt: Opt) -> String {
        match self {
            Surface::Rust => self.name(opt).to_owned(),
            Surface::Js => format!("the {} option", self.name(opt)),
        }
    }
}

/// What the caller configured. Every field is optional; see [`Config::resolve`] for the rules.
///
/// ```
/// use powerpost_analytics::ClientOptions;
///
/// let options = ClientOptions::new()
///     .api_key("pp_live_sk_example")
///     .workspace_id("ws_123")
///     .timeout_ms(10_000)
///     .max_retries(3);
/// // The key never shows in Debug output.
/// assert!(!format!("{options:?}").contains("pp_live_sk_example"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ClientOptions {
    pub(crate) api_key: Option<String>,
    pub(crate) workspace_id: Option<String>,
    pub(crate) base_url: Option<String>,
    pub(crate) dangerously_allow_browser: bool,
    pub(crate) timeout_ms: Option<u64>,
    pub(crate) max_retries: Option<u32>,
    pub(crate) max_retry_wait_ms: Option<u64>,
    pub(crate) surface: Surface,
    pub(crate) log_level: Option<LogLevel>,
    pub(crate) logger: Option<Logger>,
    pub(crate) cache: Option<CacheOptions>,
    pub(crate) history: Option<HistoryOptions>,
    #[cfg(feature = "observe")]
    pub(crate) observer: Option<crate::observe::ObserverRef>,
    /// In a browser-like runtime: the `POWERPOST_*` variables that are set but not read, and
    /// why the runtime counts as a browser, so that messages can say so.
    pub(crate) unread_env: Option<UnreadEnv>,
}

/// Environment variables set but deliberately not read (see [`ClientOptions::unread_env`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct UnreadEnv {
    pub(crate) names: Vec<&'static str>,
    pub(crate) why: &'static str,
}

impl UnreadEnv {
    fn has(&self, name: &str) -> bool {
        self.names.contains(&name)
    }

    /// "POWERPOST_API_KEY is set, but …": why `name` was not used.
    fn explain(&self, name: &str) -> String {
        format!(
            "{name} is set, but environment variables are not read here because this looks like a browser \
             ({}), where a key would be visible to every visitor",
            self.why
        )
    }
}

impl ClientOptions {
    /// Empty options: everything from the environment or the defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// The API key, sent as `x-api-key`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }
    /// The workspace, sent as `X-Workspace-Id`.
    pub fn workspace_id(mut self, id: impl Into<String>) -> Self {
        self.workspace_id = Some(id.into());
        self
    }
    /// Where the API lives; default `https://powerpost.ai`. Point it at your own backend to
    /// use proxy mode (then the key and workspace may be left out).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }
    /// Allows an API key in a browser, where every visitor could read it.
    pub fn dangerously_allow_browser(mut self, allow: bool) -> Self {
        self.dangerously_allow_browser = allow;
        self
    }
    /// Per-attempt timeout in milliseconds, including reading the body (default 30 000).
    pub fn timeout_ms(mut self, ms: u64) -> Self {
        self.timeout_ms = Some(ms);
        self
    }
    /// Retries after the first attempt (default 2).
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = Some(n);
        self
    }
    /// The longest server-requested wait the client sits out (default 60 000 ms).
    pub fn max_retry_wait_ms(mut self, ms: u64) -> Self {
        self.max_retry_wait_ms = Some(ms);
        self
    }
    /// How much to log (default [`LogLevel::Warn`], or `POWERPOST_LOG` where the environment is
    /// read).
    pub fn log_level(mut self, level: LogLevel) -> Self {
        self.log_level = Some(level);
        self
    }
    /// Where log lines go (default: the runtime's console). The key is never in a line.
    pub fn logger(mut self, logger: Logger) -> Self {
        self.logger = Some(logger);
        self
    }
    /// Turns on the snapshot-aware cache (off by default; see [`CacheOptions`]).
    pub fn cache(mut self, cache: CacheOptions) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Turns on snapshot history (off by default; see [`HistoryOptions`]): every snapshot a
    /// lookup brings from the API is kept once.
    pub fn history(mut self, history: HistoryOptions) -> Self {
        self.history = Some(history);
        self
    }

    /// Reports what happens in each lookup to `observer` (feature `observe`; see
    /// [`Observer`](crate::Observer)). A call's own observer
    /// ([`RequestOptions`](crate::RequestOptions)`::observer`) takes its place for that call.
    #[cfg(feature = "observe")]
    pub fn observer(mut self, observer: std::rc::Rc<dyn crate::observe::Observer>) -> Self {
        self.observer = Some(crate::observe::ObserverRef::new(observer));
        self
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("workspace_id", &self.workspace_id)
            .field("base_url", &self.base_url)
            .field("dangerously_allow_browser", &self.dangerously_allow_browser)
            .field("timeout_ms", &self.timeout_ms)
            .field("max_retries", &self.max_retries)
            .field("max_retry_wait_ms", &self.max_retry_wait_ms)
            .field("log_level", &self.log_level)
            .field("logger", &self.logger)
            .field("cache", &self.cache)
            .field("history", &self.history)
            .finish()
    }
}

/// Values read from the environment (`POWERPOST_*` variables) where the runtime has one.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Env {
    /// `POWERPOST_API_KEY`.
    pub api_key: Option<String>,
    /// `POWERPOST_WORKSPACE_ID`.
    pub workspace_id: Option<String>,
    /// `POWERPOST_BASE_URL`.
    pub base_url: Option<String>,
    /// `POWERPOST_LOG`.
    pub log_level: Option<String>,
}

impl Env {
    /// The `POWERPOST_*` variables as `lookup` finds them (`process.env`, a Worker's bindings);
    /// an empty value counts as unset.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn read(lookup: impl Fn(&str) -> Option<String>) -> Env {
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
        Env { api_key: get(ENV_API_KEY), workspace_id: get(ENV_WORKSPACE_ID), base_url: get(ENV_BASE_URL), log_level: get(ENV_LOG) }
    }
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("workspace_id", &self.workspace_id)
            .field("base_url", &self.base_url)
            .field("log_level", &self.log_level)
            .finish()
    }
}

/// Where the client runs, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// A page or a web worker: the key would be visible to every visitor.
    Browser,
    /// Node, Deno, Bun, Cloudflare Workers, or native Rust.
    Server,
}

/// Checked, resolved configuration. Its `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    pub(crate) api_key: Option<String>,
    pub(crate) workspace_id: Option<String>,
    /// Absolute (`https://host[/prefix]`) or, in browsers, origin-relative (`/prefix`);
    /// never ends with `/`.
    pub(crate) base_url: String,
    pub(crate) timeout_ms: u64,
    pub(crate) max_retries: u32,
    pub(crate) max_retry_wait_ms: u64,
    pub(crate) surface: Surface,
    pub(crate) log: Log,
    pub(crate) cache: Option<CacheOptions>,
    pub(crate) history: Option<HistoryOptions>,
    #[cfg(feature = "observe")]
    pub(crate) observer: Option<crate::observe::ObserverRef>,
    /// Whether the base URL is PowerPost's own (otherwise: proxy mode).
    pub(crate) is_powerpost: bool,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("workspace_id", &self.workspace_id)
            .field("base_url", &self.base_url)
            .field("timeout_ms", &self.timeout_ms)
            .field("max_retries", &self.max_retries)
            .field("max_retry_wait_ms", &self.max_retry_wait_ms)
            .finish()
    }
}

impl Config {
    /// Applies the defaults and checks everything that can be checked before sending:
    ///
    /// - explicit options win over the environment, which wins over the defaults;
    /// - talking to the real API needs a key and a workspace; any other base URL is proxy
    ///   mode, where both may be left out (and are then not sent);
    /// - in a browser a key needs `dangerously_allow_browser`;
    /// - with a key, plain `http://` is allowed only for loopback hosts;
    /// - key and workspace must be visible ASCII.
    ///
    /// ```
    /// use powerpost_analytics::{ClientOptions, Config, Env, Runtime};
    ///
    /// let err = Config::resolve(ClientOptions::new(), &Env::default(), Runtime::Server).unwrap_err();
    /// assert!(err.to_string().contains("POWERPOST_API_KEY"));
    /// ```
    pub fn resolve(options: ClientOptions, env: &Env, runtime: Runtime) -> Result<Config, Error> {
        let pick = |own: Option<String>, from_env: &Option<String>| own.or_else(|| from_env.clone().filter(|v| !v.is_empty()));
        let api_key = pick(options.api_key, &env.api_key);
        let workspace_id = pick(options.workspace_id, &env.workspace_id);
        let base_raw = pick(options.base_url, &env.base_url).unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let names = options.surface;
        let name = |opt| names.name(opt);
        let base = parse_base_url(&base_raw, runtime, name(Opt::BaseUrl))?;

        if let Some(key) = &api_key {
            check_header_value(name(Opt::ApiKey), key, true)?;
        }
        if let Some(ws) = &workspace_id {
            check_header_value(name(Opt::WorkspaceId), ws, false)?;
        }
        if base.is_powerpost {
            let unread = options.unread_env.as_ref();
            let unread_base = match unread.filter(|u| u.has(ENV_BASE_URL)) {
                Some(u) => format!(" ({}: pass {} too.)", u.explain(ENV_BASE_URL), names.option(Opt::BaseUrl)),
                None => String::new(),
            };
            if api_key.is_none() {
                return Err(Error::invalid_argument(match unread.filter(|u| u.has(ENV_API_KEY)) {
                    Some(u) => format!(
                        "No API key: {}. In tests, pass {} with {}; in a real page, set {} to your own backend \
                         (proxy mode, no key in the browser).{unread_base}",
                        u.explain(ENV_API_KEY),
                        names.option(Opt::ApiKey),
                        name(Opt::DangerouslyAllowBrowser),
                        name(Opt::BaseUrl),
                    ),
                    None => format!(
                        "No API key: pass {} or set the {ENV_API_KEY} environment variable. \
                         (To go through your own backend instead, set {} to it.){unread_base}",
                        names.option(Opt::ApiKey),
                        name(Opt::BaseUrl),
                    ),
                }));
            }
            if workspace_id.is_none() {
                return Err(Error::invalid_argument(match unread.filter(|u| u.has(ENV_WORKSPACE_ID)) {
                    Some(u) => format!("No workspace: {}. Pass {}.{unread_base}", u.explain(ENV_WORKSPACE_ID), names.option(Opt::WorkspaceId)),
                    None => format!(
                        "No workspace: pass {} or set the {ENV_WORKSPACE_ID} environment variable \
                         (PowerPost answers 400 without the X-Workspace-Id header).{unread_base}",
                        names.option(Opt::WorkspaceId),
                    ),
                }));
            }
        }
        if api_key.is_some() {
            if runtime == Runtime::Browser && !options.dangerously_allow_browser {
                return Err(Error::invalid_argument(format!(
                    "An API key in browser code is exposed to every visitor of the page, who could then use your \
                     PowerPost account. Call PowerPost from your server, or point {} at your own backend \
                     (proxy mode, no key in the browser). If you understand the risk, set {}.",
                    name(Opt::BaseUrl),
                    name(Opt::DangerouslyAllowBrowser),
                )));
            }
            if base.scheme == Scheme::Http && !base.is_loopback {
                return Err(Error::invalid_argument(format!(
                    "Refusing to send the API key in clear text to {}: use https:// \
                     (plain http:// is allowed only for localhost, 127.0.0.0/8 and [::1]).",
                    describe_str(&base.url)
                )));
            }
        }
        let max_retries = options.max_retries.unwrap_or(DEFAULT_MAX_RETRIES);
        check_max_retries(max_retries, names)?;
        let level = match (options.log_level, env.log_level.as_deref().filter(|v| !v.is_empty())) {
            (Some(level), _) => level,
            (None, Some(v)) => LogLevel::from_user(v, ENV_LOG)?,
            (None, None) => LogLevel::default(),
        };
        let log = Log { level, logger: options.logger, secret: api_key.clone() };
        Ok(Config {
            api_key,
            workspace_id,
            base_url: base.url,
            timeout_ms: options.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS),
            max_retries,
            max_retry_wait_ms: options.max_retry_wait_ms.unwrap_or(DEFAULT_MAX_RETRY_WAIT_MS),
            surface: names,
            log,
            cache: options.cache,
            history: options.history,
            #[cfg(feature = "observe")]
            observer: options.observer,
            is_powerpost: base.is_powerpost,
        })
    }

    /// The base URL in use (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Whether the base URL is another than PowerPost's (your own backend: proxy mode).
    pub fn proxy_mode(&self) -> bool {
        !self.is_powerpost
    }

    /// Whether a key will be sent.
    pub fn has_api_key(&self) -> bool {
        self.api_key.is_some()
    }

    /// The workspace that will be sent, if any.
    pub fn workspace_id(&self) -> Option<&str> {
        self.workspace_id.as_deref()
    }

    /// The per-attempt timeout in milliseconds.
    pub fn timeout_ms(&self) -> u64 {
        self.timeout_ms
    }

    /// Retries after the first attempt.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The longest wait sat out before a retry, in milliseconds.
    pub fn max_retry_wait_ms(&self) -> u64 {
        self.max_retry_wait_ms
    }

    /// The request URL for one item: the id is checked and percent-encoded as one path segment.
    ///
    /// ```
    /// # use powerpost_analytics::{ClientOptions, Config, Env, Runtime};
    /// let cfg = Config::resolve(
    ///     ClientOptions::new().base_url("http://127.0.0.1:4010").api_key("k").workspace_id("w"),
    ///     &Env::default(), Runtime::Server).unwrap();
    /// assert_eq!(cfg.analytics_url("../x?y#z").unwrap(),
    ///     "http://127.0.0.1:4010/api/v1/post-items/..%2Fx%3Fy%23z/analytics");
    /// ```
    pub fn analytics_url(&self, post_item_id: &str) -> Result<String, Error> {
        check_post_item_id(post_item_id)?;
        let mut url = String::with_capacity(self.base_url.len() + post_item_id.len() + 40);
        url.push_str(&self.base_url);
        url.push_str("/api/v1/post-items/");
        encode_segment(post_item_id, &mut url);
        url.push_str("/analytics");
        Ok(url)
    }
}

/// Checks a post item id: a non-empty string of at most 256 characters without control
/// characters. Anything else is an `InvalidArgument` error.
pub fn check_post_item_id(id: &str) -> Result<(), Error> {
    if id.is_empty() {
        return Err(Error::invalid_argument("postItemId is empty: pass the id of a post item (e.g. from GET /api/v1/posts/{id})."));
    }
    let chars = id.chars().count();
    if chars > MAX_POST_ITEM_ID_CHARS {
        return Err(Error::invalid_argument(format!(
            "postItemId is {chars} characters long; PowerPost ids are at most {MAX_POST_ITEM_ID_CHARS}."
        )));
    }
    // URL parsers treat `.`, `..` and their %2E spellings as dot-segments and drop them, so
    // these ids cannot be sent as one path segment at all.
    if id == "." || id == ".." {
        return Err(Error::invalid_argument(format!(
            "postItemId {} cannot be sent: URLs treat it as a relative path step.",
            describe_str(id)
        )));
    }
    if id.chars().any(char::is_control) {
        return Err(Error::invalid_argument(format!("postItemId {} contains a control character.", describe_str(id))));
    }
    Ok(())
}

/// Percent-encodes `s` as one path segment: only RFC 3986 unreserved characters stay as they
/// are, so `/`, `?`, `#`, `%` and `.`-only segments cannot change the path.
fn encode_segment(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        let keep = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'~' | b'.');
        if keep {
            out.push(char::from(b));
        } else {
            out.push('%');
            for nibble in [b >> 4, b & 15] {
                out.push(HEX.get(usize::from(nibble)).map_or('0', |h| char::from(*h)));
            }
        }
    }
}

fn check_header_value(name: &str, value: &str, secret: bool) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::invalid_argument(format!("{name} is empty.")));
    }
    if let Some(pos) = value.bytes().position(|b| !(0x21..=0x7e).contains(&b)) {
        // Never echo a secret, not even in part.
        let shown = if secret { String::new() } else { format!(" {}", describe_str(value)) };
        return Err(Error::invalid_argument(format!(
            "{name}{shown} contains a character that is not visible ASCII (at byte {pos}): spaces, line breaks, \
             control and non-ASCII characters cannot be sent in an HTTP header. \
             Check for a stray newline or quote when copying it."
        )));
    }
    Ok(())
}

#[derive(Debug, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
    Relative,
}

struct Base {
    url: String,
    scheme: Scheme,
    is_loopback: bool,
    is_powerpost: bool,
}

fn parse_base_url(raw: &str, runtime: Runtime, name: &str) -> Result<Base, Error> {
    let bad = |why: &str| Error::invalid_argument(format!("{name} {} is not usable: {why}", describe_str(raw)));
    let trimmed = raw.trim_end_matches('/');
    if raw.trim() != raw || raw.is_empty() || raw.chars().any(|c| c.is_control() || c == ' ') {
        return Err(bad("it is empty or contains spaces or control characters."));
    }
    if raw.contains(['?', '#']) {
        return Err(bad("it must not contain a query (?) or fragment (#)."));
    }
    if raw.contains('\\') {
        return Err(bad("it must not contain a backslash."));
    }
    if trimmed.is_empty() || (raw.starts_with('/') && !raw.starts_with("//")) {
        // An origin-relative path: only meaningful where there is a page origin.
        if runtime == Runtime::Browser {
            return Ok(Base { url: trimmed.to_owned(), scheme: Scheme::Relative, is_loopback: false, is_powerpost: false });
        }
        return Err(bad("a relative URL only works in a browser page; give an absolute http(s):// URL."));
    }
    let lower = raw.to_ascii_lowercase();
    let (scheme, rest) = if let Some(rest) = lower.strip_prefix("https://") {
        (Scheme::Https, rest)
    } else if let Some(rest) = lower.strip_prefix("http://") {
        (Scheme::Http, rest)
    } else {
        return Err(bad("only http:// and https:// URLs are allowed."));
    };
    let authority = rest.split('/').next().unwrap_or("");
    if authority.contains('@') {
        return Err(bad("credentials in the URL are not allowed; pass the key as an option."));
    }
    let host = host_of(authority).ok_or_else(|| bad("it has no valid host."))?;
    let is_loopback = host == "localhost"
        || host.ends_with(".localhost")
        || host == "[::1]"
        || host.strip_prefix("127.").is_some_and(|r| r.split('.').count() == 3 && r.split('.').all(|p| p.parse::<u8>().is_ok()));
    let is_powerpost = host == "powerpost.ai" || host.ends_with(".powerpost.ai");
    // Keep the caller's path prefix (proxies often mount the API under one), lower-case only
    // the scheme and host.
    let path = raw.get(raw.len() - rest.len() + authority.len()..).unwrap_or("");
    let url = format!("{}{authority}{}", if scheme == Scheme::Https { "https://" } else { "http://" }, path.trim_end_matches('/'));
    Ok(Base { url, scheme, is_loopback, is_powerpost })
}

/// The host part of `host[:port]` / `[v6][:port]`, lower-case; `None` if malformed.
fn host_of(authority: &str) -> Option<&str> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']')? + 1;
        (authority.get(..end)?, authority.get(end..)?.strip_prefix(':'))
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if let Some(p) = port {
        if p.is_empty() || p.parse::<u16>().is_err() {
            return None;
        }
    }
    let valid = !host.is_empty()
        && (host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.'))
            || host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')));
    valid.then_some(host)
}

/// Checks a millisecond option given as a JavaScript number: finite, non-negative, at most
/// 2^53 − 1 (fractions are rounded down).
pub fn check_ms(name: &str, value: f64) -> Result<u64, Error> {
    if (0.0..=crate::validate::MAX_SAFE_INTEGER).contains(&value) {
        Ok(value as u64)
    } else {
        Err(Error::invalid_argument(format!(
            "{name} must be a non-negative number of milliseconds, got {}.",
            crate::validate::fmt_number(value)
        )))
    }
}

/// Checks a count option given as a JavaScript number: a whole number in `min..=max`.
pub fn check_count(name: &str, value: f64, min: u32, max: u32) -> Result<u32, Error> {
    if value.is_finite() && value.fract() == 0.0 && value >= f64::from(min) && value <= f64::from(max) {
        Ok(value as u32)
    } else {
        Err(Error::invalid_argument(format!(
            "{name} must be a whole number from {min} to {max}, got {}.",
            crate::validate::fmt_number(value)
        )))
    }
}

/// The retry limit, for the client's option and a call's: at most [`MAX_RETRIES`].
pub(crate) fn check_max_retries(n: u32, names: Surface) -> Result<u32, Error> {
    check_count(names.name(Opt::MaxRetries).trim_matches('`'), f64::from(n), 0, MAX_RETRIES)
}

/// The batch concurrency: 1 to [`MAX_CONCURRENCY`].
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) fn check_concurrency(n: u32, names: Surface) -> Result<u32, Error> {
    check_count(names.name(Opt::Concurrency).trim_matches('`'), f64::from(n), 1, MAX_CONCURRENCY)
}

/// The known option `key` probably means: the same letters ignoring case, `_` and `-`
/// (`api_key`, `baseURL`), one a prefix of the other (`timeout` for `timeoutMs`), or a typo
/// of one or two letters (`concurency`).
#[cfg_attr(not(feature = "js"), allow(dead_code))]
pub(crate) fn similar_name<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    // ASCII case folding: option names are ASCII (Unicode's tables would add 10 KB).
    let norm = |s: &str| s.bytes().filter(|c| *c != b'_' && *c != b'-').map(|c| c.to_ascii_lowercase()).collect::<Vec<u8>>();
    let k = norm(key);
    let max_typos = if k.len() >= 8 { 2 } else { 1 };
    known.iter().copied().find(|name| {
        let n = norm(name);
        n == k || (k.len() >= 4 && (n.starts_with(&k) || k.starts_with(&n))) || (k.len() >= 4 && edit_distance(&k, &n) <= max_typos)
    })
}

#[cfg_attr(not(feature = "js"), allow(dead_code))]
/// Levenshtein distance (insertions, deletions, substitutions), for short option names.
fn edit_distance(a: &[u8], b: &[u8]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = i;
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let above = row.get(j + 1).copied().unwrap_or(usize::MAX);
            let left = row.get(j).copied().unwrap_or(usize::MAX);
            let best = (diagonal + usize::from(ca != cb)).min(above.saturating_add(1)).min(left.saturating_add(1));
            diagonal = above;
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = best;
            }
        }
    }
    row.last().copied().unwrap_or(a.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    const KEY: &str = "pp_live_sk_SECRET123";

    fn opts() -> ClientOptions {
        ClientOptions::new().api_key(KEY).workspace_id("ws_1")
    }

    fn resolve(o: ClientOptions) -> Result<Config, Error> {
        Config::resolve(o, &Env::default(), Runtime::Server)
    }

    #[test]
    fn defaults() {
        let c = resolve(opts()).unwrap();
        assert_eq!(c.base_url(), "https://powerpost.ai");
        assert_eq!((c.timeout_ms, c.max_retries, c.max_retry_wait_ms), (30_000, 2, 60_000));
    }

    #[test]
    fn env_fills_gaps_and_options_win() {
        let env = Env {
            api_key: Some("env_key".into()),
            workspace_id: Some("env_ws".into()),
            base_url: Some("http://localhost:9/".into()),
            log_level: Some("debug".into()),
        };
        let c = Config::resolve(ClientOptions::new(), &env, Runtime::Server).unwrap();
        assert_eq!(c.log.level, LogLevel::Debug, "POWERPOST_LOG");
        assert_eq!(c.api_key.as_deref(), Some("env_key"));
        assert_eq!(c.workspace_id(), Some("env_ws"));
        assert_eq!(c.base_url(), "http://localhost:9");
        let c = Config::resolve(opts().base_url("https://api.example.com"), &env, Runtime::Server).unwrap();
        assert_eq!(c.api_key.as_deref(), Some(KEY));
        assert_eq!(c.workspace_id(), Some("ws_1"));
        assert_eq!(c.base_url(), "https://api.example.com");
    }

    #[test]
    fn real_api_needs_key_and_workspace_naming_what_to_set() {
        let e = resolve(ClientOptions::new().workspace_id("w")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.message().contains("`ClientOptions::api_key`") && e.message().contains("POWERPOST_API_KEY"), "{e}");
        assert!(!e.message().contains("apiKey"), "Rust messages name Rust methods: {e}");
        let e = resolve(ClientOptions::new().api_key(KEY)).unwrap_err();
        assert!(e.message().contains("`ClientOptions::workspace_id`") && e.message().contains("POWERPOST_WORKSPACE_ID"));
        assert!(!e.message().contains(KEY));
        let js = ClientOptions { surface: Surface::Js, ..ClientOptions::new() };
        let e = resolve(js.workspace_id("w")).unwrap_err();
        assert!(e.message().contains("pass the `apiKey` option"), "{e}");
    }

    #[test]
    fn retry_limit_is_checked_for_both_surfaces() {
        let e = resolve(opts().max_retries(101)).unwrap_err();
        assert!(e.message().contains("ClientOptions::max_retries must be a whole number from 0 to 100, got 101"), "{e}");
        assert!(resolve(opts().max_retries(100)).is_ok());
        let e = check_max_retries(101, Surface::Js).unwrap_err();
        assert!(e.message().starts_with("maxRetries must be"), "{e}");
        assert!(check_concurrency(0, Surface::Rust).is_err() && check_concurrency(1024, Surface::Rust).is_ok());
    }

    #[test]
    fn variables_set_but_not_read_in_a_browser_are_named_with_the_reason() {
        let unread = UnreadEnv { names: vec![ENV_API_KEY, ENV_BASE_URL], why: "a `window` and a `document` exist, as under jsdom or happy-dom" };
        let js = ClientOptions { surface: Surface::Js, unread_env: Some(unread), ..ClientOptions::new() };
        let e = Config::resolve(js.clone(), &Env::default(), Runtime::Browser).unwrap_err();
        let m = e.message();
        assert!(m.contains("POWERPOST_API_KEY is set, but") && m.contains("jsdom"), "{m}");
        assert!(m.contains("`dangerouslyAllowBrowser: true`") && m.contains("POWERPOST_BASE_URL is set"), "{m}");
        assert!(!m.contains("or set the POWERPOST_API_KEY"), "{m}");
        let e = Config::resolve(js.api_key("k").dangerously_allow_browser(true), &Env::default(), Runtime::Browser).unwrap_err();
        assert!(e.message().starts_with("No workspace: pass the `workspaceId` option or set"), "{e}");
    }

    #[test]
    fn log_level_from_options_then_env_then_warn() {
        let env = Env { log_level: Some("loud".into()), ..Env::default() };
        let e = Config::resolve(opts(), &env, Runtime::Server).unwrap_err();
        assert!(e.message().contains("POWERPOST_LOG must be one of off, error, warn, info, debug"), "{e}");
        let c = Config::resolve(opts().log_level(LogLevel::Off), &env, Runtime::Server).unwrap();
        assert_eq!(c.log.level, LogLevel::Off);
        assert_eq!(resolve(opts()).unwrap().log.level, LogLevel::Warn);
        assert!(!format!("{:?}", resolve(opts()).unwrap().log).contains(KEY));
    }

    #[test]
    fn proxy_mode_needs_neither() {
        let c = resolve(ClientOptions::new().base_url("https://my-app.example/powerpost/")).unwrap();
        assert_eq!(c.api_key, None);
        assert_eq!(c.workspace_id, None);
        assert_eq!(c.base_url(), "https://my-app.example/powerpost");
        let c = Config::resolve(ClientOptions::new().base_url("/api/pp"), &Env::default(), Runtime::Browser).unwrap();
        assert_eq!(c.base_url(), "/api/pp");
        assert!(resolve(ClientOptions::new().base_url("/api/pp")).is_err(), "relative needs a page");
    }

    #[test]
    fn browser_guard() {
        let e = Config::resolve(opts(), &Env::default(), Runtime::Browser).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.message().contains("dangerously_allow_browser(true)") && e.message().contains("ClientOptions::base_url"), "{e}");
        assert!(!e.message().contains(KEY));
        assert!(Config::resolve(opts().dangerously_allow_browser(true), &Env::default(), Runtime::Browser).is_ok());
    }

    #[test]
    fn plain_http_only_to_loopback_with_a_key() {
        for ok in ["http://localhost:3000", "http://127.0.0.1:1", "http://127.9.8.7", "http://[::1]:80", "HTTP://LOCALHOST"] {
            assert!(resolve(opts().base_url(ok)).is_ok(), "{ok}");
        }
        for bad in ["http://example.com", "http://127.0.0.1.evil.com", "http://10.0.0.1", "http://localhost.evil.com"] {
            let e = resolve(opts().base_url(bad)).unwrap_err();
            assert!(e.message().contains("clear text"), "{bad}: {e}");
        }
        // Without a key nothing secret is sent: proxy over http is fine.
        assert!(resolve(ClientOptions::new().base_url("http://example.com")).is_ok());
    }

    #[test]
    fn bad_base_urls() {
        for bad in [
            "javascript:alert(1)", "file:///etc/passwd", "data:text/plain,x", "ftp://x", "", " https://x",
            "https://", "https://user:pw@host", "https://h?x=1", "https://h#f", "https://h:99999", "//host",
            "https://h\\x", "https://a b",
        ] {
            let e = resolve(opts().base_url(bad)).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn header_values_must_be_visible_ascii_and_key_never_echoed() {
        for bad in ["pp_live_sk_SECRET123\n", "pp live", "pp_é", "pp\r\nX-Evil: 1", ""] {
            let e = resolve(ClientOptions::new().api_key(bad).workspace_id("w")).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument);
            assert!(e.message().contains("ClientOptions::api_key"), "{e}");
            if !bad.is_empty() {
                assert!(!e.message().contains(bad.trim()), "echoed: {e}");
                assert!(!e.message().contains("SECRET"), "echoed: {e}");
            }
        }
        let e = resolve(ClientOptions::new().api_key(KEY).workspace_id("ws 1")).unwrap_err();
        assert!(e.message().contains("ClientOptions::workspace_id"));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let c = resolve(opts()).unwrap();
        for s in [format!("{c:?}"), format!("{:?}", opts()), format!("{:?}", Env { api_key: Some(KEY.into()), ..Env::default() })] {
            assert!(!s.contains(KEY), "{s}");
            assert!(s.contains("[redacted]"));
        }
    }

    #[test]
    fn ids_are_one_encoded_segment() {
        let c = resolve(opts()).unwrap();
        let u = |id: &str| c.analytics_url(id).unwrap();
        assert_eq!(u("550e8400-e29b"), "https://powerpost.ai/api/v1/post-items/550e8400-e29b/analytics");
        assert_eq!(u("../x"), "https://powerpost.ai/api/v1/post-items/..%2Fx/analytics");
        assert_eq!(u("a/b"), "https://powerpost.ai/api/v1/post-items/a%2Fb/analytics");
        assert_eq!(u("a?b"), "https://powerpost.ai/api/v1/post-items/a%3Fb/analytics");
        assert_eq!(u("a#b"), "https://powerpost.ai/api/v1/post-items/a%23b/analytics");
        assert_eq!(u("%2e"), "https://powerpost.ai/api/v1/post-items/%252e/analytics");
        assert_eq!(u("..."), "https://powerpost.ai/api/v1/post-items/.../analytics");
        assert_eq!(u(".x"), "https://powerpost.ai/api/v1/post-items/.x/analytics");
        for dots in [".", ".."] {
            assert_eq!(c.analytics_url(dots).unwrap_err().kind(), ErrorKind::InvalidArgument);
        }
        assert_eq!(u("é"), "https://powerpost.ai/api/v1/post-items/%C3%A9/analytics");
    }

    #[test]
    fn id_rules() {
        assert!(check_post_item_id("").is_err());
        assert!(check_post_item_id(&"a".repeat(256)).is_ok());
        assert!(check_post_item_id(&"a".repeat(257)).is_err());
        assert!(check_post_item_id(&"é".repeat(256)).is_ok(), "characters, not bytes");
        assert!(check_post_item_id("a\u{0}b").is_err());
        assert!(check_post_item_id("a\nb").is_err());
        assert!(check_post_item_id("a\u{7f}").is_err());
    }

    #[test]
    fn misspelt_option_names_find_the_one_meant() {
        let known = ["apiKey", "workspaceId", "baseUrl", "timeoutMs", "maxRetries", "concurrency"];
        for (typed, meant) in [("timeout", "timeoutMs"), ("baseURL", "baseUrl"), ("api_key", "apiKey"), ("concurency", "concurrency"),
            ("workspace", "workspaceId"), ("maxRetires", "maxRetries"), ("timeoutMS", "timeoutMs"), ("apikey", "apiKey")] {
            assert_eq!(similar_name(typed, &known), Some(meant), "{typed}");
        }
        for unrelated in ["foo", "key", "url", "verbose", "cache"] {
            assert_eq!(similar_name(unrelated, &known), None, "{unrelated}");
        }
        assert_eq!(edit_distance(b"kitten", b"sitting"), 3);
        assert_eq!(edit_distance(b"", b"abc"), 3);
    }

    #[test]
    fn numeric_options() {
        assert_eq!(check_ms("timeoutMs", 1500.0).unwrap(), 1500);
        for bad in [-1.0, f64::NAN, f64::INFINITY, 1e300] {
            assert!(check_ms("timeoutMs", bad).is_err());
        }
        assert_eq!(check_count("maxRetries", 3.0, 0, 100).unwrap(), 3);
        for bad in [-1.0, 1.5, f64::NAN, 101.0] {
            assert!(check_count("maxRetries", bad, 0, 100).is_err());
        }
        assert!(check_count("concurrency", 0.0, 1, 256).is_err());
    }
}
