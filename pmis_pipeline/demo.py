"""Deterministic demo province: Bến Tre's education sector, 2009.

:func:`generate_demo` writes, under a data folder, what the pipeline reads
(``catalog/units.csv`` and ``inbox/<quarter>/...`` in the contract's format,
``shared/spec/submission-format.md``) and what it should conclude from it
(``demo-truth/*.csv``, the oracle of the integration tests).

How it works, one quarter after the other:

1. *Simulate* the true state: who works where, with which grade, step and
   status (retirements announced as "Nghỉ hưu" and gone the next quarter,
   transfers, new hires, step raises from the recruitment date).
2. *Plan the files*: which reporting unit sends which files covering which
   schools, when (receipts or file times), in which format and style,
   re-submissions, an exact duplicate, rejected files, late and silent units.
3. *Render the records* of each file: typed values (dates, decimals, codes),
   a few injected defects (only in the versions that will stand), then the
   cells as a 2009 clerk typed them (text dates, decimal commas, numbers that
   lose a leading zero, ALL-CAPS names, NFD, TCVN3 / VNI, ...).
4. *Resolve and check* like the contract says (within a reporting unit, the
   latest received file wins per school, and a person a later file carries
   is taken from it whatever school code either gives) and run the
   validation rules on the typed values, warnings included: that is the
   truth. Every injected defect must be found again, no record may carry an
   issue nobody injected, and each warning must match its plan (bare birth
   years, photos planned broken or left out, drifted identities, staff past
   retirement age), asserted while generating.
5. *Score and pay* each quarter by the contract's default rules, with the
   default weights and rates written here as plain numbers: the expected
   ``unit_compliance`` rows and payment lines.

Everything is drawn from ``random.Random`` streams seeded by ``seed``; file
times are set with :func:`os.utime`; workbook and zip time stamps are fixed,
so the same seed and scale give the same bytes. Reference values (catalogs,
grades, salary groups, rules) come from :mod:`pmis_pipeline.reference` and
the package's default configuration (validation thresholds, time zone),
never from copies here; the deadlines, scoring weights and payment rates
are the contract's defaults written here (:data:`CONTRACT_DEADLINES`,
:data:`SCORE_WEIGHTS`, :data:`PAYMENT_RATES_VND`), so the truth never reads
them from the pipeline.

The truth (``demo-truth/``, UTF-8 CSV):

* ``files.csv``: every file of the inbox with its reporting unit, received
  time (``received_source``: a ``receipts.csv`` line or the file time),
  ``expected_status`` (accepted / superseded / rejected), ``reject_reason``
  (unreadable, unknown_reporting_unit, quarter_mismatch, no_hoso_sheet),
  ``n_records`` (HoSo data rows; 0 when rejected) and ``duplicate_of``.
* ``staff.csv``: the resolved records (see step 4), with the values as the pipeline should read them
  (NFC title-case names, ISO birth dates or a bare year, identity numbers
  with their leading zeros, coefficients with two decimals, ``has_photo``).
* ``issues.csv``: every issue the pipeline must report in ``record_issues``,
  errors and warnings, one line per issue of a resolved record (a duplicated
  person on every copy): quarter, reporting unit, school, staff code, the
  field it names, rule, severity. Nothing more and nothing less.
* ``defects.csv``: the same without the warnings that are no defect of the
  data (:data:`NOT_DEFECTS`: a bare birth year, a missing photo), plus
  ``lost_record`` lines naming last quarter's record (field empty), which
  match the ``lost_records`` view.
* ``units_expected.csv`` (and ``units_expected_late.csv``, the late ones):
  per reporting unit and quarter, whether it submitted, its first receipt,
  days late, resolved records and lost records.
* ``compliance.csv``: the expected ``unit_compliance`` rows: those columns
  plus completeness, accuracy and photo percentages, timeliness, score (two
  decimals, exact and half up) and rank within the group.
* ``payments.csv``: the expected payment lines per quarter (payee, payee
  type, item, records, rate, amount): every reporting unit with records paid
  that quarter, and the Department's two lines.
* ``payment_holds.csv``: reporting units whose record count is implausible
  in a quarter (their records are paid in a later quarter of the year where
  it is plausible; the demo confirms none). Empty at the usual scales.
* ``catalog_review.csv``: schools of a ``DonVi`` sheet that the catalog lacks
  or names otherwise.
"""

from __future__ import annotations

import csv
import io
import math
import os
import random
import re
import shutil
import tomllib
import unicodedata
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import openpyxl
import polars as pl
import xlwt
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from PIL import Image, ImageDraw

from pmis_pipeline import reference, schema
from pmis_pipeline.quarters import Quarter
from pmis_pipeline.settings import DEFAULT_CONFIG
from pmis_pipeline.textnorm import nfc, strip_diacritics, value_key

__all__ = ["DemoSummary", "generate_demo"]

Progress = Callable[[str], None]

# ---------------------------------------------------------------------------
# Data of the demo province (Vietnamese only here, in data)
# ---------------------------------------------------------------------------

PROVINCE = "Bến Tre"


@dataclass(frozen=True)
class District:
    no: int
    name: str  # as in the catalog's huyen column
    admin: str  # how a home town names it: "huyện Châu Thành", "thị xã Bến Tre"
    communes: tuple[str, ...]  # "xã Tân Thạch", "phường 3", "thị trấn Ba Tri"
    weight: float  # share of the province's schools
    old_admin: str | None = None  # name before Decree 08/2009 (Mỏ Cày)


DISTRICTS: tuple[District, ...] = (
    District(1, "TP Bến Tre", "thị xã Bến Tre", (
        "phường 1", "phường 2", "phường 3", "phường 4", "phường 5", "phường 6", "phường 7", "phường 8",
        "phường Phú Khương", "phường Phú Tân", "xã Bình Phú", "xã Phú Hưng", "xã Phú Nhuận", "xã Mỹ Thành",
        "xã Mỹ Thạnh An", "xã Nhơn Thạnh", "xã Sơn Đông"), 0.09),
    District(2, "Châu Thành", "huyện Châu Thành", (
        "thị trấn Châu Thành", "xã Tân Thạch", "xã Tân Phú", "xã Tiên Long", "xã Tiên Thủy", "xã Phú Túc",
        "xã Phú Đức", "xã Phú An Hòa", "xã An Phước", "xã An Khánh", "xã An Hóa", "xã Quới Sơn", "xã Quới Thành",
        "xã Giao Long", "xã Giao Hòa", "xã Hữu Định", "xã Sơn Hòa", "xã Tam Phước", "xã Tường Đa",
        "xã Thành Triệu", "xã An Hiệp", "xã Phước Thạnh"), 0.13),
    District(3, "Chợ Lách", "huyện Chợ Lách", (
        "thị trấn Chợ Lách", "xã Long Thới", "xã Hòa Nghĩa", "xã Sơn Định", "xã Vĩnh Bình", "xã Vĩnh Thành",
        "xã Phú Phụng", "xã Phú Sơn", "xã Tân Thiềng", "xã Vĩnh Hòa", "xã Hưng Khánh Trung B"), 0.08),
    District(4, "Mỏ Cày Nam", "huyện Mỏ Cày Nam", (
        "thị trấn Mỏ Cày", "xã Thành Thới A", "xã Thành Thới B", "xã An Thới", "xã An Định", "xã Cẩm Sơn",
        "xã Hương Mỹ", "xã Minh Đức", "xã Ngãi Đăng", "xã Đa Phước Hội", "xã Tân Hội", "xã Định Thủy",
        "xã Phước Hiệp", "xã An Thạnh", "xã Bình Khánh Đông", "xã Bình Khánh Tây"), 0.11, "huyện Mỏ Cày"),
    District(5, "Mỏ Cày Bắc", "huyện Mỏ Cày Bắc", (
        "xã Phước Mỹ Trung", "xã Tân Thành Bình", "xã Thanh Tân", "xã Thạnh Ngãi", "xã Tân Phú Tây", "xã Hòa Lộc",
        "xã Khánh Thạnh Tân", "xã Nhuận Phú Tân", "xã Tân Bình", "xã Thành An", "xã Phú Mỹ",
        "xã Hưng Khánh Trung A", "xã Tân Thanh Tây"), 0.08, "huyện Mỏ Cày"),
    District(6, "Giồng Trôm", "huyện Giồng Trôm", (
        "thị trấn Giồng Trôm", "xã Bình Hòa", "xã Bình Thành", "xã Châu Bình", "xã Châu Hòa", "xã Hưng Lễ",
        "xã Hưng Nhượng", "xã Hưng Phong", "xã Lương Hòa", "xã Lương Phú", "xã Lương Quới", "xã Long Mỹ",
        "xã Mỹ Thạnh", "xã Phong Mỹ", "xã Phong Nẫm", "xã Phước Long", "xã Sơn Phú", "xã Tân Hào",
        "xã Tân Lợi Thạnh", "xã Tân Thanh", "xã Thạnh Phú Đông", "xã Thuận Điền"), 0.13),
    District(7, "Bình Đại", "huyện Bình Đại", (
        "thị trấn Bình Đại", "xã Bình Thắng", "xã Bình Thới", "xã Châu Hưng", "xã Đại Hòa Lộc", "xã Định Trung",
        "xã Lộc Thuận", "xã Long Định", "xã Long Hòa", "xã Phú Long", "xã Phú Thuận", "xã Phú Vang",
        "xã Tam Hiệp", "xã Thạnh Phước", "xã Thạnh Trị", "xã Thới Lai", "xã Thới Thuận", "xã Thừa Đức",
        "xã Vang Quới Đông", "xã Vang Quới Tây"), 0.11),
    District(8, "Ba Tri", "huyện Ba Tri", (
        "thị trấn Ba Tri", "xã An Bình Tây", "xã An Đức", "xã An Hiệp", "xã An Hòa Tây", "xã An Ngãi Tây",
        "xã An Ngãi Trung", "xã An Phú Trung", "xã An Thủy", "xã Bảo Thạnh", "xã Bảo Thuận", "xã Mỹ Chánh",
        "xã Mỹ Hòa", "xã Mỹ Nhơn", "xã Mỹ Thạnh", "xã Phú Lễ", "xã Phú Ngãi", "xã Phước Tuy", "xã Tân Hưng",
        "xã Tân Mỹ", "xã Tân Thủy", "xã Tân Xuân", "xã Vĩnh An", "xã Vĩnh Hòa"), 0.14),
    District(9, "Thạnh Phú", "huyện Thạnh Phú", (
        "thị trấn Thạnh Phú", "xã An Điền", "xã An Nhơn", "xã An Qui", "xã An Thạnh", "xã An Thuận",
        "xã Bình Thạnh", "xã Đại Điền", "xã Giao Thạnh", "xã Hòa Lợi", "xã Mỹ An", "xã Mỹ Hưng", "xã Phú Khánh",
        "xã Quới Điền", "xã Tân Phong", "xã Thạnh Hải", "xã Thạnh Phong", "xã Thới Thạnh"), 0.12),
)

#: Upper-secondary schools under the Department: (name, district number).
THPT_SCHOOLS: tuple[tuple[str, int], ...] = (
    ("Trường THPT Chuyên Bến Tre", 1), ("Trường THPT Nguyễn Đình Chiểu", 1), ("Trường THPT Châu Thành A", 2),
    ("Trường THPT Ca Văn Thỉnh", 4), ("Trường THPT Phan Văn Trị", 6), ("Trường THPT Huỳnh Tấn Phát", 7),
    ("Trường THPT Phan Thanh Giản", 8), ("Trường THPT Đoàn Thị Điểm", 9), ("Trường THPT Trần Văn Kiết", 3),
    ("Trường THPT Lê Anh Xuân", 5), ("Trường THPT Võ Trường Toản", 1), ("Trường THPT Trần Văn Ơn", 2),
    ("Trường THPT Nguyễn Thị Minh Khai", 4), ("Trường THPT Nguyễn Ngọc Thăng", 6), ("Trường THPT Lê Hoàng Chiếu", 7),
    ("Trường THPT Phan Ngọc Tòng", 8), ("Trường THPT Lê Hoài Đôn", 9), ("Trường THPT Chợ Lách A", 3),
    ("Trường THPT Phước Mỹ Trung", 5), ("Trường THPT Lạc Long Quân", 1), ("Trường THPT Diệp Minh Châu", 2),
    ("Trường THPT Che Guevara", 4), ("Trường THPT Nguyễn Trãi", 6), ("Trường THPT Lê Quý Đôn", 7),
    ("Trường THPT Tán Kế", 8), ("Trường THPT Trần Trường Sinh", 9), ("Trường THPT Chợ Lách B", 3),
    ("Trường THPT Nguyễn Thị Định", 5), ("Trường THPT Mạc Đĩnh Chi", 2), ("Trường THPT Mỏ Cày", 4),
    ("Trường THPT Giồng Trôm", 6), ("Trường THPT Sương Nguyệt Anh", 8),
)
GDTX_CENTRES: tuple[tuple[str, int], ...] = (
    ("Trung tâm GDTX Châu Thành", 2), ("Trung tâm GDTX Ba Tri", 8), ("Trung tâm GDTX Giồng Trôm", 6),
    ("Trung tâm GDTX Thạnh Phú", 9), ("Trung tâm GDTX Bình Đại", 7), ("Trung tâm GDTX Mỏ Cày Nam", 4),
)
OTHER_DIRECT_UNITS: tuple[tuple[str, str, str, int], ...] = (
    ("KTHN01", "Trung tâm Kỹ thuật tổng hợp - Hướng nghiệp Bến Tre", "KTTH-HN", 1),
    ("NNTH01", "Trung tâm Ngoại ngữ - Tin học Bến Tre", "NN-TH", 1),
)

LEVEL_PREFIX = {"Mầm non": "MN", "Tiểu học": "TH", "THCS": "THCS"}
LEVEL_SCHOOL_NAME = {"Mầm non": "Trường Mầm non", "Tiểu học": "Trường Tiểu học", "THCS": "Trường THCS"}
#: Schools of each level in the whole province at scale 1 (domain.md estimates).
LEVEL_TOTALS = {"Mầm non": 165, "Tiểu học": 190, "THCS": 130}
#: Mean staff of a unit by cap_hoc.
STAFF_MEAN = {"Mầm non": 18, "Tiểu học": 34, "THCS": 40, "THPT": 92, "GDTX": 28, "KTTH-HN": 30, "NN-TH": 24,
              "Phòng GD&ĐT": 14}
OFFICE_CAP_HOC = "Phòng GD&ĐT"
FULL_SCALE_DIRECT_UNITS = 40

FAMILY_NAMES = (("Nguyễn", 31), ("Trần", 11), ("Lê", 9), ("Phạm", 6), ("Huỳnh", 5), ("Võ", 5), ("Phan", 4),
                ("Trương", 2), ("Bùi", 2), ("Đặng", 2), ("Đỗ", 1.5), ("Ngô", 1.5), ("Hồ", 1.5), ("Dương", 1),
                ("Đoàn", 1), ("Lâm", 1), ("Mai", 0.6), ("Đinh", 0.5), ("Cao", 0.5), ("Lương", 0.5), ("Châu", 0.5),
                ("Thái", 0.4), ("Tạ", 0.3), ("Lý", 0.3), ("Hà", 0.3), ("Kiều", 0.2), ("Tô", 0.2), ("Từ", 0.2))
KHMER_FAMILY = ("Thạch", "Sơn", "Danh", "Kim")
HOA_FAMILY = ("Lâm", "Lý", "Quách", "Trương", "Tăng", "Hứa")
MIDDLE_MALE = (("Văn", 40), ("Minh", 8), ("Thanh", 7), ("Quốc", 6), ("Hoàng", 5), ("Hữu", 6), ("Công", 4),
               ("Đức", 4), ("Thành", 3), ("Tấn", 5), ("Ngọc", 4), ("Trung", 2), ("Phước", 2), ("Hồng", 2),
               ("Chí", 2), ("Xuân", 2))
MIDDLE_FEMALE = (("Thị", 50), ("Ngọc", 8), ("Thanh", 6), ("Kim", 5), ("Thúy", 3), ("Mỹ", 4), ("Hồng", 3),
                 ("Bích", 3), ("Thu", 3), ("Phương", 2), ("Diễm", 2), ("Tuyết", 2), ("Thị Ngọc", 4),
                 ("Thị Kim", 3), ("Thị Thu", 2), ("Thị Mỹ", 2))
GIVEN_MALE = ("Hùng", "Dũng", "Tuấn", "Hải", "Long", "Nam", "Phong", "Thành", "Tâm", "Hiếu", "Trung", "Khoa",
              "Bình", "Minh", "Phúc", "Lộc", "Tài", "Sơn", "Quang", "Thắng", "Vinh", "Hòa", "Tân", "Nghĩa",
              "Toàn", "Đức", "Thiện", "Cường", "Lợi", "Định", "Phát", "Tùng", "Hưng", "Huy", "Khánh", "Kiệt",
              "Nhân", "Quân", "Sang", "Tín", "Trí", "Việt", "Vũ", "Duy", "Bảo", "An", "Đạt", "Hậu", "Lâm",
              "Luân", "Nhựt", "Thuận", "Út", "Ẩn")
GIVEN_FEMALE = ("Lan", "Hoa", "Hương", "Hạnh", "Thảo", "Trang", "Linh", "Mai", "Nga", "Nhung", "Phượng",
                "Thủy", "Tuyết", "Vân", "Yến", "Hằng", "Hiền", "Hồng", "Huệ", "Loan", "Ngân", "Nguyệt", "Oanh",
                "Quyên", "Thanh", "Thu", "Thúy", "Trinh", "Uyên", "Xuân", "Diễm", "Dung", "Hà", "Kiều", "Liên",
                "My", "Nhi", "Ngọc", "Phương", "Tâm", "Thắm", "Thơ", "Tiên", "Trâm", "Vy", "Ánh", "Châu",
                "Đào", "Giang", "Hậu", "Lệ", "Lý", "Mến", "Ẩn", "Út")
