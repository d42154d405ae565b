// Default entry: the wasm bytes are embedded, and the module is instantiated synchronously on
// first use. No init call, no fetch of a .wasm file, no bundler plugin, no top-level await.
import { initSync } from '#glue';
import { WASM_BASE64 } from '#wasm-base64';
import { makeApi } from './api.js';

export * from '../../js/errors.js';

let wasm;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

// Start-up cost matters (budget: 5 ms to the first call), so no atob + charCodeAt loop (3.6 ms
// for this module in Node 20): the platform's native decoder where there is one, else a table.
function decode(b64) {
  if (typeof Uint8Array.fromBase64 === 'function') return Uint8Array.fromBase64(b64);
  const NodeBuffer = globalThis.Buffer;
  if (typeof NodeBuffer === 'function' && typeof NodeBuffer.from === 'function') return NodeBuffer.from(b64, 'base64');
  const table = new Uint8Array(128);
  for (let i = 0; i < 64; i++) table[ALPHABET.charCodeAt(i)] = i;
  const pad = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((b64.length / 4) * 3 - pad);
  for (let i = 0, j = 0; i < b64.length; i += 4) {
    const v = (table[b64.charCodeAt(i)] << 18) | (table[b64.charCodeAt(i + 1)] << 12)
      | (table[b64.charCodeAt(i + 2)] << 6) | table[b64.charCodeAt(i + 3)];
    out[j++] = v >> 16;
    if (j < out.length) out[j++] = (v >> 8) & 255;
    if (j < out.length) out[j++] = v & 255;
  }
  return out;
}

function load() {
  if (wasm) return;
  wasm = initSync({ module: decode(WASM_BASE64) });
}

/** @internal For `make bench`: the wasm linear memory size in bytes. Not part of the API. */
export function __wasmMemoryBytes() {
  load();
  // Export names are minified at build time: find the memory by type.
  const memory = Object.values(wasm).find((v) => v instanceof WebAssembly.Memory);
  return memory.buffer.byteLength;
}

export const { PowerPost, getPostItemAnalytics, parsePostItemAnalytics } = makeApi(load);
