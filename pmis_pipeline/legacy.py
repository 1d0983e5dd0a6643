"""Legacy Vietnamese 8-bit font encodings: TCVN3 (ABC) and VNI.

Before Unicode, Vietnamese workbooks were typed in fonts whose glyphs sat on
ordinary 8-bit code points: ``.VnTime``/``.VnArial`` (TCVN3, "ABC") and
``VNI-Times``/``VNI-Helve`` (VNI Windows). Read as Unicode, each byte shows
as its Windows-1252 (or Latin-1) character: TCVN3 ``B¶o Th¾ng`` is
"Bảo Thắng", VNI ``Xin chaøo caùc baïn`` is "Xin chào các bạn". Python has
no codec for either, so the tables are built here.

TCVN3 (TCVN 5712:1993, VN3 subset) is one byte per letter. It has codes for
the 67 lowercase Vietnamese letters and only the seven uppercase letters
Ă Â Ê Ô Ơ Ư Đ; toned capitals were typed with the lowercase codes in a
capitals-only font (``.VnTimeH``), so :func:`encode_tcvn3` writes them that
way and the case of toned capitals is lost. :func:`decode_tcvn3` also reads
the uppercase codes of the full TCVN 5712 VN1 table (C0 controls, 0x80-0x9F
and a few high bytes), in both the Latin-1 and the cp1252 view of each byte.
A cp1252 punctuation character of 0x80-0x9F (``–``, ``…``, ``’`` ...) is
read as a letter only inside a word that then reads as Vietnamese.

VNI is a base letter followed by a modifier byte (``aø`` = à, ``aá`` = ấ,
``aé`` = ắ), with single bytes for ơ (``ô``), ư (``ö``), đ (``ñ``), the toned
i's (``ì í æ ó ò`` = ì í ỉ ĩ ị) and ỵ (``î``). Decoding is greedy
longest-match; a modifier of the other case than its base letter is read in
the base letter's case, and a tone byte after i or y (``iø``, ``yï``) as
that toned letter, though VNI itself writes those as single bytes.

:func:`decode_tcvn3` and :func:`decode_vni` read every byte. :func:`decode`
and :func:`decode_series`, which decode the cells of a legacy file, leave a
cell that holds letters no legacy text can hold (ắ, ơ, đ, NFD marks) as the
Unicode it was typed in, only normalised to NFC.

Both encodings reuse Latin-1 letters that also occur in Unicode Vietnamese
(à, á, ô, ...), so a file's encoding is decided from all of its cells
(:func:`detect_encoding`) by checking which reading turns invalid Vietnamese
syllables into valid ones, and a single cell is decoded on its own only
when that leaves no doubt (:func:`decode_cell_if_unambiguous`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Literal, NamedTuple

import polars as pl

Encoding = Literal["unicode", "tcvn3", "vni"]

__all__ = [
    "Encoding",
    "encode_tcvn3",
    "decode_tcvn3",
    "encode_vni",
    "decode_vni",
    "decode",
    "detect_encoding",
    "decode_cell_if_unambiguous",
    "decode_series",
]

# ---------------------------------------------------------------------------
# Vietnamese letters
# ---------------------------------------------------------------------------

# Tone marks in the order of the TCVN3 table: huyền, hỏi, ngã, sắc, nặng.
_GRAVE, _HOOK, _TILDE, _ACUTE, _DOT = "\u0300", "\u0309", "\u0303", "\u0301", "\u0323"
_TONE_MARKS = (_GRAVE, _HOOK, _TILDE, _ACUTE, _DOT)

# The twelve vowels (lowercase, toneless).
_VOWELS = "aăâeêioôơuưy"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# A token: a run of characters other than whitespace, ASCII punctuation and digits
# (the legacy views show letters as symbols such as ¶ or «, so those stay inside).
_TOKEN_RE = re.compile(r"[^\s!-@\[-`{-~]+")


def _toned(vowel: str, mark: str) -> str:
    return _nfc(vowel + mark)


#: The 67 lowercase non-ASCII Vietnamese letters (60 toned vowels, ă â ê ô ơ ư, đ).
_LOWER_LETTERS: tuple[str, ...] = tuple(
    [_toned(v, m) for v in _VOWELS for m in _TONE_MARKS] + [v for v in _VOWELS if not v.isascii()] + ["đ"]
)
#: All 134 non-ASCII Vietnamese letters, lowercase then uppercase.
VIETNAMESE_LETTERS: tuple[str, ...] = _LOWER_LETTERS + tuple(c.upper() for c in _LOWER_LETTERS)

# Letters only Unicode text can hold: Vietnamese letters beyond Latin-1 and the
# combining marks of NFD text. No legacy view has them.
_GENUINE_CHARS = [c for c in VIETNAMESE_LETTERS if ord(c) > 0xFF] + [
    "\u0300", "\u0301", "\u0302", "\u0303", "\u0306", "\u0309", "\u031b", "\u0323"
]  # fmt: skip
_GENUINE_RE = re.compile("[" + "".join(_GENUINE_CHARS) + "]")
#: Regex (also valid for polars) of characters that prove a cell is Unicode:
#: a cell with one of them, or with ASCII only, is never decoded.
GENUINE_UNICODE_PATTERN = _GENUINE_RE.pattern

# ---------------------------------------------------------------------------
# TCVN3 table (TCVN 5712:1993)
# ---------------------------------------------------------------------------

# vowel -> (code of the bare letter or None when ASCII, codes of grave, hook, tilde, acute, dot)
_TCVN3_ROWS: dict[str, tuple[int | None, int, int, int, int, int]] = {
    "a": (None, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9),
    "ă": (0xA8, 0xBB, 0xBC, 0xBD, 0xBE, 0xC6),
    "â": (0xA9, 0xC7, 0xC8, 0xC9, 0xCA, 0xCB),
    "e": (None, 0xCC, 0xCE, 0xCF, 0xD0, 0xD1),
    "ê": (0xAA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6),
    "i": (None, 0xD7, 0xD8, 0xDC, 0xDD, 0xDE),
    "o": (None, 0xDF, 0xE1, 0xE2, 0xE3, 0xE4),
    "ô": (0xAB, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9),
    "ơ": (0xAC, 0xEA, 0xEB, 0xEC, 0xED, 0xEE),
    "u": (None, 0xEF, 0xF1, 0xF2, 0xF3, 0xF4),
    "ư": (0xAD, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9),
    "y": (None, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE),
}
_TCVN3_OTHER = {"đ": 0xAE, "Ă": 0xA1, "Â": 0xA2, "Ê": 0xA3, "Ô": 0xA4, "Ơ": 0xA5, "Ư": 0xA6, "Đ": 0xA7}

# Uppercase toned letters of the full VN1 table; VN3 fonts (.VnTime) leave these
# positions out, so they are read but never written.
_TCVN3_VN1_CAPITALS: dict[int, str] = {
    0x01: "Ú", 0x02: "Ụ", 0x04: "Ừ", 0x05: "Ử", 0x06: "Ữ",
    0x11: "Ứ", 0x12: "Ự", 0x13: "Ỳ", 0x14: "Ỷ", 0x15: "Ỹ", 0x16: "Ý", 0x17: "Ỵ",
    0x80: "À", 0x81: "Ả", 0x82: "Ã", 0x83: "Á", 0x84: "Ạ", 0x85: "Ặ", 0x86: "Ậ", 0x87: "È",
    0x88: "Ẻ", 0x89: "Ẽ", 0x8A: "É", 0x8B: "Ẹ", 0x8C: "Ệ", 0x8D: "Ì", 0x8E: "Ỉ", 0x8F: "Ĩ",
    0x90: "Í", 0x91: "Ị", 0x92: "Ò", 0x93: "Ỏ", 0x94: "Õ", 0x95: "Ó", 0x96: "Ọ", 0x97: "Ộ",
    0x98: "Ờ", 0x99: "Ở", 0x9A: "Ỡ", 0x9B: "Ớ", 0x9C: "Ợ", 0x9D: "Ù", 0x9E: "Ủ", 0x9F: "Ũ",
    0xAF: "Ằ", 0xBA: "Ẳ", 0xBF: "Ẵ", 0xC0: "Ắ", 0xC1: "Ầ", 0xC2: "Ẩ", 0xC3: "Ẫ", 0xC4: "Ấ",
    0xC5: "Ề", 0xCD: "Ể", 0xD9: "Ễ", 0xDA: "Ế", 0xDB: "Ồ", 0xE0: "Ổ", 0xF0: "Ỗ", 0xFF: "Ố",
}  # fmt: skip


def _cp1252_view(byte: int) -> str:
    """The character Windows-1252 shows for ``byte`` (Latin-1 where cp1252 has a hole)."""
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return chr(byte)


def _build_tcvn3() -> tuple[dict[int, str], dict[int, str], frozenset[str]]:
    """(encode table, decode table, cp1252-only punctuation views of 0x80-0x9F)."""
    lower: dict[str, int] = {}
    for vowel, (bare, *toned) in _TCVN3_ROWS.items():
        if bare is not None:
            lower[vowel] = bare
        for mark, code in zip(_TONE_MARKS, toned, strict=True):
            lower[_toned(vowel, mark)] = code
    encode: dict[int, str] = {}
    decode: dict[str, str] = {}
    for letter, code in lower.items():
        encode[ord(letter)] = chr(code)
        decode[chr(code)] = letter
    for letter, code in _TCVN3_OTHER.items():
        encode[ord(letter)] = chr(code)
        decode[chr(code)] = letter
    # Toned capitals: the lowercase code, as typed in the capitals-only .VnTimeH fonts.
    for letter in _LOWER_LETTERS:
        upper = letter.upper()
        if ord(upper) not in encode:
            encode[ord(upper)] = chr(lower[letter])
    punct: set[str] = set()
    for code, letter in _TCVN3_VN1_CAPITALS.items():
        decode[chr(code)] = letter
        view = _cp1252_view(code)
        if view != chr(code):
            decode[view] = letter
            punct.add(view)
    assert len(decode) == 67 + 7 + 60 + len(punct)
    return encode, {ord(k): v for k, v in decode.items()}, frozenset(punct)


_TCVN3_ENCODE, _TCVN3_DECODE, _TCVN3_PUNCT = _build_tcvn3()
_TCVN3_CHARS = frozenset(chr(k) for k in _TCVN3_DECODE)
_TCVN3_ANY_RE = re.compile("[" + re.escape("".join(sorted(_TCVN3_CHARS))) + "]")
_TCVN3_PUNCT_RE = re.compile("[" + re.escape("".join(sorted(_TCVN3_PUNCT))) + "]")
_TCVN3_DECODE_NO_PUNCT = {k: v for k, v in _TCVN3_DECODE.items() if chr(k) not in _TCVN3_PUNCT}


# ---------------------------------------------------------------------------
# VNI table (VNI Windows)
# ---------------------------------------------------------------------------

# Modifier bytes in tone order grave, hook, tilde, acute, dot; lowercase, uppercase.
_VNI_PLAIN = ("øûõùï", "ØÛÕÙÏ")  # after a e o u y, and after ô (ơ) / ö (ư)
_VNI_HAT = ("àåãáä", "ÀÅÃÁÄ")  # â ê ô with a tone: after a e o
_VNI_BREVE = ("èúüéë", "ÈÚÜÉË")  # ă with a tone: after a
_VNI_I = ("ìæóíò", "ÌÆÓÍÒ")  # ì ỉ ĩ í ị: single bytes


def _build_vni() -> tuple[dict[str, str], dict[str, str]]:
    """(Unicode letter -> VNI text, VNI text -> Unicode letter) for all 134 letters."""
    encode: dict[str, str] = {}
    for case in (0, 1):
        up = (lambda s: s.upper()) if case else (lambda s: s)
        plain, hat, breve, itone = _VNI_PLAIN[case], _VNI_HAT[case], _VNI_BREVE[case], _VNI_I[case]
        hat_bare, breve_bare = ("Â", "Ê") if case else ("â", "ê")
        # vowel -> (text of the bare letter, base for the toned forms, modifiers)
        rows = {
            "a": ("a", "a", plain),
            "ă": ("a" + breve_bare, "a", breve),
            "â": ("a" + hat_bare, "a", hat),
            "e": ("e", "e", plain),
            "ê": ("e" + hat_bare, "e", hat),
            "o": ("o", "o", plain),
            "ô": ("o" + hat_bare, "o", hat),
            "ơ": ("ô", "ô", plain),
            "u": ("u", "u", plain),
            "ư": ("ö", "ö", plain),
            "y": ("y", "y", plain),
        }
        for vowel, (bare, base, mods) in rows.items():
            if not vowel.isascii():
                encode[up(vowel)] = up(bare[0]) + bare[1:]
            for mark, mod in zip(_TONE_MARKS, mods, strict=True):
                encode[up(_toned(vowel, mark))] = up(base) + mod
        for mark, code in zip(_TONE_MARKS, itone, strict=True):
            encode[up(_toned("i", mark))] = code
        encode[up("ỵ")] = "Î" if case else "î"
        encode[up("đ")] = "Ñ" if case else "ñ"
    assert sorted(encode) == sorted(VIETNAMESE_LETTERS), "VNI table must cover the 134 letters"
    decode = {v: k for k, v in encode.items()}
    assert len(decode) == len(encode), "VNI codes must be distinct"
    # Lenient readings, never written: a tone byte after i or y where VNI has a
    # single byte (``iø`` = ì, ``yï`` = ỵ), and a modifier of the other case
    # than its base letter (``Aø`` = À).
    for case in (0, 1):
        i, y = ("I", "Y") if case else ("i", "y")
        for mark, mod in zip(_TONE_MARKS, _VNI_PLAIN[case], strict=True):
            decode.setdefault(i + mod, _toned(i, mark))
            decode.setdefault(y + mod, _toned(y, mark))
    modifiers = set("".join(_VNI_PLAIN + _VNI_HAT + _VNI_BREVE) + "âêÂÊ")
    for text, letter in list(decode.items()):
        if len(text) == 2 and text[1] in modifiers:
            decode.setdefault(text[0] + text[1].swapcase(), letter)
    return encode, decode


_VNI_ENCODE_MAP, _VNI_DECODE = _build_vni()
_VNI_ENCODE = {ord(k): v for k, v in _VNI_ENCODE_MAP.items()}
_VNI_MODIFIERS = "".join(_VNI_PLAIN + _VNI_HAT + _VNI_BREVE) + "âêÂÊ"
_VNI_BASES = "aeiouyôöAEIOUYÔÖ"
_VNI_SINGLES = "".join(sorted(k for k in _VNI_DECODE if len(k) == 1))
_VNI_RE = re.compile(f"[{_VNI_BASES}][{_VNI_MODIFIERS}]|[{_VNI_SINGLES}]")
_VNI_CHARS = frozenset(c for k in _VNI_DECODE for c in k if not c.isascii())


def _vni_replace(match: re.Match[str]) -> str:
    text = match.group()
    letter = _VNI_DECODE.get(text)
    if letter is not None:
        return letter
    # A base letter with a modifier it does not take ("uâ"): read the base alone.
    return _VNI_DECODE.get(text[0], text[0]) + text[1]


# ---------------------------------------------------------------------------
# Encoders and decoders
# ---------------------------------------------------------------------------


def encode_tcvn3(text: str) -> str:
    """Unicode text (any normal form) -> TCVN3 as it reads in the cp1252 view.

    Toned capitals, which TCVN3 lacks, are written with their lowercase code
    (as the capitals-only ``.VnTimeH`` fonts did); Ă Â Ê Ô Ơ Ư Đ keep theirs.
    Characters outside the table pass through.
    """
    return _nfc(text).translate(_TCVN3_ENCODE)


def decode_tcvn3(text: str) -> str:
    """TCVN3 text read as Unicode (Latin-1 or cp1252 view) -> NFC Unicode.

    A cp1252 punctuation view of 0x80-0x9F (``–`` ``…`` ``“`` ``’`` ...) is
    read as its VN1 capital only inside a word that this reading makes a
    valid Vietnamese syllable; elsewhere (``H’Hen``, ``v.v…``, `` – ``) it
    stays punctuation.
    """
    if _TCVN3_ANY_RE.search(text) is None:
        return _nfc(text)
    if _TCVN3_PUNCT_RE.search(text) is None:
        return _nfc(text.translate(_TCVN3_DECODE))
    return _nfc(_TOKEN_RE.sub(_tcvn3_token, text))


def _tcvn3_token(match: re.Match[str]) -> str:
    token = match.group()
    if _TCVN3_PUNCT_RE.search(token) is None:
        return token.translate(_TCVN3_DECODE)
    full = token.translate(_TCVN3_DECODE)
    if any(ch not in _TCVN3_PUNCT for ch in token) and _is_valid_syllable(full):
        return full
    return token.translate(_TCVN3_DECODE_NO_PUNCT)


def encode_vni(text: str) -> str:
    """Unicode text (any normal form) -> VNI Windows as it reads in the cp1252 view."""
    return _nfc(text).translate(_VNI_ENCODE)


def decode_vni(text: str) -> str:
    """VNI Windows text read as Unicode -> NFC Unicode (greedy longest match)."""
    return _nfc(_VNI_RE.sub(_vni_replace, text))


def decode(text: str, encoding: Encoding) -> str:
    """Decode one cell of a file in ``encoding`` to NFC Unicode.

    ``'unicode'`` only normalises to NFC. In a legacy file, a cell holding a
    letter that legacy text cannot hold (ắ, ơ, đ, ... or the combining marks
    of NFD text) was typed in Unicode: it is only normalised, so that its
    ô, à, ... are not read as legacy codes.
    """
    if encoding == "unicode":
        return _nfc(text)
    decoder = _DECODERS.get(encoding)
    if decoder is None:
        raise ValueError(f"unknown encoding: {encoding!r}")
    if _GENUINE_RE.search(text):
        return _nfc(text)
    return decoder(text)


_DECODERS: dict[str, Callable[[str], str]] = {"tcvn3": decode_tcvn3, "vni": decode_vni}
_LEGACY: tuple[Literal["tcvn3"], Literal["vni"]] = ("tcvn3", "vni")
_LEGACY_CHARS = {"tcvn3": _TCVN3_CHARS, "vni": _VNI_CHARS}

# ---------------------------------------------------------------------------
# Vietnamese syllable check
# ---------------------------------------------------------------------------


def _build_letter_info() -> dict[str, tuple[str, str]]:
    """lowercase letter -> (letter without its tone, tone mark or '')."""
    info = {c: (c, "") for c in "abcdeghiklmnopqrstuvxy"}
    for letter in _LOWER_LETTERS:
        decomposed = unicodedata.normalize("NFD", letter)
        tone = "".join(ch for ch in decomposed if ch in _TONE_MARKS)
        base = _nfc("".join(ch for ch in decomposed if ch not in _TONE_MARKS))
        info[letter] = (base, tone)
    return info


_LETTER_INFO = _build_letter_info()
_INITIALS = (
    "ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr",
    "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
)  # fmt: skip
_FINALS = ("ch", "ng", "nh", "c", "m", "n", "p", "t", "")
_STOP_FINALS = frozenset({"c", "ch", "p", "t"})
_OPEN_NUCLEI = frozenset(
    "ai ao au ay âu ây eo êu ia iu oi ôi ơi ui ưi ưu ua ưa "
    "iêu yêu oai oao oay oeo uôi ươi ươu uya uyu uây".split()
)
_CLOSED_NUCLEI = frozenset("ă â oă uâ uô ươ uyê yê".split())
_FREE_NUCLEI = frozenset("a e ê i o ô ơ u ư y oa oe uê uy uơ iê".split())


def _spelling(token: str) -> tuple[str, str, int] | None:
    """``token`` as its base letters, its one tone mark and that mark's
    position (``""`` and -1 without one); None when it holds a character
    that is no Vietnamese letter, or two tone marks."""
    bases: list[str] = []
    tone, tone_at = "", -1
    for i, ch in enumerate(_nfc(token.lower())):
        info = _LETTER_INFO.get(ch)
        if info is None:
            return None
        base, mark = info
        if mark:
            if tone_at >= 0:
                return None
            tone, tone_at = mark, i
        bases.append(base)
    return "".join(bases), tone, tone_at


def _splits(word: str) -> Iterator[tuple[str, str, str]]:
    """Every way ``word`` (base letters) reads as initial + nucleus + final
    with a known initial and final and a non-empty nucleus."""
    for initial in _INITIALS:
        if not word.startswith(initial):
            continue
        rest = word[len(initial) :]
        for final in _FINALS:
            if rest.endswith(final) and len(rest) > len(final):
                yield initial, rest[: len(rest) - len(final)], final


@lru_cache(maxsize=1 << 16)
def _is_valid_syllable(token: str) -> bool:
    """Whether ``token`` spells one Vietnamese syllable (initial, vowels, final, one tone)."""
    spelt = _spelling(token)
    if spelt is None:
        return False
    word, tone, _ = spelt
    for _, nucleus, final in _splits(word):
        if final:
            if nucleus not in _CLOSED_NUCLEI and nucleus not in _FREE_NUCLEI:
                continue
            if final in _STOP_FINALS and tone not in ("", _ACUTE, _DOT):
                continue
        elif nucleus not in _OPEN_NUCLEI and nucleus not in _FREE_NUCLEI:
            continue
        return True
    return False


# ---------------------------------------------------------------------------
# Evidence: which reading makes a cell Vietnamese
# ---------------------------------------------------------------------------


class _Reading(NamedTuple):
    """What one legacy reading does to a cell's non-ASCII tokens."""

    changed: bool  # some token changes
    gain: int  # valid tokens after minus valid tokens before, over changed tokens
    clean: bool  # every changed token goes from invalid to valid
    all_valid: bool  # every non-ASCII token is a valid syllable after decoding
    markers: int  # legacy characters in changed tokens that were not valid Vietnamese


