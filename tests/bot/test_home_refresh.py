"""HomeRefresh republishes only homes that were shown, however long the machine has been up."""

from __future__ import annotations

import asyncio
import time

from bot.home import HomeRefresh


async def _publish(_identity: str) -> None:
    return None


def test_a_home_never_shown_is_not_republished_on_a_freshly_booted_machine() -> None:
    """The "recent" window longer than the uptime (monotonic clock near 0) must not admit all."""

    async def scenario() -> tuple[int, int]:
        homes = HomeRefresh(delay=60, recent=time.monotonic() + 3600)  # longer than the uptime
        homes.register("slack", _publish)
        never_shown = homes.changed(["slack:T1:U1"])
        homes.opened("slack:T1:U2")
        shown = homes.changed(["slack:T1:U1", "slack:T1:U2"])
        await homes.aclose()
        return never_shown, shown

    assert asyncio.run(scenario()) == (0, 1)
