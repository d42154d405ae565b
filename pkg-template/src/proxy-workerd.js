// `powerpost-analytics/proxy` under the `workerd` condition: the proxy's .wasm imported as a
// module, as Cloudflare Workers require (see workerd.js).
import wasmModule from './powerpost_analytics_proxy_bg.wasm';
import { initSync, ProxyHandler } from '#glue';
import { moduleLoader } from './loading.js';
import { makeProxyApi } from './proxy-api.js';

export * from '../../js/errors.js';

export const { createProxyHandler, toNodeListener } = makeProxyApi(
  moduleLoader(wasmModule, initSync, 'powerpost-analytics/proxy (workerd entry)'),
  ProxyHandler,
);
