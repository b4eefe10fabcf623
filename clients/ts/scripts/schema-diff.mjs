#!/usr/bin/env node
// Reports breaking changes of schema.graphql against a previous version of it (graphql-js's
// findBreakingChanges: removed types/fields/enum values, changed field or argument types, new
// required arguments...). Exits 1 on any, unless ALLOW_BREAKING_SCHEMA=1.
//
//   node scripts/schema-diff.mjs [base-ref]     (default: $SCHEMA_BASE, else HEAD~1)

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, findBreakingChanges, findDangerousChanges } from 'graphql';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const base = process.argv[2] ?? process.env.SCHEMA_BASE ?? 'HEAD~1';

let previous;
try {
  previous = execFileSync('git', ['show', `${base}:schema.graphql`], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
} catch {
  console.log(`schema-diff: no schema.graphql at ${base}; nothing to compare`);
  process.exit(0);
}
const current = readFileSync(resolve(repo, 'schema.graphql'), 'utf8');
const before = buildSchema(previous);
const after = buildSchema(current);

const dangerous = findDangerousChanges(before, after);
for (const c of dangerous) console.log(`schema-diff: dangerous (${c.type}): ${c.description}`);
const breaking = findBreakingChanges(before, after);
for (const c of breaking) console.log(`schema-diff: BREAKING (${c.type}): ${c.description}`);
if (breaking.length === 0) {
  console.log(`schema-diff: no breaking change against ${base}`);
} else if (process.env.ALLOW_BREAKING_SCHEMA === '1') {
  console.log(`schema-diff: ${breaking.length} breaking change(s) allowed by ALLOW_BREAKING_SCHEMA=1`);
} else {
  console.error(`schema-diff: ${breaking.length} breaking change(s) against ${base}; existing clients would fail`);
  process.exit(1);
}
