"""Tests for the legacy TCVN3 / VNI encodings (pmis_pipeline.legacy).

The expected tables below are written out literally, independently of the
way the module builds its own, so a wrong code in either shows up.
"""

from __future__ import annotations

import random
import string
import shutil
import subprocess
import unicodedata

import polars as pl
import pytest

from pmis_pipeline import legacy
from pmis_pipeline.legacy import (
    decode,
    decode_cell_if_unambiguous,
    decode_series,
    decode_tcvn3,
    decode_vni,
    detect_encoding,
    encode_tcvn3,
    encode_vni,
)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# ---------------------------------------------------------------------------
# Expected tables
# ---------------------------------------------------------------------------

# TCVN 5712:1993 (VN3): Unicode letters -> codes, as they read in the cp1252 view.
# Order in every row: grave, hook, tilde, acute, dot (the order of the standard).
TCVN3_TABLE: dict[str, str] = {
    "àảãáạ": "µ¶·¸¹",
    "ăằẳẵắặ": "¨»¼½¾Æ",
    "âầẩẫấậ": "©ÇÈÉÊË",
    "èẻẽéẹ": "ÌÎÏÐÑ",
    "êềểễếệ": "ªÒÓÔÕÖ",
    "ìỉĩíị": "×ØÜÝÞ",
    "òỏõóọ": "ßáâãä",
    "ôồổỗốộ": "«åæçèé",
    "ơờởỡớợ": "¬êëìíî",
    "ùủũúụ": "ïñòóô",
    "ưừửữứự": "\u00adõö÷øù",  # ư is 0xAD, the soft hyphen
    "ỳỷỹýỵ": "úûüýþ",
    "đ": "®",
    "ĂÂÊÔƠƯĐ": "¡¢£¤¥¦§",
}

# VNI Windows: per vowel, the bare letter then grave, hook, tilde, acute, dot.
VNI_ROWS: list[tuple[str, list[str]]] = [
    ("aàảãáạ", ["a", "aø", "aû", "aõ", "aù", "aï"]),
    ("ăằẳẵắặ", ["aê", "aè", "aú", "aü", "aé", "aë"]),
    ("âầẩẫấậ", ["aâ", "aà", "aå", "aã", "aá", "aä"]),
    ("eèẻẽéẹ", ["e", "eø", "eû", "eõ", "eù", "eï"]),
    ("êềểễếệ", ["eâ", "eà", "eå", "eã", "eá", "eä"]),
    ("iìỉĩíị", ["i", "ì", "æ", "ó", "í", "ò"]),
    ("oòỏõóọ", ["o", "oø", "oû", "oõ", "où", "oï"]),
    ("ôồổỗốộ", ["oâ", "oà", "oå", "oã", "oá", "oä"]),
    ("ơờởỡớợ", ["ô", "ôø", "ôû", "ôõ", "ôù", "ôï"]),
    ("uùủũúụ", ["u", "uø", "uû", "uõ", "uù", "uï"]),
    ("ưừửữứự", ["ö", "öø", "öû", "öõ", "öù", "öï"]),
    ("yỳỷỹýỵ", ["y", "yø", "yû", "yõ", "yù", "î"]),
    ("đ", ["ñ"]),
]


def _vni_expected() -> dict[str, str]:
    table: dict[str, str] = {}
    for letters, codes in VNI_ROWS:
        assert len(letters) == len(codes)
        for letter, code in zip(letters, codes, strict=True):
            if not letter.isascii():
                table[letter] = code
                # VNI capitals are the same bytes in their uppercase form (AØ, Ô, Ñ, Î, Æ ...).
                table[letter.upper()] = code.upper()
    return table


VNI_TABLE = _vni_expected()
LOWER_LETTERS = sorted(c for c in VNI_TABLE if c.islower())
ALL_LETTERS = sorted(VNI_TABLE)
TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
TONED_CAPITALS = {c for c in ALL_LETTERS if c.isupper() and TONE_MARKS & set(nfd(c))}


def tcvn3_lossy(text: str) -> str:
    """What a TCVN3 round trip gives back: toned capitals become lowercase, nothing else changes."""
    return "".join(c.lower() if c in TONED_CAPITALS else c for c in nfc(text))


