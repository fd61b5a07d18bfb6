#!/usr/bin/env node
// Runs graphql-http's GraphQL-over-HTTP server audits against a URL and prints one JSON
// object: counts per requirement level (MUST/SHOULD/MAY) and status, and every audit that
// was not ok with its reason. Exits 0 whenever the audits ran; the caller judges them.
//
//   node audit.mjs http://127.0.0.1:8000/graphql

import { serverAudits } from 'graphql-http';

const LEVELS = ['MUST', 'SHOULD', 'MAY'];
const STATUSES = ['ok', 'notice', 'warn', 'error'];
const BODY_LIMIT = 500;

function usage(message) {
  process.stderr.write(`${message}\nusage: node audit.mjs URL\n`);
  process.exit(64);
}

/** What the server answered, for a failing audit; the audit may have read the body. */
async function describe(response) {
  if (!response || typeof response.status !== 'number') return null;
  let body = null;
  try {
    body = await response.clone().text();
  } catch {
    body = null; // already consumed by the audit
  }
  if (body !== null && body.length > BODY_LIMIT) body = `${body.slice(0, BODY_LIMIT)}…`;
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body,
  };
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length !== 1) usage('expected exactly one argument');
  const url = args[0];
  try {
    new URL(url);
  } catch {
    usage(`not a URL: ${url}`);
  }

  const counts = Object.fromEntries(
    LEVELS.map((level) => [level, Object.fromEntries(STATUSES.map((s) => [s, 0]))]),
  );
  const failures = [];
  const audits = serverAudits({ url, fetchFn: fetch });
  // One at a time: the server sees the requests in a stable order and each failure's
  // response is the audit's own.
  for (const audit of audits) {
    const level = audit.name.split(' ', 1)[0];
    let result;
    try {
      result = await audit.fn();
    } catch (error) {
      result = { status: 'error', reason: `the audit threw: ${error?.message ?? error}` };
    }
    counts[level] ??= Object.fromEntries(STATUSES.map((s) => [s, 0]));
    counts[level][result.status] = (counts[level][result.status] ?? 0) + 1;
    if (result.status !== 'ok') {
      failures.push({
        id: audit.id,
        level,
        name: audit.name,
        status: result.status,
        reason: result.reason,
        response: await describe(result.response),
      });
    }
  }
  const report = { url, total: audits.length, counts, failures };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

main().catch((error) => {
  // Only a broken setup gets here (bad module install, ...): say so and fail.
  process.stderr.write(`audit.mjs: ${error?.stack ?? error}\n`);
  process.exit(1);
});
