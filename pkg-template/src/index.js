// Default entry: the wasm bytes are embedded, and the module is instantiated synchronously on
// first use. No init call, no fetch of a .wasm file, no bundler plugin, no top-level await.
import { initSync } from '#glue';
import { WASM_BASE64 } from '#wasm-base64';
import { makeApi } from './api.js';

export * from '../../js/errors.js';

let wasm;
function decode(b64) {
  if (typeof Uint8Array.fromBase64 === 'function') return Uint8Array.fromBase64(b64);
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}
function load() {
  if (wasm) return;
  wasm = initSync({ module: decode(WASM_BASE64) });
}

/** @internal For `make bench`: the wasm linear memory size in bytes. Not part of the API. */
export function __wasmMemoryBytes() {
  load();
  return wasm.memory.buffer.byteLength;
}

export const { PowerPost, getPostItemAnalytics, parsePostItemAnalytics } = makeApi(load);
