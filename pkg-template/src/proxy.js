// `powerpost-analytics/proxy`: the server half of proxy mode. Its own wasm build (cargo feature
// `proxy`), embedded like the default entry's, so the browser entries do not carry it.
import { initSync, ProxyHandler } from '#glue';
import { WASM_TEXT, WASM_LENGTH } from '#wasm-bytes';
import { embeddedLoader } from './loading.js';
import { makeProxyApi } from './proxy-api.js';

export * from '../../js/errors.js';

export const { createProxyHandler, toNodeListener } = makeProxyApi(
  embeddedLoader(WASM_TEXT, WASM_LENGTH, initSync, 'powerpost-analytics/proxy'),
  ProxyHandler,
);
