// `make test-frameworks` (not part of `make test`: it installs frameworks from the npm registry
// and builds four apps, minutes each on a small machine). Each app is a minimal Next.js 16
// (Turbopack, webpack, and the edge runtime with the line the README adds), SvelteKit 2, Astro 5
// or Nuxt 4 app in a temp dir, with the README's proxy snippet copied verbatim to the file the
// README names, and the packed package (npm pack
// of pkg/). Each is built WITHOUT the API key (as CI and Docker builds are), then served with the
// key, its upstream the package's dev server on a free loopback port, and asked for a lookup
// (200), an unknown id and an unknown path (404 envelopes), a lookup without a session (401) and
// a POST (405 envelope with Allow). Apps are built one at a time (the builds are CPU heavy).
//
//   node tests/frameworks/check.mjs [next-turbopack next-webpack next-edge sveltekit astro nuxt] [--keep]
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const ID = '550e8400-e29b-41d4-a716-446655440000';
const BASE = '/api/powerpost';

/** The README's snippet for `framework`: the file it names and the code block after it, verbatim. */
export function readmeSnippet(framework) {
  const at = readme.indexOf(`**${framework}**`);
  assert.ok(at >= 0, `README has no **${framework}** snippet`);
  const fence = readme.indexOf('```js\n', at);
  const intro = readme.slice(at, fence);
  const file = /`([^`\s]+\/[^`\s]+\.[a-z]+)`/.exec(intro)?.[1];
  assert.ok(file, `README's ${framework} paragraph names no file: ${intro}`);
  const end = readme.indexOf('\n```', fence + 6);
  return { file, code: readme.slice(fence + 6, end + 1) };
}

/** The line the README adds to the Next.js snippet for the edge runtime. */
function readmeEdgeLine() {
  const line = /runs on Next's edge runtime with `([^`]+)` added/.exec(readme)?.[1];
  assert.ok(line, "README says nothing of Next's edge runtime");
  return line;
}

// The session check the snippets call: the app's own, here a cookie. Defined for the server
// process (NODE_OPTIONS --import) so that the snippets stay verbatim.
const SESSION = `globalThis.hasSession = (request) => /(^|;\\s*)session=ok(;|$)/.test(request.headers.get('cookie') ?? '');\n`;

const apps = {
  'next-turbopack': () => nextApp([]),
  'next-webpack': () => nextApp(['--webpack']),
  'next-edge': () => ({ ...nextApp([]), routeSuffix: `${readmeEdgeLine()}\n` }),
  sveltekit: () => ({
    framework: 'SvelteKit',
    dependencies: { '@sveltejs/kit': '^2', '@sveltejs/adapter-node': '^5', '@sveltejs/vite-plugin-svelte': '^6', svelte: '^5', vite: '^7' },
    files: {
      'svelte.config.js': "import adapter from '@sveltejs/adapter-node';\nexport default { kit: { adapter: adapter() } };\n",
      'vite.config.js': "import { sveltekit } from '@sveltejs/kit/vite';\nexport default { plugins: [sveltekit()] };\n",
      'src/app.html': '<!doctype html><html><head>%sveltekit.head%</head><body>%sveltekit.body%</body></html>\n',
    },
    build: ['node_modules/vite/bin/vite.js', 'build'],
    serve: (port) => ({ args: ['build/index.js'], env: { PORT: String(port), HOST: '127.0.0.1' } }),
  }),
  astro: () => ({
    framework: 'Astro',
    dependencies: { astro: '^5', '@astrojs/node': '^9' },
    files: {
      // allowedDomains: without it Astro reads every request's host as `localhost` and its
      // origin check refuses a same-origin POST (a deployment names its own domain).
      'astro.config.mjs': "import node from '@astrojs/node';\nexport default { output: 'server', adapter: node({ mode: 'standalone' }), security: { allowedDomains: [{ hostname: '127.0.0.1' }] } };\n",
    },
    build: ['node_modules/astro/astro.js', 'build'],
    serve: (port) => ({ args: ['dist/server/entry.mjs'], env: { PORT: String(port), HOST: '127.0.0.1' } }),
  }),
  nuxt: () => ({
    framework: 'Nuxt',
    node: 22, // Nuxt 4 needs Node 22 or 24
    dependencies: { nuxt: '^4' },
    files: {
      'nuxt.config.ts': "export default defineNuxtConfig({ compatibilityDate: '2025-07-15', telemetry: false });\n",
      'app/app.vue': '<template><div>app</div></template>\n',
    },
    build: ['node_modules/nuxt/bin/nuxt.mjs', 'build'],
    serve: (port) => ({ args: ['.output/server/index.mjs'], env: { PORT: String(port), HOST: '127.0.0.1', NITRO_HOST: '127.0.0.1' } }),
  }),
};

