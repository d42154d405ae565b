export * from './index.js';
/**
 * Loads the wasm (default: the .wasm file next to this entry). Must resolve before `new PowerPost()` or `parsePostItemAnalytics`.
 * Rejects with a `WasmLoadError` when what it gets is not the module (a 404, an HTML page, a wrong MIME type, re-encoded bytes)
 * or does not compile; its message says what arrived and what to do (under the Vite 7 dev server: `optimizeDeps.exclude` or a `?url` import).
 */
export declare function init(input?: string | URL | Request | Response | BufferSource | WebAssembly.Module): Promise<void>;
