"""Roster and completion import validation: line numbers, all-or-nothing, idempotent CLI."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from app.cli.main import app as cli
from handlers.certifications.importer import parse_completions, parse_roster
from handlers.certifications.ledger import programs_for
from tests.handlers.certifications.conftest import CERT, ROLES
from tests.support import make_settings

ROSTER = """external_id,name,identity,jurisdiction,program,role,took_office
a1,Ann,webchat:local:ann,KS,KS-CLERK,county_clerk,2025-01-13
a2,Bob,,XX,KS-CLERK,county_clerk,2025-01-13
a3,Cy,,KS,KS-CLERK,county_clerk,2025-13-01
a1,Ann again,,KS,KS-CLERK,county_clerk,2025-01-13
a5,Di,slack:T1,KS,KS-CLERK,county_clerk,
a6,Ed,,CT,NOPE,registrar,
"""


def test_roster_rows_are_validated_with_line_numbers(tmp_path: Path) -> None:
    app = make_settings(tmp_path, roles=ROLES, certification=CERT).app
    rows, errors = parse_roster(ROSTER, app, programs_for(app))
    assert [r.external_id for r in rows] == ["a1"]
    text = [str(e) for e in errors]
    assert text[0].startswith("line 3: unknown jurisdiction 'XX'")
    assert text[1].startswith("line 4: bad date in took_office")
    assert text[2] == "line 5: duplicate of line 2 (a1 in KS-CLERK)"
    assert text[3].startswith("line 6: identity 'slack:T1'")
    assert text[4].startswith("line 7: unknown program 'NOPE'")


def test_completion_rows_are_validated() -> None:
    text = ("external_id,course,completed_on,hours\nk1,KS-Y1-PLAN,2025-04-10,\n"
            "k1,KS-NOPE,2025-04-10,\nk9,KS-Y1-PLAN,2025-04-10,\nk1,KS-Y1-PLAN,2025-4-1x,\n"
            "k1,KS-Y1-PLAN,2025-04-10,3\nk1,KS-ADV,2025-05-01,many\n")
    rows, errors = parse_completions(text, {"KS-Y1-PLAN": 3.0, "KS-ADV": 3.0}, {"k1"})
    assert [(r.course, r.hours) for r in rows] == [("KS-Y1-PLAN", 3.0)]
    assert [e.line for e in errors] == [3, 4, 5, 6, 7]
    assert "unknown course" in errors[0].message and "unknown official" in errors[1].message
    assert "bad date" in errors[2].message and "duplicate of line 2" in errors[3].message
    assert "bad hours" in errors[4].message


def test_cli_is_all_or_nothing_then_idempotent(tmp_path: Path, monkeypatch) -> None:
    settings = make_settings(tmp_path, roles=ROLES, certification=CERT)
    monkeypatch.setenv("ELECTIONBOT_CONFIG", str(settings.config_path))
    monkeypatch.setenv("DATABASE_URL", settings.env.DATABASE_URL)
    bad = tmp_path / "bad.csv"
    bad.write_text(ROSTER, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["roster", "import", str(bad)])
    assert result.exit_code == 1 and "nothing imported" in result.output
    good = tmp_path / "good.csv"
    good.write_text("\n".join(ROSTER.splitlines()[:2]) + "\n", encoding="utf-8")
    assert "1 created" in runner.invoke(cli, ["roster", "import", str(good)]).output
    assert "1 unchanged" in runner.invoke(cli, ["roster", "import", str(good)]).output
    done = tmp_path / "done.csv"
    done.write_text("external_id,course,completed_on\na1,KS-Y1-PLAN,2025-04-10\n", encoding="utf-8")
    assert "1 created" in runner.invoke(cli, ["completions", "import", str(done)]).output
    assert "1 unchanged" in runner.invoke(cli, ["completions", "import", str(done)]).output
    chart = tmp_path / "chart.png"
    report = runner.invoke(cli, ["cert", "report", "--format", "csv", "--chart", str(chart)])
    assert report.exit_code == 0 and report.output.startswith("jurisdiction,role,certified")
    assert "KS,county_clerk" in report.output
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = runner.invoke(cli, ["cert", "report"])
    assert table.exit_code == 0 and table.output.startswith("Jurisdiction  Role")
    assert "County clerk" in table.output and "county_clerk" not in table.output
    check = runner.invoke(cli, ["cert", "rules", "check"])
    assert check.exit_code == 0 and "KS-CLERK" in check.output
