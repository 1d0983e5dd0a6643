"""PDF copies of the quarter's documents, with LibreOffice (headless).

LibreOffice is an optional system package (``apt-get install
libreoffice-calc``); everything here raises :class:`RenderUnavailable` with
a one-line reason when it is missing. Page counts come from poppler's
``pdfinfo`` when installed, else from the PDF's page objects.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

#: The documents a Department signs, by file-name prefix (see README).
SIGNABLE = ("thong-bao-ket-qua-", "hop-dong-thanh-ly-", "danh-sach-ky-nhan-", "tong-hop-kinh-phi-")


class RenderUnavailable(RuntimeError):
    """LibreOffice is not installed."""


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def signable_documents(quarter_dir: Path) -> list[Path]:
    """The signable workbooks of a quarter's reports folder (drafts included)."""
    return sorted(p for p in quarter_dir.rglob("*.xlsx") if p.name.startswith(SIGNABLE) and "pdf" not in p.parts)


def render_pdfs(books: Iterable[Path], out_dir: Path | None = None, *, timeout: float = 300) -> list[Path]:
    """Convert each workbook to ``<out_dir or its folder>/pdf/<stem>.pdf``;
    returns the PDF paths in the order given. Uses a throw-away LibreOffice
    profile, so a LibreOffice the user has open is not disturbed."""
    soffice = soffice_path()
    if soffice is None:
        raise RenderUnavailable("LibreOffice (soffice) is not installed; e.g. apt-get install libreoffice-calc")
    out: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="pmis-lo-") as profile:
        for book in books:
            target = (out_dir or book.parent / "pdf")
            target.mkdir(parents=True, exist_ok=True)
            done = subprocess.run(
                [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                 "--outdir", str(target), str(book)],
                capture_output=True, text=True, timeout=timeout,
            )
            pdf = target / f"{book.stem}.pdf"
            if done.returncode != 0 or not pdf.is_file():
                raise RuntimeError(f"{book.name}: LibreOffice could not convert it ({done.stderr.strip() or done.stdout.strip()})")
            out.append(pdf)
    return out


def pdf_page_count(pdf: Path) -> int:
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))


def pdf_page_texts(pdf: Path) -> list[str]:
    """The text of each page (poppler's ``pdftotext``; layout kept)."""
    if not shutil.which("pdftotext"):
        raise RenderUnavailable("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages
