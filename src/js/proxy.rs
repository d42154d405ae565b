//! The proxy's `#[wasm_bindgen]` surface (`powerpost-analytics/proxy`): options and requests
//! converted, nothing else. The rules live in `crate::proxy`.

use std::rc::Rc;

use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use super::{check_option_names, check_options_object, client_options, field, number, string_opt, to_js_error, type_name, CLIENT_OPTIONS};
use crate::config::{check_count, check_ms, Env};
use crate::error::Error;
use crate::proxy::{Authorize, Proxy, ProxyOptions};

/// What the proxy adds to the client's options.
const PROXY_OPTIONS: &[&str] = &[
    "basePath", "authorize", "allowAnonymous", "allowedOrigins", "maxConcurrentUpstream", "maxQueue", "cacheNotFoundMs", "callerLimit",
];

/// The keys of `callerLimit`.
const CALLER_LIMIT_OPTIONS: &[&str] = &["perMinute", "key"];

/// Largest `maxConcurrentUpstream` and `maxQueue`.
const MAX_UPSTREAM_COUNT: u32 = 100_000;

/// The proxy (JavaScript class `ProxyHandler`, wrapped by `createProxyHandler`).
#[wasm_bindgen(js_name = ProxyHandler)]
pub struct JsProxy {
    proxy: Rc<Proxy>,
}

#[wasm_bindgen(js_class = ProxyHandler)]
impl JsProxy {
    /// `new ProxyHandler(options)`; throws `InvalidArgumentError` for bad options.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<JsProxy, JsValue> {
        let proxy = proxy_options(&options).and_then(Proxy::new).map_err(to_js_error)?;
        Ok(JsProxy { proxy: Rc::new(proxy) })
    }

    /// The `Allow` header of the proxy's 405s (`toNodeListener` answers `TRACE` with it).
    #[wasm_bindgen(getter)]
    pub fn allow(&self) -> String {
        self.proxy.allow().to_owned()
    }

    /// `handle(request, env?, observer?)`: a promise of the `Response`. `env` is a Worker's
    /// bindings; `observer` (the package's telemetry) receives the route and the lookup's events.
    pub fn handle(&self, request: JsValue, env: JsValue, observer: JsValue) -> Promise {
        let request: web_sys::Request = match request.dyn_into() {
            Ok(r) => r,
            Err(other) => {
                return Promise::reject(&to_js_error(Error::invalid_argument(format!(
                    "The proxy handler takes a Fetch API Request, got {}. For Node's http and Express, wrap it: \
                     http.createServer(toNodeListener(handler)).",
                    type_name(&other)
                ))))
            }
        };
        let env = worker_env(&env);
        let proxy = Rc::clone(&self.proxy);
        let observer = super::js_observer(observer);
        future_to_promise(async move { Ok(proxy.handle_observed(&request, env.as_ref(), observer).await.into()) })
    }
}

/// The client's options less `dangerouslyAllowBrowser` (a proxy never runs in a browser).
fn client_keys() -> Vec<&'static str> {
    CLIENT_OPTIONS.iter().copied().filter(|k| *k != "dangerouslyAllowBrowser").collect()
}

