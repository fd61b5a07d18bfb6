"""The checkpoint signer: configured, or made once in the data directory and kept."""

from __future__ import annotations

import logging
import stat
import threading
from pathlib import Path

import pytest

from api.services import signing_key
from api.services.signed_notes import Signer, generate
from api.services.signing_key import KEY_FILE, load_signer, log_origin
from api.settings import Settings

LOGGER = "api.services.signing_key"


def settings(data_dir: Path, **values: object) -> Settings:
    return Settings(data_dir=data_dir, **values)  # type: ignore[arg-type]


def test_a_key_is_made_on_first_start_and_kept(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = load_signer(settings(data_dir, public_url="https://news.example/chronicle/"))
    assert first.name == "news.example/chronicle"
    path = data_dir / KEY_FILE
    assert path.read_text() == first.text() + "\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in data_dir.iterdir()) == [KEY_FILE]
    assert load_signer(settings(data_dir, public_url="https://news.example/chronicle/")) \
        == first


def test_without_a_public_url_the_key_is_named_for_localhost(tmp_path: Path) -> None:
    assert load_signer(settings(tmp_path)).name == "localhost/chronicle"


def test_a_key_made_by_another_process_meanwhile_wins(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    theirs = generate("localhost/chronicle")

    def generate_after_them(name: str) -> Signer:
        # The other process links its key in after we found no file, before we link ours.
        (tmp_path / KEY_FILE).write_text(theirs.text() + "\n")
        return generate(name)

    monkeypatch.setattr(signing_key, "generate", generate_after_them)
    assert load_signer(settings(tmp_path)) == theirs
    assert (tmp_path / KEY_FILE).read_text() == theirs.text() + "\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [KEY_FILE]


def test_processes_starting_together_end_with_one_key(tmp_path: Path) -> None:
    start = threading.Barrier(8)
    signers: list[Signer] = []

    def starting() -> None:
        start.wait()
        signers.append(load_signer(settings(tmp_path)))

    threads = [threading.Thread(target=starting) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(signers) == 8 and len(set(s.text() for s in signers)) == 1
    assert (tmp_path / KEY_FILE).read_text() == signers[0].text() + "\n"


def test_a_configured_key_wins_and_nothing_is_written(tmp_path: Path) -> None:
    configured = generate("localhost/chronicle")
    load_signer(settings(tmp_path / "first"))
    assert load_signer(settings(tmp_path / "first", signer_key=configured.text())) \
        == configured
    assert load_signer(settings(tmp_path / "second",
                                signer_key=f"  {configured.text()}\n")) == configured
    assert not (tmp_path / "second").exists()


def test_the_key_comes_from_the_environment(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    configured = generate("news.example/log")
    monkeypatch.setenv("CHRONICLE_SIGNER_KEY", configured.text())
    monkeypatch.setenv("CHRONICLE_LOG_ORIGIN", "news.example/log")
    monkeypatch.setenv("CHRONICLE_CHECKPOINT_EVERY_EVENTS", "250")
    monkeypatch.setenv("CHRONICLE_CHECKPOINT_EVERY_SECONDS", "2.5")
    from_env = Settings.from_env(data_dir=tmp_path)
    assert load_signer(from_env) == configured
    assert (from_env.checkpoint_every_events, from_env.checkpoint_every_seconds) == (250, 2.5)
    assert configured.text() not in repr(from_env)
    defaults = Settings()
    assert (defaults.checkpoint_every_events, defaults.checkpoint_every_seconds) == (1000, 60)
    monkeypatch.setenv("CHRONICLE_CHECKPOINT_EVERY_SECONDS", "soon")
    with pytest.raises(ValueError, match="CHRONICLE_CHECKPOINT_EVERY_SECONDS must be a number"):
        Settings.from_env()


def test_a_malformed_configured_key_fails_naming_the_setting(tmp_path: Path) -> None:
    good = generate("localhost/chronicle").text()
    secret = good.split("+", 4)[4]  # base64 key data may itself contain "+"
    for bad in ("not a key", good.replace("PRIVATE+KEY+", ""), good[:-4],
                good.replace("+localhost/", "+elsewhere/")):
        with pytest.raises(ValueError, match="CHRONICLE_SIGNER_KEY is not a signer key: ") \
                as refused:
            load_signer(settings(tmp_path, signer_key=bad))
        assert secret[:20] not in str(refused.value)
    assert not (tmp_path / KEY_FILE).exists()


def test_a_malformed_key_file_fails_naming_it(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE).write_text("garbage\n")
    with pytest.raises(ValueError, match=f"{KEY_FILE} does not hold a signer key"):
        load_signer(settings(tmp_path))


def test_the_verifier_key_is_logged_for_operators(tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    signer = load_signer(settings(tmp_path))
    published = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert f"checkpoint verifier key: {signer.verifier().text()}" in published
    assert all(signer.text() not in r.getMessage() for r in caplog.records)
    caplog.clear()
    load_signer(settings(tmp_path))
    assert f"checkpoint verifier key: {signer.verifier().text()}" in caplog.messages
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_key_not_named_for_the_origin_is_warned_about(tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    configured = generate("old.example/log")
    load_signer(settings(tmp_path, signer_key=configured.text(), log_origin="new.example/log"))
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "old.example/log" in warning.getMessage()
    assert "new.example/log" in warning.getMessage()


def test_the_origin_is_configured_or_from_the_public_url(tmp_path: Path) -> None:
    assert log_origin(settings(tmp_path)) == "localhost/chronicle"
    assert log_origin(settings(tmp_path, public_url="https://news.example/c/")) \
        == "news.example/c"
    assert log_origin(settings(tmp_path, public_url="https://news.example/c/",
                               log_origin="log.news.example")) == "log.news.example"
    with pytest.raises(ValueError, match="CHRONICLE_LOG_ORIGIN 'a b' cannot name the log: it "
                                         "contains a space"):
        log_origin(settings(tmp_path, log_origin="a b"))
    with pytest.raises(ValueError, match=r"gives the origin 'news\.example/a\+b'.*; set "
                                         r"CHRONICLE_LOG_ORIGIN"):
        log_origin(settings(tmp_path, public_url="https://news.example/a+b"))
