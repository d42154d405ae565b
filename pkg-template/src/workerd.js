// Cloudflare Workers (workerd) entry, chosen by the `workerd` export condition. Workers forbid
// compiling wasm from bytes at run time; the .wasm is imported as a module instead, which
// wrangler and workerd provide as a compiled WebAssembly.Module. Anything else the import gives
// (a bundler's URL string or bytes) is reported as a WasmLoadError on the first call.
import wasmModule from './powerpost_analytics_bg.wasm';
import { initSync } from '#glue';
import { makeApi } from './api.js';
import { compiling, describeBytes, isWasmModule, loadError } from './loading.js';

export * from '../../js/errors.js';

const PREFIX = 'powerpost-analytics (workerd entry)';
const FIX = 'Cloudflare Workers compile wasm only from a module import: bundle with wrangler (it imports .wasm as a module), '
  + 'or have your bundler keep `*.wasm` imports as CompiledWasm modules. Outside Workers, resolve the package without the "workerd" condition.';

let loaded = false;
function load() {
  if (loaded) return;
  if (!(wasmModule instanceof WebAssembly.Module)) {
    const bytes = wasmModule instanceof ArrayBuffer || ArrayBuffer.isView(wasmModule)
      ? new Uint8Array(wasmModule.buffer ?? wasmModule, wasmModule.byteOffset ?? 0, wasmModule.byteLength) : undefined;
    if (!bytes || !isWasmModule(bytes)) {
      const what = bytes ? describeBytes(bytes) : typeof wasmModule === 'string' ? `the string "${wasmModule.slice(0, 80)}"` : String(wasmModule);
      throw loadError(`${PREFIX}: the .wasm import gave ${what}, not a WebAssembly.Module. ${FIX}`);
    }
  }
  compiling(`${PREFIX}: the .wasm import`, () => initSync({ module: wasmModule }), { fix: FIX });
  loaded = true;
}

export const { PowerPost, getPostItemAnalytics, parsePostItemAnalytics } = makeApi(load);
