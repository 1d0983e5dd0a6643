"""The quarter page in a real browser, through the read-only reports server.

A small real warehouse (the demo province at scale 0.05, one quarter,
materialized by Dagster), the page written from the published file, the
server started as ``./run up`` starts it (``python -m pmis_pipeline.serve``),
and the distribution's Chromium (``/usr/bin/chromium``) driven by Playwright:
the Vietnamese text renders, every unit's status agrees with the demo's
truth, every link answers 200 through the server, a workbook link downloads
as a workbook, nothing is fetched from anywhere else, and the screenshot is
a real page. The server refuses paths leaving the folder and any write.

Expected values come from the demo truth (``demo-truth/*.csv``), the catalog
file, and figures formatted by hand here (not by the page's helpers).
"""

from __future__ import annotations

import csv
import http.client
import os
import re
import shutil
import subprocess
import sys
import unicodedata
import urllib.error
import urllib.request
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import openpyxl
import pytest
from PIL import Image

from pmis_pipeline.demo import generate_demo
from pmis_pipeline.documents.quarter_page import page_summary, write_quarter_page, write_reports_index
from pmis_pipeline.serve import report_url, reports_base_url
from pmis_pipeline.stats import write_quarter_statistics
from tests.conftest import FAST_CONFIG, materialize_quarter

Q = "2009-Q1"
DEADLINE = date(2009, 4, 20)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
#: A unit name full of markup, and an extra document whose name needs percent-encoding.
ODD_NAME = 'Trường THPT <b>Thử</b> & "Nghiệm"'
EXTRA_FILE = "Bảng kê & ghi chú #1.xlsx"
EXTRA_HREF = "B%E1%BA%A3ng%20k%C3%AA%20%26%20ghi%20ch%C3%BA%20%231.xlsx"  # UTF-8, percent-encoded by hand
SECRET = "bí mật của Sở"


# ----------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("qpage") / "data"
    generate_demo(data, scale=0.05, quarters=(Q,))
    (data / "config.toml").write_text(FAST_CONFIG, encoding="utf-8")
    units = data / "catalog" / "units.csv"
    rows = list(csv.DictReader(units.open(encoding="utf-8")))
    odd = next(r for r in rows if r["loai"] == "truc_thuoc")
    odd["ten_don_vi"] = ODD_NAME
    with units.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    mp = pytest.MonkeyPatch()
    mp.setenv("PMIS_DATA_DIR", str(data))
    mp.delenv("PMIS_CONFIG", raising=False)
    materialize_quarter(data, Q)
    mp.undo()
    reports = data / "warehouse" / "reports"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Ghi chú của phòng TCCB"
    wb.save(reports / Q / EXTRA_FILE)
    (data / "warehouse" / "secret.txt").write_text(SECRET, encoding="utf-8")  # beside the reports folder
    os.symlink(data / "warehouse" / "secret.txt", reports / Q / "lien-ket.txt")  # a link leading out of it
    with duckdb.connect(str(data / "warehouse" / "pmis.duckdb"), read_only=True) as con:
        write_quarter_statistics(con, Q, reports)
        write_quarter_page(con, Q, reports, deadline=DEADLINE, today=date(2026, 1, 5),
                           thresholds={"min_completeness_pct": 95, "min_accuracy_pct": 90})
    write_reports_index(reports, [Q, "2009-Q2"])
    return data


@pytest.fixture(scope="module")
def server(demo):
    """The reports server as ``./run up`` starts it, on a free port."""
    root = demo / "warehouse" / "reports"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pmis_pipeline.serve", "--root", str(root), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    line = proc.stdout.readline()
    match = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
    assert match, f"server did not start: {line!r} {proc.stderr.read() if proc.poll() is not None else ''}"
    yield match.group(1)
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def truth(demo) -> dict[str, dict[str, str]]:
    with (demo / "demo-truth" / "units_expected.csv").open(encoding="utf-8") as fh:
        return {r["reporting_unit"]: r for r in csv.DictReader(fh) if r["quarter"] == Q}


