"""Text from scenarios, guests and traces, made safe for where it is shown.

Folder names, titles, step texts, guest emit tags and trap messages are written
by whoever wrote the scenario or the guest. Printed raw, an escape sequence
recolours or rewrites the terminal, a newline starts a line that looks like the
harness's own (a fake ``ok``), and a bidi control reorders what a reader sees;
in JUnit XML, one control character makes the whole file unparsable. Each output
runs such text through the function for its medium; JSON and HTML need nothing
from here (``json`` escapes every control character, the report's templates
escape markup).
"""

from __future__ import annotations

import re

#: Unicode controls that reorder the display of the text around them.
BIDI_CONTROLS = frozenset(
    ("\u061c", "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A)))
)
#: Line and paragraph separators: some viewers break lines at them.
LINE_SEPARATORS = frozenset(("\u2028", "\u2029"))


def _visible(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


#: Every character ``for_terminal`` replaces, with its visible escape.
_TERMINAL_ESCAPES = {
    ord(char): _visible(char)
    for char in (
        *map(chr, range(0x20)),
        "\x7f",
        *map(chr, range(0x80, 0xA0)),
        *sorted(BIDI_CONTROLS),
        *sorted(LINE_SEPARATORS),
    )
}

#: What XML 1.0 cannot hold, in text or in attributes: C0 controls but tab, line
#: feed and carriage return; lone surrogates; U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def for_terminal(text: str) -> str:
    """``text`` on one terminal line: every control, bidi and line-separator character shown as an escape.

    C0 and C1 controls (ESC, NUL, CR, LF, TAB...), DEL, the bidi controls and
    U+2028/U+2029 become ``\\x1b`` or ``\\u202e``, so a name can neither end the
    line, nor move the cursor, nor start an escape sequence, nor reorder the line.
    """
    return text.translate(_TERMINAL_ESCAPES)


def for_xml(text: str) -> str:
    """``text`` with every character XML 1.0 cannot hold shown as an escape (``\\x1b``), so the file parses."""
    return _NOT_XML.sub(lambda match: _visible(match.group()), text)
