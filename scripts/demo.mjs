// `make demo`: the dev server with its sample data (serving the demo page from www/ and the
// built package at /pkg/), one lookup through the built package, then the page's URL.
// Runs until Ctrl-C. DEMO_EXIT_AFTER_LOOKUP=1 stops after the lookup (used by tests).
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
console.log(`\nDemo page: ${server.url}/   (Ctrl-C stops)`);
if (process.env.DEMO_EXIT_AFTER_LOOKUP) {
  await server.close();
} else {
  const stop = async () => { await server.close(); process.exit(0); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
