# ruff: noqa: E501, RUF001
"""Writes the .eml corpus and expected.json (run once; the files are committed).

Every message below was written for this project in the style of a real service. The
expectations are written by hand next to each message, never derived from the extractor.
Run: .venv/bin/python tests/corpus/_build.py
"""

from __future__ import annotations

import base64
import json
import quopri
import zlib
from email.header import Header
from pathlib import Path

HERE = Path(__file__).parent
CASES: dict[str, dict] = {}
N = [0]


def enc(text: str, charset: str, cte: str) -> bytes:
    codec = {"iso-8859-1": "cp1252", "gb2312": "gbk", "shift_jis": "cp932"}.get(
        charset, charset
    )
    data = text.encode(codec)
    if cte == "base64":
        return base64.encodebytes(data)
    if cte == "quoted-printable":
        return quopri.encodestring(data)
    return data


def leaf(ctype: str, text: str, charset: str = "utf-8", cte: str = "quoted-printable",
         extra: str = "") -> bytes:
    head = f'Content-Type: {ctype}; charset="{charset}"\nContent-Transfer-Encoding: {cte}\n{extra}'
    return head.encode() + b"\n" + enc(text, charset, cte)


def multi(subtype: str, parts: list[bytes]) -> bytes:
    N[0] += 1
    b = f"----=_Part_{N[0]}_{1000 + N[0] * 7919}.17150{N[0]:04d}"
    out = f'Content-Type: multipart/{subtype}; boundary="{b}"\n\n'.encode()
    out += b"This is a multi-part message in MIME format.\n\n"
    for p in parts:
        out += f"--{b}\n".encode() + p + b"\n"
    return out + f"--{b}--\n".encode()


def hdr(value: str, charset: str = "utf-8") -> str:
    try:
        value.encode("ascii")
        return value
    except UnicodeEncodeError:
        return Header(value, charset).encode()


def sender(name: str, addr: str, charset: str = "utf-8") -> str:
    return f"{hdr(name, charset)} <{addr}>"


def write(name: str, subject: str, frm: str, body: bytes, otp: str | None, link: str | None,
          subject_charset: str = "utf-8", note: str = "", date: str = "Tue, 14 May 2024 09:12:44 +0000",
          extra_headers: str = "") -> None:
    head = (
        f"Return-Path: <bounce@{frm.split('@')[-1].rstrip('>')}>\n"
        f"From: {frm}\n"
        "To: agent-7f3k@mailagents.example\n"
        f"Subject: {hdr(subject, subject_charset)}\n"
        f"Date: {date}\n"
        f"Message-ID: <{zlib.crc32(name.encode())}.{name}@{frm.split('@')[-1].rstrip('>')}>\n"
        "MIME-Version: 1.0\n"
        f"{extra_headers}"
    )
    (HERE / f"{name}.eml").write_bytes(head.encode() + body)
    CASES[f"{name}.eml"] = {"otp": otp, "link": link, "note": note}


def raw(name: str, data: bytes, otp: str | None, link: str | None, note: str = "") -> None:
    (HERE / f"{name}.eml").write_bytes(data)
    CASES[f"{name}.eml"] = {"otp": otp, "link": link, "note": note}


SOCIAL = (
    '<a href="https://twitter.com/{b}"><img src="https://cdn.{d}/email/twitter.png" alt="X" width="24"></a> '
    '<a href="https://www.linkedin.com/company/{b}"><img src="https://cdn.{d}/email/linkedin.png" alt="LinkedIn" width="24"></a> '
    '<a href="https://www.youtube.com/@{b}"><img src="https://cdn.{d}/email/yt.png" alt="YouTube" width="24"></a>'
)


