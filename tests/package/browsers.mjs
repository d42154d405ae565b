// One browser harness for the package tests, with the engine as a parameter:
//   chromium — playwright-core driving Debian's /usr/bin/chromium (CDP);
//   firefox  — puppeteer-core driving Debian's firefox-esr over WebDriver BiDi;
//   webkit   — Debian's WebKitWebDriver + MiniBrowser (WebKitGTK) under xvfb-run, driven with
//              plain W3C WebDriver HTTP calls.
// No browser is downloaded. One browser runs at a time: launching an engine closes the other.
//
// A page: goto, evaluate(fn, arg), waitFor(fn, arg), fill, click, pressEnter, text, count,
// visible, setViewport, screenshot, problems() ({ pageErrors, consoleErrors }), close.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export const ENGINES = ['chromium', 'firefox', 'webkit'];
export const LABELS = { chromium: 'Chromium', firefox: 'Firefox', webkit: 'WebKit' };

const LAUNCH = { chromium: launchChromium, firefox: launchFirefox, webkit: launchWebKit };
let current; // { name, promise }

/** The running browser of `name` ({ name, label, version, newPage, close }), launched on first use. */
export function engine(name) {
  if (current?.name !== name) {
    const previous = current;
    current = { name, promise: (async () => { await closeEngine(previous); return LAUNCH[name](); })() };
  }
  return current.promise;
}

/** Runs `build` once, on first use: the first engine's test builds, the others reuse its result. */
export const once = (build) => { let done; return () => (done ??= build()); };

/** Closes the running browser, if any. */
export async function closeBrowsers() {
  const c = current;
  current = undefined;
  await closeEngine(c);
}

async function closeEngine(c) {
  if (!c) return;
  const e = await c.promise.catch(() => undefined);
  await e?.close();
}

