// `make build`: assembles the publishable npm package in pkg/ from wasm-pack's output and
// pkg-template/. Reproducible: the same sources give the same bytes.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'target', 'wasm-pack-out');
const pkg = path.join(root, 'pkg');
const tpl = path.join(root, 'pkg-template');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const run = (cmd, args, env = process.env) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit', env });

// 1. Rust → wasm + wasm-bindgen glue (web target: ESM, initSync, no Node built-ins).
//    The standard library is rebuilt with the `immediate-abort` panic strategy: a panic was
//    already a trap here (panic = "abort", no hook), but the prebuilt std still carried the
//    code that formats panic messages nobody sees (core::fmt, locations): 9 KB of the module.
//    That needs two unstable flags, so RUSTC_BOOTSTRAP is set for this build only; the crate
//    itself is stable Rust and Rust users' builds are untouched. PP_PREBUILT_STD=1 builds
//    against the prebuilt std instead (a toolchain without rust-src or these flags).
//    The same rebuild turns off two wasm features that Rust enables by default, multivalue and
//    reference-types (wasm-bindgen then keeps JS values in a JS array instead of an externref
//    table): Node 20 compiles and instantiates the module 1.5 ms faster (measured, interleaved
//    fresh processes; only both together give it), it is 0.8 KiB smaller gzipped, and a call
//    costs the same. (The wasm-bindgen-test suites build with Rust's defaults; the package
//    tests run this build.)
const prebuiltStd = process.env.PP_PREBUILT_STD === '1';
//    The `js` feature adds the package's JavaScript surface (src/js.rs, js/errors.js); Rust users
//    of the crate do not get it.
const cargoArgs = ['.', '--', '--features', 'js', ...(prebuiltStd ? [] : ['-Zbuild-std=std,panic_abort', '-Zbuild-std-features=optimize_for_size'])];
const buildEnv = prebuiltStd ? process.env : {
  ...process.env,
  RUSTC_BOOTSTRAP: '1',
  RUSTFLAGS: [process.env.RUSTFLAGS, '-Zunstable-options -Cpanic=immediate-abort', '-Ctarget-feature=-multivalue,-reference-types'].filter(Boolean).join(' '),
};
run('wasm-pack', ['build', '--release', '--target', 'web', '--no-pack', '--out-dir', out, '--out-name', 'powerpost_analytics', ...cargoArgs], buildEnv);

// 2. Optimise with binaryen from npm (Debian's wasm-opt 108 corrupts current Rust output).
const rawWasm = path.join(out, 'powerpost_analytics_bg.wasm');
const optWasm = path.join(out, 'powerpost_analytics_opt.wasm');
//    Import and export names are minified too (`__wbg_new_with_str_and_init_d9f6b5611184e16b`
//    becomes `b`): about 100 long names were 5 KB of the module; binaryen prints the mapping,
//    which step 3 applies to the glue.
const nameMap = JSON.parse(execFileSync(bin('wasm-opt'), [rawWasm, '-Oz', '--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-sign-ext',
  '--enable-mutable-globals', '--enable-reference-types', '--enable-multivalue', '--strip-debug', '--strip-producers',
  '--minify-imports-and-exports-and-modules', '-o', optWasm], { cwd: root, encoding: 'utf8' }));
const wasmBytes = fs.readFileSync(optWasm);

