//! The stack floor: fetch, `JSON.parse`, serde-wasm-bindgen into the response types, back out.
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

#[derive(Serialize, Deserialize)]
struct Metrics {
    views: u64,
    likes: u64,
    comments: u64,
    fetched_at: String,
}

#[derive(Serialize, Deserialize)]
struct PostItemAnalytics {
    post_item_id: String,
    post_type: String,
    platform: String,
    status: String,
    metrics: Option<Metrics>,
}

/// One lookup: GET `url` with the key and workspace headers, the analytics back as an object.
#[wasm_bindgen(js_name = getPostItemAnalytics)]
pub async fn get_post_item_analytics(url: String, api_key: String, workspace_id: String) -> Result<JsValue, JsValue> {
    let text = |e: gloo_net::Error| JsValue::from_str(&e.to_string());
    let response = gloo_net::http::Request::get(&url)
        .header("x-api-key", &api_key)
        .header("x-workspace-id", &workspace_id)
        .send()
        .await
        .map_err(text)?;
    let body = js_sys::JSON::parse(&response.text().await.map_err(text)?)?;
    let item: PostItemAnalytics = serde_wasm_bindgen::from_value(body)?;
    Ok(item.serialize(&serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true))?)
}
