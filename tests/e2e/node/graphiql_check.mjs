#!/usr/bin/env node
// Opens Chronicle's GraphiQL (GET /graphql in a browser) in Debian's chromium and uses it as a
// person would: waits for the editor, opens the documentation explorer and then the query
// root type, optionally puts an authorization header in the headers editor, types a query and
// runs it. Prints one JSON object; the caller judges:
//
//   status, csp            the page's HTTP status and Content-Security-Policy
//   editor                 the operation editor (Monaco) rendered
//   docs_button            the "Show Documentation Explorer" button was there
//   root_types             the explorer's root types, e.g. ["query: Query", ...]
//   query_fields           the fields of the query root type, as the explorer lists them
//   docs_error             the explorer's error instead (e.g. "Error fetching schema")
//   result                 the response editor's text after running --query
//   graphql_posts          each POST to /graphql: {authorization, operation} (its header
//                          and operationName or the start of its query)
//   requests               every request the page made (page.on('request') and WebSockets):
//                          {url, method, resource_type}
//   step                   the step that failed, with step_error, or null
//   screenshot             the PNG saved, with --screenshot
//   console, page_errors, external_requests, failed_requests   as in browser_check.mjs
//
//   node graphiql_check.mjs --url http://127.0.0.1:8000/graphql --query '{ timelines { slug } }'
//       [--authorization 'Bearer ...'] [--screenshot PNG] [--timeout-ms 30000]
//
// Exit codes: 0 with a report, 1 on an unexpected failure, 3 when chromium is missing or
// does not start, 64 on bad arguments.

import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { errorText, fail, inspectWithBrowser, record } from './browser.mjs';

const SCRIPT = 'graphiql_check.mjs';
const USAGE = `usage: node graphiql_check.mjs --url URL --query QUERY [--authorization VALUE]
       [--screenshot PNG] [--timeout-ms 30000]`;

function options() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        url: { type: 'string' },
        query: { type: 'string' },
        authorization: { type: 'string' },
        screenshot: { type: 'string' },
        'timeout-ms': { type: 'string', default: '30000' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    fail(SCRIPT, `${error.message}\n${USAGE}`, 64);
  }
  if (!values.url || !values.query) fail(SCRIPT, `--url and --query are required\n${USAGE}`, 64);
  try {
    new URL(values.url);
  } catch {
    fail(SCRIPT, `not a URL: ${values.url}\n${USAGE}`, 64);
  }
  const timeoutMs = Number(values['timeout-ms']);
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    fail(SCRIPT, `--timeout-ms must be positive\n${USAGE}`, 64);
  }
  return { ...values, timeoutMs };
}

/** Replaces the text of the Monaco editor inside `container`, as typed by a person. */
async function typeInto(tab, container, text) {
  await tab.locator(`${container} .monaco-editor`).first().click();
  await tab.keyboard.press('ControlOrMeta+A');
  await tab.keyboard.press('Backspace');
  // One input event: typing key by key would let Monaco close brackets and quotes itself.
  await tab.keyboard.insertText(text);
}

/** The visible text of a Monaco editor (it renders spaces as no-break spaces). */
async function editorText(tab, container) {
  const text = await tab.locator(`${container} .view-lines`).first().innerText();
  return text.replace(/\u00a0/g, ' ');
}

async function use(tab, opts, out) {
  const step = async (name, action) => {
    out.step = name;
    await action();
  };
  await step('open the page', async () => {
    const response = await tab.goto(opts.url, { waitUntil: 'load' });
    out.status = response?.status() ?? null;
    out.csp = (await response?.allHeaders())?.['content-security-policy'] ?? null;
  });
  await step('wait for the editor', async () => {
    await tab.locator('.graphiql-query-editor .monaco-editor').first().waitFor();
    out.editor = true;
  });
  await step('open the documentation explorer', async () => {
    const button = tab.getByRole('button', { name: 'Show Documentation Explorer' });
    await button.waitFor();
    out.docs_button = true;
    await button.click();
    await tab.locator('.graphiql-doc-explorer-root-type, .graphiql-doc-explorer-error')
      .first().waitFor();
    const error = tab.locator('.graphiql-doc-explorer-error');
    if (await error.count()) {
      out.docs_error = (await error.first().innerText()).trim();
      throw new Error(`the documentation explorer says: ${out.docs_error}`);
    }
    out.root_types = (await tab.locator('.graphiql-doc-explorer-root-type')
      .evaluateAll((spans) => spans.map((span) => span.parentElement.innerText)))
      .map((text) => text.replace(/\s+/g, ' ').trim());
  });
  await step('open the query root type', async () => {
    await tab.locator('.graphiql-doc-explorer-root-type').first().locator('xpath=..')
      .locator('a').first().click();
    await tab.locator('.graphiql-doc-explorer-field-name').first().waitFor();
    out.query_fields = await tab.locator('.graphiql-doc-explorer-field-name').allInnerTexts();
  });
  if (opts.authorization) {
    await step('set the authorization header', async () => {
      await tab.getByRole('button', { name: 'Headers', exact: true }).click();
      await typeInto(tab, '.graphiql-editor-tool .graphiql-editor:not(.hidden)',
        JSON.stringify({ authorization: opts.authorization }));
    });
  }
  await step('run the query', async () => {
    await typeInto(tab, '.graphiql-query-editor', opts.query);
    await tab.locator('.graphiql-execute-button').click();
    await tab.waitForFunction(() => /"(data|errors)"/.test(
      document.querySelector('.result-window .view-lines')?.innerText ?? ''));
    out.result = await editorText(tab, '.result-window');
  });
  out.step = null;
}

async function inspect(browser, opts) {
  const origin = new URL(opts.url).origin;
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const log = await record(context, [origin]);
  const tab = await context.newPage();
  tab.setDefaultTimeout(opts.timeoutMs);
  const out = {
    url: opts.url, status: null, csp: null, editor: false, docs_button: false,
    root_types: [], query_fields: [], docs_error: null, result: null, graphql_posts: [],
    requests: [], step: null, step_error: null,
  };
  tab.on('request', (request) => {
    out.requests.push({ url: request.url(), method: request.method(),
      resource_type: request.resourceType() });
    if (request.method() === 'POST' && new URL(request.url()).pathname === '/graphql') {
      const body = request.postDataJSON() ?? {};
      out.graphql_posts.push({ authorization: request.headers().authorization ?? null,
        operation: body.operationName ?? String(body.query ?? '').slice(0, 60) });
    }
  });
  // Workers' own requests reach page.on('request') too; WebSockets do not.
  tab.on('websocket', (socket) => {
    out.requests.push({ url: socket.url(), method: 'GET', resource_type: 'websocket' });
  });
  try {
    await use(tab, opts, out);
  } catch (error) {
    out.step_error = errorText(error);
  }
  if (opts.screenshot) {
    mkdirSync(dirname(resolve(opts.screenshot)), { recursive: true });
    await tab.screenshot({ path: opts.screenshot }).catch(() => {});
    out.screenshot = resolve(opts.screenshot);
  }
  await context.close();
  return { ...out, ...log };
}

async function main() {
  const opts = options();
  await inspectWithBrowser(SCRIPT, (browser) => inspect(browser, opts));
}

main().catch((error) => fail(SCRIPT, error?.stack ?? error));
