// `node bench/embedding.mjs [rounds]`: how the default entry should carry its wasm bytes.
// Each candidate is a module holding the text and its decoder, as the entry would; measured
// for gzip -9 size and for start-up in fresh Node processes (interleaved, candidate order
// rotated every round): import the module, decode, compile and instantiate — the part of
// import-to-first-call that the encoding changes. Needs `make build` (reads pkg/dist's .wasm).
// Prints a Markdown table (the figures in bench/NOTES.md come from it). Sizes: the minified module, gzip -9.
// With PP_COMPARE_PKG=<another build's pkg dir>, also times the real thing in both builds: import
// of dist/index.js + the first parsePostItemAnalytics, fresh processes, interleaved.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import binaryen from 'binaryen';
import * as esbuild from 'esbuild';
import { encodeWasmText } from '../pkg-template/src/wasm-text.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = Number(process.argv[2] ?? 15);
const wasm = fs.readFileSync(path.join(root, 'pkg', 'dist', 'powerpost_analytics_bg.wasm'));
// The package's decoder as bundles have it: without the build-time encoder.
const packageDecoder = fs.readFileSync(path.join(root, 'pkg-template', 'src', 'wasm-text.js'), 'utf8')
  .replace(/^export function encodeWasmText[\s\S]*?\n\}\n/m, '').replace(/^export /gm, '');

// The printable-ASCII candidate: printable ASCII without `'`, `\` and `<`; the 90 most frequent
// bytes of the module one character each, the other 166 a prefix character and a second one;
// the text starts with the byte ranking (256 bytes as hex).
const ASCII_CONSTANTS = `const ALPHABET = Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i)).filter((c) => !"'\\\\<".includes(c)).join('');
const PREFIXES = 2, SINGLES = ALPHABET.length - PREFIXES, HEADER = 512, TEXT_AT = 1536;`;
const { ALPHABET, PREFIXES, SINGLES } = new Function(`${ASCII_CONSTANTS}; return { ALPHABET, PREFIXES, SINGLES };`)();

function encodeAscii(bytes) {
  const counts = new Array(256).fill(0);
  for (const b of bytes) counts[b]++;
  const order = Array.from({ length: 256 }, (_, b) => b).sort((a, b) => counts[b] - counts[a] || a - b);
  const rank = [];
  order.forEach((b, r) => { rank[b] = r; });
  let text = order.map((b) => b.toString(16).padStart(2, '0')).join('');
  for (const b of bytes) {
    const r = rank[b];
    if (r < SINGLES) text += ALPHABET[PREFIXES + r];
    else text += ALPHABET[Math.floor((r - SINGLES) / ALPHABET.length)] + ALPHABET[(r - SINGLES) % ALPHABET.length];
  }
  return text;
}

// The wasm decoder's memory: two tables of 256 i16 (input byte → output byte, 256 + prefix
// number, or -1), one per prefix for the character after it, then the text, then the output.
function assembleDecoder() {
  const m = binaryen.parseText(`(module
  (memory (export "m") 1)
  (func (export "d") (param $i i32) (param $end i32) (param $o i32) (param $oend i32) (result i32)
    (local $v i32)
    (loop $next
      (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (local.get $o))))
      (local.set $v (i32.load16_s (i32.shl (i32.load8_u (local.get $i)) (i32.const 1))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (if (i32.ge_u (local.get $v) (i32.const 256))
        (then
          (if (i32.lt_s (local.get $v) (i32.const 0)) (then (return (i32.const -1))))
          (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (i32.const -1))))
          (local.set $v (i32.load16_s offset=512
            (i32.add (i32.shl (i32.sub (local.get $v) (i32.const 256)) (i32.const 9))
                     (i32.shl (i32.load8_u (local.get $i)) (i32.const 1)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (if (i32.lt_s (local.get $v) (i32.const 0)) (then (return (i32.const -1))))))
      (if (i32.ge_u (local.get $o) (local.get $oend)) (then (return (i32.const -1))))
      (i32.store8 (local.get $o) (local.get $v))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (br $next))
    (unreachable)))`);
  if (!m.validate()) throw new Error('the ascii decoder does not validate');
  return Array.from(m.emitBinary()).join(',');
}

