"""Whose state an asker is in: the roster read is reused briefly, the staff role never."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from app.services import build_services
from bot.db.engine import Database
from bot.messages import IncomingMessage, Sender
from bot.services import Services
from handlers.certifications.models import Official
from handlers.faq.askers import Askers
from handlers.faq.scope import Asker
from tests.support import make_settings, migrated

ANN = Sender("webchat", "local", "ann")
BOSS = Sender("webchat", "local", "boss")  # state_staff in the test configuration


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def _on_roster(db: Database, n: int, identity: str, jurisdiction: str) -> None:
    async with db.session() as session:
        session.add(Official(external_id=f"o{n}", name="Official", identity=identity,
                             jurisdiction=jurisdiction, time_zone="America/New_York"))
        await session.commit()


def _services(tmp_path: Path, **config: object) -> Services:
    settings = make_settings(tmp_path, **config)
    migrated(settings.env.DATABASE_URL)
    return build_services(settings)


async def test_roster_jurisdiction_is_reused_within_the_ttl_then_read_again(
        tmp_path: Path) -> None:
    services = _services(tmp_path)
    clock = Clock()
    askers = Askers(ttl=60.0, clock=clock)
    ask = IncomingMessage(sender=ANN, text="when do polls open")
    try:
        assert await askers.resolve(message=ask, services=services) == Asker(None, False)
        await _on_roster(services.db, 1, ANN.identity, "KS")
        clock.now = 59.0  # an import in another process: not seen yet
        assert await askers.resolve(message=ask, services=services) == Asker(None, False)
        clock.now = 61.0
        assert await askers.resolve(message=ask, services=services) == Asker("KS", False)
        await _on_roster(services.db, 2, ANN.identity, "CA")  # two states: neither preferred
        assert await Askers(ttl=0.0).resolve(message=ask, services=services) == Asker(None, False)
    finally:
        await services.db.close()


async def test_the_staff_role_is_read_from_the_configuration_of_each_question(
        tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    services = _services(tmp_path / "a")
    askers = Askers(ttl=60.0, clock=Clock())
    ask = IncomingMessage(sender=BOSS, text="when do polls open")
    try:
        assert await askers.resolve(message=ask, services=services) == Asker("CT", True)
        demoted = replace(services, settings=make_settings(tmp_path / "b", roles={}))
        assert await askers.resolve(message=ask, services=demoted) == Asker(None, False)
    finally:
        await services.db.close()


async def test_configured_and_stated_jurisdictions_come_before_the_roster(
        tmp_path: Path) -> None:
    services = _services(tmp_path, incidents={"managers": {"CA": [ANN.identity]}})
    askers = Askers()
    try:
        await _on_roster(services.db, 1, ANN.identity, "KS")
        plain = IncomingMessage(sender=ANN, text="when do polls open")
        assert await askers.resolve(message=plain, services=services) == Asker("CA", False)
        stated = IncomingMessage(sender=ANN, text="when do polls open", jurisdiction="ct")
        assert await askers.resolve(message=stated, services=services) == Asker("CT", False)
    finally:
        await services.db.close()
