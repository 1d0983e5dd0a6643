"""The quarter page: one self-contained HTML report per quarter, for the
people who do not use Dagster, written next to the quarter's workbooks
(``<reports>/<quarter>/index.html``), and the list of quarters
(``<reports>/index.html``).

The page shows, in Vietnamese: which quarter and when the data was built and
the page produced (a draft before the deadline says "DỰ THẢO"); the status of
every reporting unit (on time, late by N days, rejected with the reason, not
sent) with its name and its feedback workbook; the ranking of each group as
the announcement prints it (two decimals, decimal comma); charts of
completeness, accuracy and photo coverage per unit (inline SVG drawn here);
the quarter's payments (``28.532.000``); and a link to every document
present in the quarter's folder (announcement, payment documents, feedback
workbooks, review workbook, statistics workbook, PDF copies).

Self-contained: inline CSS and SVG, no script, no font, no image, nothing
fetched from anywhere; every link is relative, so the quarter's folder can
be copied or sent as it is and opened from a USB stick. Everything that
comes from data (unit names, file names, messages) is escaped with
:func:`html.escape`. Pages are written atomically (a reader never sees half
a page).
"""

from __future__ import annotations

import html
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

import duckdb

from pmis_pipeline.documents.announcement import COLUMNS as RANKING_COLUMNS
from pmis_pipeline.documents.announcement import NOT_SENT, TIE_BREAK, scoring_rule
from pmis_pipeline.documents.common import (
    DRAFT_MARK,
    TIMEZONE,
    format_datetime,
    quarter_of,
    quarter_title,
)
from pmis_pipeline.documents.money import amount_in_words, format_decimal, format_pct, format_vnd
from pmis_pipeline.documents.payments import ITEM_LABELS
from pmis_pipeline.documents.settings import DEFAULT_SETTINGS, DocumentSettings

PAGE_NAME = "index.html"
QUARTER_RE = re.compile(r"^\d{4}-Q[1-4]$")

ON_TIME = "Đúng hạn"
LATE = "Trễ {n} ngày"
REJECTED = "Bị từ chối"
GROUPS = (("phong", "Phòng Giáo dục và Đào tạo"), ("truc_thuoc", "Đơn vị trực thuộc Sở"))
PAYEE_GROUPS = (*GROUPS, ("so", "Sở Giáo dục và Đào tạo"))

#: Documents by file name, in the order the page lists them: (pattern, title, what it is).
DOCUMENT_KINDS: tuple[tuple[str, str, str], ...] = (
    ("thong-bao-ket-qua-*", "Thông báo kết quả cập nhật dữ liệu PMIS",
     "Thông báo của Sở kèm phụ lục xếp hạng các đơn vị, để trình ký."),
    ("thanh-toan/hop-dong-thanh-ly-*", "Hợp đồng và biên bản thanh lý",
     "Hợp đồng và biên bản thanh lý với từng Phòng GD&ĐT."),
    ("thanh-toan/danh-sach-ky-nhan-*", "Danh sách ký nhận kinh phí",
     "Danh sách ký nhận kinh phí của các đơn vị trực thuộc Sở."),
    ("thanh-toan/tong-hop-kinh-phi-*", "Bảng tổng hợp kinh phí",
     "Tổng hợp kinh phí cập nhật dữ liệu của quý, theo từng khoản chi."),
    ("ra-soat-*", "Sổ rà soát của Sở",
     "Đề xuất bổ sung danh mục đơn vị, tệp bị từ chối, số liệu từng đơn vị báo cáo (dùng nội bộ phòng TCCB)."),
    ("thong-ke-*", "Báo cáo thống kê",
     "Thống kê đội ngũ theo đơn vị, cấp học, giới tính, dân tộc, trình độ, độ tuổi, ngạch; biến động so với quý trước."),
)
FEEDBACK_DIR = "phan-hoi"


# ------------------------------------------------------------------ helpers


def _e(value: Any) -> str:
    """Escaped text of a value from data (None -> "")."""
    return html.escape(unicodedata.normalize("NFC", "" if value is None else str(value)), quote=True)


def _href(rel: PurePosixPath | str) -> str:
    """A relative link to a file of the folder: each part percent-encoded (UTF-8, NFC)."""
    parts = PurePosixPath(rel).parts
    return "/".join(quote(unicodedata.normalize("NFC", p), safe="") for p in parts)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _int(value: Any) -> str:
    return "" if value is None else format_vnd(int(value))


def _pct(value: Any) -> str:
    return "" if value is None else format_pct(float(value), 2)


def _day(day: date | None) -> str:
    """``20/04/2009`` (the page writes every date as dd/mm/yyyy, like its times)."""
    return "" if day is None else day.strftime("%d/%m/%Y")


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{format_decimal(n / (1024 * 1024), 1)} MB"
    return f"{format_decimal(max(n, 1) / 1024, 1)} KB"


