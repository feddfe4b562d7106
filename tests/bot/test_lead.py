"""The main line under a title: never the title a second time, on any platform."""

from __future__ import annotations

from bot.adapters.slack.render import to_slack_blocks
from bot.adapters.teams.render import to_activity
from bot.messages import Fact, Reply, Section, lead

STATUS = Reply(text="Status of alert AL-1 (sent): TLP:GREEN | Polling hours are unchanged",
               title="Status of alert AL-1 (sent)", fields=(Fact("Received", "1"),))


def test_a_line_that_starts_with_the_title_shows_only_what_follows() -> None:
    assert lead(STATUS, ()) == "TLP:GREEN | Polling hours are unchanged"
    assert lead(Reply(text="Filed", title="Filed"), ()) == ""
    assert lead(Reply(text="Title: ", title="Title"), ()) == "Title: "  # nothing would remain
    assert lead(Reply(text="Other words", title="Title"), ()) == "Other words"
    said = Reply(text="Once", title="T", sections=(Section(text="Once"),))
    assert lead(said, said.sections) == ""


def test_slack_and_teams_show_the_title_once() -> None:
    slack = str(to_slack_blocks(STATUS))
    assert slack.count("Status of alert AL-1") == 1 and "Polling hours are unchanged" in slack
    card = to_activity(STATUS)["attachments"][0]["content"]
    assert str(card["body"]).count("Status of alert AL-1") == 1


def test_a_first_line_the_title_ends_with_is_not_repeated() -> None:
    reply = Reply(text="TLP:AMBER | SEVERE | WARNING: Bomb threat\nEvacuate first.",
                  title="EXERCISE - EXERCISE | TLP:AMBER | SEVERE | WARNING: Bomb threat")
    assert lead(reply, ()) == "Evacuate first."
    assert lead(Reply(text="Polls open at 7", title="Hours"), ()) == "Polls open at 7"
    assert lead(Reply(text="Hours\nPolls open at 7", title="Hours"), ()) == "Polls open at 7"


def test_a_first_line_the_title_merely_ends_with_is_kept() -> None:
    for first in ("closed", "place closed", "ace closed"):
        reply = Reply(text=f"{first}\nUse the library instead.", title="Polling place closed")
        assert lead(reply, ()) == reply.text
