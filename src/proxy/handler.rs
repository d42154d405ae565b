//! The Fetch-API handler over the proxy's rules: `web_sys::Request` in, `web_sys::Response` out.
//! A Rust Worker calls [`Proxy::handle`]; the npm package's `createProxyHandler` wraps it.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use web_sys::{Request, Response, ResponseInit};

use super::upstream::Upstream;
use super::{
    api_error_parts, caller_limited, failure, history_answer, internal_error, misconfigured, no_history, success, unauthorized, Answer, Callers,
    Missing, Plan, ProxyOptions, RequestHeaders, Rules, DEFAULT_CALLER_PER_MINUTE,
};
use crate::observe::{Event, ObserverRef};
use crate::client::{browser_reason, global_defined, process_env, Client, RequestOptions};
use crate::config::{ClientOptions, Config, Env, Runtime};
use crate::error::{redact, Error};
use crate::log::LogLevel;

/// How long `authorize` may take before the request is answered 500.
const AUTHORIZE_TIMEOUT_MS: u64 = 10_000;

/// Who may call the proxy, as [`ProxyOptions::authorize`] keeps it: given the incoming request
/// (its cookies, its `Authorization` header), `Ok(true)` lets it through, `Ok(false)` answers
/// 401, and `Err(why)` answers 500 (`why` is logged, never sent).
pub type Authorize = Rc<dyn Fn(&Request) -> AuthorizeFuture>;

/// What an [`Authorize`] callback returns.
pub type AuthorizeFuture = Pin<Box<dyn Future<Output = Result<bool, String>>>>;

/// Who counts as one caller for the caller limit, as [`ProxyOptions::caller_key`] keeps it:
/// `None` leaves the request uncounted.
pub type CallerKey = Rc<dyn Fn(&Request) -> Option<String>>;

/// Where `toNodeListener` leaves the client's address on the `Request` it builds.
const CLIENT_ADDRESS: &str = "powerpost-analytics/proxy.client-address";

/// The proxy: forwards `GET`/`HEAD {base_path}/api/v1/post-items/{id}/analytics` to PowerPost
/// with the server's key, and refuses everything else (see the module documentation).
///
/// ```ignore
/// use powerpost_analytics::{ClientOptions, Proxy, ProxyOptions};
///
/// let proxy = Proxy::new(ProxyOptions::new(ClientOptions::new()).base_path("/api/powerpost").allow_anonymous(true))?;
/// let response: web_sys::Response = proxy.handle(&request).await;
/// ```
pub struct Proxy {
    rules: Rules,
    authorize: Option<Authorize>,
    /// The upstream slots every lookup of this proxy takes turns at.
    upstream: Rc<Upstream>,
    /// The caller limit, when on: lookups a minute, who is a caller, the counts.
    callers: Option<(u32, Option<CallerKey>, RefCell<Callers>)>,
    /// With a cache: the ids PowerPost answered 404 for, and for how long they are kept.
    missing: RefCell<Missing>,
    not_found_ms: u64,
    state: RefCell<State>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy").field("rules", &self.rules).finish_non_exhaustive()
    }
}

enum State {
    Ready(Client),
    /// No key yet: a build (`next build`, `vite build`) loads the route module where the
    /// server's secrets are not set, and a Cloudflare Worker gets its variables with each
    /// request (`env`). The client is made at the first request that finds a key.
    Deferred { options: ClientOptions, logged: bool },
}

