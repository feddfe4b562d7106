"""Wording of answers, abstentions and refusals, kept here so election staff can review it."""

from __future__ import annotations

from bot.config import Contact
from bot.messages import Button, Reply, Section
from knowledge import Article

DRAFT_NOTE = "General guidance, not yet reviewed by your office."
JURISDICTION_NAMES = {"CA": "California", "KS": "Kansas", "CT": "Connecticut",
                      "general": "General / national"}
NO_ANSWER = "I don't have a vetted answer to that."
NO_ANSWER_ES = "No tengo una respuesta verificada para eso."


REFUSALS = {
    "partisan": (
        "I can't help with that. I'm a nonpartisan tool for election officials: I don't give "
        "voting advice, judge candidates, parties or ballot measures, predict results or "
        "endorse anyone. For official, nonpartisan election information, please turn to your "
        "state election office or your county or town election official."
    ),
    "personal_data": (
        "I can't help with that. I have no voter file and I never look up or share personal "
        "information about voters, staff or members of the public. If someone may be in "
        "danger, call 911; to report a threat or harassment, use the incident report."
    ),
    "instructions": (
        "I can't do that. I only answer from the office's vetted knowledge base, and my rules "
        "don't change. Ask me a question about election administration, or type help."
    ),
}


REFUSALS_ES = {
    "partisan": (
        "No puedo ayudar con eso. Soy una herramienta no partidista para funcionarios "
        "electorales: no doy consejos de voto, no juzgo candidatos, partidos ni medidas, no "
        "predigo resultados ni respaldo a nadie. Para información electoral oficial y no "
        "partidista, consulte a la oficina electoral de su estado, condado o municipio."
    ),
    "personal_data": (
        "No puedo ayudar con eso. No tengo padrón electoral y nunca busco ni comparto datos "
        "personales de votantes, personal o público. Si alguien está en peligro, llame al 911."
    ),
    "instructions": (
        "No puedo hacer eso. Solo respondo con la base de conocimiento verificada de la "
        "oficina, y mis reglas no cambian."
    ),
}


def refusal_text(kind: str, language: str = "en") -> str:
    """The fixed, courteous refusal for a guard category."""
    table = REFUSALS_ES if language == "es" else REFUSALS
    return table.get(kind, table["instructions"])


def build_refusal_reply(kind: str, language: str = "en") -> Reply:
    """A refusal as a reply (no buttons: nothing to give feedback on)."""
    return Reply(text=refusal_text(kind, language), ephemeral=True)


def describe_contact(contact: Contact | None) -> str:
    """A contact as one line (only contacts configured in app.yaml are ever shown)."""
    if contact is None:
        return "your state election office"
    parts = [contact.name]
    parts += [p for p in (contact.email, contact.phone, contact.url) if p]
    return ", ".join(parts)


def article_text(article: Article, language: str = "en") -> str:
    """The answer as plain text: draft note, short answer, then details."""
    _title, summary, body = article.localized(language)
    parts = [f"{DRAFT_NOTE}"] if article.is_draft else []
    parts.append(summary)
    if body:
        parts.append(body)
    return "\n\n".join(parts)


def abstain_text(contact: Contact | None, language: str = "en") -> str:
    """Honest 'no vetted answer' plus who to ask."""
    if language == "es":
        return f"{NO_ANSWER_ES} Por favor consulte a {describe_contact(contact)}."
    return f"{NO_ANSWER} Please ask {describe_contact(contact)}."


def source_line(article: Article) -> str:
    """Source, whose fact it is, and when it was reviewed."""
    where = JURISDICTION_NAMES.get(article.jurisdiction, article.jurisdiction)
    sources = "; ".join(s.document + (f" ({s.url})" if s.url else "") for s in article.sources)
    return f"Source: {sources} · Applies to: {where} · Reviewed {article.reviewed_on:%Y-%m-%d}"


def build_answer_reply(article: Article, *, language: str = "en",
                       question_id: int | None = None) -> Reply:
    """Short answer first, then details, source, jurisdiction, review date, feedback buttons."""
    title, summary, body = article.localized(language)
    sections = [Section(f"*{title}*\n{summary}")]
    if article.is_draft:
        sections.insert(0, Section(f":warning: {DRAFT_NOTE}"))
    if body:
        sections.append(Section(body[:2800]))
    sections.append(Section("Helpful?", context=source_line(article)))
    return Reply(
        text=article_text(article, language)[:3000],
        sections=tuple(sections),
        buttons=_feedback_buttons(question_id),
    )


def _feedback_buttons(question_id: int | None) -> tuple[Button, ...]:
    if question_id is None:
        return ()
    return (Button("Helpful: yes", "faq:helpful", f"{question_id}:yes", style="primary"),
            Button("Helpful: no", "faq:helpful", f"{question_id}:no"))


def build_abstain_reply(contact: Contact | None, suggestions: list[Article],
                        *, language: str = "en") -> Reply:
    """'No vetted answer', who to ask, and up to three close articles as buttons."""
    text = abstain_text(contact, language)
    buttons = tuple(Button(a.title[:75], "faq:show", a.id) for a in suggestions[:3])
    sections = [Section(text)]
    if buttons:
        sections.append(Section("Did you mean one of these?"))
    return Reply(text=text, sections=tuple(sections), buttons=buttons)


def build_feedback_thanks(helpful: bool, *, result: str = "stored") -> Reply:
    """Acknowledge a Helpful? click (or explain why it was not counted)."""
    if result == "unknown":
        return Reply(text="That button is not valid any more.", ephemeral=True)
    if result == "duplicate":
        return Reply(text="Thanks, your feedback on this answer was already recorded.",
                     ephemeral=True)
    if helpful:
        return Reply(text="Thanks, glad it helped.", ephemeral=True)
    return Reply(text="Thanks for telling us; a curator will look at this question.",
                 ephemeral=True)
