"""Whose state an asker is in: the roster read is reused briefly, the staff role never."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import sqlalchemy as sa

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


async def test_one_read_also_reads_again_the_people_past_half_their_time(
        tmp_path: Path) -> None:
    services = _services(tmp_path)
    clock = Clock()
    askers = Askers(ttl=60.0, clock=clock)
    cal = Sender("webchat", "local", "cal")
    ask = {who: IncomingMessage(sender=who, text="when do polls open") for who in (ANN, BOSS, cal)}
    reads: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if f"FROM {Official.__table__.name}" in statement:  # type: ignore[attr-defined]
            reads.append(statement)
    sa.event.listen(services.db.engine.sync_engine, "before_cursor_execute", count)
    try:
        assert await askers.resolve(message=ask[ANN], services=services) == Asker(None, False)
        clock.now = 20.0  # Ann's entry is 20 s old: not read again with Cal's
        assert await askers.resolve(message=ask[cal], services=services) == Asker(None, False)
        assert len(reads) == 2
        await _on_roster(services.db, 1, cal.identity, "KS")
        await _on_roster(services.db, 2, ANN.identity, "KS")
        clock.now = 61.0  # Ann's entry ran out; Cal's (41 s old) is read again with it
        assert await askers.resolve(message=ask[ANN], services=services) == Asker("KS", False)
        assert len(reads) == 3
        clock.now = 62.0
        assert await askers.resolve(message=ask[cal], services=services) == Asker("KS", False)
        assert len(reads) == 3  # Cal's roster came with Ann's read, not one of its own
        await askers.resolve(message=ask[BOSS], services=services)  # new: read alone
        assert len(reads) == 4 and reads[-1].count("?") == 1
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
