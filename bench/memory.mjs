// The memory check of `make bench` (bench.mjs) and of bench/ab.mjs: `calls` mixed lookups
// (success, invalid body, 404) at 16 in flight through one client of the package `pp`, the JS
// heap after GC and the wasm memory read before and after.
const ID = '550e8400-e29b-41d4-a716-446655440000';

/** Runs the check; returns { calls, heap0, heap1, wasm0, wasm1 } (bytes). Needs --expose-gc. */
export async function memoryCheck(pp, { baseUrl, apiKey, workspaceId, calls }) {
  const ids = [ID, 'fault-wrong-shape', 'does-not-exist'];
  const mc = new pp.PowerPost({ baseUrl, apiKey, workspaceId, maxRetries: 0 });
  const once = async (i) => { try { await mc.getPostItemAnalytics(ids[i % 3]); } catch { /* validation errors and 404s are part of the mix */ } };
  // Heap "after GC" means after finalizers too: wasm-bindgen frees the closures that JS
  // promises held through a FinalizationRegistry, whose callbacks run as tasks after a GC.
  const settle = async () => {
    for (let i = 0; i < 4; i++) {
      global.gc();
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  for (let i = 0; i < 3000; i++) await once(i); // warm-up
  await settle();
  const heap0 = process.memoryUsage().heapUsed;
  const wasm0 = pp.__wasmMemoryBytes();
  let i = 0;
  await Promise.all(Array.from({ length: 16 }, async () => { while (i < calls) await once(i++); }));
  await settle();
  return { calls, heap0, heap1: process.memoryUsage().heapUsed, wasm0, wasm1: pp.__wasmMemoryBytes() };
}
