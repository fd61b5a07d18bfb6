// GraphiQL for Chronicle, served by Chronicle itself: the page (api/graphql/ide.py) loads this
// bundle and nothing else, and everything it loads later (chunks, Monaco's workers) comes from
// the same folder on the same origin.
import { explorerPlugin } from '@graphiql/plugin-explorer';
import '@graphiql/plugin-explorer/style.css';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL, HISTORY_PLUGIN } from 'graphiql';
import 'graphiql/style.css';
import { createRoot } from 'react-dom/client';

import './index.css';

// Each worker's hashed file name, put here by build.mjs.
const workers = WORKER_FILES;

globalThis.MonacoEnvironment = {
  getWorker(_workerId, label) {
    const file = workers[label] ?? workers.editor;
    return new Worker(new URL(file, import.meta.url), { name: label });
  },
};

const endpoint = new URL('/graphql', window.location.href);
const socket = new URL(endpoint);
socket.protocol = endpoint.protocol === 'https:' ? 'wss:' : 'ws:';

const fetcher = createGraphiQLFetcher({
  url: endpoint.href,
  subscriptionUrl: socket.href,
  // Chronicle answers no @defer or @stream: one JSON answer per request.
  enableIncrementalDelivery: false,
});

// GraphiQL sends the headers editor's headers with each HTTP request and, for subscriptions,
// as the WebSocket's connectionParams, where Chronicle looks up the key `authorization`
// exactly: lower-casing the names makes "Authorization" work there too.
function withLowerCaseHeaders(params, options) {
  const headers = options?.headers &&
    Object.fromEntries(Object.entries(options.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return fetcher(params, headers ? { ...options, headers } : options);
}

const plugins = [HISTORY_PLUGIN, explorerPlugin()];

createRoot(document.getElementById('graphiql')).render(
  <GraphiQL fetcher={withLowerCaseHeaders} plugins={plugins} defaultEditorToolsVisibility />,
);
