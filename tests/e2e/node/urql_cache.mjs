#!/usr/bin/env node
// urql with Graphcache against Chronicle: does a timelineChanged payload update a cached query?
//
//   node urql_cache.mjs --http http://127.0.0.1:8000/graphql --ws ws://127.0.0.1:8000/graphql
//       --token TOKEN --timeline SLUG --entry ID --attribute NAME --report JSON [--timeout-ms T]
//
// Two clients run the scenario of client_scenario.mjs side by side: "configured", with the
// config README.md shows (the block between the `README` markers below is copied there
// verbatim, and a test checks it still matches), and "default", whose Graphcache has the
// same schema but no `keys` (so Graphcache's default, `id` or `_id`). Both keep the same
// query and subscription open; the configured one sends the reportFact. Prints one JSON
// object: the fact before the write, as the subscription pushed it, as `client.readQuery`
// reads it from each cache after that payload, and as the configured client's query source
// emitted it; what each Graphcache logged; and the key each type gets. Exits 1 with
// {"error": ...} when a step fails or times out.

import { readFileSync } from 'node:fs';

// README: urql-imports
import { Client, fetchExchange, subscriptionExchange } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { buildSchema, introspectionFromSchema } from 'graphql';
import { createClient } from 'graphql-ws';
// README: end
import { gql } from '@urql/core';

import {
  REPORT_FACT, TIMELINE, TIMELINE_CHANGED, captureWarnings, citesReport, describe, factIn,
  firstMatching, nextEvent, options, plain, run,
} from './client_scenario.mjs';

const sdl = readFileSync(new URL('../../../schema.graphql', import.meta.url), 'utf8');

// README: urql
// sdl: the text of Chronicle's schema.graphql. Graphcache matches fragments on the `Value`
// union and the `Node` interface exactly with it (an app can build this once, at build time).
const schema = introspectionFromSchema(buildSchema(sdl));
// Objects that implement Node are stored under their nodeId, so a subscription's payload
// updates every query holding them; every other object type (FactReport, Count, ...) stays
// inside its parent. Not the default `id`: an entry's id is unique only within its timeline.
const keys = Object.fromEntries(schema.__schema.types
  .filter((type) => type.kind === 'OBJECT' && !type.name.startsWith('__'))
  .map((type) => [type.name, type.interfaces.some((i) => i.name === 'Node')
    ? (object) => object.nodeId
    : () => null]));

function createUrqlClient({ httpUrl, wsUrl, token, cache = cacheExchange({ schema, keys }) }) {
  const authorization = `Bearer ${token}`;
  const wsClient = createClient({ url: wsUrl, connectionParams: { authorization } });
  const client = new Client({
    url: httpUrl,
    fetchOptions: { headers: { authorization } },
    exchanges: [
      cache,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({
            unsubscribe: wsClient.subscribe({ ...request, query: request.query ?? '' }, sink),
          }),
        }),
      }),
    ],
  });
  return { client, wsClient };
}
// README: end

const documents = {
  timeline: gql(TIMELINE),
  timelineChanged: gql(TIMELINE_CHANGED),
  reportFact: gql(REPORT_FACT),
};

/**
 * What Graphcache logged: the configured cache with console.warn (its default logger), the
 * default one (with the same schema, no keys) through its `logger`.
 */
const warnings = { configured: captureWarnings(), default: [] };
const defaultCache = () => cacheExchange({
  schema,
  logger: (severity, message) => warnings.default.push(`${severity}: ${message}`),
});

/** A source of urql results as an observable that errors on a result's `error`. */
function results(source) {
  return {
    subscribe: ({ next, error }) => source.subscribe((result) => {
      if (result.error) error(result.error);
      else next(result);
    }),
  };
}

/**
 * A client (with the README's cache unless `cache` is given) with its query and its
 * subscription open, connected before it returns.
 */
async function watching(opts, { cache, awaitUpdate }) {
  const { client, wsClient } = createUrqlClient({ ...opts, cache });
  const guard = { timeoutMs: opts.timeoutMs };
  const variables = { slug: opts.slug };
  const connected = nextEvent((listener) => wsClient.on('connected', listener),
    { ...guard, label: 'graphql-ws connection_ack' });
  const pushedFact = (result) => result.data?.timelineChanged?.facts
    ?.find((f) => citesReport(f, opts.report.id));
  const changes = results(client.subscription(documents.timelineChanged, variables));
  const pushed = firstMatching(changes, pushedFact,
    { ...guard, label: 'timelineChanged payload citing the new report' });
  await connected;

  const query = results(client.query(documents.timeline, variables));
  // Like a mounted component: a subscriber for the client's lifetime keeps the query active
  // (Graphcache re-runs active queries whose entities changed).
  const mounted = query.subscribe({ next: () => {}, error: () => {} });
  const watchedFact = (result) => factIn(result.data, opts.entry, opts.attribute);
  const updated = awaitUpdate
    ? firstMatching(query, (r) => citesReport(watchedFact(r), opts.report.id),
      { ...guard, label: 'query source emitting the fact with the new report' })
    : null;
  const first = await firstMatching(query, (r) => !r.stale && watchedFact(r) !== null,
    { ...guard, label: 'query first result' });
  const before = watchedFact(first);
  return {
    client, wsClient, mounted, variables, before, pushed, pushedFact, updated, watchedFact,
  };
}

/** What one client saw: before, pushed, what its cache then reads, what its query got. */
async function observed(watcher) {
  const { client, variables } = watcher;
  const payload = await watcher.pushed;
  // Graphcache writes a subscription result to the cache before passing it on.
  const cached = client.readQuery(documents.timeline, variables, { requestPolicy: 'cache-only' });
  if (cached?.error) throw new Error(`readQuery: ${describe(cached.error)}`);
  const seen = {
    before: plain(watcher.before),
    pushed: plain(watcher.pushedFact(payload)),
    cached: plain(watcher.watchedFact(cached ?? {})),
  };
  if (watcher.updated) seen.watched = plain(watcher.watchedFact(await watcher.updated));
  return seen;
}

function close(watcher) {
  watcher.mounted.unsubscribe();
  return watcher.wsClient.dispose();
}

/** The key each type gets from the configured `keys`: "nodeId", or null (embedded). */
function keying() {
  return Object.fromEntries(Object.entries(keys).map(([type, key]) => [
    type, key({ __typename: type, nodeId: 'nodeId' }),
  ]));
}

async function main() {
  const opts = options();
  const configured = await watching(opts, { awaitUpdate: true });
  const unconfigured = await watching(opts, { cache: defaultCache(), awaitUpdate: false });
  try {
    // Sent over HTTP with the bearer token; asks for the event only, never the fact.
    const written = await configured.client.mutation(documents.reportFact,
      { input: opts.report }).toPromise();
    if (written.error) throw new Error(`reportFact: ${describe(written.error)}`);
    return {
      written: written.data.reportFact.event,
      configured: await observed(configured),
      default: await observed(unconfigured),
      warnings,
      keys: keying(),
    };
  } finally {
    await Promise.all([close(configured), close(unconfigured)]);
  }
}

run(main);
