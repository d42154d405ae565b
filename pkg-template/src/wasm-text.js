// How the default entry carries its wasm: as lowercase hex, plain ASCII that no page charset,
// server or minifier can change (a classic script is decoded with the page's encoding, and
// minifiers print escapes back as raw characters). Hex keeps byte alignment, so it gzips
// within 4 KiB of the bare module, and it has native decoders: Uint8Array.fromHex (Chromium
// 140+, Firefox 133+, Safari 18.2+, Deno) and Node's and Bun's Buffer. Chosen by measurement
// (bench/embedding.mjs, bench/NOTES.md) over base64 (6.5 KiB larger gzipped), base85 (does not
// gzip) and a byte-aligned printable-ASCII code (2.8 KiB smaller, but about 1 ms slower to start
// in Node and 5 ms in Chromium, having no native decoder).
// `encodeWasmText` runs at build time (scripts/build-pkg.mjs); bundles keep the decoder only.

/** The bytes as the text the default entry embeds. */
export function encodeWasmText(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The bytes back, or `null` when `text` is not the hex of exactly `length` bytes. */
export function decodeWasmText(text, length) {
  if (typeof text !== 'string' || text.length !== 2 * length) return null;
  let bytes;
  if (typeof Uint8Array.fromHex === 'function') {
    try {
      bytes = Uint8Array.fromHex(text);
    } catch {
      return null;
    }
  } else if (typeof globalThis.Buffer?.from === 'function') {
    bytes = globalThis.Buffer.from(text, 'hex'); // stops at the first character that is not hex
  } else {
    const digit = new Int8Array(128).fill(-1);
    for (let i = 0; i < 16; i++) digit['0123456789abcdef'.charCodeAt(i)] = i;
    bytes = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      const hi = digit[text.charCodeAt(2 * i)];
      const lo = digit[text.charCodeAt(2 * i + 1)];
      if (!(hi >= 0 && lo >= 0)) return null; // undefined past U+007F
      bytes[i] = (hi << 4) | lo;
    }
  }
  return bytes.length === length ? bytes : null;
}
