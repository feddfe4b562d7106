"""``email:<address>`` destinations: parsed, normalised, refused when not one plain address."""

import pytest

from bot.config.base import check_destination, check_identity
from bot.messages import Destination, InvalidDestination


def test_an_address_round_trips_in_normal_form():
    destination = Destination.parse("email:Jane.Doe@Town.Example.GOV")
    assert destination.platform == "email"
    assert destination.address == "Jane.Doe@town.example.gov"
    assert str(destination) == "email:Jane.Doe@town.example.gov"
    assert Destination.parse(str(destination)) == destination
    assert Destination.email(" clerk@county.example.org ") == Destination.parse(
        "email:clerk@county.example.org")
    assert check_destination("email:Clerk@County.Example.org") == "email:Clerk@county.example.org"


@pytest.mark.parametrize("text", [
    "email:", "email:clerk", "email:clerk@localhost", "email:a b@example.org",
    "email:Jane <jane@example.org>", "email:a@example.org,b@example.org",
    "email:a@example.org\r\nBcc: victim@example.org", "email:jos\u00e9@example.org",
    "email:j@[192.0.2.1]", 'email:"quoted"@example.org', "email:" + "a" * 250 + "@example.org",
])
def test_anything_but_one_plain_address_is_refused(text):
    with pytest.raises(InvalidDestination):
        Destination.parse(text)


def test_a_built_destination_must_be_in_normal_form():
    with pytest.raises(InvalidDestination):
        Destination("email", "relay", user_id="Jane@Example.ORG")
    with pytest.raises(InvalidDestination):
        Destination("email", "elsewhere", user_id="jane@example.org")
    assert Destination("email", "relay", user_id="jane@example.org").address == "jane@example.org"


def test_chat_destinations_have_no_address():
    assert Destination.parse("slack:T1:C2").address is None


def test_an_address_is_not_a_chat_identity():
    with pytest.raises(ValueError):
        check_identity("email:relay:jane@example.org")
    assert check_identity("slack:T1:U2") == "slack:T1:U2"