function nextApp(buildFlags) {
  return {
    framework: 'Next.js',
    dependencies: { next: '^16', react: '^19', 'react-dom': '^19', typescript: '^5', '@types/react': '^19', '@types/node': '^20' },
    files: {
      'next.config.mjs': 'export default {};\n',
      'tsconfig.json': JSON.stringify({
        compilerOptions: {
          target: 'ES2022', lib: ['dom', 'dom.iterable', 'esnext'], allowJs: true, skipLibCheck: true, strict: true, noEmit: true,
          esModuleInterop: true, module: 'esnext', moduleResolution: 'bundler', resolveJsonModule: true, isolatedModules: true,
          jsx: 'preserve', incremental: true, plugins: [{ name: 'next' }], paths: { '@/*': ['./*'] },
        },
        include: ['next-env.d.ts', '**/*.ts', '**/*.tsx', '.next/types/**/*.ts'],
        exclude: ['node_modules'],
      }, null, 2),
      // The snippet's `import { auth } from '@/auth'`: the app's session check, a cookie here.
      'auth.ts': "import { cookies } from 'next/headers';\n\nexport async function auth() {\n  return (await cookies()).get('session')?.value === 'ok' ? { user: 'test' } : null;\n}\n",
      'app/layout.tsx': 'export default function RootLayout({ children }: { children: React.ReactNode }) {\n  return <html><body>{children}</body></html>;\n}\n',
      'app/page.tsx': 'export default function Page() {\n  return <p>app</p>;\n}\n',
    },
    build: ['node_modules/next/dist/bin/next', 'build', ...buildFlags],
    serve: (port) => ({ args: ['node_modules/next/dist/bin/next', 'start', '-p', String(port), '-H', '127.0.0.1'], env: {} }),
  };
}

/** The Node binary an app builds and runs with: 20 (this one), or the node22 dev package. */
const nodeFor = (app) => (app.node === 22 ? path.join(root, 'node_modules', 'node22', 'bin', 'node') : process.execPath);

const freePort = () => new Promise((resolve, reject) => {
  const s = net.createServer();
  s.once('error', reject);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

/** The environment without anything PowerPost: a build has no secrets. */
function buildEnv() {
  const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1', ASTRO_TELEMETRY_DISABLED: '1', NUXT_TELEMETRY_DISABLED: '1', CI: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('POWERPOST_') || k === 'NODE_OPTIONS') delete env[k];
  return env;
}

function run(cmd, args, opts) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 2 ** 20, timeout: 20 * 60_000, ...opts });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${e.status ?? e.signal}):\n${String(e.stdout ?? '').slice(-4000)}\n${String(e.stderr ?? '').slice(-4000)}`);
  }
}

/** Starts `node args…` in `dir`, in its own process group; resolves once `url` answers. */
async function serve(node, dir, { args, env }, url, upstream) {
  const child = spawn(node, args, {
    cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...buildEnv(), NODE_ENV: 'production', ...env, NODE_OPTIONS: `--import=${pathToFileURL(path.join(dir, 'session.mjs')).href}`,
      POWERPOST_API_KEY: upstream.apiKey, POWERPOST_WORKSPACE_ID: upstream.workspaceId, POWERPOST_BASE_URL: upstream.url,
    },
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.once('exit', (code, signal) => r(`${code ?? signal}`)));
  const stop = async () => {
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
    const late = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 5000);
    await exited;
    clearTimeout(late);
  };
  const end = Date.now() + 60_000;
  for (;;) {
    const gone = await Promise.race([exited, new Promise((r) => setTimeout(() => r(null), 250))]);
    if (gone !== null) throw new Error(`the server exited ${gone}:\n${out}`);
    try {
      await fetch(url);
      return { stop, output: () => out };
    } catch {
      if (Date.now() > end) { await stop(); throw new Error(`the server did not answer in 60 s:\n${out}`); }
    }
  }
}

/** The checks through one served app at `origin`. */
async function checkApp(origin, name) {
  const lookup = (id, init = {}) => fetch(`${origin}${BASE}/api/v1/post-items/${encodeURIComponent(id)}/analytics`, init);
  const session = { headers: { cookie: 'session=ok' } };
  const json = async (res) => { const text = await res.text(); try { return JSON.parse(text); } catch { return { text }; } };

  const ok = await lookup(ID, session);
  const item = await json(ok);
  assert.equal(ok.status, 200, `${name}: a lookup is 200: ${JSON.stringify(item)}`);
  assert.equal(item.post_item_id, ID, `${name}: the item`);
  assert.match(ok.headers.get('cache-control') ?? '', /^private, max-age=\d+$/, `${name}: Cache-Control from the snapshot rule`);

  const unknown = await lookup('no-such-item', session);
  const unknownBody = await json(unknown);
  assert.equal(unknown.status, 404, `${name}: an unknown id is 404: ${JSON.stringify(unknownBody)}`);
  assert.equal(unknownBody.error?.code, 'NOT_FOUND', `${name}: the API's envelope for an unknown id`);

  const path404 = await fetch(`${origin}${BASE}/api/v1/everything`, session);
  const path404Body = await json(path404);
  assert.equal(path404.status, 404, `${name}: an unknown path is 404: ${JSON.stringify(path404Body)}`);
  assert.equal(typeof path404Body.error?.code, 'string', `${name}: in the envelope: ${JSON.stringify(path404Body)}`);

  const anonymous = await lookup(ID);
  const anonymousBody = await json(anonymous);
  assert.equal(anonymous.status, 401, `${name}: without a session, authorize refuses: ${JSON.stringify(anonymousBody)}`);
  assert.equal(typeof anonymousBody.error?.code, 'string', `${name}: 401 in the envelope`);

  // As a same-origin page's POST: browsers send Origin (Astro refuses a POST without one).
  const post = await lookup(ID, { method: 'POST', headers: { ...session.headers, origin } });
  const postBody = await json(post);
  assert.equal(post.status, 405, `${name}: POST is 405: ${JSON.stringify(postBody)}`);
  assert.equal(postBody.error?.code, 'METHOD_NOT_ALLOWED', `${name}: the proxy's envelope, not the framework's`);
  assert.match(post.headers.get('allow') ?? '', /^GET, HEAD/, `${name}: with Allow`);
}

