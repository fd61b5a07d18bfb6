"""The documentation is of this repository: its links resolve inside it, and every GraphQL
example in it is valid against the schema."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md"), ROOT / "bench" / "README.md"])
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
GRAPHQL_BLOCK = re.compile(r"```graphql\n(.*?)```", re.DOTALL)


def ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


@pytest.mark.parametrize("doc", DOCS, ids=ids(DOCS))
def test_every_link_resolves_inside_the_repository(doc: Path) -> None:
    text = doc.read_text()
    for target in LINK.findall(text):
        assert not target.startswith(("http://", "https://", "mailto:")), (
            f"{doc.name} links out of the repository: {target}; say it in words")
        if target.startswith("#"):
            continue
        path = (doc.parent / target.split("#", 1)[0]).resolve()
        assert path.is_relative_to(ROOT), f"{doc.name} links outside the repository: {target}"
        assert path.exists(), f"{doc.name} links to a missing {target}"
    assert "shared/" not in text.replace("bench/peers", ""), f"{doc.name} names ../shared"


@pytest.mark.parametrize("doc", DOCS, ids=ids(DOCS))
def test_every_graphql_example_is_valid_against_the_schema(doc: Path) -> None:
    schema = build_schema((ROOT / "schema.graphql").read_text())
    for block in GRAPHQL_BLOCK.findall(doc.read_text()):
        errors = validate(schema, parse(block))
        assert not errors, f"{doc.name}: {errors[0].message}\n{block}"


def test_ci_runs_the_readme_test_command_as_written() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    command = re.search(r'README_TESTS="(.*)"', ci)
    assert command is not None
    assert f"```sh\n{command[1]}\n```" in (ROOT / "README.md").read_text()