class _Evidence(NamedTuple):
    genuine: bool  # holds letters that only Unicode text can hold
    all_valid: bool  # every non-ASCII token is a valid syllable as it stands
    tcvn3: _Reading
    vni: _Reading


# (changed, valid after decoding, marker characters) of a token under one reading
_TokenReading = tuple[bool, bool, int]


@lru_cache(maxsize=1 << 17)
def _token_facts(token: str) -> tuple[bool, _TokenReading, _TokenReading]:
    """(valid as it stands, TCVN3 reading, VNI reading) of one non-ASCII token."""
    valid = _is_valid_syllable(token)
    nfc_token = _nfc(token)
    readings: list[_TokenReading] = []
    for encoding in _LEGACY:
        decoded = _DECODERS[encoding](token)
        if decoded == nfc_token:
            readings.append((False, valid, 0))
        else:
            markers = 0 if valid else sum(1 for ch in token if ch in _LEGACY_CHARS[encoding])
            readings.append((True, _is_valid_syllable(decoded), markers))
    return valid, readings[0], readings[1]


def _summarise(facts: list[tuple[bool, _TokenReading, _TokenReading]], index: int) -> _Reading:
    changed = False
    gain = markers = 0
    clean = all_valid = True
    for fact in facts:
        valid_before = fact[0]
        token_changed, valid_after, token_markers = fact[index]  # type: ignore[misc]
        if not valid_after:
            all_valid = False
        if token_changed:
            changed = True
            gain += valid_after - valid_before
            if valid_before or not valid_after:
                clean = False
            markers += token_markers
    return _Reading(changed, gain, clean, all_valid, markers)


