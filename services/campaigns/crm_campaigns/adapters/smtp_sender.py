"""Sends a batch of mailing e-mails over one SMTP connection (stdlib smtplib only).

Every message gets a result: `sent`, `bounced` (the server refused the recipient for good, 5xx) or `deferred`
(a temporary refusal, 4xx, or no connection: the caller tries again later). One bad recipient never stops
the batch; a dropped connection is reopened once, after that whatever is left is deferred.
"""
from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from crm_campaigns.domain.templates import single_line

SENT, BOUNCED, DEFERRED = "sent", "bounced", "deferred"
MESSAGE_ID_DOMAIN = "crm.local"


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    sender: str = "campaigns@crm.local"
    timeout: float = 10

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SmtpSettings:
        """From `SMTP_HOST`, `SMTP_PORT`, `SMTP_USERNAME`, `SMTP_PASSWORD`, `SMTP_STARTTLS`, `SMTP_SENDER` in `env`
        (the campaigns settings pass the environment they are read from; crm_campaigns/config.py)."""
        return cls(host=env.get("SMTP_HOST") or "localhost",
                   port=_port(env.get("SMTP_PORT") or "25"),
                   username=env.get("SMTP_USERNAME") or None,
                   password=env.get("SMTP_PASSWORD") or None,
                   starttls=_flag(env.get("SMTP_STARTTLS") or "false"),
                   sender=env.get("SMTP_SENDER") or "campaigns@crm.local")


def _port(text: str) -> int:
    if not text.strip().isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"SMTP_PORT must be a port number, not {text!r}")
    return int(text)


def _flag(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered not in ("true", "false", "1", "0", "yes", "no"):
        raise ValueError(f"SMTP_STARTTLS must be true or false, not {text!r}")
    return lowered in ("true", "1", "yes")


@dataclass(frozen=True)
class OutgoingEmail:
    recipient_id: str
    to_address: str
    subject: str
    body: str
    html: bool = False
    unsubscribe_url: str | None = None


@dataclass(frozen=True)
class SendResult:
    recipient_id: str
    status: str
    detail: str = ""


class ConnectionLost(Exception):
    """The server went away while a message was being sent; whether it arrived is unknown."""


class SmtpSender:
    def __init__(self, settings: SmtpSettings):
        self.settings = settings

    def send_batch(self, messages: Sequence[OutgoingEmail]) -> list[SendResult]:
        """One result per message, in order."""
        messages = list(messages)
        results: list[SendResult] = []
        connection: smtplib.SMTP | None = None
        reconnects_left = 1
        try:
            while len(results) < len(messages):
                if connection is None:
                    try:
                        connection = self._open()
                    except (OSError, smtplib.SMTPException) as error:
                        return results + _all_deferred(messages[len(results):], f"no SMTP session: {_describe(error)}")
                try:
                    results.append(self._send_one(connection, messages[len(results)]))
                except ConnectionLost as lost:
                    _close(connection)
                    connection = None
                    if not reconnects_left:
                        return results + _all_deferred(messages[len(results):], str(lost))
                    reconnects_left -= 1
        finally:
            if connection is not None:
                _close(connection)
        return results

    def _open(self) -> smtplib.SMTP:
        settings = self.settings
        connection = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        try:
            connection.ehlo()
            if settings.starttls:
                connection.starttls(context=ssl.create_default_context())
                connection.ehlo()
            if settings.username:
                connection.login(settings.username, settings.password or "")
        except Exception:
            _close(connection)
            raise
        return connection

    def _send_one(self, connection: smtplib.SMTP, message: OutgoingEmail) -> SendResult:
        try:
            mail = build_message(message, self.settings.sender)
        except ValueError as error:
            return SendResult(message.recipient_id, BOUNCED, f"cannot build the message: {error}")
        return self._transmit(connection, message, mail)

    def _transmit(self, connection: smtplib.SMTP, message: OutgoingEmail, mail: EmailMessage) -> SendResult:
        try:
            refused = connection.send_message(mail, from_addr=self.settings.sender, to_addrs=[message.to_address])
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()), (None, b""))
            return _refusal(message, code, reply, connection)
        except smtplib.SMTPSenderRefused as error:
            # The server refuses our sender, not the recipient: not the recipient's bounce.
            _raise_if_gone(connection, error)
            return SendResult(message.recipient_id, DEFERRED, f"sender refused: {_describe(error)}")
        except (smtplib.SMTPNotSupportedError, ValueError) as error:
            # An address this server cannot take (non-ASCII without SMTPUTF8): retrying will not help.
            return SendResult(message.recipient_id, BOUNCED, f"cannot send to this address: {error}")
        except smtplib.SMTPResponseException as error:
            return _refusal(message, error.smtp_code, error.smtp_error, connection)
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            raise ConnectionLost(f"connection lost: {_describe(error)}") from error
        if refused:
            code, reply = next(iter(refused.values()))
            return _refusal(message, code, reply, connection)
        return SendResult(message.recipient_id, SENT, "")


def build_message(message: OutgoingEmail, sender: str) -> EmailMessage:
    """The e-mail as sent; ValueError when a header value cannot be a header (a line break in it)."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.to_address
    mail["Subject"] = single_line(message.subject)
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = f"<{message.recipient_id}@{MESSAGE_ID_DOMAIN}>"
    mail["X-CRM-Recipient"] = str(message.recipient_id)
    if message.unsubscribe_url:
        mail["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # Quoted-printable keeps long lines and non-ASCII text within what every SMTP server accepts.
    mail.set_content(message.body, subtype="html" if message.html else "plain", charset="utf-8",
                     cte="quoted-printable")
    return mail


def _refusal(message: OutgoingEmail, code: int | None, reply: bytes | str, connection: smtplib.SMTP) -> SendResult:
    detail = f"{code} {_text(reply)}".strip()
    if code == 421 or connection.sock is None:
        # 421 means the server is closing the connection; smtplib has closed it already.
        raise ConnectionLost(f"server closed the connection: {detail}")
    status = BOUNCED if code is not None and 500 <= code < 600 else DEFERRED
    return SendResult(message.recipient_id, status, detail)


def _raise_if_gone(connection: smtplib.SMTP, error: smtplib.SMTPResponseException) -> None:
    if error.smtp_code == 421 or connection.sock is None:
        raise ConnectionLost(f"server closed the connection: {_describe(error)}")


def _all_deferred(messages: Iterable[OutgoingEmail], detail: str) -> list[SendResult]:
    return [SendResult(m.recipient_id, DEFERRED, detail) for m in messages]


def _close(connection: smtplib.SMTP) -> None:
    try:
        connection.quit()
    except (OSError, smtplib.SMTPException):
        connection.close()


def _describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return str(error) or type(error).__name__


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
