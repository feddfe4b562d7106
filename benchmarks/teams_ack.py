"""Ack latency of a Teams message: N signed activities posted to the real server.

The server runs with an app id and tenant allowlist; tokens are signed by the fake Bot Connector
(tests/fakes), which also takes the replies. Works on the botbuilder commit and on the Agents
SDK one, so two worktrees can be measured back to back in one run:

    .venv/bin/python benchmarks/teams_ack.py --n 200
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.adapters.teams import auth as teams_auth  # noqa: E402
from tests.fakes.bot_connector import FakeBotConnector, load_activity, post_activity  # noqa: E402
from tests.support import make_settings, running_bot  # noqa: E402

APP_ID = "00000000-0000-0000-0000-0000000b0771"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def offline(monkeypatch: pytest.MonkeyPatch, fake: FakeBotConnector) -> str:
    if hasattr(teams_auth, "build_token_source"):  # Agents SDK
        from tests.fakes.bot_connector import offline_bot_framework

        offline_bot_framework(monkeypatch, fake, token="bench-token")
        return "agents-sdk"
    monkeypatch.setattr("botframework.connector.auth.channel_validation.ChannelValidation."
                        "open_id_metadata_endpoint", f"{fake.url}/.well-known/openid-configuration")
    monkeypatch.setattr(teams_auth, "build_credential_factory",
                        lambda _s: teams_auth.FixedTokenCredentialFactory(APP_ID, "bench-token"))
    return "botbuilder"


async def main(n: int) -> None:
    with FakeBotConnector() as fake, tempfile.TemporaryDirectory() as tmp, \
            pytest.MonkeyPatch.context() as monkeypatch:
        sdk = offline(monkeypatch, fake)
        settings = make_settings(Path(tmp), env={"MICROSOFT_APP_ID": APP_ID,
                                                 "MICROSOFT_APP_PASSWORD": "unused"},
                                 teams={"tenants": [TENANT]})
        async with running_bot(settings) as bot:
            timings = []
            for i in range(n + 5):
                activity = load_activity("personal_message", fake.url + "/", text="help",
                                         id=f"bench-{i}")
                token = fake.token(app_id=APP_ID, service_url=activity["serviceUrl"])
                started = time.perf_counter()
                status, _ = await post_activity(bot.url, activity, token=token)
                elapsed = time.perf_counter() - started
                assert status == 200, status
                if i >= 5:  # the first few warm caches (signing keys, connections)
                    timings.append(elapsed * 1000)
            await fake.wait_for_sends(n + 5, timeout=30)
    timings.sort()
    print(f"{sdk}: n={n} ack ms median={statistics.median(timings):.1f} "
          f"p95={timings[int(len(timings) * 0.95) - 1]:.1f} max={timings[-1]:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    asyncio.run(main(parser.parse_args().n))
