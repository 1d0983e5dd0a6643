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

import importlib

#: public name -> the module that defines it; imported on first use (PEP 562), so that
#: code needing only the number formats does not import openpyxl and every writer.
_EXPORTS = {
    "write_announcement": "announcement",
    "document_file_name": "common",
    "read_back_totals": "common",
    "words_mismatches": "common",
    "write_feedback_workbook": "feedback",
    "write_not_received_notice": "feedback",
    "amount_in_words": "money",
    "format_pct": "money",
    "format_vnd": "money",
    "write_district_contracts": "payments",
    "write_payment_summary": "payments",
    "write_receipt_list": "payments",
    "write_department_review": "review",
    "DocumentSettings": "settings",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
