"""Reading and writing spreadsheets a row at a time: CSV with the csv module, XLSX with openpyxl in read-only
(streaming) and write-only modes, so memory stays bounded whatever the file's size and the workbook is read once.
"""

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

FORMATS = ("csv", "xlsx")


class TableError(ValueError):
    """The file cannot be read as a table: not CSV or XLSX, not UTF-8, no header row."""


def table_format(file_name: str) -> str:
    """``csv`` or ``xlsx`` from the file name's extension; TableError otherwise."""
    suffix = PurePath(file_name).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise TableError(_("%(file)s: only .csv and .xlsx files can be imported") % {"file": file_name})
    return suffix


@dataclass
class Table:
    """A header and a one-pass iterator of ``(row number, cells)``; the header is row 1."""

    header: list[str]
    rows: Iterator[tuple[int, list]]


def table_open(*, file: IO[bytes], file_name: str) -> Table:
    """The file's header and an iterator over its rows (read while iterated; the file must stay open)."""
    if table_format(file_name) == "xlsx":
        return _xlsx_open(file)
    return _csv_open(file)


def _csv_open(file: IO[bytes]) -> Table:
    text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
    try:
        first = text.readline()
    except UnicodeDecodeError:
        raise TableError(_("the file is not UTF-8 text (save it as 'CSV UTF-8')")) from None
    if not first.strip():
        raise TableError(_("the file has no header row"))
    # Excel writes ';' where the decimal mark is a comma; tabs come from copy-and-paste exports.
    delimiter = max((",", ";", "\t"), key=first.count)
    header = next(csv.reader([first], delimiter=delimiter))

    def rows() -> Iterator[tuple[int, list]]:
        reader = csv.reader(text, delimiter=delimiter)
        try:
            for number, cells in enumerate(reader, start=2):
                if any(cell.strip() for cell in cells):
                    yield number, cells
        except UnicodeDecodeError:
            raise TableError(_("the file is not UTF-8 text (save it as 'CSV UTF-8')")) from None
        except csv.Error as error:
            raise TableError(
                _("unreadable CSV after row %(row)s: %(error)s") % {"row": reader.line_num, "error": error}
            ) from None

    return Table(header=[name.strip() for name in header], rows=rows())


def _xlsx_open(file: IO[bytes]) -> Table:
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError) as error:  # not a zip, or a zip without a workbook
        raise TableError(_("not an XLSX workbook (%(error)s)") % {"error": type(error).__name__}) from None
    sheet = workbook.worksheets[0]
    cells = sheet.iter_rows(values_only=True)
    header = next(cells, None)
    if not header or not any(header):
        workbook.close()
        raise TableError(_("the first sheet has no header row"))

    def rows() -> Iterator[tuple[int, list]]:
        try:
            for number, row in enumerate(cells, start=2):
                if any(cell is not None and str(cell).strip() for cell in row):
                    yield number, list(row)
        finally:
            workbook.close()

    return Table(header=["" if name is None else str(name).strip() for name in header], rows=rows())


def table_write(*, file: IO, file_name: str, header: list[str], rows: Iterable[list]) -> None:
    """Write ``header`` and ``rows`` as CSV (UTF-8, text file) or XLSX (write-only, binary file) by extension."""
    if table_format(file_name) == "xlsx":
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        workbook.save(file)
        return
    writer = csv.writer(file)
    writer.writerow(header)
    writer.writerows(rows)
