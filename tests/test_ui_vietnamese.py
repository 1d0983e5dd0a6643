"""What a clerk reads in the Dagster UI is Vietnamese, and what a unit whose
file was refused reads in its feedback workbook says why.

One real run of a small demo quarter (``materialize()``), with the reports
server's address set as ``./run up`` sets it; every expectation about names,
amounts and scores comes from the demo's truth and catalog, formatted here
independently of the code's helpers.
"""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

import dagster as dg
import openpyxl
import pytest

from pmis_pipeline.definitions import defs
from pmis_pipeline.demo import generate_demo
from tests.conftest import FAST_CONFIG, materialize_quarter
from tests.workbooks import info_rows, person, write_catalog, write_xlsx

Q = "2009-Q1"
REPORTS_URL = "http://127.0.0.1:3001"
#: Vietnamese letters that English never uses: a text in Vietnamese has some.
VIETNAMESE = set("ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ")
#: Keys Dagster itself writes (not ours to translate).
DAGSTER_KEYS = ("dagster/", "dagster-")
#: Vietnamese words with no diacritics used alone as labels.
PLAIN_WORDS = {"Trang"}


def vietnamese(text: str) -> bool:
    return bool(VIETNAMESE & set(unicodedata.normalize("NFC", text).lower()))


def vnd(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, dg.ExecuteInProcessResult]:
    data = tmp_path_factory.mktemp("ui") / "data"
    generate_demo(data, scale=0.05, quarters=(Q,))
    (data / "config.toml").write_text(FAST_CONFIG, encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("PMIS_DATA_DIR", str(data))
    mp.setenv("PMIS_REPORTS_URL", REPORTS_URL)
    mp.delenv("PMIS_CONFIG", raising=False)
    try:
        result = materialize_quarter(data, Q)
    finally:
        mp.undo()
    return data, result


def truth(data: Path, name: str) -> list[dict[str, str]]:
    with (data / "demo-truth" / name).open(encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if r.get("quarter", Q) == Q]


def materializations(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    return {m.asset_key.to_user_string(): m.metadata for m in result.asset_materializations_for_node}


def all_materializations(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    out = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            m = event.event_specific_data.materialization
            out[m.asset_key.to_user_string()] = m.metadata
    return out


def test_every_asset_and_check_is_described_in_vietnamese():
    repo = defs.get_repository_def()
    english = []
    for node in repo.asset_graph.asset_nodes:
        if not vietnamese(node.description or ""):
            english.append(f"asset {node.key.to_user_string()}: {node.description!r}")
    for check_key in repo.asset_graph.asset_check_keys:
        spec = repo.asset_graph.get_check_spec(check_key)
        if not vietnamese(spec.description or ""):
            english.append(f"check {check_key.name}: {spec.description!r}")
    for sensor in repo.sensor_defs:
        if not vietnamese(sensor.description or ""):
            english.append(f"sensor {sensor.name}: {sensor.description!r}")
    for job in repo.get_all_jobs():
        for node in job.graph.node_defs:
            if node.description and not vietnamese(node.description):
                english.append(f"op {node.name}: {node.description!r}")
    assert not english, "\n".join(english)


def test_metadata_labels_are_vietnamese_and_tables_name_the_units(run):
    data, result = run
    metadata = all_materializations(result)
    assert {"unit_compliance", "payments", "staff", "record_issues", "analyst_warehouse"} <= metadata.keys()
    english = [
        f"{asset}: {key!r}"
        for asset, entries in metadata.items()
        for key in entries
        if not key.startswith(DAGSTER_KEYS) and not vietnamese(key) and key not in PLAIN_WORDS
    ]
    assert not english, "metadata labels not in Vietnamese:\n" + "\n".join(english)

    with (data / "catalog" / "units.csv").open(encoding="utf-8") as fh:
        names = {r["ma_don_vi"]: r["ten_don_vi"] for r in csv.DictReader(fh)}
    tables = {k: v for k, v in metadata["unit_compliance"].items() if isinstance(v, dg.TableMetadataValue)}
    assert tables, "the ranking is a table, not markdown"
    ranking = max(tables.values(), key=lambda t: len(t.records))
    cells = [set(r.data.values()) for r in ranking.records]
    expected = truth(data, "compliance.csv")
    assert len(ranking.records) == len(expected)
    for row in expected:
        unit = row["reporting_unit"]
        score = f"{float(row['score']):.2f}".replace(".", ",")
        assert any({unit, names[unit], score} <= c for c in cells), f"{unit} {names[unit]} {score} not in the ranking table"

    amounts = [
        cell
        for table in metadata["payments"].values() if isinstance(table, dg.TableMetadataValue)
        for record in table.records for cell in record.data.values()
    ]
    paid = [int(r["amount_vnd"]) for r in truth(data, "payments.csv") if int(r["amount_vnd"]) >= 1000]
    assert paid
    for amount in paid:
        assert vnd(amount) in amounts, f"{vnd(amount)} not in the payments table"


def test_documents_link_to_the_reports_server(run):
    _, result = run
    metadata = all_materializations(result)
    links = {
        asset: entries["Mở trong trình duyệt"].value
        for asset, entries in metadata.items()
        if "Mở trong trình duyệt" in entries
    }
    assert {"quarter_page", "announcement", "feedback_workbooks"} <= links.keys(), links
    assert all(url.startswith(f"{REPORTS_URL}/{Q}") for url in links.values()), links


def test_check_results_speak_vietnamese(run):
    _, result = run
    evaluations = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert len(evaluations) >= 10
    for evaluation in evaluations:
        labels = [k for k in evaluation.metadata if not k.startswith(DAGSTER_KEYS)]
        assert labels and all(vietnamese(k) for k in labels), (evaluation.check_name, labels)


def test_a_unit_whose_file_was_refused_reads_why_in_its_feedback_workbook(data_dir):
    """GDTX01 sends a file that is no workbook (its code in the file name), THPT01 a good one."""
    inbox = data_dir / "inbox" / Q
    inbox.mkdir(parents=True)
    write_catalog(data_dir)
    write_xlsx(inbox / "THPT01_quy1.xlsx", info_rows("THPT01", Q), [person("BT0001", "THPT01")])
    (inbox / "GDTX01_quy1.xlsx").write_bytes(b"PK\x03\x04 not a workbook at all " * 40)
    materialize_quarter(data_dir, Q)

    book = data_dir / "warehouse" / "reports" / Q / "phan-hoi" / "GDTX01.xlsx"
    assert book.is_file(), sorted(p.name for p in book.parent.iterdir())
    wb = openpyxl.load_workbook(book, read_only=True)
    text = "\n".join(str(c) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for c in r if c)
    wb.close()
    lines = [line for line in text.splitlines() if "GDTX01_quy1.xlsx" in line]
    assert lines, f"{book.name} does not name the refused file:\n{text}"
    assert any(vietnamese(line) and "gửi lại" in line for line in lines), lines
    assert not any(word in text for word in ("Error", "Traceback", "calamine", "Không có tệp nào bị từ chối"))
