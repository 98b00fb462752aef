# ruff: noqa: E501, RUF001, RUF003
"""Issue 14: decoys keep to their own block, split codes, more languages, homograph hosts."""

from __future__ import annotations

import pytest

from tui.core.links import inspect_link
from tui.extract import analyze_parts

# -- decoy scope ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "text", "html"),
    [
        # a copyright row, then the code in the next row
        ("Your login code", "", "<table><tr><td>© 2025 Acme Inc.</td></tr><tr><td><b>482913</b></td></tr></table>"),
        # a copyright line, then the code on the next line
        ("Your login code", "Copyright 2025 Acme Inc.\n482913\n", ""),
        # an address footer block, then the code block
        ("Your Acme code", "", "<div>Acme Inc, 12 Main Street, Suite 4</div><div style='font-size:30px'>482913</div>"),
        # a ticket line, a blank line, the code
        ("Your code", "Ticket 123\n\n482913\n", ""),
        # an order number's phone-shaped tail must not mask the next row's code
        ("Your pickup code", "", "<table><tr><td>Order #</td><td>88310042</td></tr><tr><td><b>482913</b></td></tr></table>"),
    ],
)  # fmt: skip
def test_a_decoy_never_reaches_the_next_block(subject: str, text: str, html: str) -> None:
    assert analyze_parts(subject=subject, text=text, html=html).otp == "482913"


def test_a_decoy_label_still_labels_its_value() -> None:
    # "Order number" labels the cell right after it: that number is no code
    html = (
        "<p>Your verification code is below.</p><table><tr><td>Order number</td><td>40417722</td>"
        "</tr></table>"
    )
    assert analyze_parts(subject="Thanks", html=html).otp is None
    text = "Your login code will follow. Order 55120 shipped today."
    assert analyze_parts(subject="Update", text=text).otp is None


def test_a_decoy_in_another_sentence_of_the_line_does_not_count() -> None:
    text = "Invoice 20931 is ready. Your verification code is 318 774. It expires soon.\n"
    assert analyze_parts(subject="Billing portal access", text=text).otp == "318774"


# -- split codes and languages -----------------------------------------------------------


def test_a_code_in_dashed_pairs_is_not_a_date() -> None:
    ex = analyze_parts(subject="Votre code", text="Votre code de vérification : 55-20-93\n")
    assert ex.otp == "552093"
    # a real date stays a date
    assert analyze_parts(subject="Your code", text="Your code: 05-12-24\n").otp is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Je verificatiecode is 274 910.", "274910"),
        ("Din engångskod är 119 385.", "119385"),
        ("Doğrulama kodunuz: 662 018", "662018"),
        ("Ваш код подтверждения: 503917", "503917"),
        ("인증번호는 728 406 입니다.", "728406"),
    ],
)
def test_more_languages(text: str, code: str) -> None:
    assert analyze_parts(subject="", text=text).otp == code


# -- homograph hosts ------------------------------------------------------------------------


def test_a_homograph_link_in_plain_text_is_extracted_and_flagged() -> None:
    url = "https://pаypal.com/verify?id=9921"  # Cyrillic а
    ex = analyze_parts(subject="Verify your account", text=f"Verify now: {url}\n")
    assert ex.link == url
    assert "mixed-script host" in ex.link_candidates[0].reason
    assert "looks like 'paypal.com'" in ex.link_candidates[0].reason


def test_homograph_and_punycode_hosts_are_flagged_alike() -> None:
    from tui.extract.links import host_warning

    plain = inspect_link("https://pаypal.com/verify").warnings
    puny = inspect_link("https://xn--pypal-4ve.com/verify").warnings
    assert any("mixed-script" in w and "looks like 'paypal.com'" in w for w in plain)
    assert any("punycode" in w and "looks like 'paypal.com'" in w for w in puny)
    assert host_warning("drοpbox.com") is not None  # Greek ο
    assert host_warning("example.com") is None


# -- the HTML tokenizer ----------------------------------------------------------------------


def test_a_quoted_gt_in_an_attribute_keeps_the_link_and_leaks_nothing() -> None:
    from tui.extract.htmltext import html_to_text

    doc = html_to_text(
        '<p>Hi</p><a title="1 > 0" href="https://acme.example/verify?t=1">Verify</a>'
    )
    assert [(a.href, a.text, a.title) for a in doc.anchors] == [
        ("https://acme.example/verify?t=1", "Verify", "1 > 0")
    ]
    assert doc.text == "Hi\n\nVerify"


