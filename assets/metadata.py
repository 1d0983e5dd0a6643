"""What the clerk reads in the Dagster UI: Vietnamese labels, real tables.

Metadata keys are Vietnamese (asset keys and code stay English). Tables are
Dagster table metadata (sortable, not markdown pop-ups), with unit names next
to codes, scores as the announcement prints them (``99,12``) and amounts with
Vietnamese grouping (``28.532.000``). Numbers that the UI plots across
quarters stay numbers.
"""

from collections.abc import Mapping
from datetime import date, datetime

import dagster as dg
import polars as pl

from pmis_pipeline.documents.money import format_pct, format_vnd
from pmis_pipeline.rules import RULE_LABELS_VI
from pmis_pipeline.serve import report_url, reports_base_url

SEVERITY_VI = {"error": "Lỗi", "warning": "Cảnh báo"}
GROUP_VI = {"phong": "Phòng GD&ĐT", "truc_thuoc": "Đơn vị trực thuộc Sở", "so": "Sở GD&ĐT"}
ITEM_VI = {
    "nhap_lieu": "Nhập dữ liệu",
    "tong_hop_kiem_tra": "Tổng hợp, kiểm tra",
    "tong_hop_phong": "Tổng hợp dữ liệu các Phòng",
    "tong_hop_truc_thuoc": "Tổng hợp dữ liệu đơn vị trực thuộc",
}
STATUS_VI = {"accepted": "Được dùng", "superseded": "Bị thay bằng tệp sau", "rejected": "Bị từ chối"}


def text(value: object) -> str:
    """A cell as the clerk reads it: numbers grouped the Vietnamese way, dates dd/mm/yyyy."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, int):
        return format_vnd(value)
    if isinstance(value, float):
        return format_pct(value)
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def table(frame: pl.DataFrame, columns: Mapping[str, str], limit: int = 500) -> dg.TableMetadataValue:
    """``frame``'s ``columns`` (key -> Vietnamese header), as a Dagster table of text cells."""
    headers = list(columns.values())
    records = [
        dg.TableRecord({headers[i]: text(v) for i, v in enumerate(row)})
        for row in frame.select(list(columns)).head(limit).iter_rows()
    ]
    schema = dg.TableSchema(columns=[dg.TableColumn(h, "string") for h in headers])
    return dg.MetadataValue.table(records=records, schema=schema)


def rule_vi(rule: str) -> str:
    return RULE_LABELS_VI.get(rule, rule)


def date_vi(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def reports_link(*parts: str) -> dict[str, dg.MetadataValue]:
    """A link to the quarter page or a document on the local reports server
    (``PMIS_REPORTS_URL``, set by ``./run up``); nothing without the server."""
    base = reports_base_url()
    if not base:
        return {}
    return {"Mở trong trình duyệt": dg.MetadataValue.url(report_url(base, "/".join(parts)))}