_NO_READING = _Reading(changed=False, gain=0, clean=True, all_valid=True, markers=0)
_GENUINE_EVIDENCE = _Evidence(genuine=True, all_valid=True, tcvn3=_NO_READING, vni=_NO_READING)


def _evidence(text: str) -> _Evidence:
    if _GENUINE_RE.search(text):
        return _GENUINE_EVIDENCE
    facts = [_token_facts(t) for t in _TOKEN_RE.findall(text) if not t.isascii()]
    return _Evidence(
        genuine=False,
        all_valid=all(f[0] for f in facts),
        tcvn3=_summarise(facts, 1),
        vni=_summarise(facts, 2),
    )


def _vote(ev: _Evidence) -> Encoding | None:
    """The encoding one cell speaks for, or None when it cannot tell."""
    if ev.genuine:
        return "unicode"
    t, v = ev.tcvn3, ev.vni
    if t.gain > 0 and t.gain > v.gain:
        return "tcvn3"
    if v.gain > 0 and v.gain > t.gain:
        return "vni"
    # Valid as it stands and no legacy reading is also valid: Unicode.
    if ev.all_valid and not any(r.changed and r.all_valid for r in (t, v)):
        return "unicode"
    return None


def detect_encoding(texts: Iterable[str | None]) -> Encoding:
    """Decide a whole file's encoding from all of its text cells.

    Each distinct non-ASCII cell votes: for Unicode when it holds letters
    only Unicode can hold (ắ, ệ, ơ, đ, combining marks of NFD text) or when
    it already reads as valid Vietnamese and no legacy reading does; for
    TCVN3 or VNI when that reading turns more of its words (marker
    characters such as ``¶``, ``«``, ``ø``, ``ï`` in words that are not
    Vietnamese as they stand) into valid Vietnamese syllables than the other
    reading does. Votes are weighted by how often the cell occurs. A legacy
    encoding wins only with more votes than Unicode and than the other
    legacy encoding (ties between the two go to the one with more marker
    characters); plain ASCII files, and anything undecided, are Unicode.
    """
    counts = Counter(t for t in texts if isinstance(t, str) and t and not t.isascii())
    votes: Counter[str] = Counter()
    markers: Counter[str] = Counter()
    remaining = counts.total()
    for i, (text, n) in enumerate(counts.most_common(), 1):
        ev = _evidence(text)
        vote = _vote(ev)
        if vote is not None:
            votes[vote] += n
        if ev.tcvn3.gain > 0:
            markers["tcvn3"] += n * ev.tcvn3.markers
        if ev.vni.gain > 0:
            markers["vni"] += n * ev.vni.markers
        remaining -= n
        if i % 256 == 0:  # stop once the cells left cannot change the outcome
            ranked = sorted(votes.values(), reverse=True) + [0, 0]
            if ranked[0] - ranked[1] > remaining:
                break
    unicode_votes = votes["unicode"]
    tcvn3, vni = votes["tcvn3"], votes["vni"]
    best: Encoding
    if tcvn3 == vni:
        if tcvn3 == 0 or markers["tcvn3"] == markers["vni"]:
            return "unicode"
        best = "tcvn3" if markers["tcvn3"] > markers["vni"] else "vni"
    else:
        best = "tcvn3" if tcvn3 > vni else "vni"
    return best if votes[best] > unicode_votes else "unicode"


