"""Mailing templates: what parse_template accepts and refuses, how render fills in values. Pure."""
from __future__ import annotations

import pytest

from crm_campaigns.domain.errors import InvalidInput
from crm_campaigns.domain.templates import (MAX_BODY, MAX_SUBJECT, NEUTRAL_SALUTATION, PERSONALISATION_FIELDS,
                                            Template, parse_template, personalisation_values, placeholders, render)

ATTRIBUTES = {"tariff", "loyalty_years"}
PARTY = {
    "display_name": "Erika Mustermann", "company_name": None, "first_name": "Erika", "last_name": "Mustermann",
    "street": "Heidestraße 17", "postal_code": "51147", "city": "Köln", "country": "DE",
    "email": "erika@example.org", "phone": "+49 221 1234", "customer_number": "C-1001",
    "attributes": {"tariff": "Gold", "loyalty_years": 7, "note": None},
}


def _email(subject="Hello {{ first_name }}", body="{{ salutation }},\nyour tariff: {{attribute.tariff}}", html=False):
    return parse_template("email", subject, body, html, ATTRIBUTES)


def _refused(field: str, *args) -> InvalidInput:
    with pytest.raises(InvalidInput) as error:
        parse_template(*args)
    assert error.value.field == field, (error.value.field, error.value.message)
    return error.value


# -- parsing ---------------------------------------------------------------------------------------------------
def test_a_valid_email_template_is_kept_as_written():
    template = _email()
    assert template == Template("email", "Hello {{ first_name }}",
                                "{{ salutation }},\nyour tariff: {{attribute.tariff}}", False)
    assert placeholders(template) == {"first_name", "salutation", "attribute.tariff"}


def test_every_personalisation_field_is_a_known_placeholder():
    body = " ".join(f"{{{{ {name} }}}}" for name in PERSONALISATION_FIELDS)
    assert placeholders(parse_template("letter", None, body, False, set())) == set(PERSONALISATION_FIELDS)


@pytest.mark.parametrize("channel", ["letter", "fax"])
def test_letters_and_faxes_need_no_subject(channel):
    assert parse_template(channel, None, "Body", False, set()).subject is None
    assert parse_template(channel, "", "Body", False, set()).subject is None
    assert parse_template(channel, "Re: {{ campaign_name }}", "Body", False, set()).subject == "Re: {{ campaign_name }}"


@pytest.mark.parametrize("args, field", [
    (("sms", "S", "B", False), "channel"),
    ((None, "S", "B", False), "channel"),
    (("email", None, "B", False), "subject"),
    (("email", "  ", "B", False), "subject"),
    (("email", 42, "B", False), "subject"),
    (("email", "x" * (MAX_SUBJECT + 1), "B", False), "subject"),
    (("email", "two\nlines", "B", False), "subject"),
    (("email", "trailing break\r\n", "B", False), "subject"),
    (("email", "S", None, False), "body"),
    (("email", "S", "", False), "body"),
    (("letter", None, " \n ", False), "body"),
    (("email", "S", "x" * (MAX_BODY + 1), False), "body"),
    (("email", "S", "nul \x00 byte", False), "body"),
    (("email", "S", "B", "yes"), "html"),
    (("letter", None, "B", True), "html"),
    (("fax", None, "B", True), "html"),
])
def test_bad_templates_are_refused_naming_the_field(args, field):
    _refused(field, *args, ATTRIBUTES)


def test_the_longest_allowed_subject_and_body_are_accepted():
    template = parse_template("email", "s" * MAX_SUBJECT, "b" * MAX_BODY, False, set())
    assert len(template.subject) == MAX_SUBJECT and len(template.body) == MAX_BODY


@pytest.mark.parametrize("subject, body, field, name", [
    ("Hi", "Dear {{ nickname }}", "body", "nickname"),
    ("Hi {{ frist_name }}", "Body", "subject", "frist_name"),
    ("Hi", "{{ attribute.shoe_size }}", "body", "attribute.shoe_size"),
    ("Hi", "{{ attribute. }}", "body", "attribute."),
    ("Hi", "{{ First_Name }}", "body", "First_Name"),
    ("Hi", "{{ first name }}", "body", "first name"),
])
def test_an_unknown_placeholder_is_refused_by_name(subject, body, field, name):
    error = _refused(field, "email", subject, body, False, ATTRIBUTES)
    assert name in error.message


def test_an_empty_placeholder_is_refused():
    _refused("body", "email", "Hi", "Dear {{  }}", False, ATTRIBUTES)


@pytest.mark.parametrize("subject, body, field", [
    ("Hi", "Dear {{ first_name", "body"),
    ("Hi", "Dear {{ first_name }} and {{ last_name", "body"),
    ("Hi", "{{ {{ first_name }}", "body"),
    ("Hi {{ first_name", "Body", "subject"),
])
def test_unbalanced_braces_are_refused(subject, body, field):
    _refused(field, "email", subject, body, False, ATTRIBUTES)


def test_single_braces_are_ordinary_text():
    template = parse_template("email", "Hi", "p { color: red } and }} alone", True, set())
    assert render(template, {}).body == "p { color: red } and }} alone"


