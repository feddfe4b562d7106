"""One strict base for every configuration model, one error, one check of names in app.yaml.

Destinations and identities anywhere in app.yaml (roles, incident routing, alert members) are
checked by the same two rules, the outbox's and the router's.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

from bot.messages import PLATFORMS, Destination


class ConfigError(Exception):
    """A configuration problem a person must fix; the message names the key and the fix."""


class Strict(BaseModel):
    """A frozen settings model that refuses unknown keys (a typo is an error, not a default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def check_destination(value: str) -> str:
    """``platform:workspace:channel``, ``platform:workspace:@user`` or ``email:<address>``.

    The outbox's own rule; an address comes back in its normal form.
    """
    return str(Destination.parse(value))


def check_identity(value: str) -> str:
    """``platform:workspace:user``: who holds a role, files a report or acknowledges."""
    if value.count(":") < 2 or value.split(":", 1)[0] not in PLATFORMS - {"email"}:
        raise ValueError(f"{value!r} must be platform:workspace:user with platform one of "
                         f"{sorted(PLATFORMS - {'email'})}")
    return value


#: A destination in app.yaml (what loads can be queued).
DestinationText = Annotated[str, AfterValidator(check_destination)]
#: A platform identity in app.yaml.
IdentityText = Annotated[str, AfterValidator(check_identity)]