#: Characters of Latin-1 that Vietnamese text in Unicode never holds: the
#: letters that are not Vietnamese (ä, ø, ï, ñ, Þ ...) and the signs (÷, ¶, «,
#: ¸ ...). TCVN3 and VNI text read as Unicode is full of them.
_VIETNAMESE_CHARS = frozenset(VIETNAMESE_LETTERS) | frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
_FOREIGN_CHARS = frozenset(chr(c) for c in range(0xA0, 0x100)) - _VIETNAMESE_CHARS


def _case_style(word: str) -> str:
    """'lower', 'upper', 'title' or 'mixed' (a capital inside a lower-case word)."""
    letters = "".join(ch for ch in word if ch.isalpha())
    if letters == letters.lower():
        return "lower"
    if letters == letters.upper():
        return "upper"
    if letters[0].isupper() and letters[1:] == letters[1:].lower():
        return "title"
    return "mixed"


def _is_proof(token: str) -> bool:
    """A word that Vietnamese Unicode text cannot hold: a character outside the
    Vietnamese alphabet (``Buøi``, ``ThÞ``) or a capital inside a lower-case
    word (``HiÒn``, ``BÝch``)."""
    return any(ch in _FOREIGN_CHARS for ch in token) or _case_style(token) == "mixed"


