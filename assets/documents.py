"""The quarter's documents, each downstream of the checks of what it shows.

A document asset runs only after the blocking checks of the warehouse assets
it reads have passed (Dagster skips it otherwise). Before the quarter's
deadline the documents for signature are drafts ("DỰ THẢO", file names
ending ``-du-thao``); a quarter with no readable file before its deadline gets
none, and a quarter with nothing to pay gets no payment documents.
"""


from datetime import datetime

import dagster as dg
import polars as pl

from assets import metadata as meta
from assets.inputs import deadlines, pipeline_config
from assets.partitions import blocking_quarter_check, quarterly_partitions
from assets.resources import PmisResource
from assets.warehouse import CODE_VERSION, WRITER_POOL
from pmis_pipeline import outputs, schema
from pmis_pipeline import documents as docs  # the writers load on first use (openpyxl is not needed to load the code location)
from pmis_pipeline.inputs import quarter_deadline

GROUP = "documents"


def _document_asset(name: str, deps: list, description: str, check_specs=()):
    return dg.asset(
        name=name,
        partitions_def=quarterly_partitions,
        group_name=GROUP,
        kinds={"excel"},
        deps=[*deps, pipeline_config.key],  # signers and dates come from [documents]
        pool=WRITER_POOL,
        code_version=CODE_VERSION,
        description=description,
        check_specs=list(check_specs),
    )


def document_state(settings, con, quarter: str) -> outputs.DocumentState:
    """Drafts before the deadline; what is due depends on the files received."""
    received, readable = outputs.file_counts(con, quarter)
    return outputs.DocumentState(
        deadline=quarter_deadline(settings, quarter),
        today=datetime.now(settings.tz).date(),
        received_files=received,
        readable_files=readable,
    )


def _files_metadata(folder, paths) -> dict:
    """How many files, where, and a link to each on the local reports server (when it runs)."""
    names = [str(p.relative_to(folder)) for p in sorted(paths)]
    out = {"Số tệp": len(names), "Thư mục": dg.MetadataValue.path(str(folder))}
    quarter = folder.name
    links = [(name, meta.reports_link(quarter, *name.split("/"))) for name in names]
    if links and all(link for _, link in links):
        out["Tải về"] = dg.MetadataValue.md(
            "\n".join(f"- [{name}]({link['Mở trong trình duyệt'].value})" for name, link in links)
        )
    else:
        out["Các tệp"] = meta.table(pl.DataFrame({"file": names}, schema={"file": pl.Utf8}), {"file": "Tệp"})
    return {**out, **meta.reports_link(quarter, "index.html")}


