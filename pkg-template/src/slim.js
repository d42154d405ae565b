// Slim entry: the .wasm is a separate file (`powerpost-analytics/powerpost_analytics_bg.wasm`),
// compiled with streaming compilation by `init()`. Async functions wait for `init()` (and call
// it with the default URL if nobody did); `parsePostItemAnalytics` needs `await init()` first.
import initWasm, { initSync } from '#glue';
import { makeApi } from './api.js';

export * from '../../js/errors.js';

let loaded = false;
let pending;

/** Loads the wasm: from `input` (URL, Response, bytes or WebAssembly.Module) or from the file next to this one. */
export function init(input) {
  if (loaded) return Promise.resolve();
  if (input instanceof WebAssembly.Module) {
    initSync({ module: input });
    loaded = true;
    return Promise.resolve();
  }
  pending ??= initWasm(input === undefined ? undefined : { module_or_path: input }).then(
    () => { loaded = true; },
    (e) => { pending = undefined; throw e; },
  );
  return pending;
}

function load() {
  if (!loaded) {
    throw new Error('powerpost-analytics/slim: the wasm module is not loaded yet; `await init()` first.');
  }
}

const api = makeApi(load);

/** Needs `await init()` first (the constructor is synchronous). */
export const { PowerPost, parsePostItemAnalytics } = api;
export async function getPostItemAnalytics(postItemId, options) {
  await init();
  return api.getPostItemAnalytics(postItemId, options);
}
