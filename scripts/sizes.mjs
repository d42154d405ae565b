// What each entry of the package costs a download, gzipped (level 9): one definition for
// `make build`'s summary, the size gate (tests/size) and `make bench`, so they cannot disagree.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

/** Gzipped bytes of one file. */
export const gzipSize = (file) => zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;

/**
 * The entries in `pkgDir` (a built pkg/), in gzipped bytes: `default` (dist/index.js, the wasm
 * embedded), `slim` (dist/slim.js plus the .wasm it fetches; also apart as `slimJs`, `slimWasm`)
 * and `proxy` (dist/proxy.js, server side, its own wasm embedded).
 */
export function entrySizes(pkgDir) {
  const gz = (f) => gzipSize(path.join(pkgDir, 'dist', f));
  const slimJs = gz('slim.js');
  const slimWasm = gz('powerpost_analytics_bg.wasm');
  return { default: gz('index.js'), slim: slimJs + slimWasm, slimJs, slimWasm, proxy: gz('proxy.js') };
}
