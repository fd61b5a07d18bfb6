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
// write token, at once reads the timeline's entries, then its version again. Both clients
// fetch through globalThis.fetch, which positions_scenario.mjs wraps to report each
// request's positions. Prints one JSON object; exits 1 with {"error": ...} when a step fails
// or times out.

import { gql } from '@urql/core';

import { run } from './client_scenario.mjs';
import {
  ENTRIES, OPEN_ENTRY, VERSION, args, report, step,
} from './positions_scenario.mjs';

const httpUrl = args.http;

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

/** An operation's data, or its error. */
function data(source) {
  return source.toPromise().then((result) => {
    if (result.error) throw result.error;
    return result.data;
  });
}

async function main() {
  const reader = args.plain
    ? new Client({ url: httpUrl, exchanges: [cacheExchange, fetchExchange] })
    : client;
  const variables = { slug: args.timeline };
  const read = (query) => data(reader.query(gql(query), variables,
                                            { requestPolicy: 'network-only' }));
  const before = await step('first read', read(VERSION));
  const written = await step('openEntry', data(reader.mutation(gql(OPEN_ENTRY), {
    input: { timeline: args.timeline, id: args.entry, title: args.entry },
  }, { fetchOptions: { headers: { authorization: `Bearer ${args.token}` } } })));
  const after = await step('read after the write', read(ENTRIES));
  const last = await step('last read', read(VERSION));
  return report({ before, written, after, last }, seen);
}

run(main);
