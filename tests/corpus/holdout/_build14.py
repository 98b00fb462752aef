# ruff: noqa: E501, RUF001, RUF003
"""Hold-out messages for issue 14 (written before any tuning; never tuned on).

Each message is written in the shape a real service sends; its expectation is written by
hand next to it. Run: .venv/bin/python tests/corpus/holdout/_build14.py (adds to
holdout/expected.json, leaves the other hold-out messages alone).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HOLDOUT = Path(__file__).parent
sys.path.insert(0, str(HOLDOUT.parent))

import _build as b  # noqa: E402

b.HERE = HOLDOUT


def shopify_footer_year() -> None:
    inner = (
        "<p>Hi,</p><p>Use this code to log in to <b>northwind-goods</b>:</p>"
        '<table role="presentation" width="100%"><tr><td align="center" style="font-size:30px;'
        'letter-spacing:6px;font-weight:700;padding:16px;background:#f4f6f8">7Q4K9Z</td></tr></table>'
        "<p>This code will expire in 20 minutes.</p>"
    )
    html = b.page(
        "Shopify",
        "shopify.com",
        inner,
        "© 2026 Shopify Inc., 151 O'Connor Street, Ground floor, Ottawa, ON, K2P 2L8",
    )
    b.write(
        "h14_shopify_footer_year",
        "Your login code for northwind-goods",
        b.sender("Shopify", "mailer@shopify.com"),
        b.leaf("text/html", html),
        "7Q4K9Z",
        None,
    )


def copyright_cell_then_code_cell() -> None:
    html = (
        "<html><body><table><tr><td>© 2025 Orbital Labs GmbH</td><td>Ihr Bestätigungscode:</td>"
        '<td style="font-size:26px"><b>581 204</b></td></tr></table>'
        "<p>Der Code ist 15 Minuten gültig.</p></body></html>"
    )
    b.write(
        "h14_de_copyright_cell_before_code",
        "Ihr Bestätigungscode",
        b.sender("Orbital Labs", "konto@orbital-labs.example"),
        b.leaf("text/html", html),
        "581204",
        None,
    )


def address_line_then_code_line() -> None:
    text = (
        "Pinewood Health · 1200 Elm Street, Suite 400 · Portland, OR 97205\n"
        "Your one-time passcode: 306 118\n"
        "Do not share it with anyone, including Pinewood staff.\n"
    )
    b.write(
        "h14_address_line_above_code",
        "Pinewood Health sign-in",
        b.sender("Pinewood Health", "no-reply@pinewood.example"),
        b.leaf("text/plain", text, "utf-8", "7bit"),
        "306118",
        None,
    )


def quoted_gt_in_attribute() -> None:
    url = "https://auth.parcelhub.example/verify?token=Qm9fR2xhZ2VyXzk4Nzc"
    html = (
        "<p>Hello,</p><p>Please verify your email address to activate your ParcelHub account.</p>"
        f'<p><a title="Verify > continue" href="{url}" style="color:#fff">Verify my email</a></p>'
        "<p>If you did not sign up, ignore this message.</p>"
        '<p style="color:#999">ParcelHub Ltd · 20 Fenchurch St · London EC3M 3BY</p>'
    )
    b.write(
        "h14_quoted_gt_attribute_link",
        "Verify your ParcelHub email",
        b.sender("ParcelHub", "hello@parcelhub.example"),
        b.leaf("text/html", html),
        None,
        url,
    )


def homograph_plain() -> None:
    url = "https://pаypal-secure.com/verify?session=88a1"  # Cyrillic а
    text = (
        "Your account has been limited.\n\n"
        f"Verify your identity here: {url}\n\n"
        "Thank you,\nSecurity Team\n"
    )
    b.write(
        "h14_homograph_plain_link",
        "Action required: verify your account",
        b.sender("Service", "security@notify-mail.example"),
        b.leaf("text/plain", text, "utf-8", "quoted-printable"),
        None,
        url,
    )


def preheader_code() -> None:
    pre = "Your Quillbox code is 442 019. It expires in 10 minutes."
    inner = (
        "<h2>Sign in to Quillbox</h2><p>Enter this code in the app:</p>"
        + b.code_box("442 019")
        + "<p>Didn't request it? You can ignore this email.</p>"
    )
    html = b.page(
        "Quillbox", "quillbox.app", inner, b.US_FOOTER.format(b="Quillbox"), preheader=pre
    )
    b.write(
        "h14_preheader_and_box",
        "Sign in to Quillbox",
        b.sender("Quillbox", "login@quillbox.app"),
        b.leaf("text/html", html, "utf-8", "base64"),
        "442019",
        None,
    )


def dashed_code() -> None:
    text = "Hi,\n\nYour Fernway verification code is 90-31-77.\n\nIt expires in 5 minutes.\n\n— Fernway\n© 2024 Fernway AB\n"
    b.write(
        "h14_dashed_pairs",
        "Fernway verification",
        b.sender("Fernway", "noreply@fernway.example"),
        b.leaf("text/plain", text, "utf-8", "7bit"),
        "903177",
        None,
    )


def subject_only_code_html_footer() -> None:
    inner = "<p>Someone is trying to sign in to your account. If this was you, use the code in the subject line.</p>"
    html = b.page(
        "Tallyo", "tallyo.example", inner, "© 2024 Tallyo Inc. · 99 King St W, Toronto, ON M5K 1A1"
    )
    b.write(
        "h14_subject_only_code",
        "Tallyo: 318840 is your sign-in code",
        b.sender("Tallyo", "auth@tallyo.example"),
        b.leaf("text/html", html),
        "318840",
        None,
    )


def italian_code() -> None:
    html = (
        "<p>Ciao,</p><p>il tuo codice di verifica è:</p>"
        '<div style="font-size:28px;font-weight:bold;letter-spacing:3px">734 519</div>'
        "<p>Il codice scade tra 10 minuti.</p><p>Viale Monza 259, 20126 Milano · P.IVA 09876543210</p>"
    )
    b.write(
        "h14_it_codice",
        "Codice di verifica",
        b.sender("Spesa Facile", "noreply@spesafacile.example"),
        b.leaf("text/html", html),
        "734519",
        None,
    )


def portuguese_code() -> None:
    text = "Olá!\n\nSeu código de verificação é 620 417.\nEle expira em 15 minutos.\n\nEquipe Pagali\nAv. Paulista, 1578 - São Paulo - SP, 01310-200\n"
    b.write(
        "h14_pt_codigo",
        "Seu código Pagali",
        b.sender("Pagali", "nao-responda@pagali.example"),
        b.leaf("text/plain", text, "utf-8", "quoted-printable"),
        "620417",
        None,
    )


def magic_link_tracker() -> None:
    track = (
        "https://links.mail.drafty.example/ls/click?upn=u001.bG9naW4tbWFnaWMtbGluay0yOTg4-2FZx"
        "&amp;t=3f9a"
    )
    inner = (
        "<h1>Your Drafty login link</h1><p>Click the button below to log in. This link expires in 15 minutes.</p>"
        + b.button(track, "Log in to Drafty", "#5b5bd6")
        + "<p>Order #58812 of your team plan renews on 2024-06-01.</p>"
    )
    html = b.page("Drafty", "drafty.example", inner, b.US_FOOTER.format(b="Drafty"))
    b.write(
        "h14_magic_link_tracker",
        "Log in to Drafty",
        b.sender("Drafty", "team@drafty.example"),
        b.leaf("text/html", html),
        None,
        track.replace("&amp;", "&"),
    )


def order_receipt_no_code() -> None:
    inner = (
        "<h2>Thanks for your order!</h2><table><tr><td>Order number</td><td>40417722</td></tr>"
        "<tr><td>Total</td><td>$48.20</td></tr><tr><td>Estimated delivery</td><td>May 18</td></tr></table>"
    )
    html = b.page(
        "Ember Coffee",
        "embercoffee.example",
        inner,
        "© 2024 Ember Coffee Co. · 12 Pike St, Seattle, WA 98101",
    )
    b.write(
        "h14_order_receipt",
        "Your Ember Coffee order 40417722",
        b.sender("Ember Coffee", "orders@embercoffee.example"),
        b.leaf("text/html", html),
        None,
        None,
    )


def code_in_table_after_year_subject() -> None:
    html = (
        "<table><tr><th>Annual report 2024</th></tr>"
        "<tr><td>Your access code</td><td><code>8812-4409</code></td></tr></table>"
        "<p>Use it on the investor portal.</p>"
    )
    b.write(
        "h14_year_header_code_cell",
        "Annual report 2024: your access code",
        b.sender("Keel Capital", "ir@keel.example"),
        b.leaf("text/html", html),
        "88124409",
        None,
    )


def signature_phone_after_code() -> None:
    text = (
        "Hello,\n\nYour login code is 557102.\n\n"
        "--\nMarta Ruiz\nCustomer Care, Brightlane\nTel. +34 915 550 123\nC/ de Alcalá 48, 28014 Madrid\n"
    )
    b.write(
        "h14_signature_after_code",
        "Brightlane login",
        b.sender("Brightlane", "care@brightlane.example"),
        b.leaf("text/plain", text, "utf-8", "7bit"),
        "557102",
        None,
    )


def broken_markup_entities() -> None:
    html = (
        "<html><body><p>Your verification code is&nbsp;<b>  &#52;&#56;&#50;&#57;&#49;&#51; </b>"
        "<p>Unclosed <div class=note><a href=https://help.kettle.example/codes>Help</a>"
        "<!-- tracking: 123456 --><script>var c='999999';</script>"
    )
    b.write(
        "h14_broken_markup_entities",
        "Kettle verification code",
        b.sender("Kettle", "verify@kettle.example"),
        b.leaf("text/html", html),
        "482913",
        None,
    )


def main() -> None:
    path = HOLDOUT / "expected.json"
    b.CASES.update(json.loads(path.read_text(encoding="utf-8")))
    for fn in [
        shopify_footer_year, copyright_cell_then_code_cell, address_line_then_code_line,
        quoted_gt_in_attribute, homograph_plain, preheader_code, dashed_code,
        subject_only_code_html_footer, italian_code, portuguese_code, magic_link_tracker,
        order_receipt_no_code, code_in_table_after_year_subject, signature_phone_after_code,
        broken_markup_entities,
    ]:  # fmt: skip
        fn()
    path.write_text(
        json.dumps(dict(sorted(b.CASES.items())), indent=1, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    print(f"{len(b.CASES)} hold-out messages")


if __name__ == "__main__":
    main()
