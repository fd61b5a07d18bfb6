"""chronicle keys generate: run in-process with typer's runner; it needs no database."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from api.cli.commands import app
from api.services.signed_notes import Signer, Verifier, open_note, sign_note

runner = CliRunner()


def test_keys_generate_prints_the_signer_then_the_verifier() -> None:
    result = runner.invoke(app, ["keys", "generate", "example.com/log"])
    assert result.exit_code == 0, result.output
    signer_line, verifier_line = result.stdout.splitlines()
    assert result.stdout == f"{signer_line}\n{verifier_line}\n"
    signer = Signer.from_text(signer_line)
    verifier = Verifier.from_text(verifier_line)
    assert signer.name == verifier.name == "example.com/log"
    assert signer.verifier() == verifier
    assert open_note(sign_note("hello\n", signer), [verifier]) == "hello\n"
    assert "CHRONICLE_SIGNER_KEY" in result.stderr and "secret" in result.stderr
    assert signer_line not in result.stderr
    again = runner.invoke(app, ["keys", "generate", "example.com/log"])
    assert again.stdout.splitlines()[0] != signer_line


@pytest.mark.parametrize(("name", "problem"), [("", "it is empty"),
                                               ("example.com/my log", "contains a space"),
                                               ("example.com/a+b", "contains '+'")])
def test_keys_generate_refuses_a_bad_name_in_one_line(name: str, problem: str) -> None:
    result = runner.invoke(app, ["keys", "generate", name])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and problem in result.stderr, result.stderr
