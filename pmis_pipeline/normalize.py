"""Turn raw HoSo text into typed, cleaned values, vectorised in polars.

Every value form of the contract's "Values as they arrive" is read here:
Excel dates and typed dates (``dd/mm/yyyy``, ``d/m/yyyy``, ``dd-mm-yyyy``,
``dd.mm.yyyy``), bare years (1 January, flagged ``<key>_year_only``), decimal
commas, identity numbers that lost their leading zero, grade codes typed as
numbers, stray spaces and apostrophes, ALL-CAPS names, NFD text and the
legacy TCVN3 / VNI encodings. The value as received stays in the ``raw``
struct column beside the cleaned one, so a check can always quote it.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from pmis_pipeline import legacy, schema
from pmis_pipeline.reference import catalog_lookup, grades
from pmis_pipeline.textnorm import clean_text_expr, has_invisible_expr, value_key

_TEXT_KINDS = ("name", "text", "choice")
DETECTION_ROWS = 300  # rows of a file sampled to tell its encoding (every text column)


def ensure_columns(records: pl.DataFrame) -> pl.DataFrame:
    """Add a null text column for every schema key the file lacks."""
    missing = [pl.lit(None, dtype=pl.Utf8).alias(k) for k in schema.KEYS if k not in records.columns]
    return records.with_columns(missing) if missing else records


def detect_file_encoding(records: pl.DataFrame, info_values: Iterable[str | None] = ()) -> legacy.Encoding:
    """Decide a whole file's encoding from its text cells (the first
    DETECTION_ROWS rows of every text column, in one polars pass) and its
    ThongTin values."""
    cols = [c for c in records.columns if c in schema.FIELD_BY_KEY and schema.FIELD_BY_KEY[c].kind in _TEXT_KINDS]
    cols += [c for c in records.columns if c.startswith("extra:")]
    texts: list[str | None] = list(info_values)
    if cols:
        sample = records.head(DETECTION_ROWS).select(pl.concat_list([pl.col(c).cast(pl.Utf8) for c in cols]).alias("v"))
        texts.extend(sample.get_column("v").explode().drop_nulls().to_list())
    return legacy.detect_encoding(texts)


def _map_unique(series: pl.Series, fn, only: pl.Expr | None = None) -> pl.Series:
    """Apply a Python function once per distinct value (catalog lookups,
    decoding); with ``only``, to the distinct values it selects (others kept)."""
    uniques = series.drop_nulls().unique()
    if only is not None:
        uniques = uniques.filter(uniques.to_frame("v").select(only.alias("keep")).to_series())
    mapping = {u: fn(u) for u in uniques.to_list()}
    return series.replace(mapping) if mapping else series


def _text_columns(frame: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if c in schema.FIELD_BY_KEY and schema.FIELD_BY_KEY[c].kind in _TEXT_KINDS]


def prepare_file(records: pl.DataFrame, encoding: legacy.Encoding) -> pl.DataFrame:
    """One file's raw records, ready to be normalised with others in one batch:
    every schema key present, the values as received in the ``raw`` struct,
    unknown columns as JSON in ``extras``, and a legacy file's text decoded
    (``_encoding`` says which)."""
    records = ensure_columns(records)
    extra_cols = [c for c in records.columns if c.startswith("extra:")]
    decoded = (
        [legacy.decode_series(records.get_column(c), encoding) for c in _text_columns(records) + extra_cols]
        if encoding != "unicode"
        else []
    )
    extras = (
        pl.struct([clean_text_expr(pl.col(c)).alias(c.removeprefix("extra:")) for c in extra_cols]).struct.json_encode()
        if extra_cols
        else pl.lit(None, dtype=pl.Utf8)
    )
    flags = [
        (pl.col(c) if (c := typed_number_column(k)) in records.columns else pl.lit(False)).cast(pl.Boolean).alias(c)
        for k in TYPED_NUMBER_KEYS
    ]
    return records.with_columns(
        pl.struct([pl.col(k) for k in schema.KEYS]).alias("raw"), pl.lit(encoding).alias("_encoding")
    ).with_columns(decoded).select(
        pl.col("_row").cast(pl.Int32), *[pl.col(k) for k in schema.KEYS], "raw", "_encoding", extras.alias("extras"),
        *flags,
    )


def invisible_counts(records: pl.DataFrame) -> dict[str, int]:
    """Per text field of a prepared file, how many cells hold an invisible or
    control character (zero-width, right-to-left, control...) that cleaning
    removes. The soft hyphen is left out of the count: it is the letter ư of a
    TCVN3 cell pasted into a Unicode file, decoded later."""
    cols = _text_columns(records)
    if not cols or records.height == 0:
        return {}
    counted = records.select(
        has_invisible_expr(pl.col(c).str.replace_all("\u00ad", "")).sum().alias(c) for c in cols
    ).row(0, named=True)
    return {c: int(n) for c, n in counted.items() if n}


def decode_pasted_cells(batch: pl.DataFrame) -> pl.DataFrame:
    """In Unicode files, decode the single legacy cells whose characters leave
    no doubt; ``_decoded_cells`` counts them per row.

    Only distinct values with non-ASCII characters and none that prove
    Unicode are examined (each once, in Python); the rest never leaves polars."""
    unicode_rows = pl.col("_encoding") == "unicode"
    suspect = pl.col("v").str.contains(r"[^\x00-\x7f]") & ~pl.col("v").str.contains(legacy.GENUINE_UNICODE_PATTERN)
    replaced: list[pl.Expr] = []
    counts: list[pl.Expr] = []
    text_cols = _text_columns(batch)
    in_unicode_files = batch.select(text_cols).filter(batch.get_column("_encoding") == "unicode")
    for col in text_cols:
        candidates = in_unicode_files.get_column(col).drop_nulls().unique().to_frame("v").filter(suspect)
        mapping = {v: d for v in candidates["v"].to_list() if (d := legacy.decode_cell_if_unambiguous(v)) != v}
        if mapping:
            hit = unicode_rows & pl.col(col).is_in(list(mapping))
            replaced.append(pl.when(hit).then(pl.col(col).replace(mapping)).otherwise(pl.col(col)).alias(col))
            counts.append(hit.cast(pl.Int32))
    total = pl.sum_horizontal(counts) if counts else pl.lit(0, dtype=pl.Int32)
    return batch.with_columns(*replaced, total.alias("_decoded_cells"))


# The kind expressions below read a column already cleaned by clean_text_expr (see normalize_batch).


def date_expr(col: str) -> tuple[pl.Expr, pl.Expr]:
    """(date, year_only) expressions for a text column holding a date in any accepted form."""
    s = pl.col(col)
    iso = s.str.extract_groups(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[ T][\d:.]+)?$")
    dmy = s.str.extract_groups(r"^(?P<d>\d{1,2})\s*[/.\-]\s*(?P<m>\d{1,2})\s*[/.\-]\s*(?P<y>\d{4})$")
    year = s.str.extract(r"^(\d{4})(?:\.0+)?$", 1)
    serial = s.str.extract(r"^(\d{5})(?:\.0+)?$", 1).cast(pl.Int32, strict=False)

    def ymd(parts: pl.Expr) -> pl.Expr:
        text = pl.concat_str(
            parts.struct.field("y"),
            parts.struct.field("m").str.zfill(2),
            parts.struct.field("d").str.zfill(2),
            separator="-",
        )
        return text.str.to_date("%Y-%m-%d", strict=False)

    value = pl.coalesce(
        ymd(iso),
        ymd(dmy),
        pl.concat_str(year, pl.lit("-01-01")).str.to_date("%Y-%m-%d", strict=False),
        # an Excel serial day number left in a cell formatted as a number (1900 system)
        pl.when(serial.is_between(10_000, 80_000)).then(pl.date(1899, 12, 30) + pl.duration(days=serial)),
    )
    value = pl.when(value.dt.year() >= 1800).then(value)  # "0075-05-12" is a typo, not year 75
    year_only = year.is_not_null() & value.is_not_null()
    return value.alias(col), year_only.alias(f"{col}_year_only")


#: Keys whose cell type matters: an identity number typed as a number lost its
#: leading zero, one typed as text did not. The reader gives, per key, a column
#: (:func:`typed_number_column`) true where the cell was a number.
TYPED_NUMBER_KEYS: tuple[str, ...] = tuple(f.key for f in schema.FIELDS if f.kind == "id_number")


def typed_number_column(key: str) -> str:
    return f"_number:{key}"


def id_number_expr(col: str, typed_number: pl.Expr | None = None) -> pl.Expr:
    """Digits only. Only a cell typed as a *number* lost its leading zero
    (8 -> 9, 11 -> 12 digits); text of 8 or 11 digits is kept as typed (a
    check reports it). ``typed_number`` says which cells were numbers; without
    it no cell is padded."""
    s = pl.col(col).str.replace(r"\.0+$", "").str.replace_all(r"[\s.\-]", "")
    lost_zero = (s.str.contains(r"^[0-9]{8}$") | s.str.contains(r"^[0-9]{11}$")) & (
        typed_number.fill_null(False) if typed_number is not None else pl.lit(False)
    )
    return s.str.pad_start(s.str.len_chars() + lost_zero.cast(pl.UInt32), "0").alias(col)


def code_expr(col: str) -> pl.Expr:
    """Unit and staff codes: no spaces, upper case."""
    return pl.col(col).str.replace_all(r"\s+", "").str.to_uppercase().alias(col)


def grade_expr(col: str) -> pl.Expr:
    """Grade codes like ``15a.202``; ``15.11`` and ``1.003`` typed as numbers become ``15.110`` and ``01.003``."""
    s = pl.col(col).str.replace_all(r"\s+", "").str.replace(",", ".").str.to_lowercase()
    parts = s.str.extract_groups(r"^(?P<a>\d{1,2})\.(?P<b>\d{1,3})$")
    numeric = pl.concat_str(
        parts.struct.field("a").str.zfill(2), pl.lit("."), parts.struct.field("b").str.pad_end(3, "0")
    )
    return pl.coalesce(numeric, s).alias(col)


def decimal_expr(col: str) -> pl.Expr:
    s = pl.col(col).str.replace_all(r"\s+", "").str.replace(",", ".")
    return s.cast(pl.Float64, strict=False).round(2).cast(pl.Decimal(5, 2), strict=False).alias(col)


def int_expr(col: str) -> pl.Expr:
    number = pl.col(col).str.replace(",", ".").cast(pl.Float64, strict=False)
    return pl.when(number == number.floor()).then(number).cast(pl.Int32, strict=False).alias(col)


def name_expr(col: str) -> pl.Expr:
    """Each word of a name typed all in capitals (as the CV form asks) or all in
    lower case is shown in title case; a word of mixed case is left as typed.

    Word by word, because a TCVN3 file loses the case of toned capitals only
    (``LÊ MỸ ÚT`` reads back as ``LÊ Mỹ út``)."""
    word = pl.element()
    fixed = (
        pl.col(col)
        .str.split(" ")
        .list.eval(
            pl.when((word == word.str.to_uppercase()) | (word == word.str.to_lowercase()))
            .then(word.str.to_titlecase())
            .otherwise(word)
        )
        .list.join(" ")
    )
    return fixed.alias(col)


def canonical_choice(series: pl.Series, catalog: str) -> pl.Series:
    """Accepted values in their stored form; anything else stays as typed (a check reports it)."""
    lookup = catalog_lookup(catalog)
    return _map_unique(series, lambda v: lookup.get(value_key(v), v))


def canonical_grade(series: pl.Series) -> pl.Series:
    """Grade codes as the reference table spells them (``15A.202`` -> ``15a.202``)."""
    known = {c.lower(): c for c in grades()["ma_ngach"].to_list()}
    return _map_unique(series, lambda v: known.get(v.lower(), v))


def _text_expr(col: str) -> pl.Expr:
    return pl.col(col)  # already cleaned


#: Normalisation of each schema kind but dates (choices are also mapped to their stored form).
_KIND_EXPRS = {
    "code": code_expr,
    "grade": grade_expr,
    "decimal": decimal_expr,
    "int": int_expr,
    "name": name_expr,
}


def clean_columns(frame: pl.DataFrame, keys: Iterable[str]) -> pl.DataFrame:
    """:func:`clean_text_expr` on each of ``keys``, computed once per distinct
    value of the column and mapped back (the cleaning is value by value, so
    the result is the same; a batch repeats most values, and the cleaning's
    digit mapping is costly per cell)."""
    cleaned = []
    for key in keys:
        column = frame.get_column(key)
        distinct = column.unique()
        clean = distinct.to_frame().select(clean_text_expr(pl.col(key))).to_series()
        cleaned.append(column.replace_strict(distinct, clean, return_dtype=pl.Utf8).alias(key))
    return frame.with_columns(cleaned)


def normalize_batch(batch: pl.DataFrame) -> pl.DataFrame:
    """Typed records from prepared files (:func:`prepare_file`), in one pass:
    one column per schema key (SQL types of the schema), ``<date>_year_only``
    flags, ``raw``, ``extras`` and ``_decoded_cells``. Other columns of the
    batch (submission ids, ...) are kept."""
    batch = clean_columns(decode_pasted_cells(batch), schema.KEYS)
    # the kind expressions below read these cleaned columns
    exprs: list[pl.Expr] = []
    flags = [c for c in batch.columns if c.startswith("_number:")]
    for f in schema.FIELDS:
        if f.kind == "date":
            exprs.extend(date_expr(f.key))
        elif f.kind == "id_number":
            flag = typed_number_column(f.key)
            exprs.append(id_number_expr(f.key, pl.col(flag) if flag in flags else None))
        else:
            exprs.append(_KIND_EXPRS.get(f.kind, _text_expr)(f.key))
    typed = batch.with_columns(exprs)
    return typed.with_columns(
        [canonical_choice(typed.get_column(f.key), f.catalog) for f in schema.FIELDS if f.catalog]
        + [canonical_grade(typed.get_column("ma_ngach"))]
    ).drop("_encoding", *flags)


def normalize_records(records: pl.DataFrame, encoding: legacy.Encoding) -> tuple[pl.DataFrame, int]:
    """Normalise one file's records (see :func:`normalize_batch`); also returns
    how many single cells were decoded from a legacy encoding."""
    typed = normalize_batch(prepare_file(records, encoding))
    return typed.drop("_decoded_cells"), int(typed["_decoded_cells"].sum())