function decodeAscii(text, length) {
  const byteOfRank = (r) => parseInt(text.slice(2 * r, 2 * r + 2), 16);
  const tables = new Int16Array(768).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) {
    const c = ALPHABET.charCodeAt(i);
    tables[c] = i < PREFIXES ? 256 + i : byteOfRank(i - PREFIXES);
    for (let p = 0; p < PREFIXES; p++) {
      const r = SINGLES + p * ALPHABET.length + i;
      if (r < 256) tables[256 * (p + 1) + c] = byteOfRank(r);
    }
  }
  const { m, d } = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(DECODER))).exports;
  const need = TEXT_AT + 3 * (text.length - HEADER) + length;
  if (need > m.buffer.byteLength) m.grow(Math.ceil((need - m.buffer.byteLength) / 65536));
  const memory = new Uint8Array(m.buffer);
  for (let k = 0; k < tables.length; k++) { memory[2 * k] = tables[k] & 255; memory[2 * k + 1] = tables[k] >> 8; }
  const { written } = new TextEncoder().encodeInto(text.slice(HEADER), memory.subarray(TEXT_AT));
  const out = TEXT_AT + written;
  return d(TEXT_AT, out, out, out + length) === out + length ? memory.slice(out, out + length) : null;
}

function decodeAsciiLoop(t, n) {
  const order = new Uint8Array(256);
  for (let r = 0; r < 256; r++) order[r] = parseInt(t.slice(2 * r, 2 * r + 2), 16);
  const first = new Int16Array(128).fill(-1), second = new Int16Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) { const c = ALPHABET.charCodeAt(i); first[c] = i < PREFIXES ? 256 + i : order[i - PREFIXES]; second[c] = i; }
  const o = new Uint8Array(n);
  let j = 0;
  for (let i = HEADER; i < t.length; i++) {
    let v = first[t.charCodeAt(i)];
    if (!(v >= 0) || j === n) return null;
    if (v >= 256) {
      const w = second[t.charCodeAt(++i)];
      const r = SINGLES + (v - 256) * ALPHABET.length + w;
      if (!(w >= 0) || r > 255) return null;
      v = order[r];
    }
    o[j++] = v;
  }
  return j === n ? o : null;
}

