"""``teams.cloud``: each Microsoft cloud's issuer and Bot Connector hosts; nothing outside them.

An activity names the serviceUrl the bot answers to (with its token), so a serviceUrl outside the
configured cloud is refused (403 + audit) before any turn, and the outbox posts only inside it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.adapters.teams.admission import Admission
from bot.adapters.teams.auth import auth_configuration
from bot.adapters.teams.clouds import CLOUDS, ServiceUrlPolicy
from bot.config.settings import ConfigError
from bot.db.idempotency import save_reference
from bot.db.models import ConversationReference
from bot.messages import Destination, Reply
from bot.outbox.transport import PermanentSendError
from tests.fakes.bot_connector import FakeBotConnector, load_activity, post_activity
from tests.support import make_settings, running_bot

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
PUBLIC = "https://smba.trafficmanager.net/amer/"
GCC = "https://smba.infra.gcc.teams.microsoft.com/teams/"
GCCH = "https://smba.infra.gov.teams.microsoft.us/teams/"
DOD = "https://smba.infra.dod.teams.microsoft.us/teams/"


@pytest.mark.parametrize(("cloud", "allowed"), [
    ("public", PUBLIC), ("gcc", GCC), ("gcch", GCCH), ("dod", DOD)])
def test_each_cloud_accepts_only_its_own_connector(cloud: str, allowed: str) -> None:
    policy = ServiceUrlPolicy(CLOUDS[cloud])
    assert policy.allows(allowed)
    others = {PUBLIC, GCC, GCCH, DOD} - {allowed}
    assert [url for url in others if policy.allows(url)] == []


@pytest.mark.parametrize("url", [
    "http://smba.trafficmanager.net/amer/",             # not https
    "https://smba.trafficmanager.net.evil.example/",     # suffix trick
    "https://evilsmba.trafficmanager.net/",              # not a subdomain
    "https://user:pw@smba.trafficmanager.net/amer/",     # credentials
    "https://127.0.0.1:8443/", "http://localhost:3978/", "https://[::1]/",
    "https://169.254.169.254/latest/meta-data/", "https://10.0.0.5/",
    "https://smba.trafficmanager.net:99999/", "not a url", "",
])
def test_production_policy_refuses_everything_else(url: str) -> None:
    assert not ServiceUrlPolicy(CLOUDS["public"]).allows(url)


def test_loopback_only_in_demo_mode(tmp_path: Path) -> None:
    production = Admission.from_settings(make_settings(tmp_path, demo=False))
    demo = Admission.from_settings(make_settings(tmp_path))
    assert not production.service_urls.allows("http://127.0.0.1:3978/")
    assert demo.service_urls.allows("http://127.0.0.1:3978/")
    assert not demo.service_urls.allows("http://10.1.2.3/")  # loopback, not "private"


def test_gcc_accepts_a_gcc_activity_and_refuses_a_public_one(tmp_path: Path) -> None:
    admission = Admission.from_settings(make_settings(tmp_path, teams={"cloud": "gcc"}))
    activity = load_activity("personal_message", GCC)
    assert admission.refusal(activity) is None
    refused = admission.refusal({**activity, "serviceUrl": PUBLIC})
    assert refused is not None and "gcc" in refused.reason


def test_government_clouds_use_azure_government_identity(tmp_path: Path) -> None:
    env = {"MICROSOFT_APP_ID": "00000000-0000-0000-0000-0000000b0771",
           "MICROSOFT_APP_PASSWORD": "x"}
    gcch = auth_configuration(make_settings(tmp_path, env, teams={"cloud": "gcch",
                                                                  "tenants": [TENANT]}))
    gcc = auth_configuration(make_settings(tmp_path, env, teams={"cloud": "gcc",
                                                                 "tenants": [TENANT]}))
    assert gcch.ISSUERS == ["https://api.botframework.us"] and gcch.VALIDATE_ISSUER
    assert gcch.AUTHORITY and gcch.AUTHORITY.startswith("https://login.microsoftonline.us/")
    assert gcc.ISSUERS == ["https://api.botframework.com"]
    assert gcc.AUTHORITY and gcc.AUTHORITY.startswith("https://login.microsoftonline.com/")


def test_unknown_cloud_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cloud"):
        make_settings(tmp_path, teams={"cloud": "china"})


async def test_gcc_bot_refuses_a_public_service_url_over_http(tmp_path: Path) -> None:
    with FakeBotConnector() as fake:
        async with running_bot(make_settings(tmp_path, teams={"cloud": "gcc"})) as bot:
            status, body = await post_activity(
                bot.url, load_activity("personal_message", PUBLIC, text="help"))
            async with bot.services.db.session() as session:
                audited = (await session.execute(sa.text(
                    "SELECT action, allowed, reason FROM audit_entry"))).all()
                references = (await session.execute(
                    sa.select(ConversationReference))).scalars().all()
            # Loopback is fine in demo mode: the fake connector still answers.
            assert (await post_activity(
                bot.url, load_activity("personal_message", fake.url + "/", text="help")))[0] == 200
    assert status == 403 and "cloud" in body["error"]
    assert [(a, bool(ok)) for a, ok, _ in audited] == [("teams.activity", False)]
    assert "gcc" in audited[0][2]
    assert references == []


async def test_outbox_never_posts_outside_the_cloud(tmp_path: Path) -> None:
    async with running_bot(make_settings(tmp_path, teams={"cloud": "gcch"})) as bot:
        reference = {"serviceUrl": PUBLIC, "channelId": "msteams",
                     "conversation": {"id": "a:1", "tenantId": TENANT},
                     "bot": {"id": "28:bot"}, "user": {"id": "29:u"}}
        await save_reference(bot.services.db, ConversationReference(
            key=f"teams:{TENANT}:a:1:u", platform="teams", workspace=TENANT, channel="a:1",
            user_id="u", reference=json.dumps(reference)))
        transport = bot.services.outbox.transports["teams"]
        with pytest.raises(PermanentSendError, match="gcch"):
            await transport.send(Destination.parse(f"teams:{TENANT}:@u"), Reply(text="hi"),
                                 key="k")
