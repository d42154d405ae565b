// The wasm build shared by `make build` (scripts/build-pkg.mjs) and the stack floor of
// `make bench` (bench/floor): the same flags, optimiser and name minification for both, so
// their sizes compare.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

/**
 * Builds the crate in `crateDir` with wasm-pack (web target) into `outDir` and optimises it.
 * Returns the optimised module's bytes and path, and the glue (its path, and its text with the
 * minified import/export names applied).
 */
export function buildWasm({ crateDir, outDir, outName, features = [] }) {
  const run = (cmd, args, env = process.env) => execFileSync(cmd, args, { cwd: crateDir, stdio: 'inherit', env });
  const out = outDir;
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
  const featureArgs = features.length ? ['--features', features.join(',')] : [];
  const cargoArgs = ['.', '--', ...featureArgs, ...(prebuiltStd ? [] : ['-Zbuild-std=std,panic_abort', '-Zbuild-std-features=optimize_for_size'])];
  const buildEnv = prebuiltStd ? process.env : {
    ...process.env,
    RUSTC_BOOTSTRAP: '1',
    RUSTFLAGS: [process.env.RUSTFLAGS, '-Zunstable-options -Cpanic=immediate-abort', '-Ctarget-feature=-multivalue,-reference-types'].filter(Boolean).join(' '),
  };
  run('wasm-pack', ['build', '--release', '--target', 'web', '--no-pack', '--out-dir', out, '--out-name', outName, ...cargoArgs], buildEnv);

  // 2. Optimise with binaryen from npm (Debian's wasm-opt 108 corrupts current Rust output).
  const rawWasm = path.join(out, `${outName}_bg.wasm`);
  const optWasm = path.join(out, `${outName}_opt.wasm`);
  //    Import and export names are minified too (`__wbg_new_with_str_and_init_d9f6b5611184e16b`
  //    becomes `b`): about 100 long names were 5 KB of the module; binaryen prints the mapping,
  //    which minifyGlueNames applies to the glue.
  const nameMap = JSON.parse(execFileSync(bin('wasm-opt'), [rawWasm, '-Oz', '--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-sign-ext',
    '--enable-mutable-globals', '--enable-reference-types', '--enable-multivalue', '--strip-debug', '--strip-producers',
    '--minify-imports-and-exports-and-modules', '-o', optWasm], { cwd: root, encoding: 'utf8' }));
  const wasmBytes = fs.readFileSync(optWasm);
  const glue = path.join(out, `${outName}.js`);
  return { wasmBytes, optWasm, glue, glueText: minifyGlueNames(fs.readFileSync(glue, 'utf8'), nameMap, outName, crateDir) };
}

/**
 * Applies binaryen's name mapping to wasm-bindgen's glue: the import object becomes one module
 * `a` with the short names, and `wasm.<export>` uses the short export names. Every rewrite is
 * checked, so a change in wasm-bindgen's output fails the build instead of the module.
 */
function minifyGlueNames(text, map, outName, crateDir) {
  const BG = `./${outName}_bg.js`;
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
  const returned = new RegExp(`\\n    return \\{\\n        __proto__: null,\\n        "\\./${outName}_bg\\.js": import0,\\n(?:        "[^"]+": import\\d+,\\n)*    \\};\\n`);
  const m = returned.exec(text);
  if (!m) throw new Error('wasm-bindgen glue changed: import object not found');
  const namespaceOf = new Map([...m[0].matchAll(/"([^"]+)": (import\d+)/g)].map((x) => [x[1], x[2]]));
  const sources = new Map(); // js/*.js, read once each
  const extra = fromSnippets.map(([module, base, short]) => {
    const ns = namespaceOf.get(module);
    const snippet = /\/js\/([a-z]+\.js)$/.exec(module);
    if (!ns || !snippet) throw new Error(`wasm-bindgen glue changed: no namespace for ${module}`);
    if (!sources.has(snippet[1])) sources.set(snippet[1], fs.readFileSync(path.join(crateDir, 'js', snippet[1]), 'utf8'));
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

