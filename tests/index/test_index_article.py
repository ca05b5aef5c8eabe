"""Parsing the shipped article and other articles a self-hoster might point the bot at."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest

from index.article import (
    Article,
    ArticleError,
    UnknownSectionError,
    load_article,
    parse_article,
)

SHIPPED = Path(__file__).resolve().parents[2] / "index" / "data" / "article.txt"


def assert_consistent(a: Article) -> None:
    """Invariants every parsed article must satisfy."""
    for s in a.sections:
        assert a.text[s.start : s.end] == s.text
        assert s.text == s.text.rstrip()
        assert len(s.title) <= 70
    starts = [s.start for s in a.sections]
    assert starts == sorted(starts)
    for prev, nxt in zip(a.sections, a.sections[1:], strict=False):
        assert prev.end <= nxt.start
    for i, sent in enumerate(a.sentences):
        assert sent.index == i
        assert a.text[sent.start : sent.end] == sent.text
        assert sent.text == sent.text.strip() and sent.text
        assert "\n" not in sent.text
        section = a.section(sent.section)
        assert section.start <= sent.start < sent.end <= section.end
    ends = [s.end for s in a.sentences]
    assert all(x <= y.start for x, y in zip(ends, a.sentences[1:], strict=False))
    assert len(set(a.labels)) == len(a.labels)


# --- the shipped article --------------------------------------------------------------------


def test_shipped_article_sections(article: Article) -> None:
    assert article.labels == ("Introduction", "I", "II", "III", "Conclusion")
    assert [s.heading for s in article.sections] == ["", "I", "II", "III", "Conclusion"]
    intro = article.section("Introduction")
    assert intro.start == 0
    assert intro.text.startswith("03/24 2025\n490\nCurrently, internet players")
    assert intro.text.endswith("miss out on the next wave of payment innovation.")
    two = article.section("II")
    assert two.text.startswith("II\nWhile an obsession with traffic")
    assert two.body.startswith("While an obsession with traffic")
    assert article.section("Conclusion").end == len(article.text.rstrip())
    assert_consistent(article)


def test_shipped_article_titles(article: Article) -> None:
    titles = {s.label: s.title for s in article.sections}
    assert titles["Introduction"].startswith("Currently, internet players")
    assert titles["I"].startswith("Once the competition for mobile payment traffic")
    assert titles["Conclusion"].startswith('Alipay is indulging in a "grandiose dream,"')
    for title in titles.values():
        assert len(title) <= 70
        assert title.endswith("…")  # every first sentence here is longer than 70 characters
        assert not title[:-1].endswith(" ")


def test_shipped_article_metadata(article: Article) -> None:
    meta = article.metadata
    assert meta.published == date(2025, 3, 24)
    assert meta.published_text == "03/24 2025"
    assert meta.published_span == (0, 10)
    assert article.text[slice(*meta.published_span)] == "03/24 2025"
    assert meta.header_lines == ("03/24 2025", "490")
    assert article.source.endswith("article.txt")
    assert len(article.sha256) == 64
    assert article.title == ""


def test_shipped_article_sentences(article: Article) -> None:
    sentences = article.sentences
    assert sentences[0].text == "03/24 2025" and sentences[0].header
    assert sentences[1].text == "490" and sentences[1].header
    assert sentences[2].text == (
        "Currently, internet players are unanimously embracing a new direction: becoming more "
        "profound and practical."
    )
    # Two sentences on one line are split; the quote before the period stays with its sentence.
    texts = [s.text for s in sentences]
    assert 'To encapsulate this shift, "focusing" is the most apt term.' in texts
    assert any(t.startswith('As internet players increasingly "focus,"') for t in texts)
    assert "I" not in texts and "Conclusion" not in texts  # headings are not sentences
    counts = {label: len(article.sentences_of(label)) for label in article.labels}
    assert counts == {"Introduction": 11, "I": 13, "II": 14, "III": 15, "Conclusion": 6}
    assert sentences[-1].text == (
        'When Alipay\'s "grandiose dream" awakens, the mobile payment market and its competitors '
        "may no longer be the same."
    )


def test_section_lookup(article: Article) -> None:
    assert article.section("ii").label == "II"
    with pytest.raises(UnknownSectionError) as err:
        article.section("IV")
    message = str(err.value)
    assert "'IV'" in message and "Introduction, I, II, III, Conclusion" in message
    assert isinstance(err.value, ArticleError) and isinstance(err.value, KeyError)


def test_section_at_and_find(article: Article) -> None:
    quote = "Alipay views AI merely as a tool to enhance C-end user engagement and retention."
    span = article.find(quote)
    assert span is not None and article.text[span[0] : span[1]] == quote
    section = article.section_at(span[0])
    assert section is not None and section.label == "III"
    assert article.find(quote, section="I") is None
    assert article.find("not in the article at all") is None


def test_load_article_from_path_matches_packaged(article: Article) -> None:
    from_path = load_article(SHIPPED)
    assert from_path.text == article.text
    assert from_path.sha256 == article.sha256
    assert from_path.labels == article.labels


# --- other articles ---------------------------------------------------------------------------


def test_markdown_headings() -> None:
    text = (
        "# Payments in 2030\n\n"
        "2025-03-24\n\n"
        "Everyone pays by phone. Cash is fading.\n\n"
        "## The rise of wallets\n\n"
        "Wallets grew fast. They now hold most transactions.\n\n"
        "## II. Regulation\n\n"
        "Regulators watch closely.\n\n"
        "## Conclusion\n\n"
        "The future is cashless.\n"
    )
    a = parse_article(text)
    assert a.title == "Payments in 2030"
    assert a.labels == ("Introduction", "The rise of wallets", "II", "Conclusion")
    wallets = a.section("The rise of wallets")
    assert wallets.heading == "## The rise of wallets"
    assert wallets.title == "The rise of wallets"
    assert a.section("II").title == "Regulation"
    assert a.section("Conclusion").title == "The future is cashless."
    assert a.metadata.published == date(2025, 3, 24)
    assert a.section("Introduction").start == 0
    assert not any(s.text.startswith("#") for s in a.sentences)
    assert_consistent(a)


def test_underlined_headings_and_rules() -> None:
    text = (
        "My Title\n========\n\nIntro text here. More.\n\n"
        "Part one\n--------\nBody one.\n\n* * *\n\nPart two\n--------\nBody two.\n"
    )
    a = parse_article(text)
    assert a.title == "My Title"
    assert a.labels == ("Introduction", "Part one", "Part two")
    assert [s.text for s in a.sentences] == ["Intro text here.", "More.", "Body one.", "Body two."]
    assert a.section("Part one").heading == "Part one"
    assert a.section("Part one").body == "Body one."
    assert_consistent(a)


def test_roman_numeral_headings_with_periods() -> None:
    text = "Opening words here.\nI.\nFirst part.\nII.\nSecond part.\nXIV\nLate part.\n"
    a = parse_article(text)
    assert a.labels == ("Introduction", "I", "II", "XIV")
    assert a.section("II").heading == "II."
    assert [s.text for s in a.sentences_of("XIV")] == ["Late part."]
    assert_consistent(a)


def test_keyword_headings_any_case() -> None:
    a = parse_article("INTRODUCTION\nWe start here.\nI\nMiddle.\nconclusion\nWe end here.")
    assert a.labels == ("Introduction", "I", "Conclusion")
    assert a.section("Introduction").heading == "INTRODUCTION"
    assert a.section("Introduction").start == 0
    assert a.section("Conclusion").heading == "conclusion"
    assert_consistent(a)


def test_introduction_heading_below_header_lines() -> None:
    a = parse_article("March 24, 2025\n12\nIntroduction\nWe start here.\nI\nMiddle.")
    assert a.labels == ("Introduction", "I")
    intro = a.section("Introduction")
    assert intro.start == 0 and intro.heading == "Introduction"
    assert a.metadata.published == date(2025, 3, 24)
    assert a.metadata.header_lines == ("March 24, 2025", "12")
    assert [s.text for s in a.sentences_of("Introduction")] == [
        "March 24, 2025",
        "12",
        "We start here.",
    ]
    assert_consistent(a)


def test_no_headings_gives_one_section_per_paragraph() -> None:
    a = parse_article("Just one paragraph. It has two sentences.\n\nAnd a second paragraph.")
    assert a.labels == ("¶1", "¶2")
    assert a.section("¶1").heading == ""
    assert a.section("¶1").title == "Just one paragraph."
    assert a.section("¶2").title == "And a second paragraph."
    assert [(s.section, s.text) for s in a.sentences] == [
        ("¶1", "Just one paragraph."),
        ("¶1", "It has two sentences."),
        ("¶2", "And a second paragraph."),
    ]
    assert a.title == ""
    assert a.display_title == "Just one paragraph."
    assert a.metadata.published is None and a.metadata.published_span is None
    assert_consistent(a)


def test_plain_text_paragraphs_hard_wrapped_and_titled() -> None:
    text = (
        "The Mill at Oxbury\n"
        "\n"
        "2024-05-01\n"
        "\n"
        "The mill was built in 1820 by the\n"
        "Hale family. It burned in 1901.\n"
        "\n"
        "\n"
        "A new mill rose in 1903. It still stands.\n"
    )
    a = parse_article(text)
    assert a.title == "The Mill at Oxbury"
    assert a.labels == ("¶1", "¶2")
    # The title and date line belong to the first paragraph's span but are not its prose.
    assert a.section("¶1").start == 0
    assert [s.text for s in a.sentences_of("¶1") if not s.header] == [
        "The mill was built in 1820 by the",
        "Hale family.",
        "It burned in 1901.",
    ]
    assert a.section("¶2").text == "A new mill rose in 1903. It still stands."
    assert a.metadata.published == date(2024, 5, 1)
    assert "Oxbury" not in " ".join(s.text for s in a.sentences)
    assert_consistent(a)


def test_hard_wrapped_first_line_is_not_a_title() -> None:
    a = parse_article("The mill was built in 1820 by the\nHale family.\n\nIt burned in 1901.\n")
    assert a.title == ""
    assert a.labels == ("¶1", "¶2")
    assert a.sentences[0].text == "The mill was built in 1820 by the"
    assert_consistent(a)


def test_plain_text_without_blank_lines_has_a_paragraph_per_line() -> None:
    a = parse_article("First line is a sentence.\nSecond one. With two.\nThird line.\n")
    assert a.labels == ("¶1", "¶2", "¶3")
    assert [s.title for s in a.sections] == [
        "First line is a sentence.",
        "Second one.",
        "Third line.",
    ]
    assert a.section("¶2").text == "Second one. With two."
    assert_consistent(a)


def test_long_paragraph_titles_are_its_first_words() -> None:
    long = "word " * 40
    a = parse_article(f"{long.strip()}.\n\nShort one.")
    assert a.section("¶1").title.endswith("…") and len(a.section("¶1").title) <= 70
    assert a.section("¶1").title.startswith("word word")
    assert_consistent(a)


def test_lone_markdown_title_above_plain_paragraphs() -> None:
    a = parse_article("# Harbour Notes\n\nBoats came in. Nets went out.\n\nThe tide turned.\n")
    assert a.title == "Harbour Notes"
    assert a.labels == ("¶1", "¶2")
    assert not any("Harbour" in s.text for s in a.sentences)
    assert_consistent(a)


def test_markdown_title_and_nested_headings() -> None:
    text = (
        "# Brackenford Water Works\n\n"
        "Lead text before any section.\n\n"
        "## Origins\n\nBuilt in 1911.\n\n"
        "### The first pump\n\nA steam pump.\n\n"
        "#### Its boiler\n\nCoal fired.\n\n"
        "###### Footnote\n\nSee the archive.\n"
    )
    a = parse_article(text)
    assert a.title == "Brackenford Water Works"
    assert a.labels == ("Introduction", "Origins", "The first pump", "Its boiler", "Footnote")
    assert a.section("Its boiler").heading == "#### Its boiler"
    assert_consistent(a)


def test_describe_names_the_title_and_sections() -> None:
    a = parse_article("# Harbour Notes\n\n## Boats\n\nBoats came in.\n\n## Nets\n\nNets dried.\n")
    assert a.describe() == "“Harbour Notes” (sections: Boats; Nets)"
    many = parse_article("\n\n".join(f"Paragraph number {n} is here." for n in range(1, 11)))
    described = many.describe(max_sections=3)
    # Untitled: its first words name it, and the sections listed follow the first.
    assert described.startswith("“Paragraph number 1 is here.” (sections: Paragraph number 2")
    assert described.endswith("and 6 more)")


def test_first_line_heading_has_no_empty_introduction() -> None:
    a = parse_article("I\nFirst part.\nII\nSecond part.")
    assert a.labels == ("I", "II")
    assert a.section("I").start == 0
    assert_consistent(a)


def test_duplicate_headings_get_suffixes() -> None:
    a = parse_article("Intro text.\nII\nFirst two.\nII\nSecond two.\nII\nThird two.")
    assert a.labels == ("Introduction", "II", "II (2)", "II (3)")
    assert [s.text for s in a.sentences_of("II (2)")] == ["Second two."]
    assert_consistent(a)


def test_crlf_line_endings_give_the_same_structure(article: Article) -> None:
    crlf = article.text.replace("\n", "\r\n")
    a = parse_article(crlf)
    assert a.text == article.text
    assert a.labels == article.labels
    assert [(s.start, s.end) for s in a.sentences] == [(s.start, s.end) for s in article.sentences]
    assert a.sha256 == article.sha256


def test_bom_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffHello there. Second sentence.".encode())
    a = load_article(path)
    assert a.text.startswith("Hello")
    assert_consistent(a)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("03/24 2025", date(2025, 3, 24)),
        ("2025-03-24", date(2025, 3, 24)),
        ("24 March 2025", date(2025, 3, 24)),
        ("March 24, 2025", date(2025, 3, 24)),
        ("Mar. 24 2025", date(2025, 3, 24)),
        ("24/03/2025", date(2025, 3, 24)),
    ],
)
def test_date_header_formats(line: str, expected: date) -> None:
    a = parse_article(f"{line}\nThe article starts here. It goes on.")
    assert a.metadata.published == expected
    assert a.metadata.published_text == line
    assert a.sentences[0].text == line and a.sentences[0].header


def test_prose_that_looks_like_a_date_later_is_not_a_header() -> None:
    a = parse_article("Real first line of prose.\n2025-03-24\nMore prose.")
    assert a.metadata.published is None
    assert a.metadata.header_lines == ()


def test_sentence_splitting_rules() -> None:
    text = (
        "Firms, e.g. Alipay, grew fast. The U.S. market differs. Growth was 3.5 percent! "
        'Was it enough? "No," said Dr. Smith. J. Smith agreed... Then it ended.'
    )
    a = parse_article(text)
    assert [s.text for s in a.sentences] == [
        "Firms, e.g. Alipay, grew fast.",
        "The U.S. market differs.",
        "Growth was 3.5 percent!",
        "Was it enough?",
        '"No," said Dr. Smith.',
        "J. Smith agreed...",
        "Then it ended.",
    ]


# --- bad input ----------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    with pytest.raises(ArticleError, match="not found") as err:
        load_article(missing)
    assert str(missing) in str(err.value) and "ARTICLE_BOT_ARTICLE_PATH" in str(err.value)


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ArticleError, match="directory"):
        load_article(tmp_path)


@pytest.mark.parametrize("content", [b"", b"   \n\t\r\n  "])
def test_empty_and_whitespace_only(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(ArticleError, match="empty") as err:
        load_article(path)
    assert str(path) in str(err.value)


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(ArticleError, match="binary"):
        load_article(path)


def test_undecodable_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Caf\xe9 culture is changing.".encode("latin-1"))
    with pytest.raises(ArticleError, match="UTF-8") as err:
        load_article(path)
    assert "0xe9" in str(err.value) and "offset 3" in str(err.value)


def test_headings_only(tmp_path: Path) -> None:
    with pytest.raises(ArticleError, match="no text"):
        parse_article("I\nII\nConclusion\n")


def test_over_limit_file_names_the_size_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_text("A sentence. " * 200)
    with pytest.raises(ArticleError, match="too large") as err:
        load_article(path, max_bytes=1000)
    message = str(err.value)
    assert str(path) in message and "2,400 bytes" in message and "1,000" in message
    assert "ARTICLE_BOT_ARTICLE_MAX_BYTES" in message
    assert load_article(path, max_bytes=2400).sections


def test_default_size_limit_is_two_megabytes(tmp_path: Path) -> None:
    from index.article import MAX_ARTICLE_BYTES

    assert MAX_ARTICLE_BYTES == 2_000_000
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * (MAX_ARTICLE_BYTES + 1))
    with pytest.raises(ArticleError, match="too large"):
        load_article(path)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("Text.")

    def denied(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied")

    # Root may read any file, so the refusal is simulated at the read itself.
    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(ArticleError, match="unreadable") as err:
        load_article(path)
    assert "Permission denied" in str(err.value) and str(path) in str(err.value)


PIECES = [
    "",
    "   ",
    "I",
    "II.",
    "XIV",
    "Conclusion",
    "introduction:",
    "# Title",
    "## II. A titled part",
    "### Deep heading",
    "---",
    "=====",
    "* * *",
    "03/24 2025",
    "2025-03-24",
    "490",
    "A plain sentence.",
    "Two sentences here. And another one!",
    'He said "yes." Then left? Maybe.',
    "Numbers like 3.5 and U.S. firms, e.g. Alipay, stay whole.",
    "\tIndented text with trailing spaces.   ",
    "No final punctuation",
    "Ünïcödé — “quoted” text… ends here.",
]


def test_random_articles_keep_every_invariant() -> None:
    from index.passages import make_passages

    rng = random.Random(20250324)
    parsed = 0
    for _ in range(400):
        lines = [rng.choice(PIECES) for _ in range(rng.randint(1, 14))]
        newline = rng.choice(["\n", "\r\n"])
        text = newline.join(lines)
        try:
            a = parse_article(text)
        except ArticleError as exc:
            # Only texts without prose may be refused.
            assert "empty" in str(exc) or "no text" in str(exc)
            continue
        parsed += 1
        assert_consistent(a)
        for p in make_passages(a, 60, 120):
            assert a.text[p.start : p.end] == p.text
            section = a.section(p.section)
            assert section.start <= p.start < p.end <= section.end
    assert parsed > 300
