"""The quarter's asset checks, evaluated inside the quarter's transaction.

The ``quarter_warehouse`` step builds a quarter in one DuckDB transaction and
evaluates these checks on the same connection before it commits, so the
quarter's ``core.quarter_state`` records whether its blocking checks passed
(only such quarters are published, and only their documents are written).

Blocking (severity ERROR, downstream documents and publishing stop):
``staff_resolution`` and ``payments_consistent``. The others warn (or, for
duplicates, report an ERROR without blocking): a province with incomplete
records must still be ranked and told what to fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg
import duckdb
import polars as pl

from assets.partitions import quarterly_partitions
from assets import metadata as meta
from pmis_pipeline import schema, warehouse
from pmis_pipeline.documents.money import format_pct, format_vnd
from pmis_pipeline.payments import SO_PAYEE
from pmis_pipeline.quarters import Quarter
from pmis_pipeline.settings import Settings

WORST = 5
Evaluate = Callable[[duckdb.DuckDBPyConnection, str, Settings], dg.AssetCheckResult]


@dataclass(frozen=True)
class QuarterCheck:
    asset: str
    name: str
    blocking: bool
    description: str
    evaluate: Evaluate

    @property
    def spec(self) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(
            self.name,
            asset=self.asset,
            blocking=self.blocking,
            description=self.description,
            partitions_def=quarterly_partitions,
        )


def _one(con: duckdb.DuckDBPyConnection, sql: str, params) -> tuple:
    return con.execute(sql, params).fetchone()


def _pct(value: float) -> str:
    return format_pct(value)


def rejected_files(con, quarter, settings) -> dg.AssetCheckResult:
    frame = warehouse.fetch_frame(
        con,
        """SELECT f.file_name, f.reporting_unit, u.ten_don_vi, f.error FROM core.submission_files f
           LEFT JOIN core.units u ON u.ma_don_vi = f.reporting_unit
           WHERE f.quarter = ? AND NOT f.readable ORDER BY f.received_at, f.seq""",
        [quarter],
    )
    (total,) = _one(con, "SELECT count(*) FROM core.submission_files WHERE quarter = ?", [quarter])
    return dg.AssetCheckResult(
        passed=frame.height == 0,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"{frame.height} trong {total} tệp bị từ chối; các tệp khác vẫn được đọc, đơn vị được báo lý do trong sổ phản hồi."
            if frame.height else f"Cả {total} tệp đều đọc được."
        ),
        metadata={
            "Tệp bị từ chối": frame.height,
            "Số tệp": total,
            "Các tệp bị từ chối": meta.table(frame, {
                "file_name": "Tệp", "reporting_unit": "Mã đơn vị", "ten_don_vi": "Đơn vị", "error": "Lý do",
            }),
        },
    )


def staff_resolution(con, quarter, settings) -> dg.AssetCheckResult:
    (from_wrong,) = _one(
        con,
        """SELECT count(*) FROM core.staff_rows s JOIN core.submission_status st USING (quarter, submission_id)
           WHERE s.quarter = ? AND st.status <> 'accepted'""",
        [quarter],
    )
    silent = warehouse.fetch_frame(
        con,
        """SELECT f.file_name FROM core.submission_files f JOIN core.submission_status st USING (quarter, submission_id)
           WHERE f.quarter = $q AND st.status = 'accepted' AND f.n_records > 0
             AND NOT EXISTS (SELECT 1 FROM core.staff_rows s WHERE s.quarter = $q AND s.submission_id = f.submission_id)""",
        {"q": quarter},
    )
    (split_school,) = _one(
        con,
        """SELECT count(*) FROM (SELECT reporting_unit, ma_don_vi FROM core.staff_rows WHERE quarter = ?
           GROUP BY ALL HAVING count(DISTINCT submission_id) > 1)""",
        [quarter],
    )
    (split_person,) = _one(
        con,
        """SELECT count(*) FROM (SELECT reporting_unit, ma_cb FROM core.staff_rows WHERE quarter = ? AND ma_cb IS NOT NULL
           GROUP BY ALL HAVING count(DISTINCT submission_id) > 1)""",
        [quarter],
    )
    passed = from_wrong == 0 and silent.height == 0 and split_school == 0 and split_person == 0
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            "Việc chọn tệp nộp lại nhất quán: mỗi trường và mỗi người lấy từ đúng một tệp, tệp được dùng đều có hồ sơ."
            if passed else
            "Việc chọn tệp nộp lại KHÔNG nhất quán: không lập văn bản để ký, không công bố quý này (lỗi chương trình, "
            "báo cho người quản trị)."
        ),
        metadata={
            "Hồ sơ lấy từ tệp không được dùng": from_wrong,
            "Tệp được dùng nhưng không có hồ sơ": silent.height,
            "Trường lấy từ hai tệp": split_school,
            "Người lấy từ hai tệp": split_person,
        },
    )


def _per_unit(con, quarter: str) -> pl.DataFrame:
    return warehouse.fetch_frame(
        con,
        """
        SELECT s.reporting_unit, any_value(u.ten_don_vi) AS ten_don_vi, count(*) AS records,
               round(100.0 * sum(s.filled_required) / nullif(sum(s.required_cells), 0), 2) AS completeness_pct,
               round(100.0 * count(*) FILTER (WHERE NOT coalesce(f.has_error, FALSE)) / count(*), 2) AS accuracy_pct
        FROM core.staff_rows s LEFT JOIN core.row_flags f USING (quarter, submission_id, row_number)
        LEFT JOIN core.units u ON u.ma_don_vi = s.reporting_unit
        WHERE s.quarter = $q GROUP BY 1
        """,
        {"q": quarter},
    )


UNIT_COLUMNS = {"reporting_unit": "Mã đơn vị", "ten_don_vi": "Đơn vị", "records": "Số hồ sơ"}


def completeness(con, quarter, settings) -> dg.AssetCheckResult:
    threshold = settings.model.checks.min_completeness_pct
    filled, required, complete, n = _one(
        con,
        """SELECT coalesce(sum(filled_required), 0), coalesce(sum(required_cells), 0),
                  count(*) FILTER (WHERE is_complete), count(*)
           FROM core.staff_rows WHERE quarter = ?""",
        [quarter],
    )
    units = _per_unit(con, quarter)
    pct = round(100.0 * filled / required, 2) if required else 0.0
    passed = n > 0 and pct >= threshold
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"Độ đầy đủ toàn tỉnh {_pct(pct)}% ({'đạt' if passed else 'dưới'} ngưỡng {_pct(threshold)}%); "
            f"{complete} trong {n} hồ sơ đủ mọi thông tin bắt buộc."
            if n else "Quý chưa có hồ sơ nào."
        ),
        metadata={
            "Độ đầy đủ (%)": pct,
            "Ngưỡng (%)": threshold,
            "Hồ sơ đủ thông tin": complete,
            "Số hồ sơ": n,
            "Đơn vị thấp nhất": meta.table(
                units.sort("completeness_pct").head(WORST), {**UNIT_COLUMNS, "completeness_pct": "Đầy đủ (%)"}
            ),
        },
    )


def accuracy(con, quarter, settings) -> dg.AssetCheckResult:
    threshold = settings.model.checks.min_accuracy_pct
    units = _per_unit(con, quarter)
    by_rule = warehouse.fetch_frame(
        con,
        "SELECT rule, severity, count(*) AS issues FROM core.record_issues WHERE quarter = ? GROUP BY ALL ORDER BY 3 DESC, 1",
        [quarter],
    ).with_columns(
        pl.col("rule").map_elements(meta.rule_vi, return_dtype=pl.Utf8).alias("rule_vi"),
        pl.col("severity").replace_strict(meta.SEVERITY_VI, default=pl.col("severity")).alias("severity_vi"),
    )
    n = int(units["records"].sum() or 0)
    valid = float((units["records"] * units["accuracy_pct"] / 100).sum() or 0)
    pct = round(100.0 * valid / n, 2) if n else 0.0
    passed = n > 0 and pct >= threshold
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"Độ chính xác toàn tỉnh {_pct(pct)}% hồ sơ không có lỗi ({'đạt' if passed else 'dưới'} ngưỡng {_pct(threshold)}%)."
            if n else "Quý chưa có hồ sơ nào."
        ),
        metadata={
            "Độ chính xác (%)": pct,
            "Ngưỡng (%)": threshold,
            "Số hồ sơ": n,
            "Theo loại lỗi": meta.table(by_rule, {"rule_vi": "Loại", "severity_vi": "Mức", "issues": "Số lần", "rule": "Mã quy tắc"}),
            "Đơn vị thấp nhất": meta.table(
                units.sort("accuracy_pct").head(WORST), {**UNIT_COLUMNS, "accuracy_pct": "Chính xác (%)"}
            ),
        },
    )


def duplicates(con, quarter, settings) -> dg.AssetCheckResult:
    frame = warehouse.fetch_frame(
        con,
        """SELECT i.rule, i.severity, i.reporting_unit, any_value(u.ten_don_vi) AS ten_don_vi,
                  count(DISTINCT i.ma_cb) AS persons, count(*) AS rows
           FROM core.record_issues i LEFT JOIN core.units u ON u.ma_don_vi = i.reporting_unit
           WHERE i.quarter = ? AND i.rule IN ('duplicate_ma_cb', 'duplicate_across_units')
           GROUP BY i.rule, i.severity, i.reporting_unit ORDER BY persons DESC, i.reporting_unit""",
        [quarter],
    ).with_columns(
        pl.col("rule").map_elements(meta.rule_vi, return_dtype=pl.Utf8).alias("rule_vi"),
        pl.col("severity").replace_strict(meta.SEVERITY_VI, default=pl.col("severity")).alias("severity_vi"),
    )
    errors = frame.filter(pl.col("severity") == "error")
    persons = int(errors["persons"].sum() or 0)
    return dg.AssetCheckResult(
        passed=errors.height == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"{persons} mã cán bộ bị trùng (trong một đơn vị hoặc giữa các đơn vị): mỗi bản trùng là lỗi và không "
            "được chi; các đơn vị được báo trong sổ phản hồi." if errors.height else "Không có mã cán bộ trùng."
        ),
        metadata={
            "Số người bị trùng": persons,
            "Số dòng lỗi trùng": int(errors["rows"].sum() or 0),
            "Theo đơn vị": meta.table(frame, {
                "reporting_unit": "Mã đơn vị", "ten_don_vi": "Đơn vị", "rule_vi": "Loại", "severity_vi": "Mức",
                "persons": "Số người", "rows": "Số dòng",
            }),
        },
    )


def lost_records(con, quarter, settings) -> dg.AssetCheckResult:
    frame = warehouse.fetch_frame(
        con,
        """SELECT l.reporting_unit, any_value(u.ten_don_vi) AS ten_don_vi, count(*) AS lost
           FROM core.lost_records l LEFT JOIN core.units u ON u.ma_don_vi = l.reporting_unit
           WHERE l.quarter = ? GROUP BY 1 ORDER BY 3 DESC, 1""",
        [quarter],
    )
    n = int(frame["lost"].sum() or 0)
    return dg.AssetCheckResult(
        passed=frame.height == 0,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"{n} người đang làm việc ở quý trước không còn trong dữ liệu toàn tỉnh ({frame.height} đơn vị); "
            "đơn vị tìm theo tên trong sổ phản hồi." if n else "Không có hồ sơ bị mất so với quý trước."
        ),
        metadata={
            "Hồ sơ bị mất": n,
            "Số đơn vị": frame.height,
            "Đơn vị nhiều nhất": meta.table(frame.head(WORST), {"reporting_unit": "Mã đơn vị", "ten_don_vi": "Đơn vị", "lost": "Hồ sơ mất"}),
        },
    )


EXPECTATION_VI = {
    "expect_column_values_to_not_be_null": "Không được để trống",
    "expect_column_values_to_be_in_set": "Phải thuộc danh mục",
    "expect_column_values_to_match_regex": "Phải đúng định dạng",
    "expect_column_values_to_be_between": "Phải trong khoảng cho phép",
}


def expectations(con, quarter, settings) -> dg.AssetCheckResult:
    headers = {f.key: f.header for f in schema.FIELDS}
    frame = warehouse.fetch_frame(
        con,
        """SELECT expectation, "column", success, unexpected_count, element_count
           FROM core.expectation_results WHERE quarter = ? ORDER BY success, unexpected_count DESC, 1, 2""",
        [quarter],
    ).with_columns(
        pl.col("expectation").replace_strict(EXPECTATION_VI, default=pl.col("expectation")).alias("rule_vi"),
        pl.col("column").replace_strict(headers, default=pl.col("column")).alias("header"),
        pl.when(pl.col("success")).then(pl.lit("đạt")).otherwise(pl.lit("không đạt")).alias("result"),
    )
    failed = frame.filter(~pl.col("success"))
    return dg.AssetCheckResult(
        passed=frame.height > 0 and failed.height == 0,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"Bộ kiểm tra cột (Great Expectations): {failed.height} trong {frame.height} điều kiện không đạt; "
            "từng hồ sơ vi phạm có trong record_issues." if frame.height else "Quý chưa có hồ sơ nào."
        ),
        metadata={
            "Số điều kiện": frame.height,
            "Không đạt": failed.height,
            "Kết quả": meta.table(frame, {
                "header": "Cột", "rule_vi": "Điều kiện", "result": "Kết quả", "unexpected_count": "Số giá trị vi phạm",
                "element_count": "Số hồ sơ", "expectation": "Tên kỹ thuật (GX)",
            }),
        },
    )


def payment_problems(con: duckdb.DuckDBPyConnection, quarter: str) -> tuple[list[str], pl.DataFrame, int]:
    """(problems, lines, records paid twice in the year up to this quarter) of the
    quarter's payments. Later quarters of the year are not counted: they read
    this one and are rebuilt after it."""
    year = Quarter.parse_key(quarter).year
    lines = warehouse.fetch_frame(con, "SELECT * FROM core.payments WHERE quarter = ?", [quarter])
    (paid_twice,) = _one(
        con,
        """SELECT count(*) FROM (SELECT ma_cb FROM core.paid_records WHERE quarter LIKE ? || '-Q_' AND quarter <= ?
           GROUP BY 1 HAVING count(*) > 1)""",
        [str(year), quarter],
    )
    paid_by_type = dict(
        con.execute("SELECT loai, count(*) FROM core.paid_records WHERE quarter = ? GROUP BY 1", [quarter]).fetchall()
    )
    problems: list[str] = []
    wrong = lines.filter(pl.col("amount_vnd") != pl.col("n_records") * pl.col("rate_vnd"))
    if wrong.height:
        problems.append(f"{wrong.height} dòng có thành tiền khác số hồ sơ x mức chi")
    so = {r["item"]: r["n_records"] for r in lines.filter(pl.col("payee") == SO_PAYEE).iter_rows(named=True)}
    for item, loai in (("tong_hop_phong", "phong"), ("tong_hop_truc_thuoc", "truc_thuoc")):
        units_n = int(lines.filter((pl.col("payee_type") == loai) & (pl.col("item") == "nhap_lieu"))["n_records"].sum() or 0)
        if so.get(item) != units_n or units_n != paid_by_type.get(loai, 0):
            problems.append(
                f"{meta.ITEM_VI[item]}: Sở {so.get(item)} hồ sơ, các đơn vị {units_n}, được chi {paid_by_type.get(loai, 0)}"
            )
    if paid_twice:
        problems.append(f"{paid_twice} hồ sơ được chi hai lần trong năm {year}")
    return problems, lines, paid_twice


def payments_consistent(con, quarter, settings) -> dg.AssetCheckResult:
    problems, lines, paid_twice = payment_problems(con, quarter)
    total = int(lines["amount_vnd"].sum() or 0)
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"Các dòng chi nhất quán: tổng {format_vnd(total)} đồng, không hồ sơ nào được chi hai lần trong năm."
            if not problems else
            "Các dòng chi KHÔNG nhất quán: " + "; ".join(problems) + ". Không lập chứng từ, không công bố quý này."
        ),
        metadata={
            "Tổng chi (đồng)": total,
            "Số dòng chi": lines.height,
            "Hồ sơ được chi hai lần": paid_twice,
        },
    )


def plausible_counts(con, quarter, settings) -> dg.AssetCheckResult:
    holds = warehouse.fetch_frame(
        con,
        """SELECT h.*, u.ten_don_vi FROM core.payment_holds h LEFT JOIN core.units u ON u.ma_don_vi = h.reporting_unit
           WHERE h.quarter = ? ORDER BY h.reporting_unit""",
        [quarter],
    ).with_columns(pl.when(pl.col("confirmed")).then(pl.lit("Sở đã xác nhận")).otherwise(pl.lit("Tạm giữ")).alias("state"))
    held = holds.filter(pl.col("state") == "Tạm giữ")
    return dg.AssetCheckResult(
        passed=held.height == 0,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"{held.height} đơn vị có số hồ sơ bất thường, tạm giữ thanh toán chờ Sở xác nhận "
            "(catalog/payment_confirmations.csv)." if held.height else "Số hồ sơ của các đơn vị đều hợp lý."
        ),
        metadata={
            "Đơn vị bị tạm giữ": held.height,
            "Đơn vị đã được xác nhận": holds.height - held.height,
            "Hồ sơ bị tạm giữ": int(held["n_records"].sum() or 0),
            "Chi tiết": meta.table(holds, {
                "reporting_unit": "Mã đơn vị", "ten_don_vi": "Đơn vị", "n_records": "Số hồ sơ",
                "previous_records": "Quý trước", "reason": "Lý do", "state": "Tình trạng", "confirmed_by": "Người xác nhận",
            }),
        },
    )


QUARTER_CHECKS: tuple[QuarterCheck, ...] = (
    QuarterCheck(
        "submissions", "rejected_files", False,
        "Tệp bị từ chối trong quý, kèm lý do. Chỉ cảnh báo: các tệp khác vẫn được đọc, đơn vị được báo trong sổ "
        "phản hồi.",
        rejected_files,
    ),
    QuarterCheck(
        "staff", "staff_resolution", True,
        "Chọn tệp nộp lại nhất quán: không hồ sơ nào lấy từ tệp bị thay hoặc bị từ chối, tệp được dùng đều có hồ "
        "sơ, mỗi (đơn vị, trường) và mỗi (đơn vị, người) lấy từ đúng một tệp. CHẶN văn bản ký và việc công bố: "
        "chọn sai thì xếp hạng và chi tiền sai.",
        staff_resolution,
    ),
    QuarterCheck(
        "staff", "completeness", False,
        "Độ đầy đủ: số ô bắt buộc đã điền / số ô bắt buộc trên toàn tỉnh (điều kiện chỉ tính khi áp dụng). Cảnh "
        "báo khi dưới [checks] min_completeness_pct.",
        completeness,
    ),
    QuarterCheck(
        "record_issues", "accuracy", False,
        "Độ chính xác: số hồ sơ không có lỗi / số hồ sơ. Cảnh báo khi dưới [checks] min_accuracy_pct.",
        accuracy,
    ),
    QuarterCheck(
        "record_issues", "duplicates", False,
        "Mã cán bộ trùng: hai lần trong một đơn vị, hoặc do hai đơn vị cùng gửi. Báo LỖI (mỗi bản trùng có lỗi, "
        "không được chi) nhưng không chặn.",
        duplicates,
    ),
    QuarterCheck(
        "record_issues", "lost_records", False,
        "Hồ sơ bị mất: người đang làm việc ở quý trước nhưng không còn trong dữ liệu toàn tỉnh. Chỉ cảnh báo; đơn "
        "vị tìm theo tên trong sổ phản hồi.",
        lost_records,
    ),
    QuarterCheck(
        "record_issues", "expectations", False,
        "Bộ kiểm tra cột Great Expectations (lập từ lược đồ hồ sơ) trên hồ sơ của quý: từng điều kiện và số giá "
        "trị vi phạm. Cảnh báo khi có điều kiện không đạt.",
        expectations,
    ),
    QuarterCheck(
        "payments", "plausible_counts", False,
        "Số hồ sơ hợp lý: đơn vị có số hồ sơ tăng vọt so với quý trước (hoặc vượt quá số người các trường của đơn "
        "vị có thể có) bị tạm giữ thanh toán cho đến khi Sở xác nhận trong catalog/payment_confirmations.csv. Chỉ "
        "cảnh báo; phần còn lại của quý vẫn được chi.",
        plausible_counts,
    ),
    QuarterCheck(
        "payments", "payments_consistent", True,
        "Các dòng chi nhất quán: mỗi dòng = số hồ sơ x mức chi; các dòng của Sở bằng số hồ sơ được chi của các "
        "Phòng và đơn vị trực thuộc; không hồ sơ nào được chi hai lần trong năm. CHẶN chứng từ thanh toán và việc "
        "công bố: Sở ký các chứng từ này.",
        payments_consistent,
    ),
)


def evaluate_quarter_checks(
    con: duckdb.DuckDBPyConnection, quarter: str, settings: Settings
) -> list[tuple[QuarterCheck, dg.AssetCheckResult]]:
    """Every quarter check, each result addressed to its asset and check name."""
    out = []
    for c in QUARTER_CHECKS:
        result = c.evaluate(con, quarter, settings)
        out.append((c, result._replace(asset_key=dg.AssetKey(c.asset), check_name=c.name)))
    return out
