"""Inputs as the Department really hands them over: settling files, lock files,
sub-folders, hand-overs per file version, receipts per version, quarantine,
the resolution of re-submissions, and a configuration checked key by key."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from pmis_pipeline import inputs
from pmis_pipeline.archive import Archive, Handover
from pmis_pipeline.config import ConfigError
from pmis_pipeline.settings import load_settings
from tests.conftest import materialize_quarter, query
from tests.workbooks import info_rows, person, write_catalog, write_xlsx

Q1 = "2009-Q1"
OLD = 1239000000  # 2009-04-06 13:40 local


def _age(path: Path, stamp: float = OLD) -> Path:
    os.utime(path, (stamp, stamp))
    return path


def test_only_settled_files_are_taken_and_lock_files_hidden_files_are_not(data_dir):
    (data_dir / "config.toml").write_text("[inbox]\nsettle_seconds = 10\n", encoding="utf-8")
    folder = data_dir / "inbox" / "2009-q1"  # a folder name typed in lower case is the same quarter
    _age(write_xlsx(folder / "a.xlsx", info_rows("THPT01", Q1), [person("BT1", "THPT01")]))
    _age(write_xlsx(folder / "PGD" / "b.xlsx", info_rows("PGD01", Q1), [person("BT2", "PGD01-TH01")]))
    write_xlsx(folder / "c.xlsx", info_rows("GDTX01", Q1), [person("BT3", "GDTX01")])  # still being written
    _age(write_bytes(folder / "~$a.xlsx", b"lock"))
    (folder / ".DS_Store").write_bytes(b"x")
    settings = load_settings(data_dir)
    settled, waiting = inputs.settled_inbox(settings, Q1)
    assert [f.name for f in settled] == ["PGD/b.xlsx", "a.xlsx"]
    assert [f.name for f in waiting] == ["c.xlsx"]
    version = inputs.inbox_versions(settings, [Q1])[Q1]
    _age(folder / "c.xlsx")  # the copy finished long ago
    assert inputs.inbox_versions(settings, [Q1])[Q1] != version
    assert inputs.inbox_versions(settings, ["2009-Q2"]) == {"2009-Q2": inputs.EMPTY_VERSION}


def test_a_sub_folder_file_is_archived_and_read(data_dir):
    write_catalog(data_dir)
    write_xlsx(data_dir / "inbox" / "2009-q1" / "Phong GD" / "chau-thanh.xlsx", info_rows("PGD01", Q1), [person("BT1", "PGD01-TH01")])
    materialize_quarter(data_dir, Q1)
    assert query(data_dir, "SELECT file_name, status, n_records FROM submissions") == [("Phong GD/chau-thanh.xlsx", "accepted", 1)]


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _register(archive: Archive, folder: Path, receipts: dict[str, Handover] | None = None):
    settings_files = inputs.inbox_files([folder])
    return archive.register(Q1, settings_files, receipts or {})


def test_every_hand_over_is_its_own_version_and_a_receipt_belongs_to_one_version(tmp_path):
    archive = Archive(tmp_path / "archive", load_settings(tmp_path).tz)
    folder = tmp_path / "inbox"
    path = folder / "pgd.xlsx"
    folder.mkdir()
    handed = {"pgd.xlsx": Handover(datetime(2009, 4, 18, 9, 30), "PGD01")}
    path.write_bytes(b"version 1")
    _age(path, OLD)
    _register(archive, folder, handed)
    path.write_bytes(b"version 2, corrected")
    _age(path, OLD + 86400)
    _register(archive, folder, handed)  # the clerk did not write a new time for it
    path.write_bytes(b"version 1")  # the first version copied back
    _age(path, OLD + 2 * 86400)
    _register(archive, folder, handed)
    _register(archive, folder, handed)  # seen again unchanged: nothing new
    got = [(r.sha256[:6], r.received_at, r.received_source, r.reporting_unit) for r in archive.receipts(Q1)]
    v1, v2 = got[0][0], got[1][0]
    assert got == [
        (v1, datetime(2009, 4, 18, 9, 30), "receipts.csv", "PGD01"),
        (v2, datetime(2009, 4, 7, 13, 40), "mtime", None),  # OLD + 1 day, local time (UTC+7)
        (v1, datetime(2009, 4, 8, 13, 40), "mtime", None),
    ]
    assert len({r.seq for r in archive.receipts(Q1)}) == 3


def test_a_person_sent_again_is_taken_from_the_later_file_whatever_school_code(data_dir):
    """The contract: a mistyped school code is corrected by sending the file again."""
    write_catalog(data_dir)
    inbox = data_dir / "inbox" / Q1
    _age(write_xlsx(inbox / "v1.xlsx", info_rows("PGD01", Q1), [
        person("BT1", "PGD01-MN01"),  # typo: BT1 works at the primary school
        person("BT2", "PGD01-MN01", ho_ten="Trần Thị Bé"),
        person("BT3", "PGD01-TH01", ho_ten="Lê Văn Cường"),
    ]), OLD)
    _age(write_xlsx(inbox / "v2.xlsx", info_rows("PGD01", Q1), [person("BT1", "PGD01-TH01")]), OLD + 3600)
    materialize_quarter(data_dir, Q1)
    rows = query(data_dir, "SELECT s.ma_cb, s.ma_don_vi, f.file_name FROM staff s JOIN submissions f USING (quarter, submission_id) ORDER BY 1")
    # v2 carries PGD01-TH01 (so BT3 of v1 at that school goes) and BT1 (taken from v2);
    # BT2 stays from v1: PGD01-MN01 is carried by no later file.
    assert rows == [("BT1", "PGD01-TH01", "v2.xlsx"), ("BT2", "PGD01-MN01", "v1.xlsx")]
    assert query(data_dir, "SELECT file_name, status FROM submissions ORDER BY 1") == [("v1.xlsx", "accepted"), ("v2.xlsx", "accepted")]

    _age(write_xlsx(inbox / "v3.xlsx", info_rows("PGD01", Q1), [person("BT2", "PGD01-MN01", ho_ten="Trần Thị Bé")]), OLD + 7200)
    materialize_quarter(data_dir, Q1)
    assert query(data_dir, "SELECT file_name, status FROM submissions ORDER BY 1") == [
        ("v1.xlsx", "superseded"), ("v2.xlsx", "accepted"), ("v3.xlsx", "accepted"),
    ]


def test_a_quarantined_version_is_not_read_and_marks_the_quarter_stale(data_dir):
    write_catalog(data_dir)
    _age(write_xlsx(data_dir / "inbox" / Q1 / "a.xlsx", info_rows("THPT01", Q1), [person("BT1", "THPT01")]))
    materialize_quarter(data_dir, Q1)
    settings = load_settings(data_dir)
    archive = Archive(settings.paths.archive, settings.tz)
    sha = archive.receipts(Q1)[0].sha256
    before = inputs.inbox_versions(settings, [Q1])[Q1]
    archive.set_quarantine(Q1, sha[:10], "tệp gửi nhầm của năm trước")
    assert inputs.inbox_versions(settings, [Q1])[Q1] != before
    materialize_quarter(data_dir, Q1)
    status, error = query(data_dir, "SELECT status, error FROM submissions")[0]
    assert status == "rejected" and "tệp gửi nhầm của năm trước" in error
    assert query(data_dir, "SELECT count(*) FROM staff") == [(0,)]
    archive.set_quarantine(Q1, sha[:10], "đã kiểm tra lại", release=True)
    materialize_quarter(data_dir, Q1)
    assert query(data_dir, "SELECT status FROM submissions") == [("accepted",)]
    with pytest.raises(ValueError, match="no single archived version"):
        archive.set_quarantine(Q1, "0000", "?")


@pytest.mark.parametrize(
    "text, named",
    [
        ("[payments]\nphong_nhap_lieuu = 1500\n", "unknown key [payments] phong_nhap_lieuu"),
        ("[paymants]\nphong_nhap_lieu = 1500\n", "unknown key [paymants]"),
        ('[payments]\nphong_nhap_lieu = "một nghìn"\n', "[payments] phong_nhap_lieu"),
        ('[partitions]\nfirst_quarter = "2009-1"\n', "[partitions] first_quarter"),
        ('[calendar]\ndeadlines = { Q1 = "20/04" }\n', "[calendar] deadlines"),
        ("[payments\n", "not valid TOML"),
    ],
)
def test_a_configuration_typo_is_an_error_that_names_it(data_dir, text, named):
    (data_dir / "config.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(data_dir)
    assert named in str(err.value) and "config.toml" in str(err.value)


def test_a_valid_override_changes_one_key_and_the_configuration_version(data_dir):
    before = load_settings(data_dir)
    (data_dir / "config.toml").write_text("[payments]\nphong_nhap_lieu = 1500\n", encoding="utf-8")
    after = load_settings(data_dir)
    assert after.section("payments")["phong_nhap_lieu"] == 1500
    assert after.section("payments")["so_tong_hop_truc_thuoc"] == 2000
    assert inputs.config_version(after) != inputs.config_version(before)
    assert inputs.config_version(load_settings(data_dir)) == inputs.config_version(after)
