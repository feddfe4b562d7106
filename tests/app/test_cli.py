"""The `electionbot` command as a user runs it: ask, kb, db, serve, reload, manifests."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support import FIXTURE_KB, free_port, write_config

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def cli(tmp: Path, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("SLACK_", "MICROSOFT_", "DATABASE_URL", "ELECTIONBOT_"))}
    clean.update({"ELECTIONBOT_CONFIG": str(tmp / "app.yaml"),
                  "DATABASE_URL": f"sqlite:///{tmp / 'bot.db'}", **env})
    return subprocess.run([sys.executable, "-m", "app", *args], env=clean, input=stdin,
                          capture_output=True, text=True, timeout=120, cwd=tmp)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb)
    write_config(tmp_path, knowledge_path=str(kb))
    return tmp_path


def test_ask_json_contract_and_stdin_batch(home: Path) -> None:
    result = cli(home, "ask", "--json", "-",
                 stdin="what is the pause method\n\nwho should I vote for\nparking rules?\n")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["answered"] for r in rows] == [True, False, False]
    for row in rows:
        assert {"question", "answered", "article_id", "title", "answer", "confidence",
                "sources"} <= set(row)
        assert 0.0 <= row["confidence"] <= 1.0
    assert rows[0]["article_id"] == "ca-sample-pause" and rows[0]["sources"][0]["seed"]
    assert "nonpartisan" in rows[1]["answer"]
    assert rows[2]["answer"].startswith("I don't have a vetted answer")


def test_ask_text_mode_cites_source(home: Path) -> None:
    result = cli(home, "ask", "what does pause stand for")
    assert "Source: California Secretary of State" in result.stdout
    assert "Applies to: California · Reviewed 20" in result.stdout


def test_ask_text_mode_labels_a_spanish_answer_in_spanish(home: Path) -> None:
    result = cli(home, "ask", "¿qué es el método pause?")
    assert "Fuente: California Secretary of State" in result.stdout
    assert "Jurisdicción: California · Revisado 20" in result.stdout and "Source:" not in result.stdout


def test_ask_text_mode_shows_the_911_line_and_what_an_abstention_offers(home: Path) -> None:
    result = cli(home, "ask", "-", stdin="we got a bomb threat, what's the procedure\n"
                                         "¿qué es el método pause?\nparking lot is blocked\n"
                                         "parking rules?\n")
    assert result.returncode == 0, result.stderr
    danger, spanish, parking, rules = result.stdout.split("\n" + "-" * 40 + "\n")
    assert danger.startswith("CALL 911 NOW")  # a danger is named: 911 first, and only there
    assert "911 NOW" not in spanish + parking and "LLAME" not in spanish + parking
    assert "· confianza 0.9" in spanish and "confidence" not in spanish
    safety = "Reporting something happening now? If anyone is in danger, call 911 first."
    assert parking.rstrip().endswith(safety)  # may tell of something happening
    assert "I don't have" in rules and "911" not in rules  # a plain question: no 911 line
    assert safety not in spanish  # an answer is not an abstention
    assert safety not in danger  # already led by the 911 line
    # and where to report it, as the chat's "Report an incident" button does
    assert danger.rstrip().endswith('report it: /incident in Slack or Teams, or "Report an '
                                    'incident" in the web chat.')
    assert "/incident" not in parking + rules + spanish


def test_db_upgrade_is_idempotent_and_errors_are_one_line(home: Path) -> None:
    assert cli(home, "db", "upgrade").stdout.startswith("ok")
    assert cli(home, "db", "upgrade").stdout.startswith("ok")
    bad = cli(home, "db", "upgrade", DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/x")
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: database upgrade failed")
    assert "Traceback" not in bad.stderr


def test_kb_check_reports_file_and_line(home: Path) -> None:
    assert cli(home, "kb", "check").stdout.startswith("ok: 2 articles (1 approved, 1 draft)")
    path = home / "kb" / "ca-sample-pause.md"
    path.write_text(path.read_text().replace("jurisdiction: CA", "jurisdiction: XX"))
    result = cli(home, "kb", "check")
    assert result.returncode == 1
    assert f"{path}:" in result.stderr and "XX" in result.stderr


def test_kb_eval_scores_and_writes_json(home: Path) -> None:
    questions = home / "q.jsonl"
    questions.write_text("\n".join(json.dumps(x) for x in [
        {"q": "what is the pause method", "expect_any": ["votesure"]},
        {"q": "what is the pause method", "expect_any": ["no such phrase"]},
        {"q": "who will win the governor race", "expect": "abstain", "kind": "partisan"},
    ]))
    result = cli(home, "kb", "eval", str(questions), "--json", str(home / "out.json"))
    assert "in-scope: 1/2 (50.0%)" in result.stdout
    assert "abstain:  1/1" in result.stdout
    figures = json.loads((home / "out.json").read_text())
    assert figures["misses"][0]["line"] == 2
    # a held-out set's questions stay unread: figures only, on screen and in the file
    quiet = cli(home, "kb", "eval", str(questions), "--figures-only", "--json",
                str(home / "quiet.json"))
    assert "in-scope: 1/2 (50.0%)" in quiet.stdout and "pause" not in quiet.stdout
    assert "pause" not in (home / "quiet.json").read_text()
    assert json.loads((home / "quiet.json").read_text())["misses"] == 1
    questions.write_text('{"q": "x"}\nnot json\n')
    broken = cli(home, "kb", "eval", str(questions))
    assert broken.returncode == 1 and "q.jsonl:1" in broken.stderr
    # Scoring reads the base (and its index cache) only: no database, no audit key.
    assert not (home / "bot.db").exists() and not list(home.rglob("*.key"))


@pytest.mark.parametrize("command", [("kb", "eval", "q.jsonl"), ("ask", "what is pause")])
def test_a_missing_knowledge_folder_is_one_clear_line(home: Path, command: tuple[str, ...]) -> None:
    (home / "q.jsonl").write_text('{"q": "what is the pause method", "expect_any": ["pause"]}\n')
    shutil.rmtree(home / "kb")
    (home / "kb").mkdir()
    result = cli(home, *command)
    assert result.returncode == 2, result.stderr
    assert "error: 1 problem(s) in the knowledge base" in result.stderr
    assert "no articles" in result.stderr
    assert "Traceback" not in result.stderr


def test_kb_gaps_lists_scrubbed_unanswered_questions(home: Path) -> None:
    assert "No gaps" in cli(home, "kb", "gaps").stdout


def test_manifests(home: Path) -> None:
    slack = cli(home, "manifest", "slack", "--url", "https://bot.example.gov")
    assert slack.returncode == 0 and "https://bot.example.gov/slack/events" in slack.stdout
    teams = cli(home, "manifest", "teams", "--out", str(home / "t.zip"))
    assert teams.returncode == 2
    assert all(key in teams.stderr for key in
               ("MICROSOFT_APP_ID", "office.privacy_url", "office.terms_url"))
    app_id = {"MICROSOFT_APP_ID": "00000000-0000-0000-0000-000000000001",
              "MICROSOFT_APP_TYPE": "SingleTenant", "MICROSOFT_APP_TENANT_ID": TENANT}
    teams = cli(home, "manifest", "teams", "--out", str(home / "t.zip"), **app_id)
    assert teams.returncode == 2 and "office.privacy_url" in teams.stderr
    assert "MICROSOFT_APP_ID" not in teams.stderr and not (home / "t.zip").exists()
    write_config(home, knowledge_path=str(home / "kb"),
                 office={"name": "Test Office", "state": "CT",
                         "privacy_url": "https://vote.example.gov/privacy",
                         "terms_url": "https://vote.example.gov/terms"})
    teams = cli(home, "manifest", "teams", "--out", str(home / "t.zip"), **app_id)
    assert teams.returncode == 0 and (home / "t.zip").stat().st_size > 0
    assert "Teams cloud public:" in teams.stdout and "portal.azure.com" in teams.stdout


def test_teams_cloud_is_named_with_where_to_register(home: Path) -> None:
    write_config(home, knowledge_path=str(home / "kb"),
                 teams={"cloud": "gcch", "tenants": [TENANT]},
                 office={"name": "Test Office", "state": "CT",
                         "privacy_url": "https://vote.example.gov/privacy",
                         "terms_url": "https://vote.example.gov/terms"})
    check = cli(home, "config", "check")
    assert check.returncode == 0, check.stderr
    assert "Teams cloud gcch: register the bot as an Azure Bot in Azure Government " \
        "(portal.azure.us)" in check.stdout
    assert "https://admin.gov.teams.microsoft.us" in check.stdout
    package = cli(home, "manifest", "teams", "--out", str(home / "t.zip"),
                  MICROSOFT_APP_ID="00000000-0000-0000-0000-000000000001")
    assert package.returncode == 0, package.stderr
    assert "https://admin.gov.teams.microsoft.us" in package.stdout


def test_slack_manifest_needs_a_public_url(home: Path) -> None:
    missing = cli(home, "manifest", "slack")
    assert missing.returncode == 2 and "--url" in missing.stderr and not missing.stdout
    assert "example.org" not in missing.stderr
    plain = cli(home, "manifest", "slack", "--url", "http://bot.example.gov")
    assert plain.returncode == 2 and "https://" in plain.stderr
    write_config(home, knowledge_path=str(home / "kb"),
                 webchat={"public_url": "https://chat.example.gov"})
    configured = cli(home, "manifest", "slack")
    assert configured.returncode == 0, configured.stderr
    assert "https://chat.example.gov/slack/events" in configured.stdout


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - loopback only
        return json.loads(resp.read())


def _wait_for(predicate, timeout: float = 30.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


def test_serve_health_and_kb_reload_by_signal(home: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "MICROSOFT_", "DATABASE_URL", "ELECTIONBOT_"))}
    env.update({"ELECTIONBOT_CONFIG": str(home / "app.yaml"),
                "DATABASE_URL": f"sqlite:///{home / 'bot.db'}"})
    server = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)],
                              env=env, cwd=home, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        health = f"http://127.0.0.1:{port}/healthz"
        _wait_for(lambda: _get(health)["status"] == "ok")
        assert _get(health)["knowledge"]["articles"] == 2
        # A broken edit is refused and the old base keeps serving.
        (home / "kb" / "zz-broken.md").write_text("no front matter")
        assert cli(home, "kb", "reload").returncode == 1
        assert _get(health)["knowledge"]["articles"] == 2
        (home / "kb" / "zz-broken.md").unlink()
        new = (FIXTURE_KB / "ca-sample-pause.md").read_text().replace(
            "id: ca-sample-pause", "id: ca-sample-copy").replace(
            "  - what is the pause method\n  - what does pause stand for\n",
            "  - copy question one\n").replace("[qué es el método pause]", "[copia]")
        (home / "kb" / "ca-sample-copy.md").write_text(new)
        reload = cli(home, "kb", "reload")
        assert reload.returncode == 0, reload.stderr
        _wait_for(lambda: _get(health)["knowledge"]["articles"] == 3)
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=20)
    assert "xoxb" not in err
    assert not (home / "data" / "electionbot.pid").exists()
