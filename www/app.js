// The demo page: a form, one item as a card with a bar chart, several items as a table and a
// chart (through the batch API), every error explained, the rate-limit budget. No framework.
import { init, PowerPost, isPowerPostError } from 'powerpost-analytics/slim';

const $ = (id) => document.getElementById(id);
const form = $('lookup');
const STORE = 'powerpost-demo';
const FIELDS = ['ids', 'workspaceId', 'baseUrl']; // the key is deliberately not among them
const DAY = 86_400_000;
let client;
let clientKey = '';

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const fmt = (n) => n.toLocaleString('en-US');

function ago(iso, now = Date.now()) {
  const ms = now - Date.parse(iso);
  if (!(ms >= 0)) return 'in the future (clock skew?)';
  const mins = Math.round(ms / 60_000);
  if (mins < 1) return 'just now';
  if (mins < 60) return `${mins} minute${mins === 1 ? '' : 's'} ago`;
  const hours = Math.round(ms / 3_600_000);
  if (hours < 48) return `${hours} hour${hours === 1 ? '' : 's'} ago`;
  const days = Math.round(ms / DAY);
  return `${days} days ago`;
}

function engagement(m) {
  return m && m.views > 0 ? `${(((m.likes + m.comments) / m.views) * 100).toFixed(2)} %` : null;
}

/** Horizontal bars; one group per item, three bars (views, likes, comments) per group. */
function barChart(items) {
  const max = Math.max(1, ...items.flatMap((it) => [it.m.views, it.m.likes, it.m.comments]));
  const labelW = items.length > 1 ? 150 : 80;
  const barH = 18;
  const gap = 4;
  const groupGap = items.length > 1 ? 14 : 0;
  const width = 640;
  const plotW = width - labelW - 90;
  const kinds = [['views', 'var(--views)'], ['likes', 'var(--likes)'], ['comments', 'var(--comments)']];
  let y = 0;
  let body = '';
  for (const it of items) {
    if (items.length > 1) {
      body += `<text x="0" y="${y + 12}" font-weight="600">${esc(it.label)}</text>`;
      y += 18;
    }
    for (const [k, color] of kinds) {
      const v = it.m[k];
      const w = Math.max(v > 0 ? 2 : 0, Math.round((v / max) * plotW));
      body += `<text x="${labelW - 8}" y="${y + 13}" text-anchor="end">${k}</text>`
        + `<rect x="${labelW}" y="${y}" width="${w}" height="${barH}" rx="3" fill="${color}"><title>${k}: ${fmt(v)}</title></rect>`
        + `<text x="${labelW + w + 6}" y="${y + 13}">${fmt(v)}</text>`;
      y += barH + gap;
    }
    y += groupGap;
  }
  const title = items.length > 1 ? 'Views, likes and comments per item' : 'Views, likes and comments';
  return `<svg class="chart" viewBox="0 0 ${width} ${y}" role="img" aria-label="${title}"><title>${title}</title>${body}</svg>`;
}

function errorBlock(e) {
  if (!isPowerPostError(e)) return `<div class="error" role="alert"><h3>Unexpected error</h3><p>${esc(e && e.message ? e.message : e)}</p></div>`;
  const rows = [['class', e.name], ['kind', e.kind]];
  if (e.status !== undefined) rows.push(['HTTP status', e.status]);
  if (e.code) rows.push(['server code', e.code]);
  if (e.requestId) rows.push(['request id', e.requestId]);
  if (e.retryAfterMs !== undefined) rows.push(['wait', `${Math.ceil(e.retryAfterMs / 1000)} s before trying again`]);
  if (e.path) rows.push(['where', `${e.path}: expected ${e.expected}, found ${e.received}`]);
  if (e.attempts > 1) rows.push(['attempts', e.attempts]);
  return `<div class="error" role="alert" data-error-class="${esc(e.name)}"><h3>${esc(e.name)}</h3><p>${esc(e.message)}</p>`
    + `<dl>${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl></div>`;
}

