// Starts the dev server, then runs the wasm-bindgen-test suites against it over loopback:
// `node tests/run-wasm-tests.mjs node chrome`. The server URL reaches the tests at compile time.
// Each test has WASM_BINDGEN_TEST_TIMEOUT; each target as a whole (build included) has
// WASM_TARGET_TIMEOUT_S (default 900): a hang fails with the target's name instead of stalling.
import { spawn } from 'node:child_process';
import { startDevServer } from '../pkg-template/dev-server/server.mjs';

const targets = process.argv.slice(2);
const targetTimeoutMs = Number(process.env.WASM_TARGET_TIMEOUT_S ?? 900) * 1000;
let running; // the wasm-pack process group in flight
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { try { process.kill(-running.pid, 'SIGKILL'); } catch { /* none */ } process.exit(130); });
const server = await startDevServer({ port: 0 });
let failed = false;
try {
  for (const target of targets.length ? targets : ['node', 'chrome']) {
    // `node-proxy`: the proxy's Rust API (tests/wasm_proxy.rs), built with the `proxy` feature.
    const args = target === 'node' ? ['test', '--node'] : target === 'node-proxy' ? ['test', '--node', '--features', 'proxy', '--test', 'wasm_proxy']
      : ['test', '--headless', `--${target}`];
    await fetch(`${server.url}/__dev/reset`); // each target starts with fresh counters
    console.log(`\n== wasm-pack ${args.join(' ')} (dev server ${server.url})`);
    const env = { ...process.env, POWERPOST_TEST_BASE_URL: server.url, WASM_BINDGEN_TEST_TIMEOUT: '120' };
    if (!target.startsWith('node')) env.WASM_BINDGEN_USE_BROWSER = '1'; // the same suite, in a page (not only Node)
    if (target === 'chrome') env.CHROMEDRIVER ??= '/usr/bin/chromedriver';
    if (target === 'firefox') env.GECKODRIVER ??= `${process.env.HOME}/.cargo/bin/geckodriver`;
    // Async spawn: the dev server lives in this process and must keep answering. Its own
    // process group, so that a hang can be ended with everything under it (cargo, drivers, browsers).
    let timedOut = false;
    const status = await new Promise((resolve) => {
      running = spawn('wasm-pack', args, { stdio: 'inherit', env, detached: true }).on('close', resolve).on('error', () => resolve(-1));
      const timer = setTimeout(() => { timedOut = true; try { process.kill(-running.pid, 'SIGKILL'); } catch { /* gone */ } }, targetTimeoutMs);
      running.on('close', () => clearTimeout(timer));
    });
    running = undefined;
    if (timedOut) { failed = true; console.error(`wasm tests on ${target} hung: killed after ${targetTimeoutMs / 1000} s (WASM_TARGET_TIMEOUT_S)`); }
    else if (status !== 0) { failed = true; console.error(`wasm tests failed on ${target}`); }
  }
} finally {
  await server.close();
}
process.exit(failed ? 1 : 0);
