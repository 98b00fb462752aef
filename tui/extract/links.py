"""Verification-link candidates: anchors and bare URLs, scored with a reason each.

A link scores by what its anchor text (or image alt text, or the words before a bare URL)
says, and by its path: verify / confirm / activate / sign in / magic link / reset password
and their German, French, Spanish, Chinese and Japanese equivalents. Logos and images,
unsubscribe, privacy, terms, help, social networks, app stores and preference links are
pushed down. Click-tracking redirects are judged by their anchor text and by the URL they
wrap. A link is chosen only when it scores at least 0.5 *and* something says "verify";
links that only say "sign in" also need the message itself to be about signing in.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from tui.extract.htmltext import Anchor
from tui.extract.model import Candidate

_STRONG_TEXT = re.compile(
    r"verif|confirm|activat|magic\s*link|yes,?\s+subscribe|reset\s+(?:your\s+|my\s+)?password|"
    r"(?:set|choose|create)\s+(?:a\s+|your\s+)?(?:new\s+)?password|validat|"
    r"complete\s+(?:your\s+)?(?:registration|sign\s*-?up|account)|finish\s+(?:signing|setting)|"
    r"yes,?\s+(?:it'?s|it\s+was)\s+me|authori[sz]e\s+(?:this\s+)?(?:device|login|sign)|"
    r"bestätig|verifizier|aktivier|freischalt|passwort\s+(?:zurücksetzen|festlegen|ändern)|"
    r"vérifi|confirme|activer|activez|valider|validez|réinitialiser|"
    r"verific|confirma|activa|restablecer|"
    r"验证|驗證|确认|確認|激活|啟用|重置密码|重設密碼|認証|有効化|本登録|登録を完了|パスワード(?:を)?(?:再設定|リセット)",
    re.I,
)
_MEDIUM_TEXT = re.compile(
    r"sign\s*-?\s*in|log\s*-?\s*in|accept\s+(?:the\s+|your\s+)?invit|join\s+(?:the\s+)?"
    r"(?:team|workspace|organi[sz]ation|project|channel)|approve|continue\s+to|"
    r"access\s+your\s+account|anmelden|einloggen|einladung\s+annehmen|se\s+connecter|"
    r"connectez|connexion|rejoindre|iniciar\s+sesi[oó]n|acceder|aceptar\s+invitaci[oó]n|"
    r"登录|登入|ログイン|サインイン|参加",
    re.I,
)
_NEG_TEXT = re.compile(
    r"unsubscri|opt[\s-]?out|manage\s+(?:your\s+)?(?:email|notification|subscription|"
    r"preferences|settings)|preferences|email\s+settings|notification\s+settings|privacy|"
    r"terms|help|support|faq|contact\s+us|view\s+(?:it\s+)?(?:in\s+(?:your\s+)?browser|online|"
    r"as\s+a?\s*web\s*page)|web\s+version|blog|careers|jobs|press|download\s+(?:the\s+)?app|"
    r"app\s+store|google\s+play|twitter|facebook|instagram|linkedin|youtube|tiktok|"
    r"learn\s+more|read\s+more|shop\s+now|view\s+(?:your\s+)?order|track\s+(?:your\s+)?"
    r"(?:order|package|shipment)|invoice|receipt|abmelden|abbestellen|datenschutz|impressum|"
    r"hilfe|einstellungen|agb|désabonner|désinscri|désinscription|confidentialité|aide|"
    r"préférences|mentions\s+légales|darse\s+de\s+baja|cancelar\s+(?:la\s+)?suscripci|"
    r"privacidad|ayuda|preferencias|términos|退订|取消订阅|隐私|隱私|帮助|幫助|设置|"
    r"配信停止|配信解除|プライバシー|ヘルプ|設定|利用規約|お問い合わせ|report\s+(?:this|abuse)|"
    r"wasn'?t\s+(?:me|you)|not\s+you|didn'?t\s+(?:request|sign)|secure\s+your\s+account",
    re.I,
)
_STRONG_URL = re.compile(
    r"verif|confirm|activat|magic|reset[-_]?password|password[-_/]?reset|validat|"
    r"email[-_]?token|/v/|bestaetig|bestätig|aktivier",
    re.I,
)
_MEDIUM_URL = re.compile(
    r"sign[-_]?in|log[-_]?in|/auth\b|/auth/|/session|/invit|/join|/accept|[?&](?:token|key|"
    r"ticket|otp|code|t)=",
    re.I,
)
_NEG_URL = re.compile(
    r"unsubscri|opt[-_]?out|/preferences|/settings|/notifications|privacy|/terms|/legal|"
    r"/help|/support|/faq|/contact|/blog|/careers|/jobs|/press|/about|/logo|\.(?:png|jpe?g|"
    r"gif|svg|webp|ico|css|js)(?:$|\?)|/email-?preferences|/manage|list-manage\.com/"
    r"(?:unsubscribe|profile)|/abmelden|/datenschutz|/impressum",
    re.I,
)
_SOCIAL_HOST = re.compile(
    r"(?:^|\.)(?:facebook\.com|fb\.com|twitter\.com|x\.com|t\.me|linkedin\.com|"
    r"instagram\.com|youtube\.com|youtu\.be|tiktok\.com|pinterest\.com|reddit\.com|"
    r"discord\.gg|weibo\.com|line\.me|apps\.apple\.com|itunes\.apple\.com|play\.google\.com|"
    r"medium\.com|threads\.net|xing\.com|whatsapp\.com|wa\.me)$",
    re.I,
)
_TRACKING = re.compile(
    r"^(?:click|clicks|links?|email|e|url\d*|em|go|t|track|trk|r|mail|ablink|ct|"
    r"lnk|sendgrid|mandrillapp|list-manage|mailchi)\.|\.ct\.sendgrid\.net$|"
    r"(?:^|\.)(?:mandrillapp\.com|list-manage\.com|sendgrid\.net|mailgun\.org|"
    r"hubspotlinks\.com|mjt\.lu|rs6\.net|awstrack\.me|sparkpostmail\.com|exct\.net|"
    r"mcusercontent\.com|cmail\d+\.com|createsend\d*\.com)$",
    re.I,
)
_TRACK_PATH = re.compile(r"/(?:ls/click|wf/click|track/click|c/|ss/c/|CL0/|e/c/|l/)", re.I)
# The host may hold letters of the scripts homographs are made of (Latin-1 and Latin
# Extended, Greek, Cyrillic, Armenian), so ``https://p\u0430ypal.com`` (Cyrillic a) is read whole
# and flagged (:func:`host_warning`); the path stays ASCII (text right after a URL is not
# swallowed).
_HOST_CHARS = r"A-Za-z0-9\-._~\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff\u0530-\u058f"
_BARE_URL = re.compile(
    rf"https?://[{_HOST_CHARS}:@!$&*+,;=%\[\]]+(?:[/?#][A-Za-z0-9\-._~:/?#@!$&()*+,;=%\[\]]*)?",
    re.I,
)
# Letters of other scripts that render like Latin ones (a small skeleton table, after
# Unicode's confusables): enough to say what a homograph host imitates.
_CONFUSABLE = str.maketrans(
    "аеорсухіјѕԁһӏԛԝвкмнтѵαβεικνορτυχως",
    "aeopcyxijsdhlqwbkmhtvabeikvoptuxwc",
)


def _scripts(label: str) -> set[str]:
    out = set()
    for ch in label:
        if not ch.isalpha():
            continue
        if ch.isascii() or "\u00c0" <= ch <= "\u024f":
            out.add("Latin")
        elif "\u0370" <= ch <= "\u03ff":
            out.add("Greek")
        elif "\u0400" <= ch <= "\u04ff":
            out.add("Cyrillic")
        elif "\u0530" <= ch <= "\u058f":
            out.add("Armenian")
        else:
            out.add("other")
    return out


def host_warning(host: str) -> str | None:
    """Why a host may not be what it looks like: punycode, mixed scripts, non-ASCII letters.

    ``xn--pypal-4ve.com`` and ``p\u0430ypal.com`` (Cyrillic a) get the same warning, naming the
    scripts mixed and the ASCII host they imitate. None for a plain ASCII host.
    """
    host = (host or "").lower().rstrip(".")
    if not host:
        return None
    shown = host
    punycode = any(label.startswith("xn--") for label in host.split("."))
    if punycode:
        labels = []
        for label in host.split("."):
            try:
                labels.append(
                    label.encode("ascii").decode("idna") if label.startswith("xn--") else label
                )
            except UnicodeError:
                labels.append(label)
        shown = ".".join(labels)
    if shown.isascii():
        return "punycode host" if punycode else None
    mixed = [lab for lab in shown.split(".") if len(_scripts(lab) - {"other"}) > 1]
    imitates = shown.translate(_CONFUSABLE)
    if mixed:
        scripts = " and ".join(sorted(set().union(*(_scripts(lab) for lab in mixed)) - {"other"}))
        what = f"mixed-script host {shown!r} ({scripts} letters)"
    else:
        what = f"non-ASCII host {shown!r}"
    if punycode:
        what = f"punycode host {host!r}: displays as {shown!r}" + (
            f", mixes {scripts} letters" if mixed else ""
        )
    if imitates.isascii() and imitates != shown:
        what += f", looks like {imitates!r}"
    return what


_TOKENISH = re.compile(r"[A-Za-z0-9_\-]{20,}")
_INTENT = re.compile(
    r"verif|confirm|activat|sign\s*-?\s*in|log\s*-?\s*in|password|magic|invit|"
    r"one[- ]time|security|code|bestätig|anmeld|passwort|vérifi|connexion|mot\s+de\s+passe|"
    r"verific|contraseña|sesi[oó]n|验证|登录|确认|認証|確認|ログイン|パスワード",
    re.I,
)
MAX_ANCHORS = 120
MAX_LINKS = 200
_CONTROL_WS = re.compile(r"[\x00-\x1f\x7f]")
_STRONG_INTENT = re.compile(
    r"verif|confirm|activat|password|passwort|mot\s+de\s+passe|contraseña|magic|invit|"
    r"one[- ]time|security\s+code|login\s+code|sign[- ]in\s+code|bestätig|aktivier|vérifi|"
    r"activ|verific|验证|激活|确认|認証|確認|本登録|パスワード",
    re.I,
)
# Words before a link that make it the "this wasn't me" escape hatch, not the action.
_NOT_ME = re.compile(
    r"didn'?t|did\s+not|don'?t\s+recogni[sz]e|do\s+not\s+recogni[sz]e|wasn'?t\s+(?:you|me)|"
    r"not\s+you|weren'?t\s+you|unauthori[sz]ed|suspicious|compromised|if\s+this\s+was\s+not|"
    r"nicht\s+angefordert|pas\s+(?:à\s+l'origine|demandé)|no\s+(?:has\s+)?solicitado|"
    r"心当たり|本人操作|非本人",
    re.I,
)
_NEG_HOST = re.compile(
    r"^(?:docs|help|support|status|blog|community|forum|developers?|learn|kb|faq|careers|"
    r"jobs|press|investors|legal|privacy|shop|store)\.",
    re.I,
)


@dataclass
class _Link:
    url: str
    texts: list[str] = field(default_factory=list)
    contexts: list[str] = field(default_factory=list)
    befores: list[str] = field(default_factory=list)
    has_img_only: bool = False
    first: int = 0
    seen: int = 0
    anchor: bool = False


def clean_url(url: str) -> str | None:
    """Normalise an href or bare URL; None unless it is an http(s) URL with a host."""
    url = _CONTROL_WS.sub("", url.strip().strip("<>").strip()).replace(" ", "%20")
    while url and url[-1] in ".,;:!?'\"*":
        url = url[:-1]
    while url.endswith(")") and url.count("(") < url.count(")"):
        url = url[:-1]
    while url.endswith("]") and url.count("[") < url.count("]"):
        url = url[:-1]
    if not re.match(r"https?://[^/?#\s]", url, re.I) or len(url) > 4096:
        return None
    return url


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _inner_urls(url: str) -> list[str]:
    """URLs wrapped by a click-tracking redirect (in the query string)."""
    try:
        query = urlsplit(url).query
    except ValueError:
        return []
    inner = []
    for _, value in parse_qsl(query, keep_blank_values=False):
        v = unquote(value) if "%3a" in value.lower() else value
        if v.lower().startswith(("http://", "https://")):
            inner.append(v)
    return inner


def _path_part(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    return parts.path + "?" + parts.query + "#" + parts.fragment


def _before(text: str, pos: int, lines: int = 2, budget: int = 200) -> str:
    """The words before ``pos``: the start of its line and up to ``lines`` non-empty lines."""
    ls = text.rfind("\n", 0, pos) + 1
    out = [text[ls:pos]]
    found = 1 if text[ls:pos].strip() else 0
    end = ls - 1
    while end > 0 and found < lines and pos - end < budget:
        start = text.rfind("\n", 0, end) + 1
        line = text[start:end]
        if line.strip():
            out.append(line)
            found += 1
        end = start - 1
    return "\n".join(reversed(out))[-budget:]


def _lead_in(text: str, pos: int) -> str:
    """The sentence that leads into a link at ``pos`` (same line, or an open previous line)."""
    ls = text.rfind("\n", 0, pos) + 1
    seg = text[ls:pos]
    if not seg.strip():
        end = ls - 1
        while end > 0:
            start = text.rfind("\n", 0, end) + 1
            line = text[start:end].strip()
            if line:
                seg = "" if line[-1] in ".!。" else line
                break
            end = start - 1
    return re.split(r"[.!。](?:\s|$)", seg)[-1][-200:]


def collect(anchors: list[Anchor], texts: list[str], html_text: str = "") -> list[_Link]:
    """Merge anchors and bare URLs from the text sources by URL (first seen first)."""
    links: dict[str, _Link] = {}
    order = 0

    def get(url: str) -> _Link:
        nonlocal order
        link = links.get(url)
        if link is None:
            link = links[url] = _Link(url, first=order)
            order += 1
        link.seen += 1
        return link

    for a in anchors[:MAX_ANCHORS]:
        url = clean_url(a.href)
        if url is None:
            continue
        link = get(url)
        link.anchor = True
        if html_text:
            link.befores.append(_lead_in(html_text, a.start))
        text = " ".join(x for x in (a.text, a.alt, a.title) if x)
        if text:
            link.texts.append(text)
        if a.has_img and not a.text.strip() and not _STRONG_TEXT.search(text):
            link.has_img_only = True
    for text in texts:
        for m in _BARE_URL.finditer(text):
            url = clean_url(m.group(0))
            if url is None:
                continue
            link = get(url)
            link.contexts.append(_before(text, m.start()))
            link.befores.append(_lead_in(text, m.start()))
            if len(links) > MAX_LINKS:
                break
    return list(links.values())


def _squash(raw: float) -> float:
    return round(1.0 / (1.0 + math.exp(-(raw - 2.0))), 3)


@dataclass
class _Verdict:
    """The running score of one link: points, whether wording supports it, and why."""

    raw: float = 0.0
    evidence: bool = False
    medium_only: bool = False
    reasons: list[str] = field(default_factory=list)

    def add(self, points: float, reason: str) -> None:
        self.raw += points
        self.reasons.append(reason)

    def refute(self, points: float, reason: str) -> None:
        """Take ``points`` off and drop the wording's support."""
        self.raw -= points
        self.evidence = False
        self.reasons.append(reason)