function notes(a) {
  if (!a.metrics) {
    return `<p class="note">Not polled yet: metrics are <code>null</code> until the item is posted and its platform has been polled (status <b>${esc(a.status)}</b>).</p>`;
  }
  const age = Date.now() - Date.parse(a.metrics.fetched_at);
  if (age > 2 * DAY) {
    return '<p class="note">These numbers are frozen: PowerPost polls each item once a day for 90 days after posting, and this snapshot is older than two days, so tracking has ended.</p>';
  }
  return `<p class="note" data-next-snapshot>${esc(nextSnapshot(a.metrics.fetched_at))}</p>`;
}

/** When PowerPost's next daily snapshot can be expected (no newer numbers exist before). */
function nextSnapshot(fetchedAt) {
  const left = Date.parse(fetchedAt) + DAY - Date.now();
  if (!(left > 0)) return 'A new snapshot is due: PowerPost polls once a day.';
  const hours = Math.round(left / 3_600_000);
  return hours >= 1 ? `Next snapshot expected in about ${hours} h.` : 'Next snapshot expected within the hour.';
}

/** A result the client's cache served (no request was made). */
const cachedMark = (a) => (a.cached ? '<span class="badge cached" data-cached title="no request was made: PowerPost has no newer snapshot yet">from cache</span>' : '');

function single(a) {
  const m = a.metrics;
  const rate = engagement(m);
  return `<article class="card" data-item="${esc(a.post_item_id)}">
    <h2>${esc(a.post_item_id)}</h2>
    <div class="meta"><span>${esc(a.platform)} · ${esc(a.post_type)}</span>
      <span class="badge ${esc(a.status)}" data-status>${esc(a.status)}</span>${cachedMark(a)}
      ${m ? `<span data-age>fetched ${esc(ago(m.fetched_at))} <time datetime="${esc(m.fetched_at)}">(${esc(m.fetched_at)})</time></span>` : ''}</div>
    ${m ? `<div class="stats">
      <div class="stat"><b data-metric="views">${fmt(m.views)}</b><span>views</span></div>
      <div class="stat"><b data-metric="likes">${fmt(m.likes)}</b><span>likes</span></div>
      <div class="stat"><b data-metric="comments">${fmt(m.comments)}</b><span>comments</span></div>
      <div class="stat"><b data-metric="engagement">${rate ?? '—'}</b><span>engagement (likes + comments) / views</span></div>
    </div>${barChart([{ label: a.post_item_id, m }])}` : ''}
    ${notes(a)}
  </article>`;
}

function many(results) {
  const rows = results.map((r) => {
    if (!r.ok) return `<tr data-item="${esc(r.postItemId)}"><td>${esc(r.postItemId)}</td><td colspan="6">${errorBlock(r.error)}</td></tr>`;
    const a = r.analytics;
    const m = a.metrics;
    return `<tr data-item="${esc(a.post_item_id)}"><td>${esc(a.post_item_id)}</td><td>${esc(a.platform)}</td>
      <td><span class="badge ${esc(a.status)}">${esc(a.status)}</span></td>
      <td class="num" data-metric="views">${m ? fmt(m.views) : '—'}</td><td class="num" data-metric="likes">${m ? fmt(m.likes) : '—'}</td>
      <td class="num" data-metric="comments">${m ? fmt(m.comments) : '—'}</td>
      <td>${m ? `${esc(ago(m.fetched_at))}${Date.now() - Date.parse(m.fetched_at) > 2 * DAY ? ' (frozen)' : ''}` : 'not polled yet'} ${cachedMark(a)}</td></tr>`;
  }).join('');
  const charted = results.filter((r) => r.ok && r.analytics.metrics).map((r) => ({ label: r.postItemId, m: r.analytics.metrics }));
  const failed = results.filter((r) => !r.ok).length;
  return `<article class="card"><h2>${results.length} items${failed ? ` · ${failed} failed` : ''}</h2>
    <div class="table-wrap"><table><thead><tr><th>post item</th><th>platform</th><th>status</th><th class="num">views</th>
    <th class="num">likes</th><th class="num">comments</th><th>fetched</th></tr></thead><tbody>${rows}</tbody></table></div>
    ${charted.length ? barChart(charted) : ''}</article>`;
}

function showRateLimit() {
  const rl = client && client.rateLimit;
  const el = $('ratelimit');
  if (!rl) { el.hidden = true; return; }
  el.hidden = false;
  const reset = new Date(rl.reset * 1000);
  el.innerHTML = `Rate limit: <b data-remaining>${fmt(rl.remaining)}</b> of ${fmt(rl.limit)} requests left, window resets at ${esc(reset.toLocaleTimeString())}.`;
}