impl Proxy {
    /// Checks `options` and resolves the client against the environment (`POWERPOST_*`).
    ///
    /// Fails in a browser (the proxy holds the key: it runs on a server), for options that
    /// cannot work, and without an authorize callback unless
    /// [`ProxyOptions::allow_anonymous`] is set. Without a key it is created all the same (a
    /// build has no secrets): the key is read at the first request, and until there is one
    /// every request is answered 500 `PROXY_MISCONFIGURED` (logged at error level once).
    pub fn new(options: ProxyOptions) -> Result<Proxy, Error> {
        if let Some(why) = browser_reason() {
            return Err(Error::invalid_argument(format!(
                "createProxyHandler() runs on your server, not in a browser ({why}): it holds the API key. \
                 In the browser, point the client's baseUrl at the proxy instead."
            )));
        }
        let rules = Rules::new(&options.base_path, &options.allowed_origins)?;
        if options.authorize.is_none() && !options.allow_anonymous {
            return Err(Error::invalid_argument(
                "The proxy needs an `authorize` option, (request) => boolean, that checks who is calling (a session \
                 cookie, a token). Without it anyone who finds the proxy's URL can read your analytics and spend your \
                 API key's rate limit: an open relay. If that is really what you want (a public dashboard), pass \
                 `allowAnonymous: true`.",
            ));
        }
        let upstream = Upstream::new(options.max_concurrent_upstream, options.max_queue);
        let keep = options.client.cache.as_ref().map_or(0, |c| c.max_entries);
        let env = process_env();
        let state = match resolve(options.client.clone(), &env, &upstream) {
            Ok(client) => State::Ready(client),
            // Workers have no process environment at start-up: wait for the first request's `env`.
            Err(_) if global_defined("WorkerGlobalScope") => State::Deferred { options: options.client, logged: false },
            Err(e) if has_key(&options.client, &env) => return Err(e),
            Err(_) => {
                // The rest of the options must still work once a key is there: checked now.
                let with_key = ClientOptions { api_key: Some("pp_build_placeholder".into()), ..options.client.clone() };
                let env_ws = Env { workspace_id: env.workspace_id.clone().or_else(|| Some("ws_build_placeholder".into())), ..env };
                Config::resolve(with_key, &env_ws, Runtime::Server)?;
                State::Deferred { options: options.client, logged: false }
            }
        };
        // On by default only for an open proxy: with `authorize`, the app knows its callers.
        let per_minute = options.caller_per_minute.unwrap_or(if options.authorize.is_none() { DEFAULT_CALLER_PER_MINUTE } else { 0 });
        let callers = (per_minute > 0).then(|| (per_minute, options.caller_key, RefCell::new(Callers::new(per_minute))));
        Ok(Proxy {
            rules,
            callers,
            authorize: options.authorize,
            upstream,
            missing: RefCell::new(Missing::new(keep)),
            not_found_ms: if keep == 0 { 0 } else { options.cache_not_found_ms },
            state: RefCell::new(state),
        })
    }

    /// Answers one request.
    pub async fn handle(&self, request: &Request) -> Response {
        self.handle_with_env(request, None).await
    }

    /// Answers one request; `env` holds a Worker's variables (`POWERPOST_API_KEY`, …), used when
    /// the options and the process environment had no key.
    pub async fn handle_with_env(&self, request: &Request, env: Option<&Env>) -> Response {
        self.handle_observed(request, env, None).await
    }

    /// Answers one request, reporting to `observer` the route taken ([`Event::Route`]) and the
    /// lookup made for it (whose span is then a child of the caller's server span).
    pub async fn handle_observed(&self, request: &Request, env: Option<&Env>, observer: Option<ObserverRef>) -> Response {
        let method = request.method();
        let url = request.url();
        let headers = request.headers();
        let get = |name: &str| headers.get(name).ok().flatten();
        let (origin, site, pre_method, pre_headers) =
            (get("origin"), get("sec-fetch-site"), get("access-control-request-method"), get("access-control-request-headers"));
        let seen = RequestHeaders {
            origin: origin.as_deref(),
            cross_site: site.as_deref() == Some("cross-site"),
            preflight_method: pre_method.as_deref(),
            preflight_headers: pre_headers.as_deref(),
        };
        let (answer, head, secret) = match self.rules.plan(&method, &url, &seen) {
            Plan::Answer(a) => (a, method == "HEAD", self.secret()),
            Plan::Forward { id, head, history } => {
                if let Some(o) = &observer {
                    o.event(&Event::Route { route: self.rules.route_template(history) });
                }
                let (answer, secret) = match self.over_caller_limit(request) {
                    Some(refused) => (refused, self.secret()),
                    None => self.forward(request, &id, history, env, observer).await,
                };
                (self.rules.finish(answer, seen.origin), head, secret)
            }
        };
        respond(answer, head, secret.as_deref())
    }

