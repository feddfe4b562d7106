"""Closed sets: severity is ordered by harm, and stored values read back as members."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot.db.columns import EnumText
from handlers.incidents.enums import IncidentStatus, Severity


def test_severity_orders_by_harm_not_by_text() -> None:
    assert "SEV1" < "SEV3"  # the string order the enum must not use
    assert Severity.SEV1 > Severity.SEV3 and Severity.SEV4 < Severity.SEV2
    assert Severity("SEV2") >= "SEV2" and max(Severity) is Severity.SEV1
    assert sorted(Severity) == [Severity.SEV4, Severity.SEV3, Severity.SEV2, Severity.SEV1]
    with pytest.raises(ValueError):
        _ = Severity.SEV1 > "SEV9"
    with pytest.raises(TypeError):
        _ = Severity.SEV1 > 3


def test_stored_as_plain_text_and_read_back_as_members() -> None:
    table = sa.Table("t", sa.MetaData(), sa.Column("status", EnumText(IncidentStatus, 16)))
    engine = sa.create_engine("sqlite://")
    table.create(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"status": IncidentStatus.TRIAGED}, {"status": "closed"}])
        conn.execute(sa.text("INSERT INTO t (status) VALUES ('edited by hand')"))
        raw = conn.execute(sa.text("SELECT status FROM t")).scalars().all()
        read = conn.execute(sa.select(table.c.status)).scalars().all()
    assert raw == ["triaged", "closed", "edited by hand"]
    assert read == [IncidentStatus.TRIAGED, IncidentStatus.CLOSED, "edited by hand"]
    assert type(read[0]) is IncidentStatus
    with pytest.raises(sa.exc.StatementError):
        with engine.begin() as conn:
            conn.execute(table.insert(), [{"status": "bogus"}])


def test_a_status_is_read_from_its_value_or_a_button_word() -> None:
    assert IncidentStatus.from_word("Acknowledged") is IncidentStatus.TRIAGED
    assert IncidentStatus.from_word("ack") is IncidentStatus.TRIAGED
    assert IncidentStatus.from_word("resolve") is IncidentStatus.RESOLVED
    assert IncidentStatus.from_word("in-progress") is IncidentStatus.IN_PROGRESS
    assert IncidentStatus.from_word("monitoring") is IncidentStatus.MONITORING
    assert IncidentStatus.from_word("done") is None and IncidentStatus.from_word("") is None