#: Provinces of origin outside Bến Tre, with the two-digit CMND code of their police.
OTHER_PROVINCES = (("Tiền Giang", "31"), ("Vĩnh Long", "33"), ("Trà Vinh", "33"), ("Long An", "30"),
                   ("TP Hồ Chí Minh", "02"), ("Hà Nội", "01"), ("Nghệ An", "18"), ("Quảng Ngãi", "21"),
                   ("Hải Phòng", "03"), ("Cần Thơ", "36"))
BEN_TRE_CMND = "32"
BEN_TRE_CCCD = "083"

SUBJECTS_SECONDARY = ("Toán", "Ngữ văn", "Vật lý", "Hóa học", "Sinh học", "Lịch sử", "Địa lý", "Tiếng Anh",
                      "Giáo dục công dân", "Công nghệ", "Thể dục", "Tin học")
SUBJECTS_LOWER_EXTRA = ("Âm nhạc", "Mỹ thuật")
SUBJECTS_PRIMARY = ("Âm nhạc", "Mỹ thuật", "Thể dục", "Tiếng Anh", "Tin học")
SUBJECTS_VOCATIONAL = ("Tin học", "Điện dân dụng", "Nấu ăn", "Cắt may", "Tiếng Anh")
LANGUAGES = ("Tiếng Anh A", "Tiếng Anh B", "Tiếng Anh C", "Tiếng Pháp B", "Tiếng Anh B", "Tiếng Anh A")
NOTES = ("Nghỉ thai sản", "Đang học Đại học từ xa", "Kiêm nhiệm Tổng phụ trách Đội", "Kiêm Chủ tịch Công đoàn",
         "Kiêm Bí thư Chi đoàn", "Đi học bồi dưỡng")

#: Support posts: the grade codes each may hold (the reference grades give their minimum qualification).
SUPPORT_GRADES: dict[str, tuple[str, ...]] = {
    "Kế toán": ("06.031", "06.032"),
    "Văn thư": ("02.008", "01.008"),
    "Thư viện": ("17.170", "17a.170", "17.171"),
    "Y tế": ("16.119", "16b.121"),
    "Nhân viên": ("01.009", "01.011", "01.010"),
    "Chuyên viên": ("01.003",),
    "Trưởng phòng": ("01.003",),
    "Phó trưởng phòng": ("01.003",),
}
SUPPORT_MAJORS = {"Kế toán": "Kế toán", "Văn thư": "Văn thư lưu trữ", "Thư viện": "Thư viện - Thông tin",
                  "Y tế": "Y sĩ đa khoa", "Nhân viên": "Phổ thông", "Chuyên viên": "Quản lý giáo dục",
                  "Trưởng phòng": "Quản lý giáo dục", "Phó trưởng phòng": "Quản lý giáo dục"}
LEADER_POSTS = ("Hiệu trưởng", "Phó hiệu trưởng", "Giám đốc", "Phó giám đốc", "Trưởng phòng", "Phó trưởng phòng")
HEAD_POSTS = ("Hiệu trưởng", "Giám đốc", "Trưởng phòng")

STATUS_WORKING = "Đang làm việc"
STATUS_RETIRED = "Nghỉ hưu"
STATUS_MOVED = "Chuyển công tác"
STATUS_QUIT = "Thôi việc"
STATUS_DIED = "Từ trần"

#: Unknown column that some units add to HoSo.
EXTRA_HEADER = "Số sổ BHXH"
OPTIONAL_DROPPABLE = ("row_no", "ly_luan_ct", "ngoai_ngu", "tin_hoc", "ghi_chu")

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


def _weighted(rng: random.Random, items: Sequence[tuple[str, float]]) -> str:
    return rng.choices([i for i, _ in items], weights=[w for _, w in items])[0]


def add_years(day: date, years: int) -> date:
    """Same day and month ``years`` later (29 February -> 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def age_on(birth: date, on: date) -> int:
    """Completed years of age on ``on``."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)


def random_date(rng: random.Random, low: date, high: date) -> date:
    """A day in [low, high], never the 29th-31st or the 1st (keeps ages off quarter bounds)."""
    if high < low:
        high = low
    for _ in range(50):
        day = date.fromordinal(rng.randint(low.toordinal(), high.toordinal()))
        if 2 <= day.day <= 28:
            return day
    return low


def sub_rng(seed: int, *parts: object) -> random.Random:
    """An independent, reproducible stream for one purpose (str seeds hash with SHA-512)."""
    return random.Random(":".join(str(p) for p in (seed, *parts)))


@cache
def rules() -> dict[str, int]:
    """Validation thresholds of the package's default configuration."""
    with DEFAULT_CONFIG.open("rb") as fh:
        return dict(tomllib.load(fh)["rules"])


#: The contract's deadlines (submission-format.md: Q1 20/04, Q2 15/05, Q3 20/09, Q4 20/12;
#: other years repeat the same day and month), written here, not read from the pipeline.
CONTRACT_DEADLINES = {1: (4, 20), 2: (5, 15), 3: (9, 20), 4: (12, 20)}


def contract_deadline(q: Quarter) -> date:
    month, day = CONTRACT_DEADLINES[q.q]
    return date(q.year, month, day)


@cache
def timezone() -> ZoneInfo:
    with DEFAULT_CONFIG.open("rb") as fh:
        return ZoneInfo(tomllib.load(fh)["calendar"]["timezone"])


@dataclass(frozen=True)
class GradeInfo:
    code: str
    group: reference.SalaryGroup
    min_trinh_do: str | None
    cap_hoc: str | None
    is_teacher: bool

    def coefficient(self, step: int) -> Decimal:
        return self.group.coefficient(step)

    @property
    def raise_months(self) -> int:
        """Months between two steps: 36 for university-level groups (A*), 24 otherwise."""
        return 36 if self.group.name.startswith("A") else 24


@cache
def grade_infos() -> dict[str, GradeInfo]:
    """The reference grades with their salary groups (reference.grade_group)."""
    out: dict[str, GradeInfo] = {}
    for row in reference.grades().iter_rows(named=True):
        out[row["ma_ngach"]] = GradeInfo(
            code=row["ma_ngach"],
            group=reference.grade_group(row["ma_ngach"]),
            min_trinh_do=row["min_trinh_do"] or None,
            cap_hoc=row["cap_hoc"] or None,
            is_teacher=bool(row["is_teacher"]),
        )
    return out


def qual_rank(trinh_do: str) -> int:
    return reference.QUALIFICATION_ORDER.index(trinh_do)


@cache
def catalog_variants(catalog: str) -> dict[str, tuple[str, ...]]:
    """Stored value -> its accepted variants (reference catalogs)."""
    out: dict[str, tuple[str, ...]] = {}
    for row in reference.catalogs().filter(pl.col("catalog") == catalog).iter_rows(named=True):
        out[row["value"]] = tuple(v for v in (row["variants"] or "").split("|") if v)
    return out


def canonical(catalog: str, value: object) -> str | None:
    """Stored form of a catalog value, or None when it is not in the catalog."""
    if not isinstance(value, str):
        return None
    return _canonical(catalog, value)


@cache
def _canonical(catalog: str, value: str) -> str | None:
    return reference.catalog_lookup(catalog).get(value_key(value))


# ---------------------------------------------------------------------------
# Units (the catalog)
# ---------------------------------------------------------------------------

UnitKind = Literal["phong", "truong", "truc_thuoc"]


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: UnitKind
    reporting: str
    cap_hoc: str
    district: District
    commune: str
    staff_target: int

    @property
    def huyen(self) -> str:
        return self.district.name


def _commune_label(commune: str) -> str:
    """``xã Tân Thạch`` -> ``Tân Thạch``; ``phường 3`` -> ``Phường 3``; ``thị trấn Ba Tri`` -> ``Thị trấn Ba Tri``."""
    if commune.startswith("xã "):
        return commune[3:]
    return commune[0].upper() + commune[1:]


def build_units(seed: int, scale: float) -> list[Unit]:
    """District offices with their schools, and the units directly under the Department."""
    rng = sub_rng(seed, "units")
    n_districts = 9 if scale >= 0.5 else max(2, math.ceil(9 * scale * 2))
    chosen = sorted(rng.sample(DISTRICTS, n_districts), key=lambda d: d.no)
    weight_sum = sum(d.weight for d in chosen)
    units: list[Unit] = []

    def size(cap_hoc: str, factor: float = 1.0) -> int:
        return max(8, round(STAFF_MEAN[cap_hoc] * factor * rng.uniform(0.7, 1.3)))

    for d in chosen:
        office = f"PGD{d.no:02d}"
        units.append(Unit(office, f"Phòng GD&ĐT {d.name}", "phong", office, OFFICE_CAP_HOC, d,
                          d.communes[0], size(OFFICE_CAP_HOC)))
        for level, total in LEVEL_TOTALS.items():
            n = max(1, round(total * scale * d.weight / weight_sum))
            communes = list(d.communes)
            rng.shuffle(communes)
            used: Counter[str] = Counter()
            for i in range(n):
                commune = communes[i % len(communes)]
                used[commune] += 1
                base = f"{LEVEL_SCHOOL_NAME[level]} {_commune_label(commune)}"
                k = used[commune]
                if k > 1 or (i + len(communes) < n):  # several schools of a level in one commune: A, B, ...
                    base += " " + ("ABCD"[k - 1] if k <= 4 else f"số {k}")
                code = f"{office}-{LEVEL_PREFIX[level]}{i + 1:03d}"
                units.append(Unit(code, base, "truong", office, level, d, commune, size(level)))
    n_direct = min(FULL_SCALE_DIRECT_UNITS, max(3, round(FULL_SCALE_DIRECT_UNITS * scale)))
    n_thpt = min(len(THPT_SCHOOLS), max(1, round(n_direct * 0.8)))
    n_gdtx = min(len(GDTX_CENTRES), max(1, round(n_direct * 0.15)))
    n_other = max(0, min(len(OTHER_DIRECT_UNITS), n_direct - n_thpt - n_gdtx))
    factor = max(1.0, scale)
    by_no = {d.no: d for d in DISTRICTS}
    for i, (name, dno) in enumerate(THPT_SCHOOLS[:n_thpt], start=1):
        d = by_no[dno]
        units.append(Unit(f"THPT{i:02d}", name, "truc_thuoc", f"THPT{i:02d}", "THPT", d, d.communes[0],
                          size("THPT", factor)))
    for i, (name, dno) in enumerate(GDTX_CENTRES[:n_gdtx], start=1):
        d = by_no[dno]
        units.append(Unit(f"GDTX{i:02d}", name, "truc_thuoc", f"GDTX{i:02d}", "GDTX", d, d.communes[0],
                          size("GDTX", factor)))
    for code, name, cap, dno in OTHER_DIRECT_UNITS[:n_other]:
        d = by_no[dno]
        units.append(Unit(code, name, "truc_thuoc", code, cap, d, d.communes[0], size(cap, factor)))
    return units


def write_units_csv(path: Path, units: Sequence[Unit]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["ma_don_vi", "ten_don_vi", "loai", "ma_don_vi_bao_cao", "cap_hoc", "huyen"])
        for u in units:
            w.writerow([u.code, u.name, u.kind, u.reporting, u.cap_hoc, u.huyen])


# ---------------------------------------------------------------------------
# Persons
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class YearOnly:
    """A birth date typed as a bare year (stored as 1 January, flagged)."""

    year: int

    @property
    def as_date(self) -> date:
        return date(self.year, 1, 1)


@dataclass(frozen=True)
class BadDate:
    """A date cell that is not a date (``31/02/1980``)."""

    text: str


