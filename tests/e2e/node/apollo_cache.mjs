#!/usr/bin/env node
// Apollo Client against Chronicle: does a timelineChanged payload update a cached query?
//
//   node --conditions=development apollo_cache.mjs --http http://127.0.0.1:8000/graphql
//       --ws ws://127.0.0.1:8000/graphql --token TOKEN --timeline SLUG --entry ID
//       --attribute NAME --report JSON [--timeout-ms T]
//
// (`--conditions=development` loads Apollo's development build, which warns about cache
// misconfiguration, as an app's dev server does.)
//
// Two clients run the scenario of client_scenario.mjs side by side: "configured", with the
// config README.md shows (the block between the `README` markers below is copied there
// verbatim, and a test checks it still matches), and "default", whose cache has the same
// possibleTypes but Apollo's default keys (`__typename` and `id`). Both watch the same query
// and subscription; the configured one sends the reportFact. Prints one JSON object: the
// fact before the write, as the subscription pushed it, as `readQuery` reads it from each
// cache after that payload, and as the configured client's `watchQuery` emitted it; and what
// Apollo logged. Exits 1 with {"error": ...} when a step fails or times out.

// README: apollo-imports
import { ApolloClient, HttpLink, InMemoryCache, split } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { isSubscriptionOperation } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
// README: end
import { gql, version } from '@apollo/client';
import { loadDevMessages, loadErrorMessages } from '@apollo/client/dev';
import { __DEV__ } from '@apollo/client/utilities/environment';

import {
  REPORT_FACT, TIMELINE, TIMELINE_CHANGED, captureWarnings, citesReport, factIn,
  firstMatching, nextEvent, options, plain, run,
} from './client_scenario.mjs';

// README: apollo
const possibleTypes = {
  Node: ['Entry', 'Event', 'Fact', 'Report', 'Source', 'Timeline'],
  Value: ['Count', 'Text', 'TimeSpan', 'Place', 'Flag'],
};

function createApolloClient({ httpUrl, wsUrl, token, cache = chronicleCache() }) {
  const authorization = `Bearer ${token}`;
  const wsClient = createClient({ url: wsUrl, connectionParams: { authorization } });
  const link = split(
    ({ query }) => isSubscriptionOperation(query),
    new GraphQLWsLink(wsClient),
    new HttpLink({ uri: httpUrl, headers: { authorization } }),
  );
  return { client: new ApolloClient({ link, cache }), wsClient };
}

function chronicleCache() {
  return new InMemoryCache({
    // Objects with a nodeId are stored under it, so a subscription's payload updates every
    // query holding them; the rest (FactReport, Count, ...) stay inside their parent. Not the
    // default `id`: an entry's id is unique only within its timeline.
    dataIdFromObject: (object) => object.nodeId,
    possibleTypes,
  });
}
// README: end

loadDevMessages();
loadErrorMessages();
const warnings = captureWarnings();

const documents = {
  timeline: gql(TIMELINE),
  timelineChanged: gql(TIMELINE_CHANGED),
  reportFact: gql(REPORT_FACT),
};

/**
 * A client (with the README's cache unless `cache` is given) with its query watched and its
 * subscription open, connected before it returns.
 */
async function watching(opts, { cache, awaitUpdate }) {
  const { client, wsClient } = createApolloClient({ ...opts, cache });
  const guard = { timeoutMs: opts.timeoutMs };
  const variables = { slug: opts.slug };
  const connected = nextEvent((listener) => wsClient.on('connected', listener),
    { ...guard, label: 'graphql-ws connection_ack' });
  const pushedFact = (payload) => payload.data?.timelineChanged?.facts
    ?.find((f) => citesReport(f, opts.report.id));
  const pushed = firstMatching(
    client.subscribe({ query: documents.timelineChanged, variables }), pushedFact,
    { ...guard, label: 'timelineChanged payload citing the new report' });
  await connected;

  const watch = client.watchQuery({ query: documents.timeline, variables });
  // Like a mounted component: an observer for the client's lifetime keeps the query watched
  // (its last observer leaving would tear the query down) while the ones below come and go.
  const mounted = watch.subscribe({ error: () => {} });
  const watchedFact = (result) => factIn(result.data, opts.entry, opts.attribute);
  const updated = awaitUpdate
    ? firstMatching(watch, (r) => citesReport(watchedFact(r), opts.report.id),
      { ...guard, label: 'watchQuery emitting the fact with the new report' })
    : null;
  const first = await firstMatching(watch, (r) => r.dataState === 'complete',
    { ...guard, label: 'watchQuery first complete result' });
  const before = watchedFact(first);
  if (before === null) throw new Error(`no fact ${opts.entry}/${opts.attribute} to watch`);
  return {
    client, wsClient, mounted, variables, before, pushed, pushedFact, updated, watchedFact,
  };
}

/** What one client saw: before, pushed, what its cache then reads, what its watcher got. */
async function observed(watcher) {
  const { client, variables } = watcher;
  const payload = await watcher.pushed;
  // Apollo writes a subscription result to the cache before handing it to the observer.
  const cached = client.readQuery({ query: documents.timeline, variables });
  const seen = {
    before: plain(watcher.before),
    pushed: plain(watcher.pushedFact(payload)),
    cached: plain(watcher.watchedFact({ data: cached })),
    cacheId: client.cache.identify(watcher.before) ?? null,
  };
  if (watcher.updated) seen.watched = plain(watcher.watchedFact(await watcher.updated));
  return seen;
}

function close(watcher) {
  watcher.mounted.unsubscribe();
  watcher.client.stop();
  return watcher.wsClient.dispose();
}

async function main() {
  const opts = options();
  const configured = await watching(opts, { awaitUpdate: true });
  const unconfigured = await watching(opts, {
    cache: new InMemoryCache({ possibleTypes }), awaitUpdate: false,
  });
  try {
    // Sent over HTTP with the bearer token; asks for the event only, never the fact.
    const { data } = await configured.client.mutate({
      mutation: documents.reportFact, variables: { input: opts.report },
    });
    return {
      apollo: version,
      dev: __DEV__,
      possibleTypes,
      written: data.reportFact.event,
      configured: await observed(configured),
      default: await observed(unconfigured),
      warnings,
    };
  } finally {
    await Promise.all([close(configured), close(unconfigured)]);
  }
}

run(main);
