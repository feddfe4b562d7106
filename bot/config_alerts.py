"""The ``alerts:`` section of app.yaml (coalition network, tiers, pacing, windows)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class AlertsConfig(BaseModel):
    """Rapid-response alerts to the coalition network."""

    model_config = ConfigDict(extra="forbid", frozen=True)
