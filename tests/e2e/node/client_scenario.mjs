// What apollo_cache.mjs and urql_cache.mjs share: their arguments, the GraphQL documents a
// frontend app would send, and small helpers to await what a client emits.
//
// The scenario, for each client: query a timeline (entries and their facts) into the
// client's normalized cache, subscribe to timelineChanged(slug), send one reportFact
// mutation with a bearer token, and see what the cache holds once the subscription's payload
// has arrived. The mutation asks for its event only, so the fact in the cache can change only
// through the subscription.

import { format, parseArgs } from 'node:util';

import WebSocket from 'ws';

// Node 20 has no WebSocket global (22 has); browsers do. With it, the clients' config is
// what a browser app writes, no `webSocketImpl`.
globalThis.WebSocket ??= WebSocket;

const USAGE = `usage: node SCRIPT --http http://HOST/graphql --ws ws://HOST/graphql --token TOKEN
       --timeline SLUG --entry ID --attribute NAME --report 'ReportFactInput as JSON'
       [--timeout-ms T]`;

export const FACT_FIELDS = `
  fragment FactFields on Fact {
    nodeId
    attribute
    disputed
    status
    value {
      ... on Count { best low high }
      ... on Text { text }
    }
    reports {
      weight
      role
      report { nodeId id stance source { nodeId id name } }
    }
  }`;

export const TIMELINE = `
  query Timeline($slug: String!) {
    timeline(slug: $slug) {
      nodeId
      slug
      entries(first: 100) {
        nodes { nodeId id title facts { ...FactFields } }
      }
    }
  }
  ${FACT_FIELDS}`;

export const TIMELINE_CHANGED = `
  subscription TimelineChanged($slug: String!) {
    timelineChanged(slug: $slug) {
      slug
      version
      events { nodeId position type }
      facts { ...FactFields }
    }
  }
  ${FACT_FIELDS}`;

export const REPORT_FACT = `
  mutation ReportFact($input: ReportFactInput!) {
    reportFact(input: $input) { event { nodeId position } }
  }`;

function usage(message) {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(64);
}

/** The command line: URLs, token, what to watch and the report to send. */
export function options() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        http: { type: 'string' },
        ws: { type: 'string' },
        token: { type: 'string' },
        timeline: { type: 'string' },
        entry: { type: 'string' },
        attribute: { type: 'string' },
        report: { type: 'string' },
        'timeout-ms': { type: 'string', default: '20000' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    usage(error.message);
  }
  for (const name of ['http', 'ws', 'token', 'timeline', 'entry', 'attribute', 'report']) {
    if (!values[name]) usage(`--${name} is required`);
  }
  let report;
  try {
    report = JSON.parse(values.report);
  } catch (error) {
    usage(`--report is not JSON: ${error.message}`);
  }
  const timeoutMs = Number(values['timeout-ms']);
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) usage('--timeout-ms must be positive');
  return {
    httpUrl: values.http,
    wsUrl: values.ws,
    token: values.token,
    slug: values.timeline,
    entry: values.entry,
    attribute: values.attribute,
    report,
    timeoutMs,
  };
}

/** The fact (entry, attribute) in a Timeline query's data, or null. */
export function factIn(data, entry, attribute) {
  const node = data?.timeline?.entries?.nodes?.find((e) => e.id === entry);
  return node?.facts?.find((f) => f.attribute === attribute) ?? null;
}

/** Whether a fact lists the report with this id. */
export function citesReport(fact, reportId) {
  return Boolean(fact?.reports?.some((r) => r.report.id === reportId));
}

/** Only the fields the checks compare, so two reads of one fact compare equal. */
export function plain(fact) {
  return fact === null || fact === undefined ? null : JSON.parse(JSON.stringify(fact));
}

/**
 * The first value an observable (Apollo's, urql's via its `subscribe(sink)` adapter, or
 * anything with `subscribe({next, error})`) emits that `accept` takes. Rejects when the
 * observable errors or completes first, or after `timeoutMs` (a guard, not a pause).
 */
export function firstMatching(observable, accept, { label, timeoutMs }) {
  const matched = new Promise((resolve, reject) => {
    let subscription = null;
    let settled = false;
    const settle = (outcome, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      subscription?.unsubscribe();
      outcome(value);
    };
    const timer = setTimeout(
      () => settle(reject, new Error(`${label}: nothing matched in ${timeoutMs} ms`)),
      timeoutMs,
    );
    subscription = observable.subscribe({
      next: (value) => {
        if (accept(value)) settle(resolve, value);
      },
      error: (error) => settle(reject, new Error(`${label}: ${describe(error)}`)),
      complete: () => settle(reject, new Error(`${label}: completed before a match`)),
    });
    if (settled) subscription.unsubscribe();
  });
  // Awaiting it still throws; one left unawaited after an earlier failure (the clients are
  // closed, so it completes) must not crash the script before it reports that failure.
  matched.catch(() => {});
  return matched;
}

/** A promise settled by the next call of an event hook, rejected after `timeoutMs`. */
export function nextEvent(on, { label, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${label}: did not happen in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const off = on((...args) => {
      clearTimeout(timer);
      off();
      resolve(args);
    });
  });
}

/** Errors as text: Error, CloseEvent, an array of GraphQL errors, or anything else. */
export function describe(error) {
  if (error instanceof Error) return error.message;
  if (Array.isArray(error)) return error.map((e) => e?.message ?? String(e)).join('; ');
  if (error && typeof error === 'object' && 'code' in error && 'reason' in error) {
    return `socket closed ${error.code} ${error.reason}`;
  }
  return JSON.stringify(error);
}

/**
 * What the client libraries log from here on (console.warn and console.error), in a list
 * for the report instead of on stderr.
 */
export function captureWarnings() {
  const logged = [];
  const capture = (level) => (...args) => logged.push(`${level}: ${format(...args)}`);
  console.warn = capture('warn');
  console.error = capture('error');
  return logged;
}

/** Print the report as one JSON object and exit once stdout has drained. */
export function finish(report, code = 0) {
  process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(code));
}

/** Run `main`; on failure print `{"error": ...}` and exit 1. */
export function run(main) {
  main().then(
    (report) => finish(report),
    (error) => {
      process.stderr.write(`${error?.stack ?? error}\n`);
      finish({ error: describe(error) }, 1);
    },
  );
}
