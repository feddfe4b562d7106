"""Router: commands by name, clicks by prefix, free text by claim, errors become replies."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.db.engine import Database
from bot.errors import Refused, Replayed, UserError
from bot.messages import Action, IncomingMessage, Reply, Sender
from bot.router import Router
from bot.services import Services
from knowledge.store import KnowledgeStore
from tests.support import FIXTURE_KB, make_settings


@dataclass
class FakeHandler:
    name: str
    command: str | None = None
    keywords: tuple[str, ...] = ()
    action_prefix: str = ""
    claims_text: bool = False
    fail: BaseException | None = None
    seen: list[IncomingMessage] = field(default_factory=list)

    def claims(self, message: IncomingMessage) -> bool:
        return self.claims_text

    async def handle(self, message: IncomingMessage, services: Services) -> Reply:
        self.seen.append(message)
        if self.fail is not None:
            raise self.fail
        return Reply(text=f"{self.name}:{message.text}")


def _services(tmp_path: Path, **overrides: object) -> Services:
    settings = make_settings(tmp_path, **overrides)
    store = KnowledgeStore(FIXTURE_KB, jurisdictions=["CA", "CT", "KS"],
                           today=__import__("datetime").date(2026, 11, 22))
    return Services(settings=settings, db=Database(settings.env.DATABASE_URL), knowledge=store)


def _msg(text: str = "", **kw: object) -> IncomingMessage:
    return IncomingMessage(sender=Sender("webchat", "local", "ann"), text=text, **kw)  # type: ignore[arg-type]


@pytest.fixture
def handlers() -> dict[str, FakeHandler]:
    return {
        "faq": FakeHandler("faq", command="ask", keywords=("ask",), action_prefix="faq:",
                           claims_text=True),
        "incident": FakeHandler("incident", command="incident", keywords=("incident",),
                                action_prefix="inc:"),
        "help": FakeHandler("help", keywords=("help",), action_prefix="help:"),
    }


async def test_slash_command_routes_by_configured_name(tmp_path: Path, handlers) -> None:
    services = _services(tmp_path, commands={"ask": "/question", "incident": "/report"})
    router = Router(list(handlers.values()), services)
    reply = await router.dispatch(_msg("is it safe", command="/question"))
    assert reply.text == "faq:is it safe"
    reply = await router.dispatch(_msg("x", command="/report"))
    assert reply.text == "incident:x"


async def test_unknown_command_falls_back_to_help(tmp_path: Path, handlers) -> None:
    router = Router(list(handlers.values()), _services(tmp_path))
    reply = await router.dispatch(_msg("x", command="/nope"))
    assert reply.text == "help:"


async def test_leading_keyword_routes_and_is_stripped(tmp_path: Path, handlers) -> None:
    router = Router(list(handlers.values()), _services(tmp_path))
    assert (await router.dispatch(_msg("incident  tabulator jammed"))).text == \
        "incident:tabulator jammed"
    assert (await router.dispatch(_msg("Ask: what is pause"))).text == "faq:what is pause"


async def test_a_typed_question_or_greeting_is_not_taken_for_a_command(tmp_path: Path,
                                                                       handlers) -> None:
    handlers["help"].keywords = ("help", "hi", "hey")
    handlers["help"].greetings = ("hi", "hey")  # type: ignore[attr-defined]
    handlers["faq"].takes_questions = True  # type: ignore[attr-defined]
    router = Router(list(handlers.values()), _services(tmp_path))

    async def routed(text: str) -> str:
        return (await router.dispatch(_msg(text))).text
    # A question that starts with a command word is a question (the FAQ claims free text).
    assert await routed("incident reports - are they public records?") == \
        "faq:incident reports - are they public records?"
    assert await routed("hey so a voter says her ballot never came") == \
        "faq:hey so a voter says her ballot never came"
    assert await routed("Hi, quick q: what is pause") == "faq:Hi, quick q: what is pause"
    # On their own, or written as commands, they are commands.
    assert await routed("hey") == "help:"
    assert await routed("Hi!") == "help:"
    assert await routed("incident tabulator jammed in precinct 4") == \
        "incident:tabulator jammed in precinct 4"
    assert await routed("/incident is anyone hurt?") == "incident:is anyone hurt?"
    assert await routed("help, how do I file?") == "faq:help, how do I file?"
    assert await routed("ask what is the pause method?") == "faq:what is the pause method?"


async def test_free_text_goes_to_the_first_handler_that_claims_it(tmp_path: Path,
                                                                   handlers) -> None:
    ordered = [handlers["incident"], handlers["faq"], handlers["help"]]
    router = Router(ordered, _services(tmp_path))
    assert (await router.dispatch(_msg("what is the pause method"))).text.startswith("faq:")
    handlers["incident"].claims_text = True  # earlier in the list: wins over the FAQ
    assert (await router.dispatch(_msg("a man is shouting at the door"))).text.startswith(
        "incident:")
    handlers["incident"].claims_text = handlers["faq"].claims_text = False
    assert (await router.dispatch(_msg("hmm"))).text.startswith("help:")


async def test_clicks_route_by_action_prefix(tmp_path: Path, handlers) -> None:
    router = Router(list(handlers.values()), _services(tmp_path))
    await router.dispatch(_msg(action=Action("inc:ack", "7")))
    assert handlers["incident"].seen[-1].action == Action("inc:ack", "7")


async def test_handler_error_becomes_apology_with_correlation_id(
        tmp_path: Path, handlers, caplog: pytest.LogCaptureFixture) -> None:
    handlers["faq"].fail = RuntimeError("boom with secret detail")
    router = Router(list(handlers.values()), _services(tmp_path))
    with caplog.at_level(logging.ERROR):
        reply = await router.dispatch(_msg("ask anything"))
    assert "Sorry" in reply.text
    assert "boom" not in reply.text and "Traceback" not in reply.text
    correlation_id = reply.text.rsplit(" ", 1)[-1]
    assert any(getattr(r, "correlation_id", None) == correlation_id for r in caplog.records)


def test_router_requires_a_help_fallback(tmp_path: Path, handlers) -> None:
    with pytest.raises(ValueError, match="help"):
        Router([handlers["faq"]], _services(tmp_path))


async def test_user_error_and_refusal_are_answered_with_their_reason(tmp_path: Path,
                                                                    handlers) -> None:
    router = Router(list(handlers.values()), _services(tmp_path))
    handlers["faq"].fail = UserError("No incident INC-2026-000009.", hint="Try `/incident list`.")
    reply = await router.dispatch(_msg("ask x"))
    assert reply.text == "No incident INC-2026-000009.\nTry `/incident list`." and reply.ephemeral
    handlers["faq"].fail = Refused("Only broadcasters can send alerts.")
    reply = await router.dispatch(_msg("ask x"))
    assert reply.text.endswith("Only broadcasters can send alerts.") and reply.ephemeral


async def test_a_file_permission_error_is_a_failure_not_a_role_refusal(
        tmp_path: Path, handlers, caplog: pytest.LogCaptureFixture) -> None:
    handlers["faq"].fail = PermissionError(13, "Permission denied", "/srv/secret.key")
    router = Router(list(handlers.values()), _services(tmp_path))
    with caplog.at_level(logging.ERROR):
        reply = await router.dispatch(_msg("ask x"))
    assert "Sorry" in reply.text and "secret.key" not in reply.text
    assert any(getattr(r, "correlation_id", None) for r in caplog.records)


async def test_handlers_start_one_per_turn_of_the_loop_in_arrival_order() -> None:
    """Between two handler starts the loop runs its other ready callbacks (and polls I/O)."""
    import asyncio

    from bot.router import Turns

    turns = Turns()
    loop = asyncio.get_running_loop()
    tick = 0
    running = True

    def ticker() -> None:  # one call per turn of the loop
        nonlocal tick
        tick += 1
        if running:
            loop.call_soon(ticker)

    loop.call_soon(ticker)
    starts: list[tuple[str, int]] = []

    async def handler(name: str) -> None:
        await turns.mine()
        starts.append((name, tick))

    tasks = [asyncio.create_task(handler(f"h{n}")) for n in range(5)]
    gone = asyncio.create_task(handler("cancelled"))
    late = asyncio.create_task(handler("late"))
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.gather(*tasks, late)
    running = False
    assert [name for name, _ in starts] == ["h0", "h1", "h2", "h3", "h4", "late"]
    ticks = [t for _, t in starts]
    assert all(b > a for a, b in zip(ticks, ticks[1:], strict=False))  # never two in one turn
    alone = Turns()
    await asyncio.wait_for(alone.mine(), 1)  # nobody else waiting: straight through


async def test_a_claimed_request_runs_its_handler_once(tmp_path: Path, handlers) -> None:
    services = _services(tmp_path)
    from bot.db.engine import upgrade
    upgrade(services.settings.env.DATABASE_URL)
    router = Router(list(handlers.values()), services)
    try:
        first = await router.dispatch(_msg("x", command="/incident", claim="slack:sig:abc"))
        assert first.text == "incident:x"
        with pytest.raises(Replayed):
            await router.dispatch(_msg("x", command="/incident", claim="slack:sig:abc"))
        assert len(handlers["incident"].seen) == 1
        assert handlers["incident"].seen[0].claim == ""  # claimed: the handler has nothing to do
        # A handler that records the request anyway gets the key to claim there.
        handlers["faq"].claims_requests = True  # type: ignore[attr-defined]
        await router.dispatch(_msg("q", command="/ask", claim="slack:sig:def"))
        assert handlers["faq"].seen[-1].claim == "slack:sig:def"
    finally:
        await services.db.close()