def test_expected_tables_cover_every_letter() -> None:
    assert len(ALL_LETTERS) == 134
    assert len(LOWER_LETTERS) == 67
    assert len(TONED_CAPITALS) == 60
    tcvn3_letters = "".join(TCVN3_TABLE)
    assert len(tcvn3_letters) == 67 + 7
    assert set(tcvn3_letters) == set(LOWER_LETTERS) | set("ĂÂÊÔƠƯĐ")
    assert legacy.VIETNAMESE_LETTERS and sorted(legacy.VIETNAMESE_LETTERS) == ALL_LETTERS


# ---------------------------------------------------------------------------
# TCVN3
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("letters", "codes"), list(TCVN3_TABLE.items()))
def test_tcvn3_table(letters: str, codes: str) -> None:
    assert len(letters) == len(codes)
    for letter, code in zip(letters, codes, strict=True):
        assert encode_tcvn3(letter) == code, letter
        assert decode_tcvn3(code) == letter, letter
        assert encode_tcvn3(nfd(letter)) == code, f"NFD {letter}"


@pytest.mark.parametrize("letter", ALL_LETTERS)
def test_tcvn3_round_trip_every_letter(letter: str) -> None:
    encoded = encode_tcvn3(letter)
    assert len(encoded) == 1 and not encoded.isascii()
    back = decode_tcvn3(encoded)
    if letter in TONED_CAPITALS:
        # TCVN3 has no toned capitals: the lowercase code is written and read back.
        assert encoded == encode_tcvn3(letter.lower())
        assert back == letter.lower()
    else:
        assert back == letter


def test_tcvn3_round_trip_of_text_loses_only_case_of_toned_capitals() -> None:
    samples = [
        "Nguyễn Văn Thành",
        "NGUYỄN VĂN THÀNH",
        "Đặng Thị Ánh Tuyết",
        "ƯU TIÊN Ở ĐÂY",
        "Trường THCS Lê Lợi, huyện Bảo Thắng (tỉnh Lào Cai) - 2024",
        "Ông Ấn, bà Ở, Ỷ Lan, Ý kiến",
    ]
    for text in samples:
        assert decode_tcvn3(encode_tcvn3(text)) == tcvn3_lossy(text)
        assert decode_tcvn3(encode_tcvn3(nfd(text))) == tcvn3_lossy(text)
    assert decode_tcvn3(encode_tcvn3("NGUYỄN VĂN ĐỨC")) == "NGUYễN VĂN ĐứC"
    assert decode_tcvn3(encode_tcvn3("ĂÂÊÔƠƯĐ")) == "ĂÂÊÔƠƯĐ"


def test_tcvn3_examples() -> None:
    assert decode_tcvn3("B¶o Th¾ng") == "Bảo Thắng"
    assert encode_tcvn3("Bảo Thắng") == "B¶o Th¾ng"
    assert decode_tcvn3("§¹i häc") == "Đại học"
    assert decode_tcvn3("Kh«ng") == "Không"
    assert decode_tcvn3("N÷") == "Nữ"
    assert decode_tcvn3("Tr\u00adêng") == "Trường"
    assert decode_tcvn3("M\u00adêng Kh\u00ad¬ng") == "Mường Khương"
    assert decode_tcvn3("Trung cÊp") == "Trung cấp"
    assert decode_tcvn3("Nam 1985, 12/05") == "Nam 1985, 12/05"


def test_tcvn3_vn1_capitals_in_both_views() -> None:
    # 0x93 is Ỏ in the full TCVN 5712 table: U+0093 in the Latin-1 view, “ in the cp1252 view.
    assert decode_tcvn3("\x93") == "Ỏ"
    assert decode_tcvn3("§\x93") == decode_tcvn3("§“") == "ĐỎ"
    assert decode_tcvn3("\x99") == "Ở"
    assert decode_tcvn3("TR\x96NG") == decode_tcvn3("TR–NG") == "TRỌNG"
    assert decode_tcvn3("\x80n") == decode_tcvn3("€n") == "Àn"
    for byte in range(0x80, 0xA0):
        latin1 = chr(byte)
        cp1252 = bytes([byte]).decode("cp1252", errors="ignore") or latin1
        letter = decode_tcvn3(latin1)
        assert letter in TONED_CAPITALS, hex(byte)
        assert decode_tcvn3("§" + cp1252 + "NG") == decode_tcvn3("§" + latin1 + "NG") == "Đ" + letter + "NG"


def test_tcvn3_cp1252_punctuation_stays_punctuation() -> None:
    assert decode_tcvn3("Lª Lîi – B¶o Th¾ng") == "Lê Lợi – Bảo Thắng"
    assert decode_tcvn3("“B¶o Th¾ng”") == "“Bảo Thắng”"
    assert decode_tcvn3("H’Hen Niª") == "H’Hen Niê"
    assert decode_tcvn3("v.v…") == "v.v…"
    assert decode_tcvn3("™") == "™"