fn proxy_options(options: &JsValue) -> Result<ProxyOptions, Error> {
    check_options_object(options, "createProxyHandler(options)")?;
    let client = client_options(options, &[&client_keys(), PROXY_OPTIONS])?;
    let mut o = ProxyOptions::new(client);
    if let Some(path) = string_opt(options, "basePath")? {
        o = o.base_path(path);
    }
    if let Some(v) = field(options, "allowAnonymous")? {
        let allow = v.as_bool().ok_or_else(|| {
            Error::invalid_argument(format!("Option `allowAnonymous` must be a boolean, got {}.", type_name(&v)))
        })?;
        o = o.allow_anonymous(allow);
    }
    if let Some(v) = field(options, "allowedOrigins")? {
        let bad = || Error::invalid_argument(format!("Option `allowedOrigins` must be an array of origin strings, got {}.", type_name(&v)));
        if !Array::is_array(&v) {
            return Err(bad());
        }
        let list: &Array = v.unchecked_ref();
        if list.length() > 1000 {
            return Err(bad());
        }
        let mut origins = Vec::new();
        for item in list.iter() {
            match item.dyn_ref::<js_sys::JsString>().filter(|s| s.length() <= 2048) {
                Some(s) => origins.push(String::from(s)),
                None => return Err(bad()),
            }
        }
        o = o.allowed_origins(origins);
    }
    for (key, min) in [("maxConcurrentUpstream", 1), ("maxQueue", 0)] {
        if let Some(v) = field(options, key)? {
            let n = check_count(&format!("Option `{key}`"), number(&v, key)?, min, MAX_UPSTREAM_COUNT)?;
            o = if min == 1 { o.max_concurrent_upstream(n) } else { o.max_queue(n) };
        }
    }
    if let Some(v) = field(options, "cacheNotFoundMs")? {
        o = o.cache_not_found_ms(check_ms("Option `cacheNotFoundMs`", number(&v, "cacheNotFoundMs")?)?);
    }
    if let Some(v) = field(options, "callerLimit")? {
        o = caller_limit(o, &v)?;
    }
    if let Some(f) = field(options, "authorize")? {
        let f: js_sys::Function = f.dyn_into().map_err(|v| {
            Error::invalid_argument(format!(
                "Option `authorize` must be a function (request) => boolean | Promise<boolean>, got {}.",
                type_name(&v)
            ))
        })?;
        let authorize = js_authorize(f);
        o = o.authorize(move |request: &web_sys::Request| authorize(request));
    }
    Ok(o)
}

/// `callerLimit`: `false` (off), or `{ perMinute?, key? }` (on; 60 a minute by default; `key(request)`
/// names the caller with a string, anything else leaves the request uncounted).
fn caller_limit(mut o: ProxyOptions, v: &JsValue) -> Result<ProxyOptions, Error> {
    if v.as_bool() == Some(false) {
        return Ok(o.caller_limit(0));
    }
    if !v.is_object() || Array::is_array(v) {
        return Err(Error::invalid_argument(format!(
            "Option `callerLimit` must be false or {{ perMinute, key }}, got {}.",
            type_name(v)
        )));
    }
    check_option_names(v, &[CALLER_LIMIT_OPTIONS])?;
    let per_minute = match field(v, "perMinute")? {
        Some(n) => check_count("Option `callerLimit.perMinute`", number(&n, "callerLimit.perMinute")?, 1, 1_000_000)?,
        None => crate::proxy::DEFAULT_CALLER_PER_MINUTE,
    };
    o = o.caller_limit(per_minute);
    if let Some(f) = field(v, "key")? {
        let f: js_sys::Function = f.dyn_into().map_err(|v| {
            Error::invalid_argument(format!("Option `callerLimit.key` must be a function (request) => string, got {}.", type_name(&v)))
        })?;
        o = o.caller_key(move |request: &web_sys::Request| f.call1(&JsValue::UNDEFINED, request).ok().and_then(|k| k.as_string()));
    }
    Ok(o)
}

/// The caller's `authorize(request)`: it may return a boolean or a promise of one; anything
/// else, a throw or a rejection is a failure (500), described for the log only.
fn js_authorize(f: js_sys::Function) -> Authorize {
    Rc::new(move |request: &web_sys::Request| {
        let result = f.call1(&JsValue::UNDEFINED, request);
        Box::pin(async move {
            let describe = |e: &JsValue| crate::transport::js_error_text(e);
            let value = result.map_err(|e| format!("it threw {}", describe(&e)))?;
            let value = JsFuture::from(Promise::resolve(&value)).await.map_err(|e| format!("it rejected with {}", describe(&e)))?;
            value.as_bool().ok_or_else(|| format!("it must return true or false (or a promise of one), and returned {}", type_name(&value)))
        })
    })
}

/// A Worker's `env` bindings: the `POWERPOST_*` strings, when the second argument has any.
fn worker_env(env: &JsValue) -> Option<Env> {
    if !env.is_object() {
        return None;
    }
    let e = Env::read(|name| string_opt(env, name).ok().flatten());
    (e != Env::default()).then_some(e)
}