// 3. Bundle the entries. `#glue` is wasm-bindgen's JS; its snippets resolve to js/ in the
//    crate so that the error classes exist once, shared by the glue and the entry.
const glue = path.join(out, 'powerpost_analytics.js');
const glueText = minifyGlueNames(fs.readFileSync(glue, 'utf8'), nameMap);
const DEFAULT_URL = "new URL('powerpost_analytics_bg.wasm', import.meta.url)";
if (!glueText.includes(DEFAULT_URL)) throw new Error('wasm-bindgen glue changed: default wasm URL not found');
const plugin = (variant) => ({
  name: 'powerpost',
  setup(b) {
    b.onResolve({ filter: /^#glue$/ }, () => ({ path: glue }));
    b.onResolve({ filter: /^#wasm-bytes$/ }, () => ({ path: 'wasm-bytes', namespace: 'virtual' }));
    b.onLoad({ filter: /.*/, namespace: 'virtual' }, () => ({ contents: `export const WASM_BYTES = '${BYTES_PLACEHOLDER}';`, loader: 'js' }));
    b.onResolve({ filter: /snippets\/[^/]+\/js\/[a-z]+\.js$/ }, (a) => ({ path: path.join(root, 'js', path.basename(a.path)) }));
    b.onLoad({ filter: /powerpost_analytics\.js$/ }, () => ({
      // The default entry never fetches a .wasm: no asset URL for bundlers to chase.
      contents: variant === 'embedded'
        ? glueText.replace(DEFAULT_URL, "(() => { throw new Error('powerpost-analytics: the default entry embeds its wasm'); })()")
        : glueText.replace(DEFAULT_URL, "new URL('./powerpost_analytics_bg.wasm', import.meta.url)"),
      loader: 'js',
    }));
  },
});
fs.rmSync(pkg, { recursive: true, force: true });
fs.mkdirSync(path.join(pkg, 'dist'), { recursive: true });
// wasm-bindgen lists one snippet module once per Rust module that imports it: same namespace, harmless.
const common = { bundle: true, platform: 'neutral', target: 'es2022', minify: process.env.PP_NO_MINIFY !== '1', legalComments: 'none', logLevel: 'warning', logOverride: { 'duplicate-object-key': 'silent' } };
const banner = '// powerpost-analytics — generated by scripts/build-pkg.mjs; edit pkg-template/ and src/ instead.';
// The embedded bytes are written into the bundles after esbuild (embedBytes below): esbuild
// prints a long string as a template literal, and escapes every control character (13 000
// `\0`, `\v`, `\b`, `\xNN` here), which V8 parses about 1 ms slower at every start-up and
// gzip compresses 0.7 KiB worse than one character per byte.
const BYTES_PLACEHOLDER = '__POWERPOST_WASM_BYTES__';
await esbuild.build({ ...common, entryPoints: [path.join(tpl, 'src', 'index.js')], format: 'esm', outfile: path.join(pkg, 'dist', 'index.js'), plugins: [plugin('embedded')], banner: { js: banner } });
await esbuild.build({ ...common, entryPoints: [path.join(tpl, 'src', 'index.js')], format: 'cjs', outfile: path.join(pkg, 'dist', 'index.cjs'), plugins: [plugin('embedded')], banner: { js: banner } });
const wasmLiteral = latin1Literal(wasmBytes);
embedBytes(path.join(pkg, 'dist', 'index.js'), wasmLiteral);
embedBytes(path.join(pkg, 'dist', 'index.cjs'), wasmLiteral);
await esbuild.build({ ...common, entryPoints: [path.join(tpl, 'src', 'workerd.js')], format: 'esm', outfile: path.join(pkg, 'dist', 'workerd.js'), plugins: [plugin('embedded')], banner: { js: banner }, external: ['./powerpost_analytics_bg.wasm'] });
await esbuild.build({ ...common, entryPoints: [path.join(tpl, 'src', 'slim.js')], format: 'esm', outfile: path.join(pkg, 'dist', 'slim.js'), plugins: [plugin('file')], banner: { js: banner } });
fs.copyFileSync(optWasm, path.join(pkg, 'dist', 'powerpost_analytics_bg.wasm'));

// 4. Types, dev server, bins, README, licence, package.json (version from Cargo.toml).
const copy = (from, to) => fs.cpSync(path.join(tpl, from), path.join(pkg, to), { recursive: true });
copy('types/index.d.ts', 'dist/index.d.ts');
copy('types/index.d.ts', 'dist/index.d.cts');
copy('types/slim.d.ts', 'dist/slim.d.ts');
copy('types/dev-server.d.ts', 'dev-server/server.d.ts');
copy('dev-server/server.mjs', 'dev-server/server.mjs');
copy('bin', 'bin');
// Package README: the template's header plus the user-facing sections of the repository README
// (install … dev server), so the two cannot drift.
const repoReadme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const userPart = repoReadme.slice(repoReadme.indexOf('## Install'), repoReadme.indexOf('## Layout'));
if (!userPart.startsWith('## Install')) throw new Error('README.md: expected "## Install" … "## Layout" sections');
fs.writeFileSync(path.join(pkg, 'README.md'), fs.readFileSync(path.join(tpl, 'README.md'), 'utf8') + '\n' + userPart.replace(/```js test(-cjs)?\n/g, '```js\n'));
fs.copyFileSync(path.join(root, 'LICENSE'), path.join(pkg, 'LICENSE'));
const version = /^version = "([^"]+)"/m.exec(fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8'))[1];
const manifest = JSON.parse(fs.readFileSync(path.join(tpl, 'package.json'), 'utf8'));
manifest.version = version;
fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');

// 5. What a browser downloads, gzipped.
const gz = (file) => zlib.gzipSync(fs.readFileSync(path.join(pkg, file)), { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`\npkg/ built (version ${version}). Gzipped bytes a browser downloads:`);
console.log(`  default entry (dist/index.js, wasm embedded): ${kb(gz('dist/index.js'))}`);
console.log(`  slim entry (dist/slim.js + .wasm):            ${kb(gz('dist/slim.js') + gz('dist/powerpost_analytics_bg.wasm'))} (${kb(gz('dist/slim.js'))} + ${kb(gz('dist/powerpost_analytics_bg.wasm'))})`);

/**
 * Applies binaryen's name mapping to wasm-bindgen's glue: the import object becomes one module
 * `a` with the short names, and `wasm.<export>` uses the short export names. Every rewrite is
 * checked, so a change in wasm-bindgen's output fails the build instead of the module.
 */
function minifyGlueNames(text, map) {
  const BG = './powerpost_analytics_bg.js';
  const replaceOnce = (from, to, what) => {
    const n = text.split(from).length - 1;
    if (n !== 1) throw new Error(`wasm-bindgen glue changed: ${what} found ${n} times`);
    text = text.replace(from, () => to);
  };
  // Imports the glue defines itself: rename the key of their definition.
  const fromSnippets = [];
  for (const [module, base, short] of map.imports) {
    if (module === BG) replaceOnce(`\n        ${base}: `, `\n        ${short}: `, `import ${base}`);
    else fromSnippets.push([module, base, short]);
  }
  // Snippet modules (js/*.js) are namespace imports: their functions join module `a` by name.
  const returned = /\n    return \{\n        __proto__: null,\n        "\.\/powerpost_analytics_bg\.js": import0,\n(?:        "[^"]+": import\d+,\n)*    \};\n/;
  const m = returned.exec(text);
  if (!m) throw new Error('wasm-bindgen glue changed: import object not found');
  const namespaceOf = new Map([...m[0].matchAll(/"([^"]+)": (import\d+)/g)].map((x) => [x[1], x[2]]));
  const sources = new Map(); // js/*.js, read once each
  const extra = fromSnippets.map(([module, base, short]) => {
    const ns = namespaceOf.get(module);
    const snippet = /\/js\/([a-z]+\.js)$/.exec(module);
    if (!ns || !snippet) throw new Error(`wasm-bindgen glue changed: no namespace for ${module}`);
    if (!sources.has(snippet[1])) sources.set(snippet[1], fs.readFileSync(path.join(root, 'js', snippet[1]), 'utf8'));
    // The namespace must really export the function, or the import would be `undefined`.
    if (!new RegExp(`^export function ${base}\\(`, 'm').test(sources.get(snippet[1]))) {
      throw new Error(`js/${snippet[1]} does not export ${base}`);
    }
    return `${short}: ${ns}.${base}`;
  });
  text = text.replace(m[0], () => `\n    return { a: Object.assign(import0, { ${extra.join(', ')} }) };\n`);
  for (const [base, short] of map.exports) {
    text = text.replace(new RegExp(`\\bwasm\\.${base}\\b`, 'g'), `wasm.${short}`);
  }
  const shortExports = new Set(map.exports.map(([, short]) => short));
  for (const [, name] of text.matchAll(/\bwasm\.(\w+)/g)) {
    if (!shortExports.has(name)) throw new Error(`wasm-bindgen glue changed: wasm.${name} is not an export`);
  }
  return text;
}

/** Puts `literal` (the wasm as a string) into a bundle in place of the placeholder. */
function embedBytes(file, literal) {
  const text = fs.readFileSync(file, 'utf8');
  const parts = text.split(new RegExp(`["']${BYTES_PLACEHOLDER}["']`));
  if (parts.length !== 2) throw new Error(`${file}: expected the quoted wasm placeholder once, found it ${parts.length - 1} times`);
  fs.writeFileSync(file, parts[0] + literal + parts[1]);
}

/**
 * The bytes as a JS string literal, one character (U+0000–U+00FF) per byte. Unlike base64 it
 * keeps byte alignment, so gzip compresses the default entry almost as well as the bare .wasm
 * (base64 cost 13 KiB more); bundlers that re-escape it to `\xNN` still get the same bytes.
 * Only what a string literal cannot hold raw is escaped (and NUL, as `\0`, or `\x00` before a
 * digit, where `\0` would start an octal escape). Checked to read back as the exact bytes: a
 * wrong escape could still give a valid module.
 */
function latin1Literal(bytes) {
  const escapes = { 10: '\\n', 13: '\\r', 39: "\\'", 92: '\\\\' };
  let out = "'";
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0) out += bytes[i + 1] >= 0x30 && bytes[i + 1] <= 0x39 ? '\\x00' : '\\0';
    else out += escapes[b] ?? String.fromCharCode(b);
  }
  out += "'";
  if (!Buffer.from(new Function(`return ${out};`)(), 'latin1').equals(bytes)) {
    throw new Error('build-pkg: the embedded wasm string does not read back as the wasm bytes');
  }
  return out;
}
