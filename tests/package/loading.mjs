// Loading the wasm, every way (issue #14): the default entry bundled by webpack 5, Rollup +
// terser and esbuild as classic scripts on pages in three charsets; `slim` under the Vite 7 dev
// server (the explained error, then both documented fixes) and both entries under Vite 8's; and
// what `init()`, the default entry and the workerd entry do with bytes that are not the module:
// a WasmLoadError that says what arrived and what to do, never a bare CompileError or TypeError.
// Registered by package.test.mjs, which owns the packed package, the dev server and the browsers;
// the page tests run in Chromium, Firefox and WebKit (its browserTest).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { once } from './browsers.mjs';

// Served as many static hosts do (Python's http.server among them): no charset parameter.
const PLAIN_TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.txt': 'text/plain' };

/** A static server for `dir` on loopback with PLAIN_TYPES; anything else is a 404 HTML page. */
function startPlainServer(dir) {
  const server = http.createServer((req, res) => {
    const file = path.join(dir, decodeURIComponent(new URL(req.url, 'http://x').pathname));
    fs.readFile(file, (err, body) => {
      if (err || !file.startsWith(dir)) {
        res.writeHead(404, { 'content-type': 'text/html' });
        return res.end('<!doctype html><title>404</title><h1>Not found</h1>');
      }
      res.writeHead(200, { 'content-type': PLAIN_TYPES[path.extname(file)] ?? 'application/octet-stream', 'access-control-allow-origin': '*' });
      res.end(body);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  })));
}

// The lookup every page does (mini.mjs: a posted item, a 404, a timeout, the browser guard);
// a loading error is reported as a failed result with the error's fields.
const MAIN = (specifier, { imports = '', init = '' } = {}) => `import * as pp from '${specifier}';
import { runMini } from './mini.mjs';
${imports}
const api = new URLSearchParams(location.search).get('api');
(async () => {
  try {
    ${init}
    window.__results = await runMini(pp, { baseUrl: api, browser: true });
  } catch (e) {
    window.__results = [{ name: 'loading', ok: false, detail: String((e && e.stack) || e),
      error: { name: e && e.name, kind: e && e.kind, message: e && e.message, isPowerPostError: pp.isPowerPostError(e) } }];
  }
})();
`;

const CHARSETS = { 'no charset': '', 'windows-1252': '<meta charset="windows-1252">', Shift_JIS: '<meta charset="Shift_JIS">' };

/**
 * Registers the loading tests: Node ones with `test`, page ones with `browserTest` (once per
 * engine; its callback gets runPage(urlPath, base) for that engine). `ctx`: project (the consumer
 * dir with the package installed), here (tests/package), root, bin(name), sh(cmd, args, opts),
 * runScript(runtime, file, opts), assertAllPassed(label, results, min).
 */
