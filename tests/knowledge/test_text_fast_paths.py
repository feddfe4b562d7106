"""The analyzer's fast paths give exactly what the plain definitions give.

``fold`` looks at non-ASCII runs only, ``words`` skips the apostrophe rules when there is no
apostrophe (and its patterns start at the apostrophe), ``marked_words`` splits many texts in one
go, and the synonym rewrite only tries variants at tokens that start one: each is
checked here against the straightforward version it replaced, on every BMP character and on
random token streams over the real synonym table.
"""

from __future__ import annotations

import random
import re
import unicodedata

from knowledge.synonyms import load_synonyms
from knowledge.text import MARKERS, fold, marked_words, words


def plain_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def plain_words(text: str) -> list[str]:
    folded = re.sub(r"(?<=[a-z])['\u2019]s\b", "", plain_fold(text))
    return re.findall(r"[a-z0-9]+", re.sub(r"(?<=[a-z])['\u2019](?=[a-z])", "", folded))


def plain_rewrite(phrases: dict[tuple[str, ...], tuple[str, ...]], longest: int,
                  tokens: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for size in range(min(longest, len(tokens) - i), 0, -1):
            target = phrases.get(tuple(tokens[i:i + size]))
            if target is not None:
                out.extend(target)
                i += size
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


def test_fold_and_words_match_the_plain_definitions_on_every_character() -> None:
    for code in range(0x10000):
        if 0xD800 <= code < 0xE000:
            continue
        text = f"a{chr(code)}b don{chr(code)}t it's"
        assert fold(text) == plain_fold(text), hex(code)
        assert words(text) == plain_words(text), hex(code)
    rng = random.Random(16)
    alphabet = "abcXYZ019 '’-.\n" + "áéíóúñüÁÑçß—–½²ﬁ🙂" + "s's'’s"
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert fold(text) == plain_fold(text) and words(text) == plain_words(text), repr(text)


def test_marked_words_are_each_texts_words_between_the_markers() -> None:
    rng = random.Random(16)
    alphabet = "abcXYZ019 '’-.\n" + "áéíóúñüÁÑçß—–½²ﬁ🙂ΣİΑ\u0301\u0308"
    for _ in range(3000):
        texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
                 for _ in range(rng.randint(1, 6))]
        markers = [rng.choice(MARKERS) for _ in texts]
        joined = "".join(f"{text} {marker} " for text, marker in zip(texts, markers, strict=True))
        expected = [w for text, marker in zip(texts, markers, strict=True)
                    for w in (*plain_words(text), marker)]
        assert marked_words(joined) == expected, texts


def test_the_rewrite_matches_the_longest_first_scan() -> None:
    table = load_synonyms()
    phrases = dict(table.phrases)
    assert phrases and table.longest > 1
    vocabulary = sorted({t for key in phrases for t in key} | {"vote", "ballot", "of", "the"})
    rng = random.Random(16)
    for _ in range(3000):
        tokens = [rng.choice(vocabulary) for _ in range(rng.randint(0, 25))]
        assert table.rewrite(tokens) == plain_rewrite(phrases, table.longest, tokens), tokens
    for key in phrases:  # every variant alone and inside other words
        for tokens in (list(key), ["x", *key, "y"], [*key, *key], list(key[:-1])):
            assert table.rewrite(tokens) == plain_rewrite(phrases, table.longest, tokens)
