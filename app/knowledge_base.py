"""Where this process's knowledge base lives and how it is loaded: no database, no server.

``build_services`` loads it for ``serve`` and ``worker``; ``electionbot ask`` and ``kb check``
use it alone, so they import neither SQLAlchemy nor the web stack.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config.settings import Settings

if TYPE_CHECKING:
    from knowledge.store import KnowledgeStore


def knowledge_folder(settings: Settings) -> Path:
    """The articles folder, relative to app.yaml when not absolute."""
    folder = Path(settings.app.knowledge_path)
    return folder if folder.is_absolute() else settings.config_path.parent / folder


def index_cache_dir(settings: Settings) -> Path:
    """Where the knowledge index cache lives: the bot's own data folder, next to app.yaml."""
    return settings.config_path.parent / "data" / "index-cache"


def memory_files(settings: Settings) -> list[Path]:
    """The labelled question files app.yaml's ``question_memory`` names (globs relative to it).

    None while the semantic channel is off: only the semantic decision reads them.
    """
    if not settings.app.semantic_retrieval or not settings.app.question_memory:
        return []
    from knowledge.memory import resolve  # numpy: not for a lexical-only `electionbot ask`

    return resolve(settings.app.question_memory, settings.config_path.parent)


def load_knowledge(settings: Settings) -> KnowledgeStore:
    """The knowledge base as app.yaml configures it (raises ``KnowledgeError`` when broken)."""
    from knowledge.store import KnowledgeStore  # search and decision code: not for kb check

    return KnowledgeStore(knowledge_folder(settings),
                          jurisdictions=[j.code for j in settings.app.jurisdictions],
                          today=datetime.now(UTC).date(),
                          semantic=settings.app.semantic_retrieval,
                          memory_files=lambda: memory_files(settings),
                          cache_dir=index_cache_dir(settings))
