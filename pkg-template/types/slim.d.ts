export * from './index.js';
/** Loads the wasm (default: the .wasm file next to this entry). Must resolve before `new PowerPost()` or `parsePostItemAnalytics`. */
export declare function init(input?: string | URL | Request | Response | BufferSource | WebAssembly.Module): Promise<void>;
