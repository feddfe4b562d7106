"""A persisted, versioned cache of the lexical index, so a large base loads instead of rebuilding.

The cache is one binary file holding the index's arrays (:class:`knowledge.packed.Layout`) as raw
bytes, read back with ``array.frombytes``: no pickle, nothing in it is ever executed or turned
into objects beyond numbers and a JSON list of strings. Its name and its recorded key are a
SHA-256 over everything the index is computed from:

* every article as parsed (all its fields, in order),
* the synonym table (the analyzer's rewrite rules),
* the Unicode version of :mod:`unicodedata` (folding text into words depends on its tables),
* the source of the modules that compute the index (search, index_build, facts, packed,
  synonyms, text, article, language, decide, this one) and :data:`FORMAT`, so a code change that
  alters the analysis, the fact kinds or the layout invalidates old files.

Besides the index's arrays the file keeps each article's fact kinds
(:func:`knowledge.decide.kinds_masks`), the one costly part of the decision's per-article facts,
so that no question pays for finding them in an article it meets first.

A file is used only when its magic, format, byte order and key match, a SHA-256 digest of its
contents matches (a changed weight would change answers silently) and its arrays describe an
index over these articles; anything else (missing, truncated, edited, another version or
machine) is ignored and the index is rebuilt and written again. Writes go to a temporary file
renamed into place, so a reader never sees half a file. A cache directory that cannot be written
only costs the rebuild next time.

Layout: ``MAGIC``, then the header (:data:`_HEADER`: format, byte order, key, digest, number of
terms and articles, and the byte length of each section), then the sections in
:data:`_SECTIONS` order: the strings as a JSON list, then each array's bytes in the machine's
byte order (the fact kinds last).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
import sys
import tempfile
from array import array
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO
from unicodedata import unidata_version

from pydantic import TypeAdapter

from knowledge.article import Article
from knowledge.decide import KIND_BITS, kinds_masks
from knowledge.packed import NUMBER, OFFSET, WEIGHT, Layout, LayoutError, Runs
from knowledge.search import SearchIndex
from knowledge.synonyms import SYNONYMS_PATH, Analyzer

log = logging.getLogger(__name__)

#: Bump when the file's layout changes.
FORMAT = 4
MAGIC = b"EBINDEX\n"
_CODE_FILES = ("search.py", "index_build.py", "facts.py", "packed.py", "synonyms.py", "text.py",
               "article.py", "language.py", "decide.py", "index_cache.py")
#: Typecode of the fact kinds: one unsigned 32-bit mask per article.
KINDS = "I"
#: The arrays after the strings, in file order, with their typecodes.
_SECTIONS = (("post_offsets", OFFSET), ("post_docs", NUMBER), ("post_weights", WEIGHT),
             ("doc_terms.offsets", OFFSET), ("doc_terms.values", NUMBER),
             ("phrase_starts", OFFSET), ("phrases.offsets", OFFSET), ("phrases.values", NUMBER),
             ("fact_kinds", KINDS))
#: format, byte order (b"l" / b"b"), key, digest of everything after the header, terms,
#: articles, then the byte length of the strings and of each array.
_HEADER = struct.Struct(f"<I1s64s32sQQ{1 + len(_SECTIONS)}Q")
_ORDER = sys.byteorder[0].encode()
#: Articles serialised per call when computing the key.
_KEY_CHUNK = 256


class CacheMiss(Exception):
    """The file cannot be used for these articles (why, for the log)."""


def cache_key(articles: Sequence[Article], *, synonyms_path: Path = SYNONYMS_PATH) -> str:
    """SHA-256 over the articles' sources, the synonym table, the index code and the format."""
    # The Unicode tables decide how text folds (accents, compatibility forms) into words.
    digest = hashlib.sha256(f"electionbot-index/{FORMAT}\nunicode {unidata_version}\n".encode())
    here = Path(__file__).parent
    for name in _CODE_FILES:
        digest.update(name.encode() + b"\0" + (here / name).read_bytes() + b"\0")
    digest.update(b"synonyms\0" + synonyms_path.read_bytes() + b"\0")
    # Every field of every article, in order (lists only, so the JSON is deterministic): any
    # edit, addition, removal or reordering of the articles changes the key. A few hundred
    # articles per call: as fast as one call for all, without the whole base's JSON in memory.
    serializer, articles = _articles_json(), list(articles)
    for start in range(0, len(articles), _KEY_CHUNK):
        digest.update(serializer.dump_json(articles[start:start + _KEY_CHUNK]))
    return digest.hexdigest()


@lru_cache(maxsize=1)
def _articles_json() -> TypeAdapter[list[Article]]:
    """One serializer for the whole list (one call instead of one per article)."""
    return TypeAdapter(list[Article])


def _arrays(layout: Layout) -> list[array]:
    """The layout's arrays in :data:`_SECTIONS` order."""
    return [layout.post_offsets, layout.post_docs, layout.post_weights,
            layout.doc_terms.offsets, layout.doc_terms.values, layout.phrase_starts,
            layout.phrases.offsets, layout.phrases.values]


