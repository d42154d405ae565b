// Cloudflare Workers (workerd) entry, chosen by the `workerd` export condition. Workers forbid
// compiling wasm from bytes at run time; the .wasm is imported as a module instead, which
// wrangler and workerd provide as a compiled WebAssembly.Module.
import wasmModule from './powerpost_analytics_bg.wasm';
import { initSync } from '#glue';
import { makeApi } from './api.js';

export * from '../../js/errors.js';

let loaded = false;
function load() {
  if (loaded) return;
  initSync({ module: wasmModule });
  loaded = true;
}

export const { PowerPost, getPostItemAnalytics, parsePostItemAnalytics } = makeApi(load);