def page(brand: str, domain: str, inner: str, footer: str = "", preheader: str = "",
         logo: bool = True, social: bool = True, lang: str = "en") -> str:
    """A typical table-layout transactional e-mail."""
    pre = (
        f'<div style="display:none;max-height:0;overflow:hidden">{preheader}'
        + "&nbsp;&zwnj;" * 20 + "</div>" if preheader else ""
    )
    logo_html = (
        f'<tr><td align="center" style="padding:24px 0"><a href="https://www.{domain}/">'
        f'<img src="https://cdn.{domain}/email/logo@2x.png" width="120" height="32" alt="{brand}" '
        'style="display:block;border:0"></a></td></tr>' if logo else ""
    )
    soc = SOCIAL.format(b=brand.lower().replace(" ", ""), d=domain) if social else ""
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html lang="{lang}" xmlns="http://www.w3.org/1999/xhtml"><head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{brand}</title>
<style type="text/css">
  body {{ margin:0; padding:0; }} .btn a {{ color:#ffffff !important; }}
  @media only screen and (max-width:600px) {{ .container {{ width:100% !important; }} }}
</style>
<!--[if mso]><style>table {{border-collapse:collapse;}}</style><![endif]-->
</head>
<body style="margin:0;padding:0;background:#f4f5f7">{pre}
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="#f4f5f7">
<tr><td align="center">
<table class="container" role="presentation" width="600" cellpadding="0" cellspacing="0" border="0">
{logo_html}
<tr><td style="background:#ffffff;padding:32px 40px;font-family:Helvetica,Arial,sans-serif;font-size:16px;line-height:24px;color:#1f2328">
{inner}
</td></tr>
<tr><td align="center" style="padding:24px 40px;font-family:Helvetica,Arial,sans-serif;font-size:12px;color:#6e7781">
{soc}
<p style="margin:12px 0">{footer}</p>
</td></tr>
</table>
</td></tr></table>
<img src="https://t.{domain}/o/7c1e0f2a9b.gif" width="1" height="1" alt="" style="display:none">
</body></html>
"""


def button(href: str, label: str, color: str = "#2da44e") -> str:
    return (
        '<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:24px 0">'
        f'<tr><td class="btn" bgcolor="{color}" style="border-radius:6px;padding:12px 24px">'
        f'<a href="{href}" target="_blank" style="color:#ffffff;text-decoration:none;font-weight:600">{label}</a>'
        "</td></tr></table>"
    )


def code_box(code: str) -> str:
    return (
        '<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:24px auto">'
        '<tr><td align="center" style="background:#f6f8fa;border-radius:6px;padding:16px 32px;'
        "font-family:'SFMono-Regular',Consolas,monospace;font-size:32px;letter-spacing:6px;"
        f'font-weight:700;color:#1f2328">{code}</td></tr></table>'
    )


def alt(text: str, html: str, charset: str = "utf-8", cte: str = "quoted-printable",
        html_cte: str | None = None) -> bytes:
    return multi("alternative", [
        leaf("text/plain", text, charset, cte),
        leaf("text/html", html, charset, html_cte or cte),
    ])


US_FOOTER = "{b}, Inc. · 548 Market St, PMB 41290 · San Francisco, CA 94104-5401"


# =======================================================================================
# Messages with a code (and sometimes a link)
# =======================================================================================

def github() -> None:
    text = """Hey agent-7f3k!

A sign in attempt requires further verification because we did not recognize your device. To complete the sign in, enter the verification code on the unrecognized device.

Device: Chrome on Linux
Verification code: 815304

If you did not attempt to sign in to your account, your password may be compromised. Visit https://github.com/settings/security to create a new, strong password for your GitHub account.

If you'd like to automatically verify devices in the future, consider enabling two-factor authentication on your account. Visit https://docs.github.com/articles/configuring-two-factor-authentication to learn about two-factor authentication.

If you decide to enable two-factor authentication, ensure you retain access to one or more account recovery methods. See https://docs.github.com/articles/configuring-two-factor-authentication-recovery-methods in the GitHub Help.

Thanks,
The GitHub Team
"""
    inner = """<h2 style="font-size:24px;font-weight:300">Please verify your identity, <strong>agent-7f3k</strong></h2>
<p>Here is your GitHub authentication code:</p>""" + code_box("815304") + """
<p>This code is valid for <strong>15 minutes</strong> and can only be used once.</p>
<p><strong>Please don't share this code with anyone:</strong> we'll never ask for it on the phone or via email.</p>
<p>Thanks,<br>The GitHub Team</p>"""
    html = page("GitHub", "github.com", inner,
                "You're receiving this email because a sign in attempt requires further verification.<br>"
                "GitHub, Inc. ・88 Colin P Kelly Jr Street ・San Francisco, CA 94107", social=False)
    write("github_device_verification", "[GitHub] Please verify your device",
          sender("GitHub", "noreply@github.com"), alt(text, html), "815304", None)


def github_reset() -> None:
    url = "https://github.com/password_reset/3f6c1e9b2a7d4c08e5f1a2b3c4d5e6f708192a3b"
    text = f"""We heard that you lost your GitHub password. Sorry about that!

But don't worry! You can use the following button to reset your password:

{url}

If you don't use this link within 3 hours, it will expire. To get a new password reset link, visit: https://github.com/password_reset

Thanks,
The GitHub Team
"""
    inner = ("<h2>Reset your GitHub password</h2><p>We heard that you lost your GitHub password. Sorry about that!</p>"
             "<p>But don't worry! You can use the following button to reset your password:</p>"
             + button(url, "Reset your password") +
             '<p>If you don\'t use this link within 3 hours, it will expire. To get a new password reset link, visit '
             '<a href="https://github.com/password_reset">https://github.com/password_reset</a></p>')
    html = page("GitHub", "github.com", inner, "GitHub, Inc. ・88 Colin P Kelly Jr Street ・San Francisco, CA 94107")
    write("github_password_reset", "[GitHub] Please reset your password",
          sender("GitHub", "noreply@github.com"), alt(text, html), None, url)


def slack_code() -> None:
    inner = ("<h1 style=\"font-size:36px;line-height:42px\">Confirm your email address</h1>"
             "<p style=\"font-size:20px\">Your confirmation code is below — enter it in your open browser window "
             "and we'll help you get signed in.</p>"
             '<table width="100%" style="background:#F5F4F5;border-radius:4px"><tr><td align="center" '
             'style="padding:40px 10px;font-size:30px;line-height:30px;font-family:monospace">482-193</td></tr></table>'
             "<p>If you didn't request this email, there's nothing to worry about — you can safely ignore it.</p>")
    html = page("Slack", "slack.com", inner,
                '<a href="https://slack.com/help">Help</a> · <a href="https://slack.com/legal">Legal</a><br>'
                "©2024 Slack Technologies, LLC, a Salesforce company.<br>415 Mission Street, 3rd Floor, San Francisco, CA 94105")
    body = leaf("text/html", html, "utf-8", "quoted-printable")
    write("slack_confirmation_code_html_only", "Slack confirmation code: 482-193",
          sender("Slack", "feedback@slack.com"), body, "482193", None)


def slack_magic() -> None:
    url = ("https://app.slack.com/t/acme-agents/login/z-app-8841029931-6692045518263-"
           "1f9c0a7be3d2c4f5a6b7c8d9e0f1a2b3?x=x-p8841029931-6692045518263")
    inner = ("<h1>Sign in to Slack</h1><p>Click the button below to sign in to the <b>acme-agents</b> workspace. "
             "This link will expire in 24 hours and can only be used once.</p>"
             + button(url, "Sign in to Slack", "#4A154B") +
             f'<p>Or paste this link into your browser:<br><a href="{url}">{url}</a></p>'
             "<p>If you didn't try to sign in, you can safely ignore this email.</p>")
    html = page("Slack", "slack.com", inner, "©2024 Slack Technologies, LLC. 415 Mission Street, 3rd Floor, San Francisco, CA 94105")
    text = f"Sign in to Slack\n\nClick the link below to sign in to the acme-agents workspace.\n\n{url}\n\nThis link will expire in 24 hours."
    write("slack_magic_link", "Your Slack magic link", sender("Slack", "no-reply@slack.com"),
          alt(text, html), None, url)


def google_prefixed() -> None:
    text = """G-847201 is your Google verification code.

Google Accounts team
This email can't receive replies. For more information, visit the Google Accounts Help Center.

You received this mandatory email service announcement to update you about important changes to your Google product or account.
© 2024 Google LLC, 1600 Amphitheatre Parkway, Mountain View, CA 94043, USA
"""
    write("google_prefixed_code_plain", "G-847201 is your Google verification code",
          sender("Google", "no-reply@accounts.google.com"),
          leaf("text/plain", text, "UTF-8", "7bit"), "847201", None)


def google_verify() -> None:
    inner = """<div style="font-size:24px;text-align:center;padding-bottom:32px">Verify your email</div>
<div style="font-size:14px;line-height:20px">Google received a request to use <a style="font-weight:bold">agent-7f3k@mailagents.example</a> as a recovery email for Google Account <a style="font-weight:bold">tester.acme@gmail.com</a>.<br><br>Use this code to finish setting up this recovery email:<br>
<div style="text-align:center;font-size:36px;margin-top:20px;line-height:44px">618294</div><br>This code will expire in 24 hours.<br><br>If you don’t recognize <a style="font-weight:bold">tester.acme@gmail.com</a>, you can safely ignore this email.</div>"""
    html = page("Google", "google.com", inner,
                "You received this email to let you know about important changes to your Google Account and services.<br>© 2024 Google LLC, 1600 Amphitheatre Parkway, Mountain View, CA 94043, USA",
                social=False)
    text = ("Google received a request to use agent-7f3k@mailagents.example as a recovery email for Google Account tester.acme@gmail.com.\n\n"
            "Use this code to finish setting up this recovery email:\n\n618294\n\nThis code will expire in 24 hours.\n")
    write("google_recovery_email_code", "Email verification code: 618294",
          sender("Google", "no-reply@accounts.google.com"), alt(text, html, cte="base64"), "618294", None)


def stripe() -> None:
    text = """Stripe

Your Stripe verification code is:

310 492

This code expires in 10 minutes. If you didn't request it, someone may be trying to sign in to your Stripe account; you can reset your password at https://dashboard.stripe.com/reset.

Stripe, 354 Oyster Point Blvd, South San Francisco, CA 94080
"""
    write("stripe_grouped_code_plain", "Your Stripe verification code",
          sender("Stripe", "support@stripe.com"), leaf("text/plain", text, "utf-8", "quoted-printable"),
          "310492", None)


def stripe_confirm() -> None:
    url = "https://dashboard.stripe.com/confirm_email?t=Gq2x8Lk1P0aZ7wRcV4nB9mYtE3uH6sJd"
    track = "https://links.stripe.com/ls/click?upn=u001.Qm9vb3RzdHJhcC1lbWFpbC1jb25maXJtLXRyYWNraW5nLWJsb2I-2BZ3hT9-2FqL"
    inner = ("<h1 style=\"font-size:24px\">Confirm your email</h1>"
             "<p>Thanks for creating a Stripe account. Verify your email so you can start accepting payments.</p>"
             + button(track, "Verify email address", "#635bff") +
             f'<p style="font-size:13px;color:#687385">Or copy and paste this URL into your browser:<br>{url}</p>'
             '<p style="font-size:13px"><a href="https://support.stripe.com">Get help</a></p>')
    html = page("Stripe", "stripe.com", inner, "Stripe, 354 Oyster Point Blvd, South San Francisco, CA 94080", social=False)
    text = f"Confirm your email\n\nThanks for creating a Stripe account. Verify your email so you can start accepting payments:\n\n{url}\n\nStripe, 354 Oyster Point Blvd, South San Francisco, CA 94080\n"
    write("stripe_confirm_email_tracking", "Confirm your email address", sender("Stripe", "notifications@stripe.com"),
          alt(text, html), None, url,
          note="plain part has the real URL; HTML button is a tracking redirect; both point to the same action")


def notion_code() -> None:
    inner = ("<h1 style=\"font-size:24px\">Log in to Notion</h1>"
             "<p>Copy and paste this temporary login code:</p>"
             '<div style="padding:16px 14px;background:#f4f4f4;border:1px solid #eee;border-radius:4px;'
             'font-family:monospace;font-size:20px">7XQ9-KP2M</div>'
             "<p style=\"color:#aaa\">If you didn't try to login, you can safely ignore this email.</p>"
             "<p style=\"color:#aaa\">Hint: You can set a permanent password in Settings &amp; members → My account.</p>")
    html = page("Notion", "notion.so", inner, "Notion Labs, Inc., 2300 Harrison Street, San Francisco, CA 94110",
                social=False, logo=False)
    write("notion_alnum_login_code", "Your Notion login code is 7XQ9-KP2M",
          sender("Notion Team", "notify@mail.notion.so"), leaf("text/html", html, "utf-8", "base64"),
          "7XQ9-KP2M", None)


def notion_magic() -> None:
    url = "https://www.notion.so/loginwithemail?state=9c3a1f&token=v02%3Alogin%3AaB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY"
    inner = ("<h1>Welcome back</h1><p>Click the link below to log in to Notion. This link will expire in 1 hour.</p>"
             f'<p><a href="{url.replace("&", "&amp;")}" style="color:#2383e2">Click here to log in with this magic link</a></p>'
             "<p>Or sign in using this temporary code: <code>MANGO-RIVER-42</code></p>")
    html = page("Notion", "notion.so", inner, "Notion Labs, Inc., 2300 Harrison Street, San Francisco, CA 94110", social=False)
    write("notion_magic_link_amp", "Your Notion magic link",
          sender("Notion Team", "notify@mail.notion.so"), leaf("text/html", html, "utf-8", "quoted-printable"),
          "MANGO-RIVER-42", url, note="href has &amp;; word code shown in <code>")


def microsoft() -> None:
    text = """Microsoft account

Security code

Please use the following security code for the Microsoft account ag***@mailagents.example.

Security code: 7391

If you don't recognize the Microsoft account ag***@mailagents.example, you can click https://account.live.com/dp?ft=-DhYpQ3k to remove your email address from that account.

Thanks,
The Microsoft account team

Privacy Statement: https://go.microsoft.com/fwlink/?LinkId=521839
Microsoft Corporation, One Microsoft Way, Redmond, WA 98052
"""
    write("microsoft_4digit_security_code", "Microsoft account security code",
          sender("Microsoft account team", "account-security-noreply@accountprotection.microsoft.com"),
          leaf("text/plain", text, "utf-8", "quoted-printable"), "7391", None)


def amazon() -> None:
    inner = """<p style="font-size:20px">Verify your new Amazon account</p>
<p>To verify your email address, please use the following One Time Password (OTP):</p>
<p style="font-size:24px;font-weight:bold">552914</p>
<p>Do not share this OTP with anyone. Amazon takes your account security very seriously. Amazon Customer Service will never ask you to disclose or verify your Amazon password, OTP, credit card, or banking account number. If you receive a suspicious email with a link to update your account information, do not click on the link—instead, report the email to Amazon for investigation.</p>
<p>Thank you for shopping with us! We hope to see you again soon.</p>"""
    html = page("Amazon", "amazon.com", inner,
                "© 2024 Amazon.com, Inc. or its affiliates. All rights reserved. Amazon and all related marks are trademarks of Amazon.com, Inc. or its affiliates. Amazon.com, Inc., 410 Terry Avenue North, Seattle, WA 98109-5210.",
                social=False)
    write("amazon_otp_account", "Verify your new Amazon account", sender("Amazon", "account-update@amazon.com"),
          leaf("text/html", html, "UTF-8", "quoted-printable"), "552914", None)


def apple() -> None:
    text = """Dear Agent Tester,

Your Apple ID Code is: 619382. Don't share it with anyone.

The following information is associated with this request:
Date & Time: May 14, 2024 at 11:12:08 AM PDT
Operating System: macOS 14.4.1
IP Address: 203.0.113.48

If you did not make this change or you believe an unauthorised person has accessed your account, you should change your password as soon as possible from your Apple ID account page at https://appleid.apple.com.

Sincerely,
Apple Support

Apple ID | Support | Privacy Policy
Copyright © 2024 One Apple Park Way, Cupertino, CA 95014, United States All rights reserved.
"""
    write("apple_id_code_plain", "Your Apple ID Code", sender("Apple", "appleid@id.apple.com"),
          leaf("text/plain", text, "utf-8", "quoted-printable"), "619382", None)


def discord() -> None:
    track = ("https://click.discord.com/ls/click?upn=qDOo8cnwIoKzt0aLL1cBeA1Mq9fLNrX6mVz-2BC0yO3ZQ2o5xR8sT1"
             "uV4wY7zA0bC3dE6fG9hJ2kL5mN8pQ1rS4tU7vW0xY3zA6bC9dE2fG5hJ8kL1mN4pQ7rS0tU3vW6xY9zA2bC5dE8fG1hJ4")
    inner = ("<h2 style=\"font-size:20px\">Hey agent_7f3k,</h2>"
             "<p>Thanks for registering an account with Discord! Before we get started, we just need to confirm that this is you. "
             "Click below to verify your email address:</p>"
             + button(track, "Verify Email", "#5865f2"))
    html = page("Discord", "discord.com", inner,
                'Sent by Discord • <a href="https://discord.com/blog">check our blog</a> • '
                '<a href="https://twitter.com/discord">@discord</a><br>444 De Haro Street, Suite 200, San Francisco, CA 94107')
    write("discord_verify_tracking_html", "Verify Email Address for Discord",
          sender("Discord", "noreply@discord.com"), leaf("text/html", html, "utf-8", "quoted-printable"),
          None, track, note="only a click-tracking redirect; its anchor text says verify")


def x_code() -> None:
    inner = """<h1 style="font-size:24px">Confirm your email address</h1>
<p>There’s one quick step you need to complete before creating your X account. Let’s make sure this is the right email address for you — please confirm this is the right address to use for your new account.</p>
<p>Please enter this verification code to get started on X:</p>
<p style="font-size:32px;font-weight:bold;letter-spacing:2px">847120</p>
<p>Verification codes expire after two hours.</p>
<p>Thanks,<br>X</p>"""
    html = page("X", "x.com", inner,
                '<a href="https://help.x.com">Help</a> | <a href="https://x.com/i/account/personalization">Not my account</a> | '
                '<a href="https://x.com/settings/email_notifications">Email security tips</a><br>X Corp. 1355 Market Street, Suite 900 San Francisco, CA 94103')
    text = ("Confirm your email address\n\nPlease enter this verification code to get started on X:\n\n847120\n\n"
            "Verification codes expire after two hours.\n\nX Corp. 1355 Market Street, Suite 900 San Francisco, CA 94103\n")
    write("x_code_in_subject", "847120 is your X verification code", sender("X", "info@x.com"),
          alt(text, html), "847120", None)


def instagram() -> None:
    text = """Hi agent.tester,

Someone tried to sign up for an Instagram account with agent-7f3k@mailagents.example. If it was you, enter this confirmation code in the app:

364915

from
Meta
© Instagram. Meta Platforms, Inc., 1601 Willow Road, Menlo Park, CA 94025
This message was sent to agent-7f3k@mailagents.example.
"""
    inner = ("<p>Hi agent.tester,</p><p>Someone tried to sign up for an Instagram account with "
             "<a href=\"mailto:agent-7f3k@mailagents.example\">agent-7f3k@mailagents.example</a>. If it was you, enter this confirmation code in the app:</p>"
             '<table><tr><td style="font-size:32px;font-family:Helvetica Neue,Helvetica,Arial,sans-serif;color:#565a5c">364915</td></tr></table>')
    html = page("Instagram", "instagram.com", inner,
                "© Instagram. Meta Platforms, Inc., 1601 Willow Road, Menlo Park, CA 94025", social=False)
    write("instagram_code_subject_first", "364915 is your Instagram code", sender("Instagram", "security@mail.instagram.com"),
          alt(text, html), "364915", None)


def facebook() -> None:
    text = """Hi Agent,

We received a request to confirm this email address.

FB-48213 is your Facebook confirmation code.

Enter it on the Facebook page you have open to finish adding your email.

Thanks,
The Facebook Team

This message was sent to agent-7f3k@mailagents.example at your request.
Meta Platforms, Inc., Attention: Community Support, 1 Facebook Way, Menlo Park, CA 94025
"""
    write("facebook_fb_prefix", "FB-48213 is your Facebook confirmation code",
          sender("Facebook", "registration@facebookmail.com"), leaf("text/plain", text, "utf-8", "7bit"),
          "48213", None)


def linkedin() -> None:
    inner = """<p>Hi Agent,</p><p>Here’s your verification code <span style="font-weight:700;font-size:20px">583920</span>. This code will expire in 15 minutes.</p>
<p>If you didn’t try to sign in, <a href="https://www.linkedin.com/e/v2?e=5ehq-lw6y&amp;a=checkpoint-challenge&amp;midToken=AQG0">reset your password</a> and review your settings.</p>"""
    html = page("LinkedIn", "linkedin.com", inner,
                'This email was intended for Agent Tester. <a href="https://www.linkedin.com/help/linkedin/answer/4788">Learn why we included this.</a><br>'
                "© 2024 LinkedIn Corporation, 1000 West Maude Avenue, Sunnyvale, CA 94085.")
    write("linkedin_code_inline", "Agent, here's your PIN 583920", sender("LinkedIn", "security-noreply@linkedin.com"),
          leaf("text/html", html, "utf-8", "quoted-printable"), "583920", None,
          note="'reset your password' link is a 'wasn't you' escape hatch, not the action")


def dropbox() -> None:
    text = """Hi Agent,

Your security code is 482 913.

Enter this code on the Dropbox website to continue signing in. The code is valid for 10 minutes.

Happy Dropboxing!
- The Dropbox Team

Dropbox, Inc., PO Box 77767, San Francisco, CA 94107
"""
    write("dropbox_grouped_space", "Your Dropbox security code", sender("Dropbox", "no-reply@dropbox.com"),
          leaf("text/plain", text, "utf-8", "quoted-printable"), "482913", None)


def paypal() -> None:
    inner = """<p>Hello, Agent Tester</p>
<p>PayPal: Your security code is <b>338901</b>. Your code expires in 10 minutes. Please don't reply.</p>
<p>Need help? Call us at 1-888-221-1161 (Monday–Friday, 5:00 AM – 10:00 PM PT).</p>"""
    html = page("PayPal", "paypal.com", inner,
                "PayPal is located at 2211 North First Street, San Jose, California 95131. Copyright © 1999-2024 PayPal, Inc. All rights reserved. PayPal PPC001254:1.1:f46a24bd61",
                social=False)
    write("paypal_security_code_phone", "Your PayPal security code", sender("PayPal", "service@intl.paypal.com"),
          leaf("text/html", html, "utf-8", "base64"), "338901", None)


def chase() -> None:
    text = """CHASE

Your one-time code is 47192036

Use this code to verify your identity for your account ending in 4821. It expires in 10 minutes. Don't share this code with anyone. We'll never call, text or email you asking for it.

If you didn't request a code, call us right away at 1-800-935-9935. We accept operator relay calls.

Please don't reply to this email. This mailbox isn't monitored.

JPMorgan Chase Bank, N.A. Member FDIC
(c) 2024 JPMorgan Chase & Co.
"""
    write("bank_chase_8digit", "Your Chase one-time code", sender("Chase", "no.reply.alerts@chase.com"),
          leaf("text/plain", text, "us-ascii", "7bit"), "47192036", None)


def sparkasse() -> None:
    text = """Sehr geehrte Kundin, sehr geehrter Kunde,

Sie haben die Registrierung für das Online-Banking gestartet.

Ihr Bestätigungscode lautet: 572910

Bitte geben Sie den Code innerhalb von 15 Minuten ein. Geben Sie diesen Code niemals telefonisch weiter – unsere Mitarbeiter werden Sie nie danach fragen.

Ihre Kundennummer: 4711081
Bei Fragen erreichen Sie uns unter Tel. 030 869 869 69 (Mo–Fr 8:00–20:00 Uhr).

Mit freundlichen Grüßen
Ihre Sparkasse Berlin

Berliner Sparkasse, Alexanderplatz 2, 10178 Berlin
Vorstand: Johannes Evers (Vorsitzender)
"""
    write("sparkasse_de_latin1_qp", "Ihr Bestätigungscode für das Online-Banking",
          sender("Berliner Sparkasse", "service@berliner-sparkasse.de", "iso-8859-1"),
          leaf("text/plain", text, "iso-8859-1", "quoted-printable"), "572910", None,
          subject_charset="iso-8859-1")


def n26() -> None:
    digits = "".join(
        f'<td style="width:40px;height:48px;border:1px solid #d1d5db;border-radius:4px;font-size:28px;text-align:center">{d}</td>'
        for d in "839201")
    inner = ("<h1 style=\"font-size:24px\">Dein Sicherheitscode</h1>"
             "<p>Hallo Agent,</p><p>gib den folgenden Code in der N26 App ein, um dein neues Gerät zu koppeln:</p>"
             f'<table role="presentation" cellspacing="6"><tr>{digits}</tr></table>'
             "<p>Der Code ist 5 Minuten gültig. Hast du das nicht angefordert? Dann melde dich bitte sofort beim Support.</p>")
    html = page("N26", "n26.com", inner,
                'N26 Bank SE · Voltairestraße 8 · 10179 Berlin · <a href="https://n26.com/de-de/impressum">Impressum</a> · '
                '<a href="https://n26.com/de-de/datenschutz">Datenschutz</a>', lang="de")
    write("n26_de_digits_in_cells", "Dein Sicherheitscode", sender("N26", "no-reply@n26.com"),
          leaf("text/html", html, "utf-8", "quoted-printable"), "839201", None,
          note="each digit in its own table cell")


def french_bank() -> None:
    text = """Bonjour,

Vous avez demandé à vous connecter à votre espace client depuis un nouvel appareil.

Votre code de vérification est : 740128

Ce code est valable 10 minutes. Ne le communiquez jamais à personne, même à un conseiller.

N° client : 88214409
Service client : 01 23 45 67 89 (du lundi au vendredi, de 8h à 20h)

Cordialement,
Votre Banque en ligne

Banque en Ligne SA, 12 rue de la Paix, 75002 Paris – RCS Paris 552 120 222
"""
    write("banque_fr_latin1_base64", "Votre code de vérification",
          sender("Banque en Ligne", "securite@banque-en-ligne.fr", "iso-8859-1"),
          leaf("text/plain", text, "iso-8859-1", "base64"), "740128", None, subject_charset="iso-8859-1")


def french_confirm() -> None:
    url = "https://www.boutique-exemple.fr/compte/confirmation?jeton=4e7b1c9a2f6d3e8b&amp;utm_source=email"
    inner = ("<h1>Bienvenue !</h1><p>Merci d'avoir créé votre compte. Pour l'activer, confirmez votre adresse e-mail :</p>"
             + button(url, "Confirmer mon adresse e-mail", "#e2001a") +
             "<p>Ce lien expire dans 48 heures.</p>"
             '<p><a href="https://www.boutique-exemple.fr/aide">Centre d\'aide</a> · '
             '<a href="https://www.boutique-exemple.fr/desinscription?e=a7">Se désinscrire</a></p>')
    html = page("Boutique Exemple", "boutique-exemple.fr", inner, "Boutique Exemple SAS, 8 avenue de l'Opéra, 75001 Paris", lang="fr")
    write("boutique_fr_confirm_link", "Confirmez votre adresse e-mail",
          sender("Boutique Exemple", "bonjour@boutique-exemple.fr"),
          leaf("text/html", html, "utf-8", "quoted-printable"), None,
          "https://www.boutique-exemple.fr/compte/confirmation?jeton=4e7b1c9a2f6d3e8b&utm_source=email")


def spanish_code() -> None:
    inner = """<p>Hola,</p><p>Tu código de verificación es:</p>
<p style="font-size:30px;letter-spacing:4px"><strong>915 320</strong></p>
<p>Introduce este código en la aplicación para continuar. El código caduca en 10 minutos.</p>
<p>Si no has solicitado este código, ignora este correo. Nunca te pediremos este código por teléfono (900 123 456).</p>"""
    html = page("Cabify", "cabify.com", inner,
                "Maxi Mobility Spain S.L.U., Calle Pedro I, 21, 28027 Madrid, España · "
                '<a href="https://cabify.com/es/privacidad">Privacidad</a>', lang="es")
    text = "Hola,\n\nTu código de verificación es: 915 320\n\nEl código caduca en 10 minutos.\n"
    write("cabify_es_code", "Tu código de verificación de Cabify", sender("Cabify", "no-reply@cabify.com"),
          alt(text, html), "915320", None)


def spanish_link() -> None:
    url = "https://cuenta.tienda-ejemplo.es/activar?token=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5"
    inner = ("<h1>¡Ya casi está!</h1><p>Gracias por registrarte. Activa tu cuenta pulsando el botón:</p>"
             + button(url, "Activar mi cuenta", "#0066cc") +
             "<p>Pedido mínimo para envío gratis: 30 €. Atención al cliente: 912 345 678.</p>"
             '<p><a href="https://www.tienda-ejemplo.es/ayuda">Ayuda</a> · <a href="https://www.tienda-ejemplo.es/baja?u=1">Darse de baja</a></p>')
    html = page("Tienda Ejemplo", "tienda-ejemplo.es", inner, "Tienda Ejemplo S.L., Calle Mayor 10, 28013 Madrid", lang="es")
    write("tienda_es_activate_link", "Activa tu cuenta en Tienda Ejemplo",
          sender("Tienda Ejemplo", "hola@tienda-ejemplo.es"), leaf("text/html", html, "utf-8", "base64"), None, url)


def chinese_gb2312() -> None:
    text = """尊敬的用户：

您好！您正在注册云服务账号，您的验证码是：384912，5分钟内有效。

为保障您的账号安全，请勿将验证码告知他人。如非本人操作，请忽略本邮件。

客服热线：400-810-8888
此邮件由系统自动发出，请勿直接回复。

示例云计算有限公司
"""
    write("cloud_cn_gb2312_base64", "【示例云】注册验证码", sender("示例云", "noreply@yun-example.cn", "gb2312"),
          leaf("text/plain", text, "gb2312", "base64"), "384912", None, subject_charset="gb2312")


def chinese_html_cell() -> None:
    inner = """<p>亲爱的用户，您好：</p><p>您正在进行邮箱验证，本次请求的验证码为：</p>
<table><tr><td style="font-size:28px;font-weight:bold;color:#ff6a00">７２９１０４</td></tr></table>
<p>（为了保障您账号的安全性，请在10分钟内完成验证。）</p>
<p>订单相关问题请联系客服，电话 0571-8502 2088。</p>"""
    html = page("示例商城", "shop-example.cn", inner, "示例网络技术有限公司 · 浙江省杭州市余杭区文一西路969号", lang="zh")
    write("shop_cn_fullwidth_cell", "邮箱验证码", sender("示例商城", "service@shop-example.cn"),
          leaf("text/html", html, "utf-8", "base64"), "729104", None, note="full-width digits")


def chinese_link() -> None:
    url = "https://passport.forum-example.cn/activate?code=8f14e45fceea167a5a36dedd4bea2543&uid=1029384"
    text = f"""您好，agent7f3k：

感谢您注册示例论坛！请点击以下链接激活您的账号：

{url}

如果链接无法点击，请将其复制到浏览器地址栏中打开。该链接24小时内有效。

示例论坛 运营团队
2024年5月14日
"""
    write("forum_cn_activate_link_plain", "请激活您的示例论坛账号", sender("示例论坛", "noreply@forum-example.cn"),
          leaf("text/plain", text, "utf-8", "base64"), None, url)


def japanese_sjis() -> None:
    text = """※このメールは送信専用です。

株式会社サンプル会員サービスをご利用いただきありがとうございます。

認証コード：４２８１９３

上記の認証コードを画面に入力してください。有効期限は発行から30分です。

本メールにお心当たりのない場合は、お手数ですが破棄してください。

━━━━━━━━━━━━━━━━━━━━
株式会社サンプル カスタマーサポート
〒150-0002 東京都渋谷区渋谷2-21-1
TEL：03-1234-5678（平日10:00～18:00）
━━━━━━━━━━━━━━━━━━━━
"""
    write("sample_jp_shiftjis", "【サンプル】認証コードのお知らせ", sender("サンプル会員サービス", "no-reply@sample.co.jp", "shift_jis"),
          leaf("text/plain", text, "shift_jis", "base64"), "428193", None, subject_charset="shift_jis")


def japanese_iso2022() -> None:
    text = """ご利用ありがとうございます。

ログインのための確認コードは 739201 です。

このコードの有効期限は10分間です。第三者に教えないでください。

ご注文番号：250-1234567-8901234 についてのお問い合わせはマイページからどうぞ。

株式会社れいショップ
"""
    data = text.encode("iso-2022-jp")
    body = b'Content-Type: text/plain; charset="ISO-2022-JP"\nContent-Transfer-Encoding: 7bit\n\n' + data
    write("reishop_jp_iso2022", "ログイン確認コード", sender("れいショップ", "info@reishop.jp", "iso-2022-jp"),
          body, "739201", None, subject_charset="iso-2022-jp")


def japanese_link() -> None:
    url = "https://member.example-travel.jp/regist/complete?key=a9F3kQ7mZ2xP8wL4"
    text = f"""この度は会員仮登録いただき、誠にありがとうございます。

下記URLをクリックして本登録を完了してください。

{url}

※URLの有効期限は24時間です。
※本メールにお心当たりのない方は破棄してください。

お問い合わせ：0120-123-456
エグザンプル・トラベル株式会社
"""
    write("travel_jp_register_link", "【エグザンプル・トラベル】本登録のご案内",
          sender("エグザンプル・トラベル", "info@example-travel.jp"),
          leaf("text/plain", text, "utf-8", "quoted-printable"), None, url)


def vercel_both() -> None:
    url = "https://vercel.com/confirm?email=agent-7f3k%40mailagents.example&token=Vx9fK2qL8mN3pR7t&mode=login"
    inner = ("<h1>Verify your email to sign in to Vercel</h1>"
             "<p>To complete the login process, please click the button below:</p>"
             + button(url.replace("&", "&amp;"), "VERIFY", "#000000") +
             "<p>Or enter this verification code in the open tab:</p>" + code_box("381 047") +
             f'<p>Or copy and paste this URL into a new tab of your browser:<br><a href="{url.replace("&", "&amp;")}">{url.replace("&", "&amp;")}</a></p>'
             "<p>If you didn't attempt to log in but received this email, please ignore this email. If you are concerned about your account's safety, please reply to this email to get in touch with us.</p>")
    html = page("Vercel", "vercel.com", inner, "Vercel Inc. 440 N Barranca Ave #4133 Covina, CA 91723")
    write("vercel_code_and_link", "Vercel Login Verification", sender("Vercel", "notifications@vercel.com"),
          leaf("text/html", html, "utf-8", "quoted-printable"), "381047", url)


def auth0() -> None:
    url = "https://acme-agents.us.auth0.com/u/email-verification?ticket=pQ3rS8tU1vW6xY9zA2bC5dE#"
    inner = ("<h1>Verify your account</h1><p>Thanks for signing up for Acme Agents! Please verify your email address "
             "to activate your account.</p>"
             + button(url, "Verify Your Account", "#ea5323") +
             '<p>If you are having any issues with your account, please don\'t hesitate to contact us by replying to this mail.</p>'
             '<p>Thanks!</p>')
    html = page("Acme Agents", "acme-agents.io", inner, "Acme Agents Ltd, 2 Kingdom St, London W2 6BD, United Kingdom")
    write("auth0_verify_account", "Verify your email", sender("Acme Agents", "no-reply@auth0user.net"),
          leaf("text/html", html, "utf-8", "quoted-printable"), None, url)


def mailchimp_optin() -> None:
    url = "https://acmeweekly.us21.list-manage.com/subscribe/confirm?u=5a8f3c1e9b7d2f4a6c8e0b1d3&id=e4f6a8c0b2&e=9d7b5f3a1c"
    inner = ("<h2>Please Confirm Subscription</h2>"
             + button(url.replace("&", "&amp;"), "Yes, subscribe me to this list.", "#5d5d5d") +
             "<p>If you received this email by mistake, simply delete it. You won't be subscribed if you don't click the confirmation link above.</p>"
             '<p>For questions about this list, please contact: <a href="mailto:hello@acmeweekly.com">hello@acmeweekly.com</a></p>')
    html = page("Acme Weekly", "acmeweekly.com", inner, "Acme Weekly · 100 Main St · Portland, OR 97204 · USA", social=False)
    write("mailchimp_double_optin", "Acme Weekly: Please Confirm Subscription",
          sender("Acme Weekly", "us21@acmeweekly.com"), leaf("text/html", html, "utf-8", "quoted-printable"),
          None, url)


def substack() -> None:
    track = "https://substack.com/redirect/2/eyJlIjoiaHR0cHM6Ly9hY21lLnN1YnN0YWNrLmNvbS9zdWJzY3JpYmUvY29uZmlybSJ9.Xk9pQ2"
    inner = ("<h1>Confirm your subscription to The Acme Dispatch</h1>"
             "<p>Tap the button below to confirm your subscription. If you didn't request this, you can ignore this email.</p>"
             + button(track, "Confirm subscription", "#ff6719") +
             '<p><a href="https://substack.com/app">Get the app</a> · <a href="https://substack.com/tos">Terms</a></p>')
    html = page("Substack", "substack.com", inner, "© 2024 Substack Inc. 548 Market Street PMB 72296, San Francisco, CA 94104")
    write("substack_confirm_redirect", "Confirm your subscription", sender("The Acme Dispatch", "acme@substack.com"),
          leaf("text/html", html, "utf-8", "quoted-printable"), None, track)


def sendgrid_verify() -> None:
    track = ("https://u1234567.ct.sendgrid.net/ls/click?upn=u001.Kx7mQ-2BZ9vL3pR8tW1yA4cE6gI0kM2oQ4sU6wY8aC0eG2i"
             "K4mO6qS8uW0yA2cE4gI6kM8oQ0sU2wY4aC6eG8iK0mO2qS4uW6yA8cE-3D-3D_abc")
    inner = ("<p>Hi there,</p><p>Welcome to Sprout CRM! Please confirm your email address to finish setting up your account.</p>"
             + button(track, "Confirm my email", "#1a82e2") +
             "<p>Your trial lasts 14 days. Questions? Reply to this email or call +1 (646) 555-0142.</p>")
    html = page("Sprout CRM", "sproutcrm.io", inner,
                'Sprout CRM, 228 Park Ave S #45956, New York, NY 10003 · <a href="https://u1234567.ct.sendgrid.net/asm/unsubscribe/?user_id=1">Unsubscribe</a>')
    write("sendgrid_tracking_confirm", "Confirm your Sprout CRM account", sender("Sprout CRM", "hello@sproutcrm.io"),
          leaf("text/html", html, "utf-8", "quoted-printable"), None, track)


def atlassian() -> None:
    url = "https://id.atlassian.com/signup/verify-email/otp?token=eyJraWQiOiJpZGVudGl0eSJ9.eyJzdWIiOiI1NTcwNTgifQ.sig&amp;continue=https%3A%2F%2Fstart.atlassian.com"
    inner = ("<h1 style=\"font-size:24px\">Verify your email to continue</h1>"
             "<p>Your verification code is:</p>" + code_box("KQ4ZT7") +
             "<p>Or click the button:</p>" + button(url, "Verify email", "#0052cc") +
             "<p>This code expires in 30 minutes.</p>")
    html = page("Atlassian", "atlassian.com", inner,
                'This message was sent to you by Atlassian Cloud<br>Atlassian, Inc. 350 Bush Street, Floor 13 San Francisco, CA 94104 USA · '
                '<a href="https://www.atlassian.com/legal/privacy-policy">Privacy policy</a>')
    write("atlassian_alnum_code_and_link", "Verify your email for Atlassian", sender("Atlassian", "noreply@id.atlassian.com"),
          leaf("text/html", html, "utf-8", "base64"), "KQ4ZT7", url.replace("&amp;", "&"))


def zoom_activate() -> None:
    url = "https://us05web.zoom.us/activate?code=u8NQ2rZkB4Xp7fJmT1wL9cV3hE6yS0dA&fr=signup"
    inner = ("<p>Hello agent-7f3k@mailagents.example,</p><p>Welcome to Zoom!</p>"
             "<p>To activate your account please click the button below to verify your email address:</p>"
             + button(url.replace("&", "&amp;"), "Activate Account", "#0e72ed") +
             f'<p>Or paste this link into your browser:<br>{url.replace("&", "&amp;")}</p>'
             "<p>For more information, visit the Help Center or call +1.888.799.9666.</p>")
    html = page("Zoom", "zoom.us", inner, "Copyright ©2024 Zoom Video Communications, Inc. All rights reserved. 55 Almaden Blvd, 6th Floor, San Jose, CA 95113")
    write("zoom_activate_account", "Please activate your Zoom account", sender("Zoom", "no-reply@zoom.us"),
          leaf("text/html", html, "utf-8", "quoted-printable"), None, url)


def figma() -> None:
    text = "Hi Agent,\n\nUse the code below to sign in to Figma:\n\n552 180\n\nThis code expires in 15 minutes.\n\nFigma, Inc. 760 Market St, Floor 10, San Francisco, CA 94102\n"
    inner = ('<p>Use the code below to sign in to Figma:</p>'
             '<p style="font-size:40px;font-family:Courier New,monospace">552 180</p><p>This code expires in 15 minutes.</p>')
    html = page("Figma", "figma.com", inner, "Figma, Inc. 760 Market St, Floor 10, San Francisco, CA 94102")
    write("figma_signin_code", "Your Figma sign-in code: 552 180", sender("Figma", "no-reply@figma.com"),
          alt(text, html), "552180", None)


def shopify() -> None:
    text = """Your login code is 72914

Enter this code to log in to your Shopify store admin (acme-agents.myshopify.com).

The code expires in 20 minutes. Your store order #1042 and any pending payouts are not affected.

Shopify Inc., 151 O'Connor Street, Ground floor, Ottawa, ON K2P 2L8, Canada
"""
    write("shopify_5digit_login", "Shopify login code", sender("Shopify", "mailer@shopify.com"),
          leaf("text/plain", text, "utf-8", "7bit"), "72914", None)


def epic() -> None:
    inner = """<p>Hello, agent7f3k!</p><p>Here is the security code you requested to finish creating your Epic Games account:</p>
<div style="font-size:40px;font-weight:bold;letter-spacing:8px;padding:24px 0">XJ4K9P</div>
<p>This code will expire in 30 minutes. If you did not request this code, please change your password immediately.</p>"""
    html = page("Epic Games", "epicgames.com", inner, "© 2024, Epic Games, Inc. All rights reserved. 620 Crossroads Blvd., Cary, NC 27518, USA")
    write("epic_alnum_security_code", "Your Epic Games security code", sender("Epic Games", "help@acct.epicgames.com"),
          leaf("text/html", html, "utf-8", "quoted-printable"), "XJ4K9P", None)


def steam() -> None:
    text = """Dear agent7f3k,

Here is the Steam Guard code you need to login to account agent7f3k:

4F7TX

This email was generated because of a login attempt from a web or mobile device located at 198.51.100.23 (DE).

The login attempt included your correct account name and password.

The Steam Guard code is required to complete the login. No one can access your account without also accessing this email.

If you are not attempting to login then please change your Steam password, and consider changing your email password as well to ensure your account security.

If you are having trouble accessing your account then please reference this help article for assistance: https://help.steampowered.com/wizard/HelpWithLoginInfo

Valve Corporation
PO Box 1688 Bellevue, WA 98009
"""
    write("steam_guard_5char", "Your Steam account: Access from new web or mobile device",
          sender("Steam", "noreply@steampowered.com"), leaf("text/plain", text, "utf-8", "quoted-printable"), "4F7TX", None)


def binance() -> None:
    inner = """<h2>Verify Your Email</h2>
<p>Your verification code:</p><p style="font-size:26px;font-weight:bold;color:#f0b90b">482910</p>
<p>The verification code will be valid for 30 minutes. Please do not share this code with anyone.</p>
<p style="color:#848e9c">Don’t recognize this activity? Please <a href="https://www.binance.com/en/my/security/account-disable">reset your password</a> and contact customer support immediately.</p>
<p style="color:#848e9c">This is an automated message, please do not reply.</p>
<p style="color:#848e9c">Stay connected! © 2017 - 2024 Binance.com, All Rights Reserved.</p>"""
    html = page("Binance", "binance.com", inner, "Binance Holdings Ltd. · Anti-phishing code: Xh3k9", social=True)
    write("binance_code_antiphishing", "[Binance] Verify your email", sender("Binance", "do-not-reply@ses.binance.com"),
          leaf("text/html", html, "utf-8", "quoted-printable"), "482910", None,
          note="'Anti-phishing code' in the footer is a decoy")


def uber() -> None:
    text = "Your Uber code is 7291. Never share this code. Reply STOP ENDS to 89203 to unsubscribe.\n\nUber Technologies Inc, 1515 3rd Street, San Francisco, CA 94158\n"
    write("uber_4digit", "Your Uber code", sender("Uber", "uber@uber.com"),
          leaf("text/plain", text, "utf-8", "7bit"), "7291", None)


def telegram() -> None:
    text = """Telegram login code

Login code: 48291. Do not give this code to anyone, even if they say they are from Telegram!

This code can be used to log in to your Telegram account. We never ask it for anything else.

If you didn't request this code by trying to log in on another device, simply ignore this message.
"""
    write("telegram_login_code", "Telegram login code", sender("Telegram", "no-reply@telegram.org"),
          leaf("text/plain", text, "utf-8", "8bit"), "48291", None)


def revolut() -> None:
    inner = """<table width="100%" role="presentation">
<tr><td style="font-size:16px;color:#191c1f;padding-bottom:8px">Here is your code:</td></tr>
<tr><td style="font-size:34px;font-weight:600;padding:8px 0 24px">903 417</td></tr>
<tr><td>It will expire in 5 minutes. Revolut will never ask for this code.</td></tr>
<tr><td style="padding-top:16px">Card ending •••• 4821 · Account 12345678</td></tr>
</table>"""
    html = page("Revolut", "revolut.com", inner, "Revolut Ltd, 7 Westferry Circus, London, E14 4HD, United Kingdom")
    write("revolut_table_rows", "Your Revolut verification code", sender("Revolut", "no-reply@revolut.com"),
          leaf("text/html", html, "utf-8", "base64"), "903417", None)


def wise() -> None:
    text = "Your Wise verification code is 294 018\n\nDon't share it with anyone. Wise staff will never ask for this code.\n\nWise Payments Limited, 6th Floor, The Tea Building, 56 Shoreditch High Street, London, E1 6JJ\n"
    inner = "<p>Your Wise verification code is <strong>294 018</strong></p><p>Don't share it with anyone.</p>"
    write("wise_grouped_inline", "294 018 is your Wise code", sender("Wise", "noreply@wise.com"),
          alt(text, page("Wise", "wise.com", inner, "Wise Payments Limited, 56 Shoreditch High Street, London, E1 6JJ")),
          "294018", None)


def aws() -> None:
    text = """Amazon Web Services

Verify your identity

Hello,

Thank you for creating an AWS account. To verify your email address, use the following verification code:

Verification code
841930
(This code is valid for 10 minutes)

AWS will never email you and ask you to disclose or verify your password, credit card, or banking account number.

Amazon Web Services, Inc. is a subsidiary of Amazon.com, Inc. Amazon.com is a registered trademark of Amazon.com, Inc. This message was produced and distributed by Amazon Web Services Inc., 410 Terry Ave. North, Seattle, WA 98109. © 2024, Amazon Web Services, Inc. All rights reserved. AWS is a registered trademark of Amazon.com, Inc. View our privacy policy at https://aws.amazon.com/privacy/
"""
    write("aws_label_line_above", "AWS Email Verification", sender("Amazon Web Services", "no-reply@signup.aws"),
          leaf("text/plain", text, "utf-8", "quoted-printable"), "841930", None)


def okta() -> None:
    url = "https://acme.okta.com/email/verify/00ub0oNGTSWTBKOLGLNR?token=ftF5Ch5Ua3eNnW1Z5hVgS2fY&amp;flowType=MAGIC_LINK"
    inner = ("<h2>Verify your email</h2><p>Hi Agent,</p>"
             "<p>To finish signing in, click the button below:</p>"
             + button(url, "Sign In", "#1662dd") +
             "<p>Can't use the link? Enter a code instead: <b>205311</b></p>"
             "<p>If you didn't request this, you can ignore it. Contact your administrator at it-help@acme.example.</p>")
    html = page("Okta", "okta.com", inner, "This is an automatically generated message from Okta. Replies are not monitored or answered.", social=False)
    write("okta_magic_link_and_code", "One-time verification code", sender("Okta", "noreply@okta.com"),
          leaf("text/html", html, "utf-8", "quoted-printable"), "205311", url.replace("&amp;", "&"))


def cloudflare_lower() -> None:
    text = "Your Cloudflare confirmation code is: a7k2m9\n\nEnter it within 10 minutes to complete sign-up.\n\nCloudflare, Inc. | 101 Townsend St, San Francisco, CA 94107\n"
    write("cloudflare_lowercase_alnum", "Cloudflare confirmation code", sender("Cloudflare", "noreply@notify.cloudflare.com"),
          leaf("text/plain", text, "utf-8", "7bit"), "a7k2m9", None, note="lower-case code must stay lower-case")


def code_in_subject_only() -> None:
    inner = ('<table><tr><td><img src="https://cdn.pixelmail.io/render/otp/603918.png" alt="Your code" width="300"></td></tr>'
             "<tr><td>Can't see the image? Open this email in another client.</td></tr></table>")
    html = page("PixelMail", "pixelmail.io", inner, "PixelMail GmbH, Torstraße 49, 10119 Berlin")
    write("code_only_in_subject", "Your verification code is 603918", sender("PixelMail", "noreply@pixelmail.io"),
          leaf("text/html", html, "utf-8", "quoted-printable"), "603918", None)


def angle_url_plain() -> None:
    url = "https://app.ledgerly.example/confirm/7c9e6679-7425-40de-944b-e07fc1f90ae7"
    text = f"Hi,\n\nConfirm your email address to start using Ledgerly:\n<{url}>\n\nThe link is valid for 7 days. Reply to this email if you need help.\n\n-- \nLedgerly, 20 W 34th St, New York, NY 10001\n"
    write("ledgerly_angle_bracket_url", "Confirm your email for Ledgerly", sender("Ledgerly", "team@ledgerly.example"),
          leaf("text/plain", text, "utf-8", "7bit"), None, url)


def qp_wrapped_url() -> None:
    url = "https://accounts.meetup-example.com/email/verify?token=Q2FmZWJhYmVfZGVhZGJlZWZfMTIzNDU2Nzg5MGFiY2RlZg&lang=en-US&src=signup_email"
    text = f"Hi Agent,\n\nPlease verify your email address by opening this link:\n\n{url}\n\nSee you at the next event!\nThe Meetup Example team\n"
    write("meetup_qp_soft_break_url", "Verify your email address", sender("Meetup Example", "info@meetup-example.com"),
          leaf("text/plain", text, "utf-8", "quoted-printable"), None, url,
          note="URL longer than 76 chars: QP soft line breaks inside it")


def german_tracking() -> None:
    track = "https://t.newsletter-mail.de/r/?id=h4b2c1d9,e8f7a6,5d4c3b&p1=https%3A%2F%2Fkonto.reiseportal.de%2Fbestaetigen%3Ft%3D8a7b6c5d"
    inner = ("<p>Hallo,</p><p>vielen Dank für Ihre Registrierung bei Reiseportal. Bitte bestätigen Sie Ihre E-Mail-Adresse, "
             "um Ihr Kundenkonto zu aktivieren:</p>"
             + button(track, "E-Mail-Adresse bestätigen", "#ff5a00") +
             "<p>Der Link ist 48 Stunden gültig. Ihre Kundennummer: 8841029</p>")
    html = page("Reiseportal", "reiseportal.de", inner,
                'Reiseportal GmbH · Friedrichstraße 123 · 10117 Berlin · <a href="https://www.reiseportal.de/impressum">Impressum</a> · '
                '<a href="https://www.reiseportal.de/datenschutz">Datenschutz</a> · <a href="https://www.reiseportal.de/newsletter/abmelden?u=1">Abmelden</a>',
                lang="de")
    write("reiseportal_de_tracking_confirm", "Bitte bestätigen Sie Ihre E-Mail-Adresse",
          sender("Reiseportal", "service@reiseportal.de"), leaf("text/html", html, "utf-8", "quoted-printable"), None, track)


def junk_plain_real_html() -> None:
    text = "This email requires an HTML-capable email client. View it online: https://view.acmemail.example/v/9f8e7d\n"
    inner = ("<h1>Your one-time passcode</h1><p>Use this passcode to finish signing in:</p>" + code_box("660 214")
             + "<p>It expires in 10 minutes.</p>")
    html = page("AcmeMail", "acmemail.example", inner, US_FOOTER.format(b="AcmeMail"))
    write("useless_plain_part", "Your one-time passcode", sender("AcmeMail", "security@acmemail.example"),
          alt(text, html), "660214", None)


def coinbase_2fa() -> None:
    text = ("Coinbase\n\nYour 2FA code is 115 927\n\nThis code expires in 10 minutes.\n"
            "Your account ending in 7730 was last accessed on 13 May 2024.\n"
            "Coinbase, Inc., 248 3rd St #434, Oakland, CA 94607\n")
    write("coinbase_2fa_grouped", "Your Coinbase 2FA code", sender("Coinbase", "no-reply@coinbase.com"),
          leaf("text/plain", text, "utf-8", "quoted-printable"), "115927", None)


def ebay_code_after() -> None:
    text = "Hi agent,\n\n401729 is your eBay security code. It expires in 10 minutes.\n\nIf you didn't request this code, please change your password.\n\nCopyright © 1995-2024 eBay Inc. All Rights Reserved. eBay Inc., 2025 Hamilton Avenue, San Jose, CA 95125\n"
    write("ebay_code_before_keyword", "eBay security code", sender("eBay", "ebay@ebay.com"),
          leaf("text/plain", text, "utf-8", "7bit"), "401729", None)


def bank_de_tan() -> None:
    inner = """<p>Guten Tag Agent Tester,</p>
<p>für Ihre Überweisung über 250,00 EUR an Max Mustermann (IBAN DE89 3704 0044 0532 0130 00) wurde eine TAN angefordert.</p>
<table><tr><td>TAN:</td><td><b>48 29 16</b></td></tr><tr><td>Gültig bis:</td><td>14.05.2024, 11:25 Uhr</td></tr></table>
<p>Bitte prüfen Sie die Auftragsdaten sorgfältig. Geben Sie die TAN niemals an Dritte weiter.</p>"""
    html = page("Musterbank", "musterbank.de", inner, "Musterbank AG · Neue Mainzer Str. 52 · 60311 Frankfurt am Main · BLZ 500 100 60", lang="de")
    write("musterbank_de_tan_pairs", "Ihre TAN für die Überweisung", sender("Musterbank", "tan@musterbank.de"),
          leaf("text/html", html, "utf-8", "quoted-printable"), "482916", None, note="TAN grouped in pairs; IBAN decoy")


def mixed_with_pdf() -> None:
    text = ("Hello,\n\nThanks for your purchase. Your licence activation code is:\n\nR7TQ-9KXM\n\n"
            "Your invoice INV-2024-0518 is attached.\n\nSoftCo Ltd, 12 High St, Cambridge CB2 1TN\n")
    pdf = (b'Content-Type: application/pdf; name="INV-2024-0518.pdf"\nContent-Transfer-Encoding: base64\n'
           b'Content-Disposition: attachment; filename="INV-2024-0518.pdf"\n\n'
           + base64.encodebytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" * 20))
    body = multi("mixed", [leaf("text/plain", text, "utf-8", "7bit"), pdf])
    write("softco_activation_with_pdf", "Your SoftCo licence activation code", sender("SoftCo", "sales@softco.example"),
          body, "R7TQ-9KXM", None)


def forwarded() -> None:
    inner_msg = (b"From: Acme ID <no-reply@id.acme.example>\nTo: agent-7f3k@mailagents.example\n"
                 b"Subject: Your Acme verification code\nMIME-Version: 1.0\n"
                 b"Content-Type: text/plain; charset=utf-8\n\nYour Acme verification code is 227401.\n")
    outer = leaf("text/plain", "FYI - see the message below.\n\nSent from my phone\n", "utf-8", "7bit")
    fwd = b"Content-Type: message/rfc822\nContent-Disposition: inline\n\n" + inner_msg
    write("forwarded_rfc822", "Fwd: Your Acme verification code", sender("Agent Owner", "owner@mailagents.example"),
          multi("mixed", [outer, fwd]), "227401", None)


def booking_verify() -> None:
    inner = """<p>Hi,</p><p>Enter this verification code to sign in to Booking.com:</p>
<p style="font-size:28px;font-weight:bold">730 582</p>
<p>Looking for your reservation? Booking number 4821.093.117 · Check-in Fri 17 May 2024.</p>"""
    html = page("Booking.com", "booking.com", inner, "Booking.com B.V., Herengracht 597, 1017 CE Amsterdam, Netherlands")
    write("booking_code_with_reservation", "Your Booking.com verification code", sender("Booking.com", "noreply@booking.com"),
          leaf("text/html", html, "utf-8", "quoted-printable"), "730582", None)


def spaced_plain() -> None:
    text = "Your code:\n\n7 3 1 9 0 4\n\nType it in the app to finish signing in. Code expires at 14:30 UTC.\n\nGlimmer Apps, 1 Loop Rd, Austin, TX 78701\n"
    write("glimmer_spaced_digits", "Sign-in code", sender("Glimmer", "auth@glimmer.example"),
          leaf("text/plain", text, "utf-8", "7bit"), "731904", None)


def hcaptcha_reset_code() -> None:
    inner = ("<p>Hi,</p><p>We received a request to reset the password for your account. Your password reset code is:</p>"
             + code_box("4417 8820") + "<p>If you didn't ask, ignore this email.</p>")
    html = page("Trellis", "trellis.example", inner, US_FOOTER.format(b="Trellis"))
    write("trellis_reset_code_4_4", "Password reset code", sender("Trellis", "security@trellis.example"),
          leaf("text/html", html, "utf-8", "quoted-printable"), "44178820", None)


# =======================================================================================
# Messages that must yield nothing
# =======================================================================================

def newsletter_product() -> None:
    items = "".join(
        f'<tr><td style="padding:16px 0"><a href="https://click.product-weekly.example/ls/click?upn={i}a9f{i}"><img src="https://cdn.product-weekly.example/img/{i}.jpg" width="180" alt=""></a></td>'
        f'<td style="padding:16px"><h3>{t}</h3><p>{d}</p><a href="https://click.product-weekly.example/ls/click?upn={i}b7c{i}">Read more →</a></td></tr>'
        for i, (t, d) in enumerate([
            ("What 2024 taught us about onboarding", "We analysed 12,000 signups from 2023 and 2024 — here are the five patterns that stuck."),
            ("The 3-minute rule", "Teams that reply within 180 seconds convert 2x better. Our data from 4,500 accounts."),
            ("Webinar: May 28, 10:00 PT", "Join 1500 product managers for a live teardown. Seats are limited to 2000."),
        ]))
    inner = (f'<h1>Product Weekly — Issue #214</h1><table width="100%">{items}</table>'
             '<p>Know someone who would enjoy this? <a href="https://product-weekly.example/refer?u=88">Share Product Weekly</a></p>')
    html = page("Product Weekly", "product-weekly.example", inner,
                'You are receiving this because you subscribed at product-weekly.example.<br>'
                '<a href="https://product-weekly.example/preferences?u=88">Update preferences</a> · '
                '<a href="https://product-weekly.example/unsubscribe?u=88">Unsubscribe</a><br>Product Weekly LLC, 2261 Market Street #4667, San Francisco, CA 94114')
    write("nl_product_weekly", "Product Weekly #214: what 2024 taught us", sender("Product Weekly", "hello@product-weekly.example"),
          leaf("text/html", html, "utf-8", "quoted-printable"), None, None)


def newsletter_dev() -> None:
    text = """Python Digest — Issue 482

1. PEP 8102 accepted: faster startup in 3.14
   https://python-digest.example/r/8102
2. Benchmarking asyncio on 64 cores (4096 tasks, 1000000 messages)
   https://python-digest.example/r/2291
3. Release: Django 5.0.6 and 4.2.13 security releases
   https://python-digest.example/r/5061

Jobs
- Senior Backend Engineer, Berlin (EUR 85000-95000) https://python-digest.example/jobs/7731

You're getting this because you signed up at python-digest.example. Unsubscribe: https://python-digest.example/u/2b9c1
Python Digest, 1200 Pearl St, Boulder, CO 80302
"""
    write("nl_python_digest_plain", "Python Digest — Issue 482", sender("Python Digest", "digest@python-digest.example"),
          leaf("text/plain", text, "utf-8", "quoted-printable"), None, None)


def amazon_order() -> None:
    inner = """<h2>Hello Agent,</h2><p>Thank you for your order. We’ll send a confirmation when your items ship.</p>
<table width="100%"><tr><td>Order #</td><td><a href="https://www.amazon.com/gp/your-account/order-details?orderID=112-4829103-4829103">112-4829103-4829103</a></td></tr>
<tr><td>Arriving:</td><td><b>Thursday, May 16</b></td></tr>
<tr><td>Ship to:</td><td>Agent Tester, 1200 Pearl St Apt 4, Boulder, CO 80302</td></tr>
<tr><td>Order Total:</td><td><b>$49.99</b></td></tr></table>
<table width="100%"><tr><td><img src="https://m.media-amazon.com/images/I/41x.jpg" alt="USB-C Cable" width="80"></td><td>Anker USB-C Cable 6ft (2-Pack)<br>Qty: 2<br>Sold by: Anker Direct</td><td>$24.99</td></tr></table>"""
    html = page("Amazon", "amazon.com", inner + button("https://www.amazon.com/gp/css/order-history?ref=ppx", "View or manage order", "#ffd814"),
                "© 2024 Amazon.com, Inc. or its affiliates. Amazon.com, 410 Terry Avenue N., Seattle, WA 98109-5210.", social=False)
    write("receipt_amazon_order", "Your Amazon.com order #112-4829103-4829103", sender("Amazon.com", "auto-confirm@amazon.com"),
          leaf("text/html", html, "utf-8", "quoted-printable"), None, None)


def shipping() -> None:
    text = """Your package is on its way!

Tracking number: 1Z999AA10123456784
USPS tracking: 9400 1118 9922 3333 4444 55

Estimated delivery: Friday, 05/17/2024 by 8:00 PM
Shipped to: 1200 Pearl St, Boulder, CO 80302

Track your package: https://www.ups.com/track?tracknum=1Z999AA10123456784
Questions? Call 1-800-742-5877.

Order 558201 · 3 items
"""
    write("shipping_ups_notice", "Your order 558201 has shipped", sender("Gadget Store", "orders@gadgetstore.example"),
          leaf("text/plain", text, "utf-8", "7bit"), None, None)


def zoom_invite() -> None:
    text = """Agent Tester is inviting you to a scheduled Zoom meeting.

Topic: Weekly sync
Time: May 21, 2024 10:00 AM Pacific Time (US and Canada)
        Every week on Tue, until Jul 30, 2024, 11 occurrence(s)

Join Zoom Meeting
https://us06web.zoom.us/j/81234567890?pwd=bXlQb3N0cmVzc1Bhc3N3b3Jk.1

Meeting ID: 812 3456 7890
Passcode: 482913

---

One tap mobile
+16465588656,,81234567890#,,,,*482913# US (New York)
+16694449171,,81234567890#,,,,*482913# US

Dial by your location
• +1 646 558 8656 US (New York)
• +1 669 444 9171 US

Meeting ID: 812 3456 7890
Passcode: 482913
"""
    ics = ("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//zoom.us//iCalendar Event//EN\nBEGIN:VEVENT\n"
           "DTSTART:20240521T170000Z\nDTEND:20240521T173000Z\nSUMMARY:Weekly sync\nUID:ZOOM81234567890\n"
           "END:VEVENT\nEND:VCALENDAR\n")
    body = multi("mixed", [leaf("text/plain", text, "utf-8", "quoted-printable"),
                           leaf("text/calendar", ics, "utf-8", "7bit", 'Content-Disposition: attachment; filename="invite.ics"\n')])
    write("invite_zoom_meeting", "Invitation: Weekly sync @ Tue May 21, 2024 10am - 10:30am (PDT)",
          sender("Agent Tester", "owner@mailagents.example"), body, None, None,
          note="meeting passcode is not a login code")


def gcal_invite() -> None:
    inner = """<h2>Design review</h2><p>Tuesday 14 May 2024 ⋅ 10:30am – 11:00am (Central European Time - Berlin)</p>
<p>Join with Google Meet<br><a href="https://meet.google.com/abc-defg-hij?hs=224">meet.google.com/abc-defg-hij</a></p>
<p>Join by phone<br>(DE) +49 30 300195336 PIN: 318 529 401#</p>
<p><a href="https://calendar.google.com/calendar/event?action=RESPOND&amp;eid=NTU&amp;rst=1">Yes</a> · <a href="https://calendar.google.com/calendar/event?action=RESPOND&amp;eid=NTU&amp;rst=2">No</a> · <a href="https://calendar.google.com/calendar/event?action=RESPOND&amp;eid=NTU&amp;rst=3">Maybe</a></p>
<p>Invitation from Google Calendar. You are receiving this email because you are an attendee on the event.</p>"""
    write("invite_google_calendar", "Invitation: Design review @ Tue 14 May 2024 10:30 - 11:00 (CEST)",
          sender("Google Calendar", "calendar-notification@google.com"),
          leaf("text/html", page("Google Calendar", "google.com", inner, "", social=False), "utf-8", "quoted-printable"), None, None)


def bank_statement() -> None:
    inner = """<p>Hi Agent,</p><p>Your May statement for your checking account ending in 4821 is ready.</p>
<table><tr><td>Statement period</td><td>04/13/2024 – 05/12/2024</td></tr>
<tr><td>Ending balance</td><td>$2,431.19</td></tr><tr><td>Minimum payment due</td><td>$35.00 by 06/07/2024</td></tr></table>""" + button(
        "https://secure.bankofexample.com/login?goto=statements", "Sign in to view your statement", "#012169") + \
        "<p>Questions? Call 1-800-432-1000. We're here 24/7.</p>"
    html = page("Bank of Example", "bankofexample.com", inner, "Bank of Example, N.A. Member FDIC. 100 N Tryon St, Charlotte, NC 28255", social=False)
    write("bank_statement_ready", "Your May statement is ready", sender("Bank of Example", "alerts@bankofexample.com"),
          leaf("text/html", html, "utf-8", "quoted-printable"), None, None)


def stripe_receipt() -> None:
    text = """Receipt from Acme Agents, Inc.
Receipt #2214-8830

Amount paid   $20.00
Date paid     May 5, 2024
Payment method  Visa – 4242

Summary
Pro plan (May 5 – Jun 5, 2024)  Qty 1  $20.00
Amount charged  $20.00

Invoice number: 4F2A9C1B-0001

If you have any questions, contact us at billing@acme-agents.io or call +1 415-555-0132.
Download invoice: https://invoice.stripe.com/i/acct_1Mx/test_YWNjdF8xTXhLZE
"""
    write("receipt_stripe_invoice", "Your receipt from Acme Agents, Inc. #2214-8830",
          sender("Acme Agents, Inc.", "invoice+statements@stripe.com"), leaf("text/plain", text, "utf-8", "quoted-printable"), None, None)


def airline() -> None:
    inner = """<h1>You're all set for your trip to Lisbon</h1>
<table><tr><td>Confirmation code</td><td style="font-size:24px;font-weight:bold">K7XQ2P</td></tr>
<tr><td>Flight</td><td>TP 581 · Wed, 22 May 2024 · 07:25 BER → 09:40 LIS</td></tr>
<tr><td>Seat</td><td>14C</td></tr><tr><td>Ticket number</td><td>0472 1234567890</td></tr></table>""" + button(
        "https://www.flyexample.com/manage-booking?pnr=K7XQ2P&amp;ln=TESTER", "Manage booking", "#00a551") + \
        "<p>Online check-in opens 36 hours before departure.</p>"
    html = page("FlyExample", "flyexample.com", inner, "FlyExample Airlines, Aeroporto de Lisboa, 1704-801 Lisboa, Portugal")
    write("airline_booking_pnr", "Booking confirmation K7XQ2P — Berlin to Lisbon", sender("FlyExample", "booking@flyexample.com"),
          leaf("text/html", html, "utf-8", "quoted-printable"), None, None, note="airline PNR is not a login code")


def password_changed() -> None:
    text = """Security alert

Your password was changed on May 14, 2024 at 10:31 AM (UTC) from IP 203.0.113.42 (Chrome on Windows, Berlin, Germany).

If you made this change, you don't need to do anything.

If you didn't change your password, secure your account now: https://accounts.acme-cloud.example/security/recover?src=alert

Acme Cloud, 500 Terry Francine St, San Francisco, CA 94158
"""
    write("alert_password_changed", "Security alert: your password was changed", sender("Acme Cloud", "security@acme-cloud.example"),
          leaf("text/plain", text, "utf-8", "7bit"), None, None)


def promo() -> None:
    inner = """<h1 style="font-size:40px">SPRING SALE — 20% OFF</h1><p>Use promo code <b>SPRING24</b> at checkout. Offer ends 05/31/2024.</p>
<p>Free shipping on orders over $50. New customers: take an extra 10% with code WELCOME10.</p>""" + button(
        "https://click.shop-example.com/ls/click?upn=sale2024", "Shop now", "#111111")
    html = page("Shop Example", "shop-example.com", inner,
                '<a href="https://shop-example.com/unsubscribe?e=1">Unsubscribe</a> · Shop Example Inc., 55 Water St, Brooklyn, NY 11201')
    write("promo_spring_sale", "Spring sale: 20% off with code SPRING24", sender("Shop Example", "deals@shop-example.com"),
          leaf("text/html", html, "utf-8", "quoted-printable"), None, None)


def invoice_de() -> None:
    text = """Sehr geehrter Herr Tester,

anbei erhalten Sie Ihre Rechnung Nr. 2024-0815 vom 14.05.2024.

Rechnungsbetrag: 49,99 €
Kundennummer: 4711081
Fällig am: 28.05.2024

Bitte überweisen Sie den Betrag auf folgendes Konto:
IBAN: DE89 3704 0044 0532 0130 00, BIC: COBADEFFXXX

Mit freundlichen Grüßen
Hosting Beispiel GmbH · Musterweg 7 · 80331 München · Tel. 089 1234567
"""
    pdf = (b'Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n'
           b'Content-Disposition: attachment; filename="Rechnung-2024-0815.pdf"\n\n' + base64.encodebytes(b"%PDF-1.5\n%%EOF\n" * 8))
    write("invoice_de_rechnung", "Ihre Rechnung 2024-0815", sender("Hosting Beispiel", "buchhaltung@hosting-beispiel.de"),
          multi("mixed", [leaf("text/plain", text, "iso-8859-1", "quoted-printable"), pdf]), None, None)


def shipping_fr() -> None:
    inner = """<p>Bonjour,</p><p>Votre colis n° 6A12345678901 est en cours de livraison.</p>
<p>Livraison prévue : mercredi 15 mai 2024, entre 9h00 et 13h00.</p>
<p>Adresse : 24 rue du Faubourg, 75010 Paris</p><p>Commande 302918 · 2 articles · 64,90 €</p>""" + button(
        "https://www.laposte-exemple.fr/suivi?colis=6A12345678901", "Suivre mon colis", "#ffc700")
    html = page("Colis Exemple", "laposte-exemple.fr", inner, "Colis Exemple SA, 9 rue du Colonel Pierre Avia, 75015 Paris", lang="fr")
    write("shipping_fr_colis", "Votre colis arrive aujourd'hui", sender("Colis Exemple", "suivi@laposte-exemple.fr"),
          leaf("text/html", html, "iso-8859-1", "quoted-printable"), None, None)


def order_cn() -> None:
    text = """亲爱的用户：

您的订单 202405128812 已发货！

快递公司：顺丰速运
运单号：SF1234567890
预计送达：2024年5月16日

订单金额：￥128.00
收货地址：上海市浦东新区世纪大道100号

如有疑问请致电客服热线 400-123-4567。
"""
    write("order_cn_shipped", "您的订单已发货", sender("示例商城", "order@shop-example.cn"),
          leaf("text/plain", text, "gb2312", "base64"), None, None, subject_charset="gb2312")


def order_jp() -> None:
    text = """ご注文ありがとうございます。

ご注文番号：250-1234567-8901234
ご注文日：2024年5月14日
合計：￥3,280（税込）

お届け予定日：5月16日（木）
〒150-0002 東京都渋谷区渋谷2-21-1

商品の発送が完了しましたら、改めてご連絡いたします。
"""
    write("order_jp_sjis", "ご注文の確認", sender("サンプルストア", "order@sample-store.jp", "shift_jis"),
          leaf("text/plain", text, "shift_jis", "quoted-printable"), None, None, subject_charset="shift_jis")


def github_notification() -> None:
    text = """@octocat commented on this pull request.

In src/parser.py (https://github.com/acme/agent/pull/4821#discussion_r1603921):

> @@ -120,7 +120,9 @@ def parse(self, data):
+        if len(data) > 65536:

Could we use 4096 here? The limit in #4790 was 8192.

—
Reply to this email directly, view it on GitHub (https://github.com/acme/agent/pull/4821#pullrequestreview-2061934), or unsubscribe (https://github.com/notifications/unsubscribe-auth/AAB7).
You are receiving this because you were mentioned.
"""
    write("github_pr_comment", "Re: [acme/agent] Limit payload size (PR #4821)", sender("octocat", "notifications@github.com"),
          leaf("text/plain", text, "utf-8", "quoted-printable"), None, None)


def slack_digest() -> None:
    inner = """<h2>You have 12 unread messages</h2><p>in 3 channels of <b>acme-agents</b> since Monday, May 13.</p>
<table><tr><td>#general</td><td>7 messages</td></tr><tr><td>#deploys</td><td>4 messages — build 20481 passed</td></tr>
<tr><td>#random</td><td>1 message</td></tr></table>""" + button("https://acme-agents.slack.com/messages", "Open Slack", "#4A154B")
    html = page("Slack", "slack.com", inner,
                '<a href="https://acme-agents.slack.com/account/notifications">Change notification settings</a> · ©2024 Slack Technologies, LLC, 415 Mission Street, 3rd Floor, San Francisco, CA 94105')
    write("slack_unread_digest", "[Slack] Notifications from the acme-agents workspace", sender("Slack", "feedback@slack.com"),
          leaf("text/html", html, "utf-8", "quoted-printable"), None, None)


def teams_invite() -> None:
    text = """Microsoft Teams meeting
Join on your computer, mobile app or room device
Click here to join the meeting <https://teams.microsoft.com/l/meetup-join/19%3ameeting_NjQ>
Meeting ID: 348 561 230 741
Passcode: Xq7Hw2

Or call in (audio only)
+1 323-849-4874,,482193574# United States, Los Angeles
Phone Conference ID: 482 193 574#
"""
    write("invite_teams_meeting", "Project kickoff", sender("Agent Owner", "owner@mailagents.example"),
          leaf("text/plain", text, "utf-8", "quoted-printable"), None, None)


def appointment_de() -> None:
    text = """Guten Tag Herr Tester,

hiermit bestätigen wir Ihren Termin am 12.06.2024 um 14:30 Uhr.

Praxis Dr. med. Anna Müller
Hauptstraße 12, 80331 München
Tel. 089 1234567 · Fax 089 1234568

Bitte bringen Sie Ihre Versichertenkarte mit. Absagen bitte bis 24 Stunden vorher.
"""
    write("appointment_de", "Terminbestätigung 12.06.2024", sender("Praxis Dr. Müller", "termine@praxis-mueller.de"),
          leaf("text/plain", text, "iso-8859-1", "quoted-printable"), None, None, subject_charset="iso-8859-1")


def welcome() -> None:
    inner = ("<h1>Welcome to Acme Notes!</h1><p>Your account is ready. Here are three ways to get the most out of Acme Notes in 2024:</p>"
             "<ol><li>Import your notes</li><li>Invite 3 teammates</li><li>Install the desktop app</li></ol>"
             + button("https://click.acmenotes.example/ls/click?upn=welcome-1", "Get started", "#222222"))
    html = page("Acme Notes", "acmenotes.example", inner, US_FOOTER.format(b="Acme Notes"))
    write("welcome_no_action", "Welcome to Acme Notes", sender("Acme Notes", "hello@acmenotes.example"),
          leaf("text/html", html, "utf-8", "quoted-printable"), None, None)


def newsletter_es() -> None:
    inner = ("<h1>Novedades de mayo 2024</h1><p>Este mes lanzamos 3 funciones nuevas y superamos los 25000 usuarios.</p>"
             '<p><a href="https://blog.ejemplo.es/mayo-2024">Leer más</a></p>')
    html = page("Ejemplo", "ejemplo.es", inner,
                '<a href="https://ejemplo.es/baja?u=7">Darse de baja</a> · <a href="https://ejemplo.es/privacidad">Privacidad</a> · Ejemplo S.L., Calle Mayor 1, 28013 Madrid', lang="es")
    write("nl_es_novedades", "Novedades de mayo", sender("Ejemplo", "noticias@ejemplo.es"),
          leaf("text/html", html, "utf-8", "base64"), None, None)


def food_delivery() -> None:
    text = """Your order from Joe's Pizza is on the way!

Order #5821 · 2 items
Order total: $23.45
Estimated arrival: 7:45 PM

Your Dasher, Maria, is driving a silver Toyota Corolla (plate 7ABC123).
Need help? Call 1-855-973-1040.
"""
    write("food_delivery_eta", "Your order is on the way", sender("DoorDash", "no-reply@doordash.com"),
          leaf("text/plain", text, "utf-8", "7bit"), None, None)


def support_ticket() -> None:
    text = """Ticket #582913 has been updated

Hi Agent,

Our support team replied to your request "Cannot export CSV":

"Thanks for the report! This is fixed in version 4.12.3 (build 88213). Please update and let us know."

Reply above this line to add a comment. Need urgent help? Call us at 1-800-555-0199.
Help Center: https://support.acme-tools.example/hc/requests/582913
"""
    write("support_ticket_update", "[Acme Support] Re: Cannot export CSV (#582913)", sender("Acme Support", "support@acme-tools.example"),
          leaf("text/plain", text, "utf-8", "7bit"), None, None)


def new_signin() -> None:
    inner = """<h2>New sign-in to your account</h2><p>We noticed a new sign-in to your Acme account.</p>
<table><tr><td>Device</td><td>iPhone 15 · iOS 17.4</td></tr><tr><td>Location</td><td>Berlin, Germany</td></tr>
<tr><td>IP address</td><td>198.51.100.7</td></tr><tr><td>Time</td><td>May 14, 2024, 10:02 CEST</td></tr></table>
<p>If this was you, you don't need to do anything. If not, <a href="https://acme.example/security/recover">secure your account</a>.</p>"""
    html = page("Acme", "acme.example", inner, US_FOOTER.format(b="Acme"))
    write("alert_new_signin", "New sign-in from iPhone", sender("Acme", "security@acme.example"),
          leaf("text/html", html, "utf-8", "quoted-printable"), None, None)


def github_2fa_enabled() -> None:
    text = """Hey agent-7f3k!

Two-factor authentication was successfully enabled on your account. You'll now be asked for a code from your authenticator app each time you sign in.

Keep your 16 recovery codes in a safe place: https://github.com/settings/auth/recovery-codes

Thanks,
The GitHub Team
GitHub, Inc. ・88 Colin P Kelly Jr Street ・San Francisco, CA 94107
"""
    write("github_2fa_enabled_notice", "[GitHub] Two-factor authentication enabled", sender("GitHub", "noreply@github.com"),
          leaf("text/plain", text, "utf-8", "7bit"), None, None)


# =======================================================================================
# Broken but real-world-shaped messages
# =======================================================================================

def broken() -> None:
    raw("broken_bogus_charset", (
        "From: Acme <no-reply@acme.example>\nTo: agent-7f3k@mailagents.example\n"
        "Subject: Your verification code\nMIME-Version: 1.0\n"
        'Content-Type: text/plain; charset="x-bogus-42"\nContent-Transfer-Encoding: 8bit\n\n'
        "Grüße! Your verification code is 662093 — it expires in 10 minutes.\n").encode(),
        "662093", None, note="unknown charset label, UTF-8 bytes")
    html = ("<html><body><p>Your login code is <b>318274</b>.</p><p>It expires in 10 minutes. "
            + "Lorem ipsum dolor sit amet. " * 30 + "</p></body></html>").encode()
    b64 = base64.encodebytes(html).decode()
    b64 = b64[: len(b64) // 2 - 3]  # truncated mid-quantum
    raw("broken_truncated_base64", (
        "From: Acme <no-reply@acme.example>\nSubject: Login code\nMIME-Version: 1.0\n"
        "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n" + b64).encode(),
        "318274", None, note="base64 cut in the middle")
    raw("broken_no_closing_boundary_bad_qp", (
        b"From: Acme <no-reply@acme.example>\nSubject: Confirm your account\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/alternative; boundary="xyz"\n\n--xyz\n'
        b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
        b"Confirm your account =ZZ here:\nhttps://acme.example/account/confirm?t=3D9f8e7d6c5b4a\n\n"
        b"--xyz\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
        b'<p>Confirm your account: <a href=3D"https://acme.example/account/confirm?t=3D9f8e7d6c5b4a">Confirm</a></p>\n'),
        None, "https://acme.example/account/confirm?t=9f8e7d6c5b4a", note="missing final boundary, invalid QP escape")
    subj = "認証コード 551234 のお知らせ".encode()
    w1 = base64.b64encode(subj[:10]).decode()
    w2 = base64.b64encode(subj[10:]).decode()
    raw("broken_split_encoded_word_subject", (
        f"From: =?UTF-8?B?44K144Oz44OX44Or?= <no-reply@sample.jp>\nSubject: =?UTF-8?B?{w1}?=\n =?UTF-8?B?{w2}?=\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
        "詳細はアプリをご確認ください。\n").encode(),
        "551234", None, note="encoded words split in the middle of a multi-byte character")
    raw("broken_multipart_without_boundary", (
        b"From: Acme <no-reply@acme.example>\nSubject: Your Acme code\nMIME-Version: 1.0\n"
        b"Content-Type: multipart/alternative\n\nYour Acme security code: 940215\n"),
        "940215", None, note="multipart with no boundary parameter")
    raw("broken_no_mime_latin1", (
        "From: Caf\xe9 Central <reservations@cafe-central.example>\nSubject: R\xe9initialisez votre mot de passe\n\n"
        "Bonjour,\n\nPour r\xe9initialiser votre mot de passe, cliquez ici :\n"
        "https://cafe-central.example/motdepasse/reinitialiser?cle=77ab19\n\nL'\xe9quipe du Caf\xe9 Central\n").encode("latin-1"),
        None, "https://cafe-central.example/motdepasse/reinitialiser?cle=77ab19", note="no MIME headers, undeclared Latin-1")


def main() -> None:
    for p in HERE.glob("*.eml"):
        p.unlink()
    for fn in [
        github, github_reset, slack_code, slack_magic, google_prefixed, google_verify, stripe, stripe_confirm,
        notion_code, notion_magic, microsoft, amazon, apple, discord, x_code, instagram, facebook, linkedin,
        dropbox, paypal, chase, sparkasse, n26, french_bank, french_confirm, spanish_code, spanish_link,
        chinese_gb2312, chinese_html_cell, chinese_link, japanese_sjis, japanese_iso2022, japanese_link,
        vercel_both, auth0, mailchimp_optin, substack, sendgrid_verify, atlassian, zoom_activate, figma,
        shopify, epic, steam, binance, uber, telegram, revolut, wise, aws, okta, cloudflare_lower,
        code_in_subject_only, angle_url_plain, qp_wrapped_url, german_tracking, junk_plain_real_html,
        coinbase_2fa, ebay_code_after, bank_de_tan, mixed_with_pdf, forwarded, booking_verify, spaced_plain,
        hcaptcha_reset_code,
        newsletter_product, newsletter_dev, amazon_order, shipping, zoom_invite, gcal_invite, bank_statement,
        stripe_receipt, airline, password_changed, promo, invoice_de, shipping_fr, order_cn, order_jp,
        github_notification, slack_digest, teams_invite, appointment_de, welcome, newsletter_es,
        food_delivery, support_ticket, new_signin, github_2fa_enabled,
        broken,
    ]:
        fn()
    (HERE / "expected.json").write_text(
        json.dumps(dict(sorted(CASES.items())), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(CASES)} messages")


if __name__ == "__main__":
    main()
