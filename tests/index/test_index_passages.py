"""Cutting articles into passages: exact spans, sizes, overlap, section boundaries, stable ids."""

from __future__ import annotations

import itertools
import re

import pytest

from index.article import Article, parse_article
from index.passages import Passage, make_passages


def assert_passages_valid(article: Article, passages: list[Passage], max_chars: int) -> None:
    by_section: dict[str, list[Passage]] = {}
    for p in passages:
        by_section.setdefault(p.section, []).append(p)
        assert article.text[p.start : p.end] == p.text
        section = article.section(p.section)
        assert section.start <= p.start < p.end <= section.end
        sentences = [article.sentences[i] for i in p.sentence_indices]
        assert all(s.section == p.section for s in sentences)
        assert list(p.sentence_indices) == list(
            range(p.sentence_indices[0], p.sentence_indices[-1] + 1)
        )
        # Whole sentences: the passage starts at its first sentence and ends at its last.
        assert p.start == sentences[0].start and p.end == sentences[-1].end
        if len(sentences) > 1:
            assert len(p.text) <= max_chars, p.id
    ids = [p.id for p in passages]
    assert len(set(ids)) == len(ids)
    for label, group in by_section.items():
        assert [p.id for p in group] == [f"{label}:{n}" for n in range(len(group))]
        assert [p.start for p in group] == sorted(p.start for p in group)
        # Every sentence of the section is in some passage (header lines aside).
        covered = {i for p in group for i in p.sentence_indices}
        prose = {s.index for s in article.sentences_of(label) if not s.header}
        assert prose <= covered
        # Each passage brings at least one sentence its predecessor lacks.
        for prev, nxt in itertools.pairwise(group):
            assert nxt.sentence_indices[-1] > prev.sentence_indices[-1]


def test_shipped_article_passages(article: Article) -> None:
    passages = make_passages(article)
    assert_passages_valid(article, passages, 600)
    assert {p.section for p in passages} == set(article.labels)
    for p in passages:
        if p.id == "Introduction:0":
            continue
        assert len(p.text) <= 600, p.id
        if len(p.text) < 300:
            # Only a section's last passage may fall short, when nothing could be added.
            later = [q for q in passages if q.section == p.section and q.start > p.start]
            assert not later, p.id


def test_shipped_article_overlap(article: Article) -> None:
    passages = [p for p in make_passages(article) if p.id != "Introduction:0"]
    shared = 0
    for prev, nxt in itertools.pairwise(passages):
        if prev.section == nxt.section:
            overlap = set(prev.sentence_indices) & set(nxt.sentence_indices)
            assert len(overlap) <= 1
            shared += bool(overlap)
    assert shared > 0


def test_publication_date_passage(article: Article) -> None:
    first = make_passages(article)[0]
    assert first.id == "Introduction:0"
    assert first.text == "03/24 2025"
    assert (first.start, first.end) == (0, 10)
    assert first.embed_text == (
        "Publication date of the article: 24 March 2025 (published 03/24 2025)"
    )
    assert first.sentence_indices == (0,)


def test_embed_text_names_the_section(article: Article) -> None:
    for p in make_passages(article)[1:]:
        prefix = "Section " + p.section if p.section in ("I", "II", "III") else p.section
        assert p.embed_text.startswith(prefix + ". ")
        assert p.embed_text.endswith(" ".join(p.text.split()))
    header_number = "490"
    assert all(not p.text.startswith(header_number) for p in make_passages(article))


def test_ids_are_stable(article: Article) -> None:
    a = make_passages(article)
    b = make_passages(parse_article(article.text))
    assert [(p.id, p.start, p.end) for p in a] == [(p.id, p.start, p.end) for p in b]


@pytest.mark.parametrize(("min_chars", "max_chars", "overlap"), [(100, 200, 0), (300, 600, 2)])
def test_other_sizes(article: Article, min_chars: int, max_chars: int, overlap: int) -> None:
    passages = make_passages(article, min_chars, max_chars, overlap)
    assert_passages_valid(article, passages, max_chars)


def test_short_section_is_one_passage() -> None:
    a = parse_article("Intro sentence here.\nI\nTiny.\nII\n" + "A longer sentence. " * 40)
    passages = make_passages(a)
    assert [p.id for p in passages if p.section == "I"] == ["I:0"]
    assert passages[1].text == "Tiny."
    assert_passages_valid(a, passages, 600)


def test_overlong_sentence_is_its_own_passage() -> None:
    giant = "This sentence " + "goes on and on " * 60 + "until it stops."
    a = parse_article(f"Short one. {giant} Another short one.")
    passages = make_passages(a)
    assert giant in [p.text for p in passages]
    assert_passages_valid(a, passages, 600)


def test_never_crosses_sections() -> None:
    body = " ".join(f"Sentence number {n} of this part." for n in range(30))
    a = parse_article(f"{body}\nI\n{body}\nII\n{body}")
    passages = make_passages(a)
    assert_passages_valid(a, passages, 600)
    for p in passages:
        assert not re.search(r"\n(I|II)\n", p.text)


def test_bad_sizes_rejected(article: Article) -> None:
    with pytest.raises(ValueError, match="min_chars"):
        make_passages(article, 600, 300)
    with pytest.raises(ValueError, match="overlap"):
        make_passages(article, overlap_sentences=-1)
