"""Every sentence the e-mail adapter adds to a message, in one place for staff to review.

The TLP meanings are the FIRST Traffic Light Protocol 2.0 labels, said in our own words.
"""

from __future__ import annotations

import re

#: What each TLP 2.0 label asks of the reader (FIRST TLP 2.0), said shortly.
TLP_MEANINGS = {
    "TLP:CLEAR": "Sharing is not limited: you may pass this on to anyone, publicly included.",
    "TLP:GREEN": "Share within your community (your organisation and its peer partners), "
                 "never in public channels.",
    "TLP:AMBER": "Share only with people who need to know, inside your organisation and with "
                 "the clients it serves.",
    "TLP:AMBER+STRICT": "Share only with people who need to know inside your own organisation.",
    "TLP:RED": "For you, the named recipient, only: do not pass it on.",
}
#: Which label a marking is, wherever it sits in the marking ("TLP:AMBER+STRICT" before AMBER).
TLP_LABEL = re.compile(r"TLP:(?:CLEAR|WHITE|GREEN|AMBER\+STRICT|AMBER|RED)\b")
#: TLP 1.0's WHITE reads as 2.0's CLEAR.
TLP_ALIASES = {"TLP:WHITE": "TLP:CLEAR"}

EXERCISE_LINE = "EXERCISE: this message is part of an exercise. Take no real-world action."
TEST_LINE = "TEST: this is a test message. Take no real-world action."
#: A title or marking that starts with one of these words is an exercise or a test.
EXERCISE_WORDS = {"EXERCISE": EXERCISE_LINE, "TEST": TEST_LINE}

UPDATED_PREFIX = "Updated: "
UPDATED_LINE = "Updated: this message replaces the earlier one in this conversation."
BUTTONS_NOTE = ("This message has buttons in the office's chat tools (Slack, Teams, web chat); "
                "they cannot be pressed in e-mail.")


def operational(office: str) -> str:
    """The last line of every footer: why there is no unsubscribe link."""
    return f"This is an operational message from {office}; it has no unsubscribe link."


def sent_by(office: str) -> str:
    """Who sent it."""
    return f"Sent by {office}."


def questions(contact: str) -> str:
    """Whom to ask."""
    return f"Questions: {contact}."