    /// The methods the proxy answers, as its 405s' `Allow` header lists them (adapters that
    /// must answer a method the Fetch API cannot carry, such as `TRACE`, say the same).
    pub fn allow(&self) -> &'static str {
        self.rules.allow()
    }

    /// The 429 for a caller past the caller limit (this request counted), if it is.
    fn over_caller_limit(&self, request: &Request) -> Option<Answer> {
        let (per_minute, key, counts) = self.callers.as_ref()?;
        let caller = match key {
            Some(key) => key(request),
            None => client_address(request),
        }?;
        let wait_ms = counts.borrow_mut().admit(&caller, js_sys::Date::now()).err()?;
        Some(caller_limited(*per_minute, wait_ms))
    }

    fn secret(&self) -> Option<String> {
        match &*self.state.borrow() {
            State::Ready(c) => c.config().api_key.clone(),
            State::Deferred { .. } => None,
        }
    }

    /// The client, made first if it was deferred: from a Worker's `env`, else the process
    /// environment as it is now. Without a key, the answer for the request (logged once).
    fn client(&self, env: Option<&Env>) -> Result<Client, Answer> {
        let mut state = self.state.borrow_mut();
        let made = match &mut *state {
            State::Ready(c) => return Ok(c.clone()),
            State::Deferred { options, logged } => match resolve(options.clone(), env.unwrap_or(&process_env()), &self.upstream) {
                Ok(client) => client,
                Err(e) => {
                    if !*logged {
                        *logged = true;
                        let log = crate::log::Log {
                            level: options.log_level.unwrap_or_default(),
                            logger: options.logger.clone(),
                            secret: options.api_key.clone(),
                        };
                        log.write(LogLevel::Error, || format!("proxy: not configured, every request is answered 500 until it is: {}", e.message()));
                    }
                    return Err(misconfigured());
                }
            },
        };
        *state = State::Ready(made.clone());
        Ok(made)
    }

    async fn forward(&self, request: &Request, id: &str, history: bool, env: Option<&Env>, observer: Option<ObserverRef>) -> (Answer, Option<String>) {
        let client = match self.client(env) {
            Ok(c) => c,
            Err(answer) => return (answer, None),
        };
        let config = client.config();
        let (log, secret) = (&config.log, config.api_key.clone());
        if let Some(authorize) = &self.authorize {
            // Bounded, and given up when the client goes away: a callback that never settles
            // must not hold the request forever.
            let signal = request.signal();
            let outcome = crate::store::within(AUTHORIZE_TIMEOUT_MS, authorize(request), Some(&signal)).await;
            if signal.aborted() {
                // Nobody is left to answer: not a failure of the proxy, and nothing was sent.
                log.write(LogLevel::Debug, || {
                    format!("proxy: post item {id}: the client closed the connection while authorize() was pending; nothing was answered")
                });
                return (internal_error("Authorization was abandoned"), secret);
            }
            let outcome = outcome.unwrap_or_else(|| Err(format!("it did not answer within {} s", AUTHORIZE_TIMEOUT_MS / 1000)));
            match outcome {
                Ok(true) => {}
                Ok(false) => {
                    log.write(LogLevel::Debug, || format!("proxy: post item {id}: refused by authorize (401)"));
                    return (unauthorized(), secret);
                }
                Err(why) => {
                    log.write(LogLevel::Error, || format!("proxy: authorize() failed, answered 500: {why}"));
                    return (internal_error("Authorization failed"), secret);
                }
            }
        }
        if history {
            // From the proxy's own store, never upstream (a proxy without history has none).
            let answer = match client.history_options().map(|o| o.snapshot_interval_ms) {
                None => no_history(),
                Some(interval) => match client.post_item_history(id).await {
                    Ok(h) => history_answer(&h, interval),
                    Err(e) => {
                        log.write(LogLevel::Error, || format!("proxy: post item {id}: history unavailable: {}", e.message()));
                        Answer::error(503, "HISTORY_UNAVAILABLE", "The proxy's history store did not answer; try again shortly.", Some(5))
                    }
                },
            };
            return (answer, secret);
        }
        if self.not_found_ms > 0 {
            let kept = self.missing.borrow().get(id, js_sys::Date::now());
            if let Some((code, message)) = kept {
                log.write(LogLevel::Debug, || format!("proxy: post item {id}: answered 404 from the cache"));
                return (Answer::error(404, &code, &message, None).with("x-powerpost-cache", "hit".into()), secret);
            }
        }
        let answer = match client.lookup_stored(id, &RequestOptions { observer, ..RequestOptions::default() }).await {
            Ok(f) => {
                let cache = config.cache.is_some().then_some(f.from_cache);
                success(&f.item, f.meta.fresh_until_ms, js_sys::Date::now(), f.meta.request_id.as_deref(), f.meta.rate_limit, cache)
            }
            Err(e) => {
                if let (Some(404), true) = (e.status(), self.not_found_ms > 0) {
                    let (code, message) = api_error_parts(&e, 404, secret.as_deref());
                    self.missing.borrow_mut().put(id, js_sys::Date::now() + self.not_found_ms as f64, code, message);
                }
                failure(&e, secret.as_deref(), config.max_retry_wait_ms)
            }
        };
        log.write(LogLevel::Debug, || format!("proxy: post item {id}: answered {}", answer.status));
        (answer, secret)
    }
}

