"""``electionbot network ...`` and ``electionbot alerts status``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli.main import app
from tests.handlers.alerts.conftest import alert_settings

HEADER = "group,tier,destination,organisation,jurisdiction,name,backup,people\n"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # The CLI runs outside demo mode, so the app.yaml it reads names no webchat: destinations.
    settings = alert_settings(tmp_path, help_destinations=[], groups=[
        {"name": "clerks-ks", "tier": "T1", "members": [
            {"destination": "slack:T1:C55", "organisation": "Wichita Clerk", "jurisdiction": "KS"},
            {"destination": "email:Desk@Topeka.Example.gov", "organisation": "Topeka Clerk",
             "jurisdiction": "KS"}]}])
    monkeypatch.setenv("ELECTIONBOT_CONFIG", str(settings.config_path))
    monkeypatch.setenv("DATABASE_URL", settings.env.DATABASE_URL)
    return tmp_path


def add(*args: str) -> list[str]:
    return ["network", "add", *args]


def members(runner: CliRunner) -> list[dict[str, str]]:
    listed = runner.invoke(app, ["network", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    return [json.loads(line) for line in listed.output.splitlines()]


def test_network_add_list_remove_import(env: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, add("--group", "clerks", "--tier", "T1", "--destination",
                                "slack:T1:C77", "--organisation", "Topeka Clerk",
                                "--jurisdiction", "KS", "--backup", "slack:T1:@U9"))
    assert ok.exit_code == 0, ok.output
    listed = runner.invoke(app, ["network", "list"]).output
    assert "slack:T1:C77" in listed and "[cli]" in listed and "slack:T1:C55" in listed
    bad = runner.invoke(app, add("--group", "clerks", "--tier", "T1", "--destination",
                                 "nowhere", "--organisation", "X"))
    assert bad.exit_code == 1 and "destination" in bad.output
    assert runner.invoke(app, ["network", "remove", "clerks", "slack:T1:C77"]).exit_code == 0
    assert runner.invoke(app, ["network", "remove", "clerks", "slack:T1:C77"]).exit_code == 1
    csv_file = env / "net.csv"
    csv_file.write_text(HEADER + "partners,T3,teams:tenant1:conv1,Civic Group,CT,Desk,,"
                        "teams:tenant1:aad1\n", encoding="utf-8")
    imported = runner.invoke(app, ["network", "import", str(csv_file)])
    assert imported.exit_code == 0 and "imported 1" in imported.output
    assert "teams:tenant1:conv1" in runner.invoke(app, ["network", "list"]).output
    demo_name = runner.invoke(app, add("--group", "clerks", "--tier", "T1", "--destination",
                                       "webchat:local:@anyone", "--organisation", "X"))
    assert demo_name.exit_code == 1 and "only in demo mode" in demo_name.output
    csv_file.write_text(HEADER + "partners,T3,slack:T1:C88,Civic Group,CT,Desk,"
                        "webchat:local:@eve,\n", encoding="utf-8")
    refused = runner.invoke(app, ["network", "import", str(csv_file)])
    assert refused.exit_code == 1 and f"{csv_file}:2: backup" in refused.output
    assert "slack:T1:C88" not in runner.invoke(app, ["network", "list"]).output
    assert runner.invoke(app, add("--group", "clerks", "--tier", "T1", "--destination",
                                  "webchat:local:@anyone", "--organisation", "X",
                                  "--demo")).exit_code == 0
    missing = runner.invoke(app, ["alerts", "status", "AL-NOPE"])
    assert missing.exit_code == 1 and "No alert AL-NOPE" in missing.output


def test_a_partner_with_only_an_email_address_is_added_in_one_command(env: Path) -> None:
    runner = CliRunner()
    added = runner.invoke(app, add("--group", "faith", "--tier", "T3", "--name", "Grace Church",
                                   "--organisation", "Grace Church", "--destination",
                                   "email:Office@Grace.Example.ORG"))
    assert added.exit_code == 0, added.output
    assert "added email:Office@grace.example.org (Grace Church) to faith" in added.output
    grace = [m for m in members(runner) if m["group"] == "faith"]
    assert grace == [{"group": "faith", "tier": "T3",
                      "destination": "email:Office@grace.example.org", "name": "Grace Church",
                      "organisation": "Grace Church", "jurisdiction": "CT",  # the office's
                      "backup": None, "people": [], "source": "cli"}]
    # The same mailbox spelled with another domain case is the same member.
    again = runner.invoke(app, add("--group", "faith", "--tier", "T3", "--organisation",
                                   "Grace Church", "--destination",
                                   "email:Office@GRACE.example.org"))
    assert again.exit_code == 1
    assert "email:Office@grace.example.org is already in group faith (added earlier)" in \
        again.output
    in_yaml = runner.invoke(app, add("--group", "clerks-ks", "--tier", "T1", "--organisation",
                                     "Topeka", "--destination", "email:Desk@topeka.example.GOV"))
    assert in_yaml.exit_code == 1 and "(app.yaml)" in in_yaml.output
    # Removing takes any spelling of the domain too.
    assert runner.invoke(app, ["network", "remove", "faith",
                               "email:Office@GRACE.EXAMPLE.ORG"]).exit_code == 0
    assert not [m for m in members(runner) if m["group"] == "faith"]


@pytest.mark.parametrize(("args", "says"), [
    (["--destination", "email:Grace Church <office@grace.example.org>"], "destination"),
    (["--destination", "email:office@grace"], "destination"),
    (["--destination", "email:office@grace.example.org", "--people", "slack:T1:U1"],
     "people: an e-mail member is one mailbox"),
    (["--destination", "email:office@grace.example.org", "--backup", "email:nobody"], "backup"),
])
def test_bad_email_members_are_refused_naming_the_field(env: Path, args: list[str],
                                                         says: str) -> None:
    runner = CliRunner()
    refused = runner.invoke(app, add("--group", "faith", "--tier", "T3", "--organisation",
                                     "Grace Church", *args))
    assert refused.exit_code == 1 and says in refused.output, refused.output
    assert "Traceback" not in refused.output
    assert not [m for m in members(runner) if m["group"] == "faith"]


def test_an_organisation_is_required(env: Path) -> None:
    refused = CliRunner().invoke(app, add("--group", "faith", "--tier", "T3", "--organisation",
                                          " ", "--destination", "email:office@grace.example.org"))
    assert refused.exit_code == 1 and "organisation" in refused.output


def test_import_names_every_bad_line_and_imports_nothing(env: Path) -> None:
    runner = CliRunner()
    csv_file = env / "partners.csv"
    csv_file.write_text(
        "\ufeff" + HEADER
        + "faith,T3,email:office@grace.example.org,Grace Church,,Office,,\n"          # 2 ok
        + "faith,T3,email:pastor@,Grace Church,,,,\n"                                 # 3 bad
        + "faith,T3,email:office@GRACE.example.org,Grace Church,,,,\n"                # 4 repeat
        + "faith,T9,email:desk@hope.example.org,Hope,,,,\n"                           # 5 tier
        + "faith,T3,email:desk@hope.example.org,,,,,\n"                               # 6 org
        + "faith,T3,email:desk@hope.example.org,Hope,,,email:backup@hope,\n",         # 7 backup
        encoding="utf-8")
    refused = runner.invoke(app, ["network", "import", str(csv_file)])
    assert refused.exit_code == 1
    out = refused.output
    assert f"{csv_file}:3: destination" in out
    assert f"{csv_file}:4: email:office@grace.example.org in group faith repeats line 2" in out
    assert f"{csv_file}:5: tier" in out and f"{csv_file}:6: organisation" in out
    assert f"{csv_file}:7: backup" in out and "5 bad line(s)" in out and "nothing imported" in out
    assert f"{csv_file}:2" not in out
    assert not [m for m in members(runner) if m["group"] == "faith"]

    csv_file.write_text(HEADER
                        + "faith,T3,email:office@grace.example.org,Grace Church,,Office,,\n"
                        + "faith,T3,email:desk@hope.example.org,Hope Pantry,CT,Desk,"
                        "slack:T1:@U7,\n", encoding="utf-8")
    imported = runner.invoke(app, ["network", "import", str(csv_file)])
    assert imported.exit_code == 0 and "imported 2 member(s)" in imported.output
    faith = {m["destination"]: m for m in members(runner) if m["group"] == "faith"}
    assert faith["email:desk@hope.example.org"]["backup"] == "slack:T1:@U7"
    assert faith["email:office@grace.example.org"]["organisation"] == "Grace Church"
    # Importing the same file again clashes by line, and adds nothing.
    twice = runner.invoke(app, ["network", "import", str(csv_file)])
    assert twice.exit_code == 1 and f"{csv_file}:3: email:desk@hope.example.org is already " \
        "in group faith (added earlier)" in twice.output
    assert len([m for m in members(runner) if m["group"] == "faith"]) == 2


def test_import_without_the_needed_columns_says_which(env: Path) -> None:
    csv_file = env / "short.csv"
    csv_file.write_text("group,destination\nfaith,email:a@b.example.org\n", encoding="utf-8")
    refused = CliRunner().invoke(app, ["network", "import", str(csv_file)])
    assert refused.exit_code == 1 and "missing column(s) tier, organisation" in refused.output