function save() {
  const data = Object.fromEntries(FIELDS.map((f) => [f, form.elements[f].value]));
  try { localStorage.setItem(STORE, JSON.stringify(data)); } catch { /* private mode: nothing to keep */ }
}

async function prefill() {
  let saved = {};
  try { saved = JSON.parse(localStorage.getItem(STORE) || '{}'); } catch { saved = {}; }
  // Served by `make demo`: through the proxy (demo.json names it and the sample ids; no key here).
  // Served by powerpost-dev-server: take its key, workspace and sample ids (nothing to hunt for).
  const json = async (url) => {
    try {
      const res = await fetch(url);
      return res.ok ? await res.json() : undefined;
    } catch { return undefined; /* a plain static host */ }
  };
  const proxied = await json('demo.json');
  growth(proxied).catch((e) => { $('curves').innerHTML = errorBlock(e); });
  const dev = proxied ? undefined : await json('/__dev/info');
  const items = (proxied || dev || { items: [] }).items;
  const sample = items.filter((i) => !i.startsWith('a1b2')).slice(0, 1).join('');
  form.elements.ids.value = saved.ids || sample;
  if (proxied) {
    form.elements.baseUrl.value = new URL(proxied.baseUrl, location.href).href;
    form.elements.apiKey.disabled = true;
    form.elements.workspaceId.disabled = true;
    $('key-help').textContent = `Not needed: this page goes through the proxy at ${proxied.baseUrl}, which holds the key on the server.`;
  } else {
    form.elements.workspaceId.value = saved.workspaceId || (dev ? dev.workspaceId : '');
    form.elements.baseUrl.value = saved.baseUrl || location.origin;
    if (dev) form.elements.apiKey.value = dev.apiKey;
  }
  if (items.length) {
    $('samples').innerHTML = items.map((i) => `<li><code tabindex="0" data-sample="${esc(i)}">${esc(i)}</code></li>`).join('')
      + '<li><code tabindex="0" data-sample="does-not-exist">does-not-exist</code> (404)</li>'
      + '<li><code tabindex="0" data-sample="fault-502-html">fault-502-html</code> (proxy error)</li>'
      + '<li><code tabindex="0" data-sample="fault-429-long">fault-429-long</code> (rate limit)</li>';
  }
}

$('samples').addEventListener('click', (ev) => pick(ev));
$('samples').addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); pick(ev); } });
function pick(ev) {
  const id = ev.target.dataset && ev.target.dataset.sample;
  if (id) { form.elements.ids.value = id; form.elements.ids.focus(); }
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const ids = form.elements.ids.value.split(/[\s,]+/).filter(Boolean);
  const button = $('submit');
  const status = $('status');
  const result = $('result');
  save();
  if (ids.length === 0) {
    result.innerHTML = '<div class="error" role="alert"><h3>No id</h3><p>Enter at least one post item id.</p></div>';
    return;
  }
  button.disabled = true;
  form.setAttribute('aria-busy', 'true');
  status.innerHTML = '<span class="spinner" aria-hidden="true"></span>Loading…';
  try {
    await init();
    const key = form.elements.apiKey.value;
    const options = { baseUrl: form.elements.baseUrl.value.trim(), workspaceId: form.elements.workspaceId.value.trim() || undefined,
      apiKey: key || undefined, dangerouslyAllowBrowser: true, maxRetryWaitMs: 10_000,
      // Numbers change once a day at most: the same ids asked again are served from memory.
      cache: true };
    const signature = JSON.stringify({ ...options, apiKey: key });
    if (!client || clientKey !== signature) { client = new PowerPost(options); clientKey = signature; }
    if (ids.length === 1) {
      result.innerHTML = single(await client.getPostItemAnalytics(ids[0]));
    } else {
      result.innerHTML = many(await client.getPostItemAnalyticsBatch(ids));
    }
    status.textContent = 'Done.';
  } catch (e) {
    client = isPowerPostError(e) && e.kind === 'invalid_argument' ? undefined : client;
    result.innerHTML = errorBlock(e);
    status.textContent = 'Failed.';
  } finally {
    button.disabled = false;
    form.removeAttribute('aria-busy');
    showRateLimit();
  }
});

