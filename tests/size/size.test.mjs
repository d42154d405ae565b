// The size gate (`make test`, after `make build`): each entry of pkg/ against its budget in
// tests/size/budgets.json, gzipped as scripts/sizes.mjs measures it. An entry may exceed its
// budget by at most SLACK bytes (gzip moves by a few hundred bytes with unrelated edits); beyond
// that the test fails with the entry, its budget and its size. Growing is a decision: raise the
// budget in a reviewed commit that says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { entrySizes } from '../../scripts/sizes.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.resolve(here, '..', '..', 'pkg');
const SLACK = 512;
const { entries: budgets } = JSON.parse(fs.readFileSync(path.join(here, 'budgets.json'), 'utf8'));
const sizes = entrySizes(pkg);

for (const [entry, budget] of Object.entries(budgets)) {
  test(`the ${entry} entry is within its gzipped size budget`, () => {
    const size = sizes[entry];
    assert.ok(Number.isInteger(budget) && Number.isInteger(size), `no size or budget for the ${entry} entry (budget ${budget}, size ${size})`);
    assert.ok(size <= budget + SLACK,
      `the ${entry} entry is ${size} B gzipped, ${size - budget} B over its budget of ${budget} B (tests/size/budgets.json allows ${SLACK} B over): make it smaller, or raise the budget in a reviewed commit that says why`);
  });
}

test('every entry has a budget', () => {
  assert.deepEqual(Object.keys(budgets).sort(), ['default', 'proxy', 'slim']);
});
