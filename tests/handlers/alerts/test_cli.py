"""``electionbot network ...`` and ``electionbot alerts status``."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli.main import app
from tests.handlers.alerts.conftest import alert_settings


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # The CLI runs outside demo mode, so the app.yaml it reads names no webchat: destinations.
    settings = alert_settings(tmp_path, help_destinations=[], groups=[
        {"name": "clerks-ks", "tier": "T1", "members": [
            {"destination": "slack:T1:C55", "organisation": "Wichita Clerk", "jurisdiction": "KS"}]}])
    monkeypatch.setenv("ELECTIONBOT_CONFIG", str(settings.config_path))
    monkeypatch.setenv("DATABASE_URL", settings.env.DATABASE_URL)
    return tmp_path


def test_network_add_list_remove_import(env: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["network", "add", "clerks", "--tier", "T1", "slack:T1:C77",
                             "Topeka Clerk", "KS", "--backup", "slack:T1:@U9"])
    assert ok.exit_code == 0, ok.output
    listed = runner.invoke(app, ["network", "list"]).output
    assert "slack:T1:C77" in listed and "[cli]" in listed and "slack:T1:C55" in listed
    bad = runner.invoke(app, ["network", "add", "clerks", "--tier", "T1", "nowhere",
                              "X", "KS"])
    assert bad.exit_code == 1 and "destination" in bad.output
    assert runner.invoke(app, ["network", "remove", "clerks", "slack:T1:C77"]).exit_code == 0
    assert runner.invoke(app, ["network", "remove", "clerks", "slack:T1:C77"]).exit_code == 1
    csv_file = env / "net.csv"
    csv_file.write_text("group,tier,destination,organisation,jurisdiction,name,backup,people\n"
                        "partners,T3,teams:tenant1:conv1,Civic Group,CT,Desk,,"
                        "teams:tenant1:aad1\n", encoding="utf-8")
    imported = runner.invoke(app, ["network", "import", str(csv_file)])
    assert imported.exit_code == 0 and "imported 1" in imported.output
    assert "teams:tenant1:conv1" in runner.invoke(app, ["network", "list"]).output
    demo_name = runner.invoke(app, ["network", "add", "clerks", "--tier", "T1",
                                    "webchat:local:@anyone", "X", "KS"])
    assert demo_name.exit_code == 1 and "only in demo mode" in demo_name.output
    csv_file.write_text("group,tier,destination,organisation,jurisdiction,name,backup,people\n"
                        "partners,T3,slack:T1:C88,Civic Group,CT,Desk,webchat:local:@eve,\n",
                        encoding="utf-8")
    refused = runner.invoke(app, ["network", "import", str(csv_file)])
    assert refused.exit_code == 1 and "backup" in refused.output
    assert "slack:T1:C88" not in runner.invoke(app, ["network", "list"]).output
    assert runner.invoke(app, ["network", "add", "clerks", "--tier", "T1",
                               "webchat:local:@anyone", "X", "KS", "--demo"]).exit_code == 0
    missing = runner.invoke(app, ["alerts", "status", "AL-NOPE"])
    assert missing.exit_code == 1 and "No alert AL-NOPE" in missing.output
