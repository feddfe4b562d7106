"""Incidents end to end through the web chat's HTTP endpoint, with notifications in the inbox."""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path

import aiohttp

from tests.handlers.incidents.conftest import INCIDENTS, ROLES, report_values
from tests.support import make_settings, running_bot


async def _wait_inbox(http: aiohttp.ClientSession, url: str, user: str, n: int) -> list[dict]:
    for _ in range(100):
        async with http.get(f"{url}/webchat/inbox", params={"user": user, "after": "0"}) as r:
            messages = (await r.json())["messages"]
        if len(messages) >= n:
            return messages
        await asyncio.sleep(0.05)
    raise AssertionError(f"{user} got {len(messages)} message(s), expected {n}")


async def _post(http: aiohttp.ClientSession, url: str, payload: dict) -> dict:
    """One message, click or form sent to the web chat: its first reply."""
    async with http.post(f"{url}/webchat/messages", json=payload) as resp:
        assert resp.status == 200
        return (await resp.json())["replies"][0]


async def test_file_notify_acknowledge_and_close_from_the_web_chat(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, incidents=INCIDENTS, roles=ROLES)
    async with running_bot(settings, background=True) as bot, aiohttp.ClientSession() as http:
        post = partial(_post, http, bot.url)

        form = (await post({"user": "ann", "text": "incident"}))["form"]
        assert form["banner"].startswith("If anyone is in immediate danger")
        bad = await post({"user": "ann", "form": {"id": form["form_id"], "values": report_values(
            description="", when_date="2999-01-01")}})
        assert set(bad["form"]["errors"]) == {"description", "when_date"}
        values = report_values(danger="yes", category="physical_safety", subcategory="",
                               when_date="2026-11-01")
        done = await post({"user": "ann", "form": {"id": form["form_id"], "values": values}})
        assert done["text"].startswith("CALL 911 NOW")
        human_id = done["text"].split()[-1].rstrip(".")
        notice = (await _wait_inbox(http, bot.url, "oncall", 1))[0]["reply"]
        assert human_id in notice["text"] and "SEV1" in notice["text"]
        assert [b["action_id"] for b in notice["buttons"]] == [
            "incident:ack", "incident:take", "incident:escalate", "incident:resolve"]
        denied = await post({"user": "eve", "action": {"id": "incident:ack", "value": human_id}})
        assert denied["tone"] == "denied"
        acked = await post({"user": "ct-mgr", "action": {"id": "incident:ack",
                                                         "value": human_id}})
        assert "triaged" in acked["text"]
        closing = await post({"user": "ct-mgr", "text": f"incident close {human_id}"})
        assert closing["form"]["form_id"] == f"incident:close:{human_id}"
        closed = await post({"user": "ct-mgr", "form": {"id": closing["form"]["form_id"], "values": {
            "lessons_learned": "Add a second exit", "law_enforcement_agency": "Hartford PD",
            "law_enforcement_case": "24-0042"}}})
        assert closed["text"].startswith("Closed")
        mine = await post({"user": "ann", "text": "incident list mine"})
        assert "closed" in mine["sections"][0]["text"]


async def test_a_spanish_speaker_files_in_spanish_from_first_line_to_details(
        tmp_path: Path) -> None:
    """Danger typed in Spanish: the 911 line, the form's steps, its checks and the confirmation
    are Spanish; the record and the on-call page stay in the office's terms."""
    settings = make_settings(tmp_path, incidents=INCIDENTS, roles=ROLES)
    async with running_bot(settings, background=True) as bot, aiohttp.ClientSession() as http:
        post = partial(_post, http, bot.url)

        offered = await post({"user": "ann", "text": "¡Hay un hombre con un cuchillo en la "
                                                     "fila de votación!"})
        assert offered["text"].startswith("LLAME AL 911 AHORA")
        form = offered["form"]
        assert form["banner"].startswith("Si alguien está en peligro inmediato")
        assert form["title"] == "Reportar un incidente" and form["submit_label"] == "Siguiente"
        labels = {f["name"]: f["label"] for f in form["fields"]}
        assert labels["danger"] == "¿Hay alguien en peligro inmediato?"
        assert dict(map(tuple, form["fields"][0]["options"]))["yes"] == "Sí"
        # The first step (a category): the rest of the form, still Spanish, nothing lost.
        typed = {"danger": "yes", "category": "physical_safety",
                 "description": "Un hombre con un cuchillo en la fila."}
        step = (await post({"user": "ann", "form": {"id": form["form_id"],
                                                    "values": typed}}))["form"]
        assert step["form_id"] == form["form_id"] and step["submit_label"] == "Enviar reporte"
        fields = {f["name"]: f for f in step["fields"]}
        assert fields["site"]["label"].startswith("Dónde")
        assert ("physical_safety/weapon", "Arma") in map(tuple, fields["subcategory"]["options"])
        assert fields["description"]["value"] == typed["description"]
        # Checks answer in Spanish and keep what was typed.
        bad = (await post({"user": "ann", "form": {"id": form["form_id"], "values": report_values(
            **typed, subcategory="", when_date="2999-01-01", site="")}}))
        assert bad["text"] == "Corrija los campos marcados."
        assert bad["form"]["errors"] == {"site": "Obligatorio.",
                                         "when_date": "Esa fecha está en el futuro."}
        assert {f["name"]: f["value"] for f in bad["form"]["fields"]}["description"] == \
            typed["description"]
        done = await post({"user": "ann", "form": {"id": form["form_id"], "values": report_values(
            **typed, subcategory="physical_safety/weapon", when_date="2026-11-01")}})
        assert done["text"].startswith("LLAME AL 911 AHORA") and "registrado" in done["text"]
        human_id = done["text"].split()[-2]
        assert done["sections"][0]["text"] == "Se avisó al equipo de guardia."
        assert "Seguridad física: Arma" in done["sections"][1]["text"]
        # On-call reads the office's language; the record keeps its category key.
        notice = (await _wait_inbox(http, bot.url, "oncall", 1))[0]["reply"]
        assert human_id in notice["text"] and "Physical safety" in str(notice)
        [details_button] = done["buttons"]
        assert details_button["label"] == "Agregar detalles"
        opened = await post({"user": "ann", "action": {"id": details_button["action_id"],
                                                       "value": details_button["value"]}})
        assert opened["form"]["title"] == f"Agregar detalles a {human_id}"
        saved = await post({"user": "ann", "form": {"id": opened["form"]["form_id"], "values": {
            "details": "Se cerró la puerta y llegó la policía."}}})
        assert saved["text"] == f"Detalles agregados a {human_id}."
        shown = await post({"user": "ann", "text": f"incident show {human_id}"})
        assert "Se cerró la puerta" in str(shown)


async def test_a_quick_report_in_spanish_is_confirmed_in_spanish(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, incidents=INCIDENTS, roles=ROLES)
    async with running_bot(settings) as bot, aiohttp.ClientSession() as http:
        reply = await _post(http, bot.url, {"user": "ann", "text": "incident el escáner de boletas "
                                            "de Hartford no funciona desde las ocho"})
        assert "registrado" in reply["text"], reply
        assert [b["label"] for b in reply["buttons"]][-1] == "Completar reporte"
        assert reply["buttons"][-1]["value"].startswith("es:INC-")
        completing = await _post(http, bot.url, {"user": "ann", "action": {
            "id": reply["buttons"][-1]["action_id"], "value": reply["buttons"][-1]["value"]}})
        assert completing["text"].startswith("Completar INC-")
        assert completing["form"]["form_id"].startswith("incident:completeform:es:INC-")
        assert completing["form"]["banner"].startswith("Si alguien")
