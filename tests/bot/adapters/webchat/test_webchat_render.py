"""The web chat's JSON for a reply (pure): what the page shows once, and typed mentions."""

from __future__ import annotations

from bot.adapters.webchat.endpoint import render, to_incoming_message
from bot.messages import (
    REPEAT_LINE,
    Form,
    FormField,
    Mention,
    Reply,
    Section,
    Sender,
    Tone,
    reply_from_dict,
)


def test_the_main_line_is_shown_unless_something_else_says_it() -> None:
    assert render(Reply(text="Filed INC-1.", tone=Tone.SUCCESS))["lead"] == "Filed INC-1."
    assert render(Reply(text="Incident commands", title="Incident commands"))["lead"] == ""
    form = Form("f", "Report a completed course", fields=(FormField("a", "A"),))
    assert render(Reply(text="Report a completed course", form=form))["lead"] == ""
    said = Reply(text="Short answer.", sections=(Section("Short answer."), Section("More.")))
    assert render(said)["lead"] == ""


def test_tone_title_and_facts_travel_as_data_and_read_back() -> None:
    reply = Reply(text="x", title="New incident", tone=Tone.DANGER,
                  mentions=(Mention("webchat:local:pat", "pat"),))
    data = render(reply)
    assert data["tone"] == "danger" and data["title"] == "New incident"
    assert list(data["mentions"]) == [{"identity": "webchat:local:pat", "name": "pat"}]
    assert reply_from_dict(data) == reply


def test_a_repeat_leads_with_the_marking() -> None:
    data = render(Reply(text="Alert AL-1", repeat=True))
    assert data["lead"] == f"{REPEAT_LINE}\n\nAlert AL-1"


def test_typed_at_names_become_mentions_of_the_same_realm() -> None:
    message = to_incoming_message({"user": "ann", "text": "incident assign INC-1 @bob.k, ok"})
    assert message.mentions == (Mention("webchat:local:bob.k", "bob.k"),)
    signed_in = Sender("web", "local", "ann")
    message = to_incoming_message({"text": "mail a@b.example and @cy"}, signed_in)
    assert message.mentions == (Mention("web:local:cy", "cy"),)


def test_a_reply_and_each_section_name_the_language_they_are_written_in() -> None:
    spanish = Reply(text="¿Qué es el método PAUSE? Es una lista para revisar publicaciones.",
                    sections=(Section("Es una lista para revisar las publicaciones electorales."),
                              Section("Use PAUSE before you share election content on social "
                                      "media, and check the source of the post."),
                              Section("¿Le sirvió?")))
    data = render(spanish)
    assert data["lang"] == "es"
    assert [s["lang"] for s in data["sections"]] == ["es", "en", "es"]
    assert render(Reply(text="Filed INC-1 for the county of Topeka."))["lang"] == "en"
    form = Form("incident:1", "Informe de un incidente",
                (FormField("site", "¿Dónde ocurrió el incidente?"),), "Enviar")
    assert render(Reply(text="", form=form))["lang"] == "es"
