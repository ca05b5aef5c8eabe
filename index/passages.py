"""Cutting the article into retrievable passages of whole sentences, one section at a time.

Passages never cross a section boundary, so every retrieved passage names exactly one section to
cite. Neighbouring passages share ``overlap_sentences`` sentences so that a statement split across
a passage boundary is still retrievable with its context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from index.article import CONCLUSION, INTRODUCTION, Article, Section, Sentence
from index.dates import describe_date


@dataclass(frozen=True)
class Passage:
    id: str  # "II:3": section label and 0-based ordinal within the section
    section: str
    start: int
    end: int
    text: str  # article.text[start:end]
    sentence_indices: tuple[int, ...]
    embed_text: str  # what gets embedded: the text with its section as context


def _section_context(section: Section) -> str:
    """How a passage's section is named in the text that gets embedded."""
    if section.label in (INTRODUCTION, CONCLUSION):
        name = section.label
    else:
        name = f"Section {section.label}"
    descriptive = section.heading and section.title and section.title != section.label
    if descriptive and not section.body.startswith(section.title.rstrip("…")):
        # A heading that says what the section is about helps retrieval; a title that is only
        # the first sentence would repeat the text.
        return f"{name}: {section.title}. "
    return f"{name}. "


def _span(sentences: Sequence[Sentence], i: int, j: int) -> int:
    return sentences[j].end - sentences[i].start


def _chunk(
    sentences: Sequence[Sentence], min_chars: int, max_chars: int, overlap: int
) -> list[tuple[int, int]]:
    """Inclusive sentence ranges. Each starts with the last ``overlap`` sentences of the one
    before (when they fit), adds at least one new sentence, and grows until it reaches
    ``min_chars`` or the next sentence would push it past ``max_chars``; a short tail is
    absorbed when the result still fits."""
    n = len(sentences)
    ranges: list[tuple[int, int]] = []
    prev_i, prev_j = -1, -1
    while prev_j < n - 1:
        first_new = prev_j + 1
        i = max(prev_i + 1, first_new - overlap)
        if _span(sentences, i, first_new) > max_chars:
            i = first_new  # the overlap would not fit beside the next sentence
        j = first_new
        while j + 1 < n and _span(sentences, i, j) < min_chars:
            if _span(sentences, i, j + 1) > max_chars:
                break
            j += 1
        if j + 1 < n and _span(sentences, i, n - 1) <= max_chars:
            next_i = max(i + 1, j + 1 - overlap)
            if _span(sentences, next_i, n - 1) < min_chars:
                j = n - 1
        ranges.append((i, j))
        prev_i, prev_j = i, j
    return ranges


def make_passages(
    article: Article, min_chars: int = 300, max_chars: int = 600, overlap_sentences: int = 1
) -> list[Passage]:
    """The article's passages in reading order, with stable ids."""
    if not 0 < min_chars < max_chars:
        raise ValueError(
            f"Passage sizes min_chars={min_chars}, max_chars={max_chars}: need "
            "0 < min_chars < max_chars"
        )
    if overlap_sentences < 0:
        raise ValueError(f"overlap_sentences={overlap_sentences}: must be 0 or more")
    text = article.text
    passages: list[Passage] = []
    meta = article.metadata
    for section in article.sections:
        context = _section_context(section)
        ordinal = 0
        prose = [s for s in article.sentences if s.section == section.label and not s.header]
        if meta.published is not None and meta.published_span is not None:
            date_sentence = next(
                (
                    s
                    for s in article.sentences
                    if s.section == section.label and (s.start, s.end) == meta.published_span
                ),
                None,
            )
            if date_sentence is not None:
                # The date line alone ("03/24 2025") embeds as noise; say what it is so that
                # "when was it published" finds it.
                passages.append(
                    Passage(
                        id=f"{section.label}:{ordinal}",
                        section=section.label,
                        start=date_sentence.start,
                        end=date_sentence.end,
                        text=date_sentence.text,
                        sentence_indices=(date_sentence.index,),
                        embed_text=f"Publication date of the article: "
                        f"{describe_date(meta.published)} (published {meta.published_text})",
                    )
                )
                ordinal += 1
        for i, j in _chunk(prose, min_chars, max_chars, overlap_sentences):
            start, end = prose[i].start, prose[j].end
            body = text[start:end]
            passages.append(
                Passage(
                    id=f"{section.label}:{ordinal}",
                    section=section.label,
                    start=start,
                    end=end,
                    text=body,
                    sentence_indices=tuple(s.index for s in prose[i : j + 1]),
                    embed_text=context + " ".join(body.split()),
                )
            )
            ordinal += 1
    return passages
