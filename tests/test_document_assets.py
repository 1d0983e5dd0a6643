"""Which documents a quarter gets: drafts before the deadline, none without a
file before it, every unit "Chưa gửi" after it, no payment documents when
there is nothing to pay, notices for units that sent nothing."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from tests.conftest import materialize_quarter
from tests.workbooks import info_rows, person, write_catalog, write_xlsx

Q1 = "2009-Q1"


def reports(data: Path) -> list[str]:
    folder = data / "warehouse" / "reports" / Q1
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*.xlsx")) if folder.is_dir() else []


def texts(path: Path) -> str:
    wb = openpyxl.load_workbook(path)
    return "\n".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None)


def deadline(data: Path, day: str) -> None:
    (data / "catalog").mkdir(parents=True, exist_ok=True)
    (data / "catalog" / "deadlines.csv").write_text(f"quarter,deadline\n{Q1},{day}\n", encoding="utf-8")


def test_before_the_deadline_documents_are_drafts_and_become_final_after_it(data_dir):
    write_catalog(data_dir)
    deadline(data_dir, "2999-12-31")
    write_xlsx(data_dir / "inbox" / Q1 / "a.xlsx", info_rows("THPT01", Q1), [person("BT1", "THPT01")])
    materialize_quarter(data_dir, Q1)
    drafts = reports(data_dir)
    assert "thong-bao-ket-qua-2009-Q1-du-thao.xlsx" in drafts
    assert "thanh-toan/danh-sach-ky-nhan-2009-Q1-du-thao.xlsx" in drafts
    assert all("du-thao" in name for name in drafts if name.startswith(("thong-bao", "thanh-toan")))
    assert "DỰ THẢO" in texts(data_dir / "warehouse" / "reports" / Q1 / "thong-bao-ket-qua-2009-Q1-du-thao.xlsx")
    assert not any(name.startswith("phan-hoi/GDTX01") for name in drafts)  # no notice before the deadline

    deadline(data_dir, "2009-04-20")  # the deadline has passed: the same quarter, final documents
    materialize_quarter(data_dir, Q1)
    final = reports(data_dir)
    assert "thong-bao-ket-qua-2009-Q1.xlsx" in final and not any("du-thao" in name for name in final)
    assert "DỰ THẢO" not in texts(data_dir / "warehouse" / "reports" / Q1 / "thong-bao-ket-qua-2009-Q1.xlsx")
    assert "phan-hoi/GDTX01.xlsx" in final  # a unit that sent nothing gets its notice


def test_no_file_before_the_deadline_means_no_document_and_after_it_everyone_reads_chua_gui(data_dir):
    write_catalog(data_dir)
    (data_dir / "inbox" / Q1).mkdir(parents=True)
    deadline(data_dir, "2999-12-31")
    materialize_quarter(data_dir, Q1)
    assert reports(data_dir) == []

    deadline(data_dir, "2009-04-20")
    materialize_quarter(data_dir, Q1)
    got = reports(data_dir)
    assert "thong-bao-ket-qua-2009-Q1.xlsx" in got
    assert not any(name.startswith("thanh-toan/") for name in got)  # nothing to pay
    announcement = texts(data_dir / "warehouse" / "reports" / Q1 / "thong-bao-ket-qua-2009-Q1.xlsx")
    assert announcement.count("Chưa gửi") >= 4  # the four reporting units of the tiny province


def test_nothing_to_pay_means_no_payment_documents(data_dir):
    write_catalog(data_dir)
    deadline(data_dir, "2009-04-20")
    write_xlsx(data_dir / "inbox" / Q1 / "a.xlsx", info_rows("THPT01", Q1), [person("BT1", "THPT01", so_cmnd="12")])
    materialize_quarter(data_dir, Q1)
    got = reports(data_dir)
    assert "thong-bao-ket-qua-2009-Q1.xlsx" in got and "phan-hoi/THPT01.xlsx" in got
    assert not any(name.startswith("thanh-toan/") for name in got)


def test_a_resubmission_rewrites_only_the_feedback_of_the_unit_that_changed(data_dir):
    write_catalog(data_dir)
    deadline(data_dir, "2009-04-20")
    inbox = data_dir / "inbox" / Q1
    write_xlsx(inbox / "thpt01.xlsx", info_rows("THPT01", Q1), [person("BT1", "THPT01", so_cmnd="12")])
    write_xlsx(inbox / "pgd01.xlsx", info_rows("PGD01", Q1), [person("BT2", "PGD01-TH01")])
    materialize_quarter(data_dir, Q1)
    folder = data_dir / "warehouse" / "reports" / Q1 / "phan-hoi"
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.glob("*.xlsx")}
    assert {"THPT01.xlsx", "PGD01.xlsx", "GDTX01.xlsx"} <= set(before)  # GDTX01 sent nothing: its notice
    assert "12" in texts(folder / "THPT01.xlsx")

    # THPT01 corrects its identity number; nothing else changes
    write_xlsx(inbox / "thpt01-sua.xlsx", info_rows("THPT01", Q1), [person("BT1", "THPT01", so_cmnd="123456789")])
    materialize_quarter(data_dir, Q1)
    after = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.glob("*.xlsx")}
    assert set(after) == set(before)
    assert after["THPT01.xlsx"] != before["THPT01.xlsx"]  # written again
    assert "Số CMND" not in texts(folder / "THPT01.xlsx")  # and says the problem is gone
    unchanged = {name for name in before if name != "THPT01.xlsx"}
    assert {name: after[name] for name in unchanged} == {name: before[name] for name in unchanged}  # not rewritten

    # a unit kept as it was reads exactly as a workbook written now would
    kept = texts(folder / "PGD01.xlsx")
    (folder / ".inputs.json").unlink()  # forget what they were written from: every workbook is written again
    materialize_quarter(data_dir, Q1)
    assert texts(folder / "PGD01.xlsx") == kept
    assert folder.joinpath("PGD01.xlsx").stat().st_ino != after["PGD01.xlsx"][0]


def test_templates_are_written_again_only_when_the_catalog_changes(data_dir):
    write_catalog(data_dir)
    deadline(data_dir, "2009-04-20")
    write_xlsx(data_dir / "inbox" / Q1 / "thpt01.xlsx", info_rows("THPT01", Q1), [person("BT1", "THPT01")])
    materialize_quarter(data_dir, Q1)
    folder = data_dir / "warehouse" / "templates"
    before = {p.name: p.stat().st_ino for p in folder.glob("*.xlsx")}
    assert {"mau-pmis.xlsx", "mau-pmis-THPT01.xlsx", "mau-pmis-PGD01.xlsx"} <= set(before)

    materialize_quarter(data_dir, Q1)  # nothing changed: every template is kept as it is
    assert {p.name: p.stat().st_ino for p in folder.glob("*.xlsx")} == before

    units = data_dir / "catalog" / "units.csv"
    units.write_text(units.read_text(encoding="utf-8").replace("THPT Chuyên Bến Tre", "THPT Chuyên Bến Tre (mới)"), encoding="utf-8")
    assert "(mới)" in units.read_text(encoding="utf-8")
    materialize_quarter(data_dir, Q1)
    after = {p.name: p.stat().st_ino for p in folder.glob("*.xlsx")}
    assert after.keys() == before.keys() and all(after[n] != before[n] for n in before)  # the catalog is in every template
    assert "THPT Chuyên Bến Tre (mới)" in texts(folder / "mau-pmis-THPT01.xlsx")