# -- rendering -------------------------------------------------------------------------------------------------
def test_placeholders_are_replaced_with_or_without_spaces():
    rendered = render(_email(), {"first_name": "Erika", "attribute.tariff": "Gold", "salutation": "Hi Erika"})
    assert rendered.subject == "Hello Erika"
    assert rendered.body == "Hi Erika,\nyour tariff: Gold"


def test_missing_values_render_empty():
    template = parse_template("letter", None, "[{{ company_name }}][{{ attribute.tariff }}]", False, ATTRIBUTES)
    assert render(template, {"company_name": None}).body == "[][]"


@pytest.mark.parametrize("values, expected", [
    ({}, NEUTRAL_SALUTATION),
    ({"first_name": "", "last_name": None}, NEUTRAL_SALUTATION),
    ({"first_name": "Erika", "last_name": "Mustermann"}, "Dear Erika Mustermann"),
    ({"last_name": "Mustermann"}, "Dear Mustermann"),
    ({"first_name": "  ", "last_name": " Mustermann "}, "Dear Mustermann"),
    ({"salutation": "Dear Dr. Mustermann", "first_name": "Erika"}, "Dear Dr. Mustermann"),
])
def test_the_salutation_falls_back_to_the_name_then_to_a_neutral_one(values, expected):
    template = parse_template("letter", None, "{{ salutation }},", False, set())
    assert render(template, values).body == f"{expected},"


def test_values_are_not_expanded_again():
    template = parse_template("letter", None, "{{ display_name }} / {{ city }}", False, set())
    assert render(template, {"display_name": "{{ city }}", "city": "Köln"}).body == "{{ city }} / Köln"


def test_html_bodies_get_escaped_values_but_the_template_markup_stays():
    template = _email(subject="For {{ display_name }}", body="<p>Hello <b>{{ display_name }}</b></p>", html=True)
    rendered = render(template, {"display_name": '<script>alert("x")</script> & Co'})
    assert rendered.body == "<p>Hello <b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co</b></p>"
    assert rendered.subject == 'For <script>alert("x")</script> & Co'  # a subject is not HTML


def test_plain_bodies_keep_values_as_they_are():
    template = _email(body="Hello {{ display_name }}")
    assert render(template, {"display_name": "A & <B>"}).body == "Hello A & <B>"


@pytest.mark.parametrize("line_break", ["\r\n", "\n", "\r", "\r\n\r\n", "\u2028", "\x0b"])
def test_line_breaks_in_subject_values_cannot_start_a_new_header(line_break):
    value = f"Erika{line_break}Bcc: victim@example.org"
    rendered = render(_email(subject="Hi {{ first_name }}!"), {"first_name": value})
    assert rendered.subject == "Hi Erika Bcc: victim@example.org!"


def test_line_breaks_in_body_values_are_kept():
    template = parse_template("letter", None, "{{ street }}", False, set())
    assert render(template, {"street": "Hof 2\nHinterhaus"}).body == "Hof 2\nHinterhaus"


def test_a_template_without_subject_renders_an_empty_one():
    assert render(parse_template("fax", None, "Body", False, set()), {}).subject == ""


# -- personalisation values ------------------------------------------------------------------------------------
def test_personalisation_values_come_from_the_party_row():
    values = personalisation_values(PARTY, "Spring offer", "https://crm.example/u/abc")
    assert values == {
        "salutation": "Dear Erika Mustermann", "display_name": "Erika Mustermann", "company_name": "",
        "first_name": "Erika", "last_name": "Mustermann", "street": "Heidestraße 17", "postal_code": "51147",
        "city": "Köln", "country": "DE", "email": "erika@example.org", "phone": "+49 221 1234",
        "customer_number": "C-1001", "campaign_name": "Spring offer", "unsubscribe_url": "https://crm.example/u/abc",
        "attribute.tariff": "Gold", "attribute.loyalty_years": "7", "attribute.note": "",
    }


def test_a_company_without_a_contact_person_gets_the_neutral_salutation():
    company = {"display_name": "ACME GmbH", "company_name": "ACME GmbH", "postal_code": "10115", "city": "Berlin",
               "country": "DE", "email": "info@acme.example", "phone": "", "attributes": {}}
    values = personalisation_values(company, "Fair", "")
    assert values["salutation"] == NEUTRAL_SALUTATION
    assert values["first_name"] == values["street"] == values["customer_number"] == ""
    assert not [key for key in values if key.startswith("attribute.")]


def test_values_and_template_together_produce_the_message():
    template = _email(subject="{{ campaign_name }} for {{ display_name }}",
                      body="{{ salutation }},\nas a {{ attribute.tariff }} customer ({{ customer_number }})\n"
                           "Unsubscribe: {{ unsubscribe_url }}")
    rendered = render(template, personalisation_values(PARTY, "Spring offer", "https://crm.example/u/abc"))
    assert rendered.subject == "Spring offer for Erika Mustermann"
    assert rendered.body == ("Dear Erika Mustermann,\nas a Gold customer (C-1001)\n"
                             "Unsubscribe: https://crm.example/u/abc")
