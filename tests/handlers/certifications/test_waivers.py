"""``electionbot cert waive`` / ``unwaive``: a recorded state staff decision; status exempt."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli.main import app as cli
from bot.config.settings import Settings
from tests.handlers.certifications.platform_support import COMPLETIONS, ROSTER, cert_settings, cli_env


@pytest.fixture
def staff(tmp_path: Path) -> tuple[Settings, CliRunner]:
    settings = cert_settings(tmp_path)
    runner = CliRunner()
    roster, done = tmp_path / "officials.csv", tmp_path / "completions.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    done.write_text(COMPLETIONS, encoding="utf-8")
    for args in (["roster", "import", str(roster)], ["completions", "import", str(done)]):
        assert runner.invoke(cli, args, env=cli_env(settings)).exit_code == 0
    return settings, runner


def run(staff: tuple[Settings, CliRunner], *args: str) -> tuple[int, str, str]:
    settings, runner = staff
    result = runner.invoke(cli, ["cert", *args], env=cli_env(settings))
    return result.exit_code, result.stdout, result.stderr


def exempt_count(staff: tuple[Settings, CliRunner]) -> int:
    code, out, _ = run(staff, "report", "--format", "csv")
    assert code == 0
    header, row = out.splitlines()[:2]
    return int(dict(zip(header.split(","), row.split(","), strict=True))["exempt"])


def waiver_rows(settings: Settings) -> list[tuple[str, str, str, str | None, str | None]]:
    path = settings.env.DATABASE_URL.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT reason, granted_by, granted_at, revoked_by, revoked_at "
                            "FROM cert_waiver ORDER BY id").fetchall()


Staff = tuple[Settings, CliRunner]


def test_waive_makes_the_official_exempt_and_unwaive_ends_it(staff: Staff) -> None:
    assert exempt_count(staff) == 0
    code, out, _ = run(staff, "waive", "ks-pat", "ks-clerk", "--reason", "medical leave",
                       "--until", "2099-06-30", "--by", "slack:T0TEST:UBOSS")
    assert code == 0, out
    assert out.strip() == ("ok: ks-pat is exempt from KS-CLERK until 2099-06-30 "
                           "(by slack:T0TEST:UBOSS)")
    assert exempt_count(staff) == 1
    [(reason, by, at, revoked_by, revoked_at)] = waiver_rows(staff[0])
    assert (reason, by, revoked_by, revoked_at) == ("medical leave", "slack:T0TEST:UBOSS",
                                                    None, None)
    assert at is not None

    code, _, err = run(staff, "waive", "ks-pat", "KS-CLERK", "--reason", "again")
    assert code == 1 and err.count("\n") == 1
    assert "already exempt from KS-CLERK until 2099-06-30 (granted by slack:T0TEST:UBOSS" in err

    code, out, _ = run(staff, "unwaive", "ks-pat", "KS-CLERK", "--by", "cli:ann")
    assert code == 0 and "no longer exempt" in out
    assert exempt_count(staff) == 0
    [(_, _, _, revoked_by, revoked_at)] = waiver_rows(staff[0])
    assert revoked_by == "cli:ann" and revoked_at is not None
    code, _, err = run(staff, "unwaive", "ks-pat", "KS-CLERK")
    assert code == 1 and err == "error: ks-pat has no active waiver for KS-CLERK\n"

    code, out, _ = run(staff, "waive", "ks-lee", "KS-CLERK", "--reason", "retiring")
    assert code == 0 and "indefinitely (by cli:" in out
    assert exempt_count(staff) == 1


@pytest.mark.parametrize(("args", "message"), [
    (["waive", "ks-pat", "KS-CLERK"], "error: --reason is required: say why the official is "
                                      "exempt"),
    (["waive", "ks-pat", "KS-CLERK", "--reason", " "], "error: --reason is required"),
    (["waive", "ks-pat", "KS-CLERK", "--reason", "x", "--until", "2027-13-01"],
     "error: --until must be a date like 2027-06-30, got '2027-13-01'"),
    (["waive", "ks-pat", "KS-CLERK", "--reason", "x", "--until", "2001-01-01"],
     "error: --until 2001-01-01 is in the past"),
    (["waive", "nobody", "KS-CLERK", "--reason", "x"], "error: no official 'nobody' on the roster"),
    (["waive", "ks-pat", "NOPE", "--reason", "x"],
     "error: unknown program 'NOPE'; known: CERA, CT-ROV, KS-CLERK"),
    (["waive", "ks-pat", "CERA", "--reason", "x"],
     "error: ks-pat has no CERA assignment on the roster"),
    (["unwaive", "ks-pat", "KS-CLERK"], "error: ks-pat has no active waiver for KS-CLERK"),
])
def test_invalid_waivers_fail_with_one_clear_line(staff: Staff, args: list[str],
                                                   message: str) -> None:
    code, out, err = run(staff, *args)
    assert code == 1
    assert err.startswith(message) and err.count("\n") == 1, err
    assert out == ""
    assert waiver_rows(staff[0]) == []
