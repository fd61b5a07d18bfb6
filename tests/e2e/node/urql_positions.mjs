#!/usr/bin/env node
// urql against Chronicle reading from a lagging standby: does the exchange README.md shows
// make a client read its own write?
//
//   node urql_positions.mjs --http http://127.0.0.1:8000/graphql --token TOKEN
//       --timeline SLUG --entry ID [--plain] [--timeout-ms T]
//
// The client (the one between the `README` markers below, copied in README.md verbatim and
// checked by tests/e2e/test_client_positions.py; with --plain, a Client with only urql's
// cacheExchange and fetchExchange) reads the timeline's version, opens the entry ID with the
// write token, at once reads the timeline's entries, then its version again. The README's
// client fetches through globalThis.fetch, wrapped here (as is the plain one's): the report
// lists each request's operation, the Chronicle-Min-Position it carried and the
// Chronicle-Position its answer named. Prints one JSON object; exits 1 with {"error": ...}
// when a step fails or times out.

import { parseArgs } from 'node:util';

import { gql } from '@urql/core';

import { describe, run } from './client_scenario.mjs';

const { values: args } = parseArgs({
  options: {
    http: { type: 'string' }, token: { type: 'string' }, timeline: { type: 'string' },
    entry: { type: 'string' }, plain: { type: 'boolean', default: false },
    'timeout-ms': { type: 'string', default: '20000' },
  },
});
const httpUrl = args.http;

/** Every request through globalThis.fetch: its Chronicle-Min-Position, the answer's. */
const requests = [];
const networkFetch = globalThis.fetch;
globalThis.fetch = async (input, init = {}) => {
  const request = {
    method: init.method ?? 'GET',
    // By POST in the body; urql sends queries by GET, in the URL.
    operation: new URL(input).searchParams.get('operationName')
      ?? JSON.parse(init.body ?? '{}').operationName ?? null,
    minPosition: new Headers(init.headers).get('Chronicle-Min-Position'),
  };
  requests.push(request);
  const response = await networkFetch(input, init);
  request.position = response.headers.get('Chronicle-Position');
  return response;
};

// The README's code as an app has it, with `httpUrl` set (its imports are hoisted).
// README: urql-positions
import { Client, cacheExchange, fetchExchange, makeOperation, mapExchange } from '@urql/core';

let seen = 0; // the highest log position this client was given
const remember = (position) => { if (position > seen) seen = position; };
const positionsExchange = mapExchange({
  onOperation(operation) {
    if (!seen) return operation;
    const given = operation.context.fetchOptions;
    const options = (typeof given === 'function' ? given() : given) ?? {};
    return makeOperation(operation.kind, operation, {
      ...operation.context,
      fetchOptions: {
        ...options,
        headers: { ...options.headers, 'Chronicle-Min-Position': String(seen) },
      },
    });
  },
  onResult(result) { remember(Number(result.extensions?.position ?? 0)); },
});
const client = new Client({
  url: httpUrl,
  exchanges: [cacheExchange, positionsExchange, fetchExchange],
  // Reads name their position in a header only, which exchanges do not see.
  fetch: async (input, init) => {
    const response = await fetch(input, init);
    remember(Number(response.headers.get('Chronicle-Position') ?? 0));
    return response;
  },
});
// README: end

const VERSION = gql`query Version($slug: String!) { timeline(slug: $slug) { slug version } }`;
const ENTRIES = gql`query Entries($slug: String!) {
  timeline(slug: $slug) { slug version entries(first: 500) { nodes { nodeId id } } }
}`;
const OPEN_ENTRY = gql`mutation OpenEntry($input: OpenEntryInput!) {
  openEntry(input: $input) { event { position } }
}`;

/** A step's data, or an error naming it after the timeout (a guard, not a pause). */
function step(label, source) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${args['timeout-ms']} ms`)),
      Number(args['timeout-ms']));
  });
  return Promise.race([source.toPromise(), timeout]).finally(() => clearTimeout(timer))
    .then((result) => {
      if (result.error) throw result.error;
      return result.data;
    })
    .catch((error) => { throw new Error(`${label}: ${describe(error)}`); });
}

async function main() {
  const reader = args.plain
    ? new Client({ url: httpUrl, exchanges: [cacheExchange, fetchExchange] })
    : client;
  const variables = { slug: args.timeline };
  const read = (query) => reader.query(query, variables, { requestPolicy: 'network-only' });
  const before = await step('first read', read(VERSION));
  const written = await step('openEntry', reader.mutation(OPEN_ENTRY, {
    input: { timeline: args.timeline, id: args.entry, title: args.entry },
  }, { fetchOptions: { headers: { authorization: `Bearer ${args.token}` } } }));
  const after = await step('read after the write', read(ENTRIES));
  const last = await step('last read', read(VERSION));
  return {
    plain: args.plain,
    before: before.timeline.version,
    written: written.openEntry.event.position,
    after: {
      version: after.timeline.version,
      entries: after.timeline.entries.nodes.map((node) => node.id),
    },
    last: last.timeline.version,
    seen,
    requests,
  };
}

run(main);
