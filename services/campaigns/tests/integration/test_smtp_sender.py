"""SmtpSender against a real (local, aiosmtpd) SMTP server: what arrives, and what each recipient's result is."""
from __future__ import annotations

from email.utils import parsedate_to_datetime

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
import smtp_server as smtp_fixtures

from crm_campaigns.adapters.smtp_sender import OutgoingEmail, SendResult, SmtpSender, SmtpSettings

smtp_server = smtp_fixtures.smtp_server

SENDER = "campaigns@crm.example"


def _sender(server, **settings) -> SmtpSender:
    return SmtpSender(SmtpSettings(server.host, server.port, sender=SENDER, timeout=5, **settings))


def _email(recipient_id="r-1", to="erika@example.org", subject="Spring offer", body="Hello Erika",
           html=False, unsubscribe_url="https://crm.example/unsubscribe/r-1") -> OutgoingEmail:
    return OutgoingEmail(recipient_id, to, subject, body, html, unsubscribe_url)


def _by_recipient(server) -> dict[str, object]:
    return {mail.message["X-CRM-Recipient"]: mail for mail in server.messages}


# -- what arrives ------------------------------------------------------------------------------------------------
def test_a_plain_text_mail_arrives_with_all_headers(smtp_server):
    results = _sender(smtp_server).send_batch([_email(body="Hello Erika,\nthis is our offer.")])
    assert results == [SendResult("r-1", "sent", "")]
    [mail] = smtp_server.messages
    message = mail.message
    assert mail.recipients == ["erika@example.org"] and mail.sender == SENDER
    assert message["From"] == SENDER and message["To"] == "erika@example.org"
    assert message["Subject"] == "Spring offer"
    assert message["Message-ID"] == "<r-1@crm.local>"
    assert message["X-CRM-Recipient"] == "r-1"
    assert message["List-Unsubscribe"] == "<https://crm.example/unsubscribe/r-1>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert message.get_content_type() == "text/plain" and message.get_content_charset() == "utf-8"
    assert message.get_content().rstrip("\n") == "Hello Erika,\nthis is our offer."


def test_an_html_mail_arrives_as_text_html(smtp_server):
    body = "<p>Hello <b>Erika</b></p>"
    _sender(smtp_server).send_batch([_email(body=body, html=True)])
    [mail] = smtp_server.messages
    assert mail.message.get_content_type() == "text/html"
    assert mail.message.get_content().rstrip("\n") == body


def test_non_ascii_subject_and_body_are_encoded_and_arrive_intact(smtp_server):
    subject, body = "Grüße aus Köln – 10 € Rabatt", "Sehr geehrte Frau Jürgens,\nÄpfel für 2 €.\n" + "ß" * 2000
    _sender(smtp_server).send_batch([_email(subject=subject, body=body)])
    [mail] = smtp_server.messages
    raw_subject = mail.message.as_bytes().split(b"Subject:", 1)[1].split(b"\n", 1)[0]
    assert raw_subject.strip().startswith(b"=?utf-8?")  # RFC 2047, not raw 8-bit bytes in a header
    assert mail.message["Subject"] == subject
    assert mail.message.get_content().rstrip("\n") == body


def test_without_an_unsubscribe_url_there_are_no_list_headers(smtp_server):
    _sender(smtp_server).send_batch([_email(unsubscribe_url=None)])
    [mail] = smtp_server.messages
    assert "List-Unsubscribe" not in mail.message and "List-Unsubscribe-Post" not in mail.message


def test_a_header_injection_attempt_in_the_subject_stays_inside_the_subject(smtp_server):
    evil = "Offer\r\nBcc: victim@example.org\r\nX-Evil: yes"
    results = _sender(smtp_server).send_batch([_email(subject=evil)])
    assert [r.status for r in results] == ["sent"]
    [mail] = smtp_server.messages
    assert mail.recipients == ["erika@example.org"]
    assert "Bcc" not in mail.message and "X-Evil" not in mail.message
    assert mail.message["Subject"] == "Offer Bcc: victim@example.org X-Evil: yes"


# -- batches -----------------------------------------------------------------------------------------------------
def test_a_batch_uses_one_connection_and_refusals_do_not_stop_it(smtp_server):
    batch = [_email("r-1", "anna@example.org"), _email("r-2", "bounce-me@example.org"),
             _email("r-3", "later-please@example.org"), _email("r-4", "ben@example.org")]
    results = _sender(smtp_server).send_batch(batch)
    assert [(r.recipient_id, r.status) for r in results] == [
        ("r-1", "sent"), ("r-2", "bounced"), ("r-3", "deferred"), ("r-4", "sent")]
    assert results[1].detail.startswith("550") and "no such user" in results[1].detail
    assert results[2].detail.startswith("451")
    assert set(_by_recipient(smtp_server)) == {"r-1", "r-4"}
    assert _by_recipient(smtp_server)["r-4"].recipients == ["ben@example.org"]
    assert len(smtp_server.connections) == 1


