"""The quarter in the warehouse: one step, one transaction.

``quarter_warehouse`` materializes the five tables of a quarter that analysts
query (submissions, staff, record_issues, unit_compliance, payments) and
evaluates the quarter's checks, all inside one DuckDB transaction: a failed
or killed run leaves the quarter exactly as it was. Its assets declare what
they read from other quarters, so Dagster marks exactly the later quarters a
change affects as stale.
"""


import time

import dagster as dg
import polars as pl

from assets.inputs import deadlines, inbox, payment_confirmations, pipeline_config, unit_catalog
from assets.partitions import ALL_LATER, LATER_SAME_YEAR, STAFF_READERS, quarterly_partitions
from assets.resources import PmisResource
from checks.expectations import run_suite
from checks.quarter import QUARTER_CHECKS, evaluate_quarter_checks
from pmis_pipeline import quarter as quarter_build
from pmis_pipeline import outputs, warehouse
from pmis_pipeline.faults import checkpoint
from pmis_pipeline.markdown import md_table

#: The pool of every step that writes (or reads) the build database: one at a time.
WRITER_POOL = "pmis_writer"
#: Bumped with the warehouse schema: every quarter becomes stale and is rebuilt from the archive.
CODE_VERSION = f"schema-{warehouse.SCHEMA_VERSION}"
GROUP = "warehouse"


def _spec(key: str, description: str, deps: list) -> dg.AssetSpec:
    return dg.AssetSpec(
        key,
        deps=deps,
        partitions_def=quarterly_partitions,
        group_name=GROUP,
        description=description,
        kinds={"duckdb"},
        code_version=CODE_VERSION,
    )


SPECS = [
    _spec(
        "submissions",
        "Mọi tệp đã nhận của quý (mỗi lần nộp một dòng), đã lưu kho theo sha256 và đọc: ThongTin hợp lệ, "
        "hồ sơ HoSo được chuẩn hóa, ảnh trong tệp nén. Tệp bị từ chối có lý do bằng tiếng Việt.",
        [inbox.key, unit_catalog.key, pipeline_config.key],
    ),
    _spec(
        "staff",
        "Hồ sơ của quý sau khi xử lý nộp lại: với mỗi (đơn vị báo cáo, trường) tệp nhận sau cùng được dùng, "
        "và một người có trong tệp sau được lấy từ tệp sau. Ảnh đã nhận ở quý trước vẫn được tính.",
        [dg.AssetDep("submissions", partition_mapping=ALL_LATER)],
    ),
    _spec(
        "record_issues",
        "Mọi lỗi và cảnh báo của từng hồ sơ trong quý (quy tắc từng hồ sơ, bộ kiểm tra Great Expectations, "
        "trùng mã, thay đổi nhân thân so với quý trước), hồ sơ bị mất so với quý trước, đề xuất danh mục.",
        [dg.AssetDep("staff", partition_mapping=STAFF_READERS), unit_catalog.key, pipeline_config.key],
    ),
    _spec(
        "unit_compliance",
        "Xếp hạng các đơn vị báo cáo trong quý: thời hạn nộp, độ đầy đủ, độ chính xác, ảnh, hồ sơ mất, điểm và "
        "thứ hạng theo nhóm (Phòng GD&ĐT, đơn vị trực thuộc).",
        ["record_issues", deadlines.key, pipeline_config.key],
    ),
    _spec(
        "payments",
        "Các dòng chi kinh phí nhập liệu SREM của quý: mỗi hồ sơ được chi một lần trong năm, ở quý đầu tiên "
        "hồ sơ đúng (không có lỗi). Đơn vị có số hồ sơ tăng bất thường bị tạm giữ cho đến khi Sở xác nhận.",
        [
            dg.AssetDep("record_issues", partition_mapping=LATER_SAME_YEAR),
            dg.AssetDep("staff", partition_mapping=STAFF_READERS),
            unit_catalog.key,
            pipeline_config.key,
            payment_confirmations.key,
        ],
    ),
]


