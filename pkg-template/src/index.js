// Default entry: the wasm bytes are embedded, and the module is instantiated synchronously on
// first use. No init call, no fetch of a .wasm file, no bundler plugin, no top-level await.
import { initSync } from '#glue';
import { WASM_TEXT, WASM_LENGTH } from '#wasm-bytes';
import { makeApi } from './api.js';
import { FIX_CHARSET, compiling, describeBytes, hasWasmHeader, loadError } from './loading.js';
import { decodeWasmText } from './wasm-text.js';

export * from '../../js/errors.js';

let wasm;
let failure;

// The wasm is embedded as plain ASCII text (./wasm-text.js), decoded and checked before it is
// compiled; a damaged text fails every call with the same WasmLoadError.
function load() {
  if (wasm) return;
  if (failure) throw failure;
  const bytes = decodeWasmText(WASM_TEXT, WASM_LENGTH);
  const damaged = (what) => loadError(`powerpost-analytics: the WebAssembly module embedded in this script is damaged (${what}). `
    + `The script's text was changed after it was built (decoded with a charset that is not ASCII-compatible, or rewritten by a tool). ${FIX_CHARSET}`);
  if (!bytes || !hasWasmHeader(bytes)) {
    failure = damaged(bytes ? describeBytes(bytes) : `its text does not decode to ${WASM_LENGTH} bytes`);
    throw failure;
  }
  try {
    wasm = compiling('powerpost-analytics: the embedded WebAssembly module', () => initSync({ module: bytes }),
      { fix: "If the page's Content-Security-Policy forbids compiling WebAssembly, allow 'wasm-unsafe-eval' in script-src" });
  } catch (e) {
    failure = e;
    throw e;
  }
}

/** @internal For `make bench`: the wasm linear memory size in bytes. Not part of the API. */
export function __wasmMemoryBytes() {
  load();
  // Export names are minified at build time: find the memory by type.
  const memory = Object.values(wasm).find((v) => v instanceof WebAssembly.Memory);
  return memory.buffer.byteLength;
}

export const { PowerPost, getPostItemAnalytics, parsePostItemAnalytics } = makeApi(load);
