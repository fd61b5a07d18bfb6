#!/usr/bin/env node
// Apollo Client against Chronicle reading from a lagging standby: does the link README.md
// shows make a client read its own write?
//
//   node apollo_positions.mjs --http http://127.0.0.1:8000/graphql --token TOKEN
//       --timeline SLUG --entry ID [--plain] [--timeout-ms T]
//
// The client (with the link between the `README` markers below, copied in README.md
// verbatim and checked by tests/e2e/test_client_positions.py; with --plain, a bare HttpLink)
// reads the timeline's version, opens the entry ID with the write token, at once reads the
// timeline's entries, then its version again. HttpLink, given no `fetch`, calls
// globalThis.fetch, wrapped here: the report lists each request's operation, the
// Chronicle-Min-Position it carried and the Chronicle-Position its answer named. Prints one
// JSON object; exits 1 with {"error": ...} when a step fails or times out.

import { parseArgs } from 'node:util';

import { ApolloClient, InMemoryCache, gql } from '@apollo/client';

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
// README: apollo-positions
import { ApolloLink, HttpLink } from '@apollo/client';
import { map } from 'rxjs';

let seen = 0; // the highest log position this client was given
const positions = new ApolloLink((operation, forward) => {
  if (seen) {
    operation.setContext(({ headers = {} }) => ({
      headers: { ...headers, 'Chronicle-Min-Position': String(seen) },
    }));
  }
  return forward(operation).pipe(map((result) => {
    const header = operation.getContext().response?.headers?.get('Chronicle-Position');
    const position = Number(header ?? result.extensions?.position ?? 0);
    if (position > seen) seen = position;
    return result;
  }));
});
const link = ApolloLink.from([positions, new HttpLink({ uri: httpUrl })]); // before the HttpLink
// README: end

const VERSION = gql`query Version($slug: String!) { timeline(slug: $slug) { slug version } }`;
const ENTRIES = gql`query Entries($slug: String!) {
  timeline(slug: $slug) { slug version entries(first: 500) { nodes { nodeId id } } }
}`;
const OPEN_ENTRY = gql`mutation OpenEntry($input: OpenEntryInput!) {
  openEntry(input: $input) { event { position } }
}`;

/** A step, or an error naming it after the timeout (a guard, not a pause). */
function step(label, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${args['timeout-ms']} ms`)),
      Number(args['timeout-ms']));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
    .catch((error) => { throw new Error(`${label}: ${describe(error)}`); });
}

async function main() {
  const client = new ApolloClient({
    link: args.plain ? new HttpLink({ uri: httpUrl }) : link,
    cache: new InMemoryCache(),
  });
  const variables = { slug: args.timeline };
  const read = (query) => client.query({ query, variables, fetchPolicy: 'network-only' });
  try {
    const before = await step('first read', read(VERSION));
    const written = await step('openEntry', client.mutate({
      mutation: OPEN_ENTRY,
      variables: { input: { timeline: args.timeline, id: args.entry, title: args.entry } },
      context: { headers: { authorization: `Bearer ${args.token}` } },
    }));
    const after = await step('read after the write', read(ENTRIES));
    const last = await step('last read', read(VERSION));
    return {
      plain: args.plain,
      before: before.data.timeline.version,
      written: written.data.openEntry.event.position,
      after: {
        version: after.data.timeline.version,
        entries: after.data.timeline.entries.nodes.map((node) => node.id),
      },
      last: last.data.timeline.version,
      seen,
      requests,
    };
  } finally {
    client.stop();
  }
}

run(main);
