#!/usr/bin/env node
// Loads a TimelineJS export in TimelineJS itself, in Debian's chromium, the way a newsroom
// page would: a page on another origin (a static server of this script's own, on 127.0.0.1,
// serving the @knight-lab/timelinejs package's dist/) fetches the export URL across origins
// and calls `new TL.Timeline('timeline-embed', data)`. Prints one JSON object; the caller
// judges:
//
//   export                 {status, content_type, cors, error}  the page's fetch of the URL
//                          (error: the fetch or JSON parse failed, e.g. no CORS header)
//   tl_loaded              window.TL.Timeline is a function (timeline.js ran)
//   events                 events in the fetched JSON (null if it has no events list)
//   ready                  TimelineJS fired "ready" (its layout is built)
//   config_errors          TimelineJS's own validation errors of the data
//   message                the error message TimelineJS shows in place of a timeline, if any
//   markers                rendered .tl-timemarker elements (one per event on the time nav)
//   slides                 rendered .tl-slide elements other than the title slide
//   marker_ids             the unique_id of each marker, in order
//   screenshot             the PNG saved, with --screenshot
//   console, page_errors, external_requests, failed_requests   as in browser_check.mjs
//
//   node timelinejs_check.mjs --export http://127.0.0.1:8000/export/x/timelinejs.json
//       [--screenshot PNG] [--timeout-ms 15000]
//
// Exit codes: 0 with a report, 1 on an unexpected failure, 3 when chromium is missing or
// does not start, 64 on bad arguments.

import { createReadStream, mkdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';

import { errorText, fail, inspectWithBrowser, record, settle } from './browser.mjs';

const SCRIPT = 'timelinejs_check.mjs';
const DIST = join(
  dirname(createRequire(import.meta.url).resolve('@knight-lab/timelinejs/package.json')),
  'dist',
);
const TYPES = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.eot': 'application/vnd.ms-fontobject',
};
const USAGE = `usage: node timelinejs_check.mjs --export URL [--screenshot PNG]
       [--timeout-ms 15000]`;

function options() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        export: { type: 'string' },
        screenshot: { type: 'string' },
        'timeout-ms': { type: 'string', default: '15000' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    fail(SCRIPT, `${error.message}\n${USAGE}`, 64);
  }
  if (!values.export) fail(SCRIPT, `--export is required\n${USAGE}`, 64);
  try {
    new URL(values.export);
  } catch {
    fail(SCRIPT, `not a URL: ${values.export}\n${USAGE}`, 64);
  }
  const timeoutMs = Number(values['timeout-ms']);
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    fail(SCRIPT, `--timeout-ms must be positive\n${USAGE}`, 64);
  }
  return { exportUrl: values.export, screenshot: values.screenshot ?? null, timeoutMs };
}

/** The page a newsroom would write; the export URL goes in as a JSON string. */
function page(exportUrl) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>TimelineJS check</title>
<link rel="stylesheet" href="/tl/css/timeline.css">
<script src="/tl/js/timeline.js"></script>
<style>html, body { margin: 0; } #timeline-embed { width: 100%; height: 650px; }</style>
</head>
<body>
<div id="timeline-embed"></div>
<script>
window.__check = { export: {}, ready: false, done: false, events: null, tl_loaded: false };
(async () => {
  const check = window.__check;
  check.tl_loaded = typeof window.TL === 'object' && typeof window.TL.Timeline === 'function';
  let data;
  try {
    const response = await fetch(${JSON.stringify(exportUrl)});
    check.export.status = response.status;
    check.export.content_type = response.headers.get('content-type');
    data = await response.json();
  } catch (error) {
    check.export.error = String(error);
    check.done = true;
    return;
  }
  check.events = Array.isArray(data && data.events) ? data.events.length : null;
  if (!check.tl_loaded) { check.done = true; return; }
  try {
    const timeline = new TL.Timeline('timeline-embed', data,
      // font: null, or TimelineJS loads its default fonts from Google's servers.
      { script_path: location.origin + '/tl/js/', font: null });
    window.__timeline = timeline;
    timeline.on('ready', () => { check.ready = true; check.done = true; });
  } catch (error) {
    check.constructor_error = String(error && error.stack || error);
    check.done = true;
  }
})();
</script>
</body>
</html>
`;
}

/** Serves the page at / and the TimelineJS package's dist/ at /tl/; nothing else. */
function serve(html) {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url, 'http://x').pathname);
    if (path === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(html);
      return;
    }
    if (path.startsWith('/tl/')) {
      const file = normalize(join(DIST, path.slice('/tl/'.length)));
      let stat = null;
      try {
        stat = file.startsWith(DIST + sep) ? statSync(file) : null;
      } catch {
        stat = null;
      }
      if (stat?.isFile()) {
        response.writeHead(200, {
          'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
          'content-length': stat.size,
        });
        createReadStream(file).pipe(response);
        return;
      }
    }
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('not found');
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolvePromise(server));
  });
}

async function inspect(browser, origin, opts) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const log = await record(context, [origin, opts.exportUrl]);
  const tab = await context.newPage();
  tab.setDefaultTimeout(opts.timeoutMs);
  const out = { export_url: opts.exportUrl, navigation_error: null };
  try {
    await tab.goto(`${origin}/`, { waitUntil: 'load', timeout: opts.timeoutMs });
    try {
      // done: ready fired, or nothing more will happen (fetch failed, no TL, TL threw), or
      // TimelineJS rejected the data (it then shows a message and never fires ready).
      await tab.waitForFunction(() => window.__check.done ||
        (window.__timeline?.config && !window.__timeline.config.isValid()),
      null, { timeout: opts.timeoutMs, polling: 100 });
      out.timed_out = false;
    } catch {
      out.timed_out = true;
    }
    const state = await tab.evaluate(() => window.__check);
    if (state.ready && state.events > 0) {
      // The markers are built before "ready"; wait anyway rather than race a slow layout.
      await tab.waitForSelector('.tl-timemarker', { state: 'attached', timeout: opts.timeoutMs }).catch(() => {});
    }
    await settle(tab, 3000);
    if (opts.screenshot) {
      mkdirSync(dirname(resolve(opts.screenshot)), { recursive: true });
      await tab.screenshot({ path: opts.screenshot });
      out.screenshot = resolve(opts.screenshot);
    }
    Object.assign(out, await tab.evaluate(() => {
      const check = window.__check;
      const timeline = window.__timeline;
      const message = document.querySelector('.tl-message-content');
      const markers = [...document.querySelectorAll('#timeline-embed .tl-timemarker')];
      return {
        export: check.export,
        tl_loaded: check.tl_loaded,
        events: check.events,
        ready: check.ready,
        constructor_error: check.constructor_error ?? null,
        config_errors: timeline?.config?.getErrors?.().map(String) ?? null,
        message: message && message.offsetParent !== null && !check.ready
          ? message.innerText.trim() : null,
        markers: markers.length,
        slides: document.querySelectorAll(
          '#timeline-embed .tl-slide:not(.tl-slide-titleslide)').length,
        marker_ids: markers.map((m) => m.id.replace(/-marker$/, '')),
      };
    }));
  } catch (error) {
    out.navigation_error = errorText(error);
  } finally {
    await context.close();
  }
  return { ...out, ...log };
}

async function main() {
  const opts = options();
  const server = await serve(page(opts.exportUrl));
  const origin = `http://127.0.0.1:${server.address().port}`;
  try {
    await inspectWithBrowser(SCRIPT, (browser) => inspect(browser, origin, opts));
  } finally {
    server.close();
  }
}

main().catch((error) => fail(SCRIPT, error?.stack ?? error));
