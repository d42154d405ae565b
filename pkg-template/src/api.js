// The public JavaScript API, shared by every entry. Each entry supplies `load()`, which makes
// the wasm module ready (synchronously) or throws; everything else is a thin pass-through to
// the wasm-bindgen exports (the async ones return promises from wasm-bindgen-futures).
import {
  PowerPost as WasmClient,
  getPostItemAnalytics as wasmGet,
  parsePostItemAnalytics as wasmParse,
} from '#glue';

export * from '../../js/errors.js';

export function makeApi(load) {
  class PowerPost {
    #client;
    constructor(options) {
      load();
      this.#client = new WasmClient(options);
    }
    getPostItemAnalytics(postItemId, options) {
      return this.#client.getPostItemAnalytics(postItemId, options);
    }
    getPostItemAnalyticsBatch(postItemIds, options) {
      return this.#client.getPostItemAnalyticsBatch(postItemIds, options);
    }
    getPostItemHistory(postItemId) {
      return this.#client.getPostItemHistory(postItemId);
    }
    recordSnapshots(postItemIds, options) {
      return this.#client.recordSnapshots(postItemIds, options);
    }
    clearCache() {
      return this.#client.clearCache();
    }
    get rateLimit() {
      return this.#client.rateLimit;
    }
    get [Symbol.toStringTag]() {
      return 'PowerPost';
    }
  }

  function getPostItemAnalytics(postItemId, options) {
    // The executor rejects when load() throws, as for any other failure.
    return new Promise((resolve) => {
      load();
      resolve(wasmGet(postItemId, options));
    });
  }

  function parsePostItemAnalytics(value, expectedPostItemId) {
    load();
    return wasmParse(value, expectedPostItemId);
  }

  return { PowerPost, getPostItemAnalytics, parsePostItemAnalytics };
}
