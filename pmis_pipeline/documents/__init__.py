"""Printable Vietnamese workbooks (A4, openpyxl) built from polars frames.

Pure functions: no Dagster, no DuckDB. See each module:

* :mod:`.money` - amounts in figures and words;
* :mod:`.common` - page setup, title block, tables, signatures, formula
  escaping, reading the written totals back;
* :mod:`.feedback` - the quarterly feedback workbook of a reporting unit;
* :mod:`.announcement` - the quarterly announcement of results;
* :mod:`.payments` - contracts, liquidation minutes, receipt list, summary.
"""

from pmis_pipeline.documents.announcement import write_announcement
from pmis_pipeline.documents.common import read_back_totals, words_mismatches
from pmis_pipeline.documents.feedback import write_feedback_workbook
from pmis_pipeline.documents.money import amount_in_words, format_vnd
from pmis_pipeline.documents.payments import write_district_contracts, write_payment_summary, write_receipt_list

__all__ = [
    "amount_in_words",
    "format_vnd",
    "read_back_totals",
    "words_mismatches",
    "write_announcement",
    "write_district_contracts",
    "write_feedback_workbook",
    "write_payment_summary",
    "write_receipt_list",
]
