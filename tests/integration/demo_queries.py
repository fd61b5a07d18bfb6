"""GraphQL reads of the demo timeline (examples/khasham-2018.ndjson) that several tests
compare before and after something: a restore, a rebuild, the response cache."""

from __future__ import annotations

# Everything a reader sees of the timeline, on either clock, and the sources.
READS = """query($asOf: DateTime, $axis: Axis = RECORDED) {
  timeline(slug: "khasham-2018", asOf: $asOf, axis: $axis) { version
    entries(first: 500) { nodes { id title occurred { start end precision }
      reports { id status stance reportedAt recordedAt quote }
      facts { attribute value { ... on Count { best low high } ... on Text { text }
              ... on TimeSpan { start end precision } ... on Place { name } ... on Flag { flag } }
              low high highOpen disputed status explanation
              reports { report { id } weight role } } } } }
  sources { id name reliability } }"""
