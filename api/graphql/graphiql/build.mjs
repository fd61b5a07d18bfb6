#!/usr/bin/env node
// Bundles GraphiQL into ../static/graphiql (npm run build): Monaco's three workers first, then
// the page's script and style, each file named by its content's hash so it can be cached for
// good. manifest.json tells api/graphql/ide.py which script and style the page loads.

import { rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT = join(HERE, '..', 'static', 'graphiql');
// By the label Monaco asks for (src/index.jsx falls back to the editor worker).
const WORKERS = {
  editor: 'monaco-editor/esm/vs/editor/editor.worker.js',
  json: 'monaco-editor/esm/vs/language/json/json.worker.js',
  graphql: 'monaco-graphql/esm/graphql.worker.js',
};
const COMMON = {
  absWorkingDir: HERE,
  bundle: true,
  minify: true,
  target: ['chrome111', 'firefox111', 'safari16.4'],
  legalComments: 'linked',
  outdir: OUT,
  entryNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
};

// graphiql/style.css has Monaco's styles already: the CSS files Monaco's modules import
// would only add them again, in chunks that nothing loads.
const skipMonacoCss = {
  name: 'skip-monaco-css',
  setup(builder) {
    builder.onResolve({ filter: /\.css$/ }, ({ path, importer }) =>
      importer.includes('/node_modules/monaco-editor/') ? { path, namespace: 'skipped' } : undefined);
    builder.onLoad({ filter: /.*/, namespace: 'skipped' }, () => ({ contents: '', loader: 'js' }));
  },
};

await rm(OUT, { recursive: true, force: true });

const workers = await build({
  ...COMMON,
  entryPoints: Object.entries(WORKERS).map(([label, path]) => ({ in: path, out: `${label}.worker` })),
  format: 'iife',
});
const workerFiles = {};
for (const [file, output] of Object.entries(workers.metafile.outputs)) {
  const label = Object.keys(WORKERS).find((l) => output.entryPoint?.endsWith(WORKERS[l]));
  if (label) workerFiles[label] = basename(file);
}
if (Object.keys(workerFiles).length !== Object.keys(WORKERS).length) {
  throw new Error(`a worker is missing from the build: ${JSON.stringify(workerFiles)}`);
}

const page = await build({
  ...COMMON,
  entryPoints: ['src/index.jsx'],
  chunkNames: 'chunk-[hash]',
  assetNames: '[name]-[hash]',
  format: 'esm',
  splitting: true,
  jsx: 'automatic',
  plugins: [skipMonacoCss],
  define: { ...COMMON.define, WORKER_FILES: JSON.stringify(workerFiles) },
});
const [script, { cssBundle }] = Object.entries(page.metafile.outputs)
  .find(([, output]) => output.entryPoint === 'src/index.jsx');
const manifest = { script: basename(script), style: basename(cssBundle) };
await writeFile(join(OUT, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`${OUT}: ${JSON.stringify({ ...manifest, workers: workerFiles })}`);
