// What every entry checks before it compiles the wasm, and the errors it throws instead of a
// bare CompileError or TypeError: a WasmLoadError (a PowerPostError) that says what arrived in
// place of the module and what to do about it.
import { createError } from '../../js/errors.js';
import { decodeWasmText } from './wasm-text.js';

const MAGIC = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]; // "\0asm", version 1

export const FIX_CHARSET = 'Serve the script as UTF-8 (`<meta charset="utf-8">` on the page, or `Content-Type: text/javascript; charset=utf-8`) '
  + 'and load it unchanged, or use `powerpost-analytics/slim`, which fetches the .wasm file instead.';
export const FIX_VITE = 'Under the Vite 7 dev server, dependency pre-bundling moves this entry to node_modules/.vite/deps/, where the .wasm is not: '
  + "add `optimizeDeps: { exclude: ['powerpost-analytics/slim'] }` to the Vite config, or "
  + "`import wasmUrl from 'powerpost-analytics/powerpost_analytics_bg.wasm?url'` and `await init(wasmUrl)`.";

/** A WasmLoadError (kind `wasm_load`) with `message` and optional `cause`, `url`, `status`, `contentType`. */
export function loadError(message, fields) {
  return createError('wasm_load', message, fields);
}

function utf8(bytes) {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Whether `bytes` (a Uint8Array) can be the module: the wasm header, and not the module read as
 * text and written back as UTF-8 (which keeps the ASCII header; a real module, with its LEB128
 * numbers and code, is never valid UTF-8 with bytes >= 0x80).
 */
export function isWasmModule(bytes) {
  return hasWasmHeader(bytes) && !isReEncoded(bytes);
}

/** Whether `bytes` start with the wasm header (enough for bytes decoded from the embedded text). */
export function hasWasmHeader(bytes) {
  return bytes.length >= MAGIC.length && MAGIC.every((b, i) => bytes[i] === b);
}

function isReEncoded(bytes) {
  return bytes.some((b) => b >= 0x80) && utf8(bytes) !== undefined;
}

/** What `bytes` are, in words, for an error message. */
export function describeBytes(bytes) {
  if (bytes.length === 0) return 'an empty body';
  if (hasWasmHeader(bytes)) {
    return isReEncoded(bytes) ? 'the module read as text and written back as UTF-8 (a re-encoded string, not the bytes)'
      : `a WebAssembly module of ${bytes.length} bytes that does not compile`;
  }
  const text = utf8(bytes.subarray(0, 64)) ?? utf8(bytes.subarray(0, 61)) ?? '';
  const quoted = `"${text.trim().slice(0, 40).replace(/\s+/g, ' ')}..."`;
  if (/^\s*</.test(text)) return `an HTML page (${quoted})`;
  if (/^\s*[{[]/.test(text)) return `JSON (${quoted})`;
  if (text && !/[\0-\x08\x0e-\x1f]/.test(text)) return `text (${quoted})`;
  return `${bytes.length} bytes starting ${Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ')}`;
}

/**
 * Runs `compile()` (sync or async); a failure becomes a WasmLoadError saying `what` failed, with
 * `fix` appended, the cause and the other fields.
 */
export function compiling(what, compile, { fix, ...fields } = {}) {
  const fail = (e) => {
    throw loadError(`${what} did not compile or instantiate: ${e && e.message}${fix ? `. ${fix}` : ''}`, { ...fields, cause: e });
  };
  try {
    const result = compile();
    return typeof result?.then === 'function' ? result.then(undefined, fail) : result;
  } catch (e) {
    return fail(e);
  }
}

/**
 * The loader of an entry that embeds its wasm as text (./wasm-text.js): `load()` decodes and
 * checks the text, compiles it once with `initSync` and returns the exports; a damaged text or a
 * failed compile is kept and thrown by every later call. `name` starts its messages.
 */
export function embeddedLoader(text, length, initSync, name) {
  let wasm;
  let failure;
  return function load() {
    if (wasm) return wasm;
    if (failure) throw failure;
    const bytes = decodeWasmText(text, length);
    if (!bytes || !hasWasmHeader(bytes)) {
      failure = loadError(`${name}: the WebAssembly module embedded in this script is damaged (${bytes ? describeBytes(bytes) : `its text does not decode to ${length} bytes`}). `
        + `The script's text was changed after it was built (decoded with a charset that is not ASCII-compatible, or rewritten by a tool). ${FIX_CHARSET}`);
      throw failure;
    }
    try {
      wasm = compiling(`${name}: the embedded WebAssembly module`, () => initSync({ module: bytes }),
        { fix: "If the page's Content-Security-Policy forbids compiling WebAssembly, allow 'wasm-unsafe-eval' in script-src" });
    } catch (e) {
      failure = e;
      throw e;
    }
    return wasm;
  };
}

const FIX_WORKERD = 'Cloudflare Workers compile wasm only from a module import: bundle with wrangler (it imports .wasm as a module), '
  + 'or have your bundler keep `*.wasm` imports as CompiledWasm modules. Outside Workers, resolve the package without the "workerd" condition.';

/**
 * The loader of a `workerd` entry: the .wasm import must have given a WebAssembly.Module (Workers
 * forbid compiling bytes at run time); anything else is a WasmLoadError on the first call.
 */
export function moduleLoader(wasmModule, initSync, prefix) {
  let loaded = false;
  return function load() {
    if (loaded) return;
    if (!(wasmModule instanceof WebAssembly.Module)) {
      const bytes = wasmModule instanceof ArrayBuffer || ArrayBuffer.isView(wasmModule)
        ? new Uint8Array(wasmModule.buffer ?? wasmModule, wasmModule.byteOffset ?? 0, wasmModule.byteLength) : undefined;
      if (!bytes || !isWasmModule(bytes)) {
        const what = bytes ? describeBytes(bytes) : typeof wasmModule === 'string' ? `the string "${wasmModule.slice(0, 80)}"` : String(wasmModule);
        throw loadError(`${prefix}: the .wasm import gave ${what}, not a WebAssembly.Module. ${FIX_WORKERD}`);
      }
    }
    compiling(`${prefix}: the .wasm import`, () => initSync({ module: wasmModule }), { fix: FIX_WORKERD });
    loaded = true;
  };
}