@pytest.mark.skipif(shutil.which("iconv") is None, reason="no iconv")
def test_tcvn3_agrees_with_iconv() -> None:
    """glibc's TCVN5712-1 converter is an independent copy of the standard's table."""
    codes = [b for b in [*range(0x01, 0x20), *range(0x80, 0x100)] if b not in (0x0A, 0x0D)]
    payload = b"\n".join(bytes([b]) for b in codes)
    run = subprocess.run(["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"], input=payload, capture_output=True)
    if run.returncode != 0:
        pytest.skip("iconv without TCVN5712-1")
    expected = run.stdout.decode("utf-8").split("\n")
    assert len(expected) == len(codes)
    checked = 0
    for byte, letter in zip(codes, expected, strict=True):
        if nfc(letter) not in ALL_LETTERS:
            continue  # controls, NBSP, combining marks
        assert decode_tcvn3(chr(byte)) == nfc(letter), hex(byte)
        checked += 1
    assert checked == 134  # 67 lowercase + 7 VN3 capitals + 60 VN1 capitals


# ---------------------------------------------------------------------------
# VNI
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("letter", ALL_LETTERS)
def test_vni_table_and_round_trip_every_letter(letter: str) -> None:
    code = VNI_TABLE[letter]
    assert encode_vni(letter) == code
    assert encode_vni(nfd(letter)) == code
    assert decode_vni(code) == letter
    assert decode_vni(encode_vni(letter)) == letter


def test_vni_examples() -> None:
    assert decode_vni("Xin chaøo caùc baïn") == "Xin chào các bạn"
    assert encode_vni("Xin chào các bạn") == "Xin chaøo caùc baïn"
    assert decode_vni("ñ") == "đ"
    assert decode_vni("Ñ") == "Đ"
    assert decode_vni("Coù") == "Có"
    assert decode_vni("Trung caáp") == "Trung cấp"
    assert decode_vni("Nguyeãn Vaên Thaønh") == "Nguyễn Văn Thành"
    assert decode_vni("Khoâng") == "Không"
    assert decode_vni("Nöõ") == "Nữ"
    assert decode_vni("Ñaïi hoïc") == "Đại học"
    assert decode_vni("Tröôøng THCS Leâ Lôïi") == "Trường THCS Lê Lợi"
    assert decode_vni("NGUYEÃN THÒ ÑÖÙC") == "NGUYỄN THỊ ĐỨC"
    assert decode_vni("Quoác gia, 12/05/1985") == "Quốc gia, 12/05/1985"


def test_vni_greedy_longest_match() -> None:
    assert decode_vni("oâ") == "ô"  # not o + â
    assert decode_vni("ôø") == "ờ"  # not ơ + ø
    assert decode_vni("öï") == "ự"
    assert decode_vni("aà") == "ầ"  # not a + à
    assert decode_vni("aè") == "ằ"
    assert decode_vni("uoâ") == "uô"
    assert decode_vni("ngöôøi") == "người"
    assert decode_vni("Aø") == decode_vni("AØ") == "À"  # a modifier of the other case
    assert decode_vni("oÂ") == "ô"
    assert decode_vni("uâ") == "uâ"  # u takes no circumflex: left as it is


def test_vni_round_trip_of_text_is_exact() -> None:
    samples = [
        "Nguyễn Văn Thành",
        "NGUYỄN VĂN THÀNH",
        "Đặng Thị Ánh Tuyết",
        "Trường THCS Lê Lợi, huyện Bảo Thắng (tỉnh Lào Cai) - 2024",
        "Ông Ấn, bà Ở, Ỷ Lan, Ý kiến, khuỷu tay, người ươm, Quỳnh Hoa",
        " ".join(ALL_LETTERS),
        "".join(ALL_LETTERS),
        "aàaăâêôơưyỵiị",
    ]
    for text in samples:
        assert decode_vni(encode_vni(text)) == nfc(text)
        assert decode_vni(encode_vni(nfd(text))) == nfc(text)