# Where the tone mark sits in a well-spelt syllable (index in the vowel nucleus).
_HAT_LETTERS = frozenset("ăâêôơư")


def _tone_positions(nucleus: str, closed: bool) -> frozenset[int]:
    if len(nucleus) == 1:
        return frozenset({0})
    if nucleus in ("ưu", "ưi", "ưa"):
        return frozenset({0})
    hats = [i for i, ch in enumerate(nucleus) if ch in _HAT_LETTERS]
    if hats:
        return frozenset({hats[-1]})
    if nucleus in ("oa", "oe", "uy"):  # old and new placement: hoà / hòa, thuỷ / thủy
        return frozenset({1}) if closed else frozenset({0, 1})
    if len(nucleus) == 3:  # oai oay oao oeo uya uyu
        return frozenset({1})
    return frozenset({len(nucleus) - 1}) if closed else frozenset({0})


@lru_cache(maxsize=1 << 16)
def _tone_well_placed(token: str) -> bool:
    """Whether ``token`` is a Vietnamese syllable with its tone mark on a vowel
    that carries tones in either the old or the new placement (``lẹo``, not
    ``leọ``)."""
    spelt = _spelling(token)
    if spelt is None:
        return False
    word, _, tone_at = spelt
    for initial, nucleus, final in _splits(word):
        if nucleus not in _OPEN_NUCLEI | _CLOSED_NUCLEI | _FREE_NUCLEI:
            continue
        if tone_at < 0 or tone_at - len(initial) in _tone_positions(nucleus, bool(final)):
            return True
    return False