@dataclass
class Person:
    pid: int
    ma_cb: str
    family: str
    middle: str
    given: str
    male: bool
    birth: date
    year_only: bool
    dan_toc: str
    ton_giao: str
    que_quan: str
    id_number: str
    recruit: date
    sector: date
    hinh_thuc: str
    role: str
    mon_day: str | None
    trinh_do: str
    chuyen_nganh: str
    grade: str
    ly_luan_ct: str | None
    ngoai_ngu: str | None
    tin_hoc: str | None
    party_date: date | None
    unit: str
    note: str | None = None
    overage: bool = False  # keeps working past retirement age (a warning every quarter)
    retire_late: bool = False  # announces retirement one quarter late (a warning that quarter)
    implausible_birth: str | None = None  # typed birth date with an impossible year (one-quarter leaver)
    id_defect: str | None = None  # rule its (wrong) identity number breaks, kept from quarter to quarter

    @property
    def ho_ten(self) -> str:
        return f"{self.family} {self.middle} {self.given}"

    @property
    def birth_value(self) -> date | YearOnly:
        return YearOnly(self.birth.year) if self.year_only else self.birth

    def step_at(self, day: date) -> int:
        info = grade_infos()[self.grade]
        return min(info.group.steps, 1 + max(0, months_between(self.recruit, day)) // info.raise_months)


def draw_name(rng: random.Random, male: bool, dan_toc: str = "Kinh") -> tuple[str, str, str]:
    """(family, middle, given) name; Khmer and Hoa families favour their own surnames."""
    if dan_toc == "Khmer" and rng.random() < 0.7:
        family = rng.choice(KHMER_FAMILY)
    elif dan_toc == "Hoa" and rng.random() < 0.7:
        family = rng.choice(HOA_FAMILY)
    else:
        family = _weighted(rng, FAMILY_NAMES)
    middle = _weighted(rng, MIDDLE_MALE if male else MIDDLE_FEMALE)
    given = rng.choice(GIVEN_MALE if male else GIVEN_FEMALE)
    return family, middle, given


class PersonFactory:
    """Draws realistic persons; identity numbers and staff codes are unique."""

    def __init__(self, rng: random.Random, base: date) -> None:
        self.rng = rng
        self.base = base
        self.next_pid = 1
        self.codes = list(range(100_000, 1_000_000))
        rng.shuffle(self.codes)
        self.used_ids: set[str] = set()
        self.units_by_code: dict[str, Unit] = {}

    # -- identity ---------------------------------------------------------
    def _name(self, male: bool, dan_toc: str) -> tuple[str, str, str]:
        return draw_name(self.rng, male, dan_toc)

    def _id_number(self, male: bool, birth: date, province_code: str) -> str:
        rng = self.rng
        while True:
            if rng.random() < 0.07:
                digit = (0 if male else 1) + (2 if birth.year >= 2000 else 0)
                number = f"{BEN_TRE_CCCD}{digit}{birth.year % 100:02d}{rng.randint(0, 999_999):06d}"
            else:
                number = f"{province_code}{rng.randint(0, 9_999_999):07d}"
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def _home(self, unit: Unit, born: date) -> tuple[str, str]:
        """(quê quán, CMND province code)."""
        rng = self.rng
        r = rng.random()
        if r < 0.07:
            province, code = rng.choice(OTHER_PROVINCES)
            return province, code
        d = unit.district if r < 0.65 else rng.choice(DISTRICTS)
        commune = rng.choice(d.communes)
        admin = d.old_admin if d.old_admin and rng.random() < 0.5 else d.admin
        return f"{commune}, {admin}, {PROVINCE}", BEN_TRE_CMND

    # -- career -----------------------------------------------------------
    def _qualification(self, role: str, cap_hoc: str) -> str:
        rng = self.rng
        if role in SUPPORT_GRADES:
            if role == "Nhân viên":
                return rng.choice(("Chưa qua đào tạo", "Chưa qua đào tạo", "Sơ cấp"))
            if role in ("Chuyên viên", "Trưởng phòng", "Phó trưởng phòng"):
                return "Thạc sĩ" if rng.random() < 0.1 else "Đại học"
            return rng.choice(("Trung cấp", "Trung cấp", "Cao đẳng", "Đại học"))
        table = {
            "Mầm non": (("Sơ cấp", 4), ("Trung cấp", 50), ("Cao đẳng", 30), ("Đại học", 16)),
            "Tiểu học": (("Sơ cấp", 2), ("Trung cấp", 35), ("Cao đẳng", 35), ("Đại học", 28)),
            "THCS": (("Trung cấp", 3), ("Cao đẳng", 55), ("Đại học", 42)),
        }.get(cap_hoc, (("Đại học", 88), ("Thạc sĩ", 12)))
        if role in LEADER_POSTS:
            table = tuple((q, w * (3 if qual_rank(q) >= qual_rank("Cao đẳng") else 0.2)) for q, w in table)
        return _weighted(rng, table)

    def _grade(self, role: str, cap_hoc: str, trinh_do: str) -> str:
        """A grade the qualification allows (reference min_trinh_do), matching the level."""
        rng = self.rng
        infos = grade_infos()
        if role in SUPPORT_GRADES:
            codes = [c for c in SUPPORT_GRADES[role]
                     if infos[c].min_trinh_do is None or qual_rank(infos[c].min_trinh_do) <= qual_rank(trinh_do)]
            # the most demanding grade the person qualifies for, sometimes a lower one
            codes.sort(key=lambda c: -qual_rank(infos[c].min_trinh_do) if infos[c].min_trinh_do else 0)
            return codes[0] if rng.random() < 0.8 or len(codes) == 1 else rng.choice(codes[1:])
        level = cap_hoc if cap_hoc in ("Mầm non", "Tiểu học", "THCS") else "THPT"
        teacher = [g for g in infos.values() if g.is_teacher and g.cap_hoc == level]
        standard = [g for g in teacher if g.min_trinh_do is not None
                    and qual_rank(g.min_trinh_do) <= qual_rank(trinh_do)]
        if not standard:  # below the standard: the unverified 15c.* grades
            return next(g.code for g in teacher if g.min_trinh_do is None)
        standard.sort(key=lambda g: (-qual_rank(g.min_trinh_do or "Chưa qua đào tạo"), g.group.step1))
        if level == "THPT":
            # senior grade (A2.2) only for some older staff
            senior = [g for g in standard if g.group.name.startswith("A2")]
            plain = [g for g in standard if not g.group.name.startswith("A2")]
            pick = senior if senior and rng.random() < 0.12 else plain or standard
            return pick[0].code
        return standard[0].code if rng.random() < 0.8 or len(standard) == 1 else rng.choice(standard[1:]).code

    def _subject(self, role: str, cap_hoc: str) -> tuple[str | None, str]:
        """(môn dạy, chuyên ngành) of a teaching post."""
        rng = self.rng
        if cap_hoc == "Mầm non":
            return rng.choice(("Mẫu giáo", "Mẫu giáo", "Nhà trẻ")), rng.choice(("Sư phạm Mầm non", "Giáo dục Mầm non"))
        if cap_hoc == "Tiểu học":
            if rng.random() < 0.75:
                return "Dạy lớp", rng.choice(("Giáo dục Tiểu học", "Sư phạm Tiểu học"))
            subject = rng.choice(SUBJECTS_PRIMARY)
            return subject, f"Sư phạm {subject}"
        if cap_hoc in ("KTTH-HN", "NN-TH"):
            subject = rng.choice(SUBJECTS_VOCATIONAL)
            return subject, subject
        subjects = SUBJECTS_SECONDARY + (SUBJECTS_LOWER_EXTRA if cap_hoc == "THCS" else ())
        subject = rng.choice(subjects)
        return subject, f"Sư phạm {subject}"

    def new_person(self, unit: Unit, role: str, *, age: float | None = None, hire_window: tuple[date, date] | None = None,
                   male: bool | None = None, birth: date | None = None) -> Person:
        """A person of ``unit`` in ``role``; ``hire_window`` for a new hire of the quarter."""
        rng = self.rng
        if male is None:
            female_share = {"Mầm non": 0.97, "Tiểu học": 0.7, "THCS": 0.62, "THPT": 0.55}.get(unit.cap_hoc, 0.45)
            if role in ("Nhân viên",):
                female_share = 0.35
            male = rng.random() >= female_share
        r = rng.random()
        dan_toc = "Kinh" if r < 0.985 else ("Khmer" if r < 0.993 else "Hoa")
        family, middle, given = self._name(male, dan_toc)
        if birth is None:
            if age is None:
                top = 59.6 if male else 54.6
                low = 38 if role in LEADER_POSTS else 21.5
                age = rng.triangular(low, top, 30 if role not in LEADER_POSTS else 46)
            birth = random_date(rng, self.base - timedelta(days=round(age * 365.25) + 180),
                                self.base - timedelta(days=round(age * 365.25)))
        year_only = (self.base.year - 54 <= birth.year <= self.base.year - 44) and rng.random() < 0.12
        if year_only:
            birth = date(birth.year, 1, 1)
        margin = timedelta(days=60)
        adult = add_years(birth, 19 if year_only else 18) + margin
        if hire_window:
            recruit = random_date(rng, max(hire_window[0], adult), hire_window[1])
            sector = recruit
        else:
            latest = self.base - timedelta(days=90)
            start_age = rng.uniform(0, 12) if role not in LEADER_POSTS else rng.uniform(0, 8)
            recruit = random_date(rng, min(latest, adult + timedelta(days=round(start_age * 365))),
                                  min(latest, adult + timedelta(days=round(start_age * 365) + 400)))
            sector = recruit
            if rng.random() < 0.3:  # years on contract before recruitment
                sector = max(adult, recruit - timedelta(days=rng.randint(180, 2000)))
                sector = random_date(rng, sector, sector + timedelta(days=20))
                if sector > recruit:
                    sector = recruit
        dan_toc_typed = dan_toc
        variants = catalog_variants("dan_toc").get(dan_toc, ())
        if variants and dan_toc != "Kinh" and rng.random() < 0.4:
            dan_toc_typed = rng.choice(variants)
        religion = _weighted(rng, (("Không", 75), ("Phật giáo", 12), ("Công giáo", 6), ("Cao Đài", 4),
                                   ("Phật giáo Hòa Hảo", 1.5), ("Tin Lành", 1)))
        rvariants = catalog_variants("ton_giao").get(religion, ())
        if rvariants and rng.random() < 0.15:
            religion = rng.choice(rvariants)
        if religion in ("Phật giáo Hòa Hảo", "Hòa Hảo") and rng.random() < 0.5:
            religion = religion.replace("Hòa", "Hoà")  # tone placement differs, same value
        que_quan, province_code = self._home(unit, birth)
        if role in ("Giáo viên", "Tổ trưởng", "Tổ phó") or role in LEADER_POSTS and role not in SUPPORT_GRADES:
            trinh_do = self._qualification("Giáo viên" if role not in LEADER_POSTS else role, unit.cap_hoc)
            mon_day, major = self._subject(role, unit.cap_hoc)
            if role in LEADER_POSTS and rng.random() < 0.5:
                mon_day = None
        else:
            trinh_do = self._qualification(role, unit.cap_hoc)
            mon_day, major = None, SUPPORT_MAJORS.get(role, "Phổ thông")
        grade = self._grade(role, unit.cap_hoc, trinh_do)
        party_share = 0.9 if role in LEADER_POSTS else (0.3 if role in ("Giáo viên", "Tổ trưởng", "Tổ phó") else 0.15)
        party_date = None
        if not hire_window and rng.random() < party_share:
            low = max(add_years(birth, 19 if year_only else 18) + margin, recruit - timedelta(days=700))
            high = self.base - timedelta(days=60)
            if low < high:
                party_date = random_date(rng, low, high)
        ly_luan = None
        if role in LEADER_POSTS:
            ly_luan = rng.choice(("Trung cấp", "Trung cấp", "Cao cấp", "Sơ cấp"))
        elif party_date and rng.random() < 0.5:
            ly_luan = "Sơ cấp"
        pid = self.next_pid
        self.next_pid += 1
        return Person(
            pid=pid,
            ma_cb=f"BT{self.codes.pop()}",
            family=family, middle=middle, given=given, male=male, birth=birth, year_only=year_only,
            dan_toc=dan_toc_typed, ton_giao=religion, que_quan=que_quan,
            id_number=self._id_number(male, birth, province_code),
            recruit=recruit, sector=sector,
            hinh_thuc="Hợp đồng" if (hire_window and rng.random() < 0.5) or rng.random() < 0.08 else "Biên chế",
            role=role, mon_day=mon_day, trinh_do=trinh_do, chuyen_nganh=major, grade=grade,
            ly_luan_ct=ly_luan,
            ngoai_ngu=rng.choice(LANGUAGES) if rng.random() < 0.45 else None,
            tin_hoc=rng.choice(("A", "A", "B", "C")) if rng.random() < 0.55 else None,
            party_date=party_date, unit=unit.code,
            note=rng.choice(NOTES) if rng.random() < 0.03 else None,
        )


def staff_roles(unit: Unit, rng: random.Random) -> list[str]:
    """Positions of a unit's staff, leaders first."""
    n = unit.staff_target
    if unit.kind == "phong":
        roles = ["Trưởng phòng", "Phó trưởng phòng", "Phó trưởng phòng", "Kế toán", "Văn thư", "Nhân viên"]
        return roles + ["Chuyên viên"] * max(1, n - len(roles))
    if unit.cap_hoc in ("GDTX", "KTTH-HN", "NN-TH"):
        roles = ["Giám đốc", "Phó giám đốc", "Tổ trưởng", "Tổ trưởng", "Kế toán", "Văn thư", "Nhân viên"]
        if n > 30:
            roles.append("Phó giám đốc")
    else:
        heads = {"Mầm non": 2, "Tiểu học": 4, "THCS": 5, "THPT": 7}[unit.cap_hoc]
        roles = ["Hiệu trưởng"] + ["Phó hiệu trưởng"] * (2 if n > 20 else 1) + ["Tổ trưởng"] * heads
        roles += ["Tổ phó"] * (heads // 2 if unit.cap_hoc in ("THCS", "THPT") else 0)
        roles += ["Kế toán", "Văn thư"] if n > 12 else ["Kế toán"]
        if unit.cap_hoc != "Mầm non":
            roles.append("Thư viện")
        if rng.random() < 0.5:
            roles.append("Y tế")
        roles += ["Nhân viên"] * rng.randint(1, 3)
    return roles + ["Giáo viên"] * max(2, n - len(roles))


ROLE_ORDER = {r: i for i, r in enumerate(
    ("Trưởng phòng", "Phó trưởng phòng", "Hiệu trưởng", "Giám đốc", "Phó hiệu trưởng", "Phó giám đốc", "Chuyên viên",
     "Tổ trưởng", "Tổ phó", "Giáo viên", "Kế toán", "Văn thư", "Thư viện", "Y tế", "Nhân viên"))}


# ---------------------------------------------------------------------------
# Records: typed values, defects, the state of a quarter
# ---------------------------------------------------------------------------

Severity = Literal["error", "warning"]
RULE_SEVERITY: dict[str, Severity] = {
    "required": "error", "not_in_catalog": "error", "invalid_value": "error", "date_after_quarter": "error",
    "birth_year_implausible": "error", "recruited_under_18": "error", "sector_entry_under_18": "error",
    "party_entry_under_18": "error", "past_retirement_age": "warning", "id_number_format": "error",
    "cccd_mismatch": "error", "step_out_of_range": "error", "coefficient_mismatch": "error",
    "qualification_below_grade": "error", "unit_unknown": "error", "unit_other_reporting_unit": "error",
    "duplicate_ma_cb": "error", "duplicate_across_units": "error", "lost_record": "error",
    "identity_drift": "warning", "year_only_date": "warning", "photo_missing": "warning",
}
#: The contract's default rules for the ranking and the payments ("Default rules" in
#: reference-and-warehouse.md, the defaults of default_config.toml), written here as
#: plain numbers so that the truth never reads them from the pipeline.
SCORE_WEIGHTS = {"timeliness": Decimal("0.4"), "completeness": Decimal("0.3"), "accuracy": Decimal("0.3")}
PENALTY_PER_DAY_LATE = 5
PAYMENT_RATES_VND: dict[str, tuple[tuple[str, int], ...]] = {
    "phong": (("nhap_lieu", 1000), ("tong_hop_kiem_tra", 1000)),
    "truc_thuoc": (("nhap_lieu", 1000),),
    "so": (("tong_hop_phong", 1000), ("tong_hop_truc_thuoc", 2000)),  # records of district offices, of direct units
}
SO_PAYEE = "SO"
CENT = Decimal("0.01")
#: Implausible record counts hold a unit's payment (README's extension, default_config.toml [plausibility]).
PLAUSIBILITY = {"max_growth_pct": 50, "min_growth_records": 30, "max_records_per_school": 250}

#: Issues that are not defects of the data (a bare year is what the person knows; a
#: missing photo is measured by coverage): in ``issues.csv``, not in ``defects.csv``.
NOT_DEFECTS = frozenset({"year_only_date", "photo_missing"})


@dataclass
class Record:
    """One HoSo row: typed values by schema key (what the pipeline should read)."""

    pid: int
    values: dict[str, object]
    intended: set[tuple[str, str]] = field(default_factory=set)  # injected (field, rule)
    photo: str | None = None  # photo entry planned in a zip ("anh/BT123456.jpg") or None
    anh_cell: str | None = None  # what the Ảnh cell holds once rendered (the entry, its file name, or nothing)

    @property
    def ma_cb(self) -> str:
        return str(self.values["ma_cb"])

    @property
    def ma_don_vi(self) -> str:
        return str(self.values["ma_don_vi"])


def base_record(p: Person, q: Quarter, status: str, unit_code: str) -> Record:
    """The clean record of ``p`` in quarter ``q``."""
    step = p.step_at(q.end)
    info = grade_infos()[p.grade]
    values: dict[str, object] = {
        "row_no": None,
        "ma_cb": p.ma_cb,
        "ma_don_vi": unit_code,
        "ho_ten": p.ho_ten,
        "ngay_sinh": BadDate(p.implausible_birth) if p.implausible_birth else p.birth_value,
        "gioi_tinh": "Nam" if p.male else "Nữ",
        "dan_toc": p.dan_toc,
        "ton_giao": p.ton_giao,
        "que_quan": p.que_quan,
        "so_cmnd": p.id_number,
        "ngay_tuyen_dung": p.recruit,
        "ngay_vao_nganh": p.sector,
        "hinh_thuc": p.hinh_thuc,
        "chuc_vu": p.role,
        "ma_ngach": p.grade,
        "bac_luong": step,
        "he_so_luong": info.coefficient(step),
        "trinh_do": p.trinh_do,
        "chuyen_nganh": p.chuyen_nganh,
        "mon_day": p.mon_day,
        "ly_luan_ct": p.ly_luan_ct,
        "ngoai_ngu": p.ngoai_ngu,
        "tin_hoc": p.tin_hoc,
        "dang_vien": "Có" if p.party_date else "Không",
        "ngay_vao_dang": p.party_date,
        "tinh_trang": status,
        "anh": None,
        "ghi_chu": p.note,
    }
    rec = Record(p.pid, values)
    if p.id_defect:
        rec.intended.add(("so_cmnd", p.id_defect))
    return rec


def typed_date(value: object) -> date | None | BadDate:
    """How the pipeline reads a date value: a date, nothing, or an invalid date."""
    if value is None:
        return None
    if isinstance(value, YearOnly):
        return value.as_date
    if isinstance(value, BadDate):
        # implausible years are still dates
        m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value.text)
        if m:
            try:
                return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
            except ValueError:
                return value
        return value
    assert isinstance(value, date)
    return value


# ---------------------------------------------------------------------------
# Defect injection (record level)
# ---------------------------------------------------------------------------

REQUIRED_BLANKABLE = ("dan_toc", "ton_giao", "que_quan", "so_cmnd", "ngay_vao_nganh", "hinh_thuc", "chuyen_nganh")
NOT_IN_CATALOG = {
    "dan_toc": ("Kinhh", "Kin", "Kinh tế", "Việt Nam"),
    "ton_giao": ("Đạo Phật", "Phat giao", "Thiên chúa giáo La", "Không tôn"),
    "hinh_thuc": ("Biên chê", "Hợp đòng", "Công chức"),
    "ly_luan_ct": ("Trung cap", "Sơ cấp chính trị"),
    "tin_hoc": ("D", "Tin học văn phòng"),
}
BAD_DATES = ("31/02/1980", "30/02/1985", "31/04/1990", "00/05/1988", "15/13/1987", "32/01/1992", "29/02/1983")

RECORD_DEFECTS: tuple[tuple[str, float], ...] = (
    ("required", 22), ("not_in_catalog", 14), ("invalid_value", 8), ("date_after_quarter", 5),
    ("recruited_under_18", 4), ("sector_entry_under_18", 4), ("party_entry_under_18", 3),
    ("id_number_format", 7), ("cccd_mismatch", 3), ("step_out_of_range", 3), ("coefficient_mismatch", 10),
    ("qualification_below_grade", 5), ("unit_unknown", 3), ("unit_other_reporting_unit", 2),
    ("duplicate_ma_cb", 1.5),
)
#: Rules whose defect is built from the person's birth date.
AGE_RULES = ("recruited_under_18", "sector_entry_under_18", "party_entry_under_18", "cccd_mismatch")
#: Rules that change ma_don_vi (only in the version of a school that stands).
UNIT_CODE_DEFECTS = ("unit_unknown", "unit_other_reporting_unit")


@dataclass
class DefectContext:
    quarter: Quarter
    reporting_unit: str
    foreign_schools: Sequence[str]  # catalog codes of other reporting units
    unknown_code: Callable[[str], str]  # a fresh code the catalog lacks, near a given one
    used_codes: set[str]  # odd unit codes already written this quarter (each key (unit, school) once)
    dropped: tuple[str, ...] = ()  # optional columns the file leaves out
    first_appearance: Callable[[Person], bool] = lambda p: False  # no resolved record of the person yet


def _set(rec: Record, key: str, value: object, rule: str) -> None:
    """Write a defective value; it replaces any planned defect of the same field."""
    rec.values[key] = value
    rec.intended = {(f, r) for f, r in rec.intended if f != key}
    rec.intended.add((key, rule))


def inject_defect(rec: Record, p: Person, rule: str, ctx: DefectContext, rng: random.Random) -> bool:
    """Change ``rec`` so that it breaks ``rule``; False when the rule does not fit the record.

    Identity numbers are part of a person's identity: a wrong one is typed at
    the person's first appearance and kept in every later quarter (so that
    comparing quarters finds no change), hence set on ``p`` too.
    """
    v = rec.values
    q = ctx.quarter
    birth = p.birth if not p.year_only else date(p.birth.year, 1, 1)
    if p.implausible_birth and rule in AGE_RULES:
        return False  # the typed birth year is already wrong: age rules would read it, not the real one
    if rule == "required":
        options = [k for k in REQUIRED_BLANKABLE if k != "so_cmnd" or not p.id_defect]
        if v["chuc_vu"] in schema.TEACHING_POSTS:
            options += ["mon_day"] * 3
        if v["dang_vien"] == schema.PARTY_MEMBER:
            options += ["ngay_vao_dang"] * 2
        key = rng.choice(options)
        _set(rec, key, None if rng.random() < 0.8 else "  ", rule)
    elif rule == "not_in_catalog":
        keys = [k for k in NOT_IN_CATALOG if k not in ctx.dropped]
        key = rng.choice(keys)
        if key in ("ly_luan_ct", "tin_hoc") and v[key] is None and rng.random() < 0.5:
            key = "dan_toc"
        _set(rec, key, rng.choice(NOT_IN_CATALOG[key]), rule)
    elif rule == "invalid_value":
        keys = ["ngay_tuyen_dung", "ngay_vao_nganh"] + (["ngay_vao_dang"] if v["ngay_vao_dang"] else [])
        _set(rec, rng.choice(keys), BadDate(rng.choice(BAD_DATES)), rule)
    elif rule == "date_after_quarter":
        key = rng.choice(["ngay_tuyen_dung"] + (["ngay_vao_dang"] if v["ngay_vao_dang"] else []))
        _set(rec, key, random_date(rng, q.end + timedelta(days=20), q.end + timedelta(days=700)), rule)
    elif rule in ("recruited_under_18", "sector_entry_under_18", "party_entry_under_18"):
        key = {"recruited_under_18": "ngay_tuyen_dung", "sector_entry_under_18": "ngay_vao_nganh",
               "party_entry_under_18": "ngay_vao_dang"}[rule]
        if p.year_only or (key == "ngay_vao_dang" and not v["ngay_vao_dang"]):
            return False
        # clearly under age, so that year arithmetic agrees: 15-16 years old
        low, high = add_years(birth, 15) + timedelta(days=10), add_years(birth, 16) + timedelta(days=150)
        if high > q.end:
            return False
        _set(rec, key, random_date(rng, low, high), rule)
    elif rule in ("id_number_format", "cccd_mismatch"):
        if p.id_defect or not ctx.first_appearance(p):
            return False
        if rule == "id_number_format":
            digits = p.id_number
            r = rng.random()
            if r < 0.4:
                wrong = digits[:9] + str(rng.randint(0, 9))  # 10 digits
            elif r < 0.8:
                wrong = digits[:9] + f"{rng.randint(0, 9999):04d}"  # 13 digits
            else:
                wrong = digits[:6]  # 6 digits
        else:
            digit = (0 if p.male else 1) + (2 if birth.year >= 2000 else 0)
            yy = birth.year % 100
            if rng.random() < 0.5:
                digit = digit ^ 1  # the other sex
            else:
                yy = (yy + rng.choice((1, 2, 10, -1))) % 100
            wrong = f"{BEN_TRE_CCCD}{digit}{yy:02d}{rng.randint(0, 999_999):06d}"
        p.id_number, p.id_defect = wrong, rule
        _set(rec, "so_cmnd", wrong, rule)
    elif rule == "step_out_of_range":
        info = grade_infos()[p.grade]
        _set(rec, "bac_luong", info.group.steps + rng.randint(1, 2), rule)
        v["he_so_luong"] = info.coefficient(info.group.steps)  # the top step's coefficient, as clerks did
    elif rule == "coefficient_mismatch":
        info = grade_infos()[p.grade]
        step = int(v["bac_luong"])  # type: ignore[arg-type]
        right = info.coefficient(step)
        if rng.random() < 0.5 and step < info.group.steps:
            wrong = info.coefficient(step + 1)  # raised the coefficient but not the step
        else:
            text = f"{right:.2f}"
            swapped = text[:-2] + text[-1] + text[-2]  # 2.34 -> 2.43
            wrong = Decimal(swapped) if swapped != text else right + Decimal("0.01")
        _set(rec, "he_so_luong", wrong, rule)
    elif rule == "qualification_below_grade":
        info = grade_infos()[p.grade]
        if info.min_trinh_do is None or qual_rank(info.min_trinh_do) == 0:
            return False
        _set(rec, "trinh_do", reference.QUALIFICATION_ORDER[qual_rank(info.min_trinh_do) - 1], rule)
    elif rule == "unit_unknown":
        _set(rec, "ma_don_vi", ctx.unknown_code(str(v["ma_don_vi"])), rule)
    elif rule == "unit_other_reporting_unit":
        free = [c for c in ctx.foreign_schools if c not in ctx.used_codes]
        if not free:
            return False
        code = rng.choice(free)
        ctx.used_codes.add(code)
        _set(rec, "ma_don_vi", code, rule)
    else:
        raise ValueError(rule)
    return True


# ---------------------------------------------------------------------------
# Legacy fonts, written by the demo itself
# ---------------------------------------------------------------------------
# The demo never asks the code under test (pmis_pipeline.legacy) how to encode
# or what it would decode: its own tables are written out here, from the
# published TCVN 5712:1993 (VN3) and VNI Windows tables, as the characters a
# legacy file shows when read as Unicode (cp1252 view).

# TCVN3, per vowel: grave, hook, tilde, acute, dot; the bare hatted letters; đ; the seven capitals.
_TCVN3_ROWS = {
    "àảãáạ": "µ¶·¸¹", "ằẳẵắặ": "»¼½¾Æ", "ầẩẫấậ": "ÇÈÉÊË", "èẻẽéẹ": "ÌÎÏÐÑ", "ềểễếệ": "ÒÓÔÕÖ",
    "ìỉĩíị": "×ØÜÝÞ", "òỏõóọ": "ßáâãä", "ồổỗốộ": "åæçèé", "ờởỡớợ": "êëìíî", "ùủũúụ": "ïñòóô",
    "ừửữứự": "õö÷øù", "ỳỷỹýỵ": "úûüýþ", "ăâêôơưđ": "¨©ª«¬\u00ad®", "ĂÂÊÔƠƯĐ": "¡¢£¤¥¦§",
}  # fmt: skip
# VNI: per vowel, the bare letter then grave, hook, tilde, acute, dot.
_VNI_ROWS = {
    "aàảãáạ": ("a", "aø", "aû", "aõ", "aù", "aï"), "ăằẳẵắặ": ("aê", "aè", "aú", "aü", "aé", "aë"),
    "âầẩẫấậ": ("aâ", "aà", "aå", "aã", "aá", "aä"), "eèẻẽéẹ": ("e", "eø", "eû", "eõ", "eù", "eï"),
    "êềểễếệ": ("eâ", "eà", "eå", "eã", "eá", "eä"), "iìỉĩíị": ("i", "ì", "æ", "ó", "í", "ò"),
    "oòỏõóọ": ("o", "oø", "oû", "oõ", "où", "oï"), "ôồổỗốộ": ("oâ", "oà", "oå", "oã", "oá", "oä"),
    "ơờởỡớợ": ("ô", "ôø", "ôû", "ôõ", "ôù", "ôï"), "uùủũúụ": ("u", "uø", "uû", "uõ", "uù", "uï"),
    "ưừửữứự": ("ö", "öø", "öû", "öõ", "öù", "öï"), "yỳỷỹýỵ": ("y", "yø", "yû", "yõ", "yù", "î"), "đ": ("ñ",),
}  # fmt: skip


def _demo_tables() -> tuple[dict[str, str], dict[str, str]]:
    tcvn3: dict[str, str] = {}
    for letters, codes in _TCVN3_ROWS.items():
        tcvn3.update(zip(letters, codes, strict=True))
    for letter in list(tcvn3):
        # toned capitals: TCVN3 has none; the capitals-only fonts used the lowercase code
        tcvn3.setdefault(letter.upper(), tcvn3[letter])
    vni: dict[str, str] = {}
    for letters, codes in _VNI_ROWS.items():
        for letter, code in zip(letters, codes, strict=True):
            if not letter.isascii():
                vni[letter] = code
                vni[letter.upper()] = code.upper()
    return tcvn3, vni


_DEMO_TCVN3, _DEMO_VNI = _demo_tables()
#: The letters of Vietnamese (ASCII and the 134 others): a legacy cell holding any
#: other character of Latin-1 cannot be Vietnamese Unicode.
_VIETNAMESE_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") | frozenset(_DEMO_VNI)


def encode_tcvn3(text: str) -> str:
    """Unicode -> TCVN3 as a legacy file shows it (the demo's own table)."""
    return "".join(_DEMO_TCVN3.get(ch, ch) for ch in nfc(text))


def encode_vni(text: str) -> str:
    """Unicode -> VNI Windows as a legacy file shows it (the demo's own table)."""
    return "".join(_DEMO_VNI.get(ch, ch) for ch in nfc(text))


def unmistakably_legacy(encoded: str) -> bool:
    """The generator's own rule for a pasted cell the pipeline must decode: it
    holds a character that is neither ASCII nor a Vietnamese letter (the
    contract: "decode a single cell only where its characters leave no doubt")."""
    return any(not ch.isascii() and ch not in _VIETNAMESE_ALPHABET for ch in encoded)


# ---------------------------------------------------------------------------
# Files: plan and style
# ---------------------------------------------------------------------------

TextEncoding = Literal["nfc", "nfd", "tcvn3", "vni"]


@dataclass
class FileStyle:
    """How a unit's clerk typed a workbook."""

    fmt: Literal["xls", "xlsx"] = "xls"
    zipped: bool = False
    encoding: TextEncoding = "nfc"
    header_mode: Literal["standard", "plain", "upper", "alias"] = "standard"
    shuffle_columns: bool = False
    dropped: tuple[str, ...] = ()
    extra_column: bool = False
    title_row: bool = False
    date_mode: Literal["excel", "text", "mixed"] = "excel"
    caps_names: bool = False
    numeric_ids: float = 0.0  # share of identity numbers typed as numbers
    decimal_comma: bool = False
    label_mode: Literal["standard", "plain", "upper", "alias"] = "standard"
    quarter_form: int = 0
    pasted_legacy: Literal["", "tcvn3", "vni"] = ""  # names pasted from old documents in this font
    with_units_sheet: bool = False


FileKind = Literal["normal", "draft", "duplicate", "reject"]


@dataclass
class FilePlan:
    quarter: Quarter
    name: str
    reporting_unit: str  # the unit that sends it ("" when unreadable)
    declared_unit: str  # what its ThongTin says
    schools: tuple[str, ...]  # schools (unit codes) it covers
    received: datetime
    style: FileStyle
    kind: FileKind = "normal"
    reject_reason: str = ""
    duplicate_of: str | None = None
    declared_quarter: Quarter | None = None
    note: str = ""
    in_receipts: bool = True
    final_schools: frozenset[str] = frozenset()  # schools whose version stands (no later file covers them)
    records: list[Record] = field(default_factory=list)
    photos: dict[str, bytes] = field(default_factory=dict)  # zip entry -> bytes
    units_rows: list[tuple[str, str, str, str]] = field(default_factory=list)  # DonVi sheet
    catalog_review: list[dict[str, str]] = field(default_factory=list)
    data: bytes = b""
    status: str = ""  # accepted / superseded / rejected, once resolved


# ---------------------------------------------------------------------------
# Cell rendering
# ---------------------------------------------------------------------------

DATE_TEXT_FORMATS = (("%d/%m/%Y", 60), ("dmy", 20), ("%d-%m-%Y", 10), ("%d.%m.%Y", 10))
ROMAN = ("I", "II", "III", "IV")


def quarter_text(q: Quarter, form: int) -> str:
    forms = (f"{q.year}-Q{q.q}", f"Q{q.q}/{q.year}", f"{q.q}/{q.year}", f"Quý {q.q} năm {q.year}",
             f"Quý {ROMAN[q.q - 1]}/{q.year}", f"quý {q.q} năm {q.year}")
    return forms[form % len(forms)]


def date_text(day: date, rng: random.Random) -> str:
    fmt = _weighted(rng, DATE_TEXT_FORMATS)
    if fmt == "dmy":
        return f"{day.day}/{day.month}/{day.year}"
    return day.strftime(fmt)


class CellRenderer:
    """Typed values -> cells as typed in 2009, for one file's style."""

    def __init__(self, style: FileStyle, rng: random.Random) -> None:
        self.style = style
        self.rng = rng
        enc = style.encoding
        self.encode: Callable[[str], str] = {
            "nfc": nfc,
            "nfd": lambda s: unicodedata.normalize("NFD", s),
            "tcvn3": encode_tcvn3,
            "vni": encode_vni,
        }[enc]

    def text(self, value: str) -> str:
        return self.encode(value)

    def date(self, value: object) -> object:
        rng = self.rng
        if value is None:
            return None
        if isinstance(value, str):  # whitespace-only blank
            return value
        if isinstance(value, BadDate):
            return value.text
        if isinstance(value, YearOnly):
            return float(value.year) if rng.random() < 0.7 else str(value.year)
        assert isinstance(value, date)
        mode = self.style.date_mode
        if mode == "excel" or (mode == "mixed" and rng.random() < 0.5):
            return value
        return date_text(value, rng)

    def cell(self, key: str, value: object) -> object:
        """The cell for schema key ``key``."""
        rng = self.rng
        kind = schema.FIELD_BY_KEY[key].kind
        if value is None:
            return None
        if kind == "date":
            return self.date(value)
        if isinstance(value, str) and not value.strip():
            return value  # whitespace only: a blank
        if key == "so_cmnd":
            text = str(value)
            if text.isdigit() and len(text) in (9, 12) and rng.random() < self.style.numeric_ids:
                return float(int(text))
            r = rng.random()
            if r < 0.05:
                return "'" + text
            if r < 0.08:
                return f" {text} "
            return text
        if key == "he_so_luong":
            assert isinstance(value, Decimal)
            if self.style.decimal_comma:
                return f"{value:.2f}".replace(".", ",")
            return float(value) if rng.random() < 0.9 else f"{value:.2f}"
        if key in ("bac_luong", "row_no"):
            return float(value) if rng.random() < 0.92 else str(value)  # type: ignore[arg-type]
        if kind == "code" or kind == "grade":
            return str(value)
        text = str(value)
        if key == "ho_ten":
            if self.style.caps_names:
                text = text.upper()
            r = rng.random()
            if r < 0.02:
                text = "  " + text
            elif r < 0.04:
                text = text.replace(" ", "  ", 1)
            elif r < 0.06:
                text = text + " "
        elif rng.random() < 0.01:
            text = text + " "
        return self.text(text)


def header_text(key: str, mode: str, rng: random.Random) -> str:
    f = schema.FIELD_BY_KEY[key]
    text = f.header
    if mode == "alias" and f.aliases and rng.random() < 0.6:
        text = rng.choice(f.aliases)
    elif mode == "plain":
        text = strip_diacritics(text)
    elif mode == "upper":
        text = text.upper()
    return text


def label_text(label: schema.Label, mode: str, rng: random.Random) -> str:
    text = label.label
    if mode == "alias" and label.aliases:
        text = rng.choice(label.aliases)
    elif mode == "plain":
        text = strip_diacritics(text)
    elif mode == "upper":
        text = text.upper()
    return text


# ---------------------------------------------------------------------------
# Workbook writers (deterministic bytes)
# ---------------------------------------------------------------------------

Rows = list[list[object]]


@dataclass
class SheetData:
    name: str
    rows: Rows


def _xls_bytes(sheets: Sequence[SheetData], legacy_font: str | None) -> bytes:
    wb = xlwt.Workbook(encoding="utf-8")
    font = f"font: name {legacy_font}; " if legacy_font else ""
    text_style = xlwt.easyxf(font) if legacy_font else xlwt.easyxf("")
    date_style = xlwt.easyxf(font, num_format_str="DD/MM/YYYY")
    for sheet in sheets:
        ws = wb.add_sheet(sheet.name)
        for r, values in enumerate(sheet.rows):
            row = ws.row(r)
            for c, v in enumerate(values):
                if v is None:
                    continue
                if isinstance(v, date):
                    row.write(c, v, date_style)
                else:
                    row.write(c, v, text_style)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _deterministic_zip(data: bytes, when: tuple[int, int, int, int, int, int], stamp: str) -> bytes:
    """Rewrite an .xlsx package with fixed entry times and document dates."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            payload = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                payload = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)",
                                 rb"\g<1>" + stamp.encode() + rb"\g<3>", payload)
            zi = zipfile.ZipInfo(info.filename, date_time=when)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, payload)
    return out.getvalue()


def _xlsx_bytes(sheets: Sequence[SheetData], legacy_font: str | None, when: datetime) -> bytes:
    wb = openpyxl.Workbook(write_only=True)
    font = Font(name=legacy_font) if legacy_font else None
    for sheet in sheets:
        ws = wb.create_sheet(sheet.name)
        for values in sheet.rows:
            if font is None:
                ws.append(values)
                continue
            cells = []
            for v in values:
                cell = WriteOnlyCell(ws, value=v)
                if isinstance(v, str):
                    cell.font = font
                cells.append(cell)
            ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return _deterministic_zip(buf.getvalue(), when.timetuple()[:6], when.strftime("%Y-%m-%dT%H:%M:%SZ"))


def workbook_bytes(fmt: str, sheets: Sequence[SheetData], legacy_font: str | None, when: datetime) -> bytes:
    if fmt == "xls":
        return _xls_bytes(sheets, legacy_font)
    return _xlsx_bytes(sheets, legacy_font, when)


def zip_bytes(entries: Sequence[tuple[str, bytes]], when: datetime) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, payload in entries:
            zi = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zf.writestr(zi, payload)
    return out.getvalue()


def photo_bytes(rng: random.Random, kind: Literal["jpg", "png"]) -> bytes:
    """A small real portrait-shaped image (4x6 ratio)."""
    bg = tuple(rng.randint(150, 255) for _ in range(3))
    face = tuple(rng.randint(120, 230) for _ in range(3))
    img = Image.new("RGB", (32, 48), bg)  # type: ignore[arg-type]
    draw = ImageDraw.Draw(img)
    draw.ellipse((8, 6, 24, 26), fill=face)  # type: ignore[arg-type]
    draw.rectangle((4, 30, 28, 48), fill=tuple(rng.randint(0, 120) for _ in range(3)))  # type: ignore[arg-type]
    buf = io.BytesIO()
    if kind == "png":
        img.save(buf, format="PNG", optimize=False)
    else:
        img.save(buf, format="JPEG", quality=70)
    return buf.getvalue()


def broken_photo(rng: random.Random) -> bytes:
    """Bytes named like a photo that no image library opens."""
    if rng.random() < 0.5:
        return b"\x00" + rng.randbytes(300)
    return "Không có ảnh - ảnh sẽ bổ sung sau".encode("utf-8")


# ---------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSummary:
    quarters: list[str]
    n_units: int
    n_reporting_units: int
    n_persons: int
    n_files: int
    n_records: int
    truth_dir: Path


@dataclass
class StaffRow:
    """A resolved record of the truth."""

    quarter: str
    reporting_unit: str
    file: FilePlan
    record: Record
    has_photo: bool = False
    issues: list[Defect] = field(default_factory=list)  # every issue of this row (lost records excepted)

    @property
    def has_error(self) -> bool:
        return any(d.severity == "error" for d in self.issues)


@dataclass
class Defect:
    quarter: str
    reporting_unit: str
    ma_don_vi: str
    ma_cb: str
    field: str
    rule: str
    note: str = ""
    severity_override: Severity | None = None

    @property
    def severity(self) -> Severity:
        return self.severity_override or RULE_SEVERITY[self.rule]


class DemoProvince:
    """State and steps of one generation (see the module docstring)."""

    DEFECT_RATE = 0.03
    DRAFT_DEFECT_RATE = 0.06

    def __init__(self, data_dir: Path, scale: float, seed: int, quarters: Sequence[str], progress: Progress) -> None:
        if scale <= 0:
            raise ValueError("scale must be positive")
        self.data_dir = data_dir
        self.scale = scale
        self.seed = seed
        self.quarters = sorted(Quarter.parse_key(q) for q in dict.fromkeys(quarters))
        if not self.quarters:
            raise ValueError("at least one quarter is needed")
        self.say = progress
        self.units = build_units(seed, scale)
        self.unit_by_code = {u.code: u for u in self.units}
        self.reporting_units = [u for u in self.units if u.kind != "truong"]
        self.schools_of: dict[str, list[str]] = defaultdict(list)  # reporting unit -> its units (itself first)
        for u in self.units:
            self.schools_of[u.reporting].append(u.code)
        self.rng = sub_rng(seed, "people")
        self.factory = PersonFactory(self.rng, self.quarters[0].start)
        self.persons: dict[int, Person] = {}
        self.roster: dict[str, list[int]] = defaultdict(list)  # unit code -> pids
        self.departing: set[int] = set()  # announced a departure: gone next quarter
        self.photos_valid: dict[str, str] = {}  # ma_cb -> quarter of its first valid photo
        self.ever_seen: set[int] = set()
        self.previous_rows: list[StaffRow] = []
        self.previous_submitted: set[str] = set()
        self.files: list[FilePlan] = []
        self.staff: list[StaffRow] = []
        self.defects: list[Defect] = []
        self.unit_summary: list[dict[str, object]] = []
        self.compliance: list[dict[str, object]] = []  # expected unit_compliance rows
        self.payments: list[dict[str, object]] = []  # expected payment lines
        self.paid_in_year: dict[int, set[str]] = defaultdict(set)  # year -> staff codes already paid
        self.holds: list[dict[str, object]] = []  # expected payment_holds rows
        self.catalog_review: list[dict[str, str]] = []
        self.tz = timezone()
        self.silent = self._plan_silent_units()
        self._evil_pending = True  # one zip of the run carries ../evil.txt and an entry outside anh/
        self._odd_codes: set[str] = set()  # unit codes outside the catalog written this quarter

    # -- population -------------------------------------------------------
    def populate(self) -> None:
        rng = self.rng
        for unit in self.units:
            for role in staff_roles(unit, rng):
                self._add(self.factory.new_person(unit, role))
        # a few keep working past retirement age (a warning each quarter)
        n_over = max(1, round(len(self.persons) * 0.0015))
        candidates = [p for p in self.persons.values() if p.role in ("Giáo viên", "Nhân viên", "Kế toán")]
        for p in rng.sample(candidates, min(n_over, len(candidates))):
            years = rng.randint(1, 3)
            limit = rules()["retirement_age_male" if p.male else "retirement_age_female"]
            birth = random_date(rng, add_years(self.quarters[0].start, -(limit + years)),
                                add_years(self.quarters[0].start, -(limit + years)) + timedelta(days=300))
            self._rebirth(p, birth)
            p.overage = True

    def _rebirth(self, p: Person, birth: date) -> None:
        """Move a person's birth date, keeping every age rule of the clean record."""
        p.birth, p.year_only = birth, False
        adult = add_years(birth, 18) + timedelta(days=60)
        p.recruit = max(p.recruit, adult)
        p.sector = max(min(p.sector, p.recruit), adult)
        if p.party_date:
            p.party_date = max(p.party_date, adult)
            if p.party_date >= self.quarters[0].start:
                p.party_date = None
        if len(p.id_number) == 12:
            digit = (0 if p.male else 1) + (2 if birth.year >= 2000 else 0)
            p.id_number = f"{p.id_number[:3]}{digit}{birth.year % 100:02d}{p.id_number[6:]}"

    def _add(self, p: Person) -> None:
        self.persons[p.pid] = p
        self.roster[p.unit].append(p.pid)

    def _move(self, p: Person, unit: str) -> None:
        self.roster[p.unit].remove(p.pid)
        p.unit = unit
        self.roster[unit].append(p.pid)

    def _remove(self, pid: int) -> None:
        p = self.persons[pid]
        self.roster[p.unit].remove(pid)

    def _plan_silent_units(self) -> dict[int, set[str]]:
        """Reporting units that send nothing in a quarter (by quarter index)."""
        rng = sub_rng(self.seed, "silent")
        direct = [u.code for u in self.reporting_units if u.kind == "truc_thuoc"]
        plan: dict[int, set[str]] = defaultdict(set)
        n = len(self.quarters)
        picks = rng.sample(direct, min(2, len(direct)))
        plan[min(1, n - 1)].add(picks[0])
        if n >= 4 and len(picks) > 1:
            plan[3].add(picks[1])
        return plan

    # -- quarter simulation -------------------------------------------------
    def _hire_window(self, q: Quarter) -> tuple[date, date]:
        deadline = contract_deadline(q)
        return q.start + timedelta(days=4), min(q.end, deadline - timedelta(days=28))

    def simulate(self, qi: int, q: Quarter, rng: random.Random) -> dict[int, str]:
        """Advance the population to quarter ``q``; returns the status of each active person."""
        silent = self.silent.get(qi, set())
        retire_age = {True: rules()["retirement_age_male"], False: rules()["retirement_age_female"]}
        if qi > 0:
            for pid in sorted(self.departing):
                self._remove(pid)
            self.departing.clear()
            active = sorted(pid for pids in self.roster.values() for pid in pids)
            # transfers between schools of the same level, never into a unit silent this quarter
            by_level: dict[str, list[str]] = defaultdict(list)
            for u in self.units:
                if u.kind != "phong" and u.reporting not in silent:
                    by_level[u.cap_hoc].append(u.code)
            crossed = False
            movers = [pid for pid in active if rng.random() < 0.012
                      and self.persons[pid].role in ("Giáo viên", "Tổ phó", "Kế toán", "Văn thư", "Nhân viên")]
            for pid in movers:
                p = self.persons[pid]
                here = self.unit_by_code[p.unit]
                same = [c for c in by_level[here.cap_hoc] if c != here.code
                        and self.unit_by_code[c].reporting == here.reporting]
                other = [c for c in by_level[here.cap_hoc] if c != here.code and c not in same]
                pool = same if same and (rng.random() < 0.75 or not other) else other
                if pool:
                    self._move(p, rng.choice(pool))
                    if self.unit_by_code[p.unit].reporting != here.reporting:
                        crossed = True
            if not crossed:  # at least one move to another reporting unit each quarter
                for pid in rng.sample(active, len(active)):
                    p = self.persons[pid]
                    here = self.unit_by_code[p.unit]
                    if p.role != "Giáo viên" or here.kind == "phong":
                        continue
                    other = [c for c in by_level[here.cap_hoc] if self.unit_by_code[c].reporting != here.reporting]
                    if other:
                        self._move(p, rng.choice(other))
                        break
            # new hires
            window = self._hire_window(q)
            for u in self.units:
                for _ in range(sum(1 for _ in range(len(self.roster[u.code])) if rng.random() < 0.012)):
                    role = "Giáo viên" if u.kind != "phong" else "Chuyên viên"
                    self._add(self.factory.new_person(u, role, age=rng.uniform(21.5, 27), hire_window=window))
            self._planned_changes(q)
        status: dict[int, str] = {}
        for unit_code in sorted(self.roster):
            for pid in self.roster[unit_code]:
                p = self.persons[pid]
                birth = p.birth if not p.year_only else date(p.birth.year, 1, 1)
                old = age_on(birth, q.end) >= retire_age[p.male]
                if old and not p.overage:
                    if p.retire_late or rng.random() >= 0.1:
                        status[pid] = STATUS_RETIRED
                    else:
                        p.retire_late = True  # announces next quarter (a warning now)
                        status[pid] = STATUS_WORKING
                elif p.role not in HEAD_POSTS and rng.random() < 0.003:
                    status[pid] = _weighted(rng, ((STATUS_MOVED, 50), (STATUS_QUIT, 40), (STATUS_DIED, 5)))
                else:
                    status[pid] = STATUS_WORKING
                if status[pid] != STATUS_WORKING:
                    self.departing.add(pid)
        # one-quarter leavers whose birth year was typed wrong (e.g. 1890)
        schools = [u for u in self.units if u.reporting not in silent and u.kind != "phong"]
        for _ in range(max(1, round(len(status) * 0.0006))):
            unit = rng.choice(schools)
            p = self.factory.new_person(unit, "Giáo viên", age=rng.uniform(24, 40))
            p.hinh_thuc = "Hợp đồng"
            if len(p.id_number) == 12:  # a CCCD would also disagree with the typed year
                p.id_number = f"{BEN_TRE_CMND}{p.pid % 10_000_000:07d}"
            p.implausible_birth = f"{p.birth.day:02d}/{p.birth.month:02d}/{rng.choice((1890, 1895, 1900, 1905, 1910))}"
            self._add(p)
            status[p.pid] = STATUS_QUIT
            self.departing.add(p.pid)
        return status

    def _planned_changes(self, q: Quarter) -> None:
        """Changes the analysts' example queries look for (docs/warehouse.md), each
        quarter after the first, on their own random stream: a few teachers
        promoted to a higher grade their qualification allows (nâng ngạch; the
        step and coefficient follow the new grade's group), and one teacher
        transferred from a Giồng Trôm school to a Ba Tri school of the same level
        when the catalog has both districts."""
        rng = sub_rng(self.seed, "planned-changes", q.key)
        infos = grade_infos()
        active = sorted(pid for pids in self.roster.values() for pid in pids)
        promotions: list[tuple[int, str]] = []
        for pid in active:
            p = self.persons[pid]
            here = infos[p.grade]
            if p.role != "Giáo viên" or not here.is_teacher:
                continue
            higher = sorted(
                (g for g in infos.values() if g.is_teacher and g.cap_hoc == here.cap_hoc
                 and g.group.step1 > here.group.step1 and g.min_trinh_do is not None
                 and qual_rank(g.min_trinh_do) <= qual_rank(p.trinh_do)),
                key=lambda g: g.group.step1,
            )
            if higher:
                promotions.append((pid, higher[0].code))
        for pid, code in rng.sample(promotions, min(len(promotions), max(1, round(len(promotions) * 0.02)))):
            self.persons[pid].grade = code
        by_district: dict[str, list[Unit]] = defaultdict(list)
        for u in self.units:
            if u.kind == "truong":
                by_district[u.huyen].append(u)
        targets = by_district.get("Ba Tri", [])
        movers = [pid for u in by_district.get("Giồng Trôm", []) for pid in self.roster[u.code]
                  if self.persons[pid].role == "Giáo viên"
                  and any(t.cap_hoc == u.cap_hoc for t in targets)]
        if movers:
            p = self.persons[rng.choice(sorted(movers))]
            level = self.unit_by_code[p.unit].cap_hoc
            self._move(p, rng.choice([t.code for t in targets if t.cap_hoc == level]))

    def drift_identities(self, qi: int, q: Quarter, rng: random.Random, hidden: set[int]) -> set[int]:
        """Permanent name or birth-date changes of a few persons seen last quarter."""
        if not self._follows_previous(q):
            return set()
        seen_once = Counter(r.record.pid for r in self.previous_rows)
        active = self._active_pids()
        pool = sorted({r.record.pid for r in self.previous_rows if seen_once[r.record.pid] == 1
                       and r.record.pid in active and r.record.pid not in hidden
                       and r.record.pid not in self.departing})
        n = max(1, round(len(pool) * 0.0008))
        changed: set[int] = set()
        limit = {True: rules()["retirement_age_male"], False: rules()["retirement_age_female"]}
        for pid in rng.sample(pool, len(pool)):
            if len(changed) >= n:
                break
            p = self.persons[pid]
            if p.year_only or p.overage or p.implausible_birth:
                continue
            if rng.random() < 0.5:
                names = [g for g in (GIVEN_MALE if p.male else GIVEN_FEMALE) if g != p.given]
                p.given = rng.choice(names)
            else:
                new_day = rng.choice([d for d in range(2, 29) if d != p.birth.day])
                new_birth = p.birth.replace(day=new_day)
                safe = (add_years(new_birth, 18) + timedelta(days=60) <= min(p.recruit, p.sector)
                        and (p.party_date is None or add_years(new_birth, 18) + timedelta(days=60) <= p.party_date)
                        and age_on(new_birth, self.quarters[-1].end) < limit[p.male] - 1)
                if not safe:
                    continue
                p.birth = new_birth
            changed.add(pid)
        return changed

    def _follows_previous(self, q: Quarter) -> bool:
        """Whether the quarter before ``q`` was generated (rules comparing quarters apply)."""
        return bool(self.previous_rows) and self.previous_rows[0].quarter == q.previous().key

    def _active_pids(self) -> set[int]:
        return {pid for pids in self.roster.values() for pid in pids}

    # -- file plan ------------------------------------------------------------
    def plan_files(self, qi: int, q: Quarter, rng: random.Random) -> list[FilePlan]:
        """Which files arrive this quarter, from whom, covering what, when."""
        deadline = contract_deadline(q)
        silent = self.silent.get(qi, set())
        senders = [u for u in self.reporting_units if u.code not in silent]
        taken_times: set[datetime] = set()
        taken_names: set[str] = set()

        def at(day: date, hour_low: int = 7) -> datetime:
            while True:
                t = datetime(day.year, day.month, day.day, rng.randint(hour_low, 16), rng.randrange(0, 60))
                if t not in taken_times:
                    taken_times.add(t)
                    return t

        def later(t: datetime, days_low: int, days_high: int) -> datetime:
            """A free minute strictly after ``t``, ``days_low``-``days_high`` days on."""
            for _ in range(100):
                day = t.date() + timedelta(days=rng.randint(days_low, days_high))
                candidate = datetime(day.year, day.month, day.day, rng.randint(7, 16), rng.randrange(0, 60))
                if candidate > t and candidate not in taken_times:
                    taken_times.add(candidate)
                    return candidate
            candidate = t + timedelta(minutes=1)
            while candidate in taken_times:
                candidate += timedelta(minutes=1)
            taken_times.add(candidate)
            return candidate

        def ext(style: FileStyle) -> str:
            return ".zip" if style.zipped else "." + style.fmt

        def unique(name: str) -> str:
            stem, dot, ext = name.rpartition(".")
            out, k = name, 1
            while out.lower() in taken_names:
                k += 1
                out = f"{stem}_{k}.{ext}"
            taken_names.add(out.lower())
            return out

        n_late = max(1, round(len(senders) * 0.06))
        late_units = set(u.code for u in rng.sample(senders, min(n_late, len(senders))))
        plans: list[FilePlan] = []
        groups_by_unit: dict[str, list[FilePlan]] = {}
        for u in senders:
            if u.code in late_units:
                first_day = deadline + timedelta(days=rng.choice((1, 2, 3, 5, 8, 12, 25)))
            else:
                first_day = deadline - timedelta(days=rng.randint(0, 20))
            t0 = at(first_day)
            members = self.schools_of[u.code]
            groups = self._split_groups(u, members, rng)
            unit_files: list[FilePlan] = []
            for gi, group in enumerate(groups):
                t = t0 if gi == 0 else later(t0, 0, 2)
                style = self._style(u, q, qi, rng)
                if sum(len(self.roster.get(s, ())) for s in group) > 60_000:
                    style.fmt = "xlsx"  # beyond the .xls row limit (65,536)
                name = unique(self._file_name(u, q, gi, len(groups), group, rng) + ext(style))
                plan = FilePlan(q, name, u.code, u.code, tuple(group), t, style)
                unit_files.append(plan)
            groups_by_unit[u.code] = unit_files
            plans.extend(unit_files)
        # the first quarter always has a zip (photos; the hostile entries go in one)
        if qi == 0 and not any(f.style.zipped for f in plans):
            target = rng.choice([f for f in plans if f.kind == "normal"])
            old_name = target.name
            target.style.zipped = True
            target.name = unique(old_name.rsplit(".", 1)[0] + ".zip")
            taken_names.discard(old_name.lower())

        def resend(original: FilePlan, schools: Sequence[str], tag: str, note: str) -> FilePlan:
            u = self.unit_by_code[original.reporting_unit]
            style = self._style(u, q, qi, rng, like=original.style)
            stem = original.name.rsplit(".", 1)[0]
            name = unique(f"{stem}{tag}{ext(style)}")
            return FilePlan(q, name, u.code, u.code, tuple(schools), later(original.received, 2, 12), style, note=note)

        # corrections: the whole file again, later
        n_fix = max(1, round(len(senders) * 0.05))
        for u in rng.sample(senders, min(n_fix, len(senders))):
            original = rng.choice(groups_by_unit[u.code])
            original.kind = "draft"
            plans.append(resend(original, original.schools, rng.choice(("_lan2", "_sua", "_bosung", " (2)")),
                                "corrected file, same schools"))
        # a district office resends only some of its schools
        partial = [f for f in plans if f.kind == "normal" and self.unit_by_code[f.reporting_unit].kind == "phong"
                   and sum(1 for s in f.schools if s != f.reporting_unit) >= 3]
        if partial:
            original = rng.choice(partial)
            schools = [s for s in original.schools if s != original.reporting_unit]
            subset = sorted(rng.sample(schools, rng.randint(1, min(3, len(schools) - 1))))
            plans.append(resend(original, subset, "_bosung_truong", f"resends {len(subset)} of its schools"))
        # one exact duplicate in the run: draft, same bytes under another name, then a correction
        if qi == min(1, len(self.quarters) - 1):
            direct = [f for f in plans if f.kind == "normal" and self.unit_by_code[f.reporting_unit].kind == "truc_thuoc"]
            if direct:
                original = rng.choice(direct)
                original.kind = "draft"
                copy = FilePlan(q, unique("Copy of " + original.name), original.reporting_unit, original.reporting_unit,
                                original.schools, later(original.received, 0, 1), original.style, kind="duplicate",
                                duplicate_of=original.name, note="exact copy of an earlier file")
                plans.append(copy)
                fixed = resend(original, original.schools, "_final", "corrected after sending a duplicate")
                fixed.received = later(copy.received, 1, 5)
                plans.append(fixed)
        # a file named after another reporting unit (a warning, not an error)
        if qi == 0 and len(senders) > 1:
            victim = rng.choice([f for f in plans if f.kind == "normal"])
            other = rng.choice([u for u in senders if u.code != victim.reporting_unit])
            old_name = victim.name
            victim.name = unique(f"{other.code}_PMIS_{q.year}Q{q.q}{ext(victim.style)}")
            taken_names.discard(old_name.lower())
            victim.note = f"file name names another unit ({other.code})"
        # the rejected file of the quarter
        plans.append(self._reject_plan(qi, q, senders, rng, at, deadline, unique))
        # the latest file covering each school makes the version that stands
        plans.sort(key=lambda f: f.received)
        last: dict[tuple[str, str], FilePlan] = {}
        for f in plans:
            if f.kind != "reject":
                for s in f.schools:
                    last[(f.reporting_unit, s)] = f
        for f in plans:
            f.final_schools = frozenset(s for s in f.schools if last.get((f.reporting_unit, s)) is f)
            f.in_receipts = rng.random() < 0.8
        return plans

    def _reject_plan(self, qi: int, q: Quarter, senders: Sequence[Unit], rng: random.Random,
                     at: Callable[[date], datetime], deadline: date, unique: Callable[[str], str]) -> FilePlan:
        reasons = ("unreadable", "unknown_reporting_unit", "quarter_mismatch", "no_hoso_sheet")
        reason = reasons[qi % len(reasons)]
        u = rng.choice(list(senders))
        t = at(deadline - timedelta(days=rng.randint(0, 15)))
        schools = tuple(self.schools_of[u.code][:3])
        style = self._style(u, q, qi, rng)
        style.zipped = False
        declared, declared_q, note = u.code, q, ""
        if reason == "unreadable":
            style.fmt = "xlsx"
            note = "random bytes named .xlsx"
        elif reason == "unknown_reporting_unit":
            declared = "PGD10" if u.kind == "phong" else "THPT99"
            note = f"ThongTin names {declared}, not in the catalog"
        elif reason == "quarter_mismatch":
            declared_q = q.previous() if qi > 0 else q.next()
            note = f"ThongTin says {declared_q.key}"
        else:
            note = "records on a sheet named Sheet1, no HoSo"
        name = unique(self._file_name(u, q, 0, 1, schools, rng) + rng.choice(("_loi", "_cu", "_moi", "_2")) + "." + style.fmt)
        if reason == "unreadable":
            # a file nothing can be read of reaches the unit whose code (and no other) its name carries
            upper = name.upper()
            named = [r.code for r in self.reporting_units if r.code in upper]
            declared = u.code if named == [u.code] else ""
        plan = FilePlan(q, name, declared, declared, schools, t, style,
                        kind="reject", reject_reason=reason, declared_quarter=declared_q, note=note)
        return plan

    def _split_groups(self, u: Unit, members: Sequence[str], rng: random.Random) -> list[list[str]]:
        """A district office sends 1-3 files (by level); other units one."""
        if u.kind != "phong":
            return [list(members)]
        n = _weighted(rng, (("1", 5), ("2", 3), ("3", 2)))
        by_level = {lvl: [m for m in members if self.unit_by_code[m].cap_hoc == lvl] for lvl in LEVEL_PREFIX}
        office = [u.code]
        if n == "1":
            groups = [list(members)]
        elif n == "2":
            groups = [by_level["Mầm non"] + office, by_level["Tiểu học"] + by_level["THCS"]]
        else:
            groups = [by_level["Mầm non"], by_level["Tiểu học"], by_level["THCS"] + office]
        return [g for g in groups if g]

    def _file_name(self, u: Unit, q: Quarter, gi: int, n_groups: int, group: Sequence[str], rng: random.Random) -> str:
        short = re.sub(r"[^A-Za-z0-9]+", "", strip_diacritics(u.name.replace("Phòng GD&ĐT", "PGD")
                                                              .replace("Trường THPT", "THPT")
                                                              .replace("Trung tâm", "TT")))
        part = ""
        if n_groups > 1:
            levels = sorted({self.unit_by_code[s].cap_hoc for s in group if s != u.code})
            part = "_" + "-".join(LEVEL_PREFIX.get(lv, "PGD") for lv in levels) if levels else "_PGD"
        pattern = rng.randrange(6)
        if pattern == 0:
            return f"{short}{part}_Q{q.q}_{q.year}"
        if pattern == 1:
            return f"PMIS_{u.code}{part}_quy{q.q}"
        if pattern == 2:
            return f"{u.code}{part}_{q.year}Q{q.q}"
        if pattern == 3:
            return f"Bao cao PMIS {short}{part} quy {q.q}-{q.year}"
        if pattern == 4:
            return f"Báo cáo PMIS {u.name.split(' ', 1)[-1]}{part} quý {q.q}".replace("&", "")
        return f"{short}{part}_{q.q}-{q.year}"

    def _style(self, u: Unit, q: Quarter, qi: int, rng: random.Random, like: FileStyle | None = None) -> FileStyle:
        """A clerk's way of typing; a resend looks like the original (same clerk)."""
        if like is not None:
            style = FileStyle(**{k: getattr(like, k) for k in FileStyle.__dataclass_fields__})
            style.pasted_legacy = ""
            return style
        r = rng.random()
        style = FileStyle()
        style.fmt = "xls" if r < 0.78 else "xlsx"
        photo_push = qi < 2  # photos were due by the end of Q2 2009
        style.zipped = rng.random() < (0.22 if photo_push else 0.08)
        style.header_mode = _weighted(rng, (("standard", 60), ("plain", 12), ("upper", 8), ("alias", 20)))
        style.shuffle_columns = rng.random() < 0.12
        style.dropped = tuple(k for k in OPTIONAL_DROPPABLE if rng.random() < 0.08)
        style.extra_column = rng.random() < 0.1
        style.title_row = rng.random() < 0.12
        style.date_mode = _weighted(rng, (("excel", 50), ("text", 35), ("mixed", 15)))
        style.caps_names = rng.random() < 0.1
        style.numeric_ids = float(_weighted(rng, (("0", 60), ("0.3", 25), ("1", 15))))
        style.decimal_comma = rng.random() < 0.3
        style.label_mode = _weighted(rng, (("standard", 60), ("plain", 15), ("upper", 10), ("alias", 15)))
        style.quarter_form = rng.randrange(6)
        style.encoding = "nfd" if rng.random() < 0.05 else "nfc"
        style.with_units_sheet = u.kind == "phong" and rng.random() < 0.5
        return style

    # -- rendering -----------------------------------------------------------
    def render_quarter(self, qi: int, q: Quarter, plans: list[FilePlan], status: dict[int, str],
                       hidden: set[int], rng: random.Random) -> None:
        """Fill each plan's records (with defects), photos and bytes."""
        silent = self.silent.get(qi, set())
        # legacy encodings: one or two whole files per encoding in the run, pasted legacy names in a couple
        normal = [f for f in plans if f.kind in ("normal",) and len(f.schools) >= 1]
        if normal:
            legacy_targets = rng.sample(normal, min(len(normal), 2))
            if qi % 2 == 0:
                legacy_targets[0].style.encoding = "tcvn3"
            if len(legacy_targets) > 1 and qi % 2 == 1:
                legacy_targets[1].style.encoding = "vni"
            for f in legacy_targets:
                if f.style.encoding in ("tcvn3", "vni"):
                    f.style.header_mode = "plain"
                    f.style.label_mode = "plain"
                    f.style.caps_names = False
            for i, f in enumerate(rng.sample(normal, min(len(normal), 2))):
                if f.style.encoding == "nfc":
                    f.style.pasted_legacy = ("vni", "tcvn3")[(i + qi) % 2]
        # a stale copy: a person who moved to another reporting unit stays in the old unit's file
        stale: dict[str, list[tuple[int, str]]] = defaultdict(list)  # school -> (pid, old school)
        if qi > 0:
            moved = [r for r in self.previous_rows
                     if r.record.pid in status and r.record.pid not in hidden
                     and self.persons[r.record.pid].unit != r.record.ma_don_vi
                     and r.record.ma_don_vi in self.unit_by_code
                     and self.unit_by_code[r.record.ma_don_vi].reporting == r.reporting_unit
                     and self.unit_by_code[r.record.ma_don_vi].reporting != self.unit_by_code[self.persons[r.record.pid].unit].reporting
                     and self.unit_by_code[r.record.ma_don_vi].reporting not in silent
                     and self.unit_by_code[self.persons[r.record.pid].unit].reporting not in self.silent.get(qi + 1, ())
                     and status[r.record.pid] == STATUS_WORKING]
            for r in rng.sample(moved, min(len(moved), 1 if self.scale < 0.5 else 2)):
                stale[r.record.ma_don_vi].append((r.record.pid, r.record.ma_don_vi))
        stale_pids = {pid for lst in stale.values() for pid, _ in lst}
        # photo plan of the quarter, per person (same in every zip that carries the person)
        photo_plan = self._photo_plan(q, plans, status, stale_pids, rng)
        # a few persons typed twice in the file that stands for their school
        candidates = sorted(pid for pid in status if pid not in hidden and pid not in stale_pids
                            and self.unit_by_code[self.persons[pid].unit].reporting not in silent)
        pending = [rule for rule, _ in RECORD_DEFECTS if rule != "duplicate_ma_cb"]
        typed_twice = set(rng.sample(candidates, min(len(candidates), max(1, round(len(candidates) * 0.0004)))))
        foreign_cache: dict[str, list[str]] = {}
        self._odd_codes = set()
        mistyped = False  # one school code mistyped in a draft, each quarter
        step = max(1, len(plans) // 4)
        for i, f in enumerate(plans, start=1):
            if i % step == 0 or i == len(plans):
                self.say(f"{q.key}: {i}/{len(plans)} files written")
            if f.kind == "duplicate":
                original = next(p for p in plans if p.name == f.duplicate_of)
                f.records, f.photos, f.data = original.records, original.photos, original.data
                f.units_rows = original.units_rows
                continue
            frng = sub_rng(self.seed, "file", q.key, f.name)
            records: list[Record] = []
            for school in f.schools:
                pids = [pid for pid in self.roster.get(school, []) if pid in status and pid not in hidden]
                pids.sort(key=lambda pid: (ROLE_ORDER.get(self.persons[pid].role, 99), self.persons[pid].pid))
                final = school in f.final_schools and f.kind != "reject"
                for pid in pids:
                    p = self.persons[pid]
                    rec = base_record(p, q, status[pid], school)
                    for key in f.style.dropped:
                        rec.values[key] = None  # the file has no such column
                    if f.kind != "reject":
                        rate = self.DEFECT_RATE if final else self.DRAFT_DEFECT_RATE
                        if frng.random() < rate:
                            self._inject(rec, p, q, f, final, frng, foreign_cache)
                        elif final and pending and frng.random() < 0.05:
                            # every record rule at least once a quarter, even at small scale
                            if self._inject(rec, p, q, f, final, frng, foreign_cache, pending[0]):
                                pending.pop(0)
                            else:
                                pending.append(pending.pop(0))
                    rec.photo = photo_plan.get(pid) if f.style.zipped else None
                    records.append(rec)
                    if final and pid in typed_twice:
                        dup = Record(rec.pid, dict(rec.values), set(), rec.photo)
                        records.append(dup)  # the same person typed twice
                for pid, old in stale.get(school, []) if final else []:
                    p = self.persons[pid]
                    rec = base_record(p, q, STATUS_WORKING, old)
                    for key in f.style.dropped:
                        rec.values[key] = None
                    records.append(rec)
            if f.kind == "draft" and not mistyped and records:
                # a school code mistyped in a version the unit sends again: the later file carries
                # the person, so the person is taken from it whatever school either gives (the
                # contract's resolution); the code is in no later file, so only that rule drops it
                rec = frng.choice(records)
                wrong = self._unknown_code(rec.ma_don_vi)
                f.note = (f.note + "; " if f.note else "") + f"{rec.ma_cb}: school {rec.ma_don_vi} typed {wrong}"
                _set(rec, "ma_don_vi", wrong, "unit_unknown")
                mistyped = True
            for i, rec in enumerate(records, start=1):
                rec.values["row_no"] = i
            f.records = records
            self._units_sheet(f, frng)
            f.data = self._render_file(f, frng)

    def _inject(self, rec: Record, p: Person, q: Quarter, f: FilePlan, final: bool, rng: random.Random,
                foreign_cache: dict[str, list[str]], rule: str | None = None) -> bool:
        """Inject one defect (``rule``, or a random one); False when none fits the record."""
        if f.reporting_unit not in foreign_cache:
            foreign_cache[f.reporting_unit] = [u.code for u in self.units
                                               if u.reporting != f.reporting_unit and u.kind == "truong"] or [
                u.code for u in self.units if u.reporting != f.reporting_unit]
        ctx = DefectContext(q, f.reporting_unit, foreign_cache[f.reporting_unit], self._unknown_code, self._odd_codes,
                            f.style.dropped, lambda person: person.pid not in self.ever_seen)
        if rule is not None:
            return (final or rule not in UNIT_CODE_DEFECTS) and inject_defect(rec, p, rule, ctx, rng)
        for _ in range(5):
            rule = _weighted(rng, RECORD_DEFECTS)
            if rule == "duplicate_ma_cb":
                continue  # handled when rows are written
            if rule in UNIT_CODE_DEFECTS and not final:
                continue
            if inject_defect(rec, p, rule, ctx, rng):
                return True
        return False

    def _unknown_code(self, near: str) -> str:
        """A code the catalog lacks, shaped like ``near`` (``PGD03-TH012`` -> ``PGD03-TH099``)."""
        m = re.fullmatch(r"(.*?)(\d+)", near)
        prefix, digits = (m.group(1), len(m.group(2))) if m else (near + "-", 2)
        for k in range(10 ** digits - 1, 10 ** (digits - 1), -1):
            code = f"{prefix}{k:0{digits}d}"
            if code not in self.unit_by_code and code not in self._odd_codes:
                self._odd_codes.add(code)
                return code
        raise RuntimeError(f"no unknown code near {near}")

    def _photo_plan(self, q: Quarter, plans: Sequence[FilePlan], status: dict[int, str], stale: set[int],
                    rng: random.Random) -> dict[int, str]:
        """pid -> planned entry ("anh/BT123.jpg", or "!anh/..." broken, or "?anh/..." missing)."""
        zipped_units = {s for f in plans if f.style.zipped and f.kind != "reject" for s in f.schools}
        plan: dict[int, str] = {}
        for school in sorted(zipped_units):
            for pid in self.roster.get(school, []):
                if pid not in status or pid in stale:
                    continue
                p = self.persons[pid]
                has = p.ma_cb in self.photos_valid
                r = rng.random()
                ext = "png" if rng.random() < 0.15 else "jpg"
                if has:
                    if r < 0.1:
                        plan[pid] = f"anh/{p.ma_cb}.{ext}"
                    continue
                if r < 0.88:
                    plan[pid] = f"anh/{p.ma_cb}.{ext}"
                elif r < 0.92:
                    plan[pid] = f"!anh/{p.ma_cb}.{ext}"
                elif r < 0.97:
                    plan[pid] = f"?anh/{p.ma_cb}.{ext}"
        return plan

    def _units_sheet(self, f: FilePlan, rng: random.Random) -> None:
        """DonVi rows of a district office file; now and then a school for catalog review."""
        if not f.style.with_units_sheet:
            return
        rows = []
        for code in f.schools:
            u = self.unit_by_code[code]
            if u.kind == "truong":
                rows.append((code, u.name, u.cap_hoc, _commune_label(u.commune)))
        if f.kind == "normal" and rows and rng.random() < 0.25:
            code, name, cap, commune = rng.choice(rows)
            if rng.random() < 0.5:
                new_code = self._unknown_code(code)
                new_name = f"{LEVEL_SCHOOL_NAME.get(cap, 'Trường')} {rng.choice(('Hoa Sen', 'Sơn Ca', 'Vành Khuyên', 'Họa Mi'))}"
                rows.append((new_code, new_name, cap, commune))
                f.catalog_review.append({"ma_don_vi": new_code, "ten_don_vi": new_name, "issue": "not_in_catalog",
                                         "catalog_name": ""})
            else:
                i = rows.index((code, name, cap, commune))
                new_name = name.replace("Trường Tiểu học", "Trường TH").replace("Trường Mầm non", "Trường MN")
                if new_name == name:
                    new_name = name + " (cũ)"
                rows[i] = (code, new_name, cap, commune)
                f.catalog_review.append({"ma_don_vi": code, "ten_don_vi": new_name, "issue": "name_differs",
                                         "catalog_name": name})
        f.units_rows = rows

    def _render_file(self, f: FilePlan, rng: random.Random) -> bytes:
        style = f.style
        when = datetime.combine(f.received.date(), datetime.min.time())
        if f.kind == "reject" and f.reject_reason == "unreadable":
            return b"PK\x03\x04" + rng.randbytes(4000)
        renderer = CellRenderer(style, rng)
        legacy_font = {"tcvn3": ".VnTime", "vni": "VNI-Times"}.get(style.encoding)
        info = self._info_rows(f, renderer, rng)
        keys = [k for k in schema.KEYS if k not in style.dropped or (k == "anh" and style.zipped)]
        if style.shuffle_columns:
            head, rest = keys[:1], keys[1:]
            rng.shuffle(rest)
            keys = head + rest
        headers: list[object] = [renderer.text(header_text(k, style.header_mode, rng)) for k in keys]
        if style.extra_column:
            headers.append(renderer.text(EXTRA_HEADER))
        rows: Rows = []
        if style.title_row:
            title = f"DANH SÁCH CÁN BỘ, GIÁO VIÊN, NHÂN VIÊN - {quarter_text(f.quarter, 3).upper()}"
            rows.append([renderer.text(title)])
            if rng.random() < 0.5:
                rows.append([])
        rows.append(headers)
        pasted = style.pasted_legacy
        pasted_count = 0
        for rec in f.records:
            values = rec.values
            if rec.photo:
                entry = rec.photo.lstrip("!?")
                r = rng.random()
                values = dict(values)
                values["anh"] = entry if r < 0.45 else (entry.split("/", 1)[1] if r < 0.85 else None)
                rec.anh_cell = values["anh"]
            row = [renderer.cell(k, values[k]) for k in keys]
            if pasted and isinstance(values["ho_ten"], str) and values["ho_ten"].strip():
                # ~2% of the names (at least one), pasted in title case from an old document
                encoded = (encode_vni if pasted == "vni" else encode_tcvn3)(str(values["ho_ten"]))
                if unmistakably_legacy(encoded) and (pasted_count == 0 or rng.random() < 0.02):
                    row[keys.index("ho_ten")] = encoded
                    pasted_count += 1
            if style.extra_column:
                row.append(f"{rng.randint(10**9, 10**10 - 1)}" if rng.random() < 0.8 else None)
            rows.append(row)
        if pasted_count:
            f.note = (f.note + "; " if f.note else "") + f"{pasted_count} ho_ten pasted in {pasted.upper()}"
        records_sheet = "Sheet1" if f.kind == "reject" and f.reject_reason == "no_hoso_sheet" else schema.SHEET_RECORDS
        sheets = [SheetData(schema.SHEET_INFO, info), SheetData(records_sheet, rows)]
        if f.units_rows:
            unit_rows: Rows = [[renderer.text(header_text_unit(k, style.header_mode)) for k in ("ma_don_vi", "ten_don_vi", "cap_hoc", "xa_phuong")]]
            unit_rows += [[c, renderer.text(n), renderer.text(cap), renderer.text(com)] for c, n, cap, com in f.units_rows]
            sheets.append(SheetData(schema.SHEET_UNITS, unit_rows))
        fmt = style.fmt
        if fmt == "xls" and len(rows) > 65_000:
            raise AssertionError(f"{f.name}: {len(rows)} rows do not fit an .xls sheet")
        book = workbook_bytes(fmt, sheets, legacy_font, when)
        if not style.zipped:
            return book
        entries: list[tuple[str, bytes]] = [(f.name.rsplit(".", 1)[0] + "." + fmt, book)]
        prng = sub_rng(self.seed, "photos", f.quarter.key)
        for rec in f.records:
            if not rec.photo or rec.photo.startswith("?"):
                continue
            entry = rec.photo.lstrip("!")
            if entry in f.photos:
                continue
            kind = "png" if entry.endswith(".png") else "jpg"
            prng.seed(f"{self.seed}:photo:{f.quarter.key}:{entry}")
            f.photos[entry] = broken_photo(prng) if rec.photo.startswith("!") else photo_bytes(prng, kind)  # type: ignore[arg-type]
        entries += sorted(f.photos.items())
        if f.quarter == self.quarters[0] and self._evil_pending:
            entries += [("../evil.txt", b"escape attempt"), ("Thumbs.db", b"\x00" * 64)]
            self._evil_pending = False
            f.note = (f.note + "; " if f.note else "") + "zip holds ../evil.txt and Thumbs.db (skipped)"
        return zip_bytes(entries, when)


    def _info_rows(self, f: FilePlan, renderer: CellRenderer, rng: random.Random) -> Rows:
        style = f.style
        # the sender (an unknown declared code still comes from a real unit: the one its schools belong to)
        u = self.unit_by_code.get(f.declared_unit) or self.unit_by_code[self.unit_by_code[f.schools[0]].reporting]
        name = u.name
        if u.district.old_admin and f.quarter.year == 2009 and f.quarter.q == 1 and u.kind == "phong":
            name = name.replace(u.district.name, "Mỏ Cày")
        if u.code == "PGD01" and f.quarter.year == 2009 and f.quarter.q <= 2:
            name = "Phòng GD&ĐT thị xã Bến Tre"
        q = f.declared_quarter or f.quarter
        officer = draw_name(rng, rng.random() < 0.5)
        exported = f.received.date() - timedelta(days=rng.randint(0, 3))
        values: dict[str, object] = {
            "reporting_unit": f.declared_unit,
            "reporting_unit_name": renderer.text(name),
            "quarter": renderer.text(quarter_text(q, style.quarter_form)),
            "exported_at": exported if rng.random() < 0.5 else exported.strftime("%d/%m/%Y"),
            "prepared_by": renderer.text(" ".join(officer)),
            "phone": rng.choice((f"075.38{rng.randint(10000, 99999)}", f"0753.{rng.randint(810000, 899999)}",
                                 f"09{rng.randint(10_000_000, 99_999_999)}")) if rng.random() < 0.8 else None,
        }
        rows: Rows = []
        if rng.random() < 0.2:
            rows.append([renderer.text("THÔNG TIN ĐƠN VỊ BÁO CÁO")])
        for label in schema.INFO_LABELS:
            value = values[label.key]
            if value is None:
                continue
            rows.append([renderer.text(label_text(label, style.label_mode, rng)), value])
        return rows

    # -- resolution and truth ----------------------------------------------------
    def resolve(self, qi: int, q: Quarter, plans: list[FilePlan]) -> list[StaffRow]:
        """The contract's resolution (submission-format.md), within each reporting unit
        and by received time: a record stands when its file is the latest that carries
        its school (as written in the record) and no later file carries its person,
        whatever school code either file gives. A file with records none of which
        stand is superseded."""
        readable = sorted((f for f in plans if f.kind != "reject"), key=lambda f: f.received)
        school_last: dict[tuple[str, str], FilePlan] = {}
        person_last: dict[tuple[str, str], FilePlan] = {}
        for f in readable:
            for rec in f.records:
                school_last[(f.reporting_unit, rec.ma_don_vi)] = f
                person_last[(f.reporting_unit, rec.ma_cb)] = f
        rows: list[StaffRow] = []
        for f in readable:
            for rec in f.records:
                if school_last[(f.reporting_unit, rec.ma_don_vi)] is f and person_last[(f.reporting_unit, rec.ma_cb)] is f:
                    rows.append(StaffRow(q.key, f.reporting_unit, f, rec))
        standing = {id(row.file) for row in rows}
        for f in plans:
            if f.kind == "reject":
                f.status = "rejected"
            elif f.records and id(f) not in standing:
                f.status = "superseded"
            else:
                f.status = "accepted"
        # photos: valid ones received in this quarter's readable zips
        for f in sorted(readable, key=lambda f: f.received):
            for entry, payload in f.photos.items():
                if not _is_broken(payload):
                    code = entry.split("/", 1)[1].rsplit(".", 1)[0]
                    self.photos_valid.setdefault(code, q.key)
        for row in rows:
            row.has_photo = row.record.ma_cb in self.photos_valid
        return rows

    def check(self, q: Quarter, rows: list[StaffRow], submitted: set[str]) -> list[Defect]:
        """Every issue the pipeline must report, computed here from the typed values of
        the resolved records (the contract's rules, warnings included), each also kept
        on its row; then the lost records of the quarter."""
        out: list[Defect] = []
        r = rules()

        def add(row: StaffRow, field_key: str, rule: str, note: str = "", severity: Severity | None = None) -> None:
            d = Defect(q.key, row.reporting_unit, row.record.ma_don_vi, row.record.ma_cb, field_key, rule, note,
                       severity)
            row.issues.append(d)
            out.append(d)

        for row in rows:
            for field_key, rule, note in record_issues(row.record.values, q, row.reporting_unit, self.unit_by_code, r):
                add(row, field_key, rule, note)
            anh = row.record.anh_cell
            if anh is not None and anh.strip() and not row.has_photo:
                add(row, "anh", "photo_missing", f"names {anh}, no valid photo received")
        per_unit = Counter((row.reporting_unit, row.record.ma_cb) for row in rows)
        units_of = defaultdict(set)
        for row in rows:
            units_of[row.record.ma_cb].add(row.reporting_unit)
        # who carried each code last quarter (the generator's own resolved rows of the previous quarter)
        carried_before = {(row.reporting_unit, row.record.ma_cb) for row in self.previous_rows} if self._follows_previous(q) else set()
        for row in rows:
            if per_unit[(row.reporting_unit, row.record.ma_cb)] > 1:
                add(row, "ma_cb", "duplicate_ma_cb", "same ma_cb twice in the unit's resolved data")
            units = units_of[row.record.ma_cb]
            if len(units) > 1:
                owners = {u for u in units if (u, row.record.ma_cb) in carried_before}
                owner_only = owners == {row.reporting_unit}  # the unit that alone carried them: a warning
                add(row, "ma_cb", "duplicate_across_units", "sent by " + ", ".join(sorted(units)),
                    "warning" if owner_only else None)
        prev_q = q.previous()
        if self._follows_previous(q):
            before: dict[str, list[StaffRow]] = defaultdict(list)
            for row in self.previous_rows:
                before[row.record.ma_cb].append(row)
            for row in rows:
                olds = before.get(row.record.ma_cb, [])
                if len(olds) != 1:
                    continue  # compared only with a person's single record of last quarter
                for key in DRIFT_KEYS:
                    was, now = identity_key(key, olds[0].record.values[key]), identity_key(key, row.record.values[key])
                    if was is not None and now is not None and was != now:
                        add(row, key, "identity_drift", f"was {was}")
            now_codes = {row.record.ma_cb for row in rows}
            lost_seen: set[tuple[str, str]] = set()
            for old in self.previous_rows:
                if (old.reporting_unit, old.record.ma_cb) in lost_seen:
                    continue
                if (old.reporting_unit in submitted and old.reporting_unit in self.previous_submitted
                        and canonical("tinh_trang", old.record.values["tinh_trang"]) == STATUS_WORKING
                        and old.record.ma_cb not in now_codes):
                    lost_seen.add((old.reporting_unit, old.record.ma_cb))
                    out.append(Defect(q.key, old.reporting_unit, old.record.ma_don_vi, old.record.ma_cb, "",
                                      "lost_record", f"working in {prev_q.key}, absent in {q.key}"))
        return out

    # -- the whole run -------------------------------------------------------------
    def run(self) -> DemoSummary:
        truth = self.data_dir / "demo-truth"
        inbox = self.data_dir / "inbox"
        for q in self.quarters:
            shutil.rmtree(inbox / q.key, ignore_errors=True)
        shutil.rmtree(truth, ignore_errors=True)
        truth.mkdir(parents=True)
        write_units_csv(self.data_dir / "catalog" / "units.csv", self.units)
        self.say(f"catalog: {len(self.units)} units ({len(self.reporting_units)} reporting units)")
        write_demo_partitions(self.data_dir / "config.toml", self.quarters[0].key, self.quarters[-1].key)
        self.populate()
        for qi, q in enumerate(self.quarters):
            qrng = sub_rng(self.seed, "quarter", q.key)
            status = self.simulate(qi, q, qrng)
            hidden = self._lose_records(qi, q, status, qrng)
            drifted = self.drift_identities(qi, q, qrng, hidden)
            plans = self.plan_files(qi, q, qrng)
            self.render_quarter(qi, q, plans, status, hidden, qrng)
            submitted = {f.reporting_unit for f in plans if f.kind != "reject"}
            rows = self.resolve(qi, q, plans)
            defects = self.check(q, rows, submitted)
            self._assert_intended(q, rows, defects, drifted, hidden)
            self._write_quarter(inbox / q.key, plans)
            self.files.extend(plans)
            self.staff.extend(rows)
            self.defects.extend(defects)
            self._summarise_units(q, plans, rows, defects, submitted)
            self._score_units(q, plans, rows, defects)
            self._pay(q, rows)
            for f in plans:
                for item in f.catalog_review:
                    self.catalog_review.append({"quarter": q.key, "file_name": f.name,
                                                "reporting_unit": f.reporting_unit, **item})
            self.ever_seen.update(row.record.pid for row in rows)
            self.previous_rows, self.previous_submitted = rows, submitted
            self.say(f"{q.key}: {len(plans)} files, {len(rows)} resolved records, {len(defects)} issues")
        self._write_truth(truth)
        return DemoSummary(
            quarters=[q.key for q in self.quarters],
            n_units=len(self.units),
            n_reporting_units=len(self.reporting_units),
            n_persons=len(self.ever_seen),
            n_files=len(self.files),
            n_records=len(self.staff),
            truth_dir=truth,
        )

    def _lose_records(self, qi: int, q: Quarter, status: dict[int, str], rng: random.Random) -> set[int]:
        """A few persons working last quarter that their unit forgets this quarter."""
        if not self._follows_previous(q):
            return set()
        silent = self.silent.get(qi, set())
        pool = sorted({row.record.pid for row in self.previous_rows
                       if row.reporting_unit not in silent
                       and row.record.pid in status and status[row.record.pid] == STATUS_WORKING
                       and self.unit_by_code[self.persons[row.record.pid].unit].reporting == row.reporting_unit})
        n = max(1, round(len(pool) * 0.0008))
        return set(rng.sample(pool, min(n, len(pool))))

    def _assert_intended(self, q: Quarter, rows: list[StaffRow], defects: list[Defect], drifted: set[int],
                         hidden: set[int]) -> None:
        """The truth says what was planned: every injected defect is found, no record carries an
        issue nobody injected, and the scenario rules hit exactly the persons set up for them."""
        found: dict[tuple[str, str, str], set[tuple[str, str]]] = defaultdict(set)
        for d in defects:
            found[(d.ma_cb, d.ma_don_vi, d.reporting_unit)].add((d.field, d.rule))
        scenario_rules = {"past_retirement_age", "birth_year_implausible", "duplicate_ma_cb", "duplicate_across_units",
                          "identity_drift", "lost_record", "year_only_date", "photo_missing"}
        intended: dict[tuple[str, str, str], set[tuple[str, str]]] = defaultdict(set)
        rows_of: dict[tuple[str, str, str], list[StaffRow]] = defaultdict(list)
        for row in rows:  # copies of a duplicated row share a key
            intended[(row.record.ma_cb, row.record.ma_don_vi, row.reporting_unit)] |= row.record.intended
            rows_of[(row.record.ma_cb, row.record.ma_don_vi, row.reporting_unit)].append(row)
        for row in rows:
            key = (row.record.ma_cb, row.record.ma_don_vi, row.reporting_unit)
            got = found.get(key, set())
            if row.record.intended - got:
                raise AssertionError(f"{q.key} {key}: injected {row.record.intended - got} not found ({got})")
            unexplained = {(f, r) for f, r in got if r not in scenario_rules} - intended[key]
            if unexplained:
                raise AssertionError(f"{q.key} {key}: unexpected issues {unexplained}")
            p = self.persons[row.record.pid]
            rules_here = {r for _, r in got}
            if "past_retirement_age" in rules_here and not (p.overage or p.retire_late):
                raise AssertionError(f"{q.key} {key}: unplanned past_retirement_age")
            if ("birth_year_implausible" in rules_here) != bool(p.implausible_birth):
                raise AssertionError(f"{q.key} {key}: birth_year_implausible does not match the plan")
            if ("year_only_date" in rules_here) != (p.year_only and not p.implausible_birth):
                raise AssertionError(f"{q.key} {key}: year_only_date does not match the person's bare birth year")
            # a photo planned broken (!) or left out of the zip (?), its cell filled in
            planned_missing = any(bool(other.record.photo and other.record.photo[0] in "!?" and other.record.anh_cell)
                                  for other in rows_of[key])
            if ("photo_missing" in rules_here) != planned_missing:
                raise AssertionError(f"{q.key} {key}: photo_missing does not match the photo plan")
        drift_found = {d.ma_cb for d in defects if d.rule == "identity_drift"}
        expected = {self.persons[pid].ma_cb for pid in drifted} & {row.record.ma_cb for row in rows}
        if drift_found != expected:
            raise AssertionError(f"{q.key}: identity drift {sorted(drift_found)} != planned {sorted(expected)}")
        lost_found = {d.ma_cb for d in defects if d.rule == "lost_record"}
        if lost_found != {self.persons[pid].ma_cb for pid in hidden}:
            raise AssertionError(f"{q.key}: lost records {sorted(lost_found)} != planned")

    def _summarise_units(self, q: Quarter, plans: list[FilePlan], rows: list[StaffRow], defects: list[Defect],
                         submitted: set[str]) -> None:
        deadline = contract_deadline(q)
        n_rows = Counter(row.reporting_unit for row in rows)
        lost = Counter(d.reporting_unit for d in defects if d.rule == "lost_record")
        for u in self.reporting_units:
            firsts = [f.received for f in plans if f.kind != "reject" and f.reporting_unit == u.code]
            first = min(firsts) if firsts else None
            self.unit_summary.append({
                "quarter": q.key,
                "reporting_unit": u.code,
                "loai": u.kind,
                "submitted": int(first is not None),
                "first_received_at": first.strftime("%Y-%m-%d %H:%M") if first else "",
                "deadline": deadline.isoformat(),
                "days_late": "" if first is None else max(0, (first.date() - deadline).days),
                "n_records": n_rows.get(u.code, 0),
                "lost_records": lost.get(u.code, 0),
            })

    def _score_units(self, q: Quarter, plans: list[FilePlan], rows: list[StaffRow], defects: list[Defect]) -> None:
        """The expected ``unit_compliance`` rows of the quarter, by the contract's default
        rules (reference-and-warehouse.md) with the default weights written here
        (:data:`SCORE_WEIGHTS`), in exact decimal arithmetic: every reporting unit of
        the catalog, its first readable file, what its resolved records hold (filled
        required cells, records without an error, photos), its lost records, the
        score and the dense rank within its group."""
        deadline = contract_deadline(q)
        lost = Counter(d.reporting_unit for d in defects if d.rule == "lost_record")
        rows_of: dict[str, list[StaffRow]] = defaultdict(list)
        for row in rows:
            rows_of[row.reporting_unit].append(row)
        scored: list[dict[str, object]] = []
        for u in self.reporting_units:
            firsts = [f.received for f in plans if f.kind != "reject" and f.reporting_unit == u.code]
            first = min(firsts) if firsts else None
            mine = rows_of[u.code]
            filled = required = 0
            for row in mine:
                f_cells, r_cells = required_cells(row.record.values)
                filled, required = filled + f_cells, required + r_cells
            days_late = None if first is None else max(0, (first.date() - deadline).days)
            timeliness = Decimal(0) if days_late is None else Decimal(max(0, 100 - PENALTY_PER_DAY_LATE * days_late))
            completeness = percent(filled, required)
            accuracy = percent(sum(1 for row in mine if not row.has_error), len(mine))
            score = (SCORE_WEIGHTS["timeliness"] * timeliness + SCORE_WEIGHTS["completeness"] * completeness
                     + SCORE_WEIGHTS["accuracy"] * accuracy).quantize(CENT, ROUND_HALF_UP)
            scored.append({
                "quarter": q.key, "reporting_unit": u.code, "loai": u.kind, "submitted": int(first is not None),
                "first_received_at": first, "deadline": deadline.isoformat(),
                "days_late": "" if days_late is None else days_late, "n_records": len(mine),
                "completeness_pct": completeness, "accuracy_pct": accuracy,
                "photo_pct": percent(sum(1 for row in mine if row.has_photo), len(mine)),
                "lost_records": lost.get(u.code, 0), "timeliness": timeliness.quantize(CENT), "score": score,
            })
        # dense rank within each group: higher score, then earlier first receipt, then unit code
        for kind in ("phong", "truc_thuoc"):
            group = sorted((s for s in scored if s["loai"] == kind),
                           key=lambda s: (-s["score"], s["first_received_at"] or datetime.max, s["reporting_unit"]))
            rank = 0
            previous: tuple[object, ...] | None = None
            for s in group:
                key = (s["score"], s["first_received_at"], s["reporting_unit"])
                rank += key != previous
                previous = key
                s["rank"] = rank
        for s in scored:
            first = s["first_received_at"]
            s["first_received_at"] = first.strftime("%Y-%m-%d %H:%M") if first else ""
            self.compliance.append(s)

    def _held_units(self, q: Quarter, rows: list[StaffRow]) -> set[str]:
        """Reporting units whose record count is implausible this quarter (README,
        "Implausible counts are held"; limits :data:`PLAUSIBILITY`): more than
        ``max_records_per_school`` per unit of its catalog, or ``max_growth_pct`` above
        its count of the previous quarter and at least ``min_growth_records`` more.
        The demo confirms none."""
        counts = Counter(row.reporting_unit for row in rows)
        previous = Counter(row.reporting_unit for row in self.previous_rows) if self._follows_previous(q) else Counter()
        held: set[str] = set()
        for unit, n in sorted(counts.items()):
            schools = len(self.schools_of.get(unit, ())) or 1
            before = previous.get(unit)  # None: no record of the unit last quarter, nothing to compare
            if n > schools * PLAUSIBILITY["max_records_per_school"] or (
                before and n * 100 > before * (100 + PLAUSIBILITY["max_growth_pct"])
                and n - before >= PLAUSIBILITY["min_growth_records"]
            ):
                held.add(unit)
                self.holds.append({"quarter": q.key, "reporting_unit": unit, "n_records": n,
                                   "previous_records": "" if before is None else before, "schools": schools})
        return held

    def _pay(self, q: Quarter, rows: list[StaffRow]) -> None:
        """The expected payment lines of the quarter (the contract's "Payments" rule):
        a person's record is paid once per calendar year, in the first quarter it
        stands with no error (and its unit's count is plausible: :meth:`_held_units`),
        to the reporting unit that sent it; rates are the defaults written here
        (:data:`PAYMENT_RATES_VND`)."""
        held = self._held_units(q, rows)
        paid_before = self.paid_in_year[q.year]
        paid_now: dict[str, str] = {}  # ma_cb -> reporting unit
        for row in rows:
            if not row.has_error and row.reporting_unit not in held and row.record.ma_cb not in paid_before:
                paid_now.setdefault(row.record.ma_cb, row.reporting_unit)
        paid_before.update(paid_now)
        per_unit = Counter(paid_now.values())
        lines: list[dict[str, object]] = []
        for kind in ("phong", "truc_thuoc"):
            for u in sorted((u for u in self.reporting_units if u.kind == kind), key=lambda u: u.code):
                if per_unit[u.code]:
                    for item, rate in PAYMENT_RATES_VND[kind]:
                        lines.append({"payee": u.code, "payee_type": kind, "item": item, "n_records": per_unit[u.code],
                                      "rate_vnd": rate})
        by_kind = Counter(self.unit_by_code[code].kind for code in paid_now.values())
        for (item, rate), kind in zip(PAYMENT_RATES_VND["so"], ("phong", "truc_thuoc"), strict=True):
            lines.append({"payee": SO_PAYEE, "payee_type": "so", "item": item, "n_records": by_kind[kind],
                          "rate_vnd": rate})
        for line in lines:
            line["amount_vnd"] = int(line["n_records"]) * int(line["rate_vnd"])
            self.payments.append({"quarter": q.key, **line})

    # -- writing -----------------------------------------------------------------
    def _write_quarter(self, folder: Path, plans: list[FilePlan]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        receipts = []
        for f in plans:
            path = folder / f.name
            path.write_bytes(f.data)
            received = f.received.replace(tzinfo=self.tz).timestamp()
            if f.in_receipts:
                receipts.append((f.name, f.received.strftime("%Y-%m-%d %H:%M")))
                mtime = received + 86400 * (3 + (len(f.name) % 5))  # copied into the inbox days later
            else:
                mtime = received
            os.utime(path, (mtime, mtime))
        with (folder / "receipts.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["file", "received_at"])
            w.writerows(receipts)
        last = max(f.received for f in plans).replace(tzinfo=self.tz).timestamp() + 86400 * 10
        os.utime(folder / "receipts.csv", (last, last))

    def _write_truth(self, truth: Path) -> None:
        def write(name: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
            with (truth / name).open("w", encoding="utf-8", newline="") as fh:
                w = csv.writer(fh, lineterminator="\n")
                w.writerow(header)
                w.writerows(rows)

        write("files.csv",
              ["quarter", "file_name", "reporting_unit", "received_at", "received_source", "expected_status",
               "reject_reason", "n_records", "duplicate_of", "format", "encoding", "n_photos", "note"],
              [[f.quarter.key, f.name, f.reporting_unit, f.received.strftime("%Y-%m-%d %H:%M"),
                "receipts" if f.in_receipts else "mtime", f.status,
                f.reject_reason, 0 if f.kind == "reject" else len(f.records), f.duplicate_of or "",
                ("zip+" if f.style.zipped else "") + f.style.fmt, f.style.encoding if f.kind != "reject" else "",
                len(f.photos), f.note]
               for f in self.files])
        write("staff.csv",
              ["quarter", "reporting_unit", "ma_don_vi", "ma_cb", "file_name", "ho_ten", "ngay_sinh", "gioi_tinh",
               "so_cmnd", "he_so_luong", "has_photo", "ma_ngach", "bac_luong", "tinh_trang"],
              [[row.quarter, row.reporting_unit, row.record.ma_don_vi, row.record.ma_cb, row.file.name,
                row.record.values["ho_ten"], identity_value(row.record.values["ngay_sinh"]),
                row.record.values["gioi_tinh"], id_truth(row.record.values["so_cmnd"]),
                "" if row.record.values["he_so_luong"] is None else f"{row.record.values['he_so_luong']:.2f}",
                int(row.has_photo), row.record.values["ma_ngach"], row.record.values["bac_luong"],
                canonical("tinh_trang", row.record.values["tinh_trang"]) or ""]
               for row in self.staff])
        issue_header = ["quarter", "reporting_unit", "ma_don_vi", "ma_cb", "field", "rule", "severity", "note"]
        write("defects.csv", issue_header,
              [[d.quarter, d.reporting_unit, d.ma_don_vi, d.ma_cb, d.field, d.rule, d.severity, d.note]
               for d in self.defects if d.rule not in NOT_DEFECTS])
        write("issues.csv", issue_header,
              [[d.quarter, d.reporting_unit, d.ma_don_vi, d.ma_cb, d.field, d.rule, d.severity, d.note]
               for d in self.defects if d.rule != "lost_record"])
        header = ["quarter", "reporting_unit", "loai", "submitted", "first_received_at", "deadline", "days_late",
                  "n_records", "completeness_pct", "accuracy_pct", "photo_pct", "lost_records", "timeliness", "score",
                  "rank"]
        write("compliance.csv", header, [[s[k] for k in header] for s in self.compliance])
        header = ["quarter", "payee", "payee_type", "item", "n_records", "rate_vnd", "amount_vnd"]
        write("payments.csv", header, [[s[k] for k in header] for s in self.payments])
        header = ["quarter", "reporting_unit", "n_records", "previous_records", "schools"]
        write("payment_holds.csv", header, [[s[k] for k in header] for s in self.holds])
        header = ["quarter", "reporting_unit", "loai", "submitted", "first_received_at", "deadline", "days_late",
                  "n_records", "lost_records"]
        write("units_expected.csv", header, [[s[k] for k in header] for s in self.unit_summary])
        write("units_expected_late.csv", header,
              [[s[k] for k in header] for s in self.unit_summary if s["days_late"] not in ("", 0)])
        write("catalog_review.csv", ["quarter", "file_name", "reporting_unit", "ma_don_vi", "ten_don_vi", "issue",
                                     "catalog_name"],
              [[c[k] for k in ("quarter", "file_name", "reporting_unit", "ma_don_vi", "ten_don_vi", "issue",
                               "catalog_name")] for c in self.catalog_review])


def header_text_unit(key: str, mode: str) -> str:
    f = next(f for f in schema.UNIT_FIELDS if f.key == key)
    if mode == "plain":
        return strip_diacritics(f.header)
    if mode == "upper":
        return f.header.upper()
    return f.header


def _is_broken(payload: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(payload)) as img:
            img.verify()
        return False
    except Exception:
        return True


def identity_value(value: object) -> str:
    """ngay_sinh / ho_ten as the truth writes them: ISO date, bare year, or the text."""
    if isinstance(value, YearOnly):
        return str(value.year)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, BadDate):
        d = typed_date(value)
        return d.isoformat() if isinstance(d, date) else value.text
    return "" if value is None else str(value)


def id_truth(value: object) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    return str(value)


#: Identity fields compared with last quarter (an ``identity_drift`` warning when they differ).
DRIFT_KEYS = ("ho_ten", "ngay_sinh", "gioi_tinh", "so_cmnd")


def identity_key(key: str, value: object) -> str | None:
    """A drift field's value as the pipeline should read it, None when missing or unreadable
    (only values present in both quarters are compared)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if key == "ngay_sinh":
        d = typed_date(value)
        return d.isoformat() if isinstance(d, date) else None
    if key == "gioi_tinh":
        return canonical("gioi_tinh", value)
    return str(value).strip()


def record_issues(values: dict[str, object], q: Quarter, reporting_unit: str, units: dict[str, Unit],
                  r: dict[str, int]) -> list[tuple[str, str, str]]:
    """(field, rule, note) of one record's own rules (the contract's validations)."""
    out: list[tuple[str, str, str]] = []

    def blank(v: object) -> bool:
        return v is None or (isinstance(v, str) and not v.strip())

    chuc_vu = canonical("chuc_vu", values["chuc_vu"])
    dang_vien = canonical("dang_vien", values["dang_vien"])
    for f in schema.FIELDS:
        v = values[f.key]
        needed = (f.required == "yes" or (f.required == "teaching" and chuc_vu in schema.TEACHING_POSTS)
                  or (f.required == "party" and dang_vien == schema.PARTY_MEMBER))
        if blank(v):
            if needed:
                out.append((f.key, "required", ""))
            continue
        if f.catalog and canonical(f.catalog, v) is None:
            out.append((f.key, "not_in_catalog", str(v)))
        if f.kind == "grade" and v not in grade_infos():
            out.append((f.key, "not_in_catalog", str(v)))
    dates: dict[str, date | None] = {}
    for key in schema.DATE_KEYS:
        v = values[key]
        d = None if blank(v) else typed_date(v)
        if isinstance(d, BadDate):
            out.append((key, "invalid_value", d.text))
            d = None
        elif d is not None and d > q.end:
            out.append((key, "date_after_quarter", d.isoformat()))
        if isinstance(v, YearOnly):
            out.append((key, "year_only_date", str(v.year)))
        dates[key] = d
    birth = dates["ngay_sinh"]
    male = canonical("gioi_tinh", values["gioi_tinh"]) == "Nam"
    sex_known = canonical("gioi_tinh", values["gioi_tinh"]) is not None
    if birth:
        age = age_on(birth, q.end)
        if birth.year < r["min_birth_year"] or not r["min_working_age"] <= age <= r["max_age_at_quarter_end"]:
            out.append(("ngay_sinh", "birth_year_implausible", str(birth.year)))
        for key, rule in (("ngay_tuyen_dung", "recruited_under_18"), ("ngay_vao_nganh", "sector_entry_under_18"),
                          ("ngay_vao_dang", "party_entry_under_18")):
            d = dates[key]
            if d is not None and age_on(birth, d) < r["min_working_age"]:
                out.append((key, rule, d.isoformat()))
        if sex_known and canonical("tinh_trang", values["tinh_trang"]) == STATUS_WORKING:
            limit = r["retirement_age_male"] if male else r["retirement_age_female"]
            if age_on(birth, q.end) >= limit:
                out.append(("tinh_trang", "past_retirement_age", f"age {age_on(birth, q.end)}"))
    number = values["so_cmnd"]
    if not blank(number):
        digits = str(number).strip()
        if not (digits.isdigit() and len(digits) in (9, 12)):
            out.append(("so_cmnd", "id_number_format", digits))
        elif len(digits) == 12 and birth and sex_known:
            expected = (0 if male else 1) + (2 if birth.year >= 2000 else 0)
            if int(digits[3]) != expected or digits[4:6] != f"{birth.year % 100:02d}":
                out.append(("so_cmnd", "cccd_mismatch", digits))
    grade = grade_infos().get(str(values["ma_ngach"]))
    step, coef = values["bac_luong"], values["he_so_luong"]
    if grade and isinstance(step, int):
        if not 1 <= step <= grade.group.steps:
            out.append(("bac_luong", "step_out_of_range", str(step)))
        elif isinstance(coef, Decimal) and coef != grade.coefficient(step):
            out.append(("he_so_luong", "coefficient_mismatch", f"{coef} != {grade.coefficient(step)}"))
    trinh_do = canonical("trinh_do", values["trinh_do"])
    if grade and grade.min_trinh_do and trinh_do and qual_rank(trinh_do) < qual_rank(grade.min_trinh_do):
        out.append(("trinh_do", "qualification_below_grade", f"{trinh_do} < {grade.min_trinh_do}"))
    unit = units.get(str(values["ma_don_vi"]))
    if unit is None:
        out.append(("ma_don_vi", "unit_unknown", str(values["ma_don_vi"])))
    elif unit.reporting != reporting_unit:
        out.append(("ma_don_vi", "unit_other_reporting_unit", f"{unit.code} belongs to {unit.reporting}"))
    return out


def required_cells(values: dict[str, object]) -> tuple[int, int]:
    """(filled, required) cells of one record: the contract's required fields, the
    conditional ones only where they apply (teaching posts, party members)."""
    chuc_vu = canonical("chuc_vu", values["chuc_vu"])
    dang_vien = canonical("dang_vien", values["dang_vien"])
    filled = required = 0
    for f in schema.FIELDS:
        if (f.required == "yes" or (f.required == "teaching" and chuc_vu in schema.TEACHING_POSTS)
                or (f.required == "party" and dang_vien == schema.PARTY_MEMBER)):
            required += 1
            v = values[f.key]
            filled += not (v is None or (isinstance(v, str) and not v.strip()))
    return filled, required


def percent(part: int, whole: int) -> Decimal:
    """100 x part / whole to two decimals (half up), 0 when there is nothing to count."""
    if not whole:
        return Decimal("0.00")
    return (Decimal(100) * part / whole).quantize(CENT, ROUND_HALF_UP)


def write_demo_partitions(path: Path, first: str, last: str) -> None:
    """Offer the demo's own quarters in the UI (not every quarter since 2009):
    add a ``[partitions]`` section to the data folder's config.toml unless it has one."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if "partitions" in tomllib.loads(text):
        return
    section = (
        "# Written by `pmis demo`: the demo province's quarters.\n"
        f'[partitions]\nfirst_quarter = "{first}"\nlast_quarter = "{last}"\n'
    )
    path.write_text(text + ("\n" if text and not text.endswith("\n") else "") + section, encoding="utf-8")


def generate_demo(
    data_dir: Path,
    *,
    scale: float = 1.0,
    seed: int = 2009,
    quarters: Sequence[str] = ("2009-Q1", "2009-Q2", "2009-Q3", "2009-Q4"),
    progress: Progress | None = None,
) -> DemoSummary:
    """Write the demo province under ``data_dir`` (catalog, inbox, demo-truth).

    The inbox folders of ``quarters`` and ``demo-truth`` are replaced;
    ``catalog/units.csv`` is overwritten; nothing else is touched.
    """
    province = DemoProvince(Path(data_dir), scale, seed, quarters, progress or (lambda _msg: None))
    return province.run()