@dg.multi_asset(
    specs=SPECS,
    check_specs=[c.spec for c in QUARTER_CHECKS],
    partitions_def=quarterly_partitions,
    can_subset=False,
    pool=WRITER_POOL,
    name="quarter_warehouse",
    description="Builds one quarter in the warehouse in one transaction and checks it.",
)
def quarter_warehouse(context: dg.AssetExecutionContext, pmis: PmisResource):
    quarter = context.partition_key
    settings = pmis.settings()
    read = quarter_build.read_quarter(settings, quarter, progress=context.log.debug)
    for warning in read.registered.warnings:
        context.log.warning(warning)
    started = time.perf_counter()
    with pmis.build_db() as con:
        with warehouse.transaction(con):
            load = quarter_build.load_quarter(con, settings, read, gx=run_suite)
            checkpoint("quarter_loaded")
            results = evaluate_quarter_checks(con, quarter, settings)
            failed = [f"{c.asset}.{c.name}" for c, r in results if c.blocking and not r.passed]
            warehouse.record_quarter_state(con, quarter, context.run_id, not failed, failed)
            versions = quarter_build.data_versions(con, quarter)
        per_unit = warehouse.fetch_frame(
            con,
            """SELECT reporting_unit, count(*) AS records, count(*) FILTER (WHERE is_complete) AS complete,
                      count(*) FILTER (WHERE has_photo) AS with_photo
               FROM core.staff_rows WHERE quarter = ? GROUP BY 1 ORDER BY 1""",
            [quarter],
        )
    checkpoint("quarter_committed")
    if failed:  # documents for signature describe only quarters whose blocking checks passed
        withdrawn = outputs.withdraw_signable(outputs.quarter_reports(settings.paths.reports, quarter))
        context.log.error(f"{quarter}: blocking checks failed ({', '.join(failed)}); {len(withdrawn)} signable documents withdrawn")
    load.seconds["read"] = round(read.seconds, 3)
    load.seconds["write_and_check"] = round(time.perf_counter() - started, 3)
    metadata = _metadata(read, load, per_unit)
    for spec in SPECS:
        key = spec.key.to_user_string()
        yield dg.MaterializeResult(asset_key=key, metadata=metadata[key], data_version=dg.DataVersion(versions[key]))
    for _check, result in results:
        yield result


def _metadata(read: quarter_build.QuarterRead, load: quarter_build.QuarterLoad, per_unit: pl.DataFrame) -> dict[str, dict]:
    subs = read.intake.submissions
    n_records = read.intake.records.height
    files = subs.select(
        "file_name",
        pl.col("reporting_unit").fill_null("—"),
        pl.col("received_at").dt.strftime("%Y-%m-%d %H:%M"),
        pl.col("n_records"),
        pl.col("error").fill_null("").str.slice(0, 120),
    ).sort("file_name")
    issues = load.issues
    by_rule = (
        issues.group_by("rule", "severity").agg(pl.len().alias("issues"), pl.col("ma_cb").n_unique().alias("persons"))
        .sort(["issues", "rule"], descending=[True, False])
    )
    n_errors = int((issues["severity"] == "error").sum())
    table = load.compliance
    submitted = table.filter(pl.col("submitted"))
    lines = load.lines
    by_type = lines.group_by("payee_type").agg(pl.col("amount_vnd").sum()).sort("payee_type")
    return {
        "submissions": {
            "files": subs.height,
            "new_files": read.registered.new_files,
            "files_waiting_to_settle": len(read.waiting),
            "rejected_files": read.intake.n_rejected,
            "records_read": n_records,
            "photos": read.intake.photos.height,
            "seconds": dg.MetadataValue.json(load.seconds),
            "files_table": dg.MetadataValue.md(md_table(files)),
        },
        "staff": {
            "staff_rows": load.resolution["staff"],
            "reporting_units": per_unit.height,
            "accepted_files": load.resolution["accepted"],
            "superseded_files": load.resolution["superseded"],
            "rejected_files": load.resolution["rejected"],
            "per_reporting_unit": dg.MetadataValue.md(md_table(per_unit)),
        },
        "record_issues": {
            "issues": issues.height,
            "errors": n_errors,
            "warnings": issues.height - n_errors,
            "lost_records": load.lost.height,
            "catalog_proposals": load.proposals.height,
            "gx_expectations_failed": sum(1 for s in load.gx_summary if not s["success"]),
            "by_rule": dg.MetadataValue.md(md_table(by_rule)),
        },
        "unit_compliance": {
            "deadline": str(load.deadline),
            "reporting_units": table.height,
            "submitted": submitted.height,
            "not_submitted": table.height - submitted.height,
            "late": int((submitted["days_late"] > 0).sum()),
            "mean_score": round(float(table["score"].mean() or 0), 2),
            "ranking": dg.MetadataValue.md(
                md_table(table.select("loai", "rank", "reporting_unit", "days_late", "n_records", "completeness_pct",
                                      "accuracy_pct", "photo_pct", "lost_records", "score"))
            ),
        },
        "payments": {
            "paid_records": load.paid.height,
            "units_held": int((~load.holds["confirmed"]).sum()) if load.holds.height else 0,
            "total_vnd": int(lines["amount_vnd"].sum() or 0),
            **{f"total_{r['payee_type']}_vnd": int(r["amount_vnd"]) for r in by_type.iter_rows(named=True)},
            "lines": dg.MetadataValue.md(md_table(lines.drop("quarter"))),
        },
    }
