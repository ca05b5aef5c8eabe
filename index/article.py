"""The article as data: header lines, sections, sentences, each with exact character spans.

Everything that is quoted to users is a slice of ``Article.text``, so a span found here is the
proof that a quote is verbatim. Line endings are normalised to ``\\n`` (and a byte-order mark
dropped) before any span is computed; ``Article.text`` is that normalised text.

Section headings recognised, each on a line of its own:
- Markdown ``#`` .. ``######`` headings (label: the heading text; ``## II. Title`` gives label
  ``II`` with title ``Title``);
- a Roman numeral ``I`` .. ``XX``, optionally with a trailing period;
- ``Introduction`` or ``Conclusion`` in any case.
Text before the first heading is the ``Introduction``. A lone level-1 Markdown heading at the top,
above level-2+ headings (or above no other heading), is the article's title rather than a section.

Plain text without any heading is split into its paragraphs, labelled ``¶1``, ``¶2`` … and titled
by their first words: blocks separated by blank lines, or, in a text without blank lines between
its paragraphs, its lines. A short first line without final punctuation is then the title.

A file larger than ``MAX_ARTICLE_BYTES`` (unless the caller passes another limit), empty, binary or
not UTF-8 is refused with an ``ArticleError`` naming the file and the fix.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path

from index.dates import parse_date_line
from index.sentences import split_line
from index.shorten import shorten

INTRODUCTION = "Introduction"
CONCLUSION = "Conclusion"
PARAGRAPH_MARK = "¶"
TITLE_MAX_CHARS = 70
# 2 MB is about 300,000 words, far beyond what the bot answers well from; a larger file is most
# likely not an article (a log, a dump) and would take minutes to index.
MAX_ARTICLE_BYTES = 2_000_000
# A first line of plain text this short and without final punctuation is the article's title.
_PLAIN_TITLE_MAX_CHARS = 100
_SENTENCE_END = ".!?:;,\"'”’)]…"
_ROMAN_DIGITS = (("", "X", "XX"), ("", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"))
_ROMANS = [t + u for t in _ROMAN_DIGITS[0] for u in _ROMAN_DIGITS[1] if t + u][:20]
# Longest first so that "XIV" is not read as "X" followed by junk.
_ROMAN = "|".join(sorted(_ROMANS, key=len, reverse=True))
_MARKDOWN_HEADING = re.compile(r"(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*")
_ROMAN_ALONE = re.compile(rf"({_ROMAN})\.?")
_ROMAN_WITH_TITLE = re.compile(rf"({_ROMAN})[.:)]\s+(.+)")
_KEYWORD_ALONE = re.compile(r"(introduction|conclusion)[.:]?", re.IGNORECASE)
_KEYWORD_WITH_TITLE = re.compile(r"(introduction|conclusion)\s*[:.\-–—]\s+(.+)", re.IGNORECASE)
_RULE = re.compile(r"(?:=[ \t]*){3,}|(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,}")
_BARE_NUMBER = re.compile(r"\d[\d,.]{0,19}")
_EMPHASIS = "*_ \t"


class ArticleError(ValueError):
    """The article cannot be used; the message names the file or label and the fix."""


class UnknownSectionError(ArticleError, KeyError):
    """``Article.section`` was asked for a label the article does not have."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Section:
    label: str  # "Introduction", "I", "II", "III", "Conclusion" for the shipped article
    heading: str  # the heading line as written; "" for an untitled introduction
    title: str  # display title: a descriptive heading, else the first sentence shortened
    start: int  # the heading line belongs to its section; the introduction starts at 0
    end: int
    text: str = field(repr=False)  # article.text[start:end]

    @property
    def body(self) -> str:
        """The section's text without its heading line."""
        if not self.heading:
            return self.text.strip()
        rest = self.text[self.text.find(self.heading) + len(self.heading) :].strip()
        first, _, after = rest.partition("\n")
        # An underlined heading's rule line is layout, not part of the body.
        return after.strip() if _RULE.fullmatch(first.strip()) else rest


@dataclass(frozen=True)
class Sentence:
    index: int  # position in Article.sentences
    section: str  # label of the section it belongs to
    start: int
    end: int
    text: str  # article.text[start:end]
    header: bool = False  # a header line (publication date, number) rather than prose


@dataclass(frozen=True)
class ArticleMetadata:
    published: date | None = None
    published_text: str = ""  # the date line as written, e.g. "03/24 2025"
    published_span: tuple[int, int] | None = None
    header_lines: tuple[str, ...] = ()  # every header line as written, dates and numbers alike


