"""Where the answer to a Teams turn goes: the chat, the card that was clicked, or one person.

- A form sent back one step further ("Next", :func:`bot.messages.redraws_form`) replaces the card
  it came from: PUT on the card's activity (the submit's ``replyToId``), as the outbox updates
  its sent activities. An ``adaptiveCard/action`` invoke gets the new card as its invoke
  response instead (Universal Actions refresh, see ``bot.py``). When Teams refuses the update,
  the card is posted as a new reply.
- A reply meant for one person (:func:`bot.messages.for_one_person`: a click's confirmation, a
  refusal, a form sent back with errors, in a channel or a group chat) goes to that person
  privately, in this order:

  1. a targeted message in the same conversation (only they see it), in a cloud whose Teams
     takes them (:attr:`~bot.adapters.teams.clouds.TeamsCloud.targeted_messages`);
  2. their personal chat with the bot (the conversation reference stored when they last used
     it), through the outbox's Teams transport;
  3. else the thread, naming them with a Teams @mention so they notice it.
- Anything else is a reply in the turn's conversation.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable

import aiohttp
from microsoft_agents.activity import Activity, ChannelAccount
from microsoft_agents.activity import Mention as SdkMention
from microsoft_agents.hosting.core import TurnContext

from bot.adapters.teams.render import to_activity
from bot.adapters.teams.send import send_with_retry, status_of
from bot.messages import (
    Destination,
    IncomingMessage,
    InvalidDestination,
    Reply,
    for_one_person,
    redraws_form,
)
from bot.outbox.transport import PermanentSendError, RetryableSendError

log = logging.getLogger(__name__)
#: Sends ``reply`` to a person's personal chat (the outbox transport's ``send``).
PersonalSend = Callable[[Destination, Reply], Awaitable[object]]


def rendered(reply: Reply) -> Activity:
    """The reply as an SDK activity (rendered by ``render.py``)."""
    return Activity.model_validate(to_activity(reply))


async def update_card(context: TurnContext, reply: Reply) -> bool:
    """Replace the card the person submitted from with ``reply``; False when that cannot be."""
    card_id = context.activity.reply_to_id
    if not card_id:
        return False
    activity = rendered(reply)
    activity.id = card_id
    try:
        await context.update_activity(activity)
    except aiohttp.ClientResponseError as exc:
        # Too old to edit, deleted, or not the bot's: the new step is posted instead.
        log.info("Teams refused the card update (%s); posting it", status_of(exc))
        return False
    return True


def with_mention(activity: Activity, person: ChannelAccount) -> Activity:
    """Lead the activity's text with a Teams @mention of ``person`` (so they are notified)."""
    tag = f"<at>{html.escape(person.name or 'you', quote=False)}</at>"
    activity.text = f"{tag} {activity.text}" if activity.text else tag
    mention = SdkMention(mentioned=ChannelAccount(id=person.id, name=person.name), text=tag)
    activity.entities = [*(activity.entities or []), mention]
    return activity


class Delivery:
    """Sends a turn's reply where it belongs (see the module docstring)."""

    def __init__(self, *, targeted: bool, personal: PersonalSend | None) -> None:
        """``targeted``: the cloud takes targeted messages; ``personal``: personal-chat sends."""
        self.targeted = targeted
        self.personal = personal

    async def deliver(self, context: TurnContext, message: IncomingMessage, reply: Reply) -> None:
        """Send ``reply`` to the turn that asked for ``message``."""
        if redraws_form(message, reply) and await update_card(context, reply):
            return
        if for_one_person(message, reply) and await self._privately(context, message, reply):
            return
        await self._send(context, rendered(reply))

    async def _privately(self, context: TurnContext, message: IncomingMessage,
                         reply: Reply) -> bool:
        person = context.activity.from_property
        if person is None or not person.id:
            return False
        if self.targeted and await self._targeted(context, reply, person):
            return True
        if await self._personal_chat(message, reply):
            return True
        # Nowhere private to put it: the thread, naming the person it is for.
        await self._send(context, with_mention(rendered(reply), person))
        return True

    async def _targeted(self, context: TurnContext, reply: Reply,
                        person: ChannelAccount) -> bool:
        activity = rendered(reply).with_targeted_recipient(
            ChannelAccount(id=person.id, name=person.name))
        try:
            await send_with_retry(context, activity)
        except (PermanentSendError, aiohttp.ClientResponseError) as exc:
            # Not offered in this tenant or conversation: try the personal chat next.
            status = exc.status if isinstance(exc, aiohttp.ClientResponseError) else 403
            log.info("Teams refused a targeted message (%s); trying the personal chat", status)
            return False
        return True

    async def _personal_chat(self, message: IncomingMessage, reply: Reply) -> bool:
        if self.personal is None:
            return False
        sender = message.sender
        try:
            destination = Destination("teams", sender.workspace, user_id=sender.user_id)
            await self.personal(destination, reply)
        except (InvalidDestination, PermanentSendError, RetryableSendError) as exc:
            # Typically: they never opened the bot's personal chat (no reference stored).
            log.info("No personal chat for a private reply: %s", type(exc).__name__)
            return False
        return True

    @staticmethod
    async def _send(context: TurnContext, activity: Activity) -> None:
        try:
            await send_with_retry(context, activity)
        except PermanentSendError as exc:
            # Blocked or uninstalled: nothing to retry; the reference stays for the record.
            log.warning("Teams refused the reply permanently: %s", exc)
