"""The text analyser: words -> stems -> synonym canonical forms -> search terms.

The curated table lives in ``synonyms.yaml`` next to this file. Articles and questions both go
through :class:`Analyzer`, so "registrar of voters", "ROV" and "registrador" all become the same
term on both sides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress, count, filterfalse
from pathlib import Path
from typing import Any

from knowledge.text import STOP_WORDS, stems
from knowledge.yamlload import safe_load

SYNONYMS_PATH = Path(__file__).with_name("synonyms.yaml")

Phrase = tuple[str, ...]


@dataclass(frozen=True)
class SynonymTable:
    """Variant phrases (stemmed token tuples) mapped to canonical token tuples."""

    phrases: Mapping[Phrase, Phrase] = field(default_factory=dict)
    longest: int = 1
    #: first token -> the lengths of the variants starting with it, longest first.
    _starts: dict[str, tuple[int, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Index the variants by their first token (most tokens start none: one lookup)."""
        starts: dict[str, set[int]] = {}
        for key in self.phrases:
            starts.setdefault(key[0], set()).add(len(key))
        object.__setattr__(self, "_starts", {t: tuple(sorted(n, reverse=True))
                                             for t, n in starts.items()})

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
            target = tuple(stems(canonical))
            for language in ("en", "es"):
                key = tuple(stems(variant, language))
                if key and key != target:
                    phrases.setdefault(key, target)
        longest = max((len(k) for k in phrases), default=1)
        return cls(phrases, longest)

    def rewrite(self, tokens: list[str]) -> list[str]:
        """Replace the longest matching variant at each position by its canonical form."""
        starts = self._starts
        out: list[str] = []
        i, n = 0, len(tokens)
        # Only a token that starts some variant can begin a replacement; the rest are copied.
        for j in compress(count(), map(starts.__contains__, tokens)):
            if j < i:  # inside a variant already replaced
                continue
            out.extend(tokens[i:j])
            for size in starts[tokens[j]]:
                if size <= n - j:
                    target = self.phrases.get(tuple(tokens[j:j + size]))
                    if target is not None:
                        out.extend(target)
                        i = j + size
                        break
            else:
                out.append(tokens[j])
                i = j + 1
        out.extend(tokens[i:])
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
        return self.finish(stems(text, language))

    def finish(self, stemmed: list[str]) -> list[str]:
        """Search terms from stemmed words (:func:`knowledge.text.stems`): synonyms, no stop words.

        Stemming is word by word, so the index stems each question once and finishes it both
        alone (its phrase) and joined with the others (the questions field).
        """
        rewritten = self.synonyms.rewrite(stemmed)
        return list(filterfalse(STOP_WORDS.__contains__, filter(None, rewritten)))