export function registerLoadingTests(test, browserTest, ctx) {
  let plain;
  const appDir = (name) => {
    const dir = path.join(ctx.project, name);
    fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
    fs.copyFileSync(path.join(ctx.here, 'mini.mjs'), path.join(dir, 'src', 'mini.mjs'));
    return dir;
  };
  const build = (what, fn) => {
    try {
      return fn();
    } catch (e) {
      assert.fail(`${what} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}${e.stack ?? e}`);
    }
  };

  /** Loads `dist/<file>` of `dir` as a classic script on a page in each charset; runs the lookup. */
  async function classicPages(runPage, label, dir, file) {
    plain ??= await startPlainServer(ctx.project);
    const wasmHex = fs.readFileSync(path.join(ctx.project, 'node_modules', 'powerpost-analytics', 'dist', 'powerpost_analytics_bg.wasm')).toString('hex');
    for (const [charset, meta] of Object.entries(CHARSETS)) {
      const page = `${charset.replace(/\W+/g, '-')}.html`;
      fs.writeFileSync(path.join(dir, 'dist', page), `<!doctype html>${meta}<title>${label}</title><script src="${file}"></script>`);
      assert.ok(fs.readFileSync(path.join(dir, 'dist', file), 'latin1').includes(wasmHex), `${label}: the embedded text went through unchanged`);
      ctx.assertAllPassed(`${label}, page with ${charset}`, await runPage(`/${path.basename(dir)}/dist/${page}`, plain.url), 4);
    }
  }

  // Each bundle is built once, by the first engine's test; the other engines load the same files.
  const webpackBuild = once(() => {
    const dir = appDir('classic-webpack');
    fs.writeFileSync(path.join(dir, 'src', 'index.js'), MAIN('powerpost-analytics'));
    build('webpack', () => ctx.sh(ctx.bin('webpack'), ['--mode', 'production'], { cwd: dir }));
    return dir;
  });
  browserTest('default entry in classic scripts on pages without charset, windows-1252 and Shift_JIS: webpack 5 (default config)', async ({ runPage }) => {
    await classicPages(runPage, 'webpack', webpackBuild(), 'main.js');
  });

  const rollupBuild = once(async () => {
    const dir = appDir('classic-rollup');
    fs.writeFileSync(path.join(dir, 'src', 'index.js'), MAIN('powerpost-analytics'));
    const { rollup } = await import('rollup');
    const { nodeResolve } = await import('@rollup/plugin-node-resolve');
    const { default: terser } = await import('@rollup/plugin-terser');
    const bundle = await rollup({ input: path.join(dir, 'src', 'index.js'), plugins: [nodeResolve({ browser: true }), terser()], onwarn: () => {} });
    await bundle.write({ file: path.join(dir, 'dist', 'bundle.js'), format: 'iife' });
    await bundle.close();
    return dir;
  });
  browserTest('default entry in classic scripts on pages without charset, windows-1252 and Shift_JIS: Rollup + terser IIFE', async ({ runPage }) => {
    await classicPages(runPage, 'rollup + terser', await rollupBuild(), 'bundle.js');
  });

  const esbuildBuild = once(async () => {
    const dir = appDir('classic-esbuild');
    fs.writeFileSync(path.join(dir, 'src', 'index.js'), MAIN('powerpost-analytics'));
    const esbuild = await import('esbuild');
    await esbuild.build({ entryPoints: [path.join(dir, 'src', 'index.js')], bundle: true, format: 'iife', minify: true, platform: 'browser',
      outfile: path.join(dir, 'dist', 'bundle.js'), logLevel: 'error' });
    return dir;
  });
  browserTest('default entry in classic scripts on pages without charset, windows-1252 and Shift_JIS: esbuild IIFE', async ({ runPage }) => {
    await classicPages(runPage, 'esbuild', await esbuildBuild(), 'bundle.js');
  });

  /**
   * Starts a Vite dev server (`vite`: the imported package) on an app of its own (a package.json,
   * so Vite's cache is its node_modules/.vite, as in a real app) with the `pages` (name → main
   * module); the first page is also index.html, which Vite answers for unknown paths.
   */
  async function viteDev(vite, name, pages, config = {}) {
    const dir = appDir(name);
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
    for (const [i, [page, main]] of Object.entries(pages).entries()) {
      const html = `<!doctype html><meta charset="utf-8"><title>${page}</title><script type="module" src="/src/${page}.js"></script>`;
      fs.writeFileSync(path.join(dir, `${page}.html`), html);
      if (i === 0) fs.writeFileSync(path.join(dir, 'index.html'), html);
      fs.writeFileSync(path.join(dir, 'src', `${page}.js`), main);
    }
    // The package is installed one level up, in the shared test project: let Vite serve it.
    const server = await vite.createServer({ root: dir, configFile: false, logLevel: 'error', clearScreen: false,
      server: { host: '127.0.0.1', port: 0, fs: { allow: [ctx.project] } }, ...config });
    await server.listen();
    const { port } = server.httpServer.address();
    return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
  }

  browserTest('Vite 7 dev server: slim init() explains the pre-bundling problem; optimizeDeps.exclude and the ?url import both fix it', async ({ runPage }) => {
    const vite = await import('vite7');
    const withUrl = { imports: "import wasmUrl from 'powerpost-analytics/powerpost_analytics_bg.wasm?url';", init: 'await pp.init(wasmUrl);' };
    const broken = await viteDev(vite, 'vite7-dev', { plain: MAIN('powerpost-analytics/slim', { init: 'await pp.init();' }), url: MAIN('powerpost-analytics/slim', withUrl) });
    try {
      const [r] = await runPage('/plain.html', broken.url);
      assert.equal(r.ok, false, 'the bug this guards: without a fix, init() cannot load the wasm');
      assert.equal(r.error.name, 'WasmLoadError', r.detail);
      assert.equal(r.error.kind, 'wasm_load');
      assert.ok(r.error.isPowerPostError);
      assert.match(r.error.message, /fetched http:\/\/127\.0\.0\.1:\d+\/node_modules\/\.vite\/deps\/powerpost_analytics_bg\.wasm and got an HTML page/);
      assert.match(r.error.message, /optimizeDeps: \{ exclude: \['powerpost-analytics\/slim'\] \}/);
      assert.match(r.error.message, /powerpost_analytics_bg\.wasm\?url'` and `await init\(wasmUrl\)`/);
      ctx.assertAllPassed('vite 7 dev, slim with the ?url import', await runPage('/url.html', broken.url), 4);
    } finally {
      await broken.close();
    }
    const fixed = await viteDev(vite, 'vite7-dev-exclude', { plain: MAIN('powerpost-analytics/slim', { init: 'await pp.init();' }) },
      { optimizeDeps: { exclude: ['powerpost-analytics/slim'] } });
    try {
      ctx.assertAllPassed('vite 7 dev, slim with optimizeDeps.exclude', await runPage('/plain.html', fixed.url), 4);
    } finally {
      await fixed.close();
    }
  });

  browserTest('Vite 8 dev server: the default entry and slim work with no configuration', async ({ runPage }) => {
    const vite = await import('vite');
    const server = await viteDev(vite, 'vite8-dev', { default: MAIN('powerpost-analytics'), slim: MAIN('powerpost-analytics/slim', { init: 'await pp.init();' }) });
    try {
      ctx.assertAllPassed('vite 8 dev, default entry', await runPage('/default.html', server.url), 4);
      ctx.assertAllPassed('vite 8 dev, slim', await runPage('/slim.html', server.url), 4);
    } finally {
      await server.close();
    }
  });

  test('Node: slim init() checks what it got (404, HTML page, wrong MIME type, re-encoded bytes, anything else) before compiling', async () => {
    plain ??= await startPlainServer(ctx.project);
    const dist = path.join(ctx.project, 'node_modules', 'powerpost-analytics', 'dist');
    fs.mkdirSync(path.join(ctx.project, 'served'), { recursive: true });
    fs.copyFileSync(path.join(dist, 'powerpost_analytics_bg.wasm'), path.join(ctx.project, 'served', 'module.txt')); // right bytes, text/plain
    fs.writeFileSync(path.join(ctx.project, 'served', 'page.html'), '<!doctype html><html><body>app</body></html>');
    const file = path.join(ctx.project, 'slim-init-test.mjs');
    fs.writeFileSync(file, `
      import * as pp from 'powerpost-analytics/slim';
      import fs from 'node:fs';
      const base = process.env.PLAIN;
      const wasm = fs.readFileSync(new URL(import.meta.resolve('powerpost-analytics/powerpost_analytics_bg.wasm')));
      const out = {};
      const attempt = async (name, input) => {
        try { await pp.init(input); out[name] = { ok: true }; }
        catch (e) { out[name] = { name: e.name, kind: e.kind, isPowerPostError: pp.isPowerPostError(e) && e instanceof pp.WasmLoadError,
          message: e.message, status: e.status, contentType: e.contentType, cause: e.cause && e.cause.name }; }
      };
      try { await pp.getPostItemAnalytics('x', { baseUrl: base }); } catch (e) { out.lookupBeforeInit = { name: e.name, message: e.message }; }
      await attempt('default', undefined);
      await attempt('404', base + '/served/missing.wasm');
      await attempt('html', base + '/served/page.html');
      await attempt('htmlAsWasm', new Response('<!doctype html><p>hi</p>', { headers: { 'content-type': 'application/wasm' } }));
      await attempt('reEncoded', new TextEncoder().encode(wasm.toString('latin1')));
      await attempt('junk', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]));
      await attempt('number', 42);
      await attempt('wrongMime', base + '/served/module.txt');
      out.parseAfter = pp.parsePostItemAnalytics({ post_item_id: 'x', post_type: 't', platform: 'p', status: 'draft', metrics: null }).status;
      process.stdout.write(JSON.stringify(out));`);
    const out = JSON.parse(await ctx.runScript(process.execPath, file, { env: { PLAIN: plain.url } }));
    const failures = ['default', '404', 'html', 'htmlAsWasm', 'reEncoded', 'junk', 'number'];
    for (const name of failures) {
      assert.equal(out[name].name, 'WasmLoadError', `${name}: ${JSON.stringify(out[name])}`);
      assert.equal(out[name].kind, 'wasm_load', name);
      assert.ok(out[name].isPowerPostError, name);
    }
    assert.equal(out.lookupBeforeInit.name, 'WasmLoadError', 'a lookup that loads the wasm reports the same error');
    assert.match(out.default.message, /could not fetch file:.*powerpost_analytics_bg\.wasm.*in Node: `await init\(await readFile/);
    assert.match(out['404'].message, /got an error response \(HTTP 404, Content-Type text\/html\)/);
    assert.equal(out['404'].status, 404);
    assert.match(out.html.message, /got an HTML page \("<!doctype html><html><body>app/);
    assert.equal(out.html.contentType, 'text/html');
    assert.match(out.htmlAsWasm.message, /got an HTML page .*Content-Type application\/wasm/);
    assert.equal(out.htmlAsWasm.cause, 'CompileError', 'the streaming compile error is kept as the cause');
    assert.match(out.reEncoded.message, /read as text and written back as UTF-8/);
    assert.match(out.junk.message, /9 bytes starting 01 02 03 04/);
    assert.match(out.number.message, /takes a URL, a Request, a Response, bytes or a WebAssembly\.Module; it was given number/);
    assert.deepEqual(out.wrongMime, { ok: true }, 'the right bytes with a wrong MIME type still load (no streaming)');
    assert.equal(out.parseAfter, 'draft');
  });

  test('Node: a damaged embedded text in the default entry fails every call with the WasmLoadError that says why', async () => {
    const dist = path.join(ctx.project, 'node_modules', 'powerpost-analytics', 'dist');
    const text = fs.readFileSync(path.join(dist, 'index.js'), 'utf8');
    const start = text.indexOf("'0061736d");
    assert.ok(start > 0, 'the embedded text is hex, starting with the wasm magic');
    const damaged = {
      // What a windows-1252 reading of a UTF-8 character does: one character becomes two.
      'a character read with another charset': text.slice(0, start + 100) + 'Ã©' + text.slice(start + 101),
      'a truncated text': text.slice(0, start + 100) + text.slice(start + 102),
    };
    for (const [what, source] of Object.entries(damaged)) {
      fs.writeFileSync(path.join(dist, 'damaged.js'), source);
      const file = path.join(ctx.project, 'damaged-test.mjs');
      fs.writeFileSync(file, `
        const pp = await import(${JSON.stringify(path.join(dist, 'damaged.js'))});
        const seen = [];
        for (const call of [() => pp.parsePostItemAnalytics({}), () => new pp.PowerPost(), () => pp.getPostItemAnalytics('x')]) {
          try { await call(); seen.push('no error'); } catch (e) { seen.push({ name: e.name, kind: e.kind, brand: pp.isPowerPostError(e), message: e.message }); }
        }
        process.stdout.write(JSON.stringify(seen));`);
      const seen = JSON.parse(await ctx.runScript(process.execPath, file));
      try {
        for (const s of seen) {
          assert.equal(s.name, 'WasmLoadError', `${what}: ${JSON.stringify(s)}`);
          assert.equal(s.kind, 'wasm_load');
          assert.ok(s.brand);
          assert.match(s.message, /embedded in this script is damaged \(its text does not decode to \d+ bytes\)/);
          assert.match(s.message, /Serve the script as UTF-8 .*or use `powerpost-analytics\/slim`/);
        }
      } finally {
        fs.rmSync(path.join(dist, 'damaged.js'), { force: true });
      }
    }
  });

  test('Node: the workerd entry reports a .wasm import that is not a WebAssembly.Module (a URL string, an HTML file)', async () => {
    const esbuild = await import('esbuild');
    const dir = path.join(ctx.project, 'workerd-misbundled');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'src.mjs'), `
      import * as pp from 'powerpost-analytics';
      try { pp.parsePostItemAnalytics({}); process.stdout.write('no error'); }
      catch (e) { process.stdout.write(JSON.stringify({ name: e.name, kind: e.kind, brand: pp.isPowerPostError(e), message: e.message })); }`);
    const html = { name: 'html-as-wasm', setup(b) { b.onLoad({ filter: /\.wasm$/ }, () => ({ contents: '<!doctype html><p>not wasm</p>', loader: 'binary' })); } };
    for (const [what, options, expected] of [
      ['a URL string (loader "file")', { loader: { '.wasm': 'file' } }, /the \.wasm import gave the string ".*\.wasm", not a WebAssembly\.Module/],
      ['an HTML file as bytes', { plugins: [html] }, /the \.wasm import gave an HTML page \("<!doctype html><p>not wasm/],
    ]) {
      const outfile = path.join(dir, 'worker.mjs');
      await esbuild.build({ entryPoints: [path.join(dir, 'src.mjs')], bundle: true, format: 'esm', platform: 'neutral', target: 'es2022', outfile,
        conditions: ['workerd', 'worker', 'browser'], logLevel: 'error', ...options });
      const r = JSON.parse(await ctx.runScript(process.execPath, outfile, { cwd: dir }));
      assert.equal(r.name, 'WasmLoadError', `${what}: ${JSON.stringify(r)}`);
      assert.ok(r.brand && r.kind === 'wasm_load', what);
      assert.match(r.message, expected, what);
      assert.match(r.message, /bundle with wrangler/, what);
    }
  });

  return { close: async () => plain?.close() };
}
