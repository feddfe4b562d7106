"""The reporter's side of the incident feature in Spanish: the form, its errors, the confirmation.

A Spanish speaker who reports danger is told to call 911 in Spanish; the form, its checks and
the confirmation that follow are Spanish too. The record itself stays in the office's terms
(category keys, severities, statuses), so triage, routing and notifications do not change.
Everything is written once in English; :func:`say` gives the Spanish for the same words, and a
test walks every form so that no label falls back to English.
"""

from __future__ import annotations

import re
from dataclasses import replace

from bot.messages import Form

ES: dict[str, str] = {
    # the form
    "Report an incident": "Reportar un incidente",
    "Report this message as an incident": "Reportar este mensaje como incidente",
    "If anyone is in immediate danger or there is a threat of violence, CALL 911 NOW, then file "
    "this report.": "Si alguien está en peligro inmediato o hay una amenaza de violencia, LLAME "
                    "AL 911 AHORA y después presente este reporte.",
    "Incident records may be public records: do not type Social Security numbers or dates of "
    "birth.": "Los registros de incidentes pueden ser documentos públicos: no escriba números "
              "de Seguro Social ni fechas de nacimiento.",
    "Next": "Siguiente", "Cancel": "Cancelar", "File report": "Enviar reporte", "Save": "Guardar",
    "Save details": "Guardar detalles", "Yes": "Sí", "No": "No",
    "Is anyone in immediate danger?": "¿Hay alguien en peligro inmediato?",
    "What kind of incident": "Tipo de incidente",
    "What happened": "Qué pasó",
    "Describe people by role only (poll worker, voter, observer).":
        "Describa a las personas solo por su función (trabajador electoral, votante, "
        "observador).",
    "Type": "Subtipo",
    "Jurisdiction": "Jurisdicción",
    "Where (polling place, office, precinct)": "Dónde (centro de votación, oficina, precinto)",
    "Date it happened": "Fecha en que ocurrió",
    "Time (HH:MM, local)": "Hora (HH:MM, hora local)",
    "Has voting, ballot processing or a critical system stopped, or is there a confirmed "
    "compromise or a credible threat to a person?":
        "¿Se detuvo la votación, el procesamiento de boletas o un sistema crítico, o hay un "
        "ataque confirmado o una amenaza creíble contra una persona?",
    "Are operations degraded, or is misinformation spreading locally?":
        "¿Las operaciones funcionan con dificultad, o se está difundiendo desinformación en la "
        "zona?",
    "Where it was seen (platform, site or phone)": "Dónde se vio (plataforma, sitio o teléfono)",
    "Link to the post": "Enlace a la publicación",
    "Reach (views, shares)": "Alcance (vistas, veces compartido)",
    "Account handle": "Nombre de la cuenta",
    "First seen": "Visto por primera vez",
    "Neutral summary of the claim": "Resumen neutral de lo que se afirma",
    "Why it is false (with a source)": "Por qué es falso (con una fuente)",
    "Seal, asset or batch numbers": "Números de sello, de inventario o de lote",
    "Actions taken, impact, others notified": "Medidas tomadas, impacto, a quién más se avisó",
    "Law enforcement notified: agency (required for SEV1/SEV2 before close)":
        "Policía notificada: agencia (obligatorio en SEV1/SEV2 antes de cerrar)",
    "Law enforcement case number": "Número de caso de la policía",
    "Link to the original chat message": "Enlace al mensaje original del chat",
    # categories and their types
    "Physical safety": "Seguridad física", "Violence": "Violencia", "Weapon": "Arma",
    "Bomb threat": "Amenaza de bomba",
    "Suspicious package or white powder": "Paquete sospechoso o polvo blanco",
    "Swatting": "Swatting (llamada falsa a la policía)", "Evacuation": "Evacuación",
    "Medical": "Emergencia médica",
    "Threat or harassment": "Amenaza o acoso",
    "Threat to an official": "Amenaza a un funcionario",
    "Doxxing": "Publicación de datos personales (doxxing)", "Harassment": "Acoso",
    "Voter intimidation": "Intimidación de votantes",
    "Disruption at a polling place": "Alteración en un centro de votación",
    "Disruptive person": "Persona que causa disturbios",
    "Electioneering": "Propaganda electoral prohibida",
    "Observer dispute": "Disputa con observadores", "Blocked access": "Acceso bloqueado",
    "Long lines": "Filas largas", "Facility problem": "Problema en el local",
    "Staffing or supply shortage": "Falta de personal o de materiales",
    "Accessibility": "Accesibilidad",
    "Equipment or systems": "Equipos o sistemas", "Tabulator": "Tabuladora",
    "Ballot-marking device": "Dispositivo para marcar boletas",
    "Poll book": "Libro de votantes (poll book)",
    "Registration database": "Base de datos del registro", "Results site": "Sitio de resultados",
    "Seal discrepancy": "Discrepancia en los sellos", "Missing equipment": "Equipo faltante",
    "Cyber": "Ciberseguridad", "Phishing reported": "Phishing reportado",
    "Phishing clicked": "Alguien abrió un enlace de phishing",
    "Account compromise": "Cuenta comprometida", "Malware or ransomware": "Malware o ransomware",
    "DDoS or site outage": "DDoS o sitio caído", "Defacement": "Sitio web alterado",
    "Unauthorized access": "Acceso no autorizado", "Data exposure": "Exposición de datos",
    "Ballot custody": "Custodia de boletas",
    "Chain-of-custody break": "Ruptura de la cadena de custodia",
    "Missing ballots": "Boletas faltantes",
    "Reconciliation discrepancy": "Discrepancia en la conciliación",
    "Drop box damage": "Daño a un buzón de boletas",
    "Mail ballot issue": "Problema con boletas por correo",
    "Misinformation": "Desinformación",
    "False date, place or method": "Fecha, lugar o forma de votar falsos",
    "Fake official account": "Cuenta oficial falsa",
    "Impersonation text or robocall": "Mensaje o llamada automática que suplanta a alguien",
    "Manipulated media": "Imagen, audio o video manipulado",
    "Hazard or continuity": "Riesgo o continuidad de operaciones", "Weather": "Clima",
    "Fire": "Incendio", "Flood": "Inundación", "Utility outage": "Corte de servicios",
    "Other": "Otro",
    # checks
    "Required.": "Obligatorio.",
    "Choose one of the listed options.": "Elija una de las opciones de la lista.",
    "Use a full link starting with https://": "Use un enlace completo que empiece con https://",
    "Use a date like 2026-11-03.": "Use una fecha como 2026-11-03.",
    "Use 24-hour time like 14:05.": "Use la hora de 24 horas, como 14:05.",
    "That date is in the future.": "Esa fecha está en el futuro.",
    "That time is in the future.": "Esa hora está en el futuro.",
    "This category has no types.": "Esta categoría no tiene subtipos.",
    "This type belongs to another category.": "Ese subtipo es de otra categoría.",
    "Please fix the highlighted fields.": "Corrija los campos marcados.",
    "a Social Security number": "un número de Seguro Social",
    "a date of birth": "una fecha de nacimiento",
    "That looks like a Social Security number or date of birth. Incident records may be public "
    "records: please remove it.": "Eso parece un número de Seguro Social o una fecha de "
                                  "nacimiento. Los registros de incidentes pueden ser documentos "
                                  "públicos: por favor, quítelo.",
    # the confirmation
    "The on-call team has been notified.": "Se avisó al equipo de guardia.",
    "Your report is recorded and routed to the incident team, but on-call was not paged: you "
    "have reached this hour's limit of SEV1 pages.":
        "Su reporte quedó registrado y enviado al equipo de incidentes, pero no se avisó al "
        "equipo de guardia: se alcanzó el límite de avisos SEV1 de esta hora.",
    "Keep this id. Incident records may be public records.":
        "Guarde este número. Los registros de incidentes pueden ser documentos públicos.",
    "Please complete the report: use the button below.":
        "Complete el reporte con el botón de abajo.",
    "Complete report": "Completar reporte", "Add details": "Agregar detalles",
    "Where did this happen? Choose the jurisdiction: its incident managers are told once you "
    "do, not before.": "¿Dónde ocurrió? Elija la jurisdicción: se avisará a sus responsables "
                       "de incidentes cuando la elija, no antes.",
    "jurisdiction not chosen yet": "jurisdicción aún sin elegir",
    # statuses, as the summary line shows them
    "new": "nuevo", "triaged": "clasificado", "in_progress": "en curso",
    "escalated": "escalado", "monitoring": "en observación", "resolved": "resuelto",
    "closed": "cerrado",
    # the hourly filing limits, as a refusal names them ("reports and alerts from ...")
    "reports": "reportes", "reports from you": "reportes suyos",
    "alerts from your network address": "alertas desde su dirección de red",
    "alerts from your workspace": "alertas desde su espacio de trabajo",
    "your election office": "su oficina electoral",
}

