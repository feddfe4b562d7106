"""The roster's ``email`` column: validated, stored in normal form, one address per official."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from app.cli.main import app as cli
from bot.db.engine import sync_url
from handlers.certifications.importer import parse_roster
from handlers.certifications.ledger import programs_for
from handlers.certifications.models import Official
from tests.handlers.certifications.conftest import CERT, ROLES
from tests.support import make_settings

HEAD = "external_id,name,identity,email,jurisdiction,program,role,took_office\n"


def _parse(tmp_path: Path, body: str, taken: dict[str, str] | None = None
           ) -> tuple[list[tuple[str, str | None, str]], list[str]]:
    app = make_settings(tmp_path, roles=ROLES, certification=CERT).app
    rows, errors = parse_roster(HEAD + body, app, programs_for(app), taken=taken)
    return [(r.external_id, r.identity, r.email) for r in rows], [str(e) for e in errors]


def test_an_address_is_stored_in_normal_form_and_email_alone_is_enough(tmp_path: Path) -> None:
    rows, errors = _parse(tmp_path, (
        "k1,Ann,,  Ann.Lee@Example.ORG ,KS,KS-CLERK,county_clerk,2025-01-13\n"
        "k2,Bo,,email:bo@example.org,KS,KS-CLERK,county_clerk,2025-01-13\n"
        "k3,Cy,webchat:local:cy,,KS,KS-CLERK,county_clerk,2025-01-13\n"
        "k4,Di,,,KS,KS-CLERK,county_clerk,2025-01-13\n"))
    assert errors == []
    assert rows == [("k1", None, "Ann.Lee@example.org"), ("k2", None, "bo@example.org"),
                    ("k3", "webchat:local:cy", ""), ("k4", None, "")]


@pytest.mark.parametrize("bad", [
    "not-an-address", "ann@", "Ann <ann@example.org>", "ann@example.org; bo@example.org",
    "ann@[192.0.2.1]", "\"ann lee\"@example.org", "ånn@exämple.org",
    "a" * 170 + "@example.org",
])
def test_a_bad_address_is_refused_with_its_line(tmp_path: Path, bad: str) -> None:
    quoted = '"' + bad.replace('"', '""') + '"'
    rows, errors = _parse(tmp_path, (
        "k1,Ann,,ann@example.org,KS,KS-CLERK,county_clerk,2025-01-13\n"
        f"k2,Bo,,{quoted},KS,KS-CLERK,county_clerk,2025-01-13\n"))
    assert [r[0] for r in rows] == ["k1"]
    assert len(errors) == 1 and errors[0].startswith("line 3: email")


def test_an_address_in_the_identity_column_is_pointed_to_the_email_column(
        tmp_path: Path) -> None:
    _rows, errors = _parse(tmp_path, (
        "k1,Ann,email:ann@example.org,,KS,KS-CLERK,county_clerk,2025-01-13\n"))
    assert errors == ["line 2: identity 'email:ann@example.org' is an e-mail address: put it "
                      "in the email column (identity is a chat identity, platform:workspace:user)"]


def test_one_address_per_official_and_one_official_per_address(tmp_path: Path) -> None:
    rows, errors = _parse(tmp_path, (
        "k1,Ann,,ann@example.org,KS,KS-CLERK,county_clerk,2025-01-13\n"
        "k1,Ann,,ann@example.org,KS,CERA,county_clerk,2025-01-13\n"   # same person, 2nd program
        "k2,Bo,,ANN@example.org,KS,KS-CLERK,county_clerk,2025-01-13\n"  # someone else's
        "k3,Cy,,cy@example.org,KS,KS-CLERK,county_clerk,2025-01-13\n"
        "k3,Cy,,cy2@example.org,KS,CERA,county_clerk,2025-01-13\n"),   # two addresses
        taken={"di@example.org": "k4", "ed@example.org": "k1"})
    assert [r[0] for r in rows] == ["k1", "k1", "k3"]
    assert errors == [
        "line 4: email is already k1's (line 2); each official needs their own address",
        "line 6: email differs from line 5 for k3 (one address per official)"]
    # The stored roster: an address stays with its official unless the file moves it.
    _rows, errors = _parse(tmp_path, (
        "k5,Eve,,di@example.org,KS,KS-CLERK,county_clerk,2025-01-13\n"
        "k6,Flo,,ed@example.org,KS,KS-CLERK,county_clerk,2025-01-13\n"),
        taken={"di@example.org": "k4", "ed@example.org": "k1"})
    assert errors == ["line 2: email is already k4's (the stored roster); each official needs "
                      "their own address",
                      "line 3: email is already k1's (the stored roster); each official needs "
                      "their own address"]
    _rows, errors = _parse(tmp_path, (
        "k1,Ann,,ann@example.org,KS,KS-CLERK,county_clerk,2025-01-13\n"
        "k6,Flo,,ed@example.org,KS,KS-CLERK,county_clerk,2025-01-13\n"),
        taken={"ed@example.org": "k1"})
    assert errors == []  # k1 moved to a new address in this very file


def test_a_refused_row_does_not_free_its_officials_stored_address(tmp_path: Path) -> None:
    # k1's only row is refused (unknown jurisdiction): k1 keeps ed@, so k6 may not take it,
    # wherever the rows stand in the file.
    for body in ("k6,Flo,,ed@example.org,KS,KS-CLERK,county_clerk,2025-01-13\n"
                 "k1,Ann,,ann@example.org,ZZ,KS-CLERK,county_clerk,2025-01-13\n",
                 "k1,Ann,,ann@example.org,ZZ,KS-CLERK,county_clerk,2025-01-13\n"
                 "k6,Flo,,ed@example.org,KS,KS-CLERK,county_clerk,2025-01-13\n"):
        rows, errors = _parse(tmp_path, body, taken={"ed@example.org": "k1"})
        assert rows == []
        assert len(errors) == 2
        assert any("email is already k1's (the stored roster)" in e for e in errors)
    # Refused for its own address (di@ is k4's): k1 again keeps ed@, even though k6's row
    # comes first and k1's refusal is only found on the way.
    rows, errors = _parse(tmp_path, (
        "k6,Flo,,ed@example.org,KS,KS-CLERK,county_clerk,2025-01-13\n"
        "k1,Ann,,di@example.org,KS,KS-CLERK,county_clerk,2025-01-13\n"
        "k7,Gus,,gus@example.org,KS,KS-CLERK,county_clerk,2025-01-13\n"),
        taken={"ed@example.org": "k1", "di@example.org": "k4"})
    assert [r[0] for r in rows] == ["k7"]
    assert errors == [
        "line 2: email is already k1's (the stored roster); each official needs their own "
        "address",
        "line 3: email is already k4's (the stored roster); each official needs their own "
        "address"]


def test_the_cli_stores_the_normal_form_and_refuses_a_taken_address(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(tmp_path, roles=ROLES, certification=CERT)
    monkeypatch.setenv("ELECTIONBOT_CONFIG", str(settings.config_path))
    monkeypatch.setenv("DATABASE_URL", settings.env.DATABASE_URL)
    first = tmp_path / "first.csv"
    first.write_text(HEAD + "k1,Ann,,Ann@Example.org,KS,KS-CLERK,county_clerk,2025-01-13\n",
                     encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["roster", "import", str(first)])
    assert result.exit_code == 0 and "1 created" in result.output
    assert "1 unchanged" in runner.invoke(cli, ["roster", "import", str(first)]).output
    second = tmp_path / "second.csv"
    second.write_text(HEAD + "k2,Bo,,ann@example.org,KS,KS-CLERK,county_clerk,2025-01-13\n"
                      "k3,Cy,,cy@,KS,KS-CLERK,county_clerk,2025-01-13\n", encoding="utf-8")
    result = runner.invoke(cli, ["roster", "import", str(second)])
    assert result.exit_code == 1 and "nothing imported" in result.output
    assert "REJECTED line 2: email is already k1's (the stored roster)" in result.output
    assert "REJECTED line 3: email:" in result.output
    engine = sa.create_engine(sync_url(settings.env.DATABASE_URL))
    with engine.connect() as conn:
        stored = conn.execute(sa.select(Official.external_id, Official.email)).all()
    engine.dispose()
    assert [tuple(r) for r in stored] == [("k1", "Ann@example.org")]
