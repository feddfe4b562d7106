"""The FAQ handler: answers from the curated knowledge base, or says it has none."""

from __future__ import annotations

import asyncio
import dataclasses

from bot.db.idempotency import first_time
from bot.errors import Replayed
from bot.messages import IncomingMessage, Reply
from bot.services import Services
from handlers.faq import guard
from handlers.faq.answer import Answer, Sources, answer_question
from handlers.faq.askers import Askers
from handlers.faq.recent import RecentAnswers
from handlers.faq.replies import (
    build_abstain_reply,
    build_answer_reply,
    build_feedback_thanks,
    build_refusal_reply,
    danger_first,
    labels,
    parse_show_value,
    with_declined,
)
from handlers.faq.scope import Asker
from handlers.faq.service import record_feedback, record_question
from handlers.incidents.danger import may_report, signals_danger


class FaqHandler:
    """``/ask``, ``ask ...``, direct messages and mentions with a question."""

    name = "faq"
    command: str | None = "ask"
    keywords: tuple[str, ...] = ("ask", "pregunta")
    takes_questions = True  # "ask what is the pause method?" is this command
    action_prefix = "faq:"
    #: Every question is recorded anyway: a request's dedupe key is claimed in that record's
    #: transaction (one write per question, not two), see :class:`bot.messages.IncomingMessage`.
    claims_requests = True

    def __init__(self) -> None:
        """One per router: askers' places and recent answers are remembered here.

        Built when a server (or worker) starts: the guard's rules are compiled and its
        classifier loaded now, not on the event loop when the first question arrives.
        """
        self.askers = Askers()
        self.recent = RecentAnswers()
        guard.prepare()

    def claims(self, message: IncomingMessage) -> bool:
        """Any free text may be a question (handlers registered earlier have stronger cues)."""
        return bool(message.text.strip())

    async def handle(self, message: IncomingMessage, services: Services) -> Reply:
        """Answer a question or a click on one of our buttons."""
        question = message.text.strip()
        if message.claim and (message.action is not None or not question):
            # Nothing recorded on these paths: the claim is a write of its own.
            if not await first_time(services.db, message.claim):
                raise Replayed
            message = dataclasses.replace(message, claim="")
        if message.action is not None:
            return await self._on_action(message, services)
        if not question:
            return Reply(text="Ask me a question, e.g. `/ask what is the PAUSE method?`",
                         ephemeral=True)
        asker = await self.askers.resolve(message=message, services=services)
        answer = await self._answer(question, asker, services)
        question_id = await record_question(db=services.db, answer=answer,
                                            platform=message.platform,
                                            jurisdiction=asker.jurisdiction,
                                            claim=message.claim)
        danger = signals_danger(question)  # a report of one went to the incident handler instead
        reply = self._reply(answer, asker, question_id,
                            report=not danger and may_report(question))
        if answer.declined is not None:  # part of the message left out: said first
            reply = with_declined(reply, answer.declined, answer.language)
        return danger_first(reply, answer.language) if danger else reply

    @staticmethod
    def _reply(answer: Answer, asker: Asker, question_id: int | None, *,
               report: bool = False) -> Reply:
        """The answer, the refusal, or the abstention naming whom to ask."""
        if answer.refusal_kind is not None:
            return build_refusal_reply(answer.refusal_kind, answer.language)
        if answer.article is not None:
            return answer.answer_reply(question_id)
        # Abstentions are recorded above: that record is the curators' queue (`kb gaps`).
        return build_abstain_reply(answer.contact, answer.suggestions, language=answer.language,
                                   state=answer.named_state, staff=asker.state_staff,
                                   report=report)

    async def _answer(self, question: str, asker: Asker, services: Services) -> Answer:
        """The decision for ``question``: decided before for the same asker's place, or now."""
        kb, app = services.knowledge.current, services.settings.app
        answer = self.recent.get(question, asker, knowledge=kb, config=app)
        if answer is not None:
            return answer
        answer = await answer_off_loop(question=question, services=services, asker=asker)
        self.recent.put(answer, knowledge=kb, config=app)
        return answer

    async def _on_action(self, message: IncomingMessage, services: Services) -> Reply:
        assert message.action is not None
        action = message.action
        if action.action_id == "faq:show":
            article_id, language = parse_show_value(action.value)
            article = services.knowledge.current.get(article_id)
            if article is None:
                return Reply(text=labels(language).gone, ephemeral=True)
            return build_answer_reply(article, language=language)
        if action.action_id == "faq:helpful":
            raw_id, _, verdict = action.value.partition(":")
            if not raw_id.isdigit() or verdict not in ("yes", "no"):
                return Reply(text="That button is not valid any more.", ephemeral=True)
            result = await record_feedback(db=services.db, question_id=int(raw_id),
                                           helpful=verdict == "yes",
                                           identity=message.sender.identity)
            return build_feedback_thanks(verdict == "yes", result=result)
        return Reply(text="That button has expired.", ephemeral=True)


async def answer_off_loop(*, question: str, services: Sources, asker: Asker) -> Answer:
    """``answer_question`` without blocking the event loop.

    In a thread when the embedding model runs (~20-35 ms a question), for retrieval or for the
    guard (whose semantic fit follows a model loaded anywhere in the process), inline for the
    lexical path alone (well under a millisecond).
    """
    if services.knowledge.current.needs_thread or guard.embeds():
        return await asyncio.to_thread(answer_question, question=question, services=services,
                                       asker=asker)
    return answer_question(question=question, services=services, asker=asker)
