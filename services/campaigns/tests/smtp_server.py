"""A local SMTP server for tests (aiosmtpd), recording what it receives.

Use the `smtp_server` fixture (import it into the test module), or `running_smtp_server(...)` for a server
with extra aiosmtpd options such as an authenticator. Recipients are answered by their address:
`bounce...` → 550 (permanent), `later...` → 451 (temporary), `closing...` → 421 (the server hangs up);
everything else is accepted.
"""
from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message

import pytest
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"
REFUSALS = (("bounce", "550 5.1.1 no such user"), ("later", "451 4.3.0 try later"),
            ("closing", "421 4.3.2 closing connection"))


@dataclass(frozen=True)
class ReceivedMail:
    message: Message
    recipients: list[str]
    sender: str


@dataclass
class RecordingHandler:
    messages: list[ReceivedMail] = field(default_factory=list)
    connections: set[tuple] = field(default_factory=set)
    hang_up_after: int | None = None  # messages per connection before the server drops it
    _mails_per_connection: dict[tuple, int] = field(default_factory=dict)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.connections.add(session.peer)
        count = self._mails_per_connection.get(session.peer, 0)
        if self.hang_up_after is not None and count >= self.hang_up_after:
            server.transport.abort()  # no reply at all: the client sees the connection vanish
            return "421 4.3.2 gone"
        self._mails_per_connection[session.peer] = count + 1
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        for prefix, reply in REFUSALS:
            if address.lower().startswith(prefix):
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        # Parsed with the line ends Python uses, so tests compare bodies against ordinary strings.
        content = envelope.original_content.replace(b"\r\n", b"\n")
        message = message_from_bytes(content, policy=policy.default)
        self.messages.append(ReceivedMail(message, list(envelope.rcpt_tos), envelope.mail_from))
        return "250 OK"


@dataclass
class SmtpTestServer:
    host: str
    port: int
    handler: RecordingHandler

    @property
    def messages(self) -> list[ReceivedMail]:
        return self.handler.messages

    @property
    def connections(self) -> set[tuple]:
        """The client (host, port) pairs that sent at least one MAIL command: one per connection."""
        return self.handler.connections

    def hang_up_after(self, messages_per_connection: int) -> None:
        self.handler.hang_up_after = messages_per_connection


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@contextmanager
def running_smtp_server(**smtp_options) -> Iterator[SmtpTestServer]:
    handler = RecordingHandler()
    controller = Controller(handler, hostname=HOST, port=free_port(), **smtp_options)
    controller.start()
    try:
        yield SmtpTestServer(HOST, controller.port, handler)
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    with running_smtp_server() as server:
        yield server