def test_a_message_that_cannot_be_built_bounces_and_the_batch_goes_on(smtp_server):
    batch = [_email("r-1", "anna@example.org\r\nBcc: victim@example.org"), _email("r-2", "jürgen@example.org")]
    results = _sender(smtp_server).send_batch(batch)
    assert [(r.recipient_id, r.status) for r in results] == [("r-1", "bounced"), ("r-2", "sent")]
    assert "cannot build" in results[0].detail
    [mail] = smtp_server.messages
    assert mail.recipients == ["jürgen@example.org"]  # SMTPUTF8, which the test server offers


def test_an_empty_batch_sends_nothing(smtp_server):
    assert _sender(smtp_server).send_batch([]) == []
    assert smtp_server.connections == set()


def test_an_unreachable_server_defers_the_whole_batch():
    settings = SmtpSettings("127.0.0.1", smtp_fixtures.free_port(), timeout=2)  # nothing listens there
    results = SmtpSender(settings).send_batch([_email("r-1"), _email("r-2")])
    assert [(r.recipient_id, r.status) for r in results] == [("r-1", "deferred"), ("r-2", "deferred")]
    assert all("no SMTP session" in r.detail for r in results)


def test_a_dropped_connection_is_reopened_once(smtp_server):
    smtp_server.hang_up_after(2)
    results = _sender(smtp_server).send_batch([_email(f"r-{i}", f"p{i}@example.org") for i in range(4)])
    assert [r.status for r in results] == ["sent"] * 4
    assert set(_by_recipient(smtp_server)) == {"r-0", "r-1", "r-2", "r-3"}
    assert len(smtp_server.connections) == 2


def test_after_the_second_drop_the_rest_of_the_batch_is_deferred(smtp_server):
    smtp_server.hang_up_after(1)
    results = _sender(smtp_server).send_batch([_email(f"r-{i}", f"p{i}@example.org") for i in range(4)])
    assert [(r.recipient_id, r.status) for r in results] == [
        ("r-0", "sent"), ("r-1", "sent"), ("r-2", "deferred"), ("r-3", "deferred")]
    assert "connection lost" in results[2].detail
    assert set(_by_recipient(smtp_server)) == {"r-0", "r-1"}


def test_a_server_closing_with_421_counts_as_a_dropped_connection(smtp_server):
    batch = [_email("r-1", "anna@example.org"), _email("r-2", "closing@example.org"),
             _email("r-3", "ben@example.org")]
    results = _sender(smtp_server).send_batch(batch)
    # r-2 is retried on the new connection, is refused with 421 again, and that was the one reconnect.
    assert [(r.recipient_id, r.status) for r in results] == [
        ("r-1", "sent"), ("r-2", "deferred"), ("r-3", "deferred")]
    assert "421" in results[1].detail
    assert len(smtp_server.connections) == 2


# -- authentication --------------------------------------------------------------------------------------------
def _accept_only(username: str, password: str):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            username.encode(), password.encode())
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535
    return authenticate


@pytest.fixture
def smtp_server_with_login():
    # Without TLS, which is fine on loopback: no certificate to make for the test.
    with smtp_fixtures.running_smtp_server(authenticator=_accept_only("mailer", "s3cret"), auth_required=True,
                             auth_require_tls=False) as server:
        yield server


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_it_logs_in_when_credentials_are_configured(smtp_server_with_login):
    results = _sender(smtp_server_with_login, username="mailer", password="s3cret").send_batch([_email()])
    assert [r.status for r in results] == ["sent"]
    assert len(smtp_server_with_login.messages) == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_a_failed_login_defers_the_batch(smtp_server_with_login):
    results = _sender(smtp_server_with_login, username="mailer", password="wrong").send_batch([_email()])
    assert [r.status for r in results] == ["deferred"] and "535" in results[0].detail
    assert smtp_server_with_login.messages == []


# -- settings ----------------------------------------------------------------------------------------------------
def test_settings_from_the_environment():
    settings = SmtpSettings.from_env({"SMTP_HOST": "mail.example", "SMTP_PORT": "587", "SMTP_USERNAME": "u",
                                      "SMTP_PASSWORD": "p", "SMTP_STARTTLS": "true", "SMTP_SENDER": "x@y.example"})
    assert settings == SmtpSettings("mail.example", 587, "u", "p", True, "x@y.example", 10)
    assert SmtpSettings.from_env({}) == SmtpSettings("localhost", 25, None, None, False, "campaigns@crm.local", 10)


@pytest.mark.parametrize("environ", [{"SMTP_PORT": "smtp"}, {"SMTP_PORT": "70000"}, {"SMTP_STARTTLS": "maybe"}])
def test_bad_settings_are_refused_at_start_up(environ):
    with pytest.raises(ValueError):
        SmtpSettings.from_env(environ)