def test_unquoted_attributes_comments_script_and_style() -> None:
    from tui.extract.htmltext import html_to_text

    doc = html_to_text(
        "<!-- code 111111 --><style>p{width:600px}</style>"
        "<script>var s = '</scr' + 'ipt>'; if (a > 0 && b < 1) {}</script>"
        "<p>Confirm: <a href=https://acme.example/confirm?k=7&amp;x=1 target=_blank>Confirm</a></p>"
        "<!-- unterminated <b>222222</b>"
    )
    assert [a.href for a in doc.anchors] == ["https://acme.example/confirm?k=7&x=1"]
    assert doc.text == "Confirm: Confirm"


def test_broken_markup_and_entities() -> None:
    from tui.extract.htmltext import html_to_text

    doc = html_to_text(
        "<p>1 < 2 &copy 2024 &amp; co<div class=note>Your code is <b>&#x34;&#56;2913</b>"
        "<p>unclosed <span style='font-size:30px'>big</div><td>cell</p>"
    )
    assert "1 < 2 © 2024 & co" in doc.text
    assert "Your code is 482913" in doc.text
    emphasised = {doc.text[s:e] for s, e in doc.emphasis}
    assert "482913" in emphasised and "big" in emphasised


def test_attribute_text_never_becomes_body_text() -> None:
    ex = analyze_parts(
        subject="Your code",
        html='<div data-x="a > b, code: 999999"><p>Your verification code is <b>482913</b></p></div>',
    )
    assert ex.otp == "482913"
    assert "999999" not in ex.text


def test_very_deep_nesting_is_made_shallow_before_parsing() -> None:
    """lexbor's tree building is quadratic in the depth of open elements (100,000 nested
    <div> took 29 s): tags past MAX_DEPTH are dropped first, their text kept."""
    from tui.extract import htmltext

    html = "<div>" * 100_000 + "Your code is <b>482913</b>" + "</div>" * 100_000
    shallow = htmltext._shallow(html)
    assert shallow.count("<div>") == htmltext.MAX_DEPTH
    assert shallow.count("</div>") == htmltext.MAX_DEPTH
    assert "Your code is 482913" in shallow  # the <b> past the limit went too
    doc = htmltext.html_to_text(html)
    assert doc.text == "Your code is 482913"
    # an ordinary document is parsed as it is
    page = "<table>" + "<tr><td>1</td><td>2</td></tr>" * 2000 + "</table>"
    assert htmltext._shallow(page) is page


def test_the_cheap_depth_bound_never_misses_a_deep_document() -> None:
    import random

    from tui.extract import htmltext

    def exact_depth(html: str) -> int:
        depth = best = 0
        for m in htmltext._DEEPENING_TAG.finditer(html):
            depth = max(0, depth + (-1 if m.group(1) else 1))
            best = max(best, depth)
        return best

    rng = random.Random(14)
    pieces = ["<div>", "</div>", "<td>", "</td>", "<br>", "<TD>", "<tdx>", "<p>", "</p>", "<b>",
              "</b>", "<!-- x -->", "<img src=a>", "text ", "<li>", "<span\n>", "</span>"]  # fmt: skip
    deep = 0
    for _ in range(300):
        weights = [rng.random() for _ in pieces]
        html = "".join(rng.choices(pieces, weights, k=rng.randint(500, 6000)))
        if exact_depth(html) > htmltext.MAX_DEPTH:
            deep += 1
            assert htmltext._maybe_deep(html), html[:200]
    assert deep > 20  # the generator does make deep documents


def test_without_selectolax_the_stdlib_tokenizer_reads_the_corpus_alike(monkeypatch) -> None:
    import json
    import sys
    from pathlib import Path

    from tui.extract import analyze_message

    monkeypatch.setitem(sys.modules, "selectolax.lexbor", None)  # import fails
    corpus = Path(__file__).resolve().parents[1] / "corpus"
    expected = json.loads((corpus / "expected.json").read_text(encoding="utf-8"))
    for name, exp in expected.items():
        ex = analyze_message((corpus / name).read_bytes())
        assert (ex.otp, ex.link) == (exp["otp"], exp["link"]), name
    doc = analyze_parts(html='<a title="1 > 0" href="https://acme.example/v">Verify</a>')
    assert doc.text == "Verify"
