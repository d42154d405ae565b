// `make test-rust-app`: builds tests/rust-app (a Rust app depending on the crate) for wasm32,
// checks that the crate added no exports or JS snippets of its own to the app's module, then
// runs the app's lookup against the dev server over loopback.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { startDevServer } from '../../pkg-template/dev-server/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const target = path.join(root, 'target', 'rust-app');
const out = path.join(target, 'bindgen');
const fail = (msg) => { console.error(`rust-app: ${msg}`); process.exit(1); };
const run = (cmd, args) => execFileSync(cmd, args, { cwd: here, stdio: 'inherit', timeout: 600_000, env: { ...process.env, CARGO_TARGET_DIR: target } });

run('cargo', ['build', '--quiet', '--release', '--locked', '--target', 'wasm32-unknown-unknown']);
const wasmFile = path.join(target, 'wasm32-unknown-unknown', 'release', 'powerpost_rust_app.wasm');
fs.rmSync(out, { recursive: true, force: true });
run('wasm-bindgen', ['--target', 'nodejs', '--out-dir', out, wasmFile]);
// The repository's package.json says "type": "module"; wasm-bindgen's nodejs output is CommonJS.
fs.writeFileSync(path.join(out, 'package.json'), '{ "type": "commonjs" }\n');

// The module's exports: the app's own functions and the toolchain's internals (`__wbindgen_*`,
// `__heap_base`, `wasm_bindgen__convert__closures…`), nothing else. The crate's JS surface would show as `powerpost_new`,
// `__wbg_powerpost_free`, `getPostItemAnalytics`, `parsePostItemAnalytics`.
const finalWasm = path.join(out, 'powerpost_rust_app_bg.wasm');
const exports = WebAssembly.Module.exports(new WebAssembly.Module(fs.readFileSync(finalWasm))).map((e) => e.name);
const foreign = exports.filter((n) => /powerpost|postitem/i.test(n) || !(n === 'memory' || n.startsWith('app_') || n.startsWith('__') || n.startsWith('wasm_bindgen__')));
if (foreign.length) fail(`exports not defined by the app: ${foreign.slice(0, 20).join(', ')}`);
if (!exports.includes('app_lookup')) fail(`app_lookup is not exported (${exports.slice(0, 20).join(', ')})`);
const snippets = path.join(out, 'snippets');
const snippetFiles = fs.existsSync(snippets) ? fs.readdirSync(snippets, { recursive: true }).filter((f) => f.endsWith('.js')) : [];
if (snippetFiles.length) fail(`JS snippets in the app's output: ${snippetFiles.join(', ')}`);
console.log(`rust-app: ${exports.length} exports, all the app's own or wasm-bindgen's; no JS snippets`);

const app = createRequire(import.meta.url)(path.join(out, 'powerpost_rust_app.js'));
const server = await startDevServer({ port: 0 });
try {
  const json = await app.app_lookup(server.url, 'pp_test_sk_local_dev', 'ws_local_dev', '550e8400-e29b-41d4-a716-446655440000');
  const state = JSON.parse(json);
  if (state.title !== 'My posts' || state.items[0].metrics.views !== 12450 || state.items[0].status !== 'posted') fail(`unexpected state ${json}`);
  if (!(app.app_allocations() > 0)) fail('the app allocator was not used');
  let refused;
  try { await app.app_lookup(server.url, 'pp_test_sk_local_dev', 'ws_local_dev', 'no-such-item'); } catch (e) { refused = String(e); }
  if (!/404/.test(refused ?? '')) fail(`a missing item did not fail with the API's 404: ${refused}`);
  console.log(`rust-app: lookup through the app's module ok (${app.app_allocations()} allocations by its own allocator)`);
} finally {
  await server.close();
}