async function main() {
  const args = process.argv.slice(2);
  const keep = args.includes('--keep');
  const chosen = args.filter((a) => !a.startsWith('--'));
  for (const a of chosen) assert.ok(apps[a], `unknown app ${a}; one of ${Object.keys(apps).join(', ')}`);
  const names = chosen.length ? chosen : Object.keys(apps);
  const pkg = path.join(root, 'pkg');
  assert.ok(fs.existsSync(path.join(pkg, 'package.json')), 'no pkg/: run make build first');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-frameworks-'));
  const tarball = path.join(work, run('npm', ['pack', pkg, '--pack-destination', work, '--silent']).trim().split('\n').pop());

  const dev = spawn(process.execPath, [path.join(pkg, 'bin', 'powerpost-dev-server.mjs'), '--port', '0', '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const devUrl = await new Promise((resolve, reject) => {
    dev.stdout.once('data', (d) => resolve(String(d).trim()));
    dev.once('exit', (c) => reject(new Error(`dev server exited ${c}`)));
  });
  const info = await (await fetch(`${devUrl}/__dev/info`)).json();
  const upstream = { url: devUrl, apiKey: info.apiKey, workspaceId: info.workspaceId };
  const failures = [];
  try {
    for (const name of names) {
      const app = apps[name]();
      const dir = path.join(work, name);
      const started = Date.now();
      process.stdout.write(`${name}: `);
      try {
        const snippet = readmeSnippet(app.framework);
        const files = { ...app.files, [snippet.file]: snippet.code + (app.routeSuffix ?? ''), 'session.mjs': SESSION };
        for (const [file, text] of Object.entries(files)) {
          fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
          fs.writeFileSync(path.join(dir, file), text);
        }
        fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
          name: `pp-${name}`, private: true, type: 'module', dependencies: { ...app.dependencies, 'powerpost-analytics': `file:${tarball}` },
        }, null, 2));
        run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir });
        process.stdout.write(`installed (${((Date.now() - started) / 1000).toFixed(0)} s), `);
        const t = Date.now();
        run(nodeFor(app), app.build, { cwd: dir, env: { ...buildEnv(), PATH: `${path.dirname(nodeFor(app))}:${process.env.PATH}` } });
        process.stdout.write(`built without the key (${((Date.now() - t) / 1000).toFixed(0)} s), `);
        const port = await freePort();
        const origin = `http://127.0.0.1:${port}`;
        const server = await serve(nodeFor(app), dir, app.serve(port), `${origin}/`, upstream);
        try {
          await checkApp(origin, name);
        } catch (e) {
          e.message += `\n--- server output ---\n${server.output().slice(-4000)}`;
          throw e;
        } finally {
          await server.stop();
        }
        console.log(`checked: 200, 404 ×2, 401, 405 with Allow (${((Date.now() - started) / 1000).toFixed(0)} s in all)`);
      } catch (e) {
        console.log('FAILED');
        failures.push(`${name}: ${e.message}`);
      } finally {
        if (!keep) fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    dev.kill();
    if (!keep) fs.rmSync(work, { recursive: true, force: true });
    else console.log(`kept ${work}`);
  }
  if (failures.length) {
    console.error(`\n${failures.join('\n\n')}`);
    process.exit(1);
  }
  console.log(`make test-frameworks: ${names.length} apps passed`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
