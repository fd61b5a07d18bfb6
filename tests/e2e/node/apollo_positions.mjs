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
// globalThis.fetch, which positions_scenario.mjs wraps to report each request's positions.
// Prints one JSON object; exits 1 with {"error": ...} when a step fails or times out.

import { ApolloClient, InMemoryCache, gql } from '@apollo/client';

import { run } from './client_scenario.mjs';
import {
  ENTRIES, OPEN_ENTRY, VERSION, args, report, step,
} from './positions_scenario.mjs';

const httpUrl = args.http;

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

async function main() {
  const client = new ApolloClient({
    link: args.plain ? new HttpLink({ uri: httpUrl }) : link,
    cache: new InMemoryCache(),
  });
  const variables = { slug: args.timeline };
  const read = (query) => client.query({ query: gql(query), variables,
                                         fetchPolicy: 'network-only' })
    .then((result) => result.data);
  try {
    const before = await step('first read', read(VERSION));
    const written = await step('openEntry', client.mutate({
      mutation: gql(OPEN_ENTRY),
      variables: { input: { timeline: args.timeline, id: args.entry, title: args.entry } },
      context: { headers: { authorization: `Bearer ${args.token}` } },
    }).then((result) => result.data));
    const after = await step('read after the write', read(ENTRIES));
    const last = await step('last read', read(VERSION));
    return report({ before, written, after, last }, seen);
  } finally {
    client.stop();
  }
}

run(main);