/// The client's address: as `toNodeListener` left it on the request, or in a Cloudflare
/// Worker the `CF-Connecting-IP` header Cloudflare sets (anywhere else a caller could forge it).
fn client_address(request: &Request) -> Option<String> {
    let symbol = js_sys::Symbol::for_(CLIENT_ADDRESS);
    let left = js_sys::Reflect::get(request, &symbol).ok().and_then(|v| v.as_string());
    left.or_else(|| {
        let cloudflare = global_defined("WorkerGlobalScope") && browser_reason().is_none();
        if cloudflare {
            request.headers().get("cf-connecting-ip").ok().flatten()
        } else {
            None
        }
    })
}

/// Whether `options` or `env` holds a key.
fn has_key(options: &ClientOptions, env: &Env) -> bool {
    options.api_key.is_some() || env.api_key.as_deref().is_some_and(|k| !k.is_empty())
}

/// A client for the proxy, taking turns at `upstream`: the key is required (a proxy without
/// one can only fail).
fn resolve(options: ClientOptions, env: &Env, upstream: &Rc<Upstream>) -> Result<Client, Error> {
    if !has_key(&options, env) {
        return Err(Error::invalid_argument(
            "No API key for the proxy: set the POWERPOST_API_KEY environment variable on the server (in a Cloudflare \
             Worker, a secret of that name) or pass apiKey.",
        ));
    }
    Ok(Client::build(Config::resolve(options, env, Runtime::Server)?, true).with_upstream(Rc::clone(upstream)))
}

/// The `Response` for `answer`; every header value and the body are redacted of the key once
/// more, whatever built them.
fn respond(answer: Answer, head: bool, secret: Option<&str>) -> Response {
    let init = ResponseInit::new();
    init.set_status(answer.status);
    if let Ok(headers) = web_sys::Headers::new() {
        for (name, value) in &answer.headers {
            let _ = headers.append(name, &redact(value, secret));
        }
        init.set_headers(&headers);
    }
    let body = answer.body.filter(|_| !head && answer.status != 204).map(|b| redact(&b, secret));
    Response::new_with_opt_str_and_init(body.as_deref(), &init).unwrap_or_else(|_| Response::error())
}