def test_decode_dispatch() -> None:
    assert decode("Coù", "vni") == "Có"
    assert decode("Cã", "tcvn3") == "Có"
    assert decode(nfd("Nguyễn"), "unicode") == "Nguyễn"
    assert decode("Coù", "unicode") == "Coù"
    # In a legacy file, a cell typed in Unicode (it has ơ, ư, ễ ...) is only normalised ...
    assert decode("Trường Không có", "vni") == "Trường Không có"
    assert decode(nfd("Không Nguyễn"), "tcvn3") == "Không Nguyễn"
    # ... while the codecs themselves read every byte.
    assert decode_vni("Trường Không có") == "Trường Khơng cĩ"
    with pytest.raises(ValueError):
        decode("x", "latin1")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Whole-file detection
# ---------------------------------------------------------------------------

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Ngọc", "Thu", "Quang", "Hữu", "Thanh", "Xuân"]
GIVEN = ["Thành", "Mai", "Nam", "Hương", "Anh", "Trang", "Huy", "Ánh", "Dũng", "Hà", "Tân", "Lan", "Khánh", "Yến"]
COLUMNS = [
    ["Nam", "Nữ"],
    ["Kinh", "Kinh", "Kinh", "Tày", "Mường", "Thái", "H'Mông"],
    ["Có", "Không"],
    ["Đại học", "Cao đẳng", "Thạc sĩ", "Trung cấp"],
    ["Giáo viên", "Hiệu trưởng", "Phó hiệu trưởng", "Nhân viên", "Tổ trưởng chuyên môn"],
    ["Trường THCS Lê Lợi", "Trường TH Bảo Thắng", "Trường Mầm non Hoa Hồng"],
]


def realistic_cells(n: int = 200, seed: int = 7) -> list[str | None]:
    """n cells of a personnel sheet: names, choices, dates, numbers, a few blanks."""
    rng = random.Random(seed)
    cells: list[str | None] = []
    while len(cells) < n:
        cells.append(f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}")
        cells.extend(rng.choice(col) for col in COLUMNS)
        cells.append(f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1960, 2000)}")
        cells.append(str(rng.randint(10**8, 10**9 - 1)))
        cells.append(None)
    return cells[:n]


def _map(cells: list[str | None], fn) -> list[str | None]:
    return [fn(c) if c is not None else None for c in cells]


def strip_diacritics(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(ch for ch in nfd(text) if not unicodedata.combining(ch))


def test_detect_unicode_nfc_nfd_and_ascii() -> None:
    cells = realistic_cells()
    assert len(cells) == 200
    assert detect_encoding(cells) == "unicode"
    assert detect_encoding(_map(cells, nfd)) == "unicode"
    assert detect_encoding(_map(cells, strip_diacritics)) == "unicode"
    assert detect_encoding(_map(cells, str.upper)) == "unicode"
    assert detect_encoding([]) == "unicode"
    assert detect_encoding([None, "", "123"]) == "unicode"


def test_detect_legacy_files() -> None:
    cells = realistic_cells()
    assert detect_encoding(_map(cells, encode_tcvn3)) == "tcvn3"
    assert detect_encoding(_map(cells, encode_vni)) == "vni"
    assert detect_encoding(_map(cells, lambda c: encode_tcvn3(c.upper()))) == "tcvn3"
    assert detect_encoding(_map(cells, lambda c: encode_vni(c.upper()))) == "vni"
    # NFD input to the encoder gives the same bytes, so the same answer.
    assert detect_encoding(_map(cells, lambda c: encode_vni(nfd(c)))) == "vni"


def test_detect_files_of_short_words() -> None:
    vni = ["Coù", "Khoâng", "Nöõ", "Kinh", "Ñaïi hoïc", "Nam", "12/05/1985", "0912345678"] * 25
    tcvn3 = ["Cã", "Kh«ng", "N÷", "Kinh", "§¹i häc", "Nam", "12/05/1985", "0912345678"] * 25
    assert detect_encoding(vni) == "vni"
    assert detect_encoding(tcvn3) == "tcvn3"
    # One yes/no column alone.
    assert detect_encoding(["Coù", "Khoâng"] * 10) == "vni"
    assert detect_encoding(["Cã", "Kh«ng"] * 10) == "tcvn3"


def test_detect_mixed_files_follow_the_majority() -> None:
    cells = realistic_cells()
    text_cells = [c for c in cells if c is not None and not c.isascii()]
    pasted_vni = [encode_vni(c) for c in text_cells[:8]]
    assert detect_encoding(cells + pasted_vni) == "unicode"
    unicode_headers = ["Họ và tên", "Giới tính", "Dân tộc", "Trình độ đào tạo", "Chức vụ"]
    assert detect_encoding(unicode_headers + _map(cells, encode_vni)) == "vni"
    assert detect_encoding(unicode_headers + _map(cells, encode_tcvn3)) == "tcvn3"


def test_detect_foreign_latin1_text_is_unicode() -> None:
    assert detect_encoding(["José", "Müller", "Señor", "café crème", "Zoë", "naïve"] * 20) == "unicode"


# ---------------------------------------------------------------------------
# One cell pasted into a Unicode file
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Nguyeãn Vaên Thaønh", "Nguyễn Văn Thành"),  # VNI
        ("NGUYEÃN VAÊN THAØNH", "NGUYỄN VĂN THÀNH"),  # VNI capitals
        ("Ñaïi hoïc Sö phaïm", "Đại học Sư phạm"),
        ("NguyÔn V¨n Th¾ng", "Nguyễn Văn Thắng"),  # TCVN3
        ("TrÇn ThÞ H\u00ad¬ng", "Trần Thị Hương"),
        ("Nöõ", "Nữ"),
    ],
)
def test_decode_cell_decodes_unambiguous_legacy(cell: str, expected: str) -> None:
    assert decode_cell_if_unambiguous(cell) == expected