@pytest.fixture(scope="module")
def rejected_units(demo) -> set[str]:
    """Units the demo sent only rejected files for (by the truth's file list)."""
    with (demo / "demo-truth" / "files.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["quarter"] == Q]
    readable = {r["reporting_unit"] for r in rows if r["expected_status"] != "rejected"}
    return {r["reporting_unit"] for r in rows if r["expected_status"] == "rejected" and r["reporting_unit"]} - readable


@pytest.fixture(scope="module")
def catalog(demo) -> dict[str, dict[str, str]]:
    with (demo / "catalog" / "units.csv").open(encoding="utf-8") as fh:
        return {r["ma_don_vi"]: r for r in csv.DictReader(fh) if r["loai"] in ("phong", "truc_thuoc")}


def _browser_or_skip():
    """Playwright (the ``dev`` extra) and the distribution's Chromium; missing
    Chromium fails where apt could install it (``./run test`` does), and is
    skipped, saying so, only where it cannot."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: ./run install (it is in the dev extra of pyproject.toml)")
    if not os.access(CHROMIUM, os.X_OK):
        if shutil.which("apt-get") and os.geteuid() == 0:
            pytest.fail(f"{CHROMIUM} is missing: ./run test installs it (apt-get install -y chromium)")
        pytest.skip(f"SKIPPED LOUDLY: {CHROMIUM} is missing and apt-get cannot install it here: the quarter page was not tested in a browser")
    return sync_playwright


def _get(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def _raw(base: str, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    """A request with the path sent exactly as given (no client-side normalisation)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        conn.putheader("Content-Length", str(len(body or b"")))
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _pct(value: float) -> str:
    """Two decimals with a decimal comma, written here independently of the page's helpers."""
    return f"{value:.2f}".replace(".", ",")


def _vnd(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


# -------------------------------------------------------------- the browser


def test_the_quarter_page_in_chromium_through_the_reports_server(demo, server, truth, rejected_units, catalog, tmp_path):
    sync_playwright = _browser_or_skip()
    reports = demo / "warehouse" / "reports"
    with duckdb.connect(str(demo / "warehouse" / "pmis.duckdb"), read_only=True) as con:
        scores = dict(con.execute("SELECT reporting_unit, score FROM unit_compliance WHERE quarter = ?", [Q]).fetchall())
        total = con.execute("SELECT sum(amount_vnd) FROM payments WHERE quarter = ?", [Q]).fetchone()[0]
        orphan = con.execute(
            "SELECT file_name FROM submissions WHERE quarter = ? AND status = 'rejected' AND reporting_unit IS NULL", [Q]
        ).fetchall()

    requested: list[str] = []
    shot = tmp_path / "quarter-page.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
            page.on("request", lambda r: requested.append(r.url))

            # the list of quarters, then a click through to the quarter's page
            page.goto(f"{server}/")
            index_text = page.inner_text("body")
            assert "Quý 1 năm 2009" in index_text and "Quý 2 năm 2009" in index_text
            assert "Chưa có báo cáo" in index_text  # 2009-Q2 has no page
            page.click("text=Quý 1 năm 2009")
            page.wait_for_url(f"{server}/{Q}/index.html")

            text = page.inner_text("body")
            assert unicodedata.is_normalized("NFC", text)
            assert "Kết quả cập nhật dữ liệu PMIS quý 1 năm 2009" in text
            assert "DỰ THẢO" not in page.title()  # 2026 is long after the deadline
            for code, unit in catalog.items():  # every reporting unit by its name, markup shown as text
                assert unit["ten_don_vi"] in text, code
            assert ODD_NAME in text
            assert page.locator("b", has_text="Thử").count() == 0  # escaped, not interpreted

            # each unit's status as the demo planted it
            for code, t in truth.items():
                row = page.locator("table.status tr", has=page.locator("td", has_text=re.compile(f"^{code}$")))
                badge = row.locator(".badge").inner_text().strip()
                if t["submitted"] == "0":
                    assert badge == ("Bị từ chối" if code in rejected_units else "Chưa gửi"), code
                elif int(t["days_late"]) > 0:
                    assert badge == f"Trễ {int(t['days_late'])} ngày", code
                else:
                    assert badge == "Đúng hạn", code
            for (name,) in orphan:  # a rejected file nobody handed over is listed with its reason
                assert name in page.locator("#tep-chua-ro-don-vi + p + table").inner_text()

            # the ranking prints each score as the announcement does: "99,12"
            for code, score in scores.items():
                row = page.locator("table.ranking tr", has=page.locator("td", has_text=re.compile(f"^{code}$")))
                assert row.locator("td").last.inner_text().strip() == _pct(score), code
            total_cell = page.locator("table.payments tr.total td").last.inner_text().strip()
            assert total_cell == _vnd(total) and "." in total_cell

            # charts: one SVG per group, a bar with its value for each unit that sent something
            assert page.locator("svg.chart").count() == 2
            assert page.locator("svg.chart rect[fill]").count() >= 3 * sum(1 for t in truth.values() if t["submitted"] == "1")

            # every link answers 200 through the server, relative links only
            hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => [e.getAttribute('href'), e.href])")
            files = [(raw, url) for raw, url in hrefs if not raw.startswith("#")]
            assert all("://" not in raw and not raw.startswith("/") for raw, _ in files), files
            for raw, url in files:
                status, _, _ = _get(url)
                assert status == 200, (raw, url, status)
            targets = {urllib.request.url2pathname(urlsplit(url).path) for _, url in files}
            for expected in (f"/{Q}/thong-bao-ket-qua-{Q}.xlsx", f"/{Q}/ra-soat-{Q}.xlsx", f"/{Q}/thong-ke-{Q}.xlsx",
                             f"/{Q}/thanh-toan/tong-hop-kinh-phi-{Q}.xlsx", f"/{Q}/{EXTRA_FILE}", "/index.html"):
                assert expected in targets, expected
            for code in catalog:
                if (reports / Q / "phan-hoi" / f"{code}.xlsx").is_file():
                    assert f"/{Q}/phan-hoi/{code}.xlsx" in targets

            # a click on a workbook downloads it, as a workbook, under its own name
            with page.expect_download() as info:
                page.click(f"a[href='thong-bao-ket-qua-{Q}.xlsx']")
            download = info.value
            assert download.suggested_filename == f"thong-bao-ket-qua-{Q}.xlsx"
            saved = tmp_path / download.suggested_filename
            download.save_as(saved)
            assert openpyxl.load_workbook(saved).sheetnames  # a real workbook came down
            with page.expect_download() as info:
                page.click(f"a[href='{EXTRA_HREF}']")
            assert info.value.suggested_filename == EXTRA_FILE  # the Vietnamese name survives

            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()

    # nothing was fetched from anywhere but the reports server
    assert requested and all(u.startswith(server + "/") for u in requested), [u for u in requested if not u.startswith(server)]
    # a real page: large, tall, many colours (text, badges, bars)
    assert shot.stat().st_size > 50_000
    with Image.open(shot) as im:
        assert im.width == 1280 and im.height > 1500
        colours = im.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 100


def test_workbooks_are_served_for_download_with_their_type(server):
    status, headers, body = _get(f"{server}/{Q}/thong-bao-ket-qua-{Q}.xlsx", "HEAD")
    assert status == 200 and headers["content-type"] == XLSX and body == b""
    assert headers["content-disposition"].startswith("attachment;")
    status, headers, body = _get(f"{server}/{Q}/thong-bao-ket-qua-{Q}.xlsx")
    assert status == 200 and body[:2] == b"PK" and int(headers["content-length"]) == len(body)
    status, headers, _ = _get(f"{server}/{Q}/index.html")
    assert headers["content-type"] == "text/html; charset=utf-8" and "default-src 'none'" in headers["content-security-policy"]
    status, _, _ = _get(f"{server}/{Q}")  # the folder without its slash: redirected to its page
    assert status == 200


def test_the_server_refuses_paths_leaving_the_folder_and_writes(demo, server):
    for path in (
        "/../secret.txt", "/%2e%2e/secret.txt", f"/{Q}/../../secret.txt", f"/{Q}/%2e%2e/%2e%2e/secret.txt",
        f"/{Q}/..%2f..%2fsecret.txt", "/..%5csecret.txt", f"/{Q}/lien-ket.txt", "/%00", "/.hidden",
        f"/{Q}/phan-hoi/",  # no listing of a folder without a page
    ):
        status, body = _raw(server, "GET", path)
        assert status in (400, 404), (path, status)
        assert SECRET.encode() not in body
    before = sorted(p.name for p in (demo / "warehouse" / "reports" / Q).iterdir())
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        status, _ = _raw(server, method, f"/{Q}/moi.xlsx", b"PK\x03\x04 not welcome")
        assert status == 405, method
    assert sorted(p.name for p in (demo / "warehouse" / "reports" / Q).iterdir()) == before


def test_report_url_percent_encodes_vietnamese_names(server):
    expected = f"http://127.0.0.1:3001/2009-Q1/{EXTRA_HREF}"
    assert report_url("http://127.0.0.1:3001/", f"2009-Q1/{EXTRA_FILE}") == expected
    assert report_url("http://127.0.0.1:3001", unicodedata.normalize("NFD", f"2009-Q1\\{EXTRA_FILE}")) == expected
    assert report_url("http://127.0.0.1:3001", Path("2009-Q1") / "index.html") == "http://127.0.0.1:3001/2009-Q1/index.html"
    for bad in ("../secret.txt", "2009-Q1/../../x", "/etc/passwd"):
        with pytest.raises(ValueError):
            report_url("http://127.0.0.1:3001", bad)
    status, headers, _ = _get(report_url(server, f"{Q}/{EXTRA_FILE}"))
    assert status == 200 and headers["content-type"] == XLSX
    assert reports_base_url({"PMIS_REPORTS_URL": "http://127.0.0.1:3001/"}) == "http://127.0.0.1:3001"
    assert reports_base_url({}) is None


# ------------------------------------------------------------ page content


def test_before_the_deadline_the_page_is_a_draft_and_lists_drafts(demo, tmp_path, truth):
    reports = tmp_path / "reports"
    (reports / Q / "thanh-toan").mkdir(parents=True)
    shutil.copy(demo / "warehouse" / "reports" / Q / f"thong-bao-ket-qua-{Q}.xlsx",
                reports / Q / f"thong-bao-ket-qua-{Q}-du-thao.xlsx")
    today = date(2009, 4, 12)
    with duckdb.connect(str(demo / "warehouse" / "pmis.duckdb"), read_only=True) as con:
        path = write_quarter_page(con, Q, reports, deadline=DEADLINE, today=today,
                                  produced_at=datetime(2009, 4, 12, 9, 30))
    page = path.read_text(encoding="utf-8")
    assert path == reports / Q / "index.html"
    assert "<title>Kết quả cập nhật dữ liệu PMIS quý 1 năm 2009 – DỰ THẢO</title>" in page
    assert "Chưa hết hạn gửi dữ liệu (20/04/2009)" in page
    assert "trang này lập lúc 12/04/2009 09:30" in page
    # the draft announcement is marked as such, next to its link
    assert re.search(r'href="thong-bao-ket-qua-2009-Q1-du-thao\.xlsx">[^<]+</a><span class="dt">DỰ THẢO</span>', page)
    missing = [c for c, t in truth.items() if t["submitted"] == "0"]
    if missing:  # a unit with nothing yet is told how long it has
        assert f"hạn gửi 20/04/2009 (còn {(DEADLINE - today).days} ngày)" in page
    assert html_escaped(ODD_NAME) in page and ODD_NAME not in page
    summary = page_summary(path)
    assert summary["pmis-quarter"] == Q and summary["pmis-draft"] == "1"
    assert summary["pmis-summary"].startswith("DỰ THẢO: Đã gửi ")


def html_escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def test_the_index_lists_quarters_newest_first_with_their_status(demo):
    index = demo / "warehouse" / "reports" / "index.html"
    text = index.read_text(encoding="utf-8")
    q2, q1 = text.index("Quý 2 năm 2009"), text.index("Quý 1 năm 2009")
    assert q2 < q1
    assert 'href="2009-Q1/index.html"' in text and 'href="2009-Q2/index.html"' not in text
    with (demo / "catalog" / "units.csv").open(encoding="utf-8") as fh:
        n_units = sum(1 for r in csv.DictReader(fh) if r["loai"] in ("phong", "truc_thuoc"))
    assert re.search(rf"Đã gửi \d+/{n_units} đơn vị \(đúng hạn \d+, trễ hạn \d+\)", text)


def test_a_quarter_not_in_the_warehouse_is_a_clear_error(demo, tmp_path):
    with duckdb.connect(str(demo / "warehouse" / "pmis.duckdb"), read_only=True) as con:
        with pytest.raises(ValueError, match="2009-Q3 is not in the warehouse"):
            write_quarter_page(con, "2009-Q3", tmp_path, deadline=date(2009, 9, 20), today=date(2009, 9, 1))


def test_pmis_page_writes_the_pages_from_the_published_file(demo, tmp_path, capsys):
    from pmis_pipeline.cli import main

    data = tmp_path / "data"
    shutil.copytree(demo, data, symlinks=True)
    (data / "warehouse" / "reports" / "index.html").unlink()
    assert main(["page", "--data", str(data)]) == 0
    assert "1 quarter page(s)" in capsys.readouterr().out
    page = (data / "warehouse" / "reports" / Q / "index.html").read_text(encoding="utf-8")
    assert "hạn gửi dữ liệu: <b>20/04/2009</b>" in page  # the demo calendar's deadline
    assert "DỰ THẢO" not in page.split("</title>")[0]  # today is after it
    assert "ngưỡng 95" in page and "ngưỡng 90" in page  # the [checks] defaults on the charts
    index = (data / "warehouse" / "reports" / "index.html").read_text(encoding="utf-8")
    assert 'href="2009-Q1/index.html"' in index and "Quý 2 năm 2009" not in index
