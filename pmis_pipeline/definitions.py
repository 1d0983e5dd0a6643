"""The Dagster code location: everything assembled in one place.

``dagster dev`` (see workspace.yaml) and ``dagster asset materialize -m
pmis_pipeline.definitions`` load this module.
"""

import dagster as dg

from assets.compliance import payments, unit_compliance
from assets.intake import staff, submissions
from assets.partitions import quarterly_partitions
from assets.publish import analyst_warehouse
from assets.quality import department_review, feedback_workbooks, record_issues
from assets.resources import PmisResource
from assets.sensors import build_inbox_sensor
from checks.intake import rejected_files, staff_resolution
from checks.payments import payments_consistent
from checks.quality import accuracy, completeness, duplicates, expectations, lost_records

ALL_ASSETS = [
    submissions,
    staff,
    record_issues,
    feedback_workbooks,
    department_review,
    unit_compliance,
    payments,
    analyst_warehouse,
]
ALL_CHECKS = [
    rejected_files,
    staff_resolution,
    completeness,
    accuracy,
    duplicates,
    lost_records,
    expectations,
    payments_consistent,
]

quarter_job = dg.define_asset_job(
    "quarter_job",
    selection=dg.AssetSelection.assets(*ALL_ASSETS),
    partitions_def=quarterly_partitions,
    description="Ingest, check, load, rank, pay and publish one quarter.",
)

defs = dg.Definitions(
    assets=ALL_ASSETS,
    asset_checks=ALL_CHECKS,
    jobs=[quarter_job],
    sensors=[build_inbox_sensor(quarter_job)],
    resources={"pmis": PmisResource()},
    # One DuckDB writer: steps of a run execute one after another in one process.
    executor=dg.in_process_executor,
)