@pytest.mark.parametrize(
    "cell",
    [
        "Nguyễn Văn Thành",  # ordinary Unicode
        "Hoà Bình",  # Unicode whose VNI reading (Hồ) is also Vietnamese
        "Tân Hà Lê",
        "Hoa",
        "Can",
        "Hello world",
        "The café is open",
        "Señor Muñoz",
        "Coù",  # a single legacy character is not enough
        "Ñ",
        "aø",
        "Ö",
        "Nguyễn Vaên Thaønh",  # has a genuine Unicode letter: left alone
        "Mañana Khoâng",  # part of it would not become Vietnamese
    ],
)
def test_decode_cell_leaves_other_text_alone(cell: str) -> None:
    assert decode_cell_if_unambiguous(cell) == cell


def test_decode_cell_returns_nfc() -> None:
    assert decode_cell_if_unambiguous(nfd("Nguyễn Văn Thành")) == "Nguyễn Văn Thành"
    assert decode_cell_if_unambiguous(nfd("Hoà Bình")) == "Hoà Bình"


# ---------------------------------------------------------------------------
# Series
# ---------------------------------------------------------------------------


def test_decode_series_keeps_nulls_and_decodes_values() -> None:
    s = pl.Series("ten", ["Nguyeãn Vaên Thaønh", None, "Coù", "Kinh", None, "Coù"])
    out = decode_series(s, "vni")
    assert out.name == "ten"
    assert out.dtype == pl.Utf8
    assert out.to_list() == ["Nguyễn Văn Thành", None, "Có", "Kinh", None, "Có"]
    t = pl.Series(["B¶o Th¾ng", None, "“B¶o”", "§“"])
    assert decode_series(t, "tcvn3").to_list() == ["Bảo Thắng", None, "“Bảo”", "ĐỎ"]
    typed_in_unicode = pl.Series(["Coù", "Trường Không có", nfd("Không Nguyễn"), None])
    assert decode_series(typed_in_unicode, "vni").to_list() == ["Có", "Trường Không có", "Không Nguyễn", None]
    u = pl.Series([nfd("Nguyễn"), None, "Coù"])
    assert decode_series(u, "unicode").to_list() == ["Nguyễn", None, "Coù"]
    assert decode_series(pl.Series([None, None]), "vni").to_list() == [None, None]
    assert decode_series(pl.Series([], dtype=pl.Utf8), "tcvn3").to_list() == []


def test_decode_series_rejects_bad_input() -> None:
    with pytest.raises(TypeError):
        decode_series(pl.Series([1, 2]), "vni")
    with pytest.raises(ValueError):
        decode_series(pl.Series(["a"]), "viscii")  # type: ignore[arg-type]


@pytest.mark.parametrize("encoding", ["tcvn3", "vni"])
def test_decode_series_matches_decode_on_random_text(encoding: str) -> None:
    """The vectorised path gives exactly what decode() gives, on arbitrary junk too."""
    rng = random.Random(11)
    alphabet = (
        "aeiouyAEIOUYbcdnghtNT '-"
        + "øûõùïâêàåãáäèúüéëôöñìæóíòî"
        + "ØÛÕÙÏÂÊÀÅÃÁÄÈÚÜÉËÔÖÑÌÆÓÍÒÎ"
        + "µ¶·¸¹¨»¼½¾Æ©ÇÊ§®«¬\u00ad"
        + "\x80\x93\x99–—“”…’"
        + "\u0300\u0301ắ"
    )
    values = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(3000)]
    values += [encode_vni(c) for c in ALL_LETTERS] + [encode_tcvn3(c) for c in ALL_LETTERS]
    s = pl.Series(values + [None])
    expected = [decode(v, encoding) for v in values] + [None]  # type: ignore[arg-type]
    assert decode_series(s, encoding).to_list() == expected  # type: ignore[arg-type]


