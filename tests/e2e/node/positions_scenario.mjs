// What apollo_positions.mjs and urql_positions.mjs share: their arguments, the documents
// they send, a recorder of every request's positions, a timeout guard, and the report.
//
// The scenario, for each client: read a timeline's version, open an entry with the write
// token, at once read the timeline's entries, then its version again, against Chronicle
// reading from a lagging standby. The report lists each request's operation, the
// Chronicle-Min-Position it carried and the Chronicle-Position its answer named.

import { parseArgs } from 'node:util';

import { describe } from './client_scenario.mjs';

export const { values: args } = parseArgs({
  options: {
    http: { type: 'string' }, token: { type: 'string' }, timeline: { type: 'string' },
    entry: { type: 'string' }, plain: { type: 'boolean', default: false },
    'timeout-ms': { type: 'string', default: '20000' },
  },
});

export const VERSION = 'query Version($slug: String!) { timeline(slug: $slug) { slug version } }';
export const ENTRIES = `query Entries($slug: String!) {
  timeline(slug: $slug) { slug version entries(first: 500) { nodes { nodeId id } } }
}`;
export const OPEN_ENTRY = `mutation OpenEntry($input: OpenEntryInput!) {
  openEntry(input: $input) { event { position } }
}`;

/** Every request through globalThis.fetch (wrapped on import, before any client is made):
 * its operation, its Chronicle-Min-Position, its answer's Chronicle-Position. */
export const requests = [];
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

/** ``promise``, or an error naming the step after the timeout (a guard, not a pause). */
export function step(label, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${args['timeout-ms']} ms`)),
      Number(args['timeout-ms']));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
    .catch((error) => { throw new Error(`${label}: ${describe(error)}`); });
}

/** The report, from the data of the four steps and the client's highest position. */
export function report({ before, written, after, last }, seen) {
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
