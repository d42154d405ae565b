// `make demo`: the dev server with its sample data (serving the demo page from www/ and the
// built package at /pkg/), one lookup through the built package, then the page's URL.
// Runs until Ctrl-C. DEMO_EXIT_AFTER_LOOKUP=1 stops after the lookup (used by tests).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = path.join(root, 'pkg');
const { startDevServer } = await import(pathToFileURL(path.join(pkg, 'dev-server', 'server.mjs')).href);
const pp = await import(pathToFileURL(path.join(pkg, 'dist', 'index.js')).href);

const port = Number(process.env.PORT ?? 4010);
let server;
try {
  server = await startDevServer({ port, staticDirs: { '/pkg': pkg, '/': path.join(root, 'www') } });
} catch {
  server = await startDevServer({ port: 0, staticDirs: { '/pkg': pkg, '/': path.join(root, 'www') } });
}
const id = '550e8400-e29b-41d4-a716-446655440000';
const client = new pp.PowerPost({ baseUrl: server.url, apiKey: server.apiKey, workspaceId: server.workspaceId });
let item;
try {
  item = await client.getPostItemAnalytics(id);
} catch (e) {
  console.error(`demo lookup failed: ${e.name}: ${e.message}`);
  await server.close();
  process.exit(1);
}
console.log(`powerpost-analytics demo — dev server at ${server.url} (key ${server.apiKey}, workspace ${server.workspaceId})\n`);
console.log(`GET /api/v1/post-items/${id}/analytics through the package:`);
console.log(JSON.stringify(item, null, 2));
console.log(`\nrate limit: ${JSON.stringify(client.rateLimit)}`);
// The same through the CLI. Spawned asynchronously: the server lives in this process.
console.log(`\n$ POWERPOST_API_KEY=… powerpost-analytics ${id} 6f1c2b7e-8a43-4d2c-9e15-3b7d0c9a1f22 1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a`);
// A CLI that hangs fails the demo after 30 s instead of stalling it.
const cliStatus = await new Promise((resolve) => {
  const child = spawn(process.execPath, [path.join(pkg, 'bin', 'powerpost-analytics.mjs'), id, '6f1c2b7e-8a43-4d2c-9e15-3b7d0c9a1f22', '1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a'], {
    stdio: 'inherit',
    env: { ...process.env, POWERPOST_API_KEY: server.apiKey, POWERPOST_WORKSPACE_ID: server.workspaceId, POWERPOST_BASE_URL: server.url },
  });
  const timer = setTimeout(() => { child.kill('SIGKILL'); resolve('hung'); }, 30_000);
  child.on('close', (code) => { clearTimeout(timer); resolve(code); });
});
if (cliStatus === 'hung') {
  console.error('demo: the CLI hung (killed after 30 s)');
  await server.close();
  process.exit(1);
}

console.log(`\nDemo page: ${server.url}/   (Ctrl-C stops)`);
if (process.env.DEMO_EXIT_AFTER_LOOKUP) {
  await server.close();
} else {
  const stop = async () => { await server.close(); process.exit(0); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
