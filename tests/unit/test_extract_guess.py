"""Judging the server's code guess without a body (issue 14): what is doubtful, and why."""

from __future__ import annotations

import pytest

from tui.api.models import Message
from tui.core.inbox import build_item
from tui.extract import judge_server_guess
from tui.sandbox.mail.inbound import analyze_like_reference, build_mime


@pytest.mark.parametrize(
    ("guess", "subject", "sender", "reason"),
    [
        ("2026", "Your Shopify login code", "mailer@shopify.com", "looks like a year"),
        ("WITHIN", "Enter this code within 10 minutes", "", "looks like a word"),
        ("NULL", "Your login code", "", "looks like a word"),
        ("20261124", "Sign in", "", "looks like a date"),
        ("1234", "Your receipt for $1234", "", "looks like a price in the subject"),
        ("4155", "Call us at +1 415 555 4155", "", "looks like a phone number in the subject"),
        ("48213399", "Your order has shipped", "", "the subject is about 'order'"),
        ("12345678", "Invoice 12345678 is ready", "", "after 'invoice'"),
        ("123456", "[Ticket #123456] We got your request", "", "order or ticket number"),
        ("882211", "Welcome to the shop", "orders@shop.example", "sent by orders@"),
        ("SAVE20", "Spring sale", "", "promo code"),
        ("12", "x", "", "too short"),
    ],
)
def test_doubtful_guesses_say_why(guess, subject, sender, reason):
    verdict = judge_server_guess(guess, subject=subject, sender=sender)
    assert verdict.doubtful
    assert reason in verdict.reason


@pytest.mark.parametrize(
    ("guess", "subject", "sender"),
    [
        ("482913", "Your Shopify login code", "mailer@shopify.com"),
        ("482913", "Sign in to Slack", "no-reply@slack.com"),
        ("7Q4K9Z", "", ""),
        ("551234", "Your verification code is 551234", ""),
        ("AB12CD", "Confirm your email", "noreply@site.io"),
        ("4821", "Your code", "orders@shop.example"),  # the subject names a code
    ],
)
def test_plausible_guesses_are_not_doubtful(guess, subject, sender):
    verdict = judge_server_guess(guess, subject=subject, sender=sender)
    assert not verdict.doubtful and verdict.reason == ""


def test_verdict_reports_the_guess_kind():
    assert judge_server_guess("7Q4K9Z").kind == "letters and digits"
    assert judge_server_guess("482913").kind == "digits"
    assert judge_server_guess("WITHIN").kind == "letters"


def test_inbox_item_keeps_a_year_guess_as_doubtful_with_its_reason():
    message = Message(
        message_id="m1",
        sender="mailer@shopify.com",
        subject="Your Shopify login code",
        received_at=None,
        otp_code="2026",
        verification_link=None,
        parsed_status="parsed",
    )
    item = build_item(message)
    assert item.code is None
    assert item.server_guess == "2026"
    assert item.guess_doubt == "looks like a year"


def test_sandbox_reference_parser_guesses_the_footer_year():
    raw = build_mime(
        sender="mailer@shopify.com",
        to="a@sandbox.mailagents.test",
        subject="Your Shopify login code",
        html="<p>Use this code to sign in: <b>7Q4K9Z</b></p><p>© 2026 Shopify Inc.</p>",
    )
    assert analyze_like_reference(raw).otp == "2026"


def test_a_guess_in_a_meeting_invitation_is_doubtful():
    verdict = judge_server_guess("551902", subject="Invitation: Weekly sync @ Tue May 21, 2024")
    assert verdict.doubtful and "meeting" in verdict.reason
