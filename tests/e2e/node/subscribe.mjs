#!/usr/bin/env node
// A graphql-transport-ws client for subscription tests (graphql-ws over the ws package).
//
//   node subscribe.mjs --url ws://127.0.0.1:8000/graphql --query 'subscription { ... }'
//       [--variables JSON] [--authorization 'Bearer x'] [--count N] [--timeout-ms T]
//
// Prints one JSON object per line on stdout:
//   {"connected": true}      once the server acknowledged the connection (connection_ack);
//                            the subscribe message is sent right after this line
//   <payload>                each `next` payload as received ({"data": ..., "errors": ...})
//   {"error": ...}           the server sent `error`, closed the socket, or completed early
//   {"timeout": T, "received": n}   T ms passed before N payloads arrived
// Exit codes: 0 after N payloads (or, without --count, when the server completes),
// 1 on error/close, 2 on timeout, 64 on bad arguments.

import { parseArgs } from 'node:util';

import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const CLOSE_GRACE_MS = 500;
const USAGE = `usage: node subscribe.mjs --url ws://HOST/graphql --query 'subscription {...}'
       [--variables JSON] [--authorization 'Bearer x'] [--count N] [--timeout-ms T]`;

function line(value) {
  // stdout writes to a pipe or file are synchronous on POSIX: each line is out at once.
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function finish(code) {
  // Exit once stdout has drained, whatever the socket is still doing.
  process.stdout.write('', () => process.exit(code));
}

function usage(message) {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(64);
}

function options() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        url: { type: 'string' },
        query: { type: 'string' },
        variables: { type: 'string' },
        authorization: { type: 'string' },
        count: { type: 'string' },
        'timeout-ms': { type: 'string', default: '30000' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    usage(error.message);
  }
  if (!values.url) usage('--url is required');
  if (!values.query) usage('--query is required');
  let variables;
  if (values.variables !== undefined) {
    try {
      variables = JSON.parse(values.variables);
    } catch (error) {
      usage(`--variables is not JSON: ${error.message}`);
    }
  }
  const count = values.count === undefined ? undefined : Number(values.count);
  if (count !== undefined && !(Number.isInteger(count) && count > 0)) {
    usage('--count must be a positive integer');
  }
  const timeoutMs = Number(values['timeout-ms']);
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) usage('--timeout-ms must be positive');
  return { ...values, variables, count, timeoutMs };
}

/**
 * The sink's error is a CloseEvent, an Error, the GraphQL errors of an `error` message, or
 * the socket's ErrorEvent (connection refused, HTTP status instead of an upgrade, ...).
 */
function describe(error) {
  if (Array.isArray(error)) return { errors: error };
  if (error instanceof Error) return { message: error.message };
  if (error && typeof error === 'object') {
    if ('code' in error && 'reason' in error) {
      return { close: { code: error.code, reason: String(error.reason) } };
    }
    if (error.error instanceof Error) return { message: error.error.message };
    if (typeof error.message === 'string') return { message: error.message };
  }
  return { message: String(error) };
}

function main() {
  const opts = options();
  let received = 0;
  let done = false;
  let open = false;
  let unsubscribe = () => {};
  let timer;
  let closed;
  const socketClosed = new Promise((resolve) => {
    closed = resolve;
  });

  const client = createClient({
    url: opts.url,
    webSocketImpl: WebSocket,
    lazy: true,
    retryAttempts: 0, // a test wants to hear about a dropped socket, not a reconnect
    shouldRetry: () => false,
    connectionParams: opts.authorization ? { authorization: opts.authorization } : undefined,
    on: {
      opened: () => {
        open = true;
      },
      connected: () => line({ connected: true }),
      closed: () => {
        open = false;
        closed();
      },
    },
  });

  const end = (code, message) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    if (message !== undefined) line(message);
    // Send `complete` and close the socket with 1000, giving the close handshake a moment
    // so the server sees a clean goodbye; never wait long for it.
    const wasOpen = open;
    unsubscribe();
    Promise.resolve(client.dispose()).catch(() => {});
    const grace = new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS));
    (wasOpen ? Promise.race([socketClosed, grace]) : Promise.resolve()).then(() => finish(code));
  };

  timer = setTimeout(() => end(2, { timeout: opts.timeoutMs, received }), opts.timeoutMs);

  unsubscribe = client.subscribe(
    { query: opts.query, variables: opts.variables },
    {
      next: (payload) => {
        if (done) return;
        received += 1;
        line(payload);
        if (opts.count !== undefined && received >= opts.count) end(0);
      },
      error: (error) => end(1, { error: describe(error) }),
      complete: () => {
        if (opts.count === undefined) end(0);
        else {
          end(1, {
            error: { message: `the server completed after ${received} of ${opts.count} payloads` },
          });
        }
      },
    },
  );
}

main();