def find_link(
    subject: str, body: str, anchors: list[Anchor], texts: list[str], html_text: str = ""
) -> tuple[str | None, list[Candidate]]:
    """Rank link candidates; return (chosen, ranked)."""
    intent = bool(_INTENT.search(subject)) or bool(_STRONG_INTENT.search(body[:5000]))
    ranked: list[tuple[float, bool, str, str]] = []
    for link in collect(anchors, texts, html_text):
        verdict = _score_link(link, intent)
        ranked.append((verdict.raw, verdict.evidence, link.url, "; ".join(verdict.reasons)))
    ranked.sort(key=lambda r: -r[0])
    chosen = ranked[0][2] if ranked and ranked[0][0] >= 2.0 and ranked[0][1] else None
    return chosen, [Candidate(u, _squash(raw), why) for raw, _, u, why in ranked[:10]]


def _score_link(link: _Link, intent: bool) -> _Verdict:
    """Score one link: its wording, then what speaks against it, then its place and kind."""
    url = link.url
    host = _host(url)
    path = _path_part(url)
    inner = _inner_urls(url)
    text = " | ".join(link.texts)
    context = " | ".join(c[-120:] for c in link.contexts)
    url_bits = path + " " + " ".join(_path_part(u) for u in inner)
    v = _Verdict()
    _score_wording(v, text, context)
    _score_url(v, host, path, url_bits)
    _score_against(v, link, text, context, host, [_host(u) for u in inner], url_bits)
    _score_place(v, link, url, intent)
    return v


