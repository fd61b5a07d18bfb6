"""The demo timeline reads well: its three disagreements show, with sensible best values."""

from __future__ import annotations

from api.services.demo import DEMO_ACTOR, demo_path
from api.services.ndjson_import import import_file
from tests.conftest import ROOT
from tests.integration.conftest import Api

QUERY = (ROOT / "README.md").read_text().split("```graphql")[2].split("```")[0]


async def test_the_readme_example_answers_as_documented(api: Api) -> None:
    await import_file(api.services.intake, demo_path(), actor=DEMO_ACTOR)
    body = await api.post(QUERY)
    assert "errors" not in body, body
    timeline = body["data"]["timeline"]
    killed = timeline["strike"]["killed"]
    assert killed["value"] == {"best": 5, "low": 5, "high": 200}
    assert (killed["disputed"], killed["status"]) == (True, "CONTESTED")
    assert killed["explanation"].startswith("5 (Russian Ministry of Foreign Affairs, confirmed")
    day = timeline["tank"]["day"]
    assert day["value"] == {"start": "2018-02-10", "precision": "DAY"}
    assert (day["disputed"], day["status"]) == (True, "PREFERRED")
    weapon = timeline["tank"]["weapon"]
    assert weapon["value"] == {"text": "jet"}
    assert (weapon["disputed"], weapon["status"]) == (True, "CONTESTED")
    assert "outweighs drone" in weapon["explanation"]
    readme = (ROOT / "README.md").read_text()
    assert killed["explanation"] in readme and weapon["explanation"] in readme