/** One line chart of `key` over the snapshots: a break and a dashed mark at each missing day. */
function curve(h, key, color) {
  const W = 300, H = 120, L = 44, R = 8, T = 12, B = 18;
  const pts = h.snapshots.map((s) => ({ t: Date.parse(s.fetched_at), v: s[key], at: s.fetched_at }));
  const gaps = h.gaps.map((g) => Date.parse(g.expected_at));
  const ts = [...pts.map((p) => p.t), ...gaps];
  const t0 = Math.min(...ts), t1 = Math.max(...ts);
  const vs = pts.map((p) => p.v);
  const v0 = Math.min(...vs), v1 = Math.max(...vs);
  const x = (t) => L + (t1 > t0 ? ((t - t0) / (t1 - t0)) * (W - L - R) : (W - L - R) / 2);
  const y = (v) => T + (v1 > v0 ? (1 - (v - v0) / (v1 - v0)) * (H - T - B) : (H - T - B) / 2);
  const down = new Set(h.gains.filter((g) => g[key] < 0).map((g) => g.fetched_at));
  // The line breaks across a missing day: no snapshot says what happened there.
  let d = '';
  pts.forEach((p, i) => {
    const broken = i > 0 && gaps.some((g) => g > pts[i - 1].t && g < p.t);
    d += `${i === 0 || broken ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)} `;
  });
  const marks = gaps.map((g) => `<line class="gap" x1="${x(g).toFixed(1)}" x2="${x(g).toFixed(1)}" y1="${T}" y2="${H - B}"><title>missing: expected ${new Date(g).toISOString()}</title></line>`).join('');
  const dots = pts.map((p) => `<circle cx="${x(p.t).toFixed(1)}" cy="${y(p.v).toFixed(1)}" r="${down.has(p.at) ? 3.5 : 2.5}" ${down.has(p.at) ? 'class="down" data-correction' : `fill="${color}"`}><title>${esc(p.at)}: ${fmt(p.v)} ${key}</title></circle>`).join('');
  return `<svg class="curve" viewBox="0 0 ${W} ${H}" role="img" aria-label="${key} per day" data-curve="${key}" data-points="${pts.length}" data-gaps="${gaps.length}">`
    + `<text x="0" y="${T}">${fmt(v1)}</text><text x="0" y="${H - B}">${fmt(v0)}</text><text x="${L}" y="${H - 4}">${key}</text>`
    + `${marks}<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>${dots}</svg>`;
}

function growthCard(h) {
  const last = h.snapshots[h.snapshots.length - 1];
  return `<article class="curves-item" data-history="${esc(h.post_item_id)}" data-snapshots="${h.snapshots.length}" data-gap-count="${h.gaps.length}">
    <h3>${esc(h.post_item_id)}</h3>
    <div class="meta"><span>${h.snapshots.length} day${h.snapshots.length === 1 ? '' : 's'} recorded</span>
      ${h.gaps.length ? `<span>${h.gaps.length} missing</span>` : ''}
      ${last ? `<span>latest ${esc(ago(last.fetched_at))}</span>` : ''}
      ${h.complete ? '<span class="badge">complete</span>' : ''}</div>
    ${h.snapshots.length ? `<div class="curves-row">${curve(h, 'views', 'var(--views)')}${curve(h, 'likes', 'var(--likes)')}${curve(h, 'comments', 'var(--comments)')}</div>` : '<p class="note">No snapshot yet.</p>'}
  </article>`;
}

/** Under `make demo`: each posted sample item's history, redrawn every few seconds. */
async function growth(demo) {
  if (!demo || !demo.history) return;
  await init();
  const reader = new PowerPost({ baseUrl: new URL(demo.baseUrl, location.href).href });
  const ids = demo.historyItems || [];
  $('growth').hidden = false;
  const draw = async () => {
    const results = await Promise.all(ids.map((id) => reader.getPostItemHistory(id).then(growthCard, (e) => `<div data-history-error="${esc(id)}">${errorBlock(e)}</div>`)));
    $('curves').innerHTML = results.join('');
  };
  await draw();
  setInterval(draw, Math.max(1000, Math.min(10_000, (demo.dayMs || DAY) / 2)));
}

prefill();