def _write_atomically(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(unicodedata.normalize("NFC", text))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# -------------------------------------------------------------------- files


@dataclass(frozen=True)
class QuarterFile:
    """A file of the quarter's folder, relative to it."""

    rel: PurePosixPath
    size: int
    modified: datetime
    pdf: PurePosixPath | None = None  # its PDF copy (``pdf/<stem>.pdf`` beside it)

    @property
    def draft(self) -> bool:
        return self.rel.stem.endswith("-du-thao")


def quarter_files(folder: Path) -> list[QuarterFile]:
    """Every document present in ``folder`` (not the page itself, not hidden
    files, staging folders or symbolic links), with its PDF copy when ``pmis
    render`` made one."""
    if not folder.is_dir():
        return []
    found: dict[PurePosixPath, os.stat_result] = {}
    root = folder.resolve()
    for path in sorted(folder.rglob("*")):
        rel = PurePosixPath(path.relative_to(folder).as_posix())
        if any(part.startswith((".", "~$")) for part in rel.parts) or path.is_symlink() or not path.is_file():
            continue  # hidden, staging, Excel's lock files; links (the server may refuse them)
        if root not in path.resolve().parents:
            continue  # reached through a linked folder
        if rel == PurePosixPath(PAGE_NAME):
            continue
        found[rel] = path.stat()
    pdfs = {rel for rel in found if rel.suffix.lower() == ".pdf" and rel.parent.name == "pdf"}
    out, used = [], set()
    for rel, st in found.items():
        if rel in pdfs:
            continue
        pdf = rel.parent / "pdf" / f"{rel.stem}.pdf"
        if pdf in pdfs:
            used.add(pdf)
        out.append(QuarterFile(rel, st.st_size, datetime.fromtimestamp(st.st_mtime, TIMEZONE), pdf if pdf in pdfs else None))
    for rel in sorted(pdfs - used):  # a PDF whose workbook is gone
        st = found[rel]
        out.append(QuarterFile(rel, st.st_size, datetime.fromtimestamp(st.st_mtime, TIMEZONE)))
    return out


# ---------------------------------------------------------------------- data


@dataclass
class UnitStatus:
    code: str
    name: str
    loai: str
    label: str  # Đúng hạn / Trễ N ngày / Bị từ chối / Chưa gửi
    css: str  # ok / late / rejected / missing
    detail: str  # escaped HTML
    row: dict[str, Any]


def _unit_statuses(
    compliance: list[dict[str, Any]], files: list[dict[str, Any]], *, deadline: date, today: date
) -> list[UnitStatus]:
    by_unit: dict[str, list[dict[str, Any]]] = {}
    for f in files:
        if f["reporting_unit"]:
            by_unit.setdefault(f["reporting_unit"], []).append(f)
    out = []
    for row in compliance:
        code = row["reporting_unit"]
        mine = by_unit.get(code, [])
        rejected = [f for f in mine if not f["readable"]]
        used = [f for f in mine if f["status"] == "accepted"]
        parts: list[str] = []
        if row["submitted"]:
            late = int(row["days_late"] or 0)
            label, css = (LATE.format(n=late), "late") if late > 0 else (ON_TIME, "ok")
            first = format_datetime(row["first_received_at"])
            when = f"Nhận lần đầu {first}" + (f", sau hạn {_day(row['deadline'] or deadline)}" if late > 0 else "")
            parts.append(_e(f"{when}; {len(used)} tệp đang dùng, {_int(row['n_records'])} hồ sơ."))
        elif rejected:
            label, css = REJECTED, "rejected"
            parts.append(_e("Chưa có tệp nào đọc được: đơn vị cần sửa và gửi lại."))
        else:
            label, css = NOT_SENT, "missing"
            if today <= deadline:
                days = (deadline - today).days
                parts.append(_e(f"Chưa nhận được tệp nào; hạn gửi {_day(deadline)} (còn {days} ngày)."))
            else:
                parts.append(_e(
                    f"Không nhận được tệp nào đến hạn {_day(deadline)}: 0 điểm, không được chi kinh phí nhập liệu."
                ))
        for f in rejected:
            parts.append(
                f'<span class="why">Tệp bị từ chối (nhận {_e(format_datetime(f["received_at"]))}): '
                f"{_e(f['error'] or 'không đọc được tệp')}</span>"
            )
        out.append(UnitStatus(code, row["ten_don_vi"] or code, row["loai"], label, css, "<br>".join(parts), row))
    return out


# ---------------------------------------------------------------------- SVG


CHART_METRICS = (
    ("completeness_pct", "Đầy đủ (%)", "#2b6cb0"),
    ("accuracy_pct", "Chính xác (%)", "#2f855a"),
    ("photo_pct", "Có ảnh (%)", "#6b46c1"),
)
BELOW = "#c53030"
LABEL_W, PANEL_W, BAR_W, GAP, ROW_H, TOP = 350, 210, 150, 14, 20, 40


def _short(text: str, limit: int = 54) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bar_chart(units: Sequence[UnitStatus], title: str, thresholds: Mapping[str, float]) -> str:
    """Three bar panels (completeness, accuracy, photos; 0-100) sharing one
    row per unit; bars below a threshold in red with the threshold dashed."""
    n = len(units)
    width = LABEL_W + len(CHART_METRICS) * (PANEL_W + GAP)
    height = TOP + n * ROW_H + 8
    out = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{_e(title)}">',
        f"<title>{_e(title)}</title>",
    ]
    for i, (key, label, color) in enumerate(CHART_METRICS):
        x0 = LABEL_W + i * (PANEL_W + GAP)
        out.append(f'<text x="{x0}" y="14" class="ph">{_e(label)}</text>')
        for tick in (0, 50, 100):
            x = x0 + BAR_W * tick / 100
            out.append(f'<line x1="{x:.1f}" y1="24" x2="{x:.1f}" y2="{height - 6}" class="grid"/>')
            out.append(f'<text x="{x:.1f}" y="34" class="tick">{tick}</text>')
        limit = thresholds.get(key)
        for r, unit in enumerate(units):
            y = TOP + r * ROW_H
            if not unit.row["submitted"]:
                if i == 0:
                    out.append(f'<text x="{x0 + 4}" y="{y + 14}" class="none">{_e(NOT_SENT)}</text>')
                continue
            value = float(unit.row[key] or 0.0)
            below = limit is not None and value < float(limit)
            w = max(BAR_W * min(value, 100.0) / 100, 0.5)
            out.append(
                f'<rect x="{x0}" y="{y + 4}" width="{w:.1f}" height="{ROW_H - 7}" fill="{BELOW if below else color}">'
                f"<title>{_e(unit.name)}: {_e(label)} {_e(_pct(value))}</title></rect>"
            )
            out.append(f'<text x="{x0 + BAR_W + 4}" y="{y + 14}" class="val{" bad" if below else ""}">{_e(_pct(value))}</text>')
        if limit is not None:  # over the bars, labelled beside the panel's title
            x = x0 + BAR_W * float(limit) / 100
            shown = format_decimal(float(limit), 0 if float(limit).is_integer() else 1)
            out.append(f'<line x1="{x:.1f}" y1="{TOP - 2}" x2="{x:.1f}" y2="{height - 6}" class="limit"/>')
            out.append(f'<text x="{x0 + BAR_W + 4}" y="14" class="lim">ngưỡng {_e(shown)}</text>')
    for r, unit in enumerate(units):
        y = TOP + r * ROW_H
        if r % 2:
            out.insert(2, f'<rect x="0" y="{y + 1}" width="{width}" height="{ROW_H}" class="band"/>')
        out.append(f'<text x="{LABEL_W - 8}" y="{y + 14}" class="lab"><title>{_e(unit.code)} – {_e(unit.name)}</title>'
                   f"{_e(_short(unit.name))}</text>")
    out.append("</svg>")
    return "".join(out)


