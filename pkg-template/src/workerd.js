// Cloudflare Workers (workerd) entry, chosen by the `workerd` export condition. Workers forbid
// compiling wasm from bytes at run time; the .wasm is imported as a module instead, which
// wrangler and workerd provide as a compiled WebAssembly.Module. Anything else the import gives
// (a bundler's URL string or bytes) is reported as a WasmLoadError on the first call.
import wasmModule from './powerpost_analytics_bg.wasm';
import { initSync } from '#glue';
import { makeApi } from './api.js';
import { moduleLoader } from './loading.js';

export * from '../../js/errors.js';

export const { PowerPost, getPostItemAnalytics, parsePostItemAnalytics } = makeApi(moduleLoader(wasmModule, initSync, 'powerpost-analytics (workerd entry)'));