@dataclass(frozen=True)
class Article:
    text: str = field(repr=False)
    source: str
    sha256: str
    sections: tuple[Section, ...]
    sentences: tuple[Sentence, ...] = field(repr=False)
    metadata: ArticleMetadata
    title: str = ""  # a leading level-1 Markdown heading or plain first line, if there is one

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(s.label for s in self.sections)

    @property
    def display_title(self) -> str:
        """The title, else the article's first words: never empty."""
        if self.title:
            return self.title
        first = next((s.text for s in self.sentences if not s.header), self.source)
        return shorten(first, 60, collapse_whitespace=True)

    def describe(self, max_sections: int = 6) -> str:
        """What the article is about, for users: its title and first section titles."""
        # Lead text without a heading says nothing a title does not; an untitled article of
        # paragraphs is named by its first words, the first paragraph's title again.
        listed = [s for s in self.sections if s.heading] or list(
            self.sections if self.title else self.sections[1:]
        )
        shown = [shorten(s.title, 50, collapse_whitespace=True) for s in listed[:max_sections]]
        more = len(listed) - max_sections
        if more > 0:
            shown.append(f"and {more} more")
        about = f"“{self.display_title}”"
        return f"{about} (sections: {'; '.join(shown)})" if shown else about

    def section(self, label: str) -> Section:
        """The section with this label (exact, else case-insensitive)."""
        for s in self.sections:
            if s.label == label:
                return s
        wanted = label.strip().lower()
        for s in self.sections:
            if s.label.lower() == wanted:
                return s
        raise UnknownSectionError(
            f"No section {label!r} in {self.source} (known sections: {', '.join(self.labels)})"
        )

    def section_at(self, offset: int) -> Section | None:
        """The section whose span holds ``offset``, if any."""
        for s in self.sections:
            if s.start <= offset < s.end:
                return s
        return None

    def sentences_of(self, label: str) -> tuple[Sentence, ...]:
        label = self.section(label).label
        return tuple(s for s in self.sentences if s.section == label)

    def find(self, quote: str, section: str | None = None) -> tuple[int, int] | None:
        """Span of the first verbatim occurrence of ``quote`` (within ``section`` if given)."""
        if not quote:
            return None
        lo, hi = 0, len(self.text)
        if section is not None:
            s = self.section(section)
            lo, hi = s.start, s.end
        at = self.text.find(quote, lo, hi)
        return None if at < 0 else (at, at + len(quote))


# --- reading ----------------------------------------------------------------------------------


