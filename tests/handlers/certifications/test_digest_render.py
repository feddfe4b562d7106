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


def test_a_supervisor_of_thousands_gets_the_most_urgent_and_a_count_of_the_rest(
        tmp_path: Path) -> None:
    app = cert_settings(tmp_path).app
    places = ("KS", "CT", "CA")
    records = {i: OfficialRecord(i, "America/Chicago", [], identity=f"webchat:local:o{i}",
                                 jurisdiction=places[i % 3], name=f"Official {i:04d}")
               for i in range(1, 3001)}
    records[0] = OfficialRecord(0, "America/Chicago", [], identity=SUPER, jurisdiction="KS",
                                name="The Supervisor")
    items = [Due(0, "0:KS-CLERK:y1", 0, _standing("KS-CLERK", "y1", date(2027, 1, 5), ("KS-101",)),
                 DAY, escalate=False)]
    for i in range(1, 3001):  # official 2999 is the most overdue, then 2998, ...
        deadline = date(2026, 12, 31).fromordinal(date(2026, 12, 31).toordinal() - i)
        items.append(Due(i, f"{i}:CERA:renewal", 14, _standing("CERA", "renewal", deadline, ()),
                         DAY, escalate=True))
    reply = build_digest(SUPER, items, records, app)
    assert DigestRenderer(app).payload(SUPER, items, records) == dumps(reply)
    texts = [s.text for s in reply.sections]
    assert len(texts) == 1 + 20 + 1
    assert texts[0].startswith("**KS-CLERK**")  # their own deadline first, with its buttons
    assert [b.value for b in reply.buttons][:3] == ["0:KS-CLERK:y1"] * 3
    assert "Official 3000 " in texts[1] and "Official 2981 " in texts[20]  # most overdue first
    assert texts[-1].startswith("...and 2,980 more deadlines of 2,980 officials you supervise")
    assert "CT 994, CA 993, KS 993" in texts[-1]  # 1000 each, less the 20 listed (3000..2981)
    assert "/cert jurisdiction CT" in texts[-1]  # the one with the most, as the example
    few = build_digest(SUPER, items[:21], records, app)  # 20 escalations: all listed, in order
    assert [f"Official {i:04d} " in s.text for i, s in enumerate(few.sections[1:], 1)] == [True] * 20
    assert len(few.sections) == 21 and not any(s.text.startswith("...and") for s in few.sections)