def write(layout: Layout, kinds: array, key: str, articles: int, out: BinaryIO) -> None:
    """Write the file for ``layout`` and the articles' fact ``kinds`` under ``key``.

    The arrays go out as they are in memory (no copy of the whole file is ever made).
    """
    strings = json.dumps(layout.strings, separators=(",", ":")).encode()
    arrays = [*_arrays(layout), kinds]
    digest = hashlib.sha256(strings)
    for part in arrays:
        digest.update(memoryview(part))
    out.write(MAGIC + _HEADER.pack(FORMAT, _ORDER, key.encode(), digest.digest(), layout.terms,
                                   articles, len(strings),
                                   *(len(a) * a.itemsize for a in arrays)))
    out.write(strings)
    for part in arrays:
        part.tofile(out)


def read(source: BinaryIO, key: str, articles: int) -> tuple[Layout, array]:
    """The layout and fact kinds in a file; CacheMiss when it does not belong to these articles."""
    head = source.read(len(MAGIC) + _HEADER.size)
    if len(head) != len(MAGIC) + _HEADER.size or not head.startswith(MAGIC):
        raise CacheMiss("not an index file")
    fmt, order, found_key, digest, terms, count, *sizes = _HEADER.unpack_from(head, len(MAGIC))
    if fmt != FORMAT or order != _ORDER:
        raise CacheMiss("another format or byte order")
    if found_key != key.encode() or count != articles:
        raise CacheMiss("another base")
    here = source.tell()
    if source.seek(0, os.SEEK_END) - here != sum(sizes):  # before reading what sizes announce
        raise CacheMiss("truncated or padded")
    source.seek(here)
    text = source.read(sizes[0])
    check = hashlib.sha256(text)
    parts = []
    for (_name, code), size in zip(_SECTIONS, sizes[1:], strict=True):
        part = array(code)
        if size % part.itemsize:
            raise CacheMiss("damaged array")
        try:
            part.fromfile(source, size // part.itemsize)
        except EOFError:
            raise CacheMiss("truncated") from None
        check.update(memoryview(part))
        parts.append(part)
    if check.digest() != digest:
        raise CacheMiss("damaged")
    strings = json.loads(text)
    if not isinstance(strings, list) or not all(isinstance(s, str) for s in strings):
        raise CacheMiss("damaged strings")
    (post_offsets, post_docs, post_weights, dt_offsets, dt_values, phrase_starts, ph_offsets,
     ph_values, kinds) = parts
    if len(kinds) != articles or any(mask >> len(KIND_BITS) for mask in kinds):
        raise CacheMiss("damaged fact kinds")
    return Layout(strings, terms, post_offsets, post_docs, post_weights,
                  Runs(dt_offsets, dt_values), phrase_starts, Runs(ph_offsets, ph_values)), kinds


def load_or_build(articles: Sequence[Article], cache_dir: Path | None, *,
                  analyzer: Analyzer | None = None) -> SearchIndex:
    """The index from ``cache_dir`` when a valid file is there; else built (and saved there).

    Either way it carries the articles' fact kinds (``SearchIndex.kinds``); without a cache
    directory, or one that cannot be written, they are found per article on first use.
    """
    if cache_dir is None:
        return SearchIndex(articles, analyzer=analyzer)
    key = cache_key(articles, synonyms_path=SYNONYMS_PATH)
    path = cache_dir / f"index-{key[:32]}.bin"
    try:
        with path.open("rb") as source:
            layout, kinds = read(source, key, len(articles))
        index = SearchIndex.from_layout(articles, layout, analyzer=analyzer)
        index.kinds = kinds
        return index
    except FileNotFoundError:
        pass
    except (OSError, ValueError, CacheMiss, LayoutError, struct.error) as exc:
        # ValueError covers a bad JSON list and LayoutError (arrays that do not fit).
        log.warning("index cache unusable; rebuilding", extra={"error": type(exc).__name__})
    index = SearchIndex(articles, analyzer=analyzer)
    save(index, key, path)
    return index


def save(index: SearchIndex, key: str, path: Path) -> None:
    """Write atomically (temp file + rename); drop older cache files; never raise.

    The articles' fact kinds are found here, once the file can be written: without a usable
    cache they stay found per article on first use (a start must not pay for all of them
    every time).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".index-", suffix=".tmp", dir=path.parent)
        try:
            kinds = index.kinds if index.kinds is not None else kinds_masks(index.articles)
            with os.fdopen(fd, "wb") as out:
                write(index.layout, kinds, key, len(index.articles), out)
            os.replace(tmp, path)
            index.kinds = kinds
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        for old in [*path.parent.glob("index-*.bin"), *path.parent.glob("index-*.json")]:
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("index cache not written", extra={"error": type(exc).__name__})
