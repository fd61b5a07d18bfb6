// The load generator of bench/reads.py and bench/live_reads.py: autocannon POSTing one
// GraphQL body.
//
// usage: node load.mjs CONFIG.json
//
// CONFIG: {"url", "body" (the JSON request body, a string), "connections", "duration" (s),
// "expect" (the exact response body every answer must have), "nonce" (true: each request
// gets its own `variables: {"nonce": "<pid>-<ms>-<n>"}`, so no answer can come from a
// response cache)}.
// When the answers change while the load runs (bench/live_reads.py writes meanwhile),
// "expect" is null and "check" says what every answer must look like instead:
// {"prefix", "suffix" (the answer must start and end with these), "minLength" (at least so
// many characters), "forbid" (a string it must not contain, e.g. "\"errors\"")}.
// Prints autocannon's result (histograms left out) as one JSON line on stdout; a response
// whose body differs from "expect" (or fails "check") counts in `mismatches`.
import { readFileSync } from 'node:fs'
import autocannon from 'autocannon'

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const run = `${process.pid}-${Date.now()}` // nonces never repeat across runs either
let nonce = 0
const request = config.nonce
  ? {
      setupRequest: (req) => {
        const body = JSON.parse(config.body)
        body.variables = { ...body.variables, nonce: `${run}-${++nonce}` }
        return { ...req, body: JSON.stringify(body) }
      }
    }
  : {}

function checked (check) {
  return (body) =>
    body.length >= check.minLength &&
    body.startsWith(check.prefix) &&
    body.endsWith(check.suffix) &&
    !body.includes(check.forbid)
}

const result = await autocannon({
  url: config.url,
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/json' },
  body: config.body,
  requests: [request],
  connections: config.connections,
  duration: config.duration,
  verifyBody: config.expect == null ? checked(config.check) : (body) => body === config.expect
})
const { histograms, ...rest } = result
process.stdout.write(JSON.stringify(rest) + '\n')