@_document_asset(
    "feedback_workbooks",
    ["record_issues"],
    "Sổ phản hồi cho từng đơn vị báo cáo (phan-hoi/<mã đơn vị>.xlsx): tóm tắt theo lỗi và trường, từng hồ sơ cần "
    "sửa (tệp, dòng, trường, lỗi, giá trị đã nhận), hồ sơ bị mất, tệp bị từ chối và lý do. Sau hạn nộp, đơn vị "
    "không gửi gì nhận một thông báo một trang.",
)
def feedback_workbooks(context: dg.AssetExecutionContext, pmis: PmisResource) -> dg.MaterializeResult:
    quarter = context.partition_key
    settings = pmis.settings()
    folder = outputs.quarter_reports(settings.paths.reports, quarter)
    with pmis.build_db(read_only=True) as con:
        data = outputs.feedback_inputs(con, quarter)
        state = document_state(pmis.settings(), con, quarter)
    headers = {f.key: f.header for f in schema.FIELDS}
    written, notices = [], 0
    with outputs.staged(folder, outputs.FEEDBACK) as stage:
        reuse = outputs.Reuse(folder, stage, "phan-hoi")  # only the units whose feedback changed are written again
        for unit in data["units"].filter(pl.col("loai") != "truong").iter_rows(named=True):
            code = unit["ma_don_vi"]
            counts = data["counts"].filter(pl.col("reporting_unit") == code)
            rejected = data["rejected"].filter(pl.col("reporting_unit") == code)
            name = f"{code}.xlsx"
            if counts.height == 0 and rejected.height == 0:
                if not state.before_deadline:  # nothing received by the deadline: a one-page notice
                    key = outputs.inputs_key("notice", quarter, code, unit["ten_don_vi"], state.deadline, settings.documents)
                    if reuse.keep(name, key):
                        written.append(folder / "phan-hoi" / name)
                        notices += 1
                        continue
                    reuse.wrote(name, key)
                    path = docs.write_not_received_notice(
                        stage / "phan-hoi" / f"{code}.xlsx",
                        quarter=quarter,
                        reporting_unit=code,
                        reporting_unit_name=unit["ten_don_vi"],
                        deadline=state.deadline,
                        settings=settings.documents,
                    )
                    written.append(folder / path.relative_to(stage))
                    notices += 1
                continue
            issues = data["issues"].filter(pl.col("reporting_unit") == code).drop("reporting_unit")
            lost = data["lost"].filter(pl.col("reporting_unit") == code).select("ma_cb", "ho_ten", "ma_don_vi", "last_quarter")
            key = outputs.inputs_key(
                "feedback", quarter, code, unit["ten_don_vi"], issues, counts, lost, rejected, headers, settings.documents
            )
            if reuse.keep(name, key):
                written.append(folder / "phan-hoi" / name)
                continue
            reuse.wrote(name, key)
            path = docs.write_feedback_workbook(
                stage / "phan-hoi" / name,
                quarter=quarter,
                reporting_unit=code,
                reporting_unit_name=unit["ten_don_vi"],
                issues=issues,
                staff_counts=counts.drop("reporting_unit"),
                lost=lost,
                rejected_files=rejected.select("file_name", "error"),
                field_headers=headers,
                settings=settings.documents,
            )
            written.append(folder / path.relative_to(stage))
        reuse.save()
    return dg.MaterializeResult(
        metadata={**_files_metadata(folder, written), "Thông báo chưa gửi": notices, "Sổ giữ nguyên (không đổi)": reuse.reused}
    )


@_document_asset(
    "department_review",
    ["record_issues"],
    "Sổ rà soát của Sở (ra-soat-YYYY-Qn.xlsx): đề xuất danh mục (trường chưa có trong units.csv, tên khác danh "
    "mục; không tự thêm), tệp bị từ chối, số liệu từng đơn vị báo cáo.",
)
def department_review(context: dg.AssetExecutionContext, pmis: PmisResource) -> dg.MaterializeResult:
    quarter = context.partition_key
    folder = outputs.quarter_reports(pmis.settings().paths.reports, quarter)
    with pmis.build_db(read_only=True) as con:
        data = outputs.review_inputs(con, quarter)
        state = document_state(pmis.settings(), con, quarter)
    written = []
    with outputs.staged(folder, outputs.REVIEW) as stage:
        if state.review_due:
            path = docs.write_department_review(
                stage / f"ra-soat-{quarter}.xlsx",
                quarter=quarter,
                proposals=data["proposals"],
                rejected_files=data["rejected"],
                units=data["units"],
            )
            written.append(folder / path.name)
    return dg.MaterializeResult(
        metadata={
            **_files_metadata(folder, written),
            "Đề xuất sửa danh mục": data["proposals"].height,
            "Tệp bị từ chối": data["rejected"].height,
        }
    )