def test_decode_series_on_a_whole_file() -> None:
    """A 20,000-row file with 20 text columns decodes exactly (speed: bench/)."""
    rng = random.Random(3)
    rows = 20_000
    columns: dict[str, list[str | None]] = {}
    originals: dict[str, list[str | None]] = {}
    for j in range(20):
        if j < 3:  # names: almost every value distinct
            values = [
                f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
                for _ in range(rows)
            ]
        else:
            col = COLUMNS[j % len(COLUMNS)]
            values = [rng.choice(col) if rng.random() > 0.05 else None for _ in range(rows)]
        originals[f"c{j}"] = values
        columns[f"c{j}"] = [encode_vni(v) if v is not None else None for v in values]
    frame = pl.DataFrame(columns)
    out = frame.with_columns(decode_series(frame.get_column(c), "vni") for c in frame.columns)
    assert out.equals(pl.DataFrame(originals))


# ---------------------------------------------------------------------------
# Single legacy cells pasted into Unicode files (issue 8)
# ---------------------------------------------------------------------------


TCVN3_CODES = {letter: code for letters, codes in TCVN3_TABLE.items() for letter, code in zip(letters, codes, strict=True)}
TCVN3_CODES.update({c: TCVN3_CODES[c.lower()] for c in TONED_CAPITALS})  # capitals-only fonts: the lowercase code


def demo_names() -> list[str]:
    """Every kind of name the demo province draws (thousands), in title case."""
    from pmis_pipeline.demo import draw_name

    rng = random.Random(8)
    names = {" ".join(draw_name(rng, rng.random() < 0.5, rng.choice(("Kinh",) * 8 + ("Khmer", "Hoa")))) for _ in range(12_000)}
    return sorted(names)


@pytest.mark.parametrize("font", ["tcvn3", "vni"])
def test_every_pasted_name_whose_characters_leave_no_doubt_is_decoded(font: str) -> None:
    """Failed on the old code for 26% (TCVN3) and 42% (VNI) of everyday names: a
    single marker such as ``Buøi`` was not enough, and a word that is also
    Vietnamese as typed (VNI ``Thò`` = Thị, TCVN3 ``BÝch`` = Bích) blocked the
    whole cell. The encodings come from the expected tables of this module, not
    from the code under test; "no doubt" is the generator's rule: a character
    that is neither ASCII nor a Vietnamese letter."""
    table = {c: (VNI_TABLE[c] if font == "vni" else TCVN3_CODES[c]) for c in ALL_LETTERS}
    vietnamese = set(ALL_LETTERS) | set(string.ascii_letters)
    checked = 0
    for name in demo_names():
        cell = "".join(table.get(c, c) for c in name)
        if not any(not c.isascii() and c not in vietnamese for c in cell):
            continue
        checked += 1
        expected = name if font == "vni" else tcvn3_lossy(name)
        assert decode_cell_if_unambiguous(cell) == expected, (name, cell)
    assert checked > 4000


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Buøi Bích Nga", "Bùi Bích Nga"),  # one VNI marker inside a name
        ("Cao Thò Leä", "Cao Thị Lệ"),  # VNI Thò is also Vietnamese; Leä is VNI Lệ, not TCVN3 Leọ (tone misplaced)
        ("Bïi BÝch HiÒn", "Bùi Bích Hiền"),  # TCVN3 with capitals inside words
        ("Phan Thanh LÖ", "Phan Thanh Lệ"),  # TCVN3: VNI LƯ would break the title case
        ("Phan Thanh Höng", "Phan Thanh Hưng"),  # VNI: TCVN3 Hửng has the rarer toned letter
        ("Cao Coâng Duõng", "Cao Công Dũng"),  # two words that are not Vietnamese, both repaired by VNI
        ("Hoaøng ThÞ Thu", "Hoaøng ThÞ Thu"),  # two fonts in one cell: no reading makes it Vietnamese
    ],
)
def test_pasted_cells_decided_by_their_characters(cell: str, expected: str) -> None:
    assert decode_cell_if_unambiguous(cell) == expected
