"""Text for a terminal: control characters in file names and notes shown escaped, never executed.

A file name may hold a newline (which would split a table row and forge a verdict line) or an ANSI escape
sequence (which a terminal would act on: recolour, move the cursor, rewrite earlier lines). Reports for files
(JSON, CSV, HTML, JUnit) escape by their own rules; the plain-text table and the messages on stderr use
:func:`printable`.
"""

from __future__ import annotations

__all__ = ["printable"]


def printable(text: object) -> str:
    """`text` as a string with every non-printable character escaped as Python writes it (``\\n``, ``\\x1b``).

    Printable characters of any script (accents, CJK, emoji) stay as they are.

    >>> printable("frame\\n01\\x1b[2J.png")
    'frame\\\\n01\\\\x1b[2J.png'
    """
    s = str(text)
    if s.isprintable():
        return s
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in s)
