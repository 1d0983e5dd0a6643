"""The ministry's assets: a province's quarter, and the national tables of a quarter.

``province_quarter`` is partitioned by quarter x province. A run builds one
province's quarter exactly as the province's own deployment does (the same
domain functions: :func:`pmis_pipeline.quarter.read_quarter`, then
:func:`~pmis_pipeline.quarter.load_quarter` and the quarter's checks of
``checks/quarter.py`` in one transaction of the province's
``build.duckdb``), then publishes the province's analysts' file. Each
province has its own data folder, so its own build file and its own writer.

Who writes a province's build file, and when:

* the instance's run queue admits at most one run per value of the run tag
  ``dagster/partition/province`` (``tag_concurrency_limits`` with
  ``applyLimitPerUniqueValue``, see :mod:`national.instance`): runs of
  different provinces go in parallel, two runs of one province never do.
  Dagster's pools are fixed per op, not per partition, so the per-province
  limit is the queue's;
* whatever launches a run (the queue, or a terminal's in-process
  ``dagster asset materialize``), the build file is opened under its lock
  file (:func:`pmis_pipeline.warehouse.connect`): one writer, always.

``national_tables`` is partitioned by quarter: it copies every province's
*published* rows of that quarter into Parquet files and rewrites the
national views (:mod:`pmis_pipeline.national`). It never opens a build file;
its steps take turns in the pool ``pmis_national`` (the views file).
"""

import time

import dagster as dg

from assets.partitions import quarter_keys
from checks.expectations import run_suite
from checks.quarter import QUARTER_CHECKS, evaluate_quarter_checks
from national.resources import NationalResource
from pmis_pipeline import national, warehouse
from pmis_pipeline import quarter as quarter_build
from pmis_pipeline.quarters import Quarter
from pmis_pipeline.settings import load_settings

NATIONAL_POOL = "pmis_national"
GROUP = "national"

ROOT = national.national_root()
QUARTERS = quarter_keys(load_settings(ROOT)) if ROOT.is_dir() else []
PROVINCES = list(national.province_folders(ROOT))

quarters_def = dg.StaticPartitionsDefinition(QUARTERS)
provinces_def = dg.StaticPartitionsDefinition(PROVINCES)
quarter_province = dg.MultiPartitionsDefinition({"quarter": quarters_def, "province": provinces_def})

PROVINCE_CHECKS = [
    dg.AssetCheckSpec(c.name, asset="province_quarter", blocking=c.blocking, description=c.description,
                      partitions_def=quarter_province)
    for c in QUARTER_CHECKS
]

@dg.asset(
    partitions_def=quarter_province,
    check_specs=PROVINCE_CHECKS,
    group_name=GROUP,
    kinds={"duckdb"},
    description=(
        "Quý của một tỉnh trong kho của tỉnh (build.duckdb riêng của tỉnh), trong một giao dịch, cùng các kiểm "
        "tra của quý; rồi tệp công bố của tỉnh (pmis.duckdb). Mỗi lần chạy: một quý của một tỉnh."
    ),
)
def province_quarter(context: dg.AssetExecutionContext, national_root: NationalResource):
    keys = context.partition_key.keys_by_dimension
    quarter, province = keys["quarter"], keys["province"]
    settings = national_root.province_settings(province)
    read = quarter_build.read_quarter(settings, quarter, progress=context.log.debug)
    for warning in read.registered.warnings:
        context.log.warning(f"{province}: {warning}")
    started = time.perf_counter()
    with warehouse.connect(settings.paths.build_db) as con:
        with warehouse.transaction(con):
            load = quarter_build.load_quarter(con, settings, read, gx=run_suite)
            results = evaluate_quarter_checks(con, quarter, settings)
            failed = [f"{c.asset}.{c.name}" for c, r in results if c.blocking and not r.passed]
            warehouse.record_quarter_state(con, quarter, context.run_id, not failed, failed)
    written = time.perf_counter() - started
    outcome = warehouse.publish(settings.paths.build_db, settings.paths.published_db)
    if failed:
        context.log.error(f"{province} {quarter}: blocking checks failed ({', '.join(failed)}); the quarter is held back")
    yield dg.MaterializeResult(
        metadata={
            "Tỉnh": province,
            "Quý": quarter,
            "Kho của tỉnh": dg.MetadataValue.path(str(settings.paths.build_db)),
            "Số tệp": read.intake.submissions.height,
            "Số hồ sơ": load.resolution["staff"],
            "Số lỗi và cảnh báo": load.issues.height,
            "Kiểm tra chặn không đạt": ", ".join(failed) or "—",
            "Các quý được công bố": ", ".join(outcome["published"]),
            "Thời gian (giây)": dg.MetadataValue.json(
                {"read": round(read.seconds, 3), "write_and_check": round(written, 3), **load.seconds}
            ),
        }
    )
    for _check, result in results:
        yield result._replace(asset_key=dg.AssetKey("province_quarter"))

@dg.asset(
    partitions_def=quarters_def,
    deps=[dg.AssetDep(province_quarter, partition_mapping=dg.MultiToSingleDimensionPartitionMapping("quarter"))],
    pool=NATIONAL_POOL,
    group_name=GROUP,
    kinds={"parquet", "duckdb"},
    description=(
        "Bảng toàn quốc của một quý: các dòng đã công bố của mọi tỉnh, chép thành tệp Parquet "
        "(national/<bảng>/quarter=<quý>/province=<tỉnh>/) và các view DuckDB trên các tệp đó (national/national.duckdb)."
    ),
)
def national_tables(context: dg.AssetExecutionContext, national_root: NationalResource) -> dg.MaterializeResult:
    quarter = Quarter.parse_key(context.partition_key).key
    root = national_root.root_path()
    gathered = [national.gather_province_quarter(root, p, quarter) for p in national.province_folders(root)]
    for g in gathered:
        if g.status != "gathered":
            context.log.warning(f"{g.province} {quarter}: {g.status.replace('_', ' ')}")
    counts = national.write_national_views(root)
    return dg.MaterializeResult(
        metadata={
            "Quý": quarter,
            "Tỉnh đã gộp": ", ".join(g.province for g in gathered if g.status == "gathered") or "—",
            "Tỉnh chưa có quý này": ", ".join(f"{g.province} ({g.status})" for g in gathered if g.status != "gathered") or "—",
            "Số hồ sơ của quý (staff)": sum(g.rows.get("staff", 0) for g in gathered),
            "Các view (mọi quý, số dòng)": dg.MetadataValue.json(counts),
            "Tệp view": dg.MetadataValue.path(str(national.national_dir(root) / national.VIEWS_DB)),
        }
    )
