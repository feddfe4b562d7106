"""Recent answers: a question asked again is decided once per knowledge base and configuration.

On a busy day many people ask the same few questions ("when do polls open"), and deciding an
answer (guard, retrieval, fusion) was the largest share of the CPU a slash command costs.
:func:`~handlers.faq.answer.answer_question` depends only on the question, the asker (their
jurisdiction and whether they are state staff, both worked out per question), the knowledge
base in service and the configuration, so its answer is reused for the same four; a reloaded
base or configuration is a new object and starts afresh.

The question's text is not kept: entries are found by its digest, and the kept answer holds no
question (each caller gets the answer with its own question put back).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import replace

from handlers.faq.answer import Answer
from handlers.faq.scope import Asker

MAX_ANSWERS = 2_000  # distinct (question, asker) pairs kept

_Key = tuple[bytes, Asker]


class RecentAnswers:
    """A bounded, least-recently-used memory of answers for one knowledge base and config."""

    def __init__(self, size: int = MAX_ANSWERS) -> None:
        """Keep up to ``size`` answers."""
        self.size = size
        self._sources: tuple[object, object] | None = None
        self._answers: OrderedDict[_Key, Answer] = OrderedDict()

    def get(self, question: str, asker: Asker, *, knowledge: object,
            config: object) -> Answer | None:
        """The answer given to ``question`` from ``asker``'s place, if it is still the same."""
        if self._sources is None or self._sources[0] is not knowledge \
                or self._sources[1] is not config:
            self._answers.clear()  # another base or configuration: nothing here applies
            self._sources = (knowledge, config)
            return None
        key = (_digest(question), asker)
        kept = self._answers.get(key)
        if kept is None:
            return None
        self._answers.move_to_end(key)
        return replace(kept, question=question)

    def put(self, answer: Answer, *, knowledge: object, config: object) -> None:
        """Remember ``answer`` (decided with ``knowledge`` and ``config``)."""
        if self._sources is None or self._sources[0] is not knowledge \
                or self._sources[1] is not config:
            return  # decided while the base was swapped: not kept
        key = (_digest(answer.question), answer.asker)
        self._answers[key] = replace(answer, question="")
        self._answers.move_to_end(key)
        while len(self._answers) > self.size:
            self._answers.popitem(last=False)


def _digest(question: str) -> bytes:
    return hashlib.blake2b(question.encode("utf-8", "surrogatepass"), digest_size=16).digest()
