"""Answer embeds and text messages always fit Discord's limits and keep the answer and sources."""

from __future__ import annotations

import random
import re

import pytest

from bot.answering.answer import Answer, Citation
from bot.discord_app.format import (
    CONTENT_LIMIT,
    CURSOR,
    PROGRESS_MARK,
    SOURCES_HEADING,
    answer_embeds,
    embed_size,
    outline_messages,
    position_text,
    quote_block,
    refusal_messages,
    section_messages,
    streaming_text,
)
from index.article import Article
from tests.discord_emulator.limits import message_errors

LABELS = ["Introduction", "I", "II", "III", "Conclusion", "IV", "V"]


def words(rng: random.Random, n: int) -> str:
    vocab = [
        "Alipay",
        "platform",
        "traffic",
        "payment",
        "scale",
        "ecosystem",
        "merchants",
        "FinTech",
        "AI",
        "dream",
    ]
    return " ".join(rng.choice(vocab) for _ in range(n))


def random_answer(rng: random.Random) -> tuple[Answer, dict[str, str]]:
    text_len = rng.choice([0, 10, 500, 3000, 4090, 6000, 12000, 25000])
    paragraphs: list[str] = []
    while sum(len(p) for p in paragraphs) < text_len:
        paragraphs.append(words(rng, rng.randint(1, 120)) + ".")
    text = "\n\n".join(paragraphs)[: text_len or 1] if text_len else ""
    citations = []
    for _ in range(rng.choice([1, 1, 2, 3, 10, 30])):
        quote = words(rng, rng.choice([3, 30, 200, 600]))
        if rng.random() < 0.2:
            quote = quote.replace(" ", "\n", 3)
        citations.append(
            Citation(section=rng.choice(LABELS), heading="", quote=quote, start=0, end=len(quote))
        )
    titles = {label: words(rng, rng.choice([1, 8, 60])) for label in LABELS}
    answer = Answer(
        question="q",
        text=text,
        refused=False,
        citations=tuple(citations),
        timings_ms={"total": rng.uniform(10, 90_000)},
    )
    return answer, titles


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("seed", range(150))
def test_embeds_fit_discord_and_keep_everything(seed: int) -> None:
    rng = random.Random(seed)
    answer, titles = random_answer(rng)
    embeds = answer_embeds(answer, titles)
    assert embeds
    for embed in embeds:
        payload = {"embeds": [embed.to_dict()]}
        assert message_errors(payload) == {}, message_errors(payload)
        assert embed_size(embed) <= 6000
        assert len(embed.fields) <= 25
    # The answer text is all there, in order, before the sources heading.
    descriptions = "".join(e.description or "" for e in embeds)
    assert squeeze(descriptions.replace(SOURCES_HEADING, "")) == squeeze(answer.text)
    assert descriptions.count(SOURCES_HEADING) <= 1
    # Every citation is a field, in order, named after its section, its quote as a block quote.
    fields = [f for e in embeds for f in e.fields]
    assert len(fields) == len(answer.citations)
    for field, citation in zip(fields, answer.citations, strict=True):
        assert field.name is not None and field.value is not None
        assert field.name.startswith(f"§{citation.section} — ")
        assert field.value.startswith("> ")
        if len(citation.quote) < 900:
            lines = [ln.strip() for ln in citation.quote.splitlines() if ln.strip()]
            assert field.value == "\n".join(f"> {ln}" for ln in lines)
    # Timing and sections go in the footer of the last embed only.
    assert embeds[-1].footer.text and "answered in" in embeds[-1].footer.text
    assert all(not e.footer.text for e in embeds[:-1])


def test_small_answer_is_one_embed_with_sources(article: Article) -> None:
    section = article.section("II")
    sentence = article.sentences_of("II")[3]
    answer = Answer(
        question="q",
        text="Alipay should look to the business end.",
        refused=False,
        citations=(Citation("II", section.heading, sentence.text, sentence.start, sentence.end),),
        timings_ms={"total": 2345.0},
    )
    (embed,) = answer_embeds(answer, {s.label: s.title for s in article.sections})
    assert embed.description == "Alipay should look to the business end.\n\n" + SOURCES_HEADING
    (field,) = embed.fields
    assert field.name == f"§II — {section.title}"
    assert field.value == f"> {sentence.text}"
    assert article.text[sentence.start : sentence.end] == sentence.text
    assert embed.footer.text == "Sections II · answered in 2.3 s"


def test_refusal_is_plain_text_naming_the_section_of_its_quote() -> None:
    answer = Answer(
        question="q",
        text="The article doesn't cover that.",
        refused=True,
        refusal_reason="off_topic",
    )
    assert refusal_messages(answer) == ["The article doesn't cover that."]
    quoted = Answer(
        question="q",
        text='The article doesn\'t say who. What it says: "Ann lent it."',
        refused=True,
        refusal_reason="not_said",
        citations=(Citation(section="II", heading="Trade", quote="Ann lent it.", start=5, end=17),),
    )
    assert refusal_messages(quoted) == [f"{quoted.text}\n— §II — Trade"]
    long = Answer(question="q", text="No. " * 1500, refused=True)
    pieces = refusal_messages(long)
    assert len(pieces) > 1 and all(len(p) <= CONTENT_LIMIT for p in pieces)


@pytest.mark.parametrize("n", [0, 1, 2, 19])
def test_position_text(n: int) -> None:
    text = position_text(n)
    assert text.startswith(PROGRESS_MARK)
    if n == 0:
        assert "ahead" not in text
    elif n == 1:
        assert "1 question ahead of yours" in text
    else:
        assert f"{n} questions ahead of yours" in text


@pytest.mark.parametrize("size", [1, 100, 1998, 1999, 2000, 5000])
def test_streaming_text_fits_and_shows_the_end(size: int) -> None:
    text = ("word " * size)[:size].strip() + "END"
    shown = streaming_text(text)
    assert len(shown) <= CONTENT_LIMIT
    assert shown.endswith("END" + CURSOR)


def test_quote_block_is_cut_to_the_field_limit() -> None:
    block = quote_block("word " * 400)
    assert len(block) <= 1024 and block.startswith("> ") and block.endswith("…")


def test_outline_and_sections_of_the_article_fit(article: Article) -> None:
    outline = outline_messages(article)
    assert all(len(m) <= CONTENT_LIMIT for m in outline)
    joined = "\n".join(outline)
    for s in article.sections:
        assert f"**§{s.label}** — {s.title}" in joined
    for s in article.sections:
        messages = section_messages(s)
        assert all(0 < len(m) <= CONTENT_LIMIT for m in messages)
        assert messages[0].startswith(f"**§{s.label} — {s.title}**\n")
        body = "".join(messages)[len(f"**§{s.label} — {s.title}**\n") :]
        assert squeeze(body) == squeeze(s.body)
    assert len(section_messages(article.section("II"))) == 2  # II is longer than one message
