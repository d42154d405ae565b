// Default entry: the wasm bytes are embedded, and the module is instantiated synchronously on
// first use. No init call, no fetch of a .wasm file, no bundler plugin, no top-level await.
import { initSync } from '#glue';
import { WASM_BYTES } from '#wasm-bytes';
import { makeApi } from './api.js';

export * from '../../js/errors.js';

let wasm;

// The wasm is embedded as a string of one character per byte (it gzips like the bytes, where
// base64 did not). Start-up cost matters (budget: 5 ms to the first call): Node's native
// latin1 decoder where there is one, else one pass over the string.
function decode(text) {
  const NodeBuffer = globalThis.Buffer;
  if (typeof NodeBuffer === 'function' && typeof NodeBuffer.from === 'function') return NodeBuffer.from(text, 'latin1');
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function load() {
  if (wasm) return;
  wasm = initSync({ module: decode(WASM_BYTES) });
}

/** @internal For `make bench`: the wasm linear memory size in bytes. Not part of the API. */
export function __wasmMemoryBytes() {
  load();
  // Export names are minified at build time: find the memory by type.
  const memory = Object.values(wasm).find((v) => v instanceof WebAssembly.Memory);
  return memory.buffer.byteLength;
}

export const { PowerPost, getPostItemAnalytics, parsePostItemAnalytics } = makeApi(load);
