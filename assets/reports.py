"""What the Department sends on and keeps, per quarter: the statistical report
(báo cáo thống kê) and the consolidated export for SREM. Both read the
quarter's checked tables, and are verified before they are put in place."""

import dagster as dg

from assets import metadata as meta
from assets.documents import document_state
from assets.inputs import pipeline_config, unit_catalog
from assets.partitions import SAME_AND_NEXT, blocking_quarter_check, quarterly_partitions
from assets.resources import PmisResource
from assets.warehouse import CODE_VERSION, WRITER_POOL
from pmis_pipeline import outputs, stats

GROUP = "reports"


@dg.asset(
    partitions_def=quarterly_partitions,
    group_name=GROUP,
    kinds={"excel"},
    deps=["unit_compliance", dg.AssetDep("staff", partition_mapping=SAME_AND_NEXT), pipeline_config.key],
    pool=WRITER_POOL,
    code_version=CODE_VERSION,
    description=(
        "Báo cáo thống kê của quý (thong-ke-YYYY-Qn.xlsx): cán bộ theo huyện, đơn vị, cấp học, giới tính, dân tộc, "
        "tôn giáo, trình độ, chuẩn, lý luận chính trị, đảng viên, độ tuổi, ngạch; ảnh, độ đầy đủ, độ chính xác; "
        "biến động so với quý trước. Mỗi bảng cộng lại đúng bằng số hồ sơ của quý (kiểm tra trước khi đặt tệp)."
    ),
    check_specs=[
        blocking_quarter_check(
            "statistics_reconcile",
            "statistical_report",
            "Mỗi bảng của báo cáo thống kê cộng lại đúng bằng số hồ sơ của quý.",
        )
    ],
)
def statistical_report(context: dg.AssetExecutionContext, pmis: PmisResource):
    quarter = context.partition_key
    settings = pmis.settings()
    folder = outputs.quarter_reports(settings.paths.reports, quarter)
    with pmis.build_db(read_only=True) as con:
        state = document_state(settings, con, quarter)
        figures = stats.quarter_statistics(con, quarter)
        problems = stats.reconciliation_problems(figures)
        if problems:
            raise dg.Failure(
                description=f"{quarter}: báo cáo thống kê không khớp số hồ sơ; không đặt tệp vào chỗ",
                metadata={"problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems))},
            )
    from pmis_pipeline.documents.statistics import write_statistics  # openpyxl: loaded when a report is written

    written = []
    with outputs.staged(folder, outputs.STATISTICS) as stage:
        if state.announcement_due:  # like the announcement: once a file arrived, or after the deadline
            written.append(folder / write_statistics(stage / f"thong-ke-{quarter}.xlsx", figures).name)
    yield dg.MaterializeResult(
        metadata={
            "Tệp": dg.MetadataValue.path(str(written[0])) if written else "chưa lập: chưa có tệp và chưa đến hạn",
            "Số hồ sơ": figures.n_staff,
            "Số người": figures.n_persons,
            "So với quý": figures.previous_quarter or "—",
            **(meta.reports_link(quarter, written[0].name) if written else {}),
        }
    )
    yield dg.AssetCheckResult(
        check_name="statistics_reconcile", passed=True,
        description=f"Mọi bảng cộng lại đúng {figures.n_staff} hồ sơ.", metadata={"Số hồ sơ": figures.n_staff},
    )


@dg.asset(
    partitions_def=quarterly_partitions,
    group_name=GROUP,
    kinds={"excel", "parquet"},
    deps=["payments", "unit_compliance", "record_issues"],
    pool=WRITER_POOL,
    code_version=CODE_VERSION,
    description=(
        "Dữ liệu tổng hợp của quý gửi dự án SREM (warehouse/export/YYYY-Qn/): hồ sơ đã nhận theo mẫu nộp "
        "(ThongTin, HoSo, DonVi; mã đơn vị báo cáo SO), các bảng cho người phân tích dạng Parquet, và tệp "
        "manifest.json (số dòng, sha256 từng tệp) để bên nhận kiểm tra."
    ),
    check_specs=[
        blocking_quarter_check(
            "export_verified",
            "srem_export",
            "Thư mục dữ liệu gửi SREM khớp với manifest.json (từng tệp, kích thước, sha256, số dòng).",
        )
    ],
)
def srem_export(context: dg.AssetExecutionContext, pmis: PmisResource):
    from pmis_pipeline import export  # openpyxl: loaded when the export is written

    quarter = context.partition_key
    target = export.export_folder(pmis.settings().paths.warehouse, quarter)
    manifest: dict = {}
    with pmis.build_db(read_only=True) as con:
        (n_staff,) = con.execute("SELECT count(*) FROM core.staff_rows WHERE quarter = ?", [quarter]).fetchone()
    if n_staff == 0:
        outputs.remove_folder(target)
        yield dg.MaterializeResult(metadata={"Thư mục": "không xuất: quý chưa có hồ sơ nào", "Số tệp": 0, "Số hồ sơ": 0})
        yield dg.AssetCheckResult(check_name="export_verified", passed=True, description="Không có gì để xuất.")
        return

    def build(folder):
        nonlocal manifest
        with pmis.build_db(read_only=True) as con:
            manifest = export.export_quarter(con, quarter, folder, progress=context.log.debug)
        problems = export.verify_export(folder)
        if problems:
            raise dg.Failure(description=f"{quarter}: export does not match its manifest", metadata={"problems": "; ".join(problems)})

    outputs.replace_folder(target, build)
    files = manifest.get("files", [])
    yield dg.MaterializeResult(
        metadata={
            "Thư mục": dg.MetadataValue.path(str(target)),
            "Số tệp": len(files),
            "Số hồ sơ": sum(f["rows"] for f in files if f.get("kind") == "submission"),
        }
    )
    yield dg.AssetCheckResult(
        check_name="export_verified", passed=True,
        description=f"{len(files)} tệp khớp với manifest.json.", metadata={"Số tệp": len(files)},
    )


@dg.asset(
    partitions_def=quarterly_partitions,
    group_name=GROUP,
    kinds={"html"},
    deps=["feedback_workbooks", "department_review", "announcement", "payment_documents", "statistical_report", "srem_export"],
    pool=WRITER_POOL,
    code_version=CODE_VERSION,
    description=(
        "Trang báo cáo quý (reports/YYYY-Qn/index.html) cho người không dùng Dagster: tình trạng từng đơn vị (đúng "
        "hạn, trễ, tệp bị từ chối và lý do, chưa gửi), bảng xếp hạng, biểu đồ độ đầy đủ, độ chính xác, ảnh, các "
        "dòng chi và đường dẫn tương đối tới mọi văn bản của quý; và trang mục lục các quý (reports/index.html)."
    ),
)
def quarter_page(context: dg.AssetExecutionContext, pmis: PmisResource) -> dg.MaterializeResult:
    from pmis_pipeline.documents.quarter_page import write_quarter_report

    quarter = context.partition_key
    settings = pmis.settings()
    with pmis.build_db(read_only=True) as con:
        page = write_quarter_report(settings, con, quarter)
    return dg.MaterializeResult(
        metadata={
            "Trang": dg.MetadataValue.path(str(page)),
            "Dung lượng (KB)": round(page.stat().st_size / 1024, 1),
            **meta.reports_link(quarter, "index.html"),
        }
    )


@dg.asset(
    group_name=GROUP,
    kinds={"excel"},
    deps=[unit_catalog.key],
    description=(
        "Mẫu nộp dữ liệu cho từng đơn vị báo cáo (warehouse/templates/mau-pmis-<mã>.xlsx) và một mẫu chung: các "
        "sheet ThongTin, HoSo, DonVi với tiêu đề tiếng Việt, danh sách chọn cho mọi trường danh mục, định dạng "
        "văn bản cho số CMND, sheet hướng dẫn, các trường của đơn vị điền sẵn trong DonVi. Lập lại khi danh mục đổi."
    ),
)
def unit_templates(context: dg.AssetExecutionContext, pmis: PmisResource) -> dg.MaterializeResult:
    from pmis_pipeline.catalog import read_units, reporting_units
    from pmis_pipeline.template import template_key, write_template

    settings = pmis.settings()
    units = read_units(settings.paths.units_csv)
    codes = reporting_units(units).sort("ma_don_vi")["ma_don_vi"].to_list()
    target = settings.paths.warehouse / "templates"
    catalog_key = outputs.inputs_key(units)
    written = 0

    def build(folder):
        nonlocal written
        folder.mkdir(parents=True)
        reuse = outputs.Reuse(target.parent, folder.parent, target.name)  # a template whose inputs did not change is kept
        for code in (None, *codes):
            name = f"mau-pmis-{code}.xlsx" if code else "mau-pmis.xlsx"
            key = template_key(catalog_key, code)
            if reuse.keep(name, key):
                continue
            write_template(folder / name, units=units, unit_code=code)
            reuse.wrote(name, key)
            written += 1
        reuse.save()

    outputs.replace_folder(target, build)
    return dg.MaterializeResult(
        metadata={
            "Thư mục": dg.MetadataValue.path(str(target)),
            "Số mẫu": len(codes) + 1,
            "Mẫu lập lại": written,
        }
    )


REPORTS = [statistical_report, srem_export, quarter_page]
