"""One of each signable document rendered by LibreOffice, read page by page
(skipped when LibreOffice or poppler's pdftotext is not installed)."""

from __future__ import annotations

import re
import shutil
from datetime import date, datetime, timezone

import openpyxl
import polars as pl
import pytest

from pmis_pipeline.documents import write_announcement, write_district_contracts, write_payment_summary, write_receipt_list
from pmis_pipeline.documents.feedback import write_not_received_notice
from pmis_pipeline.documents.render import pdf_page_count, pdf_page_texts, render_pdfs
from pmis_pipeline.documents.settings import DocumentSettings
from tests.test_documents_issue9 import compliance, lines

pytestmark = pytest.mark.skipif(
    shutil.which("soffice") is None or shutil.which("pdftotext") is None,
    reason="LibreOffice (soffice) and poppler-utils (pdftotext) are needed to render",
)

Q = "2009-Q1"
SETTINGS = DocumentSettings(chief_accountant_name="Lê Thị Kế", tccb_head_name="Phan Văn Lập", payer_name="Võ Thị Quỹ")


def body_lines(page: str) -> list[str]:
    """A page's lines without its page number."""
    return [ln for ln in (x.strip() for x in page.splitlines()) if ln and not re.fullmatch(r"(Trang )?\d+(/\d+)?", ln)]


def breaks(path) -> int:
    return len(openpyxl.load_workbook(path).worksheets[0].row_breaks.brk)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("render")
    t = datetime(2009, 4, 18, 2, 0, tzinfo=timezone.utc)
    units = [(f"PGD{i:02d}", f"Phòng GD&ĐT huyện số {i}", "phong", True, t, 0, 700 + i, 99.5, 97.25, 60.0, i % 3, 98.0 - i / 10, i + 1) for i in range(9)]
    units += [(f"THPT{i:02d}", f"Trường THPT số {i} tỉnh Bến Tre", "truc_thuoc", True, t, i % 2, 80 + i, 99.96, 96.0, 50.0, 0, 97.0 - i / 10, i + 1) for i in range(39)]
    units.append(("THPT99", "Trường THPT chưa gửi", "truc_thuoc", False, None, None, 0, None, None, None, 0, 0.0, 40))
    docs = {
        "announcement": write_announcement(tmp / "thong-bao-ket-qua.xlsx", quarter=Q, compliance=compliance(units), settings=SETTINGS),
        "contracts": write_district_contracts(tmp / "hop-dong-thanh-ly.xlsx", quarter=Q, lines=lines(pgd=2, direct=1), settings=SETTINGS),
        "receipt_list": write_receipt_list(tmp / "danh-sach-ky-nhan.xlsx", quarter=Q, lines=lines(pgd=0, direct=60), officers={}, settings=SETTINGS),
        "summary": write_payment_summary(tmp / "tong-hop-kinh-phi.xlsx", quarter=Q, lines=lines(pgd=9, direct=40), settings=SETTINGS),
        "notice": write_not_received_notice(tmp / "PGD05.xlsx", quarter=Q, reporting_unit="PGD05", reporting_unit_name="Phòng GD&ĐT Giồng Trôm", deadline=date(2009, 4, 20)),
    }
    pdfs = dict(zip(docs, render_pdfs(list(docs.values()), tmp / "pdf")))
    return docs, pdfs


def test_no_page_is_empty(rendered):
    _, pdfs = rendered
    for kind, pdf in pdfs.items():
        pages = pdf_page_texts(pdf)
        assert len(pages) == pdf_page_count(pdf)
        for n, page in enumerate(pages, start=1):
            assert len(body_lines(page)) >= 3, f"{kind}: page {n} is (almost) empty: {page!r}"


def test_announcement_pages(rendered):
    _, pdfs = rendered
    pages = pdf_page_texts(pdfs["announcement"])
    assert 3 <= len(pages) <= 5
    start = next(i for i, p in enumerate(pages) if "Phụ lục" in p and "Kèm theo Thông báo" in p)
    annex = pages[start:]
    assert start >= 1 and annex
    for page in annex:  # never a repeated header without a row under it
        assert re.search(r"(PGD|THPT)\d\d", page)
    text = "\n".join(pages)
    assert "99,96" in text and "100,00" not in text  # completeness 99.96 is not 100
    assert "Chưa gửi" in text


def test_contract_pages_are_numbered_and_amounts_in_vietnamese_form(rendered):
    _, pdfs = rendered
    pages = pdf_page_texts(pdfs["contracts"])
    assert 4 <= len(pages) <= 12
    for n, page in enumerate(pages, start=1):
        assert re.search(r"Trang \d+", page), f"page {n} has no number"
    assert sum(bool(re.search(r"Trang 1\b", p)) for p in pages) == 4  # two contracts and two minutes, each from 1
    text = "\n".join(pages)
    assert "1.000.000" in text and "1,000,000" not in text  # PGD00: 500 records x 1,000 x 2 items


def test_receipt_list_pages_carry_totals(rendered):
    docs, pdfs = rendered
    pages = pdf_page_texts(pdfs["receipt_list"])
    assert len(pages) == breaks(docs["receipt_list"]) + 1 >= 2  # LibreOffice broke where the writer did
    for n, page in enumerate(pages, start=1):
        if n < len(pages):
            assert "Cộng trang" in page and "Chuyển sang trang sau" in page, n
        if n > 1:
            assert "Trang trước chuyển sang" in page, n
    last = pages[-1]
    assert "Tổng cộng" in last and "Bằng chữ" in last and "Nguyễn Văn Bé" in last and "Lê Thị Kế" in last
    total = sum(20 + i for i in range(60)) * 1000
    assert f"{total:,}".replace(",", ".") in last


def test_summary_ends_with_its_signatures(rendered):
    docs, pdfs = rendered
    pages = pdf_page_texts(pdfs["summary"])
    assert len(pages) == breaks(docs["summary"]) + 1
    assert "TỔNG CỘNG" in pages[-1] and "KẾ TOÁN TRƯỞNG" in pages[-1] and "Nguyễn Văn Bé" in pages[-1]


def test_notice_is_one_page(rendered):
    _, pdfs = rendered
    assert pdf_page_count(pdfs["notice"]) == 1