def _tones(text: str) -> int:
    return sum(1 for ch in unicodedata.normalize("NFD", text) if ch in _TONE_MARKS)


def decode_cell_if_unambiguous(text: str) -> str:
    """Decode one cell of a Unicode file when its characters leave no doubt.

    A cell is decoded from TCVN3 or VNI only when

    * it has no letter that only Unicode can hold (ắ, ơ, NFD marks ...);
    * it has a *proof*: a word that is not Vietnamese as it stands and holds a
      character outside the Vietnamese alphabet (``Buøi``, ``ThÞ``, ``Leä``),
      or a capital inside a lower-case word (``HiÒn``, ``BÝch``); else two
      words or more that are not Vietnamese as they stand (``Coâng Duõng``);
    * a reading turns every proof into a word of two letters or more and
      every non-ASCII word of the cell into a Vietnamese syllable (words that
      were already Vietnamese may change: VNI ``Thò`` is ``Thị``).

    When both readings qualify, the one whose tones all sit where Vietnamese
    puts them wins (``Leä`` is VNI ``Lệ``, not TCVN3 ``Leọ``), then the one
    whose words keep one case style (``LÖ`` in ``Phan Thanh LÖ`` is TCVN3
    ``Lệ``, not VNI ``LƯ``), then the one with fewer tone marks (bare
    letters are the more frequent: ``Höng`` is VNI ``Hưng``, not TCVN3
    ``Hửng``). Otherwise the cell is returned unchanged (NFC).
    """
    nfc_text = _nfc(text)
    if text.isascii() or _GENUINE_RE.search(text):
        return nfc_text
    tokens = [t for t in _TOKEN_RE.findall(text) if not t.isascii()]
    proofs = [t for t in tokens if _is_proof(t) and (not _is_valid_syllable(t) or _case_style(t) == "mixed")]
    if not proofs:
        # two words or more that are not Vietnamese as they stand, all repaired by one reading
        proofs = [t for t in tokens if not _is_valid_syllable(t)]
        if len(proofs) < 2:
            return nfc_text
    readings: dict[str, list[str]] = {}
    for encoding in _LEGACY:
        decoder = _DECODERS[encoding]
        decoded = [decoder(t) for t in tokens]
        if not all(_is_valid_syllable(d) for d in decoded):
            continue
        by_token = dict(zip(tokens, decoded, strict=True))
        if all(by_token[t] != _nfc(t) and sum(ch.isalpha() for ch in by_token[t]) >= 2 for t in proofs):
            readings[encoding] = decoded
    if len(readings) > 1:
        placed = {e: d for e, d in readings.items() if all(_tone_well_placed(w) for w in d)}
        readings = placed or readings
    if len(readings) > 1:
        words = [w for w in _TOKEN_RE.findall(text) if sum(ch.isalpha() for ch in w) >= 2]
        consistent = {}
        for encoding in readings:
            decoder = _DECODERS[encoding]
            styles = {_case_style(decoder(w)) for w in words}
            if len(styles) == 1 and "mixed" not in styles:
                consistent[encoding] = readings[encoding]
        readings = consistent or readings
    if len(readings) > 1:
        fewest = min(sum(_tones(w) for w in d) for d in readings.values())
        readings = {e: d for e, d in readings.items() if sum(_tones(w) for w in d) == fewest}
    if len(readings) != 1:
        return nfc_text
    return _DECODERS[next(iter(readings))](text)


