"""Hostile and damaged files, written by the tests themselves (issue 8).

Each builder writes real bytes: a zip bomb, a sheet with one cell at
XFD1048576, a byte-damaged .xls, a password-protected .xlsx, an .xls with a
FILEPASS record, a web page renamed .xls, an empty file, a truncated .xlsx,
a PNG declaring 30000 x 30000 pixels, a photo whose deflate stream is junk.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import olefile
import openpyxl

from tests.workbooks import info_rows, jpeg_bytes, person, write_xls, write_xlsx

Q = "2009-Q1"


def honest_xlsx(path: Path, unit: str = "THPT01", n: int = 2) -> Path:
    return write_xlsx(path, info_rows(unit, Q), [person(f"{unit}-{i}", unit) for i in range(n)])


def _rezip(src: bytes, change) -> bytes:
    """A copy of a zip with ``change(name, data) -> data`` applied to each entry."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, change(info.filename, zin.read(info)))
    return out.getvalue()


def xlsx_bomb(path: Path, inflated_mb: int, lie: bool = False) -> Path:
    """A real workbook whose sheet XML inflates to ``inflated_mb`` MB (a long
    XML comment); with ``lie``, the zip declares the honest small size."""
    honest_xlsx(path)
    padding = b"<!--" + b" " * (inflated_mb * 1024 * 1024) + b"-->"

    def pad(name: str, data: bytes) -> bytes:
        return data.replace(b"</worksheet>", padding + b"</worksheet>") if name == "xl/worksheets/sheet2.xml" else data

    data = _rezip(path.read_bytes(), pad)
    if lie:
        data = _declare_size(data, "xl/worksheets/sheet2.xml", 18_000)
    path.write_bytes(data)
    return path


def _declare_size(data: bytes, name: str, size: int) -> bytes:
    """Patch an entry's uncompressed size in its local header and the central directory."""
    buf = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(name)
    struct.pack_into("<I", buf, info.header_offset + 22, size)
    central = buf.find(b"PK\x01\x02")
    while central >= 0:
        name_len = struct.unpack_from("<H", buf, central + 28)[0]
        if bytes(buf[central + 46 : central + 46 + name_len]) == name.encode():
            struct.pack_into("<I", buf, central + 24, size)
        central = buf.find(b"PK\x01\x02", central + 4)
    return bytes(buf)


def far_cell_xlsx(path: Path) -> Path:
    """A 6 KB workbook with one value at XFD1048576 (calamine would allocate 512 GB)."""
    honest_xlsx(path)
    wb = openpyxl.load_workbook(path)
    wb["HoSo"]["XFD1048576"] = "x"
    wb.save(path)
    return path


def far_cell_xls(path: Path) -> Path:
    """An .xls with a value at the last cell (IV65536): a 670 MB grid, within
    the format's limits (the memory limit of the reader process refuses it)."""
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("ThongTin")
    for i, row in enumerate(info_rows("PGD01", Q)):
        for j, v in enumerate(row):
            ws.write(i, j, v)
    ws = wb.add_sheet("HoSo")
    ws.write(0, 0, "STT")
    ws.write(65535, 255, "far")
    wb.save(str(path))
    return path


#: Byte damage that makes calamine abort the interpreter (found by flipping
#: bytes of the .xls below: it then asks for terabytes of memory).
XLS_DAMAGE = ((3346, b"\xff\xff\xff\x7f"), (3883, b"\xff\xff\xff\x7f"))


def damaged_xls(path: Path, which: int = 0) -> Path:
    write_xls(path, info_rows("PGD01", Q), [person(f"BT{i}", "PGD01-TH01") for i in range(3)])
    data = bytearray(path.read_bytes())
    offset, junk = XLS_DAMAGE[which]
    data[offset : offset + len(junk)] = junk
    path.write_bytes(bytes(data))
    return path


def encrypted_xlsx(path: Path) -> Path:
    """A real password-protected .xlsx (Excel's agile encryption, an OLE container)."""
    import msoffcrypto.format.ooxml

    plain = honest_xlsx(path.with_suffix(".plain.xlsx"))
    out = io.BytesIO()
    with plain.open("rb") as fh:
        msoffcrypto.format.ooxml.OOXMLFile(fh).encrypt("matkhau", out)
    path.write_bytes(out.getvalue())
    plain.unlink()
    return path


def filepass_xls(path: Path) -> Path:
    """An .xls whose Workbook stream announces encryption (a FILEPASS record after BOF)."""
    write_xls(path, info_rows("PGD01", Q), [person("BT1", "PGD01-TH01")])
    ole = olefile.OleFileIO(str(path), write_mode=True)
    stream = bytearray(ole.openstream("Workbook").read())
    first_len = struct.unpack_from("<H", stream, 2)[0]
    struct.pack_into("<H", stream, 4 + first_len, 0x002F)
    ole.write_stream("Workbook", bytes(stream))
    ole.close()
    return path


def html_as_xls(path: Path) -> Path:
    """What 'Save as Web Page' or a web export gives, named .xls."""
    path.write_text(
        '<html xmlns:x="urn:schemas-microsoft-com:office:excel"><head><meta charset="utf-8"></head>'
        "<body><table><tr><td>Mã đơn vị báo cáo</td><td>PGD01</td></tr></table></body></html>",
        encoding="utf-8",
    )
    return path


def truncated_xlsx(path: Path) -> Path:
    data = honest_xlsx(path).read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def png_bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A small PNG that declares ``width`` x ``height`` pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def zip_with_photos(path: Path, workbook: Path, photos: dict[str, bytes], corrupt: tuple[str, ...] = ()) -> Path:
    """A submission .zip; the deflate streams of the entries in ``corrupt`` are replaced by junk."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(workbook, workbook.name)
        for entry, data in photos.items():
            zf.writestr(entry, data)
    data = bytearray(buf.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        for entry in corrupt:
            info = zf.getinfo(entry)
            name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
            start = info.header_offset + 30 + name_len + extra_len
            data[start : start + info.compress_size] = bytes([0xFF]) * info.compress_size
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(data))
    return path


def photos_zip(path: Path, tmp: Path) -> Path:
    """A zip with one good photo, a PNG bomb and a photo whose deflate stream is junk."""
    book = write_xlsx(tmp / "hoso.xlsx", info_rows("GDTX01", Q), [person(f"GD{i}", "GDTX01") for i in range(3)])
    return zip_with_photos(
        path, book, {"anh/GD0.jpg": jpeg_bytes(), "anh/GD1.png": png_bomb(), "anh/GD2.jpg": jpeg_bytes((1, 2, 3)) * 20},
        corrupt=("anh/GD2.jpg",),
    )