#: Words with a value inside: (English pattern, Spanish template). The values are translated
#: (a category, "a date of birth") except in the patterns of :data:`_AS_IS` (a title, a place).
_PATTERNS = (
    (re.compile(r"At most (\d+) characters \(you typed (\d+)\)\."),
     "Como máximo {0} caracteres (escribió {1})."),
    (re.compile(r"This looks like (.+)\. Incident records may be public records: please "
                r"remove it\."),
     "Esto parece {0}. Los registros de incidentes pueden ser documentos públicos: por favor, "
     "quítelo."),
    (re.compile(r"This field is not part of an? (.+) report\."),
     "Este campo no forma parte de la categoría «{0}»."),
    (re.compile(r"Filed (\S+)\."), "Reporte {0} registrado."),
    (re.compile(r"Already filed (\S+)\."), "El reporte {0} ya estaba registrado."),
    (re.compile(r"Add details to (\S+)"), "Agregar detalles a {0}"),
    (re.compile(r"Details added to (\S+)\."), "Detalles agregados a {0}."),
    (re.compile(r"Complete (INC-\S+)"), "Completar {0}"),
    (re.compile(r"Routed: (.+)"), "Enviado a la jurisdicción: {0}"),
    (re.compile(r"This report was NOT filed: the limit of (\d+) (.+) per hour has been reached\. "
                r"To report it now, contact (.+)\. You can file again in the next hour; this "
                r"refusal was recorded\."),
     "Este reporte NO se presentó: se alcanzó el límite de {0} {1} por hora. Para reportarlo "
     "ahora, comuníquese con {2}. Podrá presentarlo de nuevo en la próxima hora; este rechazo "
     "quedó registrado."),
    (re.compile(r"Rumor control: see the vetted article \"(.+)\" \(ask me about it\)\."),
     "Control de rumores: vea el artículo verificado \"{0}\" (pregúnteme por él)."),
)
#: Templates whose value is a name to use as it is (an article's title is asked for by it).
_AS_IS = frozenset({"Control de rumores: vea el artículo verificado \"{0}\" (pregúnteme por él)."})


