// Starts the dev server, then runs the wasm-bindgen-test suites against it over loopback:
// `node tests/run-wasm-tests.mjs node chrome`. The server URL reaches the tests at compile time.
import { spawn } from 'node:child_process';
import { startDevServer } from '../pkg-template/dev-server/server.mjs';

const targets = process.argv.slice(2);
const server = await startDevServer({ port: 0 });
let failed = false;
try {
  for (const target of targets.length ? targets : ['node', 'chrome']) {
    const args = target === 'node' ? ['test', '--node'] : ['test', '--headless', `--${target}`];
    await fetch(`${server.url}/__dev/reset`); // each target starts with fresh counters
    console.log(`\n== wasm-pack ${args.join(' ')} (dev server ${server.url})`);
    const env = { ...process.env, POWERPOST_TEST_BASE_URL: server.url, WASM_BINDGEN_TEST_TIMEOUT: '120' };
    if (target !== 'node') env.WASM_BINDGEN_USE_BROWSER = '1'; // the same suite, in a page (not only Node)
    if (target === 'chrome') env.CHROMEDRIVER ??= '/usr/bin/chromedriver';
    if (target === 'firefox') env.GECKODRIVER ??= `${process.env.HOME}/.cargo/bin/geckodriver`;
    // Async spawn: the dev server lives in this process and must keep answering.
    const status = await new Promise((resolve) => {
      spawn('wasm-pack', args, { stdio: 'inherit', env }).on('close', resolve).on('error', () => resolve(-1));
    });
    if (status !== 0) { failed = true; console.error(`wasm tests failed on ${target}`); }
  }
} finally {
  await server.close();
}
process.exit(failed ? 1 : 0);