def _score_wording(v: _Verdict, text: str, context: str) -> None:
    """Points for the anchor text, else the words before a bare URL, about verifying
    (strong) or signing in (medium)."""
    if text and (m := _STRONG_TEXT.search(text)):
        v.add(3.5, f"text says '{m.group(0)}'")
        v.evidence = True
    elif text and (m := _MEDIUM_TEXT.search(text)):
        v.add(2.2, f"text says '{m.group(0)}'")
        v.evidence = v.medium_only = True
    elif context and _STRONG_TEXT.search(context[-100:]):
        v.add(2.5, "follows words about verifying")
        v.evidence = True
    elif context and _MEDIUM_TEXT.search(context[-100:]):
        v.add(1.8, "follows words about signing in")
        v.evidence = v.medium_only = True


def _score_url(v: _Verdict, host: str, path: str, url_bits: str) -> None:
    """Points for a path (or a wrapped URL's) that says verify, a token, and a redirect."""
    if m := _STRONG_URL.search(url_bits):
        v.add(2.0, f"path says '{m.group(0)}'")
        v.evidence = True
        v.medium_only = False
    elif m := _MEDIUM_URL.search(url_bits):
        v.add(1.0, f"path has '{m.group(0)}'")
    if _TOKENISH.search(path):
        v.add(0.5, "carries a token")
    spoof = host_warning(host)
    if spoof:
        v.reasons.append(spoof)
    if _TRACKING.search(host) or _TRACK_PATH.search(path):
        v.add(-0.5, "click-tracking redirect")