# ---------------------------------------------------------------------- page


CSS = """
:root { --ink: #1a202c; --mute: #4a5568; --line: #cbd5e0; --head: #edf2f7; }
* { box-sizing: border-box; }
body { font-family: "Segoe UI", Arial, "Liberation Sans", "DejaVu Sans", sans-serif; color: var(--ink);
       margin: 0 auto; padding: 16px 24px 40px; max-width: 1180px; font-size: 15px; line-height: 1.45; }
header .org { margin: 0; color: var(--mute); font-size: 13px; text-transform: uppercase; letter-spacing: .02em; }
h1 { font-size: 24px; margin: 4px 0 6px; }
h2 { font-size: 19px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--ink); }
h3 { font-size: 16px; margin: 18px 0 6px; }
p { margin: 6px 0; }
.meta { color: var(--mute); }
.draft { border: 3px solid #c53030; color: #c53030; padding: 8px 12px; font-weight: bold; margin: 10px 0; }
.draft b { font-size: 20px; letter-spacing: .08em; margin-right: 8px; }
.warn { border: 2px solid #c05621; background: #fffaf0; padding: 8px 12px; margin: 10px 0; }
nav { margin: 10px 0; font-size: 14px; }
nav a { margin-right: 14px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; min-width: 120px; }
.card b { display: block; font-size: 22px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: 4px 6px; vertical-align: top; }
th { background: var(--head); text-align: center; font-weight: 600; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.c { text-align: center; white-space: nowrap; }
table.status th:nth-child(2), table.ranking th:nth-child(2) { white-space: nowrap; }
tr.sub td { background: #f7fafc; font-weight: 600; }
tr.total td { font-weight: bold; background: var(--head); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600; white-space: nowrap; font-size: 13px; }
.ok { background: #c6f6d5; color: #22543d; }
.late { background: #feebc8; color: #7b341e; }
.rejected { background: #fed7d7; color: #822727; }
.missing { background: #e2e8f0; color: #1a202c; border: 1px solid #718096; }
.why { color: #822727; }
.attn { border-left: 4px solid #c05621; padding: 4px 12px; margin: 8px 0; background: #fffaf0; }
.attn ul { margin: 4px 0; padding-left: 18px; } .attn li { margin: 3px 0; }
.file { font-family: Consolas, "Liberation Mono", "DejaVu Sans Mono", monospace; font-size: 12px; color: var(--mute); }
.dt { display: inline-block; border: 1px solid #c53030; color: #c53030; font-weight: bold; font-size: 12px; padding: 0 5px; margin-left: 6px; }
.note { color: var(--mute); font-size: 13px; }
ul.grid { columns: 3 300px; column-gap: 24px; padding-left: 18px; font-size: 14px; }
ul.grid li { break-inside: avoid; margin: 2px 0; }
ul.docs li { margin: 4px 0; }
.legend span { display: inline-block; width: 12px; height: 12px; vertical-align: -1px; margin: 0 4px 0 12px; }
svg.chart { max-width: 100%; height: auto; display: block; margin: 6px 0 14px; }
svg text { font-family: inherit; font-size: 12px; fill: var(--ink); }
svg .lab { text-anchor: end; }
svg .ph { font-weight: 600; font-size: 13px; }
svg .tick { fill: var(--mute); font-size: 10px; text-anchor: middle; }
svg .val { font-size: 11px; }
svg .val.bad { fill: #c53030; font-weight: 600; }
svg .none { fill: var(--mute); font-style: italic; }
svg .grid { stroke: #e2e8f0; stroke-width: 1; }
svg .limit { stroke: #c53030; stroke-width: 1.2; stroke-dasharray: 4 3; }
svg .band { fill: #f7fafc; }
svg .lim { fill: #c53030; font-size: 11px; }
footer { margin-top: 30px; color: var(--mute); font-size: 13px; border-top: 1px solid var(--line); padding-top: 8px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  h1 { font-size: 16pt; } h2 { font-size: 13pt; margin-top: 14pt; } h3 { font-size: 11pt; }
  table { font-size: 8.5pt; } th, td { padding: 2px 4px; }
  .note, .file { font-size: 8pt; }
  .card { padding: 3px 8px; min-width: 0; } .card b { font-size: 14pt; }
  .badge { font-size: 8pt; padding: 0 4px; }
  ul.grid { columns: 3; font-size: 8.5pt; }
  nav { display: none; }
  a { color: inherit; text-decoration: none; }
  h2, h3 { break-after: avoid; }
  tr, svg.chart, .card { break-inside: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _ranking_table(units: Sequence[UnitStatus]) -> str:
    heads = "".join(f"<th>{_e(c.header)}</th>" for c in RANKING_COLUMNS)
    body = []
    for u in sorted(units, key=lambda u: (u.row["rank"] is None, u.row["rank"] or 0, u.code)):
        r = u.row
        sent = bool(r["submitted"])
        cells = [
            f'<td class="c">{_e(r["rank"])}</td>',
            f'<td class="c">{_e(u.code)}</td>',
            f"<td>{_e(u.name)}</td>",
            f'<td class="c">{_e(format_datetime(r["first_received_at"]) if sent and r["first_received_at"] else NOT_SENT)}</td>',
            f'<td class="num">{_int(r["days_late"]) if sent else ""}</td>',
            f'<td class="num">{_int(r["n_records"]) if sent else ""}</td>',
            f'<td class="num">{_pct(r["completeness_pct"]) if sent else ""}</td>',
            f'<td class="num">{_pct(r["accuracy_pct"]) if sent else ""}</td>',
            f'<td class="num">{_pct(r["photo_pct"]) if sent else ""}</td>',
            f'<td class="num">{_int(r["lost_records"]) if sent else ""}</td>',
            f'<td class="num"><b>{_pct(r["score"])}</b></td>',
        ]
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f'<table class="ranking"><thead><tr>{heads}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _status_table(units: Sequence[UnitStatus], files_by_rel: Mapping[PurePosixPath, QuarterFile]) -> str:
    rows = []
    for i, u in enumerate(sorted(units, key=lambda u: u.code), start=1):
        fb = files_by_rel.get(PurePosixPath(FEEDBACK_DIR) / f"{u.code}.xlsx")
        link = f'<a href="{_href(fb.rel)}">Sổ phản hồi</a>' if fb else '<span class="note">chưa có</span>'
        rows.append(
            f'<tr class="st-{u.css}"><td class="c">{i}</td><td class="c">{_e(u.code)}</td><td>{_e(u.name)}</td>'
            f'<td class="c"><span class="badge {u.css}">{_e(u.label)}</span></td><td>{u.detail}</td><td class="c">{link}</td></tr>'
        )
    return (
        '<table class="status"><thead><tr><th>STT</th><th>Mã đơn vị</th><th>Tên đơn vị</th><th>Tình trạng</th>'
        f'<th>Chi tiết</th><th>Phản hồi</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _payments_section(lines: list[dict[str, Any]]) -> str:
    """One row per payment line (an item at one rate), payees grouped by type,
    a subtotal of amounts per group, the total and the total in words."""
    if not lines:
        return '<p class="note">Quý này không có khoản chi nào (chưa có hồ sơ hợp lệ được chi lần đầu trong năm).</p>'
    order = {k: i for i, k in enumerate(ITEM_LABELS)}
    heads = (
        "<th>STT</th><th>Đơn vị nhận</th><th>Khoản chi</th><th>Số hồ sơ</th><th>Mức chi (đồng/hồ sơ)</th>"
        "<th>Thành tiền (đồng)</th>"
    )
    rows, total, n = [], 0, 0
    for kind, heading in PAYEE_GROUPS:
        payees: dict[str, list[dict[str, Any]]] = {}
        for ln in lines:
            if ln["payee_type"] == kind:
                payees.setdefault(ln["payee"], []).append(ln)
        if not payees:
            continue
        sub = sum(int(ln["amount_vnd"] or 0) for items in payees.values() for ln in items)
        rows.append(f'<tr class="sub"><td colspan="5">{_e(heading)} ({len(payees)} đơn vị)</td>'
                    f'<td class="num">{_e(format_vnd(sub))}</td></tr>')
        for code, items in sorted(payees.items()):
            n += 1
            items = sorted(items, key=lambda ln: order.get(ln["item"], 99))
            span = f' rowspan="{len(items)}"' if len(items) > 1 else ""
            for j, ln in enumerate(items):
                lead = (
                    f'<td class="c"{span}>{n}</td><td{span}>{_e(ln["payee_name"] or code)} '
                    f'<span class="file">{_e(code)}</span></td>'
                    if j == 0 else ""
                )
                rows.append(
                    f"<tr>{lead}<td>{_e(ITEM_LABELS.get(ln['item'], ln['item']))}</td>"
                    f'<td class="num">{_int(ln["n_records"])}</td><td class="num">{_int(ln["rate_vnd"])}</td>'
                    f'<td class="num">{_int(ln["amount_vnd"])}</td></tr>'
                )
        total += sub
    rows.append(f'<tr class="total"><td colspan="5">Tổng cộng</td><td class="num">{_e(format_vnd(total))}</td></tr>')
    return (
        f"<table class=\"payments\"><thead><tr>{heads}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<p>Bằng chữ: <i>{_e(amount_in_words(total))}</i>.</p>"
        '<p class="note">Mỗi hồ sơ được chi một lần trong năm, ở quý đầu tiên hồ sơ hợp lệ (không có lỗi). '
        "Chứng từ để ký: mục 5.</p>"
    )


def _file_line(f: QuarterFile, title: str) -> str:
    draft = f'<span class="dt">{_e(DRAFT_MARK)}</span>' if f.draft else ""
    pdf = f' · <a href="{_href(f.pdf)}">bản PDF</a>' if f.pdf else ""
    return (
        f'<a href="{_href(f.rel)}">{_e(title)}</a>{draft}{pdf} <span class="file">{_e(f.rel.as_posix())} · '
        f"{_e(_size(f.size))} · {_e(format_datetime(f.modified))}</span>"
    )


def _documents_section(files: Sequence[QuarterFile], names: Mapping[str, str]) -> str:
    if not files:
        return '<p class="note">Thư mục của quý chưa có tài liệu nào.</p>'
    remaining = list(files)
    items = []
    for pattern, title, what in DOCUMENT_KINDS:
        matched = [f for f in remaining if f.rel.match(pattern) and f.rel.suffix.lower() in (".xlsx", ".xls")]
        for f in matched:
            remaining.remove(f)
            items.append(f"<li>{_file_line(f, title)}<br><span class=\"note\">{_e(what)}</span></li>")
    parts = [f"<ul class=\"docs\">{''.join(items)}</ul>"] if items else []
    feedback = [f for f in remaining if f.rel.parent == PurePosixPath(FEEDBACK_DIR) and f.rel.suffix.lower() == ".xlsx"]
    if feedback:
        links = []
        for f in sorted(feedback, key=lambda f: f.rel.stem):
            remaining.remove(f)
            code = f.rel.stem
            name = names.get(code, "")
            links.append(
                f'<li><a href="{_href(f.rel)}">{_e(code)}{" – " + _e(name) if name else ""}</a> '
                f'<span class="file">{_e(_size(f.size))}</span></li>'
            )
        parts.append(
            f"<h3>Sổ phản hồi gửi từng đơn vị ({len(feedback)} tệp, trong thư mục <code>{FEEDBACK_DIR}/</code>)</h3>"
            '<p class="note">Mỗi đơn vị nhận sổ của mình: các hồ sơ cần sửa, hồ sơ bị mất, tệp bị từ chối và lý do; '
            "đơn vị chưa gửi nhận thông báo một trang.</p>"
            f'<ul class="grid">{"".join(links)}</ul>'
        )
    if remaining:
        parts.append("<h3>Tệp khác</h3><ul>" + "".join(f"<li>{_file_line(f, f.rel.name)}</li>" for f in remaining) + "</ul>")
    return "".join(parts)


def _unknown_rejected(files: list[dict[str, Any]]) -> str:
    orphans = [f for f in files if not f["readable"] and not f["reporting_unit"]]
    if not orphans:
        return ""
    rows = "".join(
        f'<tr><td class="file">{_e(f["file_name"])}</td><td class="c">{_e(format_datetime(f["received_at"]))}</td>'
        f'<td class="why">{_e(f["error"] or "không đọc được tệp")}</td></tr>'
        for f in orphans
    )
    return (
        f'<h3 id="tep-chua-ro-don-vi">Tệp bị từ chối chưa rõ đơn vị gửi ({len(orphans)} tệp)</h3>'
        '<p class="note">Không đọc được đơn vị trong tệp. Ghi mã đơn vị đã giao tệp vào cột <code>reporting_unit</code> '
        "của <code>receipts.csv</code> trong thư mục hộp thư của quý để lý do đến đúng sổ phản hồi của đơn vị.</p>"
        "<table><thead><tr><th>Tệp</th><th>Nhận lúc</th><th>Lý do</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _attention(statuses: Sequence[UnitStatus], orphans: int = 0) -> str:
    """The units the clerk has to act on, by name, before the long tables."""
    items = []
    for css, label in (("missing", NOT_SENT), ("rejected", REJECTED), ("late", "Trễ hạn")):
        units = [s for s in statuses if s.css == css]
        if not units:
            continue
        names = ", ".join(
            f"{_e(s.name)} ({_e(s.label.lower())})" if css == "late" else _e(s.name)
            for s in sorted(units, key=lambda s: (-int(s.row["days_late"] or 0), s.code))
        )
        items.append(f'<li><span class="badge {css}">{_e(label)}</span> {len(units)} đơn vị: {names}</li>')
    if orphans:
        items.append(
            f'<li><span class="badge rejected">Tệp bị từ chối</span> {orphans} tệp chưa rõ đơn vị gửi: '
            '<a href="#tep-chua-ro-don-vi">xem cuối mục này</a></li>'
        )
    if not items:
        return '<p class="attn">Tất cả đơn vị đã gửi dữ liệu đúng hạn.</p>'
    return f'<div class="attn"><b>Cần chú ý:</b><ul>{"".join(items)}</ul></div>'


def _summary(statuses: Sequence[UnitStatus]) -> dict[str, int]:
    return {
        "units": len(statuses),
        "sent": sum(1 for s in statuses if s.row["submitted"]),
        "on_time": sum(1 for s in statuses if s.css == "ok"),
        "late": sum(1 for s in statuses if s.css == "late"),
        "rejected": sum(1 for s in statuses if s.css == "rejected"),
        "missing": sum(1 for s in statuses if s.css == "missing"),
        "records": sum(int(s.row["n_records"] or 0) for s in statuses if s.row["submitted"]),
    }


def summary_line(counts: Mapping[str, int], draft: bool) -> str:
    """One line for the list of quarters: "Đã gửi 40/49 đơn vị (đúng hạn 35, trễ hạn 5); ..."."""
    parts = [f"Đã gửi {counts['sent']}/{counts['units']} đơn vị (đúng hạn {counts['on_time']}, trễ hạn {counts['late']})"]
    if counts["rejected"]:
        parts.append(f"bị từ chối {counts['rejected']}")
    if counts["missing"]:
        parts.append(f"chưa gửi {counts['missing']}")
    parts.append(f"{format_vnd(counts['records'])} hồ sơ")
    text = "; ".join(parts)
    return f"{DRAFT_MARK}: {text}" if draft else text


def write_quarter_page(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    reports_dir: Path,
    *,
    deadline: date,
    today: date,
    produced_at: datetime | None = None,
    thresholds: Mapping[str, float] | None = None,
    scoring: Mapping[str, Any] | None = None,
    settings: DocumentSettings | None = None,
) -> Path:
    """Write ``<reports_dir>/<quarter>/index.html``; returns its path.

    ``con``: the build or the published database (its ``core`` tables).
    ``deadline`` the quarter's deadline and ``today`` the local date: on or
    before the deadline the page is a draft ("DỰ THẢO"). ``produced_at``
    (default: now, Asia/Ho_Chi_Minh) is printed as the time the page was
    produced. ``thresholds``: the ``[checks]`` section
    (``min_completeness_pct``, ``min_accuracy_pct``) drawn on the charts;
    ``scoring`` the ``[scoring]`` weights stated under the ranking;
    ``settings`` the ``[documents]`` issuer printed in the heading.

    The documents listed are the files actually present in the quarter's
    folder when the page is written: write it after the documents.
    Raises :class:`ValueError` when ``quarter`` is not in the database."""
    q = quarter_of(quarter)
    key = q.key
    cfg = settings or DEFAULT_SETTINGS
    produced_at = produced_at or datetime.now(TIMEZONE)
    compliance = _rows(
        con,
        "SELECT * FROM core.unit_compliance WHERE quarter = ? ORDER BY loai, rank, reporting_unit",
        [key],
    )
    if not compliance:
        raise ValueError(f"quarter {key} is not in the warehouse (no unit_compliance rows): materialize it first")
    files = _rows(
        con,
        """
        SELECT f.file_name, f.reporting_unit, f.received_at, f.readable, f.error, f.n_records,
               coalesce(st.status, CASE WHEN f.readable THEN 'accepted' ELSE 'rejected' END) AS status
        FROM core.submission_files f
        LEFT JOIN core.submission_status st USING (quarter, submission_id)
        WHERE f.quarter = ? ORDER BY f.received_at, f.seq
        """,
        [key],
    )
    lines = _rows(con, "SELECT * FROM core.payments WHERE quarter = ? ORDER BY payee, item", [key])
    state = _rows(con, "SELECT built_at, blocking_passed, problems FROM core.quarter_state WHERE quarter = ?", [key])
    folder = Path(reports_dir) / key
    present = quarter_files(folder)
    by_rel = {f.rel: f for f in present}
    statuses = _unit_statuses(compliance, files, deadline=deadline, today=today)
    counts = _summary(statuses)
    draft = today <= deadline
    title = f"Kết quả cập nhật dữ liệu PMIS {q.label_vi}"
    limits = {
        "completeness_pct": (thresholds or {}).get("min_completeness_pct"),
        "accuracy_pct": (thresholds or {}).get("min_accuracy_pct"),
    }
    limits = {k: v for k, v in limits.items() if v is not None}

    body: list[str] = []
    body.append(
        f'<header><p class="org">{_e(cfg.authority)} · {_e(cfg.department)} · Phòng Tổ chức cán bộ</p>'
        f"<h1>{_e(title)}{' (' + DRAFT_MARK + ')' if draft else ''}</h1>"
    )
    built = state[0]["built_at"] if state else None
    if built is not None and built.tzinfo is None:
        built = built.astimezone(TIMEZONE)  # quarter_state.built_at is the build machine's local time
    body.append(
        f'<p class="meta">Số liệu của <b>{_e(q.label_vi)}</b> (từ {_e(_day(q.start))} đến {_e(_day(q.end))}); '
        f"hạn gửi dữ liệu: <b>{_e(_day(deadline))}</b>. "
        f"Dữ liệu tổng hợp lúc {_e(format_datetime(built) or 'không rõ')}; trang này lập lúc "
        f"{_e(format_datetime(produced_at))}.</p>"
    )
    if draft:
        body.append(
            f'<div class="draft"><b>{_e(DRAFT_MARK)}</b>Chưa hết hạn gửi dữ liệu ({_e(_day(deadline))}): số liệu '
            "còn thay đổi khi các đơn vị gửi thêm, chưa phải kết quả chính thức.</div>"
        )
    if state and not state[0]["blocking_passed"]:
        body.append(
            '<div class="warn"><b>Dữ liệu lần tổng hợp gần nhất chưa đạt kiểm tra bắt buộc</b>; các tài liệu để ký '
            f"chưa được lập lại. Lý do: {_e(state[0]['problems'] or 'không rõ')}</div>"
        )
    body.append(
        '<nav><a href="#tinh-hinh">1. Tình hình gửi dữ liệu</a><a href="#xep-hang">2. Xếp hạng</a>'
        '<a href="#bieu-do">3. Biểu đồ</a><a href="#kinh-phi">4. Kinh phí</a><a href="#tai-lieu">5. Tài liệu của quý</a>'
        '<a href="../index.html">Các quý khác</a></nav>'
    )
    cards = [
        ("Đơn vị báo cáo", format_vnd(counts["units"]), ""),
        ("Đã gửi", format_vnd(counts["sent"]), ""),
        (ON_TIME, format_vnd(counts["on_time"]), "ok"),
        ("Trễ hạn", format_vnd(counts["late"]), "late"),
        (REJECTED, format_vnd(counts["rejected"]), "rejected"),
        (NOT_SENT, format_vnd(counts["missing"]), "missing"),
        ("Tệp bị từ chối", format_vnd(sum(1 for f in files if not f["readable"])), ""),
        ("Hồ sơ nhận được", format_vnd(counts["records"]), ""),
    ]
    body.append(
        '<div class="cards">'
        # colour only what needs attention: a zero count stays plain
        + "".join(f'<div class="card {css if v != "0" else ""}"><b>{_e(v)}</b>{_e(k)}</div>' for k, v, css in cards)
        + "</div></header>"
    )

    # 1. status
    body.append('<section id="tinh-hinh"><h2>1. Tình hình gửi dữ liệu</h2>')
    body.append(
        '<p class="note">Đúng hạn: tệp đọc được đầu tiên đến trong hạn. Trễ N ngày: đến sau hạn N ngày (mỗi ngày trừ '
        "điểm thời hạn). Bị từ chối: chỉ có tệp không đọc được, xem lý do và gửi lại. Chưa gửi: chưa nhận được tệp nào.</p>"
    )
    body.append(_attention(statuses, sum(1 for f in files if not f["readable"] and not f["reporting_unit"])))
    for loai, heading in GROUPS:
        group = [s for s in statuses if s.loai == loai]
        if group:
            body.append(f"<h3>{_e(heading)} ({len(group)} đơn vị)</h3>{_status_table(group, by_rel)}")
    others = [s for s in statuses if s.loai not in dict(GROUPS)]
    if others:
        body.append(f"<h3>Đơn vị khác ({len(others)})</h3>{_status_table(others, by_rel)}")
    body.append(_unknown_rejected(files))
    body.append("</section>")

    # 2. ranking
    body.append('<section id="xep-hang"><h2>2. Xếp hạng</h2>')
    for loai, heading in GROUPS:
        group = [s for s in statuses if s.loai == loai]
        if group:
            body.append(f"<h3>{_e(heading)}</h3>{_ranking_table(group)}")
    body.append(
        f'<p class="note">Cách tính điểm: {_e(scoring_rule(scoring))}</p><p class="note">Cách xếp hạng: {_e(TIE_BREAK)}</p>'
        '<p class="note">Điểm và các tỷ lệ ghi hai chữ số thập phân; tỷ lệ dưới 100% không làm tròn lên 100.</p></section>'
    )

    # 3. charts
    body.append('<section id="bieu-do"><h2>3. Biểu đồ: đầy đủ, chính xác, có ảnh theo đơn vị</h2>')
    legend = "".join(f'<span style="background:{c}"></span>{_e(label)}' for _, label, c in CHART_METRICS)
    legend += f'<span style="background:{BELOW}"></span>dưới ngưỡng'
    limit_text = "; ".join(
        f"{label.split(' (')[0].lower()} tối thiểu {format_decimal(float(limits[k]), 0 if float(limits[k]).is_integer() else 1)}%"
        for k, label, _ in CHART_METRICS if k in limits
    )
    body.append(
        f'<p class="legend note">{legend}</p>'
        + (f'<p class="note">Đường đỏ nét đứt: ngưỡng kiểm tra ({_e(limit_text)}).</p>' if limit_text else "")
    )
    for loai, heading in GROUPS:
        group = sorted((s for s in statuses if s.loai == loai), key=lambda s: s.code)
        if group:
            body.append(f"<h3>{_e(heading)}</h3>{bar_chart(group, f'{heading}: {q.label_vi}', limits)}")
    body.append("</section>")

    # 4. payments
    body.append(f'<section id="kinh-phi"><h2>4. Kinh phí cập nhật dữ liệu</h2>{_payments_section(lines)}</section>')

    # 5. documents
    names = {s.code: s.name for s in statuses}
    body.append(
        '<section id="tai-lieu"><h2>5. Tài liệu của quý</h2>'
        '<p class="note">Bấm vào tên để mở hoặc tải về. Bản có dấu DỰ THẢO được lập trước hạn gửi dữ liệu và sẽ được '
        "thay bằng bản chính thức sau hạn.</p>"
        f"{_documents_section(present, names)}</section>"
    )
    body.append(
        f"<footer>Trang do chương trình tổng hợp PMIS lập tự động từ cơ sở dữ liệu của {_e(q.label_vi)}; "
        "không cần mạng. Có thể chép cả thư mục của quý (trang này cùng các tệp bên cạnh) để gửi hoặc lưu: các liên "
        "kết vẫn mở được.</footer>"
    )

    meta = (
        f'<meta name="pmis-quarter" content="{_e(key)}">'
        f'<meta name="pmis-summary" content="{_e(summary_line(counts, draft))}">'
        f'<meta name="pmis-produced" content="{_e(format_datetime(produced_at))}">'
        f'<meta name="pmis-draft" content="{"1" if draft else "0"}">'
    )
    page = (
        '<!DOCTYPE html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}{' – ' + DRAFT_MARK if draft else ''}</title>\n{meta}\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n{''.join(body)}\n</body>\n</html>\n"
    )
    return _write_atomically(folder / PAGE_NAME, page)


# --------------------------------------------------------------------- index


class _MetaReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            a = dict(attrs)
            if (a.get("name") or "").startswith("pmis-"):
                self.meta[a["name"]] = a.get("content") or ""


def page_summary(page: Path) -> dict[str, str]:
    """The ``pmis-*`` meta of a quarter page (quarter, summary, produced, draft)."""
    reader = _MetaReader()
    reader.feed(page.read_text(encoding="utf-8"))
    return reader.meta


def write_reports_index(reports_dir: Path, quarters: Iterable[str] | None = None) -> Path:
    """Write ``<reports_dir>/index.html``: the quarters, newest first, each
    with its one-line status (read from its page) and a link to it.

    ``quarters``: the quarters to list (a quarter without a page reads "chưa
    có báo cáo"); None lists every ``YYYY-Qn`` folder that has a page."""
    reports_dir = Path(reports_dir)
    if quarters is None:
        keys = [p.name for p in reports_dir.glob("*") if QUARTER_RE.match(p.name) and (p / PAGE_NAME).is_file()]
    else:
        keys = [quarter_of(q).key for q in quarters]
    rows = []
    for key in sorted(set(keys), key=lambda k: quarter_of(k), reverse=True):
        page = reports_dir / key / PAGE_NAME
        label = quarter_title(key)
        if page.is_file():
            meta = page_summary(page)
            draft = meta.get("pmis-draft") == "1"
            status = meta.get("pmis-summary", "")
            mark = f'<span class="dt">{_e(DRAFT_MARK)}</span>' if draft else ""
            produced = _e(meta.get("pmis-produced", ""))
            rows.append(
                f'<tr><td><a href="{_href(PurePosixPath(key) / PAGE_NAME)}"><b>{_e(label)}</b></a>{mark}</td>'
                f'<td>{_e(status)}</td><td class="c">{produced}</td></tr>'
            )
        else:
            rows.append(f'<tr><td><b>{_e(label)}</b></td><td class="note">Chưa có báo cáo (quý chưa được tổng hợp).</td><td></td></tr>')
    table = (
        "<table><thead><tr><th>Quý</th><th>Tình hình</th><th>Lập lúc</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        if rows
        else '<p class="note">Chưa có báo cáo quý nào.</p>'
    )
    page_text = (
        '<!DOCTYPE html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Báo cáo PMIS theo quý</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        "<header><h1>Báo cáo PMIS theo quý</h1>"
        '<p class="meta">Bấm vào tên quý để xem tình hình gửi dữ liệu, xếp hạng, biểu đồ và tài liệu của quý.</p></header>'
        f"{table}<footer>Trang lập lúc {_e(format_datetime(datetime.now(TIMEZONE)))}.</footer>\n</body>\n</html>\n"
    )
    return _write_atomically(reports_dir / PAGE_NAME, page_text)


# ------------------------------------------------------------------- wiring


def write_quarter_report(settings, con: duckdb.DuckDBPyConnection, quarter: str, *, now: datetime | None = None) -> Path:
    """The quarter's page with everything taken from ``settings`` (a
    :class:`pmis_pipeline.settings.Settings`): its deadline (the calendar and
    ``deadlines.csv``), today's date in the configured time zone, the
    ``[checks]`` thresholds, the ``[scoring]`` weights and the ``[documents]``
    issuer; then the list of quarters (every quarter that has a page).
    Returns the quarter's page. Call it after the quarter's documents."""
    from pmis_pipeline.inputs import quarter_deadline

    now = now or datetime.now(settings.tz)
    page = write_quarter_page(
        con,
        quarter,
        settings.paths.reports,
        deadline=quarter_deadline(settings, quarter),
        today=now.date(),
        produced_at=now,
        thresholds=settings.section("checks"),
        scoring=settings.section("scoring"),
        settings=settings.documents,
    )
    write_reports_index(settings.paths.reports)
    return page
