"""The inbox sensor asks for a run of exactly the quarters whose files changed."""

from __future__ import annotations

import dagster as dg

from pmis_pipeline.definitions import defs
from tests.workbooks import info_rows, person, write_xlsx


def evaluate(cursor: str | None):
    sensor = defs.get_sensor_def("inbox_sensor")
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(
            instance=instance, cursor=cursor, repository_def=defs.get_repository_def()
        )
        result = sensor.evaluate_tick(context)
    return result


def test_sensor_requests_changed_quarters_only(data_dir):
    write_xlsx(data_dir / "inbox" / "2009-Q1" / "a.xlsx", info_rows("PGD01", "2009-Q1"), [person("BT1", "PGD01-TH01")])
    write_xlsx(data_dir / "inbox" / "2009-Q2" / "a.xlsx", info_rows("PGD01", "2009-Q2"), [person("BT1", "PGD01-TH01")])
    (data_dir / "inbox" / "not-a-quarter").mkdir()
    first = evaluate(None)
    assert sorted(r.partition_key for r in first.run_requests) == ["2009-Q1", "2009-Q2"]
    quiet = evaluate(first.cursor)
    assert quiet.run_requests == [] and quiet.skip_message
    write_xlsx(data_dir / "inbox" / "2009-Q2" / "b.xlsx", info_rows("PGD02", "2009-Q2"), [person("BT2", "PGD02-TH01")])
    second = evaluate(first.cursor)
    assert [r.partition_key for r in second.run_requests] == ["2009-Q2"]
