"""The read cache: a file already read is not read again, and gives what reading it gives."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from pmis_pipeline.archive import Archive
from pmis_pipeline.catalog import read_units
from pmis_pipeline.inputs import settled_inbox
from pmis_pipeline.intake import ingest_quarter
from pmis_pipeline.isolation import IntakeLimits
from pmis_pipeline.readcache import ReadCache, read_cache, version_key
from pmis_pipeline.settings import load_settings
from tests.workbooks import info_rows, jpeg_bytes, person, write_catalog, write_xlsx, write_zip

Q = "2009-Q1"
INLINE = IntakeLimits(isolate=False)  # the reading is the same in a reader process (tests/test_isolation.py)


def _quarter(data_dir):
    write_catalog(data_dir)
    inbox = data_dir / "inbox" / Q
    write_xlsx(inbox / "pgd01.xlsx", info_rows("PGD01", Q), [person("BT1", "PGD01-TH01"), person("BT2", "PGD01-MN01")])
    book = write_xlsx(data_dir / "thpt01.xlsx", info_rows("THPT01", Q), [person("BT5", "THPT01", anh="anh/BT5.jpg")])
    write_zip(inbox / "thpt01.zip", book, {"anh/BT5.jpg": jpeg_bytes()})
    (inbox / "corrupt.xlsx").write_bytes(b"this is not a workbook")
    settings = load_settings(data_dir)
    archive = Archive(settings.paths.archive, settings.tz)
    settled, _ = settled_inbox(settings, Q, now_ns=2**62)
    archive.register(Q, settled, {})
    return settings, archive, read_units(settings.paths.units_csv)


def _same(a, b) -> None:
    for name in ("submissions", "records", "photos", "declared_units"):
        left, right = getattr(a, name), getattr(b, name)
        sort = [c for c in ("submission_id", "row_number", "ma_cb", "file_name") if c in left.columns]
        assert_frame_equal(left.sort(sort), right.sort(sort), check_column_order=False)


def test_a_file_read_once_comes_from_the_cache_with_the_same_outcome(data_dir):
    settings, archive, units = _quarter(data_dir)
    uncached = ingest_quarter(archive, Q, units, limits=INLINE)
    cache = read_cache(settings.paths.warehouse, INLINE)
    first = ingest_quarter(archive, Q, units, limits=INLINE, cache=cache)
    assert (cache.hits, cache.misses) == (0, 3)
    again = read_cache(settings.paths.warehouse, INLINE)
    second = ingest_quarter(archive, Q, units, limits=INLINE, cache=again)
    # the two readable files come from the cache; the rejected one is read again (a rejection is not kept)
    assert (again.hits, again.misses) == (2, 1)
    _same(uncached, first)
    _same(uncached, second)
    assert second.photos.height == 1 and second.records.height == 3
    assert second.submissions.filter(pl.col("file_name") == "corrupt.xlsx")["readable"].to_list() == [False]


def test_a_version_copied_back_keeps_its_own_submission_id(data_dir):
    settings, archive, units = _quarter(data_dir)
    inbox = data_dir / "inbox" / Q
    original = (inbox / "pgd01.xlsx").read_bytes()
    cache = read_cache(settings.paths.warehouse, INLINE)
    ingest_quarter(archive, Q, units, limits=INLINE, cache=cache)
    # a correction, then the first version copied back: a hand-over of its own (a new submission id)
    write_xlsx(inbox / "pgd01.xlsx", info_rows("PGD01", Q), [person("BT1", "PGD01-TH01", ho_ten="Sửa Lại")])
    archive.register(Q, settled_inbox(settings, Q, now_ns=2**62)[0], {})
    (inbox / "pgd01.xlsx").write_bytes(original)
    archive.register(Q, settled_inbox(settings, Q, now_ns=2**62)[0], {})
    cache = read_cache(settings.paths.warehouse, INLINE)
    got = ingest_quarter(archive, Q, units, limits=INLINE, cache=cache)
    assert cache.hits == 3  # pgd01 (twice: the same content under the same name), thpt01
    subs = got.submissions.filter(pl.col("file_name") == "pgd01.xlsx").sort("seq")
    assert subs.height == 3 and subs["submission_id"].n_unique() == 3
    for sid in subs["submission_id"]:
        mine = got.records.filter(pl.col("submission_id") == sid)
        assert mine.height == (1 if sid == subs["submission_id"][1] else 2)
    assert got.submissions["duplicate_of"].drop_nulls().to_list() == [subs["submission_id"][0]]


def test_other_limits_or_a_damaged_entry_read_the_file_again(data_dir):
    settings, archive, units = _quarter(data_dir)
    ingest_quarter(archive, Q, units, limits=INLINE, cache=read_cache(settings.paths.warehouse, INLINE))
    tighter = IntakeLimits(isolate=False, max_file_mb=100)
    assert version_key(tighter) != version_key(INLINE)
    other = read_cache(settings.paths.warehouse, tighter)
    ingest_quarter(archive, Q, units, limits=tighter, cache=other)
    assert (other.hits, other.misses) == (0, 3)
    root = settings.paths.warehouse / "cache" / "reads"
    assert [p.name for p in root.iterdir()] == [version_key(tighter)]  # the other version's entries are gone
    entry = next(root.rglob("*.outcome"))
    entry.write_bytes(entry.read_bytes()[:40])  # torn
    again = ReadCache(root, version_key(tighter))
    got = ingest_quarter(archive, Q, units, limits=tighter, cache=again)
    assert (again.hits, again.misses) == (1, 2)
    assert got.records.height == 3