def language_of(locale: str | None) -> str:
    """"es" for a Spanish locale or language code ("es", "es-MX"); else "en"."""
    return "es" if (locale or "").lower().replace("_", "-").split("-")[0] == "es" else "en"


def say(text: str, language: str) -> str:
    """``text`` in ``language``: its Spanish when there is one, else as written."""
    if language != "es" or not text:
        return text
    if text in ES:
        return ES[text]
    for pattern, template in _PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            values = match.groups() if template in _AS_IS else map(_parts, match.groups())
            return template.format(*values)
    return text


def _parts(value: str) -> str:
    """A value inside a sentence: a category or a list of "a X and a Y", in Spanish."""
    pieces = value.split(" and ")
    if all(p in ES or p.capitalize() in ES for p in pieces):
        words = [ES.get(p) or ES[p.capitalize()].lower() for p in pieces]
        return " y ".join(words)
    return value


def localize(form: Form, language: str) -> Form:
    """The same form with its words (not its values) in ``language``."""
    if language != "es":
        return form
    fields = tuple(replace(f, label=say(f.label, language), hint=say(f.hint, language),
                           options=tuple((value, say(label, language))
                                         for value, label in f.options))
                   for f in form.fields)
    return replace(form, title=say(form.title, language), fields=fields,
                   submit_label=say(form.submit_label, language),
                   errors={k: say(v, language) for k, v in form.errors.items()},
                   intro=say(form.intro, language), banner=say(form.banner, language),
                   cancel_label=say(form.cancel_label, language))


def tagged(value: str, language: str) -> str:
    """A form id's or button value's tail carrying the reader's language ("es:INC-…")."""
    return f"es:{value}" if language == "es" else value


def untag(value: str) -> tuple[str, str]:
    """(language, value) of a :func:`tagged` tail; untagged is English."""
    return ("es", value[3:]) if value.startswith("es:") else ("en", value)
