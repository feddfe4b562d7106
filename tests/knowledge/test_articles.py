"""The real knowledge base is valid; broken articles are reported with file:line; reload is atomic."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from knowledge.checks import check_articles, load_articles
from knowledge.store import KnowledgeBase, KnowledgeError, KnowledgeStore
from tests.support import FIXTURE_KB, REAL_KB, ROOT

TODAY = date(2026, 11, 22)
JURISDICTIONS = ["CA", "CT", "KS"]
SEEDS = ROOT.parent / "shared" / "seeds"


def test_real_base_loads_with_no_problems() -> None:
    articles, problems = load_articles(REAL_KB)
    problems += check_articles(articles, jurisdictions=JURISDICTIONS, today=TODAY)
    assert problems == []
    approved = [a for a in articles if not a.is_draft]
    assert len(approved) >= 60
    assert all(a.es is not None for a in articles), "every article has a Spanish translation"
    # A Spanish answer names its sources in Spanish too (a title in English reads as untranslated).
    assert all(s.document_es for a in articles for s in a.sources)


def test_a_spanish_answer_names_its_source_in_spanish() -> None:
    from handlers.faq.replies import source_line
    articles, _ = load_articles(REAL_KB)
    pause = next(a for a in articles if a.id == "ca-pause-method")
    line = source_line(pause, "es")
    assert line.startswith("Fuente: Secretaría de Estado de California")
    assert "Secretary of State" not in line and "Jurisdicción: California" in line
    assert source_line(pause, "en").startswith("Source: California Secretary of State")


def test_every_answer_says_whose_fact_it_is() -> None:
    articles, _ = load_articles(REAL_KB)
    openings = {"CA": "In California", "KS": "In Kansas", "CT": "In Connecticut"}
    for art in articles:
        if art.is_draft:
            assert art.summary.startswith("As general guidance"), art.id
        elif art.jurisdiction in openings:
            assert art.summary.startswith(openings[art.jurisdiction]), art.id
        else:
            assert "national" in art.summary, art.id


def test_no_contact_outside_the_sources_or_app_yaml() -> None:
    allowed_emails = {"votesure@sos.ca.gov", "catrustedinformation@sos.ca.gov"}
    for path in REAL_KB.glob("*.md"):
        text = path.read_text(encoding="utf-8").lower()
        emails = {e.rstrip(".") for e in re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", text)}
        assert emails <= allowed_emails, path
        assert "fox61" not in text and "newstips" not in text, path
        for phone in re.findall(r"\d{3}-\d{3}-[\dA-Z]{4}", path.read_text(encoding="utf-8")):
            assert phone == "800-262-VOTE", path


@pytest.mark.skipif(not SEEDS.exists(), reason="shared seeds not present beside the project")
def test_articles_do_not_paste_long_runs_of_seed_text() -> None:
    seed_words = " ".join(" ".join(p.read_text(encoding="utf-8").split()) for p in SEEDS.glob("*"))
    seed_text = re.sub(r"[^a-z0-9 ]", "", seed_words.lower())
    articles, _ = load_articles(REAL_KB)
    for art in articles:
        words = re.sub(r"[^a-z0-9 ]", "", f"{art.summary} {art.body}".lower()).split()
        for i in range(len(words) - 12):
            run = " ".join(words[i:i + 12])
            # Attributed quotations and official names are the only allowed copies.
            if run in seed_text and '"' not in art.body + art.summary:
                pytest.fail(f"{art.id} repeats seed text: {run!r}")


def _copy_fixture(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, folder)
    return folder


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace("jurisdiction: CA", "jurisdiction: ZZ"), "jurisdiction 'ZZ'"),
    (lambda t: t.replace("review_by: 2099-01-01", "review_by: 2026-02-01"), "review_by"),
    (lambda t: t.replace("status: approved", "status: published"), "status"),
    (lambda t: t.replace("---\nid:", "id:", 1), "must start with '---'"),
    (lambda t: t.replace("title: The PAUSE", "title: [The PAUSE"), "not valid YAML"),
    (lambda t: t.replace("  - what does pause stand for", "  - what is chain of custody"),
     "also belongs to"),
    (lambda t: t.replace("owner: test curators\n", ""), "owner"),
    (lambda t: t.replace("tags: [misinformation]", "tags: [misinformation]\ncolour: red"), "colour"),
    # no platform shows a Markdown table whole
    (lambda t: t + "\n| step | what |\n|---|---|\n| P | pause |\n", "write it as a list"),
])
def test_broken_articles_are_reported_with_file_and_line(tmp_path: Path, edit, message) -> None:
    folder = _copy_fixture(tmp_path)
    path = folder / "ca-sample-pause.md"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    articles, problems = load_articles(folder)
    problems += check_articles(articles, jurisdictions=JURISDICTIONS, today=TODAY)
    assert problems, "the broken article must be reported"
    assert any(message in str(p) and re.search(r"\.md:\d+:", str(p)) for p in problems), problems


def test_broken_related_link_is_reported(tmp_path: Path) -> None:
    folder = _copy_fixture(tmp_path)
    path = folder / "general-sample-chain.md"
    path.write_text(path.read_text().replace("[ca-sample-pause]", "[no-such-article]"))
    articles, problems = load_articles(folder)
    problems += check_articles(articles, jurisdictions=JURISDICTIONS, today=TODAY)
    assert any("no-such-article" in str(p) for p in problems)


def test_reload_is_atomic(tmp_path: Path) -> None:
    folder = _copy_fixture(tmp_path)
    store = KnowledgeStore(folder, jurisdictions=JURISDICTIONS, today=TODAY)
    before = store.current
    (folder / "ca-sample-pause.md").write_text("---\nid: [broken\n---\n", encoding="utf-8")
    assert store.reload(today=TODAY) is False
    assert store.current is before
    assert store.last_error and "ca-sample-pause.md" in store.last_error
    (folder / "ca-sample-pause.md").write_text(
        (FIXTURE_KB / "ca-sample-pause.md").read_text().replace(
            "test fixture)", "test fixture, edited)"), encoding="utf-8")
    assert store.reload(today=TODAY) is True
    assert store.current is not before
    assert "edited" in store.current.articles["ca-sample-pause"].title
    assert store.last_error is None


def test_load_raises_with_every_problem(tmp_path: Path) -> None:
    folder = _copy_fixture(tmp_path)
    (folder / "bad.md").write_text("no front matter", encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        KnowledgeBase.load(folder, jurisdictions=JURISDICTIONS, today=TODAY)
    assert "bad.md:1" in str(err.value)
