"""Every read path of one timeline, asserted to answer: what an accepted write must never
break (present, as-of on both clocks, history, changes, the raw log, embeds, exports)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.conftest import Api

VALUE = """value { ... on Count { best low high } ... on Text { text }
  ... on TimeSpan { start end precision } ... on Place { name lat lon } ... on Flag { flag } }"""

TIMELINE = f"""query($slug: String!, $asOf: DateTime, $axis: Axis = RECORDED) {{
  timeline(slug: $slug, asOf: $asOf, axis: $axis) {{ slug title version
    entries(first: 500) {{ nodes {{ id title occurred {{ start end precision }}
      reports {{ id attribute stance status reportedAt recordedAt changedAt quote url
                 {VALUE} source {{ id name reliability }} via {{ id }} }}
      facts {{ attribute {VALUE} low high disputed status explanation
               alternatives {{ {VALUE} }} reports {{ report {{ id }} weight role }}
               history {{ {VALUE} disputed status event {{ position type }} }} }} }} }} }}
  sources {{ id name kind reliability }} }}"""

CHANGES = """query($slug: String!, $since: DateTime!, $axis: Axis!) {
  changes(slug: $slug, since: $since, axis: $axis) { entry attribute
    before { disputed } after { disputed } } }"""

LOG = """{ events(first: 500) { nodes { position type data recordedAt hash } }
  verifyLog { ok checked firstBadPosition } }"""

# Far past, the demo's own days, and far future, on both clocks.
MOMENTS = ("0001-01-01T00:00:00Z", "2018-02-10T00:00:00Z", "9999-12-31T00:00:00Z")
AXES = ("RECORDED", "REPORTED")


def _answered(body: dict[str, Any], what: str) -> dict[str, Any]:
    assert not body.get("errors"), f"{what}: {body['errors']}"
    data: dict[str, Any] = body["data"]
    return data


async def read_every_path(api: Api, slug: str) -> dict[str, Any]:
    """Run every read of ``slug``; returns the present timeline. Fails on any error."""
    present = _answered(await api.post(TIMELINE, {"slug": slug}), "present")
    assert present["timeline"] is not None, f"timeline {slug!r} is missing"
    for axis in AXES:
        for moment in MOMENTS:
            body = await api.post(TIMELINE, {"slug": slug, "asOf": moment, "axis": axis})
            if axis == "RECORDED" and moment < "2100" and body.get("errors"):
                # Before the timeline was recorded: a coded hint, never a failure.
                assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND", body
                continue
            _answered(body, f"as of {moment} on {axis}")
            if moment < "2100":  # changes since a future moment is a request error
                _answered(await api.post(CHANGES, {"slug": slug, "since": moment,
                                                   "axis": axis}),
                          f"changes since {moment} on {axis}")
    log = _answered(await api.post(LOG), "the raw log")
    assert log["verifyLog"]["ok"], log["verifyLog"]
    now = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for path in (f"/embed/{slug}", f"/embed/{slug}?asOf={now}",
                 f"/embed/{slug}?asOf=2018-02-10T00:00:00Z&axis=REPORTED",
                 f"/export/{slug}.csv", f"/export/{slug}/timelinejs.json",
                 f"/oembed?url=http://chronicle.test/embed/{slug}"):
        response = await api.client.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
    return present
