// Checks of the proxy that wrong builds passed (issue #30), added to the fast setups that
// already run: rows for the table every proxy host is sent (proxy.mjs), and the claim checks
// run inside the two-instance Redis test.
import assert from 'node:assert/strict';
import net from 'node:net';

const analytics = (base, id) => `${base}/api/v1/post-items/${encodeURIComponent(id)}/analytics`;

/** Rows for proxy.mjs's table (same shape: [name, method, path, headers, expectation]). */
export function mendRows(tag) {
  const rows = [];
  // authorize() must return true (or a promise of it) to let a request through: a truthy
  // non-boolean is a mistake in the app, answered 500 (proxy-mounts.mjs returns these).
  for (const [session, what] of [['returns-no', "'no'"], ['returns-1', '1'], ['returns-object', '{}'], ['resolves-yes', "a promise of 'yes'"]]) {
    rows.push([`authorize returns ${what} (truthy, not a boolean): 500, nothing forwarded`, 'GET', analytics('/pp', `gen-${session}-${tag}`),
      { 'x-app-session': session }, { status: 500, code: 'INTERNAL_ERROR', forwarded: 0 }]);
  }
  // An upstream (or a load balancer in front of it) that sets cookies, on a success and on
  // errors: the table checks every answer for Set-Cookie, and `absent` the body.
  for (const status of [200, 404, 500]) {
    rows.push([`an upstream ${status} that sets cookies is passed on without them`, 'GET', analytics('/open', `fault-set-cookie-${status}--${tag}`), {},
      { status, forwarded: 1, absent: 'SET-COOKIE-CANARY' }]);
  }
  return rows;
}

/** One Redis command over RESP; resolves the reply (arrays and bulk strings as JS values). */
function redis(url, args) {
  const { hostname, port } = new URL(url);
  const request = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    const socket = net.connect(Number(port), hostname, () => socket.write(request));
    socket.setTimeout(10_000, () => socket.destroy(new Error(`redis ${args[0]}: no answer in 10 s`)));
    socket.on('error', reject);
    socket.on('data', (d) => {
      data = Buffer.concat([data, d]);
      const parsed = parse(data, 0);
      if (parsed) { socket.end(); resolve(parsed.value); }
    });
  });
}

/** A RESP value at `at` in `buf`, or undefined while incomplete. */
function parse(buf, at) {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const [type, line] = [String.fromCharCode(buf[at]), buf.toString('utf8', at + 1, eol)];
  if (type === '+' || type === ':') return { value: line, end: eol + 2 };
  if (type === '-') throw new Error(`redis: ${line}`);
  if (type === '$') {
    const len = Number(line);
    if (len < 0) return { value: null, end: eol + 2 };
    return buf.length < eol + 2 + len + 2 ? undefined : { value: buf.toString('utf8', eol + 2, eol + 2 + len), end: eol + 2 + len + 2 };
  }
  if (type === '*') {
    const items = [];
    let next = eol + 2;
    for (let i = 0; i < Number(line); i++) {
      const item = parse(buf, next);
      if (!item) return undefined;
      items.push(item.value);
      next = item.end;
    }
    return { value: items, end: next };
  }
  throw new Error(`redis: unexpected reply ${JSON.stringify(buf.toString('utf8', at, eol))}`);
}

/**
 * The cross-instance claim, with two proxy hosts (`/pp`, cache in the shared Redis) in front of
 * the dev server `api`: a claim is released when the lookup fails, and a claim's key is no
 * entry's key.
 */
export async function checkClaims({ hosts: [a, b], api, redisUrl, rawRequest, tag }) {
  const requests = async (id) => (await (await fetch(`${api.url}/__dev/requests?id=${encodeURIComponent(id)}`)).json()).count;

  // A lookup that fails (404, never cached) on A: its claim must go with the answer. Left
  // behind, B would wait for an entry that never comes until the claim's 30 s run out.
  const missing = `does-not-exist-${tag}`;
  const onA = await rawRequest(a.url, 'GET', analytics('/pp', missing));
  assert.equal(onA.status, 404, onA.body);
  // No entry is stored for an error, so any key naming the id is the claim, left behind.
  const left = (await redis(redisUrl, ['KEYS', '*'])).filter((k) => k.includes(missing));
  assert.deepEqual(left, [], 'no claim is left in Redis once A has answered');
  const asking = rawRequest(b.url, 'GET', analytics('/pp', missing));
  asking.catch(() => {}); // a late failure is reported below, as the wait it is
  const onB = await Promise.race([asking, new Promise((r) => setTimeout(r, 10_000, 'waiting'))]);
  assert.notEqual(onB, 'waiting', 'B had not answered after 10 s: it waits out a claim A never released (held 30 s)');
  assert.equal(onB.status, 404, onB.body);
  assert.equal(await requests(missing), 2, 'A and B each asked once (an error is not shared)');

  // An id spelling another id's entry key plus " claim" is stored first; then both hosts look
  // that other id up at once (a slow upstream: both are still waiting when either asks). With
  // claim keys apart from entry keys, one claims and one upstream request serves both.
  const target = `fault-slow-400--collide${tag}`;
  const colliding = await rawRequest(a.url, 'GET', analytics('/pp', `${target} claim`));
  assert.equal(colliding.status, 200, `the colliding id is stored: ${colliding.body}`);
  const both = await Promise.all([a, b].map((h) => rawRequest(h.url, 'GET', analytics('/pp', target))));
  assert.deepEqual(both.map((r) => r.status), [200, 200], both.map((r) => r.body).join('\n'));
  assert.deepEqual(both.map((r) => JSON.parse(r.body).post_item_id), [target, target]);
  assert.equal(await requests(target), 1, 'one upstream request for one lookup per host at once, after the colliding id was stored');
}
