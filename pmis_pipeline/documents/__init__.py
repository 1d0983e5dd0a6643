"""Printable Vietnamese workbooks (A4, openpyxl) built from polars frames.

Pure functions: no Dagster, no DuckDB. See each module:

* :mod:`.money` - amounts in figures and words (Vietnamese accounting form);
* :mod:`.settings` - the ``[documents]`` configuration: issuer, signers, dates;
* :mod:`.common` - page setup (Decree 30/2020), title block, tables, paged
  lists with carried totals, signatures, formula escaping, reading the
  written totals back;
* :mod:`.collation` - Vietnamese name order (ICU "vi");
* :mod:`.feedback` - the quarterly feedback workbook of a reporting unit and
  the notice to a unit that sent nothing;
* :mod:`.announcement` - the quarterly announcement of results (body + annex);
* :mod:`.payments` - contracts, liquidation minutes, receipt list, summary;
* :mod:`.review` - the Department's review workbook;
* :mod:`.render` - PDF copies with LibreOffice;
* :mod:`.quarter_page` - the quarter's self-contained HTML page and the list of quarters.
"""

from pmis_pipeline.documents.announcement import write_announcement
from pmis_pipeline.documents.common import document_file_name, read_back_totals, words_mismatches
from pmis_pipeline.documents.feedback import write_feedback_workbook, write_not_received_notice
from pmis_pipeline.documents.money import amount_in_words, format_pct, format_vnd
from pmis_pipeline.documents.payments import write_district_contracts, write_payment_summary, write_receipt_list
from pmis_pipeline.documents.review import write_department_review
from pmis_pipeline.documents.settings import DocumentSettings

__all__ = [
    "DocumentSettings",
    "amount_in_words",
    "document_file_name",
    "format_pct",
    "format_vnd",
    "read_back_totals",
    "words_mismatches",
    "write_announcement",
    "write_department_review",
    "write_district_contracts",
    "write_feedback_workbook",
    "write_not_received_notice",
    "write_payment_summary",
    "write_receipt_list",
]
