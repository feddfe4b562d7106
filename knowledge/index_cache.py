"""A persisted, versioned cache of the lexical index, so a large base loads instead of rebuilding.

The cache is one JSON file (no pickle: nothing in it is ever executed or turned into objects
beyond lists, dicts, strings and numbers). Its name and its recorded key are a SHA-256 over
everything the index is computed from:

* every article as parsed (all its fields, in order),
* the synonym table (the analyzer's rewrite rules),
* the source of the modules that compute the index (search, synonyms, text, article) and
  :data:`FORMAT`, so a code change that alters the analysis invalidates old files.

A file is used only when its recorded key equals the key computed now and its shape checks out;
anything else (missing, truncated, edited, another version) is ignored and the index is rebuilt
and written again. Writes go to a temporary file renamed into place, so a reader never sees half
a file. A cache directory that cannot be written only costs the rebuild next time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from knowledge.article import Article
from knowledge.search import SearchIndex
from knowledge.synonyms import SYNONYMS_PATH, Analyzer

log = logging.getLogger(__name__)

#: Bump when the file's layout changes.
FORMAT = 1
_CODE_FILES = ("search.py", "synonyms.py", "text.py", "article.py", "language.py", "index_cache.py")


def cache_key(articles: Sequence[Article], *, synonyms_path: Path = SYNONYMS_PATH) -> str:
    """SHA-256 over the articles' sources, the synonym table, the index code and the format."""
    digest = hashlib.sha256(f"electionbot-index/{FORMAT}\n".encode())
    here = Path(__file__).parent
    for name in _CODE_FILES:
        digest.update(name.encode() + b"\0" + (here / name).read_bytes() + b"\0")
    digest.update(b"synonyms\0" + synonyms_path.read_bytes() + b"\0")
    for art in articles:
        # Every field (lists only, so the JSON is deterministic): any edit, addition, removal or
        # reordering of the articles changes the key.
        digest.update(art.model_dump_json().encode() + b"\0")
    return digest.hexdigest()


def _dump(index: SearchIndex, key: str) -> dict[str, Any]:
    terms = sorted(index.postings)
    number = {t: i for i, t in enumerate(terms)}
    return {
        "format": FORMAT, "key": key, "articles": [a.id for a in index.articles], "terms": terms,
        "docs": [index.postings[t][0].tolist() for t in terms],
        "weights": [index.postings[t][1].tolist() for t in terms],
        "doc_terms": [sorted(number[t] for t in d) for d in index.doc_terms],
        "phrases": [[sorted(p) for p in doc] for doc in index.phrases],
        "supplies": [sorted(s) for s in index.supplies],
        "counted": [sorted(c) for c in index.counted],
    }


def _restore(data: Any, articles: Sequence[Article], key: str,
             analyzer: Analyzer | None) -> SearchIndex | None:
    """The index from a parsed file, or None when it does not belong to these articles."""
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != key:
        return None
    n = len(articles)
    terms = data["terms"]
    if (data["articles"] != [a.id for a in articles] or len(data["docs"]) != len(terms)
            or len(data["weights"]) != len(terms)
            or any(len(data[k]) != n for k in ("doc_terms", "phrases", "supplies", "counted"))):
        return None
    postings = {}
    for term, docs, weights in zip(terms, data["docs"], data["weights"], strict=True):
        ids = array("i", docs)
        if len(ids) != len(weights) or (ids and not 0 <= min(ids) <= max(ids) < n):
            return None
        postings[term] = (ids, array("d", weights))
    return SearchIndex.from_parts(
        articles, analyzer=analyzer, postings=postings,
        doc_terms=[frozenset(terms[i] for i in d) for d in data["doc_terms"]],
        phrases=[[frozenset(p) for p in doc] for doc in data["phrases"]],
        supplies=[frozenset(s) for s in data["supplies"]],
        counted=[frozenset(c) for c in data["counted"]])


def load_or_build(articles: Sequence[Article], cache_dir: Path | None, *,
                  analyzer: Analyzer | None = None) -> SearchIndex:
    """The index from ``cache_dir`` when a valid file is there; else built (and saved there)."""
    if cache_dir is None:
        return SearchIndex(articles, analyzer=analyzer)
    synonyms = SYNONYMS_PATH
    key = cache_key(articles, synonyms_path=synonyms)
    path = cache_dir / f"index-{key[:32]}.json"
    try:
        index = _restore(json.loads(path.read_bytes()), articles, key, analyzer)
    except FileNotFoundError:
        index = None
    except (OSError, ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        log.warning("index cache unreadable; rebuilding", extra={"error": type(exc).__name__})
        index = None
    if index is not None:
        return index
    index = SearchIndex(articles, analyzer=analyzer)
    save(index, key, path)
    return index


def save(index: SearchIndex, key: str, path: Path) -> None:
    """Write atomically (temp file + rename); drop older cache files; never raise."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".index-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(_dump(index, key), out, separators=(",", ":"))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        for old in path.parent.glob("index-*.json"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("index cache not written", extra={"error": type(exc).__name__})
