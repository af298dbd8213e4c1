"""The page's CSV downloads (users, preview, audit log): read in chunks, cells safe in a spreadsheet."""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable

from flask import Response

CHUNK = 1000  # rows read per transaction
_FORMULA = re.compile(r"^[=+\-@\t\r]")  # spreadsheet formula starters: neutralised in the CSV


def cell(value: str | None) -> str:
    """A text cell that a spreadsheet will not run as a formula (a leading ``'`` before ``=+-@``, tab, CR)."""
    text = value or ""
    return "'" + text if _FORMULA.match(text) else text


def download(filename: str, header: list[str], rows: Callable[[int, int], Iterable[list[object]]]) -> Response:
    """A CSV attachment named ``filename``: ``header`` (in the page's language), then ``rows(offset, limit)``
    read :data:`CHUNK` at a time until a chunk comes back short."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    offset = 0
    while True:
        chunk = list(rows(offset, CHUNK))
        writer.writerows(chunk)
        if len(chunk) < CHUNK:
            break
        offset += CHUNK
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