/** Polls `fn(arg)` in the page until it returns something truthy; fails after `timeoutMs` naming `what`. */
async function pollPage(page, fn, arg, { timeoutMs = 30_000, what = String(fn) } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await page.evaluate(fn, arg);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting in the page for ${what}`);
    await sleep(100);
  }
}

/** Adds the DOM helpers every engine shares (each runs in the page through `evaluate`). */
const withDom = (page) => ({
  ...page,
  text: (sel) => page.evaluate((s) => document.querySelector(s)?.textContent ?? null, sel),
  count: (sel) => page.evaluate((s) => document.querySelectorAll(s).length, sel),
  visible: (sel) => page.evaluate((s) => {
    const el = document.querySelector(s);
    if (!el) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
  }, sel),
  waitFor: (fn, arg, opts) => pollPage(page, fn, arg, opts),
  waitForSelector: (sel, { timeoutMs = 30_000 } = {}) => pollPage(page, (s) => !!document.querySelector(s), sel, { timeoutMs, what: sel }),
});

/** A Playwright or Puppeteer page (the same calls, but for the viewport) as a harness page. */
function driverPage(page, setViewport) {
  const pageErrors = [];
  const consoleErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  return withDom({
    goto: (url) => page.goto(url),
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    fill: (sel, text) => page.locator(sel).fill(text),
    click: (sel) => page.click(sel),
    pressEnter: async (sel) => { await page.focus(sel); await page.keyboard.press('Enter'); },
    setViewport,
    screenshot: (file) => page.screenshot({ path: file, fullPage: true }),
    problems: async () => ({ pageErrors, consoleErrors }),
    close: () => page.close(),
  });
}

// ---- Chromium: playwright-core -----------------------------------------------------------------

async function launchChromium() {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  return {
    name: 'chromium', label: LABELS.chromium, version: browser.version(),
    async newPage({ width = 1280, height = 720 } = {}) {
      const page = await browser.newPage({ viewport: { width, height } });
      return driverPage(page, (w, h) => page.setViewportSize({ width: w, height: h }));
    },
    close: () => browser.close(),
  };
}

// ---- Firefox: puppeteer-core over WebDriver BiDi -------------------------------------------------

async function launchFirefox() {
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: process.env.FIREFOX ?? '/usr/bin/firefox-esr',
    headless: true, // puppeteer's profile already turns off updates and background traffic
  });
  return {
    name: 'firefox', label: LABELS.firefox, version: (await browser.version()).replace(/^firefox\//, ''),
    async newPage({ width = 1280, height = 720 } = {}) {
      const page = await browser.newPage();
      await page.setViewport({ width, height });
      return driverPage(page, (w, h) => page.setViewport({ width: w, height: h }));
    },
    close: () => browser.close(),
  };
}

// ---- WebKit: WebKitWebDriver + MiniBrowser under Xvfb, plain W3C WebDriver -----------------------

/** MiniBrowser sits in the webkit2gtk-4.1 folder of the library directory. */
function miniBrowser() {
  if (process.env.MINIBROWSER) return process.env.MINIBROWSER;
  const list = execFileSync('dpkg', ['-L', 'libwebkit2gtk-4.1-0'], { encoding: 'utf8' });
  const found = list.split('\n').find((l) => l.endsWith('/MiniBrowser'));
  if (!found) throw new Error('MiniBrowser not found in libwebkit2gtk-4.1-0 (run `make setup`)');
  return found;
}

const freePort = () => new Promise((resolve, reject) => {
  const s = net.createServer().once('error', reject).listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

// In WebKit nothing reports page errors or console messages over classic WebDriver (it has no
// log endpoint): after each navigation the page gets listeners for uncaught errors and
// rejections and a wrapper around console.error. It sees what happens after the page loaded
// (everything the tests do), not errors thrown while the page's own scripts first ran — those
// pages report their failures in window.__results themselves. A page without the observer when
// its problems are read (it navigated itself, or never ran it) fails the test.
const OBSERVE = `if (!window.__observed) {
  window.__observed = { pageErrors: [], consoleErrors: [] };
  addEventListener('error', (e) => window.__observed.pageErrors.push(String(e.error || e.message)));
  addEventListener('unhandledrejection', (e) => window.__observed.pageErrors.push(String(e.reason && e.reason.stack || e.reason)));
  const error = console.error;
  console.error = (...a) => { window.__observed.consoleErrors.push(a.map(String).join(' ')); return error.apply(console, a); };
}`;

async function launchWebKit() {
  const port = await freePort();
  // Its own process group: xvfb-run, Xvfb, the driver and MiniBrowser stop together.
  const child = spawn('xvfb-run', ['-a', '-s', '-screen 0 1600x1200x24', 'WebKitWebDriver', `--port=${port}`, '--host=127.0.0.1'],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const stop = () => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } };
  // Even when the test process ends without closing it (a crash, a kill by timeout).
  process.once('exit', stop);
  const base = `http://127.0.0.1:${port}`;
  const call = async (method, url, body, timeoutMs = 150_000) => {
    const res = await fetch(base + url, { method, headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
    const json = await res.json();
    if (!res.ok) throw new Error(`WebDriver ${method} ${url}: ${json.value?.error}: ${json.value?.message}`);
    return json.value;
  };
  let session;
  try {
    for (let i = 0; ; i++) {
      try { await call('GET', '/status', undefined, 2000); break; } catch (e) {
        if (i > 150 || child.exitCode !== null) throw new Error(`WebKitWebDriver did not start: ${e.message}\n${log}`);
        await sleep(100);
      }
    }
    session = await call('POST', '/session', { capabilities: { alwaysMatch: {
      'webkitgtk:browserOptions': { binary: miniBrowser(), args: ['--automation'] },
    } } }, 60_000);
  } catch (e) {
    stop();
    throw e;
  }
  const s = `/session/${session.sessionId}`;
  await call('POST', `${s}/timeouts`, { script: 120_000, pageLoad: 60_000, implicit: 0 });
  const find = async (sel) => (await call('POST', `${s}/element`, { using: 'css selector', value: sel }))[ELEMENT];
  const evaluate = async (fn, arg) => {
    const r = await call('POST', `${s}/execute/async`, {
      script: `const done = arguments[arguments.length - 1];
        Promise.resolve().then(() => (${fn})(arguments[0])).then(
          (v) => done({ ok: true, v: v === undefined ? null : v }),
          (e) => done({ ok: false, e: String(e && e.stack || e) }));`,
      args: [arg === undefined ? null : arg],
    });
    if (!r.ok) throw new Error(`in the page: ${r.e}`);
    return r.v;
  };
  const setWindow = (width, height) => call('POST', `${s}/window/rect`, { width, height });
  let pageOpen = false;
  return {
    name: 'webkit', label: LABELS.webkit, version: session.capabilities.browserVersion,
    // One window: a page is that window, navigated; closing it goes back to about:blank.
    async newPage({ width = 1280, height = 720 } = {}) {
      if (pageOpen) throw new Error('WebKit harness: one page at a time');
      pageOpen = true;
      await setWindow(width, height);
      const observe = () => call('POST', `${s}/execute/sync`, { script: OBSERVE, args: [] });
      return withDom({
        goto: async (url) => { await call('POST', `${s}/url`, { url }); await observe(); },
        evaluate,
        // A typed "\n" is dropped: the Enter key puts the newline into a textarea.
        fill: async (sel, text) => { const id = await find(sel); await call('POST', `${s}/element/${id}/clear`, {}); await call('POST', `${s}/element/${id}/value`, { text: text.replace(/\n/g, '\uE007') }); },
        click: async (sel) => call('POST', `${s}/element/${await find(sel)}/click`, {}),
        pressEnter: async (sel) => call('POST', `${s}/element/${await find(sel)}/value`, { text: '\uE007' }),
        setViewport: setWindow,
        screenshot: async (file) => fs.writeFileSync(file, Buffer.from(await call('GET', `${s}/screenshot`), 'base64')),
        // No observer means nothing was watching: an error stopped the page while it loaded, or
        // the page navigated itself after goto(). Reported as a page error, never as a clean page.
        problems: async () => (await evaluate(() => window.__observed)) ?? { pageErrors: [
          `the page's error observer is missing (${await evaluate(() => location.href)}): an error during load, or the page navigated itself, so its errors were not watched`,
        ], consoleErrors: [] },
        close: async () => { pageOpen = false; await call('POST', `${s}/url`, { url: 'about:blank' }); },
      });
    },
    async close() {
      try { await call('DELETE', s, undefined, 10_000); } catch { /* the process group goes anyway */ }
      stop();
    },
  };
}
