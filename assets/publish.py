"""Publishing the analysts' read-only file, once everything it shows is settled."""

import dagster as dg

from assets.documents import DOCUMENTS
from assets.reports import REPORTS
from assets.inputs import unit_catalog
from assets.resources import PmisResource
from assets.warehouse import SPECS, WRITER_POOL
from pmis_pipeline import warehouse


@dg.asset(
    group_name="warehouse",
    kinds={"duckdb"},
    # after the quarter's tables and documents (a run publishes last); the units view comes from the catalog
    deps=[*(spec.key for spec in SPECS), *(d.key for d in (*DOCUMENTS, *REPORTS)), unit_catalog.key],
    pool=WRITER_POOL,
    description=(
        "Tệp cho người phân tích (data/warehouse/pmis.duckdb, chỉ đọc): bản sao của kho, thay thế nguyên tử "
        "nên người đang mở tệp cũ không bị chặn và không bao giờ thấy tệp dở dang. Chỉ các quý đã qua các kiểm "
        "tra chặn (blocking) mới được công bố; quý có kiểm tra không đạt giữ bản đã công bố trước. Tự chạy một lần "
        "khi mọi quý đã cập nhật xong, nên không bao giờ lẫn quý cũ với quý mới."
    ),
)
def analyst_warehouse(context: dg.AssetExecutionContext, pmis: PmisResource) -> dg.MaterializeResult:
    paths = pmis.settings().paths
    outcome = warehouse.publish(paths.build_db, paths.published_db)
    with warehouse.open_published(paths.published_db) as con:
        staff_rows, quarters = con.execute("SELECT count(*), count(DISTINCT quarter) FROM staff").fetchone()
    if outcome["held_back"]:
        context.log.warning(f"quarters held back (blocking checks failed): {', '.join(outcome['held_back'])}")
    return dg.MaterializeResult(
        metadata={
            "Tệp": dg.MetadataValue.path(str(paths.published_db)),
            "Dung lượng (MB)": round(paths.published_db.stat().st_size / 1e6, 2),
            "Số hồ sơ (mọi quý)": staff_rows,
            "Số quý": quarters,
            "Các quý được công bố": ", ".join(outcome["published"]),
            "Các quý giữ bản cũ (kiểm tra chặn không đạt)": ", ".join(outcome["held_back"]) or "—",
        }
    )
