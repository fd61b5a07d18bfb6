// Shared by browser_check.mjs and timelinejs_check.mjs: Debian's chromium driven by
// playwright-core (never a browser that Playwright downloads), and a recorder for what a page
// did: console errors and warnings, uncaught errors, requests to other origins (aborted, so a
// test never reaches the internet) and failed requests.

import { existsSync } from 'node:fs';

import { chromium } from 'playwright-core';

/** The browser: CHROMIUM from the environment, else Debian's package. */
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
];

/** Exit code for a setup problem (no chromium, bad arguments are 64): the caller says so. */
export const EXIT_SETUP = 3;

export function fail(script, message, code = 1) {
  process.stderr.write(`${script}: ${message}\n`);
  process.exit(code);
}

export async function launch(script) {
  if (!existsSync(CHROMIUM)) {
    fail(script, `no chromium at ${CHROMIUM}: install Debian's package ` +
      '(apt-get install chromium) or set CHROMIUM to its path', EXIT_SETUP);
  }
  try {
    return await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  } catch (error) {
    fail(script, `chromium at ${CHROMIUM} did not start: ${error?.message ?? error}`, EXIT_SETUP);
  }
  return null; // unreachable
}

/**
 * Launches chromium, runs `inspect(browser)`, closes the browser (also on failure) and
 * reports what `inspect` found, with the browser's version.
 */
export async function inspectWithBrowser(script, inspect) {
  const browser = await launch(script);
  try {
    const out = await inspect(browser);
    out.browser = browser.version();
    await browser.close();
    report(out);
  } catch (error) {
    await browser.close().catch(() => {});
    throw error;
  }
}

/** Whether a URL names a place on the network (not data:, blob:, about:, ...). */
function isNetwork(url) {
  return url.startsWith('http:') || url.startsWith('https:') || url.startsWith('ws:') ||
    url.startsWith('wss:');
}

function originOf(url) {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/**
 * Records what happens on pages of `context`; requests to an origin outside `origins` are
 * recorded and aborted before they leave the machine.
 */
export async function record(context, origins) {
  const allowed = new Set(origins.map(originOf));
  const log = {
    console: [],
    page_errors: [],
    external_requests: [],
    failed_requests: [],
  };
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (isNetwork(url) && !allowed.has(originOf(url))) {
      log.external_requests.push({ url, resource_type: route.request().resourceType() });
      return route.abort('blockedbyclient');
    }
    return route.continue();
  });
  // WebSockets do not go through route(): they are recorded, not stopped.
  context.on('page', (page) => watch(page, allowed, log));
  for (const page of context.pages()) watch(page, allowed, log);
  return log;
}

function watch(page, allowed, log) {
  page.on('console', (message) => {
    const type = message.type();
    if (type === 'error' || type === 'warning') {
      const { url, lineNumber } = message.location();
      log.console.push({ type, text: message.text(), location: url ? `${url}:${lineNumber}` : null });
    }
  });
  page.on('pageerror', (error) => {
    log.page_errors.push({ message: error.message, stack: error.stack ?? null });
  });
  page.on('websocket', (socket) => {
    if (!allowed.has(originOf(socket.url().replace(/^ws/, 'http')))) {
      log.external_requests.push({ url: socket.url(), resource_type: 'websocket' });
    }
  });
  page.on('requestfailed', (request) => {
    const url = request.url();
    if (!isNetwork(url) || !allowed.has(originOf(url))) return; // external ones: listed above
    log.failed_requests.push({ url, error: request.failure()?.errorText ?? 'failed' });
  });
  page.on('response', (response) => {
    if (response.status() >= 400) {
      log.failed_requests.push({ url: response.url(), status: response.status() });
    }
  });
}

/** Waits for network idle; a page that keeps a request open (SSE, polling) says so. */
export async function settle(page, timeoutMs) {
  try {
    await page.waitForLoadState('networkidle', { timeout: timeoutMs });
    return true;
  } catch {
    return false;
  }
}

/** An error's message without the terminal colours Playwright puts in its call logs. */
export function errorText(error) {
  return String(error?.message ?? error).replace(/\x1b\[[0-9;]*m/g, '');
}

/** Prints the report and exits 0 once stdout has drained. */
export function report(value) {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`, () => process.exit(0));
}
