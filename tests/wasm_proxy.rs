//! The proxy's Rust API, as a Rust Worker uses it: `Proxy::handle` with a `web_sys::Request`,
//! forwarding to the dev server over loopback. Cargo feature `proxy`; run by
//! `tests/run-wasm-tests.mjs node-proxy` (`wasm-pack test --node --features proxy`).
#![cfg(all(target_arch = "wasm32", feature = "proxy"))]

use powerpost_analytics::{ClientOptions, ErrorKind, Proxy, ProxyOptions};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

const KEY: &str = "pp_test_sk_local_dev";
const WS: &str = "ws_local_dev";
const SAMPLE: &str = "550e8400-e29b-41d4-a716-446655440000";

fn base() -> &'static str {
    option_env!("POWERPOST_TEST_BASE_URL").unwrap_or("http://127.0.0.1:4010")
}

fn options() -> ProxyOptions {
    ProxyOptions::new(ClientOptions::new().base_url(base()).api_key(KEY).workspace_id(WS)).base_path("/api/powerpost")
}

fn request(method: &str, path: &str) -> web_sys::Request {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    web_sys::Request::new_with_str_and_init(&format!("http://app.example{path}"), &init).unwrap()
}

async fn answer(proxy: &Proxy, method: &str, path: &str) -> (u16, String) {
    let response = proxy.handle(&request(method, path)).await;
    let text = JsFuture::from(response.text().unwrap()).await.unwrap().as_string().unwrap();
    (response.status(), text)
}

#[wasm_bindgen_test]
async fn forwards_the_analytics_path_and_refuses_the_rest() {
    let proxy = Proxy::new(options().allow_anonymous(true)).unwrap();
    let (status, body) = answer(&proxy, "GET", &format!("/api/powerpost/api/v1/post-items/{SAMPLE}/analytics?x=1")).await;
    assert_eq!(status, 200, "{body}");
    let item: powerpost_analytics::PostItemAnalytics = serde_json::from_str(&body).unwrap();
    assert_eq!(item.post_item_id, SAMPLE);
    assert_eq!(item.metrics.unwrap().views, 12450);

    let (status, body) = answer(&proxy, "POST", &format!("/api/powerpost/api/v1/post-items/{SAMPLE}/analytics")).await;
    assert_eq!(status, 405);
    assert!(body.contains("METHOD_NOT_ALLOWED"));
    for path in ["/api/powerpost/api/v1/posts", "/api/powerpost/api/v1/post-items/a%2Fb/analytics", "/api/v1/post-items/x/analytics"] {
        let (status, body) = answer(&proxy, "GET", path).await;
        assert_eq!(status, 404, "{path}");
        assert!(body.contains("NOT_FOUND") && !body.contains(KEY));
    }
    let (status, body) = answer(&proxy, "GET", "/api/powerpost/api/v1/post-items/fault-echo-key-401/analytics").await;
    assert_eq!(status, 401);
    assert!(!body.contains(KEY), "{body}");
}

#[wasm_bindgen_test]
async fn authorize_decides_and_an_open_proxy_must_be_asked_for() {
    let err = Proxy::new(options()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains("open relay"), "{}", err.message());

    let proxy = Proxy::new(options().authorize(|req: &web_sys::Request| {
        let ok = req.headers().get("x-session").ok().flatten().as_deref() == Some("ok");
        async move { if ok { Ok(true) } else { Err("no session store".to_owned()) } }
    }))
    .unwrap();
    let (status, body) = answer(&proxy, "GET", &format!("/api/powerpost/api/v1/post-items/{SAMPLE}/analytics")).await;
    assert_eq!(status, 500);
    assert!(body.contains("INTERNAL_ERROR") && !body.contains("no session store"), "{body}");
    let req = request("GET", &format!("/api/powerpost/api/v1/post-items/{SAMPLE}/analytics"));
    req.headers().set("x-session", "ok").unwrap();
    let response = proxy.handle(&req).await;
    assert_eq!(response.status(), 200);
    let _ = response.dyn_into::<web_sys::Response>().unwrap();
}
