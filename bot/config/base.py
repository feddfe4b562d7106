"""The one strict base of every configuration model, and the one configuration error."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ConfigError(Exception):
    """A configuration problem a person must fix; the message names the key and the fix."""


class Strict(BaseModel):
    """A frozen settings model that refuses unknown keys (a typo is an error, not a default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