def load_article(path: Path | str | None = None, max_bytes: int = MAX_ARTICLE_BYTES) -> Article:
    """Read and parse an article file; ``None`` reads the article shipped with the package.
    A file over ``max_bytes`` is refused before it is read."""
    if path is None:
        resource = resources.files("index").joinpath("data/article.txt")
        return parse_article(_decode(resource.read_bytes(), str(resource)), str(resource))
    path = Path(path).expanduser()
    fix = (
        "point ARTICLE_BOT_ARTICLE_PATH at a UTF-8 text file, or unset it to use the shipped "
        "article"
    )
    if not path.exists():
        raise ArticleError(f"Article file not found: {path} ({fix})")
    if path.is_dir():
        raise ArticleError(f"Article path is a directory, not a file: {path} ({fix})")
    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # the read below reports why the file cannot be used
    if size > max_bytes:
        raise ArticleError(
            f"Article file is too large: {path} ({size:,} bytes; the limit is {max_bytes:,}). "
            "Shorten it to the text to answer from, or raise ARTICLE_BOT_ARTICLE_MAX_BYTES"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ArticleError(
            f"Article file unreadable: {path}: {exc.strerror or exc} ({fix})"
        ) from None
    if len(data) > max_bytes:  # it grew since it was looked at
        raise ArticleError(
            f"Article file is too large: {path} ({len(data):,} bytes; the limit is "
            f"{max_bytes:,}). Shorten it to the text to answer from, or raise "
            "ARTICLE_BOT_ARTICLE_MAX_BYTES"
        )
    return parse_article(_decode(data, str(path)), str(path))


def _decode(data: bytes, source: str) -> str:
    fix = "save it as UTF-8 plain text"
    if b"\x00" in data:
        raise ArticleError(f"Article file is binary, not text: {source} (NUL byte found; {fix})")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError(
            f"Article file is not valid UTF-8: {source} (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start}; {fix})"
        ) from None


# --- parsing ----------------------------------------------------------------------------------


@dataclass
class _Line:
    start: int  # of the stripped content
    end: int
    line_start: int  # of the raw line
    text: str  # stripped content
    kind: str = "prose"  # blank | heading | header | title | prose
    label: str = ""  # for headings
    heading_title: str | None = None  # descriptive title carried by a heading
    level: int = 0  # Markdown heading level; 0 for plain headings


def _lines(text: str) -> list[_Line]:
    lines = []
    offset = 0
    for raw in text.split("\n"):
        stripped = raw.strip()
        lead = len(raw) - len(raw.lstrip())
        line = _Line(offset + lead, offset + lead + len(stripped), offset, stripped)
        if not stripped:
            line.kind = "blank"
        lines.append(line)
        offset += len(raw) + 1
    return lines


def _mark_heading(line: _Line, content: str, level: int) -> None:
    """Make ``line`` a heading whose text is ``content`` (Markdown markers removed)."""
    content = content.strip(_EMPHASIS)
    if not content:
        return
    line.kind, line.level = "heading", level
    if _ROMAN_ALONE.fullmatch(content):
        line.label = content.rstrip(".")
    elif km := _KEYWORD_ALONE.fullmatch(content):
        line.label = km.group(1).capitalize()
    elif rm := _ROMAN_WITH_TITLE.fullmatch(content):
        line.label, line.heading_title = rm.group(1), rm.group(2).strip()
    elif km := _KEYWORD_WITH_TITLE.fullmatch(content):
        line.label, line.heading_title = km.group(1).capitalize(), km.group(2).strip()
    else:
        line.label = line.heading_title = content


def _classify_heading(line: _Line) -> None:
    text = line.text
    if m := _MARKDOWN_HEADING.fullmatch(text):
        _mark_heading(line, m.group(2), len(m.group(1)))
    elif _ROMAN_ALONE.fullmatch(text):
        line.kind, line.label = "heading", text.rstrip(".")
    elif km := _KEYWORD_ALONE.fullmatch(text):
        line.kind, line.label = "heading", km.group(1).capitalize()


def _classify_rule(lines: list[_Line], i: int) -> None:
    """A line of only ``=`` or ``-`` right under a line of text underlines it as a (setext)
    heading; any such rule line is layout, not prose."""
    line = lines[i]
    above = lines[i - 1] if i > 0 else None
    if above is not None and above.kind == "prose" and line.text[0] in "=-":
        _mark_heading(above, above.text, 1 if line.text[0] == "=" else 2)
    line.kind = "blank"


def _mark_front_matter(lines: list[_Line]) -> int | None:
    """Mark leading date/number lines as header lines and a leading level-1 Markdown heading
    (above deeper headings) as the title; return the index of the title line, if any."""
    headings = [ln for ln in lines if ln.kind == "heading"]
    title_index = None
    for i, line in enumerate(lines):
        if line.kind == "blank":
            continue
        if line.kind == "heading":
            is_title = (
                title_index is None
                and line.level == 1
                and all(h.level >= 2 for h in headings if h is not line)
            )
            if not is_title:
                break
            line.kind, title_index = "title", i
            continue
        if parse_date_line(line.text) is not None or _BARE_NUMBER.fullmatch(line.text):
            line.kind = "header"
            continue
        break
    return title_index


def _group_sections(lines: list[_Line]) -> list[tuple[_Line | None, list[_Line]]]:
    """(heading, body lines) per section: a section opens at each heading; lines before the
    first heading form the introduction (heading None) if they hold any text."""
    groups: list[tuple[_Line | None, list[_Line]]] = [(None, [])]
    for line in lines:
        if line.kind == "heading":
            groups.append((line, []))
        else:
            groups[-1][1].append(line)
    front = groups[0][1]
    first = groups[1][0] if len(groups) > 1 else None
    front_prose = any(ln.kind == "prose" for ln in front)
    if first is not None and first.label == INTRODUCTION and not front_prose:
        # An "Introduction" heading below the header lines: they belong to it.
        return [(first, front + groups[1][1]), *groups[2:]]
    if not any(ln.kind in ("header", "prose") for ln in front):
        return groups[1:]
    return groups


def _mark_plain_title(lines: list[_Line]) -> int | None:
    """In text without headings, a short first line without final punctuation, followed by more
    text, is the title; return its index."""
    prose = [i for i, ln in enumerate(lines) if ln.kind == "prose"]
    if len(prose) < 2:
        return None
    first = lines[prose[0]]
    if len(first.text) > _PLAIN_TITLE_MAX_CHARS or first.text.endswith(tuple(_SENTENCE_END)):
        return None
    spaced = any(lines[j].kind == "blank" for j in range(prose[0], prose[-1]))
    if spaced and lines[prose[0] + 1].kind != "blank":
        return None  # the first line of a hard-wrapped paragraph, not a title of its own
    first.kind = "title"
    # Date and number lines right under the title are header lines, as they are at the top.
    for line in lines[prose[0] + 1 :]:
        if line.kind == "blank":
            continue
        if parse_date_line(line.text) is None and not _BARE_NUMBER.fullmatch(line.text):
            break
        line.kind = "header"
    return prose[0]


def _paragraph_groups(lines: list[_Line]) -> list[list[_Line]]:
    """The lines of each paragraph of a text without headings; front matter (header and title
    lines) and blank lines go with the paragraph before them, or the first."""
    prose = [i for i, ln in enumerate(lines) if ln.kind == "prose"]
    spaced = any(lines[j].kind == "blank" for j in range(prose[0], prose[-1]))
    groups: list[list[_Line]] = [[]]
    gap = False
    for line in lines:
        if line.kind == "prose":
            opened = any(ln.kind == "prose" for ln in groups[-1])
            if opened and (gap or not spaced):
                groups.append([])
            gap = False
        elif line.kind == "blank":
            gap = True
        groups[-1].append(line)
    return groups


def parse_article(text: str, source: str = "<string>") -> Article:
    """Parse article text into header metadata, sections and sentences."""
    if "\x00" in text:
        raise ArticleError(f"Article is binary, not text: {source} (save it as UTF-8 plain text)")
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ArticleError(f"Article is empty: {source} (put the article's text in the file)")

    lines = _lines(text)
    for i, line in enumerate(lines):
        if line.kind == "blank":
            continue
        if _RULE.fullmatch(line.text):
            _classify_rule(lines, i)
        else:
            _classify_heading(line)
    title_index = _mark_front_matter(lines)

    groups: list[tuple[_Line | None, list[_Line]]]
    paragraphs = not any(ln.kind == "heading" for ln in lines)
    if paragraphs:
        if title_index is None:
            title_index = _mark_plain_title(lines)
        if not any(ln.kind == "prose" for ln in lines):
            raise ArticleError(
                f"Article has no text besides headings and header lines: {source} (put the "
                "article's text in the file)"
            )
        groups = [(None, body) for body in _paragraph_groups(lines)]
    else:
        groups = _group_sections(lines)

    sections: list[Section] = []
    sentences: list[Sentence] = []
    seen: dict[str, int] = {}
    meta_published: tuple[date, _Line] | None = None
    header_lines: list[str] = []

    for heading, body in groups:
        if paragraphs:
            label = f"{PARAGRAPH_MARK}{len(sections) + 1}"
            first_prose = next(ln for ln in body if ln.kind == "prose")
            start = 0 if not sections else first_prose.line_start
        else:
            base = heading.label if heading is not None else INTRODUCTION
            seen[base] = seen.get(base, 0) + 1
            label = base if seen[base] == 1 else f"{base} ({seen[base]})"
            if not sections and label == INTRODUCTION:
                start = 0
            else:
                start = heading.line_start if heading is not None else 0
        ends = [ln.end for ln in body if ln.kind in ("header", "prose")]
        end = max([*ends, heading.end if heading is not None else start])

        prose_sentences: list[Sentence] = []
        for line in body:
            if line.kind in ("blank", "title"):
                continue
            if line.kind == "header":
                header_lines.append(line.text)
                when = parse_date_line(line.text)
                if when is not None and meta_published is None:
                    meta_published = (when, line)
                sentences.append(
                    Sentence(len(sentences), label, line.start, line.end, line.text, header=True)
                )
                continue
            for a, b in split_line(line.text):
                s = Sentence(len(sentences), label, line.start + a, line.start + b, line.text[a:b])
                sentences.append(s)
                prose_sentences.append(s)

        if heading is not None and heading.heading_title:
            title = shorten(heading.heading_title, TITLE_MAX_CHARS, collapse_whitespace=True)
        elif prose_sentences:
            title = shorten(prose_sentences[0].text, TITLE_MAX_CHARS, collapse_whitespace=True)
        else:
            title = heading.text.strip("#" + _EMPHASIS) if heading is not None else label
        sections.append(
            Section(
                label=label,
                heading=heading.text if heading is not None else "",
                title=title,
                start=start,
                end=end,
                text=text[start:end],
            )
        )

    if not any(not s.header for s in sentences):
        raise ArticleError(
            f"Article has no text besides headings and header lines: {source} (put the article's "
            "text in the file)"
        )

    metadata = ArticleMetadata(header_lines=tuple(header_lines))
    if meta_published is not None:
        when, line = meta_published
        metadata = ArticleMetadata(
            published=when,
            published_text=line.text,
            published_span=(line.start, line.end),
            header_lines=tuple(header_lines),
        )
    title = ""
    if title_index is not None:
        line = lines[title_index]
        title = line.text.lstrip("#").strip(_EMPHASIS) if line.level else line.text
    return Article(
        text=text,
        source=source,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        sections=tuple(sections),
        sentences=tuple(sentences),
        metadata=metadata,
        title=title,
    )
