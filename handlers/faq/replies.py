"""Wording of answers, abstentions and refusals, kept here so election staff can review it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.config.settings import Contact
from bot.messages import Button, Reply, Section, Tone, plain
from handlers.faq.places import state_name
from handlers.faq.scope import Extra
from handlers.incidents.danger import call_911, report_button
from knowledge.article import Article

NO_ANSWER = "I don't have a vetted answer to that."
NO_ANSWER_ES = "No tengo una respuesta verificada para eso."

#: Each refusal names what is refused and whom to ask instead, and takes no side.
REFUSALS = {
    "partisan": (
        "I can't help with that. I'm a nonpartisan tool for election officials: I don't give "
        "voting advice, judge candidates, parties, officials or ballot measures, predict "
        "results, endorse anyone or write campaign material. For official, nonpartisan "
        "election information, please turn to your state election office or your county or "
        "town election official."
    ),
    "personal_data": (
        "I can't help with that. I don't look up, identify or share personal information "
        "about voters, election staff or members of the public (where they live, their phone "
        "numbers, whether or how they voted), and I have no voter file. Requests for voter "
        "records go through your election office's public-records process. If someone may be "
        "in danger, call 911; to report a threat or harassment, use the incident report."
    ),
    "instructions": (
        "I can't do that. My rules don't change: I don't set them aside, take on another role "
        "or show my instructions, and I only answer from the office's vetted knowledge base. "
        "Ask me a question about election administration, or type help; questions about how "
        "this assistant works go to the election office that runs it."
    ),
}


REFUSALS_ES = {
    "partisan": (
        "No puedo ayudar con eso. Soy una herramienta no partidista para funcionarios "
        "electorales: no doy consejos de voto, no juzgo candidatos, partidos, funcionarios ni "
        "medidas, no predigo resultados, no respaldo a nadie ni escribo material de campaña. "
        "Para información electoral oficial y no partidista, consulte a la oficina electoral "
        "de su estado, condado o municipio."
    ),
    "personal_data": (
        "No puedo ayudar con eso. No busco, identifico ni comparto datos personales de "
        "votantes, personal electoral o público (dónde viven, sus teléfonos, si votaron o cómo "
        "votaron), y no tengo padrón electoral. Las solicitudes de registros de votantes se "
        "hacen por el proceso de registros públicos de su oficina electoral. Si alguien está en "
        "peligro, llame al 911; para reportar una amenaza o acoso, use el reporte de incidentes."
    ),
    "instructions": (
        "No puedo hacer eso. Mis reglas no cambian: no las dejo de lado, no adopto otro papel "
        "ni muestro mis instrucciones, y solo respondo con la base de conocimiento verificada "
        "de la oficina. Hágame una pregunta sobre administración electoral o escriba ayuda; las "
        "preguntas sobre cómo funciona este asistente van a la oficina electoral que lo "
        "administra."
    ),
}


#: Said first when part of a message was left out and the rest answered.
DECLINED = {
    "partisan": "I've left out part of your message: I don't give voting advice, judge "
                "candidates, parties, officials or ballot measures, or predict results.",
    "personal_data": "I've left out part of your message: I don't look up or share personal "
                     "information about voters, election staff or members of the public.",
    "instructions": "I've left out part of your message: my rules don't change.",
}
DECLINED_ES = {
    "partisan": "Dejé de lado parte de su mensaje: no doy consejos de voto, no juzgo "
                "candidatos, partidos, funcionarios ni medidas, ni predigo resultados.",
    "personal_data": "Dejé de lado parte de su mensaje: no busco ni comparto datos personales "
                     "de votantes, personal electoral o público.",
    "instructions": "Dejé de lado parte de su mensaje: mis reglas no cambian.",
}


def declined_text(kind: str, language: str = "en") -> str:
    """The line that says which part of a message was left out, and why."""
    table = DECLINED_ES if language == "es" else DECLINED
    return table.get(kind, table["instructions"])


def with_declined(reply: Reply, kind: str, language: str = "en") -> Reply:
    """``reply`` led by the line saying what part of the message was left out."""
    line = declined_text(kind, language)
    return _led_by(reply, line, Section(line))


def _led_by(reply: Reply, line: str, head: Section, tone: Tone | None = None) -> Reply:
    """``reply`` with ``line`` read first: in its text, and ``head`` before its sections."""
    return replace(reply, text=f"{line}\n\n{reply.text}", tone=tone or reply.tone,
                   sections=(head, *(reply.sections or (Section(reply.text),))))


def refusal_text(kind: str, language: str = "en") -> str:
    """The fixed, courteous refusal for a guard category."""
    table = REFUSALS_ES if language == "es" else REFUSALS
    return table.get(kind, table["instructions"])


def build_refusal_reply(kind: str, language: str = "en") -> Reply:
    """A refusal as a reply (no buttons: nothing to give feedback on)."""
    return Reply(text=refusal_text(kind, language), ephemeral=True)


def danger_first(reply: Reply, language: str = "en") -> Reply:
    """``reply`` led by the 911 line and a "Report an incident" button.

    For a question that mentions a danger ("what do we do about a bomb threat?"): whatever the
    answer, abstention or refusal, the first thing read is what to do if it is happening now.
    """
    line = f"**{call_911(language)}**"
    return _led_by(reply, line, Section(line, buttons=(report_button(language),)),
                   tone=Tone.DANGER)


@dataclass(frozen=True)
class Labels:
    """Every fixed word of an answer in one language."""

    source: str
    applies: str
    reviewed: str
    drafted: str
    helpful: str
    yes: str
    no: str
    also: str
    also_for: str
    for_state: str
    your_state: str
    draft_note: str
    details_english: str
    general_note: str
    other_state: str
    did_you_mean: str
    related_reading: str
    related_state: str
    no_answer: str
    no_answer_for: str
    please_ask: str
    contact_is: str
    queued: str
    general: str
    office: str
    office_of: str
    happening: str
    report_it: str
    confidence: str
    gone: str


LABELS = {
    "en": Labels(
        source="Source", applies="Applies to", reviewed="Reviewed",
        drafted="Drafted {date}, not yet reviewed", helpful="Helpful?",
        yes="Helpful: yes", no="Helpful: no", also="Also:", also_for="Also for {state}:",
        for_state="For {state}:", your_state="{state} (your state)",
        draft_note="General guidance, not yet reviewed by your office.",
        details_english="Details:",
        general_note="This is general guidance, not a rule specific to {state}.",
        other_state="This is {state}'s practice, not a rule for {yours}. For {yours}, ask {contact}.",
        did_you_mean="Did you mean one of these?",
        related_reading="Related reading (not a vetted answer for {state}):",
        related_state="{state}'s articles nearby (I'm not sure they answer your question):",
        no_answer=NO_ANSWER, no_answer_for="I don't have a vetted answer for {state}.",
        please_ask="Please ask {contact}.", contact_is="Contact for {state}: {contact}.",
        queued="I've added this to the curators' queue.", general="General / national",
        office="your state election office", office_of="{state}'s state election office",
        happening="Reporting something happening now? If anyone is in danger, call 911 first.",
        report_it="Once everyone is safe, report it: {command} in Slack or Teams, or \"Report "
                  "an incident\" in the web chat.",
        confidence="confidence", gone="That article is no longer available."),
    "es": Labels(
        source="Fuente", applies="Jurisdicción", reviewed="Revisado",
        drafted="Redactado el {date}, aún sin revisar", helpful="¿Le sirvió?",
        yes="¿Le sirvió? sí", no="¿Le sirvió? no", also="También:",
        also_for="También para {state}:", for_state="Para {state}:",
        your_state="{state} (su estado)",
        draft_note="Orientación general, aún no revisada por su oficina.",
        details_english="Detalles (solo disponibles en inglés):",
        general_note="Es orientación general, no una norma específica de {state}.",
        other_state="Así se hace en {state}; no es una norma para {yours}. Para {yours}, consulte "
                    "a {contact}.",
        did_you_mean="¿Quiso decir alguno de estos?",
        related_reading="Lectura relacionada (no es una respuesta verificada para {state}):",
        related_state="Artículos cercanos de {state} (no estoy seguro de que respondan a su "
                      "pregunta):",
        no_answer=NO_ANSWER_ES, no_answer_for="No tengo una respuesta verificada para {state}.",
        please_ask="Por favor consulte a {contact}.", contact_is="Contacto para {state}: {contact}.",
        queued="Agregué esta pregunta a la cola de los curadores.", general="General / nacional",
        office="la oficina electoral de su estado", office_of="la oficina electoral de {state}",
        happening="¿Está reportando algo que pasa ahora? Si alguien está en peligro, llame "
                  "primero al 911.",
        report_it="Cuando todos estén a salvo, repórtelo: {command} en Slack o Teams, o "
                  "\"Reportar un incidente\" en el chat web.",
        confidence="confianza", gone="Ese artículo ya no está disponible."),
}


def labels(language: str) -> Labels:
    """The labels for a language (English unless it is Spanish)."""
    return LABELS["es" if language == "es" else "en"]


def place_name(code: str | None, language: str = "en") -> str:
    """A jurisdiction code as people say it: Kansas, Nueva York, General / national."""
    if not code or code == "general":
        return labels(language).general
    return state_name(code, language)


def describe_contact(contact: Contact | None, language: str = "en") -> str:
    """A contact as one line (only contacts configured in app.yaml are ever shown)."""
    if contact is None:
        return labels(language).office
    parts = [contact.name_in(language)]
    parts += [p for p in (contact.email, contact.phone, contact.url) if p]
    return ", ".join(parts)


def article_text(article: Article, language: str = "en") -> str:
    """The whole answer as plain text: draft note, short answer, then the details."""
    return "\n\n".join(_article_paragraphs(article, language))


def _article_paragraphs(article: Article, language: str, lead: str = "") -> list[str]:
    """Draft note, (lead) title and summary, details: Spanish details or the English ones."""
    words = labels(language)
    title, summary, body = article.localized(language)
    heading = f"{lead} **{title}**" if lead else f"**{title}**"
    note = f"{words.draft_note}\n" if article.is_draft else ""
    paragraphs = [f"{note}{heading}\n{summary}"]
    if body:
        paragraphs.append(body[:2800])
    elif language == "es" and article.body:  # no translation of the details: give them whole
        # The note apart from the details, so each part is read in its own language.
        paragraphs += [words.details_english, article.body[:2700]]
    return paragraphs


def abstain_text(contact: Contact | None, language: str = "en", *, state: str | None = None,
                 staff: bool = False) -> str:
    """Honest 'no vetted answer' (for a state, when one was asked about) plus who to ask.

    State staff are the people who would be asked, so they hear that the question went to the
    curators' queue instead. A state asked about that has no contact of its own (``contact``
    None) is named as the place to ask ("Florida's state election office"), not the asker's
    own office.
    """
    words = labels(language)
    name = place_name(state, language) if state else ""
    first = words.no_answer_for.format(state=name) if state else words.no_answer
    if staff:
        extra = (f" {words.contact_is.format(state=name, contact=describe_contact(contact, language))}"
                 if state and contact is not None else "")
        return f"{first} {words.queued}{extra}"
    who = (words.office_of.format(state=name) if state and contact is None
           else describe_contact(contact, language))
    return f"{first} {words.please_ask.format(contact=who)}"


def source_line(article: Article, language: str = "en") -> str:
    """Source, whose fact it is, and when it was reviewed (a draft: written, not reviewed)."""
    words = labels(language)
    where = place_name(article.jurisdiction, language)
    sources = "; ".join(s.name(language) + (f" ({s.url})" if s.url else "")
                        for s in article.sources)
    when = (words.drafted.format(date=f"{article.reviewed_on:%Y-%m-%d}") if article.is_draft
            else f"{words.reviewed} {article.reviewed_on:%Y-%m-%d}")
    return f"{words.source}: {sources} · {words.applies}: {where} · {when}"


def build_answer_reply(article: Article, *, language: str = "en",
                       question_id: int | None = None, extras: Sequence[Extra] = (),
                       preferred_state: str | None = None,
                       general_for_state: str | None = None,
                       other_state_for: tuple[str, Contact | None] | None = None) -> Reply:
    """Short answer first, then details, source; extras ("Also") each with their own source.

    ``preferred_state`` says the answer is the asker's state's when another state's also fits;
    ``general_for_state`` names the state asked about when a general article answers it;
    ``other_state_for`` (the asker's state and contact) says the answer is another state's
    practice and whom to ask in the asker's own.
    """
    words = labels(language)
    lead = (words.for_state.format(state=words.your_state.format(
        state=place_name(preferred_state, language))) if preferred_state else "")
    paragraphs = _article_paragraphs(article, language, lead)
    if general_for_state:
        paragraphs.append(words.general_note.format(state=place_name(general_for_state, language)))
    if other_state_for:
        yours, contact = other_state_for
        paragraphs.append(words.other_state.format(
            state=place_name(article.jurisdiction, language), yours=place_name(yours, language),
            contact=describe_contact(contact, language)))
    sections = [Section(p) for p in paragraphs]
    sections[-1] = Section(sections[-1].text, context=source_line(article, language))
    for extra in extras:
        label = (words.also_for.format(state=place_name(extra.state, language))
                 if extra.reason == "state" else words.also)
        title, summary, _body = extra.article.localized(language)
        note = [words.draft_note] if extra.article.is_draft else []
        sections.append(Section("\n".join([f"{label} **{title}**", *note, summary]),
                                context=source_line(extra.article, language)))
    buttons = _feedback_buttons(question_id, words)
    if buttons:
        sections.append(Section(words.helpful))
    # The main line is the short answer; renderers show the sections (details, "Also") below it.
    return Reply(text=sections[0].text[:3000], sections=tuple(sections), buttons=buttons)


def answer_plain_text(reply: Reply) -> str:
    """A whole answer reply as plain text (every section but the feedback prompt)."""
    prompts = {words.helpful for words in LABELS.values()}
    return "\n\n".join(plain(s.text) for s in reply.sections if s.text not in prompts)


def _feedback_buttons(question_id: int | None, words: Labels) -> tuple[Button, ...]:
    if question_id is None:
        return ()
    return (Button(words.yes, "faq:helpful", f"{question_id}:yes", style="primary"),
            Button(words.no, "faq:helpful", f"{question_id}:no"))


def show_value(article: Article, language: str) -> str:
    """A related-reading button's value: the article and the language it is shown in."""
    return f"{article.id}:{language}" if language != "en" else article.id


def parse_show_value(value: str) -> tuple[str, str]:
    """(article id, language) of a related-reading button; older buttons carry the id alone."""
    article_id, sep, language = value.rpartition(":")
    if sep and language in LABELS:
        return article_id, language
    return value, "en"


def build_abstain_reply(contact: Contact | None, suggestions: Sequence[Article],
                        *, language: str = "en", state: str | None = None,
                        staff: bool = False, report: bool = False) -> Reply:
    """'No vetted answer', who to ask (or the curators' queue), and up to three close articles.

    ``report``: a last line says what to do if it reports something happening, with the "Report
    an incident" button (the words that tell a report of danger from a question,
    ``handlers.incidents.danger``, miss some, and those reach the FAQ, which has no answer).
    """
    words = labels(language)
    text = abstain_text(contact, language, state=state, staff=staff)
    buttons = tuple(Button(a.localized(language)[0][:75], "faq:show", show_value(a, language))
                    for a in suggestions[:3])
    sections = [Section(text)]
    if report:
        sections.append(Section(words.happening, buttons=(report_button(language),)))
    if buttons:
        sections.append(Section(related_head(suggestions[:3], state, language)))
    return Reply(text=text, sections=tuple(sections), buttons=buttons)


def related_head(suggestions: Sequence[Article], state: str | None, language: str) -> str:
    """The line above related articles ("Did you mean", without a named state).

    For a question naming a state: they are no vetted answer for it, unless all are that
    state's own reviewed articles, which are vetted there (perhaps not on this question) and
    are not called unvetted.
    """
    words = labels(language)
    if not state:
        return words.did_you_mean
    own = all(a.jurisdiction == state and not a.is_draft for a in suggestions)
    return (words.related_state if own else words.related_reading).format(
        state=place_name(state, language))


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
