"""Questions kept for curators carry no personal data; gaps are grouped and ranked."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from app.services import build_services
from bot.config.settings import Settings
from bot.db.engine import Database
from bot.messages import Action, IncomingMessage, Sender
from handlers.faq.handler import FaqHandler
from handlers.faq.service import list_gaps
from tests.support import make_settings, migrated


def _msg(text: str = "", user: str = "ann", **kw: object) -> IncomingMessage:
    return IncomingMessage(sender=Sender("webchat", "local", user), text=text, **kw)  # type: ignore[arg-type]


async def _questions(db: Database) -> list[tuple[str, str]]:
    async with db.engine.connect() as conn:
        rows = (await conn.execute(sa.text(
            "SELECT question, outcome FROM faq_question ORDER BY id"))).all()
    return [(r[0], r[1]) for r in rows]


async def test_abstained_questions_are_scrubbed_and_refusals_keep_no_text(tmp_path: Path) -> None:
    settings: Settings = make_settings(tmp_path)
    migrated(settings.env.DATABASE_URL)
    services = build_services(settings)
    handler = FaqHandler()
    try:
        reply = await handler.handle(_msg(
            "My name is Jane Doe, call 860-555-1234 or jane@example.org about precinct maps"),
            services)
        assert reply.text.startswith("I don't have a vetted answer")
        assert "help@example.org" in reply.text  # the configured default contact
        await handler.handle(_msg("is bob at 12 elm st registered and what party is he"), services)
        rows = await _questions(services.db)
        assert rows[0][1] == "abstained"
        for secret in ("Jane", "Doe", "860-555-1234", "jane@example.org"):
            assert secret not in rows[0][0]
        assert "precinct maps" in rows[0][0]
        assert rows[1] == ("", "refused")
    finally:
        await services.db.close()


async def test_gaps_group_abstentions_and_not_helpful_answers(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    migrated(settings.env.DATABASE_URL)
    services = build_services(settings)
    handler = FaqHandler()
    try:
        for text in ("how many precincts in Hartford?", "How many precincts in Hartford",
                     "what is the parking policy"):
            await handler.handle(_msg(text), services)
        answered = await handler.handle(_msg("what is the pause method"), services)
        no = next(b for b in answered.buttons if b.value.endswith(":no"))
        await handler.handle(_msg(action=Action(no.action_id, no.value), user="bob"), services)
        gaps = await list_gaps(db=services.db)
        assert gaps[0].count == 2
        assert "precincts" in gaps[0].example
        unhelpful = [g for g in gaps if g.not_helpful]
        assert len(unhelpful) == 1 and unhelpful[0].articles == {"ca-sample-pause"}
    finally:
        await services.db.close()
