// Slim entry: the .wasm is a separate file (`powerpost-analytics/powerpost_analytics_bg.wasm`),
// compiled with streaming compilation by `init()`. Async functions wait for `init()` (and call
// it with the default URL if nobody did); `parsePostItemAnalytics` needs `await init()` first.
// What `init()` gets is checked before it is compiled: a 404, an HTML page, a wrong MIME type
// or a re-encoded string rejects with a WasmLoadError that says so, never a bare CompileError.
import initWasm, { initSync } from '#glue';
import { makeApi } from './api.js';
import { FIX_VITE, compiling, describeBytes, isWasmModule, loadError } from './loading.js';

export * from '../../js/errors.js';

const PREFIX = 'powerpost-analytics/slim: init()';
let loaded = false;
let pending;

/** Loads the wasm: from `input` (URL, Response, bytes or WebAssembly.Module) or from the file next to this one. */
export function init(input) {
  if (loaded) return Promise.resolve();
  if (input instanceof WebAssembly.Module) {
    try {
      compiling(`${PREFIX}: the WebAssembly.Module it was given`, () => initSync({ module: input }));
    } catch (e) {
      return Promise.reject(e);
    }
    loaded = true;
    return Promise.resolve();
  }
  pending ??= instantiate(input).then(
    () => { loaded = true; },
    (e) => { pending = undefined; throw e; },
  );
  return pending;
}

async function instantiate(input) {
  const isDefault = input === undefined;
  let source = isDefault ? new URL('./powerpost_analytics_bg.wasm', import.meta.url) : input;
  if (typeof source === 'string' || source instanceof URL || (typeof Request === 'function' && source instanceof Request)) {
    const url = String(source.url ?? source);
    try {
      source = await fetch(source);
    } catch (e) {
      throw loadError(`${PREFIX} could not fetch ${url} (${e && e.message}). Serve dist/powerpost_analytics_bg.wasm at that URL or pass init() its URL, its bytes or a WebAssembly.Module${isDefault ? " (in Node: `await init(await readFile(new URL(import.meta.resolve('powerpost-analytics/powerpost_analytics_bg.wasm'))))`)" : ''}.`, { url, cause: e });
    }
  }
  if (typeof Response === 'function' && source instanceof Response) return instantiateResponse(source, isDefault);
  let bytes;
  if (source instanceof ArrayBuffer) bytes = new Uint8Array(source);
  else if (ArrayBuffer.isView(source)) bytes = new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  else throw loadError(`${PREFIX} takes a URL, a Request, a Response, bytes or a WebAssembly.Module; it was given ${source === null ? 'null' : typeof source}.`);
  if (!isWasmModule(bytes)) {
    throw loadError(`${PREFIX} was given ${describeBytes(bytes)}, not the WebAssembly module: pass the bytes of dist/powerpost_analytics_bg.wasm as they are (\`response.arrayBuffer()\`, \`fs.readFile\` without an encoding).`);
  }
  return compiling(`${PREFIX}: the bytes it was given`, () => initWasm({ module_or_path: bytes }));
}

async function instantiateResponse(response, isDefault) {
  const url = response.url || '(a Response without a URL)';
  const contentType = response.headers.get('content-type');
  const fields = { url, status: response.status, contentType };
  const fix = isDefault
    ? `The .wasm is not served next to slim.js there. ${FIX_VITE} Elsewhere, serve dist/powerpost_analytics_bg.wasm next to dist/slim.js or pass init() its URL.`
    : 'Check that this URL serves dist/powerpost_analytics_bg.wasm from the package, as application/wasm.';
  const notTheModule = (what, cause) => loadError(`${PREFIX} fetched ${url} and got ${what} (HTTP ${response.status}, Content-Type ${contentType ?? 'none'}), not the WebAssembly module. ${fix}`, { ...fields, cause });
  if (!response.ok) throw notTheModule('an error response');
  // Streaming compilation needs the wasm MIME type; a copy of the body tells what arrived if it fails.
  if (/^application\/wasm\s*(;|$)/i.test(contentType ?? '') && typeof WebAssembly.instantiateStreaming === 'function') {
    const copy = response.clone();
    try {
      await initWasm({ module_or_path: response });
      copy.body?.cancel().catch(() => {});
      return;
    } catch (e) {
      const bytes = new Uint8Array(await copy.arrayBuffer());
      if (!isWasmModule(bytes)) throw notTheModule(describeBytes(bytes), e);
      throw loadError(`${PREFIX}: ${url} did not compile or instantiate: ${e && e.message}`, { ...fields, cause: e });
    }
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (!isWasmModule(bytes)) throw notTheModule(describeBytes(bytes));
  return compiling(`${PREFIX}: ${url}`, () => initWasm({ module_or_path: bytes }), fields);
}

function load() {
  if (!loaded) {
    throw new Error('powerpost-analytics/slim: the wasm module is not loaded yet; `await init()` first.');
  }
}

const api = makeApi(load);

/** Needs `await init()` first (the constructor is synchronous). */
export const { PowerPost, parsePostItemAnalytics } = api;
export async function getPostItemAnalytics(postItemId, options) {
  await init();
  return api.getPostItemAnalytics(postItemId, options);
}
