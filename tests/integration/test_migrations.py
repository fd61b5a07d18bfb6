"""Migrations that fill new read-model columns from the log get them right."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Connection, text

from api.database import alembic_config, upgrade
from tests.integration.conftest import Api

CHANGED = ("SELECT string_agg(id || '=' || coalesce(to_char(changed_at AT TIME ZONE 'UTC', "
           "'YYYY-MM-DD HH24:MI'), '-'), ',' ORDER BY id) FROM reports")


def _downgrade_to_0004(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "0004")


async def test_changed_at_is_filled_from_the_log_for_reports_changed_before_0005(
        seeded: Api) -> None:
    report = {"timeline": "khasham", "entry": "tank", "attribute": "killed",
              "value": {"count": {"best": 5}}, "source": "pentagon", "stance": "CLAIMED",
              "reportedAt": "2018-02-08T12:00:00Z"}
    first = (await seeded.ok("reportFact", {**report, "id": "r1"}, "report { id }"))
    second = (await seeded.ok("reportFact", {**report, "id": "r2"}, "report { id }"))
    assert first["report"]["id"] == "r1" and second["report"]["id"] == "r2"
    await seeded.ok("correctReport", {"timeline": "khasham", "report": "r1",
                                      "value": {"count": {"best": 6}},
                                      "reportedAt": "2018-02-09T12:00:00Z"})
    await seeded.ok("retractReport", {"timeline": "khasham", "report": "r1", "reason": "x",
                                      "reportedAt": "2018-02-21T08:00:00Z"})
    assert await seeded.scalar(CHANGED) == "r1=2018-02-21 08:00,r2=-"

    async with seeded.engine.begin() as connection:
        await connection.run_sync(_downgrade_to_0004)
    await upgrade(seeded.engine)
    assert await seeded.scalar(CHANGED) == "r1=2018-02-21 08:00,r2=-"
    async with seeded.engine.connect() as connection:
        assert (await connection.execute(text("SELECT version_num FROM alembic_version"))
                ).scalar() == "0005"
