"""The text analyser: words -> stems -> synonym canonical forms -> search terms.

The curated table lives in ``synonyms.yaml`` next to this file. Articles and questions both go
through :class:`Analyzer`, so "registrar of voters", "ROV" and "registrador" all become the same
term on both sides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from knowledge.text import is_stop, stem, words
from knowledge.yamlload import safe_load

SYNONYMS_PATH = Path(__file__).with_name("synonyms.yaml")

Phrase = tuple[str, ...]


@dataclass(frozen=True)
class SynonymTable:
    """Variant phrases (stemmed token tuples) mapped to canonical token tuples."""

    phrases: Mapping[Phrase, Phrase] = field(default_factory=dict)
    longest: int = 1

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SynonymTable:
        """Build from the parsed YAML (``groups``, ``states``, ``ambiguous_codes``)."""
        pairs: list[tuple[str, str]] = []
        for group in data.get("groups", []):
            canonical = str(group["canonical"])
            pairs += [(str(v), canonical) for v in group.get("variants", [])]
        ambiguous = {str(c).lower() for c in data.get("ambiguous_codes", [])}
        for code, name in (data.get("states") or {}).items():
            if str(code).lower() not in ambiguous:
                pairs.append((str(code), str(name)))
        return cls.from_pairs(pairs)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> SynonymTable:
        """Variants are stemmed both the English and the Spanish way so either side matches."""
        phrases: dict[Phrase, Phrase] = {}
        for variant, canonical in pairs:
            target = tuple(stem(w) for w in words(canonical))
            for language in ("en", "es"):
                key = tuple(stem(w, language) for w in words(variant))
                if key and key != target:
                    phrases.setdefault(key, target)
        longest = max((len(k) for k in phrases), default=1)
        return cls(phrases, longest)

    def rewrite(self, tokens: list[str]) -> list[str]:
        """Replace the longest matching variant at each position by its canonical form."""
        out: list[str] = []
        i = 0
        while i < len(tokens):
            for size in range(min(self.longest, len(tokens) - i), 0, -1):
                target = self.phrases.get(tuple(tokens[i:i + size]))
                if target is not None:
                    out.extend(target)
                    i += size
                    break
            else:
                out.append(tokens[i])
                i += 1
        return out


@lru_cache(maxsize=4)
def load_synonyms(path: Path = SYNONYMS_PATH) -> SynonymTable:
    """Parse the curated table once per process."""
    data = safe_load(path.read_text(encoding="utf-8")) or {}
    return SynonymTable.from_mapping(data)


class Analyzer:
    """Turns text into search terms: stem, apply synonyms, drop stop words."""

    def __init__(self, synonyms: SynonymTable | None = None) -> None:
        """Use the curated table unless one is given (tests pass their own)."""
        self.synonyms = synonyms if synonyms is not None else load_synonyms()

    def terms(self, text: str, language: str = "en") -> list[str]:
        """Search terms in order, duplicates kept (term frequency matters for documents)."""
        raw = words(text)
        stemmed = [stem(w, language) for w in raw]
        rewritten = self.synonyms.rewrite(stemmed)
        return [t for t in rewritten if not is_stop(t) and len(t) > 0]
