"""A pass's digests written from shared parts are exactly what serialising each reply stores."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from bot.outbox.queue import dumps
from handlers.certifications.enums import CertStatus
from handlers.certifications.reminders import Due, OfficialRecord
from handlers.certifications.replies import DigestRenderer, build_digest
from handlers.certifications.status import Standing
from tests.handlers.certifications.platform_support import cert_settings

DAY = date(2026, 12, 17)
SUPER = "webchat:local:ks-super"


def _standing(program: str, requirement: str, deadline: date, missing: tuple[str, ...],
              title: str = "") -> Standing:
    return Standing(program, CertStatus.IN_PROGRESS, deadline, requirement, None, missing, title)


def _records() -> dict[int, OfficialRecord]:
    people = [(1, "Dana Reyes", "KS", "webchat:local:dana", ""),
              (2, 'José "Pepe" Ñúñez \\ <b>', "CT", "webchat:local:jose", "jose@ct.example.gov"),
              (3, "Lee *Bold* _x_", "KS", None, "lee@county.example.gov"),
              (4, "Kim", "CA", "webchat:local:kim", "kim@ca.example.gov")]
    return {i: OfficialRecord(i, "America/Chicago", [], identity=identity, jurisdiction=j,
                              name=name, email=email) for i, name, j, identity, email in people}


def _items() -> list[Due]:
    standings = [
        _standing("KS-CLERK", "y1", date(2026, 12, 31), ("KS-101", "KS-102"), "Year one courses"),
        _standing("KS-CLERK", "y2", date(2026, 12, 17), ()),
        _standing("CT-ROV", "initial", date(2026, 11, 2), tuple(f"C{i}" for i in range(9)),
                  "Certificación inicial"),
        _standing("CERA", "renewal", date(2027, 3, 1), ("12 training hours",)),
    ]
    items = []
    for official in (1, 2, 3, 4):
        for n, standing in enumerate(standings):
            if (official + n) % 2 == 0 or official == 1:
                key = f"{official}:{standing.program}:{standing.requirement}:{standing.deadline}"
                items.append(Due(official, key, 7 * n - 7, standing, DAY, escalate=n > 1))
    return items


def test_rendered_payloads_are_the_serialised_replies(tmp_path: Path) -> None:
    app = cert_settings(tmp_path).app
    records, items = _records(), _items()
    renderer = DigestRenderer(app)
    cases = {  # recipient -> their items: own by chat, own by e-mail, a supervisor, mixed
        "webchat:local:dana": [i for i in items if i.official_id == 1],
        "webchat:local:jose": [i for i in items if i.official_id == 2],
        "email:lee@county.example.gov": [i for i in items if i.official_id == 3],
        "email:jose@ct.example.gov": [i for i in items if i.official_id == 2],
        "email:kim@ca.example.gov": [i for i in items if i.official_id == 4],
        SUPER: [i for i in items if i.escalate],
        "webchat:local:kim": items,  # their own deadlines and others' escalations
        "email:nobody@example.gov": items[:3],  # an address that is no one's own: escalations
    }
    for _ in range(2):  # the second round comes from the caches
        for recipient, mine in cases.items():
            expected = dumps(build_digest(recipient, mine, records, app))
            assert renderer.payload(recipient, mine, records) == expected, recipient
    by_email = json.loads(renderer.payload("email:lee@county.example.gov", cases[
        "email:lee@county.example.gov"], records))
    assert by_email["buttons"] == [] and by_email["footer"]  # the e-mail form really differs
    chat = json.loads(renderer.payload("webchat:local:dana", cases["webchat:local:dana"],
                                       records))
    assert [b["value"] for b in chat["buttons"]][:3] == [cases["webchat:local:dana"][0].key] * 3


def test_an_empty_digest_is_the_serialised_empty_reply(tmp_path: Path) -> None:
    app = cert_settings(tmp_path).app
    assert DigestRenderer(app).payload(SUPER, [], {}) == dumps(build_digest(SUPER, [], {}, app))
