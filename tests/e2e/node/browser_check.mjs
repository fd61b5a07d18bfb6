#!/usr/bin/env node
// Opens a page in Debian's chromium at several widths and prints one JSON object describing
// it; the caller judges. For each of --widths (900 px high, a fresh browser context each):
//
//   status, navigation_error, network_idle   the document's HTTP status; whether it went idle
//   console                [{type: error|warning, text, location}]
//   page_errors            [{message, stack}]   uncaught exceptions
//   external_requests      [{url, resource_type}]  requests to any origin but the page's own
//                          (aborted: nothing leaves the machine)
//   failed_requests        [{url, error} | {url, status}]  network failures and HTTP >= 400
//   screenshot             DIR/<name>-<width>.png, the full page
//   scroll                 {horizontal, scroll_width, client_width}
//   probes                 lang, title, entries ([data-entry]), disputed ([data-disputed=
//                          "true"]), sources ([data-source]), corrections (.correction),
//                          main, header (landmarks present), first_disputed_text
//   axe                    {version, violations: [{id, impact, help, nodes, targets}]}
//   focus                  after each Tab: {tag, id, text, outline, box_shadow,
//                          focus_visible, visible_focus_style} (null: nothing focused)
//
// and for each of --scroll-widths only `scroll` (and status/navigation_error).
//
//   node browser_check.mjs --url http://127.0.0.1:8000/embed/x --widths 400,1000
//       --screenshots DIR [--scroll-widths 320] [--name embed] [--tabs 3] [--timeout-ms T]
//
// Exit codes: 0 with a report, 1 on an unexpected failure, 3 when chromium is missing or
// does not start, 64 on bad arguments.

import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { errorText, fail, inspectWithBrowser, record, settle } from './browser.mjs';

const SCRIPT = 'browser_check.mjs';
const HEIGHT = 900;
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const USAGE = `usage: node browser_check.mjs --url URL --widths 400,1000 --screenshots DIR
       [--scroll-widths 320] [--name embed] [--tabs 3] [--timeout-ms 15000]`;

function usage(message) {
  fail(SCRIPT, `${message}\n${USAGE}`, 64);
}

function widths(value, name) {
  const list = value.split(',').filter((w) => w.trim() !== '').map(Number);
  if (!list.every((w) => Number.isInteger(w) && w > 0)) usage(`--${name}: positive integers`);
  return list;
}

function options() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        url: { type: 'string' },
        widths: { type: 'string', default: '400,1000' },
        'scroll-widths': { type: 'string', default: '320' },
        screenshots: { type: 'string' },
        name: { type: 'string', default: 'embed' },
        tabs: { type: 'string', default: '3' },
        'timeout-ms': { type: 'string', default: '15000' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    usage(error.message);
  }
  if (!values.url) usage('--url is required');
  if (!values.screenshots) usage('--screenshots is required');
  try {
    new URL(values.url);
  } catch {
    usage(`not a URL: ${values.url}`);
  }
  const tabs = Number(values.tabs);
  if (!(Number.isInteger(tabs) && tabs >= 0)) usage('--tabs must be a whole number');
  const timeoutMs = Number(values['timeout-ms']);
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) usage('--timeout-ms must be positive');
  return {
    url: values.url,
    widths: widths(values.widths, 'widths'),
    scrollWidths: widths(values['scroll-widths'], 'scroll-widths'),
    screenshots: resolve(values.screenshots),
    name: values.name,
    tabs,
    timeoutMs,
  };
}

/** Opens the URL in a fresh context `width` px wide; the caller closes the context. */
async function open(browser, url, width, timeoutMs) {
  // bypassCSP: axe is injected as a script of the test's own, whatever the page allows.
  const context = await browser.newContext({
    viewport: { width, height: HEIGHT },
    bypassCSP: true,
    serviceWorkers: 'block',
  });
  const log = await record(context, [url]);
  const page = await context.newPage();
  page.setDefaultTimeout(timeoutMs);
  const result = { status: null, navigation_error: null, network_idle: null };
  try {
    const response = await page.goto(url, { waitUntil: 'load', timeout: timeoutMs });
    result.status = response?.status() ?? null;
    result.network_idle = await settle(page, timeoutMs);
  } catch (error) {
    result.navigation_error = errorText(error);
  }
  return { context, page, log, result };
}

function scroll(page) {
  return page.evaluate(() => {
    const root = document.documentElement;
    return {
      horizontal: root.scrollWidth > root.clientWidth,
      scroll_width: root.scrollWidth,
      client_width: root.clientWidth,
    };
  });
}

function probes(page) {
  return page.evaluate(() => {
    const count = (selector) => document.querySelectorAll(selector).length;
    const disputed = document.querySelector('[data-disputed="true"]');
    return {
      lang: document.documentElement.lang,
      title: document.title,
      entries: count('[data-entry]'),
      disputed: count('[data-disputed="true"]'),
      sources: count('[data-source]'),
      corrections: count('.correction'),
      main: document.querySelector('main, [role="main"]') !== null,
      header: document.querySelector('header, [role="banner"]') !== null,
      first_disputed_text: disputed ? disputed.innerText.replace(/\s+/g, ' ').trim() : null,
    };
  });
}

async function axe(page) {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => {
    const results = await window.axe.run(document);
    return {
      version: window.axe.version,
      violations: results.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.length,
        targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
      })),
    };
  });
}

/** Presses Tab `tabs` times; after each, what has focus and how it is drawn. */
async function focus(page, tabs) {
  const steps = [];
  for (let i = 0; i < tabs; i++) {
    await page.keyboard.press('Tab');
    steps.push(await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body || el === document.documentElement) return null;
      const style = getComputedStyle(el);
      const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
      const shadow = style.boxShadow !== 'none' && style.boxShadow !== '';
      return {
        tag: el.tagName.toLowerCase(),
        id: el.id || null,
        text: (el.textContent || el.getAttribute('aria-label') || '')
          .replace(/\s+/g, ' ').trim().slice(0, 80),
        outline: `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}`,
        box_shadow: style.boxShadow,
        focus_visible: el.matches(':focus-visible'),
        visible_focus_style: outline || shadow,
      };
    }));
  }
  return steps;
}

async function checkWidth(browser, opts, width) {
  const { context, page, log, result } = await open(browser, opts.url, width, opts.timeoutMs);
  try {
    if (result.navigation_error === null) {
      result.screenshot = join(opts.screenshots, `${opts.name}-${width}.png`);
      await page.screenshot({ path: result.screenshot, fullPage: true });
      result.scroll = await scroll(page);
      result.probes = await probes(page);
      result.axe = await axe(page);
      result.focus = await focus(page, opts.tabs);
    }
  } finally {
    await context.close();
  }
  return { ...result, ...log };
}

async function checkScroll(browser, opts, width) {
  const { context, page, result } = await open(browser, opts.url, width, opts.timeoutMs);
  try {
    if (result.navigation_error === null) result.scroll = await scroll(page);
  } finally {
    await context.close();
  }
  return result;
}

async function main() {
  const opts = options();
  mkdirSync(opts.screenshots, { recursive: true });
  await inspectWithBrowser(SCRIPT, async (browser) => {
    const out = { url: opts.url, widths: {}, scroll_widths: {} };
    for (const width of opts.widths) out.widths[width] = await checkWidth(browser, opts, width);
    for (const width of opts.scrollWidths) {
      out.scroll_widths[width] = await checkScroll(browser, opts, width);
    }
    return out;
  });
}

main().catch((error) => fail(SCRIPT, error?.stack ?? error));
