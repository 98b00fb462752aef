"""One-time-code candidates: find, score (with a reason each) and choose.

Each source (subject, plain text, HTML-as-text) is scanned separately. Spans that can never
be codes (URLs, e-mail addresses, dates, times, prices, percentages, phone numbers, card
endings, US zip codes) are masked first. Every remaining 4-8 digit number, grouped code
(``482-193``, ``7 3 1 9 0 4``), prefixed code (``G-847201``) or mixed letters-and-digits
word is scored by its shape, the *closest* label before it (a code keyword such as
"verification code" / "Bestätigungscode" / "验证码", or a decoy label such as "order",
"invoice", "tel", "zip"), a keyword after it ("482193 is your code"), whether it stands
alone on its line or table cell, whether the HTML emphasises it, and decoy shapes (years,
addresses, copyright lines, unit words after it). A code is chosen only when its score is
at least 0.5 *and* a code keyword supports it.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, insort
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from tui.extract.model import Candidate

# ---------------------------------------------------------------------------------------
# Vocabulary (matched case-insensitively on NFKC-normalised text)

_STRONG = [
    # English
    r"verification\s+code", r"verify\s+code", r"security\s+code", r"login\s+code",
    r"log-?in\s+code", r"sign[- ]?in\s+code", r"confirmation\s+code", r"authentication\s+code",
    r"access\s+code", r"one[- ]time\s+(?:pass)?code", r"one[- ]time\s+password",
    r"one[- ]time\s+pin", r"single[- ]use\s+code", r"temporary\s+(?:login\s+)?code",
    r"passcode", r"otp", r"2fa\s+code", r"two[- ]factor\s+(?:authentication\s+)?code",
    r"activation\s+code", r"auth(?:orization)?\s+code", r"sign[- ]?up\s+code",
    r"device\s+(?:verification\s+)?code", r"email\s+code", r"pin\s+code", r"your\s+pin",
    r"magic\s+code", r"recovery\s+code", r"reset\s+code", r"identification\s+code",
    r"code\s+to\s+(?:verify|confirm|sign\s+in|log\s+in)", r"enter\s+(?:this|the)\s+code",
    # German
    r"bestätigungscode", r"verifizierungscode", r"sicherheitscode", r"einmalcode",
    r"einmal-?passwort", r"anmeldecode", r"zugangscode", r"freischaltcode", r"prüfcode",
    r"aktivierungscode", r"authentifizierungscode", r"bestätigungs-?code", r"login-code",
    r"tan",
    # French
    r"code\s+de\s+(?:vérification|verification|confirmation|sécurité|securite|connexion|"
    r"validation|activation|accès|acces)",
    r"code\s+(?:à|a)\s+usage\s+unique", r"mot\s+de\s+passe\s+(?:à|a)\s+usage\s+unique",
    r"code\s+temporaire", r"code\s+d'accès",
    # Spanish
    r"c[oó]digo\s+de\s+(?:verificaci[oó]n|confirmaci[oó]n|seguridad|acceso|activaci[oó]n|"
    r"inicio\s+de\s+sesi[oó]n|validaci[oó]n)",
    r"c[oó]digo\s+de\s+un\s+solo\s+uso", r"contraseña\s+de\s+un\s+solo\s+uso",
    r"clave\s+de\s+(?:verificaci[oó]n|acceso|seguridad)", r"c[oó]digo\s+temporal",
    r"c[oó]digo\s+otp",
    # Dutch, Swedish, Polish, Turkish, Russian, Korean, Italian, Portuguese
    r"verificatiecode", r"inlogcode", r"bevestigingscode", r"beveiligingscode",
    r"eenmalige\s+code", r"engångskod", r"verifieringskod", r"bekräftelsekod",
    r"säkerhetskod", r"inloggningskod", r"kod\s+weryfikacyjny", r"kod\s+jednorazowy",
    r"kod\s+potwierdzaj[aą]cy", r"doğrulama\s+kodu(?:nuz|nuzu)?", r"onay\s+kodu(?:nuz)?",
    r"güvenlik\s+kodu(?:nuz)?", r"код\s+подтверждения", r"код\s+проверки",
    r"проверочный\s+код", r"одноразовый\s+код", r"код\s+доступа", r"인증번호", r"인증\s*코드",
    r"확인\s*코드", r"보안\s*코드", r"codice\s+di\s+(?:verifica|sicurezza|accesso|conferma)",
    r"c[oó]digo\s+de\s+(?:verifica[cç][aã]o|seguran[cç]a|confirma[cç][aã]o)",
    # Chinese (simplified and traditional)
    r"验证码", r"驗證碼", r"校验码", r"校驗碼", r"动态码", r"動態碼", r"动态密码", r"确认码",
    r"確認碼", r"认证码", r"認證碼", r"安全码", r"安全碼", r"登录码", r"登入碼", r"一次性密码",
    r"激活码", r"验证代码",
    # Japanese
    r"認証コード", r"確認コード", r"検証コード", r"セキュリティコード", r"ワンタイムパスワード",
    r"ワンタイムコード", r"ログインコード", r"認証番号", r"確認番号", r"暗証番号", r"パスコード",
    r"ワンタイム・パスワード", r"本人確認コード",
]  # fmt: skip
_GENERIC = [
    r"code", r"pin", r"c[oó]digo", r"clave", r"コード", r"验证", r"代码", r"token",
    r"kod", r"kode", r"codice", r"код", r"코드",
]  # fmt: skip
# Labels that make the number after them *not* a login code.
_DECOY = [
    # English
    r"order", r"orders", r"order\s+(?:number|no\.?|id|#)", r"invoice",
    r"invoice\s+(?:number|no\.?)",
    r"receipt", r"receipt\s+(?:number|no\.?)", r"ticket", r"case", r"reference", r"ref\.?",
    r"request\s+id", r"request", r"trace\s+id", r"transaction", r"transaction\s+id", r"tracking",
    r"tracking\s+(?:number|no\.?|id)", r"shipment", r"parcel", r"package", r"booking",
    r"reservation", r"confirmation\s+(?:number|no\.?|#)", r"account\s+(?:number|no\.?|ending)",
    r"ending\s+in", r"ends\s+in", r"last\s+(?:4|four)", r"card", r"visa", r"mastercard",
    r"amex", r"member(?:ship)?\s+(?:id|number|no\.?)", r"customer\s+(?:id|number|no\.?)",
    r"user\s+id", r"id", r"no\.", r"number", r"ext\.?", r"extension", r"phone", r"tel\.?",
    r"call", r"fax", r"mobile", r"sms\s+to", r"zip", r"zip\s+code", r"postal\s+code",
    r"postcode", r"po\s+box", r"suite", r"ste\.?", r"apt\.?", r"unit", r"floor", r"room",
    r"flight", r"seat", r"gate", r"version", r"build", r"sku", r"item", r"model", r"serial",
    r"qty", r"quantity", r"total", r"subtotal", r"amount", r"price", r"balance", r"points",
    r"issue", r"vol\.?", r"page", r"step", r"meeting\s+id", r"webinar\s+id", r"conference\s+id",
    r"meeting\s+passcode", r"dial", r"room\s+code", r"promo\s+code", r"promotional\s+code",
    r"discount\s+code", r"coupon\s+code", r"coupon", r"voucher", r"voucher\s+code",
    r"gift\s+card", r"referral\s+code", r"invite\s+code", r"area\s+code", r"country\s+code",
    r"error\s+code", r"status\s+code", r"qr\s+code", r"product\s+code", r"swift\s+code",
    r"sort\s+code", r"tax\s+id", r"vat", r"routing", r"iban", r"since",
    r"copyright", r"©", r"\(c\)", r"year", r"class\s+of", r"route", r"bus", r"train",
    r"patient\s+id", r"policy", r"policy\s+number", r"claim", r"license",
    # German
    r"bestellnummer", r"bestellung", r"rechnungsnummer", r"rechnung", r"kundennummer",
    r"auftragsnummer", r"sendungsnummer", r"sendungsverfolgung", r"vorgangsnummer",
    r"telefon", r"plz", r"postleitzahl", r"konto", r"betrag", r"summe", r"endend\s+auf",
    r"gutscheincode", r"rabattcode", r"aktionscode", r"gutschein", r"nr\.", r"hausnummer",
    r"buchungsnummer", r"ticketnummer", r"artikelnummer", r"besprechungs-?id", r"kenncode",
    # French
    r"commande", r"num[ée]ro\s+de\s+commande", r"facture", r"n°", r"référence", r"réf\.?",
    r"suivi", r"colis", r"téléphone", r"tél\.?", r"code\s+postal", r"montant",
    r"se\s+terminant\s+par", r"code\s+promo", r"dossier", r"réservation",
    # Spanish
    r"pedido", r"n[uú]mero\s+de\s+pedido", r"factura", r"referencia", r"seguimiento",
    r"env[ií]o", r"tel[eé]fono", r"c[oó]digo\s+postal", r"importe", r"terminada\s+en",
    r"c[oó]digo\s+promocional", r"c[oó]digo\s+de\s+descuento", r"cup[oó]n", r"reserva",
    # Chinese
    r"订单", r"訂單", r"单号", r"單號", r"发票", r"發票", r"快递", r"运单", r"電話", r"电话",
    r"手机", r"邮编", r"郵遞區號", r"金额", r"金額", r"尾号", r"尾號", r"工单", r"客服热线",
    r"优惠码", r"優惠碼", r"兑换码", r"會議號", r"会议号", r"取件码",
    # Japanese
    r"注文番号", r"ご注文", r"注文", r"請求書", r"伝票番号", r"追跡番号", r"お問い合わせ番号",
    r"電話番号", r"tel", r"郵便番号", r"〒", r"合計", r"末尾", r"会員番号", r"予約番号",
    r"クーポンコード", r"クーポン", r"お客様番号", r"ミーティングid",
]  # fmt: skip
# Words right after a number that make it a quantity, not a code.
_UNIT_AFTER = re.compile(
    r"\s?(?:%|€|\$|£|¥|円|元|块|人|件|个|個|名|年|月|日|号|號|時|分|秒|回|点|"
    r"(?:usd|eur|gbp|jpy|cny|rmb|yen|chf|sek|points?|pts|miles|km|kg|mb|gb|tb|kb|users?|"
    r"people|followers|subscribers|members|readers|customers|downloads|views|stars|items|"
    r"orders|employees|companies|teams|words|reviews|likes|votes|calories|steps|euros?|"
    r"dollars?|minutes?|mins?|hours?|days?|seconds?|street|st|ave|avenue|road|rd|blvd|lane|"
    r"ln|drive|dr|way|straße|strasse|str|weg|platz|allee|rue|avenida|calle|"
    r"kunden|nutzer|mitglieder|utilisateurs|usuarios|clientes|personnes|personas|fois|veces|"
    r"mal|stunden|minuten|tage|jours|días|dias|horas|heures)(?![A-Za-z]))",
    re.I,
)


def _alt(words: list[str]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_LATIN_E = r"(?![A-Za-zÀ-ÿ])"


def _trie_alternation(fragments: list[str], suffix: str = "") -> str:
    """Alternation grouped by first character, so each position tries few branches.

    ``suffix`` is appended to every branch (``(?:a|b)S`` and ``aS|bS`` match the same), so that
    every branch starts with a literal character: the regex engine then skips, in C, the
    positions whose character cannot start a label (digits, punctuation) instead of trying
    the alternation there.
    """
    groups: dict[str, list[str]] = {}
    residual: list[str] = []
    for frag in fragments:
        first = frag[0]
        if first in "\\[(.^$|?*+{" or (len(frag) > 1 and frag[1] in "?*+{"):
            residual.append(frag)
        else:
            groups.setdefault(first.lower(), []).append(frag[1:])
    parts = []
    for first, rests in sorted(groups.items()):
        rests = sorted(set(rests), key=len, reverse=True)
        parts.append(
            re.escape(first) + ("(?:" + "|".join(rests) + ")" if rests != [""] else "") + suffix
        )
    parts.extend(frag + suffix for frag in sorted(residual, key=len, reverse=True))
    return "|".join(parts)


_KIND_RES = [
    ("strong", re.compile(_alt(_STRONG), re.I)),
    ("decoy", re.compile(_alt(_DECOY), re.I)),
    ("generic", re.compile(_alt(_GENERIC), re.I)),
]
_LABEL = re.compile(_trie_alternation(_STRONG + _DECOY + _GENERIC, _LATIN_E) + r"|#\s*(?=\d)", re.I)


_LABEL_LOWER = re.compile(_LABEL.pattern)  # for text already lower-cased: no IGNORECASE cost


_KIND_CACHE: dict[str, str] = {}


def _kind(word: str) -> str:
    kind = _KIND_CACHE.get(word)
    if kind is not None:
        return kind
    kind = "decoy"
    if word.startswith("#"):
        kind = "hash"
    else:
        for name, rx in _KIND_RES:
            if rx.fullmatch(word):
                kind = name
                break
    if len(_KIND_CACHE) < 4096:
        _KIND_CACHE[word] = kind
    return kind


# Words that mark a line as a postal address or legal footer.
_ADDRESS_LINE = re.compile(
    r"(?<![A-Za-z])(?:inc|llc|ltd|gmbh|ag|s\.?a\.?s?|s\.?l\.?|corp|co\.|plc|b\.?v|"
    r"street|st\.|ave|avenue|road|rd\.|blvd|suite|floor|straße|strasse|str\.|platz|rue|"
    r"boulevard|calle|avenida|all rights reserved|copyright|tous droits|alle rechte|"
    r"todos los derechos|unsubscribe|abmelden|désabonner|darse de baja|"
    r"株式会社|有限公司|公司|〒|东京都|東京都|区|市|省|路|号)(?![A-Za-z])|©",
    re.I,
)
_MEETING = re.compile(
    r"meeting\s+id|join\s+(?:zoom\s+)?meeting|zoom\.us/j|teams\.microsoft\.com/l/meetup|"
    r"webex|besprechungs-?id|id\s+de\s+(?:la\s+)?réunion|id\s+de\s+reuni[oó]n|会议号|会議id",
    re.I,
)

# ---------------------------------------------------------------------------------------
# Masks: spans that can never be (part of) a code

# Each alternative starts with a single character test (no leading lookbehind or repeat), so
# the regex engine skips the alternatives that cannot start at a position without entering
# them; a leading lookbehind such as (?<!\d) is written after the first character instead,
# and runs that can only be matched whole are possessive. Same matches as the plain form
# (checked by tests/unit/test_extract_perf.py against it).
_R18 = r"[-.]\d{3}[-.]\d{4}(?!\d)"
_MASKS = re.compile(
    r"|".join(
        [
            # 2024-05-01, 01/05/2024, 5月1日, 2024年, 10:30 pm, 10 am, 14h30 (one leading digit,
            # then a run of at most 3 more: a digit deep inside a long run is rejected at once)
            r"\d(?!\d{4})(?:"
            r"\d{3}\s?[-/.年]\s?\d{1,2}\s?[-/.月]\s?\d{1,2}\s?日?"
            r"|\d?\s?[-/.]\s?\d{1,2}\s?[-/.]\s?\d{2,4}(?!\d)"
            r"|\d?\s?月\s?\d{1,2}\s?日"
            r"|\d{3}\s?年(?:\s?\d{1,2}\s?月)?"
            r"|\d?(?::\d{2}){1,2}(?:\s?[ap]\.?m\.?)?"
            r"|\d?\s?[ap]\.?m\.?(?![A-Za-z])"
            r"|\d?h\d{2})",
            r"[$€£¥₹₩]\s?\d[\d,. ]{0,20}\d|[$€£¥₹₩]\s?\d",  # $1,234.56
            r"\d(?<![\d.,]\d)[\d,.]{0,20}+\s?(?:€|円|元|USD|EUR|GBP|JPY|CNY|RMB|CHF|kr)(?![A-Za-z])",
            r"\d(?<![\d.,]\d)\d*+(?:[.,]\d+)+",  # 1.234,56 / 2.4.1 / 10.0.0.1
            r"\d(?<!\d\d)\d*+\s?%",
            r"[*•xX·.](?:[*•xX·.]+|(?<=[xX]))\s?-?\d{4}(?!\d)",  # **** 4242, x4242
            r"(?-i:[A-Z](?<!\w[A-Z])[A-Z]\s\d{5}(?:-\d{4})?\b)",  # CA 94107
            r"\d\d{4}-\d{4}",  # zip+4
            r"(?-i:[0-9a-fA-F])[0-9a-f]{7}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            # phone numbers: international, (area) local, 3-3-4, 0x.. national, CN mobile
            r"[+0](?:(?<=\+)|(?<=0)0)\d{1,3}[\s.-]?(?:\(\d{1,5}\)[\s.-]?)?\d{1,5}(?:[\s.-]?\d{2,5}){1,4}",
            r"\(\d{2,5}\)\s?\d{2,5}(?:[\s.-]\d{2,5}){1,2}",
            r"1(?<!\d1)[-.\s]?\d{3}" + _R18,
            r"[-.\s](?<!\d[-.\s])\d{3}" + _R18,
            r"\d(?<!\d\d)\d\d" + _R18,
            r"0(?<!\d0)\d{1,4}[-\s/]\d{2,5}[-\s/]\d{3,5}(?!\d)",
            r"0(?<!\d0)\d(?:[\s.]\d{2}){4}(?!\d)",
            r"1(?<!\d1)[3-9]\d[\s-]\d{4}[\s-]\d{4}(?!\d)",
            r"[48](?<!\d[48])00[\s-]\d{3}[\s-]\d{4}(?!\d)",
        ]
    ),
    re.I,
)

# ---------------------------------------------------------------------------------------
# Candidate shapes (on masked text)

_NB = r"(?<![0-9A-Za-z])"
_NA = r"(?![0-9A-Za-z])"
_PREFIXED = re.compile(rf"{_NB}(G|FB|T|K|M)-(\d{{4,8}}){_NA}")
_GROUPED = re.compile(
    rf"{_NB}(?<!\d[ -])(\d{{2,4}}(?:([ -])\d{{2,4}})(?:\2\d{{2,4}}){{0,2}})(?![ -]?\d){_NA}"
)
_SPACED = re.compile(rf"{_NB}(?<!\d[ \t])(\d(?:[ \t]\d){{3,7}})(?![ \t]?\d){_NA}")
_DIGITS = re.compile(rf"{_NB}(?<!\d[ -])(\d{{4,8}}){_NA}(?![ -]\d)")
_ALNUM = re.compile(
    rf"{_NB}(?<![@./\\_-])([0-9A-Za-z]{{4,10}}|[0-9A-Z]{{3,5}}-[0-9A-Z]{{3,5}}){_NA}(?![@/\\_-]|\.\w)"
)
_CAPS = re.compile(rf"{_NB}([A-Z]{{5,8}}){_NA}")
_WORDS = re.compile(r"(?<![0-9A-Za-z-])([A-Z]{2,10}(?:-[A-Z0-9]{2,10}){2,3})(?![0-9A-Za-z-])")
_NOT_CODE_ALNUM = re.compile(
    r"^(?:\d+(?:st|nd|rd|th|h|hr|hrs|min|mins|s|sec|secs|px|pt|em|am|pm|kb|mb|gb|tb|ms|x|k|m|"
    r"d|mo|yr|yrs|fps|hz|mhz|ghz|mp|p|g|kg|km|ml|l|gb|v)|(?-i:[A-Z]?[a-z]+\d{1,4})|v\d+[a-z\d]*|"
    r"[a-z]\d|mp[34]|h26[45]|utf8|x86|x64|arm64|win\d+|ios\d+|covid\d+)$",
    re.I,
)
_WORDLIKE = re.compile(r"[A-Za-z]{3,}\d{1,4}$|\d{1,4}[A-Za-z]{3,}$")
_CAPS_STOP = frozenset(
    [
        "BELOW",
        "ABOVE",
        "HELLO",
        "WELCOME",
        "EMAIL",
        "LOGIN",
        "VERIFY",
        "CODES",
        "ENTER",
        "THANKS",
        "TEAM",
        "ACCOUNT",
        "SECURITY",
        "IMPORTANT",
        "NOTICE",
        "PLEASE",
        "CLICK",
        "HERE",
        "SIGNIN",
        "SIGNUP",
        "VALID",
        "MINUTES",
        "EXPIRES",
    ]
)
_SEGMENT_TRIM = " :.-\u2013\u2014*()[]\"'「」『』【】<>=#|"

MAX_OCCURRENCES = 600
# Huge texts are searched in their head and around code keywords only (see _focus).
FOCUS_MIN_TEXT = 30_000
FOCUS_HEAD = 10_000
FOCUS_MARGIN = 400
FOCUS_BUDGET = 40_000
_DIGITS_BASE = {4: 0.4, 5: 0.6, 6: 1.0, 7: 0.5, 8: 0.7}
_URL_MASK = re.compile(r"(?:https?://|www\.|HTTPS?://)[^\s<>\"']+")
_EMAIL_AT = re.compile(r"@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
_EMAIL_LOCAL = re.compile(r"[\w.+-]{1,64}\Z")
_DIGIT_RUN = re.compile(r"\d+")
_BLOCK_BREAK = re.compile(r"[\n\t]")
_DMY = re.compile(r"(\d{1,2}) ?([-/.]) ?(\d{1,2}) ?\2 ?(\d{2}|\d{4})")


def _plausible_date(text: str, s: int, e: int) -> bool:
    """False only for a ``d-d-d`` span that no day/month order makes a date (``55-20-93``)."""
    m = _DMY.fullmatch(text, s, e)
    if m is None:
        return True
    a, b = int(m.group(1)), int(m.group(3))
    return (1 <= a <= 31 and 1 <= b <= 12) or (1 <= a <= 12 and 1 <= b <= 31)


_MARGIN = 24


def _mask(text: str) -> str:
    """``text`` with URLs, e-mail addresses and non-code numbers replaced by NULs."""
    spans: list[tuple[int, int]] = [m.span() for m in _URL_MASK.finditer(text)]
    for m in _EMAIL_AT.finditer(text):
        local = _EMAIL_LOCAL.search(text, max(0, m.start() - 64), m.start())
        if local:
            spans.append((local.start(), m.end()))
    # numeric masks only run in windows around digit runs (most text has few digits)
    win_start = win_end = -1
    for m in _DIGIT_RUN.finditer(text):
        s, e = m.start() - _MARGIN, m.end() + _MARGIN
        if s <= win_end:
            win_end = e
            continue
        if win_end >= 0:
            spans.extend(x.span() for x in _MASKS.finditer(text, max(0, win_start), win_end))
        win_start, win_end = s, e
    if win_end >= 0:
        spans.extend(x.span() for x in _MASKS.finditer(text, max(0, win_start), win_end))
    if not spans:
        return text
    spans.sort()
    out: list[str] = []
    pos = 0
    for s, e in spans:
        if e <= pos:
            continue
        if e - s <= 12 and not _plausible_date(text, s, e):
            continue  # "55-20-93" is shaped like a date but is none: a code split in pairs
        cut = _BLOCK_BREAK.search(text, s, e)
        if cut is not None:  # a mask never reaches into the next line or table cell
            e = cut.start()
            if e <= pos or e <= s:
                continue
        s = max(s, pos)
        out.append(text[pos:s])
        out.append("\x00" * (e - s))
        pos = e
    out.append(text[pos:])
    return "".join(out)


@dataclass
class _Occ:
    value: str
    raw: float
    keyword: bool
    reasons: list[str]
    source: str


_LATIN = re.compile(r"[A-Za-zÀ-ÿ]")
_LATIN_CHARS = frozenset(chr(c) for c in range(0x100) if _LATIN.match(chr(c)))


def _labels(text: str) -> list[tuple[int, int, str, str]]:
    """Keyword and decoy labels in ``text`` as (start, end, kind, words)."""
    labels = []
    lower = text.lower()
    if len(lower) == len(text):
        text, rx = lower, _LABEL_LOWER
    else:
        rx = _LABEL
    latin = _LATIN_CHARS
    for m in rx.finditer(text):
        st, en = m.span()
        if st and text[st - 1] in latin and text[st] in latin:
            continue  # inside a word ("border", "decode")
        word = m.group()
        labels.append((st, en, _kind(word), word))
    return labels


def _line_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    ls = text.rfind("\n", 0, start) + 1
    le = text.find("\n", end)
    return ls, (len(text) if le < 0 else le)


def _segment(text: str, start: int, end: int) -> str:
    ss = max(text.rfind("\n", 0, start), text.rfind("\t", 0, start)) + 1
    se_candidates = [i for i in (text.find("\n", end), text.find("\t", end)) if i >= 0]
    se = min(se_candidates) if se_candidates else len(text)
    return text[ss:se]


def _prev_lines_start(text: str, ls: int, budget: int = 160, lines: int = 2) -> int:
    """Start of the previous ``lines`` non-empty lines before line start ``ls``."""
    pos = ls
    found = 0
    while pos > 0 and found < lines and ls - pos < budget:
        prev_end = pos - 1
        prev_start = text.rfind("\n", 0, prev_end) + 1
        if text[prev_start:prev_end].strip():
            found += 1
        pos = prev_start
    return max(pos, ls - budget)


_STRENGTH = {"strong": 3.0, "generic": 2.2}
# What may stand between a decoy label and its number ("Order #", "Tracking number: ").
_DECOY_GAP = re.compile(
    r"[\s:#.\-=*]*(?:(?:number|numbers|no|nr|n°|num|id|is|was|lautet|est|es|ist|:|#)[\s:#.\-=*]*)*",
    re.I,
)
_TIGHT_GAP = re.compile(
    r"[\s:\uff1a\-=*]*(?:is|lautet|est|es|ist|は|为|是|為)?[\s:\uff1a\-=*]*", re.I
)
_TRAVEL_WORDS = (
    r"flight|boarding|itinerary|check-in|departure|e-ticket|pnr|record\s+locator|"
    r"trip\s+to|your\s+trip|reservation\s+confirmed|vol\s+|vuelo|flug|航班|便名"
)
_TRAVEL = re.compile(rf"(?<![A-Za-z])(?:{_TRAVEL_WORDS})", re.I)
# The same two searches on lower-cased text, without IGNORECASE, every branch starting with a
# literal character (the lookbehind moved after it), so the engine skips in C the positions
# that cannot start a match. Valid unless the text holds one of the three characters that
# IGNORECASE folds onto an ASCII letter but str.lower() does not (checked exhaustively).
_MEETING_LOWER = re.compile(_MEETING.pattern)
_TRAVEL_LOWER = re.compile(
    "|".join(w[0] + "(?<![A-Za-z].)" + w[1:] for w in _TRAVEL_WORDS.split("|"))
)
_FOLD_UNSAFE = re.compile("[\u0130\u0131\u017f]")  # capital I with dot, dotless i, long s
_TRAVEL_CODE = re.compile(r"confirmation\s+code|booking\s+code|reservation\s+code")


_SENTENCE_END = re.compile("[.!?](?:\\s|$)|[\u3002\uff01\uff1f]")


def _decoy_reaches(text: str, label_end: int, start: int, seg_start: int) -> bool:
    """A decoy label labels the candidate at ``start``: it is right before it (only a gap
    such as ``number:`` or a line or cell break between: a label and its value), or in the
    same line, table cell and sentence. A decoy never reaches into the next block: a
    copyright line, an address footer or an order row says nothing about a later line."""
    if _DECOY_GAP.fullmatch(text, label_end, start) is not None:
        return True
    return label_end >= seg_start and _SENTENCE_END.search(text, label_end, start) is None


_Label = tuple[int, int, str, str]  # start, end, kind, words
_RawCand = tuple[int, int, str, str, float]  # start, end, value, shape, base score


@dataclass(slots=True)
class _SourceContext:
    """What scoring one candidate of one source needs besides the candidate itself."""

    text: str
    labels: list[_Label]
    source: str
    emphasis: list[tuple[int, int]]
    global_keyword: float
    meeting: bool
    travel: bool
    subject_code: bool
    ends: list[int] = field(init=False)
    starts: list[int] = field(init=False)
    emph_starts: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.ends = [lab[1] for lab in self.labels]
        self.starts = [lab[0] for lab in self.labels]
        self.emph_starts = [s for s, _ in self.emphasis]


def _score_source(
    text: str,
    labels: list[_Label],
    source: str,
    emphasis: list[tuple[int, int]],
    global_keyword: float,
    meeting: bool,
    travel: bool = False,
    subject_code: bool = False,
) -> list[_Occ]:
    """Every code candidate of one source (subject, text or HTML-as-text), scored."""
    if not text:
        return []
    regions = _focus(text, labels)
    raw_cands = _raw_candidates(_mask_regions(text, regions), regions)
    if not raw_cands:
        return []
    if len(raw_cands) > MAX_OCCURRENCES:
        raw_cands = _near_keywords_first(raw_cands, labels)
    ctx = _SourceContext(
        text, labels, source, emphasis, global_keyword, meeting, travel, subject_code
    )
    occs: list[_Occ] = []
    for start, end, value, shape, base in raw_cands[:MAX_OCCURRENCES]:
        occ = _score_candidate(ctx, start, end, value, shape, base)
        if occ is not None:
            occs.append(occ)
    return occs


def _mask_regions(text: str, regions: list[tuple[int, int]]) -> str:
    """``text`` masked (see :func:`_mask`) inside ``regions``, NULs outside them."""
    if len(regions) == 1 and regions[0] == (0, len(text)):
        return _mask(text)
    pieces: list[str] = []
    pos = 0
    for a, b in regions:
        pieces.append("\x00" * (a - pos))
        pieces.append(_mask(text[a:b]))
        pos = b
    pieces.append("\x00" * (len(text) - pos))
    return "".join(pieces)


class _Taken:
    """Spans of the prefixed, grouped, spaced and word codes kept so far: they never overlap
    each other, so they are kept sorted and an overlap test is one bisection."""

    __slots__ = ("spans",)

    def __init__(self) -> None:
        self.spans: list[tuple[int, int]] = []

    def overlaps(self, s: int, e: int) -> bool:
        i = bisect_left(self.spans, (e,)) - 1
        return i >= 0 and self.spans[i][1] > s

    def take(self, span: tuple[int, int]) -> None:
        insort(self.spans, span)


def _raw_candidates(masked: str, regions: list[tuple[int, int]]) -> list[_RawCand]:
    """Candidates of every shape in ``masked`` (searched in ``regions``), most specific shape
    first: a span kept as a prefixed, grouped, spaced or word code is not read again."""

    def scan(rx: re.Pattern[str]) -> Iterator[re.Match[str]]:
        for a, b in regions:
            yield from rx.finditer(masked, a, b)

    taken = _Taken()
    raw_cands: list[_RawCand] = []
    for m in scan(_PREFIXED):
        taken.take(m.span())
        raw_cands.append((m.start(), m.end(), m.group(2), f"prefixed code {m.group(1)}-", 1.5))
    for m in scan(_GROUPED):
        groups = re.split(r"[ -]", m.group(1))
        digits = "".join(groups)
        if len({len(g) for g in groups}) != 1 or not 6 <= len(digits) <= 8:
            continue
        if taken.overlaps(*m.span()):
            continue
        taken.take(m.span())
        raw_cands.append((m.start(), m.end(), digits, f"grouped code '{m.group(1)}'", 1.2))
    for m in scan(_SPACED):
        if taken.overlaps(*m.span()):
            continue
        taken.take(m.span())
        digits = re.sub(r"\s", "", m.group(1))
        raw_cands.append((m.start(), m.end(), digits, "spaced digits", 0.8))
    for m in scan(_DIGITS):
        if taken.overlaps(*m.span()):
            continue
        n = len(m.group(1))
        raw_cands.append((m.start(), m.end(), m.group(1), f"{n} digits", _DIGITS_BASE[n]))
    _word_candidates(scan, taken, raw_cands)
    return raw_cands


def _word_candidates(
    scan: Callable[[re.Pattern[str]], Iterator[re.Match[str]]],
    taken: _Taken,
    raw_cands: list[_RawCand],
) -> None:
    """Append the letters-and-digits, hyphenated-words and capital-letters candidates."""
    for m in scan(_ALNUM):
        tok = m.group(1)
        if tok.isdigit() or tok.isalpha() or not any(c.isdigit() for c in tok):
            continue
        if not any(c.isalpha() for c in tok) or taken.overlaps(*m.span()):
            continue
        if _NOT_CODE_ALNUM.match(tok):
            continue
        raw_cands.append((m.start(), m.end(), tok, "letters and digits", 0.4))
    for m in scan(_WORDS):
        if taken.overlaps(*m.span()):
            continue
        taken.take(m.span())
        raw_cands.append((m.start(), m.end(), m.group(1), "hyphenated words", 0.0))
    for m in scan(_CAPS):
        if taken.overlaps(*m.span()):
            continue
        if m.group(1) in _CAPS_STOP:
            continue
        raw_cands.append((m.start(), m.end(), m.group(1), "capital letters", 0.0))


def _closest_labels(
    ctx: _SourceContext, start: int, win_start: int, seg_start: int
) -> tuple[tuple[int, str] | None, tuple[int, str, str] | None]:
    """The closest decoy (end, words) and code keyword (end, kind, words) that end before
    the candidate at ``start``, inside the window that starts at ``win_start``."""
    labels, text = ctx.labels, ctx.text
    i = bisect_left(ctx.ends, start + 1) - 1
    decoy: tuple[int, str] | None = None
    key: tuple[int, str, str] | None = None
    while i >= 0 and (decoy is None or key is None):
        ls_, le_, kind, word = labels[i]
        if ls_ < win_start:
            break
        if le_ <= start:
            if ctx.travel and _TRAVEL_CODE.fullmatch(" ".join(word.split()).lower()):
                kind = "decoy"
            if kind in ("decoy", "hash") and decoy is None:
                if _decoy_reaches(text, le_, start, seg_start):
                    decoy = (le_, " ".join(word.split()))
            elif kind in ("strong", "generic") and key is None:
                key = (le_, kind, " ".join(word.split()))
        i -= 1
    return decoy, key


def _score_label_before(
    ctx: _SourceContext, start: int, win_start: int, seg_start: int, raw: float, reasons: list[str]
) -> tuple[float, bool, str | None]:
    """Score the label before the candidate: (raw, keyword-supported, label kind or None).

    The closest decoy wins over a keyword before it only when it is tight (``Order #``)."""
    text = ctx.text
    decoy, key = _closest_labels(ctx, start, win_start, seg_start)
    tight_decoy = decoy is not None and _DECOY_GAP.fullmatch(text, decoy[0], start) is not None
    if decoy is not None and (key is None or (decoy[0] > key[0] and tight_decoy)):
        raw -= 5.0 if tight_decoy else 3.0
        reasons.append(f"after decoy label '{decoy[1]}'")
        return raw, False, "decoy"
    if key is not None:
        le_, kind, word = key
        dist = start - le_
        raw += _STRENGTH[kind] * (1.0 if dist <= 40 else 0.8)
        if _TIGHT_GAP.fullmatch(text, le_, start):
            raw += 0.5
        reasons.append(f"after '{word}'")
        return raw, True, kind
    return raw, False, None


def _keyword_after(ctx: _SourceContext, end: int, le: int) -> tuple[float, str] | None:
    """(bonus, words) of a code keyword after the candidate, on the same line, with nothing
    but a few words between ("482193 is your code")."""
    labels = ctx.labels
    after_len = len(ctx.text[end : min(le, end + 50)])
    j = bisect_left(ctx.starts, end)
    for k in range(j, min(j + 3, len(labels))):
        ls_, _le, kind, word = labels[k]
        if ls_ - end > after_len:
            break
        if kind in ("strong", "generic"):
            return (2.5 if kind == "strong" else 2.0), " ".join(word.split())
    return None


def _score_candidate(
    ctx: _SourceContext, start: int, end: int, value: str, shape: str, base: float
) -> _Occ | None:
    """Score one candidate; None for a word-shaped one that no strong keyword supports."""
    text = ctx.text
    reasons = [shape]
    ls, le = _line_bounds(text, start, end)
    seg = _segment(text, start, end)
    seg_start = max(ls, text.rfind("\t", ls, start) + 1)
    alone = seg.strip(_SEGMENT_TRIM) == text[start:end]
    before_on_line = text[ls:start].strip(_SEGMENT_TRIM + "\t")
    win_start = max(ls, start - 80) if before_on_line else _prev_lines_start(text, ls)
    raw, keyword, label_kind = _score_label_before(ctx, start, win_start, seg_start, base, reasons)
    if (
        label_kind is None
        and ctx.subject_code
        and shape.endswith("digits")
        and ctx.source != "subject"
    ):
        raw += 2.0
        keyword = True
        reasons.append("the subject is about a code")
    if not keyword and label_kind not in ("decoy", "hash"):
        after = _keyword_after(ctx, end, le)
        if after is not None:
            raw += after[0]
            keyword = True
            reasons.append(f"before '{after[1]}'")
    raw = _score_context(ctx, start, end, value, ls, le, seg, alone, keyword, raw, reasons)
    if shape in ("capital letters", "hyphenated words") and not (
        label_kind == "strong" and (alone or ctx.source == "subject" or "emphasised" in reasons)
    ):
        return None
    if shape == "letters and digits" and not keyword:
        raw -= 1.0
    if shape == "letters and digits" and label_kind != "strong" and _WORDLIKE.match(value):
        raw -= 3.0
        reasons.append("word plus number (promo-code shape)")
    return _Occ(value, raw, keyword, reasons, ctx.source)


def _score_context(
    ctx: _SourceContext,
    start: int,
    end: int,
    value: str,
    ls: int,
    le: int,
    seg: str,
    alone: bool,
    keyword: bool,
    raw: float,
    reasons: list[str],
) -> float:
    """Add what surrounds the candidate to ``raw``: a unit after it, standing alone,
    emphasis, the subject, keywords anywhere, a year's shape, an address line, a meeting."""
    text = ctx.text
    if _UNIT_AFTER.match(text, end) and not keyword:
        raw -= 4.0
        reasons.append("quantity")
    elif _UNIT_AFTER.match(text, end):
        raw -= 2.0
        reasons.append("quantity")
    if alone:
        raw += 1.0
        reasons.append("alone on its line" if "\t" not in seg else "alone in a table cell")
    emphasis = ctx.emphasis
    if emphasis:
        k = bisect_left(ctx.emph_starts, start + 1) - 1
        if k >= 0 and emphasis[k][0] <= start and emphasis[k][1] >= end:
            raw += 1.0
            reasons.append("emphasised")
    if ctx.source == "subject":
        raw += 0.3
        reasons.append("in the subject")
    raw += ctx.global_keyword
    if len(value) == 4 and value.isdigit() and 1900 <= int(value) <= 2099:
        raw -= 2.5
        reasons.append("looks like a year")
    line = text[max(ls, start - 200) : min(le, end + 200)]
    if _ADDRESS_LINE.search(line) and not keyword:
        raw -= 3.0
        reasons.append("address or footer line")
    if ctx.meeting:
        raw -= 3.0
        reasons.append("meeting invitation")
    return raw


def _focus(text: str, labels: list[tuple[int, int, str, str]]) -> list[tuple[int, int]]:
    """The parts of ``text`` searched for candidates: all of it, unless it is huge.

    A text longer than FOCUS_MIN_TEXT is searched in its first FOCUS_HEAD characters and
    around every code keyword (FOCUS_MARGIN characters either side; strong keywords first,
    then generic ones, in text order) until FOCUS_BUDGET characters are covered. A code
    within reach of a keyword is therefore never skipped (unless thousands of keywords
    exhaust the budget); numbers far from any keyword and past the head, which could only
    win through a subject about a code, are not looked at.
    """
    n = len(text)
    if n <= FOCUS_MIN_TEXT:
        return [(0, n)]
    wanted = [(0, FOCUS_HEAD)]
    total = FOCUS_HEAD
    for kind in ("strong", "generic"):
        for ls, le, k, _ in labels:
            if k == kind and total < FOCUS_BUDGET:
                wanted.append((max(0, ls - FOCUS_MARGIN), min(n, le + FOCUS_MARGIN)))
                total += le - ls + 2 * FOCUS_MARGIN
    wanted.sort()
    regions: list[tuple[int, int]] = []
    for a, b in wanted:
        if regions and a <= regions[-1][1]:
            regions[-1] = (regions[-1][0], max(regions[-1][1], b))
        else:
            regions.append((a, b))
    return regions


def _near_keywords_first(
    cands: list[tuple[int, int, str, str, float]], labels: list[tuple[int, int, str, str]]
) -> list[tuple[int, int, str, str, float]]:
    """Order candidates so that those within reach of a code keyword are scored first."""
    key_ends = [le for _, le, kind, _ in labels if kind in ("strong", "generic")]

    def near(c: tuple[int, int, str, str, float]) -> bool:
        i = bisect_left(key_ends, c[0] + 1) - 1
        if i >= 0 and c[0] - key_ends[i] <= 250:
            return True
        return i + 1 < len(key_ends) and key_ends[i + 1] - c[1] <= 80

    return sorted(cands, key=lambda c: not near(c))


def _global_keyword(per_source: list[list[tuple[int, int, str, str]]]) -> float:
    """+0.5 when a strong code keyword appears anywhere, +0.3 for a generic one in the subject."""
    if any(lab[2] == "strong" for labels in per_source for lab in labels):
        return 0.5
    if per_source and any(lab[2] == "generic" for lab in per_source[0]):
        return 0.3
    return 0.0


def _squash(raw: float) -> float:
    return round(1.0 / (1.0 + math.exp(-(raw - 3.0))), 3)


def find_otp(
    subject: str, sources: list[tuple[str, str, list[tuple[int, int]]]]
) -> tuple[str | None, list[Candidate]]:
    """Rank code candidates over the subject and the body sources; return (chosen, ranked)."""
    everything = subject + "\n" + "\n".join(t for _, t, _ in sources)
    all_sources = [("subject", subject, []), *sources]
    per_source = [_labels(text) for _, text, _ in all_sources]
    global_keyword = _global_keyword(per_source)
    subject_code = any(lab[2] in ("strong", "generic") for lab in per_source[0])
    if _FOLD_UNSAFE.search(everything):
        meeting = bool(_MEETING.search(everything))
        travel = bool(_TRAVEL.search(everything))
    else:
        lower = everything.lower()
        meeting = bool(_MEETING_LOWER.search(lower))
        travel = bool(_TRAVEL_LOWER.search(lower))
    occs: list[_Occ] = []
    for (name, text, emph), labels in zip(all_sources, per_source, strict=True):
        occs.extend(
            _score_source(text, labels, name, emph, global_keyword, meeting, travel, subject_code)
        )
    best: dict[str, _Occ] = {}
    count: dict[str, int] = {}
    for occ in occs:
        count[occ.value] = count.get(occ.value, 0) + (1 if occ.raw > 0 else 0)
        cur = best.get(occ.value)
        if cur is None or occ.raw > cur.raw:
            best[occ.value] = occ
    ranked: list[tuple[float, bool, str, str]] = []
    for value, occ in best.items():
        raw = occ.raw
        reasons = list(occ.reasons)
        if count[value] > 1 and raw > 0:
            raw += min(count[value] - 1, 2) * 0.4
            reasons.append(f"seen {count[value]} times")
        ranked.append((raw, occ.keyword, value, "; ".join(reasons)))
    ranked.sort(key=lambda r: -r[0])
    cands = [Candidate(v, _squash(raw), why) for raw, _, v, why in ranked[:10]]
    chosen = None
    if ranked and ranked[0][0] >= 3.0 and ranked[0][1]:
        chosen = ranked[0][2]
    return chosen, cands
