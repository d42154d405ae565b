// A Cloudflare Worker for workerd, set up as wrangler would: `source` (an ES module) bundled with
// the workerd/worker/browser conditions and `.wasm` imports kept as modules, the package's
// `wasm` file beside it as a wasm module, text `bindings` as the Worker's `env`, `compatibilityFlags`, and a socket on
// 127.0.0.1:`port` whose outbound network reaches loopback. Run `workerd serve config.capnp` in `dir`.
import fs from 'node:fs';
import path from 'node:path';

export async function buildWorker({ dir, source, wasmFrom, port, bindings = {}, compatibilityFlags = [], extraModules = [] }) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'src.mjs'), source);
  const esbuild = await import('esbuild');
  await esbuild.build({ entryPoints: [path.join(dir, 'src.mjs')], bundle: true, format: 'esm', platform: 'neutral', outfile: path.join(dir, 'worker.mjs'),
    conditions: ['workerd', 'worker', 'browser'], external: ['*.wasm'], logLevel: 'error' });
  const wasm = path.basename(wasmFrom);
  fs.copyFileSync(wasmFrom, path.join(dir, wasm));
  // More modules by name (`{ name, file, wasm }`): what a bare or relative import resolves to.
  const extra = extraModules.map(({ name, file, wasm: isWasm }, i) => {
    const local = `extra-${i}${path.extname(file)}`;
    fs.copyFileSync(file, path.join(dir, local));
    return `    (name = ${JSON.stringify(name)}, ${isWasm ? 'wasm' : 'esModule'} = embed "${local}"),\n`;
  }).join('');
  const texts = Object.entries(bindings).map(([name, value]) => `(name = ${JSON.stringify(name)}, text = ${JSON.stringify(value)})`);
  fs.writeFileSync(path.join(dir, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "loopback", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker", esModule = embed "worker.mjs"),
    (name = "./${wasm}", wasm = embed "${wasm}"),
${extra}  ],
  bindings = [ ${texts.join(', ')} ],
  compatibilityDate = "2026-11-01",
  compatibilityFlags = [ ${compatibilityFlags.map((f) => JSON.stringify(f)).join(', ')} ],
  globalOutbound = "loopback",
);
`);
}
