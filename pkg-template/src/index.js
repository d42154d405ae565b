// Default entry: the wasm bytes are embedded, and the module is instantiated synchronously on
// first use. No init call, no fetch of a .wasm file, no bundler plugin, no top-level await.
import { initSync } from '#glue';
import { WASM_TEXT, WASM_LENGTH } from '#wasm-bytes';
import { makeApi } from './api.js';
import { embeddedLoader } from './loading.js';

export * from '../../js/errors.js';

// The wasm is embedded as plain ASCII text (./wasm-text.js), decoded and checked before it is
// compiled; a damaged text fails every call with the same WasmLoadError.
const load = embeddedLoader(WASM_TEXT, WASM_LENGTH, initSync, 'powerpost-analytics');

/** @internal For `make bench`: the wasm linear memory size in bytes. Not part of the API. */
export function __wasmMemoryBytes() {
  // Export names are minified at build time: find the memory by type.
  const memory = Object.values(load()).find((v) => v instanceof WebAssembly.Memory);
  return memory.buffer.byteLength;
}

export const { PowerPost, getPostItemAnalytics, parsePostItemAnalytics } = makeApi(load);
