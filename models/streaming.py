"""Decode one string field of a JSON object while the object is still being generated.

The model writes JSON such as ``{"answer": "...", "answerable": true}``; the Discord layer
wants to show the answer while it grows, long before the JSON is complete and parseable. The
streamer scans the text deltas as they come and returns the newly decoded characters of the
chosen top-level string field. Escapes may be split across deltas at any point.

Hand-written: incremental JSON parsers (ijson and the like) yield a string only once it is
complete, and the point here is its characters while they are written.
"""

from __future__ import annotations

_SIMPLE_ESCAPES = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
_REPLACEMENT = "\ufffd"


class JsonStringFieldStreamer:
    """Feed JSON text deltas; get back the new characters of top-level string ``field``."""

    def __init__(self, field: str) -> None:
        self.field = field
        self.value = ""  # everything decoded so far
        self.done = False  # the field's closing quote was seen
        self._depth = 0
        self._in_string = False
        self._string_is_key = False
        self._capturing = False
        self._expect_key = False  # the next string at depth 1 is an object key
        self._key = ""
        self._last_key: str | None = None
        self._escape: str | None = None  # text after a backslash, until the escape completes
        self._high_surrogate: int | None = None

    def feed(self, delta: str) -> str:
        out: list[str] = []
        for ch in delta:
            if self._in_string:
                self._string_char(ch, out)
            else:
                self._structure_char(ch)
        return "".join(out)

    # --- outside strings ----------------------------------------------------------------------
    def _structure_char(self, ch: str) -> None:
        if ch == '"':
            self._in_string = True
            self._string_is_key = self._depth == 1 and self._expect_key
            self._key = ""
            self._capturing = (
                not self.done
                and not self._string_is_key
                and self._depth == 1
                and self._last_key == self.field
            )
            self._expect_key = False
        elif ch in "{[":
            self._depth += 1
            self._expect_key = ch == "{" and self._depth == 1
        elif ch in "}]":
            self._depth -= 1
        elif ch == "," and self._depth == 1:
            self._expect_key = True
            self._last_key = None

    # --- inside strings -----------------------------------------------------------------------
    def _string_char(self, ch: str, out: list[str]) -> None:
        if self._escape is not None:
            self._escape += ch
            decoded = self._finish_escape()
            if decoded is not None:
                self._emit(decoded, out)
            return
        if ch == "\\":
            self._escape = ""
        elif ch == '"':
            self._flush_surrogate(out)
            self._in_string = False
            if self._string_is_key:
                self._last_key = self._key
            elif self._capturing:
                self._capturing = False
                self.done = True
        else:
            self._emit(ch, out)

    def _finish_escape(self) -> str | None:
        """The decoded escape once complete, else None (more characters needed)."""
        assert self._escape is not None
        first = self._escape[0]
        if first != "u":
            self._escape = None
            return _SIMPLE_ESCAPES.get(first, first)
        if len(self._escape) < 5:
            return None
        digits = self._escape[1:5]
        self._escape = None
        try:
            return chr(int(digits, 16))
        except ValueError:
            return _REPLACEMENT

    def _emit(self, text: str, out: list[str]) -> None:
        code = ord(text) if len(text) == 1 else -1
        if 0xD800 <= code <= 0xDBFF:
            self._flush_surrogate(out)
            self._high_surrogate = code
            return
        if 0xDC00 <= code <= 0xDFFF:
            if self._high_surrogate is None:
                text = _REPLACEMENT
            else:
                text = chr(0x10000 + ((self._high_surrogate - 0xD800) << 10) + (code - 0xDC00))
                self._high_surrogate = None
        else:
            self._flush_surrogate(out)
        self._append(text, out)

    def _flush_surrogate(self, out: list[str]) -> None:
        # A high surrogate not followed by a low one is not a character: show it as U+FFFD.
        if self._high_surrogate is not None:
            self._high_surrogate = None
            self._append(_REPLACEMENT, out)

    def _append(self, text: str, out: list[str]) -> None:
        if self._string_is_key:
            self._key += text
        elif self._capturing:
            self.value += text
            out.append(text)
