#!/usr/bin/env node
// A local PowerPost API for development, demos and tests. `--help` for usage.
import fs from 'node:fs';
import { startDevServer, FAULTS, DEFAULT_API_KEY, DEFAULT_WORKSPACE_ID } from '../dev-server/server.mjs';

const USAGE = `Usage: powerpost-dev-server [options]

  --port N            port to listen on (default 4010; 0 picks a free port)
  --host H            address to bind (default 127.0.0.1)
  --data FILE         JSON array of items ({workspace_id?, post_item_id, post_type, platform, status, metrics})
  --api-key KEY       the key it accepts (default ${DEFAULT_API_KEY})
  --workspace-id ID   the workspace it accepts (default ${DEFAULT_WORKSPACE_ID})
  --rate-limit N      requests per window before 429 (default 1000)
  --rate-window-ms MS rate-limit window (default 60000)
  --static DIR        also serve DIR at / (e.g. the demo page); repeat as --static /prefix=DIR
  --day-ms N          how long a simulated day lasts, in ms (default 86400000, real days): posted
                      items gain one snapshot per day for 90 days; GET /__dev/history?id=ID lists them
  --quiet             do not log requests
  --help              this text

Reserved fault ids (GET /api/v1/post-items/{id}/analytics):
${Object.entries(FAULTS).map(([k, v]) => `  ${k.padEnd(28)} ${v}`).join('\n')}
`;

function fail(msg) {
  process.stderr.write(`powerpost-dev-server: ${msg}\n\n${USAGE}`);
  process.exit(2);
}

const opts = { port: 4010, staticDirs: {} };
let quiet = false;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const val = () => (i + 1 < args.length ? args[++i] : fail(`${a} needs a value`));
  const int = (v) => (/^\d+$/.test(v) ? Number(v) : fail(`${a} needs a whole number, got ${JSON.stringify(v)}`));
  switch (a) {
    case '--help': case '-h': process.stdout.write(USAGE); process.exit(0);
    case '--port': opts.port = int(val()); break;
    case '--host': opts.host = val(); break;
    case '--api-key': opts.apiKey = val(); break;
    case '--workspace-id': opts.workspaceId = val(); break;
    case '--rate-limit': opts.rateLimit = int(val()); break;
    case '--rate-window-ms': opts.rateWindowMs = int(val()); break;
    case '--day-ms': opts.dayMs = int(val()) || fail('--day-ms needs a whole number >= 1'); break;
    case '--quiet': quiet = true; break;
    case '--data': {
      const file = val();
      try {
        const data = JSON.parse(fs.readFileSync(file, 'utf8'));
        if (!Array.isArray(data)) fail(`--data ${file}: expected a JSON array of items`);
        opts.data = data;
      } catch (e) {
        fail(`--data ${file}: ${e.message}`);
      }
      break;
    }
    case '--static': {
      const v = val();
      const eq = v.indexOf('=');
      if (eq > 0 && v.startsWith('/')) opts.staticDirs[v.slice(0, eq)] = v.slice(eq + 1);
      else opts.staticDirs['/'] = v;
      break;
    }
    default: fail(`unknown option ${a}`);
  }
}
if (!quiet) opts.log = (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

let server;
try {
  server = await startDevServer(opts);
} catch (e) {
  fail(`could not listen: ${e.message}`);
}
process.stdout.write(`${server.url}\n`);
process.stderr.write(`powerpost-dev-server: listening on ${server.url} (key ${server.apiKey}, workspace ${server.workspaceId}); Ctrl-C stops it\n`);
const stop = async () => { await server.close(); process.exit(0); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