// Table decoders for the candidates without a native one (and the fallbacks where there is).
const loop = (name, body) => `function ${name}(t) {\n${body}\n}`;
const CANDIDATES = {
  // The encoding before issue #14, for reference: one character per byte (not ASCII), raw in the literal
  // but for what a single-quoted literal cannot hold.
  latin1: {
    text: (b) => b.toString('latin1'),
    literal: (t) => `'${t.replace(/[\\'\n\r\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).replace(/\0(?![0-9])/g, '\\0').replace(/\0/g, '\\x00')}'`,
    decoder: loop('decode', `const B = globalThis.Buffer; if (B) return B.from(t, 'latin1');
      const o = new Uint8Array(t.length); for (let i = 0; i < t.length; i++) o[i] = t.charCodeAt(i); return o;`),
  },
  // The package's encoding (pkg-template/src/wasm-text.js).
  hex: {
    text: (b) => encodeWasmText(b),
    decoder: `${packageDecoder}\nconst decode = (t) => decodeWasmText(t, ${wasm.length});`,
  },
  base64: {
    text: (b) => b.toString('base64'),
    decoder: loop('decode', `if (typeof Uint8Array.fromBase64 === 'function') return Uint8Array.fromBase64(t);
      const B = globalThis.Buffer; if (B) return B.from(t, 'base64');
      const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'; const m = new Uint8Array(128);
      for (let i = 0; i < 64; i++) m[A.charCodeAt(i)] = i;
      let n = t.length; while (t.charCodeAt(n - 1) === 61) n--;
      const o = new Uint8Array((n * 3) >> 2); let j = 0, i = 0;
      for (; i + 4 <= n; i += 4) { const v = (m[t.charCodeAt(i)] << 18) | (m[t.charCodeAt(i + 1)] << 12) | (m[t.charCodeAt(i + 2)] << 6) | m[t.charCodeAt(i + 3)];
        o[j++] = v >> 16; o[j++] = (v >> 8) & 255; o[j++] = v & 255; }
      if (n - i >= 2) { const v = (m[t.charCodeAt(i)] << 18) | (m[t.charCodeAt(i + 1)] << 12) | ((n - i > 2 ? m[t.charCodeAt(i + 2)] : 0) << 6);
        o[j++] = v >> 16; if (n - i > 2) o[j++] = (v >> 8) & 255; }
      return o;`),
  },
  // Z85 (ZeroMQ's base85): its alphabet has neither quote nor backslash. Padded to 4 bytes;
  // the true length travels with it.
  z85: {
    text: (b) => {
      const A = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
      const p = Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
      let s = '';
      for (let i = 0; i < p.length; i += 4) {
        let v = p.readUInt32BE(i);
        let chunk = '';
        for (let k = 0; k < 5; k++) { chunk = A[v % 85] + chunk; v = Math.floor(v / 85); }
        s += chunk;
      }
      return `${b.length}~${s}`;
    },
    decoder: loop('decode', `const A = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
      const m = new Uint8Array(128); for (let i = 0; i < 85; i++) m[A.charCodeAt(i)] = i;
      const k = t.indexOf('~'); const len = +t.slice(0, k); const o = new Uint8Array(Math.ceil(len / 4) * 4); let j = 0;
      for (let i = k + 1; i < t.length; i += 5) {
        let v = 0; for (let q = 0; q < 5; q++) v = v * 85 + m[t.charCodeAt(i + q)];
        o[j++] = v >>> 24; o[j++] = (v >>> 16) & 255; o[j++] = (v >>> 8) & 255; o[j++] = v & 255; }
      return o.subarray(0, len);`),
  },
  // A byte-aligned printable-ASCII code (below), decoded by a 184-byte wasm function …
  ascii: {
    text: (b) => encodeAscii(b),
    decoder: `${ASCII_CONSTANTS}\nconst DECODER = [${assembleDecoder()}];\n${decodeAscii}\nconst decode = (t) => decodeAscii(t, ${wasm.length});`,
  },
  // … and by a JS loop.
  'ascii, JS loop': {
    text: (b) => encodeAscii(b),
    decoder: `${ASCII_CONSTANTS}\n${decodeAsciiLoop}\nconst decode = (t) => decodeAsciiLoop(t, ${wasm.length});`,
  },
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-embedding-'));
const runner = path.join(dir, 'runner.mjs');
fs.writeFileSync(runner, `
const [file, mode] = process.argv.slice(2);
if (mode === 'no-native') { globalThis.Buffer = undefined; delete Uint8Array.fromBase64; delete Uint8Array.fromHex; }
const t0 = performance.now();
const m = await import(file);
const t1 = performance.now();
const bytes = m.load();
const t2 = performance.now();
const mod = new WebAssembly.Module(bytes);
const imports = {};
for (const i of WebAssembly.Module.imports(mod)) (imports[i.module] ??= {})[i.name] = () => {};
new WebAssembly.Instance(mod, imports);
const t3 = performance.now();
process.stdout.write(JSON.stringify([t1 - t0, t2 - t1, t3 - t0]));`);

const rows = [];
for (const [name, c] of Object.entries(CANDIDATES)) {
  const text = c.text(wasm);
  const literal = (c.literal ?? ((t) => `'${t}'`))(text);
  const file = path.join(dir, `${name}.mjs`);
  // Minified as it ships (the literal goes in afterwards: esbuild would re-escape latin1's).
  const code = esbuild.transformSync(`${c.decoder}\nexport function load() { return decode(__TEXT__); }\n`, { minify: true, format: 'esm' }).code;
  fs.writeFileSync(file, code.replace('__TEXT__', () => literal));
  const ascii = /^[\x20-\x7e]*$/.test(text) && !text.includes('\\') && !text.includes("'");
  // Checked in both modes before it is timed.
  for (const mode of ['native', 'no-native']) {
    const out = execFileSync(process.execPath, ['-e', `
      if ('${mode}' === 'no-native') { globalThis.Buffer = undefined; delete Uint8Array.fromBase64; delete Uint8Array.fromHex; }
      import(${JSON.stringify(file)}).then((m) => process.stdout.write(require('node:crypto').createHash('sha256').update(m.load()).digest('hex')));`], { encoding: 'utf8' });
    if (out !== (await import('node:crypto')).createHash('sha256').update(wasm).digest('hex')) throw new Error(`${name} (${mode}) does not decode to the module`);
  }
  rows.push({ name, file, ascii, chars: text.length, gz: zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length, t: { native: [], 'no-native': [] } });
}

for (let r = 0; r < ROUNDS; r++) {
  for (let k = 0; k < rows.length; k++) {
    const row = rows[(k + r) % rows.length];
    for (const mode of ['native', 'no-native']) {
      row.t[mode].push(JSON.parse(execFileSync(process.execPath, [runner, row.file, mode], { encoding: 'utf8' })));
    }
  }
}
// The same in headless Chromium (Debian's): a new page each time, the module imported from a
// blob: URL; Chromium has Uint8Array.fromHex and fromBase64.
const { chromium } = await import('playwright-core');
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
for (const row of rows) row.t.chromium = [];
for (let r = 0; r < ROUNDS; r++) {
  for (let k = 0; k < rows.length; k++) {
    const row = rows[(k + r) % rows.length];
    const page = await browser.newPage();
    row.t.chromium.push(await page.evaluate(async (src) => {
      const url = URL.createObjectURL(new Blob([src], { type: 'text/javascript' }));
      const t0 = performance.now();
      const m = await import(url);
      const t1 = performance.now();
      const bytes = m.load();
      const t2 = performance.now();
      new WebAssembly.Module(bytes);
      return [t1 - t0, t2 - t1, performance.now() - t0];
    }, fs.readFileSync(row.file, 'utf8')));
    await page.close();
  }
}
const chromiumVersion = browser.version();
await browser.close();
fs.rmSync(dir, { recursive: true, force: true });

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
const ms = (samples, i) => median(samples.map((s) => s[i])).toFixed(2);
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`Node ${process.version}, Chromium ${chromiumVersion}; wasm ${wasm.length} bytes, ${kib(zlib.gzipSync(wasm, { level: 9 }).length)} gzipped; ${ROUNDS} rounds, medians in ms.`);
console.log('Node: import, decode, import→instantiated; without native decoders: the same with Buffer, fromHex and fromBase64 removed;');
console.log('Chromium: import, decode, import→compiled.\n');
console.log('| encoding | plain ASCII | characters | module gzipped | Node: import | decode | →instantiated | no native: import | decode | →instantiated | Chromium: import | decode | →compiled |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const cols = ['native', 'no-native', 'chromium'].flatMap((mode) => [0, 1, 2].map((i) => ms(r.t[mode], i)));
  console.log(`| ${r.name} | ${r.ascii ? 'yes' : 'no'} | ${r.chars} | ${kib(r.gz)} | ${cols.join(' | ')} |`);
}

const other = process.env.PP_COMPARE_PKG;
if (other) {
  const entries = { [other]: path.join(path.resolve(other), 'dist', 'index.js'), 'pkg/ (this build)': path.join(root, 'pkg', 'dist', 'index.js') };
  const first = `const t0 = performance.now(); const pp = await import(process.argv[1]);
pp.parsePostItemAnalytics({ post_item_id: 'x', post_type: 't', platform: 'p', status: 'draft', metrics: null });
process.stdout.write(String(performance.now() - t0));`;
  const times = Object.fromEntries(Object.keys(entries).map((k) => [k, []]));
  for (let r = 0; r < 2 * ROUNDS; r++) {
    const names = Object.keys(entries);
    if (r % 2) names.reverse();
    for (const name of names) times[name].push(Number(execFileSync(process.execPath, ['--input-type=module', '-e', first, entries[name]], { encoding: 'utf8' })));
  }
  console.log(`\nImport + first parsePostItemAnalytics, ${2 * ROUNDS} fresh processes each, interleaved (median ms; entry gzipped):\n`);
  for (const [name, file] of Object.entries(entries)) {
    console.log(`- ${name}: ${median(times[name]).toFixed(2)} ms; ${kib(zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length)}`);
  }
}