def _score_against(
    v: _Verdict,
    link: _Link,
    text: str,
    context: str,
    host: str,
    inner_hosts: list[str],
    url_bits: str,
) -> None:
    """Points off for unsubscribe/help wording, the "this wasn't me" escape hatch, help,
    docs, social and legal sites or URLs, and logo images."""
    neg_text = _NEG_TEXT.search(text) if text else None
    if neg_text and not _STRONG_TEXT.search(text.replace(neg_text.group(0), "")):
        v.refute(6.0, f"text says '{neg_text.group(0)}'")
    elif not text and context and _NEG_TEXT.search(context[-60:]):
        v.add(-4.0, "follows words about unsubscribing or help")
    near = " | ".join(link.befores)
    if near and _NOT_ME.search(near):
        v.refute(4.0, "the 'this wasn't me' escape hatch")
    if _NEG_HOST.search(host) or any(_NEG_HOST.search(h) for h in inner_hosts):
        v.refute(3.0, "help, docs or blog site")
    if _NEG_URL.search(url_bits):
        v.refute(5.0, "unsubscribe, legal, help, preference or image URL")
    if _SOCIAL_HOST.search(host) or any(_SOCIAL_HOST.search(h) for h in inner_hosts):
        v.refute(6.0, "social network or app store")
    if link.has_img_only:
        v.add(-2.0, "image or logo")


def _score_place(v: _Verdict, link: _Link, url: str, intent: bool) -> None:
    """Home pages, repeated and bare links, sign-in links in a message not about signing in,
    and a small tie-break for the links that come first."""
    try:
        bare_path = urlsplit(url).path
        bare_query = urlsplit(url).query
    except ValueError:
        bare_path, bare_query = "", ""
    if bare_path in ("", "/") and not bare_query:
        v.add(-1.5, "home page")
    if link.seen > 1 and v.raw > 0:
        v.add(0.5, f"linked {link.seen} times")
    if not link.anchor:
        v.reasons.append("bare URL")
    if v.medium_only and not intent:
        v.add(-1.5, "message is not about signing in")
    v.raw -= 0.02 * min(link.first, 50)
    if not v.reasons:
        v.reasons.append("no verification wording")
