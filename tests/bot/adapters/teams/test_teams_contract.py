"""Contract at the seam: what Teams sends us, and what we send back to the Bot Connector.

Each case in ``tests/data/teams_contract/`` is a list of steps (activities posted to the real
server, failures injected into the fake Bot Connector, proactive sends and updates through the
outbox transport) and, under ``expected``, what came out: every call the bot made to the
connector (method, path, status and the activity fields Teams relies on), the HTTP answers, the
transport's results or refusals, and the stored conversation references.

The fixtures were recorded on the botbuilder adapter and replayed unchanged against the
Microsoft 365 Agents SDK adapter: the cases depend only on HTTP in and HTTP out, never on
which SDK sits in between. ``TEAMS_CONTRACT_RECORD=1`` rewrites ``expected`` (review the diff).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.db.models import ConversationReference
from bot.messages import Destination, Reply
from bot.outbox.transport import PermanentSendError, RetryableSendError
from tests.fakes.bot_connector import Call, FakeBotConnector, load_activity, post_activity
from tests.support import make_settings, running_bot

CASES = Path(__file__).resolve().parents[3] / "data" / "teams_contract"
RECORD = os.environ.get("TEAMS_CONTRACT_RECORD") == "1"


@pytest.fixture
def fake() -> Iterator[FakeBotConnector]:
    with FakeBotConnector() as connector:
        yield connector


def _dig(body: dict[str, Any], dotted: str) -> Any:
    node: Any = body
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _call(call: Call) -> dict[str, Any]:
    """The parts of an outgoing call Teams relies on (not the card's wording: renderers own it)."""
    fields = ("type", "replyToId", "conversation.id", "recipient.id", "from.id",
              "channelData.tenant.id")
    activity = {name: _dig(call.body, name) for name in fields}
    activity["attachments"] = [a.get("contentType") for a in call.body.get("attachments") or []]
    return {"method": call.method, "path": call.path, "status": call.status,
            "activity": {k: v for k, v in activity.items() if v not in (None, [])}}


def _reference(row: ConversationReference, fake_url: str) -> dict[str, Any]:
    reference = json.loads(row.reference)
    fields = ("serviceUrl", "channelId", "conversation.id", "conversation.tenantId", "bot.id",
              "user.id")
    picked = {name: _dig(reference, name) for name in fields}
    picked["serviceUrl"] = str(picked["serviceUrl"]).replace(fake_url, "{connector}")
    return {"key": row.key, "workspace": row.workspace, "user_id": row.user_id,
            "channel": row.channel, "reference": picked}


def _button(call: Call, prefix: str) -> dict[str, Any]:
    [attachment] = call.body["attachments"]
    for action in attachment["content"].get("actions", []):
        if str(action.get("data", {}).get("action_id", "")).startswith(prefix):
            return dict(action["data"])
    raise AssertionError(f"no {prefix} button on the card")


@pytest.mark.parametrize("case", sorted(p.stem for p in CASES.glob("*.json")))
async def test_contract_replays(case: str, tmp_path: Path, fake: FakeBotConnector) -> None:
    spec = json.loads((CASES / f"{case}.json").read_text(encoding="utf-8"))
    results: list[dict[str, Any]] = []
    last: dict[str, Any] = {}
    async with running_bot(make_settings(tmp_path)) as bot:
        transport = bot.services.outbox.transports["teams"]
        for index, step in enumerate(spec["steps"]):
            result: dict[str, Any] = {}
            if "fail" in step:
                fake.fail_next(**step["fail"])
                continue
            if "post" in step or step.get("repost"):
                if "post" in step:
                    before = len(fake.sends())
                    activity = load_activity(step["post"], fake.url + "/",
                                             id=f"{case}-{index}", **step.get("changes", {}))
                    if "value_from_button" in step:
                        activity["value"] = _button(fake.sends()[-1], step["value_from_button"])
                    if "action_from_button" in step:
                        activity["value"]["action"]["data"] = _button(
                            fake.sends()[-1], step["action_from_button"])
                    last = activity
                started = time.monotonic()
                status, body = await post_activity(bot.url, last)
                elapsed = time.monotonic() - started
                assert status == step["status"], body
                if "within" in step:
                    assert elapsed < step["within"]
                if "invoke" in step:
                    assert {k: body[k] for k in step["invoke"]} == step["invoke"]
                if "invoke_value" in step:
                    assert step["invoke_value"] in body["value"]
                if "shown" in step:
                    sends = await fake.wait_for_sends(before + 1)
                    assert step["shown"] in sends[-1].shown
                result = {"status": status}
            elif "send" in step or "update" in step:
                destination = Destination.parse(step.get("send") or step["update"])
                try:
                    if "send" in step:
                        ref = await transport.send(destination, Reply(text=step["text"]),
                                                   key=f"{case}-{index}")
                        assert ref.startswith(step["ref_prefix"]), ref
                        last["ref"] = ref
                        result = {"sent": True}
                    else:
                        await transport.update(destination, last["ref"], Reply(text=step["text"]))
                        result = {"updated": True}
                    assert "raises" not in step, f"step {index} should have been refused"
                except (PermanentSendError, RetryableSendError) as exc:
                    assert type(exc).__name__ == step.get("raises"), exc
                    assert str(exc).startswith(step["reason"]), str(exc)
                    if "retry_after" in step:
                        assert isinstance(exc, RetryableSendError)
                        assert exc.retry_after == step["retry_after"]
                    result = {"raises": type(exc).__name__, "reason": step["reason"]}
            results.append(result)
        async with bot.services.db.session() as session:
            rows = (await session.execute(
                sa.select(ConversationReference).order_by(ConversationReference.key))
            ).scalars().all()
    observed = {"results": results, "calls": [_call(c) for c in fake.calls],
                "references": [_reference(r, fake.url) for r in rows]}
    if RECORD:
        spec["expected"] = observed
        (CASES / f"{case}.json").write_text(
            json.dumps(spec, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    assert observed == spec["expected"]