@_document_asset(
    "announcement",
    ["unit_compliance", deadlines.key],
    "Thông báo kết quả cập nhật dữ liệu PMIS của quý (thong-bao-ket-qua-YYYY-Qn.xlsx), để ký. Trước hạn nộp là "
    "bản DỰ THẢO; chưa có tệp nào trước hạn thì chưa lập; sau hạn, đơn vị không gửi được ghi 'Chưa gửi'.",
)
def announcement(context: dg.AssetExecutionContext, pmis: PmisResource) -> dg.MaterializeResult:
    quarter = context.partition_key
    settings = pmis.settings()
    folder = outputs.quarter_reports(settings.paths.reports, quarter)
    with pmis.build_db(read_only=True) as con:
        state = document_state(pmis.settings(), con, quarter)
        table = outputs.compliance_table(con, quarter)
    written = []
    with outputs.staged(folder, outputs.ANNOUNCEMENT) as stage:
        if state.announcement_due:
            name = docs.document_file_name("thong-bao-ket-qua", quarter, state.draft)
            path = docs.write_announcement(
                stage / name, quarter=quarter, compliance=table, settings=settings.documents,
                scoring=settings.section("scoring"), draft=state.draft,
            )
            written.append(folder / path.name)
    return dg.MaterializeResult(
        metadata={
            **_files_metadata(folder, written),
            "Bản dự thảo": state.draft,
            "Hạn nộp": meta.date_vi(state.deadline),
            "Ghi chú": "" if written else "chưa lập: chưa có tệp đọc được và chưa đến hạn nộp",
        }
    )


@_document_asset(
    "payment_documents",
    ["payments", deadlines.key],
    "Chứng từ thanh toán của quý (thanh-toan/): hợp đồng và biên bản thanh lý với các Phòng GD&ĐT, danh sách ký "
    "nhận của đơn vị trực thuộc, bảng tổng hợp kinh phí của Sở. Không có gì để chi thì không lập; trước hạn là DỰ THẢO. "
    "Số tiền bằng chữ được đọc lại từ tệp và so với số trước khi đặt tệp vào chỗ.",
    check_specs=[
        blocking_quarter_check(
            "amounts_in_words",
            "payment_documents",
            "Số tiền bằng chữ, đọc lại từ các tệp vừa lập, khớp với số; nếu không khớp thì không đặt "
            "chứng từ vào chỗ.",
        )
    ],
)
def payment_documents(context: dg.AssetExecutionContext, pmis: PmisResource):
    quarter = context.partition_key
    settings = pmis.settings()
    folder = outputs.quarter_reports(settings.paths.reports, quarter)
    signers = settings.documents
    with pmis.build_db(read_only=True) as con:
        state = document_state(pmis.settings(), con, quarter)
        lines, officers = outputs.payment_inputs(con, quarter)
    total = int(lines["amount_vnd"].sum() or 0)
    written, problems = [], []
    with outputs.staged(folder, outputs.PAYMENT_DOCUMENTS) as stage:
        if total > 0:
            out = stage / "thanh-toan"
            out.mkdir()
            signable = [
                docs.write_district_contracts(
                    out / docs.document_file_name("hop-dong-thanh-ly", quarter, state.draft),
                    quarter=quarter, lines=lines, settings=signers, draft=state.draft,
                ),
                docs.write_receipt_list(
                    out / docs.document_file_name("danh-sach-ky-nhan", quarter, state.draft),
                    quarter=quarter, lines=lines, officers=officers, settings=signers, draft=state.draft,
                ),
                docs.write_payment_summary(
                    out / docs.document_file_name("tong-hop-kinh-phi", quarter, state.draft),
                    quarter=quarter, lines=lines, settings=signers, draft=state.draft,
                ),
            ]
            problems = [p for doc in signable for p in docs.words_mismatches(doc)]
            if problems:
                raise dg.Failure(
                    description=f"{quarter}: số tiền bằng chữ không khớp số; không đặt chứng từ vào chỗ",
                    metadata={"problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems))},
                )
            written = [folder / "thanh-toan" / d.name for d in signable]
    yield dg.MaterializeResult(
        metadata={
            **_files_metadata(folder, written),
            "Bản dự thảo": state.draft,
            "Tổng chi (đồng)": total,
            "Ghi chú": "" if written else "không lập: không có hồ sơ nào được chi trong quý",
        }
    )
    yield dg.AssetCheckResult(
        check_name="amounts_in_words",
        passed=not problems,
        description=f"Đã đọc lại {len(written)} chứng từ: số tiền bằng chữ khớp với số." if written else "Không có chứng từ.",
        metadata={"Số chứng từ đã đọc lại": len(written)},
    )


DOCUMENTS = [feedback_workbooks, department_review, announcement, payment_documents]
