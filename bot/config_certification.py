"""The ``certification:`` section of app.yaml (reminder policy, programs, holidays)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class CertificationConfig(BaseModel):
    """Certification tracking and reminders."""

    model_config = ConfigDict(extra="forbid", frozen=True)
