# ruff: noqa: E501, RUF001
"""Corpus messages for issue 14: HTML-only mail with footers, codes in tables and boxes,
preheaders, split codes, subject-only codes, several languages, magic links behind trackers,
decoy labels next to real codes, markup the old tokenizer broke on, homograph links.

Written in the shapes real services send; expectations written by hand next to each message.
Run: .venv/bin/python tests/corpus/_build14.py (adds to expected.json, leaves the rest alone).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import _build as b  # noqa: E402
from _build import US_FOOTER, button, code_box, leaf, page, sender, write  # noqa: E402


def html_only(name, subject, frm, html, otp, link, cte="quoted-printable", note=""):
    write(name, subject, frm, leaf("text/html", html, "utf-8", cte), otp, link, note=note)


def plain(name, subject, frm, text, otp, link, note=""):
    write(
        name,
        subject,
        frm,
        leaf("text/plain", text, "utf-8", "7bit" if text.isascii() else "quoted-printable"),
        otp,
        link,
        note=note,
    )


def boxed(code: str, bg: str = "#f2f4f7") -> str:
    return (
        f'<div style="background:{bg};border:1px solid #d0d5dd;border-radius:8px;padding:18px;'
        f'text-align:center;font-size:32px;font-weight:700;letter-spacing:8px">{code}</div>'
    )


def cells(code: str) -> str:
    """A code shown one digit per table cell, as several banks do."""
    tds = "".join(
        f'<td style="border:1px solid #ccc;width:36px;text-align:center;font-size:24px">{c}</td>'
        for c in code
    )
    return f'<table role="presentation" style="margin:16px auto"><tr>{tds}</tr></table>'


def messages() -> None:
    # -- HTML-only with copyright and address footers --------------------------------------
    html_only(
        "i14_shopify_alnum_footer_year",
        "Your Shopify login code",
        sender("Shopify", "mailer@shopify.com"),
        page(
            "Shopify",
            "shopify.com",
            "<p>Use this code to log in:</p>"
            + boxed("7Q4K9Z")
            + "<p>It expires in 20 minutes.</p>",
            "© 2026 Shopify Inc., 151 O'Connor Street, Ground floor, Ottawa, ON, K2P 2L8",
        ),
        "7Q4K9Z",
        None,
    )
    html_only(
        "i14_copyright_row_above_code",
        "Confirm your sign-in",
        sender("Lumen", "auth@lumen.example"),
        "<table><tr><td>© 2025 Lumen Analytics Ltd, 5 Market Sq, Cambridge CB2 3QJ</td></tr>"
        "<tr><td>Your sign-in code:</td></tr><tr><td style='font-size:28px'><b>663019</b></td></tr></table>",
        "663019",
        None,
        note="a copyright row above the code row must not suppress it",
    )
    html_only(
        "i14_address_footer_then_code_block",
        "Security code",
        sender("Harbor Bank", "alerts@harborbank.example"),
        "<div>Harbor Bank N.A. · 400 Broadway, Suite 12 · New York, NY 10013</div>"
        "<div>Security code for your transfer: <strong>40 77 19</strong></div><p>Never share this code.</p>",
        "407719",
        None,
    )
    html_only(
        "i14_copyright_cell_left_code_cell_right",
        "Votre code",
        sender("Caisse Nord", "securite@caissenord.example"),
        "<table><tr><td>© 2024 Caisse Nord SA</td><td>Votre code de sécurité</td><td><b>218 904</b></td></tr></table>",
        "218904",
        None,
    )
    html_only(
        "i14_year_in_subject_code_in_body",
        "Your 2025 tax portal access code",
        sender("TaxPort", "no-reply@taxport.example"),
        "<p>Welcome back.</p><p>Access code:</p><p style='font-size:24px'><b>51 88 02</b></p><p>© 2025 TaxPort</p>",
        "518802",
        None,
    )
    html_only(
        "i14_footer_only_year_no_code",
        "Welcome to Brisk",
        sender("Brisk", "hello@brisk.example"),
        page(
            "Brisk",
            "brisk.example",
            "<h1>Welcome aboard!</h1><p>Your workspace is ready. Invite your team any time.</p>",
            "© 2026 Brisk Software Inc. · 2200 Mission College Blvd, Santa Clara, CA 95054",
        ),
        None,
        None,
    )
    # -- codes in tables and styled boxes ---------------------------------------------------
    html_only(
        "i14_digits_in_cells",
        "Ihr TAN-Code",
        sender("Volksbank", "tan@vb-mitte.example"),
        "<p>Ihre TAN für die Überweisung:</p>"
        + cells("735108")
        + "<p>Volksbank Mitte eG · Marktplatz 3 · 37115 Duderstadt</p>",
        "735108",
        None,
    )
    html_only(
        "i14_label_cell_value_cell",
        "Account verification",
        sender("Quanta", "verify@quanta.example"),
        "<table><tr><td>Account</td><td>agent-7f3k@mailagents.example</td></tr><tr><td>Verification code</td><td>K7P2QX</td></tr>"
        "<tr><td>Requested</td><td>14 May 2024, 09:12 UTC</td></tr></table>",
        "K7P2QX",
        None,
    )
    html_only(
        "i14_styled_span_code",
        "Your Canva code",
        sender("Canva", "no-reply@canva.com"),
        page(
            "Canva",
            "canva.com",
            "<p>Here's your verification code:</p><p><span style='font-family:monospace;font-size:26px;background:#eee;padding:4px 8px'>839 117</span></p>",
            "© 2024 Canva, 110 Kippax St, Surry Hills NSW 2010, Australia",
        ),
        "839117",
        None,
        cte="base64",
    )
    html_only(
        "i14_order_cell_and_code_cell",
        "Confirm your pickup",
        sender("ParcelPoint", "noreply@parcelpoint.example"),
        "<table><tr><td>Order #</td><td>88310042</td></tr><tr><td>Pickup code</td><td><b>4471</b></td></tr></table>",
        "4471",
        None,
        note="the order number's decoy label belongs to its own row",
    )
    # -- preheaders --------------------------------------------------------------------------
    html_only(
        "i14_preheader_code_twice",
        "Verify your email",
        sender("Pylon", "no-reply@pylon.example"),
        page(
            "Pylon",
            "pylon.example",
            "<p>Enter this code to verify your email:</p>" + code_box("506213"),
            US_FOOTER.format(b="Pylon"),
            preheader="506213 is your Pylon verification code",
        ),
        "506213",
        None,
    )
    html_only(
        "i14_preheader_promo_decoy",
        "Spring sale ends Sunday",
        sender("Loom & Co", "news@loomco.example"),
        page(
            "Loom & Co",
            "loomco.example",
            "<h1>Up to 40% off</h1><p>Use code SPRING24 at checkout.</p>",
            "© 2024 Loom & Co · 77 Queen St, Auckland 1010",
            preheader="Save 40% until May 19, 2024",
        ),
        None,
        None,
    )
    # -- split codes ---------------------------------------------------------------------------
    plain(
        "i14_spaced_groups_plain",
        "Your Tidepool code",
        sender("Tidepool", "noreply@tidepool.example"),
        "Your Tidepool verification code is 481 902\n\nEnter it in the app. It expires in 10 minutes.\n",
        "481902",
        None,
    )
    plain(
        "i14_dash_groups_plain",
        "Sign-in attempt",
        sender("Corvid", "security@corvid.example"),
        "Use this code to sign in: 739-226\n\nIf this wasn't you, reset your password.\nCorvid Inc., 1 Main St, Boston, MA 02108\n",
        "739226",
        None,
    )
    plain(
        "i14_dashed_pairs_plain",
        "Votre code",
        sender("Kiosque", "noreply@kiosque.example"),
        "Bonjour,\n\nVotre code de vérification : 55-20-93\n\nIl expire dans 10 minutes.\n",
        "552093",
        None,
    )
    html_only(
        "i14_digits_spaced_single",
        "Verification code",
        sender("Mintel", "id@mintel.example"),
        "<p>Your verification code:</p><p style='letter-spacing:10px;font-size:28px'>3 0 9 4 1 7</p>",
        "309417",
        None,
    )
    # -- subject-only codes ---------------------------------------------------------------------
    html_only(
        "i14_subject_only_with_footer",
        "842 117 is your Ravel code",
        sender("Ravel", "auth@ravel.example"),
        page(
            "Ravel",
            "ravel.example",
            "<p>Enter the code from the subject line to continue.</p>",
            "© 2024 Ravel Labs, Inc. 535 Mission St, San Francisco, CA 94105",
        ),
        "842117",
        None,
    )
    plain(
        "i14_subject_only_plain",
        "Cobalt: your code is 604-339",
        sender("Cobalt", "no-reply@cobalt.example"),
        "Someone requested a sign-in code for your Cobalt account.\nIf it was you, use the code from the subject.\n",
        "604339",
        None,
    )
    # -- several languages ------------------------------------------------------------------------
    plain(
        "i14_nl_code",
        "Je verificatiecode",
        sender("Fietsdelen", "noreply@fietsdelen.example"),
        "Hoi,\n\nJe verificatiecode is 274 910.\nDeze code is 10 minuten geldig.\n\nFietsdelen B.V., Keizersgracht 62, 1015 CS Amsterdam\n",
        "274910",
        None,
    )
    plain(
        "i14_pl_kod",
        "Kod weryfikacyjny",
        sender("Sklepik", "noreply@sklepik.example"),
        "Dzień dobry,\n\nTwój kod weryfikacyjny to: 830172\n\nKod jest ważny przez 15 minut.\n",
        "830172",
        None,
    )
    plain(
        "i14_sv_kod",
        "Din engångskod",
        sender("Hemma", "noreply@hemma.example"),
        "Hej!\n\nDin engångskod är 119 385.\nKoden gäller i 5 minuter.\n\nHemma AB, Sveavägen 44, 111 34 Stockholm\n",
        "119385",
        None,
    )
    plain(
        "i14_tr_kod",
        "Doğrulama kodunuz",
        sender("Pazar", "noreply@pazar.example"),
        "Merhaba,\n\nDoğrulama kodunuz: 662 018\n\nBu kodu kimseyle paylaşmayın.\n",
        "662018",
        None,
    )
    plain(
        "i14_ru_kod",
        "Код подтверждения",
        sender("Почта", "noreply@pochta.example"),
        "Здравствуйте!\n\nВаш код подтверждения: 503917\n\nКод действителен 10 минут.\n",
        "503917",
        None,
    )
    html_only(
        "i14_ko_code",
        "인증번호 안내",
        sender("마켓", "noreply@market.example"),
        "<p>안녕하세요.</p><p>인증번호는 <b>728 406</b> 입니다.</p><p>3분 안에 입력해 주세요.</p>",
        "728406",
        None,
    )
    html_only(
        "i14_ja_code_table",
        "【重要】認証コードのお知らせ",
        sender("サンプル銀行", "info@sample-bank.example"),
        "<table><tr><td>認証コード</td><td><b>491207</b></td></tr><tr><td>有効期限</td><td>2024年5月14日 18:30</td></tr></table>"
        "<p>〒100-0005 東京都千代田区丸の内1-1-1</p>",
        "491207",
        None,
    )
    html_only(
        "i14_zh_code_footer",
        "您的验证码",
        sender("云盘", "noreply@yunpan.example"),
        "<p>您好！</p><p>您的验证码为：<span style='font-size:24px;color:#f60'>586203</span>，5分钟内有效。</p>"
        "<p>© 2024 云盘科技有限公司 版权所有</p>",
        "586203",
        None,
    )
    plain(
        "i14_es_code_signature",
        "Tu código de acceso",
        sender("Trenes", "no-responder@trenes.example"),
        "Hola,\n\nTu código de acceso es 772 640.\n\n--\nAtención al cliente\nTel. 912 345 678\nCalle de Atocha 1, 28012 Madrid\n",
        "772640",
        None,
    )
    # -- magic links behind trackers ------------------------------------------------------------------
    track = "https://click.em.wavelet.example/ls/click?upn=u001.bWFnaWMtbGluay13YXZlbGV0LTc3-2B9xK&t=77c1"
    html_only(
        "i14_magic_link_sendgrid_style",
        "Your Wavelet sign-in link",
        sender("Wavelet", "login@wavelet.example"),
        page(
            "Wavelet",
            "wavelet.example",
            "<p>Click below to sign in. The link works once and expires in 10 minutes.</p>"
            + button(track.replace("&", "&amp;"), "Sign in to Wavelet"),
            US_FOOTER.format(b="Wavelet"),
        ),
        None,
        track,
    )
    track2 = "https://t.mailer.harvest.example/r/?id=h7c2a9,1f3e,8811&p1=app.harvest.example%2Fverify%3Ftoken%3Dq9Z"
    html_only(
        "i14_verify_link_mailgun_style",
        "Verify your email address",
        sender("Harvest", "team@harvest.example"),
        page(
            "Harvest",
            "harvest.example",
            "<p>Thanks for signing up! Please verify your email address.</p>"
            + button(track2.replace("&", "&amp;"), "Verify email address")
            + "<p>Questions? Call 1-800-555-0199.</p>",
            "© 2024 Harvest Co. · 215 Park Ave S, New York, NY 10003",
        ),
        None,
        track2,
    )
    # -- decoy scope -------------------------------------------------------------------------------------
    plain(
        "i14_order_line_then_code_line",
        "Confirm your delivery",
        sender("Dropr", "noreply@dropr.example"),
        "Order 4471902 is out for delivery.\nYour delivery confirmation code: 5529\nGive it to the driver.\n",
        "5529",
        None,
    )
    plain(
        "i14_invoice_sentence_then_code_sentence",
        "Billing portal access",
        sender("Ledgerline", "billing@ledgerline.example"),
        "Invoice 20931 is ready. Your verification code is 318 774. It expires in 10 minutes.\n",
        "318774",
        None,
    )
    # -- markup the old tokenizer broke on ------------------------------------------------------------------
    url = "https://app.beacon.example/verify?token=Yj3kQ9"
    html_only(
        "i14_quoted_gt_title_link",
        "Verify your Beacon account",
        sender("Beacon", "hello@beacon.example"),
        f'<p>Welcome to Beacon!</p><p><a title="1 > 0" href="{url}" class=btn>Verify</a></p><p>The link expires in 24 hours.</p>',
        None,
        url,
    )
    url2 = "https://accounts.fjord.example/confirm?k=77ab"
    html_only(
        "i14_unquoted_attrs_comment_script",
        "Confirm your Fjord account",
        sender("Fjord", "noreply@fjord.example"),
        "<!-- preheader: code 111111 -->"
        "<script>var tracking = 424242;</script><style>.x{width:600px}</style>"
        f"<p>Confirm your account:</p><p><a href={url2} target=_blank>Confirm</a></p>",
        None,
        url2,
    )
    html_only(
        "i14_entities_code",
        "Verification code",
        sender("Brook", "no-reply@brook.example"),
        "<p>Your verification code is&nbsp;<b>&#x36;&#x30;&#x39;&#x31;&#x32;&#x38;</b>&nbsp;&mdash; valid 10&nbsp;minutes.</p>",
        "609128",
        None,
    )
    # -- homographs -------------------------------------------------------------------------------------------
    plain(
        "i14_homograph_cyrillic_a",
        "Verify your PayPal account",
        sender("PayPal", "service@intl-paypal.example"),
        "We noticed unusual activity.\nVerify now: https://pаypal.com/verify?id=9921\n",
        None,
        "https://pаypal.com/verify?id=9921",
    )
    plain(
        "i14_homograph_greek_o",
        "Confirm your Dropbox email",
        sender("Dropbox", "no-reply@dropbox-mail.example"),
        "Please confirm your email:\nhttps://drοpbox.com/confirm?t=5a1\n",
        None,
        "https://drοpbox.com/confirm?t=5a1",
    )
    # -- non-code mail with tempting numbers ---------------------------------------------------------------------
    html_only(
        "i14_receipt_total_year",
        "Your receipt from Ember Coffee",
        sender("Ember Coffee", "receipts@embercoffee.example"),
        "<table><tr><td>Receipt</td><td>#2041-8832</td></tr><tr><td>Total</td><td>$23.40</td></tr></table><p>© 2024 Ember Coffee Co.</p>",
        None,
        None,
    )
    plain(
        "i14_newsletter_stats",
        "This week at Orbit",
        sender("Orbit", "news@orbit.example"),
        "This week: 12800 new members, 4096 projects shipped, and our 2024 roadmap.\nRead more on the blog.\n",
        None,
        None,
    )
    plain(
        "i14_ticket_reply",
        "[#482031] Re: Export fails",
        sender("Helpdesk", "support@tools.example"),
        "Hi,\n\nWe fixed the export bug in build 7731. Please try again.\n\nTicket 482031\n",
        None,
        None,
    )
    html_only(
        "i14_meeting_invite_passcode",
        "Invitation: Weekly sync",
        sender("Zoom", "no-reply@zoom.us"),
        "<p>Join Zoom Meeting</p><p>https://zoom.us/j/84719230011</p><p>Meeting ID: 847 1923 0011<br>Passcode: 551902</p>",
        None,
        None,
    )


def main() -> None:
    path = HERE / "expected.json"
    b.CASES.update(json.loads(path.read_text(encoding="utf-8")))
    before = len(b.CASES)
    messages()
    path.write_text(
        json.dumps(dict(sorted(b.CASES.items())), indent=1, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    print(f"{len(b.CASES) - before} new, {len(b.CASES)} messages")


if __name__ == "__main__":
    main()
