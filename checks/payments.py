"""The payments check: blocks publication on any mismatch."""

import dagster as dg
import polars as pl

from assets.compliance import payments
from assets.resources import PmisResource
from pmis_pipeline import warehouse
from pmis_pipeline.documents.money import amount_in_words
from pmis_pipeline.documents.payments import read_back_totals
from pmis_pipeline.payments import SO_PAYEE
from pmis_pipeline.quarters import Quarter


@dg.asset_check(
    asset=payments,
    blocking=True,
    description="Payments are consistent: every line is n x rate; the Department's lines equal the records "
    "paid to district offices and direct units; no record is paid twice in a calendar year; every amount "
    "written in words in the documents (read back from the files) matches its figure. Blocks publication: "
    "the Department signs these.",
)
def payments_consistent(context: dg.AssetCheckExecutionContext, pmis: PmisResource) -> dg.AssetCheckResult:
    quarter = context.partition_key
    year = Quarter.parse_key(quarter).year
    with pmis.build_db() as con:
        lines = warehouse.fetch_frame(con, "SELECT * FROM core.payments WHERE quarter = ?", [quarter])
        paid_twice = con.execute(
            """SELECT count(*) FROM (SELECT ma_cb FROM core.paid_records WHERE quarter LIKE ? || '-Q_'
               GROUP BY 1 HAVING count(*) > 1)""",
            [str(year)],
        ).fetchone()[0]
        paid_by_type = dict(
            con.execute("SELECT loai, count(*) FROM core.paid_records WHERE quarter = ? GROUP BY 1", [quarter]).fetchall()
        )
    problems: list[str] = []
    wrong = lines.filter(pl.col("amount_vnd") != pl.col("n_records") * pl.col("rate_vnd"))
    if wrong.height:
        problems.append(f"{wrong.height} lines where amount != n x rate")
    so = {r["item"]: r["n_records"] for r in lines.filter(pl.col("payee") == SO_PAYEE).iter_rows(named=True)}
    for item, loai in (("tong_hop_phong", "phong"), ("tong_hop_truc_thuoc", "truc_thuoc")):
        units_n = int(lines.filter((pl.col("payee_type") == loai) & (pl.col("item") == "nhap_lieu"))["n_records"].sum() or 0)
        if so.get(item) != units_n or units_n != paid_by_type.get(loai, 0):
            problems.append(f"{item}: Department {so.get(item)} records, units {units_n}, paid {paid_by_type.get(loai, 0)}")
    if paid_twice:
        problems.append(f"{paid_twice} records paid twice in {year}")
    folder = pmis.settings().paths.reports / quarter / "thanh-toan"
    checked = 0
    for path in sorted(folder.glob("*.xlsx")):
        for sheet, amount, words in read_back_totals(path):
            checked += 1
            if words.strip().rstrip(".") != amount_in_words(amount):
                problems.append(f"{path.name} / {sheet}: {amount} written as '{words}'")
    total = int(lines["amount_vnd"].sum() or 0)
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "total_vnd": total,
            "lines": lines.height,
            "amounts_in_words_checked": checked,
            "records_paid_twice": paid_twice,
            "problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems) or "none"),
        },
    )
