// Server runtimes' entry (the `node` export condition: Node, and Deno and Bun, which resolve it
// too): the default entry, built with the crate's `observe` feature, and each lookup observed
// when asked for (./telemetry.js: OpenTelemetry, the `powerpost-analytics:lookup`
// TracingChannel). The browser entries carry none of it.
import { initSync } from '#glue';
import { WASM_TEXT, WASM_LENGTH } from '#wasm-bytes';
import { createError } from '../../js/errors.js';
import { makeApi } from './api.js';
import { embeddedLoader } from './loading.js';
import { withTelemetry } from './telemetry.js';

export * from '../../js/errors.js';

const load = embeddedLoader(WASM_TEXT, WASM_LENGTH, initSync, 'powerpost-analytics');

/** @internal For `make bench`: the wasm linear memory size in bytes. Not part of the API. */
export function __wasmMemoryBytes() {
  const memory = Object.values(load()).find((v) => v instanceof WebAssembly.Memory);
  return memory.buffer.byteLength;
}

export const { PowerPost, getPostItemAnalytics, parsePostItemAnalytics } = withTelemetry(makeApi(load), createError);
