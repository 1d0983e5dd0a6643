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

from assets import metadata as meta
from assets.inputs import deadlines, inbox, payment_confirmations, pipeline_config, unit_catalog
from assets.partitions import ALL_LATER, LATER_SAME_YEAR, STAFF_READERS, quarterly_partitions
from assets.resources import PmisResource
from checks import warmup
from checks.expectations import SuiteRunner
from checks.quarter import QUARTER_CHECKS, evaluate_quarter_checks
from pmis_pipeline import quarter as quarter_build
from pmis_pipeline import outputs, warehouse
from pmis_pipeline.faults import checkpoint

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
    description="Xây dựng một quý trong kho dữ liệu trong một giao dịch (đọc tệp, kiểm tra, xếp hạng, thanh toán) rồi chạy các kiểm tra của quý.",
)
def quarter_warehouse(context: dg.AssetExecutionContext, pmis: PmisResource):
    quarter = context.partition_key
    settings = pmis.settings()
    warmup.start()  # Great Expectations' imports overlap the reading of the files (SuiteRunner waits)
    read = quarter_build.read_quarter(settings, quarter, progress=context.log.debug)
    for warning in read.registered.warnings:
        context.log.warning(warning)
    started = time.perf_counter()
    with pmis.build_db() as con:
        with warehouse.transaction(con):
            load = quarter_build.load_quarter(con, settings, read, gx=SuiteRunner(), progress=context.log.debug)
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
    bad = [(c, r) for c, r in results if not r.passed and r.severity == dg.AssetCheckSeverity.ERROR]
    if bad:  # visible on the run (its tags and its log), not only as a red number in the lineage
        for check, result in bad:
            context.log.error(f"{quarter}: kiểm tra '{check.name}' không đạt: {result.description}")
        context.instance.add_run_tags(context.run_id, {"pmis/kiem_tra_loi": ", ".join(c.name for c, _ in bad)})
    if failed:  # documents for signature describe only quarters whose blocking checks passed
        withdrawn = outputs.withdraw_signable(outputs.quarter_reports(settings.paths.reports, quarter))
        from pmis_pipeline.documents.quarter_page import write_quarter_report

        with pmis.build_db(read_only=True) as con:  # the quarter page says so (the other documents are skipped)
            write_quarter_report(settings, con, quarter)
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
    names = read.units.select(pl.col("ma_don_vi").alias("reporting_unit"), "ten_don_vi")
    files = subs.join(names, on="reporting_unit", how="left").select(
        "file_name", "reporting_unit", "ten_don_vi", "received_at", "n_records",
        pl.when(pl.col("readable")).then(pl.lit("")).otherwise(pl.col("error")).alias("error"),
    ).sort("received_at")
    counts = load.issues  # issues and persons per (rule, severity)
    by_rule = counts.pipe(meta.with_rule_labels).sort(["issues", "rule"], descending=[True, False])
    n_issues = int(counts["issues"].sum() or 0)
    n_errors = int(counts.filter(pl.col("severity") == "error")["issues"].sum() or 0)
    ranking = load.compliance.with_columns(
        pl.col("loai").replace_strict(meta.GROUP_VI, default=pl.col("loai")).alias("group_vi"),
        pl.when(pl.col("submitted")).then(pl.col("days_late").cast(pl.Utf8)).otherwise(pl.lit("Chưa gửi")).alias("late"),
    )
    submitted = ranking.filter(pl.col("submitted"))
    lines = load.lines.with_columns(
        pl.col("item").replace_strict(meta.ITEM_VI, default=pl.col("item")).alias("item_vi")
    )
    by_type = lines.group_by("payee_type").agg(pl.col("amount_vnd").sum())
    totals = {r["payee_type"]: int(r["amount_vnd"]) for r in by_type.iter_rows(named=True)}
    held = load.holds.filter(~pl.col("confirmed")) if load.holds.height else load.holds
    return {
        "submissions": {
            "Số lần nộp tệp": subs.height,
            "Tệp mới": read.registered.new_files,
            "Tệp đang chép (chờ lần sau)": len(read.waiting),
            "Tệp bị từ chối": read.intake.n_rejected,
            "Số hồ sơ đọc được": read.intake.n_records,
            "Số ảnh": read.intake.n_photos,
            "Thời gian (giây)": dg.MetadataValue.json(load.seconds),
            "Các tệp": meta.table(files, {
                "file_name": "Tệp", "reporting_unit": "Mã đơn vị", "ten_don_vi": "Đơn vị báo cáo",
                "received_at": "Nhận lúc", "n_records": "Số hồ sơ", "error": "Lý do từ chối",
            }),
        },
        "staff": {
            "Số hồ sơ": load.resolution["staff"],
            "Số đơn vị báo cáo có hồ sơ": per_unit.height,
            "Tệp được dùng": load.resolution["accepted"],
            "Tệp bị thay bằng tệp sau": load.resolution["superseded"],
            "Tệp bị từ chối": load.resolution["rejected"],
            "Theo đơn vị báo cáo": meta.table(per_unit.join(names, on="reporting_unit", how="left"), {
                "reporting_unit": "Mã đơn vị", "ten_don_vi": "Đơn vị báo cáo", "records": "Số hồ sơ",
                "complete": "Đủ thông tin", "with_photo": "Có ảnh",
            }),
        },
        "record_issues": {
            "Số lỗi và cảnh báo": n_issues,
            "Lỗi": n_errors,
            "Cảnh báo": n_issues - n_errors,
            "Hồ sơ bị mất so với quý trước": load.lost.height,
            "Đề xuất sửa danh mục": load.proposals.height,
            "Theo loại lỗi": meta.table(by_rule, {
                "rule_vi": "Loại", "severity_vi": "Mức", "issues": "Số lần", "persons": "Số người", "rule": "Mã quy tắc",
            }),
        },
        "unit_compliance": {
            "Hạn nộp": meta.date_vi(load.deadline),
            "Số đơn vị báo cáo": ranking.height,
            "Đã gửi": submitted.height,
            "Chưa gửi": ranking.height - submitted.height,
            "Nộp trễ": int((submitted["days_late"] > 0).sum()),
            "Điểm trung bình": round(float(ranking["score"].mean() or 0), 2),
            "Độ đầy đủ trung bình (%)": round(float(submitted["completeness_pct"].mean() or 0), 2),
            "Độ chính xác trung bình (%)": round(float(submitted["accuracy_pct"].mean() or 0), 2),
            "Tỷ lệ có ảnh trung bình (%)": round(float(submitted["photo_pct"].mean() or 0), 2),
            "Bảng xếp hạng": meta.table(ranking, {
                "group_vi": "Nhóm", "rank": "Hạng", "reporting_unit": "Mã đơn vị", "ten_don_vi": "Đơn vị",
                "first_received_at": "Nhận lúc", "late": "Trễ (ngày)", "n_records": "Số hồ sơ",
                "completeness_pct": "Đầy đủ (%)", "accuracy_pct": "Chính xác (%)", "photo_pct": "Có ảnh (%)",
                "lost_records": "Hồ sơ mất", "score": "Điểm",
            }),
        },
        "payments": {
            "Số hồ sơ được chi": load.paid.height,
            "Tổng chi (đồng)": int(lines["amount_vnd"].sum() or 0),
            "Chi các Phòng GD&ĐT (đồng)": totals.get("phong", 0),
            "Chi đơn vị trực thuộc (đồng)": totals.get("truc_thuoc", 0),
            "Chi Sở (đồng)": totals.get("so", 0),
            "Đơn vị bị tạm giữ chờ Sở xác nhận": held.height,
            "Các dòng chi": meta.table(lines, {
                "payee": "Mã", "payee_name": "Đơn vị nhận", "item_vi": "Khoản", "n_records": "Số hồ sơ",
                "rate_vnd": "Mức (đồng/hồ sơ)", "amount_vnd": "Thành tiền (đồng)",
            }),
        },
    }