def _replace_many_table(encoding: str) -> tuple[list[str], list[str]]:
    """Patterns (longest first) and replacements for polars ``str.replace_many``."""
    if encoding == "tcvn3":
        table = {chr(k): v for k, v in _TCVN3_DECODE_NO_PUNCT.items()}
    else:
        table = _VNI_DECODE
    patterns = sorted(table, key=len, reverse=True)
    return patterns, [table[p] for p in patterns]


_REPLACE_MANY = {encoding: _replace_many_table(encoding) for encoding in _LEGACY}


def _decode_unique(values: pl.Series, encoding: Encoding) -> pl.Series:
    """:func:`decode` of distinct, non-null values, vectorised where that is exact."""
    patterns, replacements = _REPLACE_MANY[encoding]
    try:
        # Leftmost-first Aho-Corasick with the longest patterns first is the
        # same greedy longest match as the regex of :func:`decode_vni`.
        decoded = values.str.replace_many(patterns, replacements, leftmost=True)
    except TypeError:  # a polars without ``leftmost``
        return values.map_elements(lambda v: decode(v, encoding), return_dtype=pl.Utf8)
    # Cells typed in Unicode are only normalised (see decode).
    decoded = pl.select(
        pl.when(values.str.contains_any(_GENUINE_CHARS)).then(values).otherwise(decoded).str.normalize("NFC")
    ).to_series()
    if encoding == "tcvn3":
        # Words with a cp1252 punctuation view need the per-word rule of decode_tcvn3.
        tricky = values.str.contains_any(sorted(_TCVN3_PUNCT))
        if tricky.any():
            fixed = [decode(v, encoding) if t else d for v, d, t in zip(values, decoded, tricky, strict=True)]
            decoded = pl.Series(values.name, fixed, dtype=pl.Utf8)
    return decoded


def decode_series(s: pl.Series, encoding: Encoding) -> pl.Series:
    """Decode a polars text series, each distinct value once; nulls stay null.

    The same result as :func:`decode` on every value (so a cell typed in
    Unicode is only normalised), computed on ``s.unique()`` with polars
    ``str.replace_many`` (longest pattern first) and mapped back with
    ``Series.replace``.
    """
    if encoding not in ("unicode", "tcvn3", "vni"):
        raise ValueError(f"unknown encoding: {encoding!r}")
    if s.dtype == pl.Null:
        return s
    if s.dtype != pl.Utf8:
        raise TypeError(f"decode_series needs a text series, got {s.dtype}")
    if encoding == "unicode":
        return s.str.normalize("NFC")
    values = s.drop_nulls().unique()
    decoded = _decode_unique(values, encoding)
    changed = decoded != values
    if not changed.any():
        return s
    return s.replace(values.filter(changed), decoded.filter(changed))
