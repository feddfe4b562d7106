"""Answers posted to a response_url: JSON on the shared pool, errors reported, one safe retry."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from bot.adapters.slack.response_url import ResponseUrlRefused, post_response, response_url_allowed


class Endpoint:
    """A raw HTTP/1.1 server on 127.0.0.1: the first ``drop`` connections close unanswered."""

    def __init__(self, status: int = 200, drop: int = 0) -> None:
        self.status, self.drop = status, drop
        self.bodies: list[dict[str, object]] = []
        self.connections = 0

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/response/1"

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        dropped = self.connections <= self.drop
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length"))
                body = await reader.readexactly(length)
                if dropped:  # a kept-alive connection the server closed: nothing delivered
                    return
                self.bodies.append(json.loads(body))
                writer.write(f"HTTP/1.1 {self.status} X\r\nContent-Length: 2\r\n\r\nok".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def test_the_answer_is_posted_as_json_without_empty_fields() -> None:
    endpoint = Endpoint()
    async with endpoint as url, aiohttp.ClientSession() as session:
        await post_response(session, url, {"text": "hi", "blocks": [], "thread_ts": None,
                                           "response_type": "ephemeral"})
        await post_response(session, url, {"text": "again"})
    assert endpoint.bodies == [{"text": "hi", "blocks": [], "response_type": "ephemeral"},
                               {"text": "again"}]
    assert endpoint.connections == 1  # kept alive


async def test_an_error_status_is_raised_not_ignored() -> None:
    endpoint = Endpoint(status=404)
    async with endpoint as url, aiohttp.ClientSession() as session:
        with pytest.raises(ResponseUrlRefused, match="404"):
            await post_response(session, url, {"text": "too late"})
    assert endpoint.bodies == [{"text": "too late"}]


async def test_a_connection_closed_unanswered_is_retried_once_on_a_new_one() -> None:
    endpoint = Endpoint(drop=1)
    async with endpoint as url, aiohttp.ClientSession() as session:
        await post_response(session, url, {"text": "answer"})
    assert endpoint.bodies == [{"text": "answer"}]
    assert endpoint.connections == 2


async def test_a_second_closed_connection_is_an_error() -> None:
    endpoint = Endpoint(drop=2)
    async with endpoint as url, aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await post_response(session, url, {"text": "answer"})
    assert endpoint.bodies == [] and endpoint.connections == 2


@pytest.mark.parametrize(("url", "allowed"), [
    ("https://hooks.slack.com/commands/T1/123/abc", True),
    ("https://hooks.slack.com:443/actions/T1/1/x", True),
    ("https://hooks.slack-gov.com/commands/T1/1/x", True),
    ("https://slack.example:8443/response/1", True),  # the Web API's own host and port
    ("http://hooks.slack.com/commands/T1/1/x", False),  # not over TLS
    ("https://hooks.slack.com:8443/commands/T1/1/x", False),
    ("https://hooks.slack.com.evil.example/commands/T1/1/x", False),
    ("https://hooks.slack.com@evil.example/commands/T1/1/x", False),  # userinfo trick
    ("https://evil.example/commands", False),
    ("https://slack.example/response/1", False),  # the API host on another port
    ("http://slack.example:8443/response/1", False),  # the API host without TLS
    ("https://[::1/x", False),  # malformed
    ("https://hooks.slack.com:99999/x", False),  # port out of range
    ("", False),
    ("/relative/path", False),
])
def test_only_slacks_hook_hosts_or_the_api_host_take_answers(url: str, allowed: bool) -> None:
    assert response_url_allowed(url, "https://slack.example:8443/api/") is allowed
