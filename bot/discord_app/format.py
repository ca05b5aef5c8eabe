"""What the bot's Discord messages look like: answer embeds, progress lines, outline and sections.

Every builder here keeps to Discord's limits, so a message it produces is never rejected for size:
content at most 2,000 characters; an embed's description 4,096, title 256, footer 2,048, at most
25 fields with names of 256 and values of 1,024, and 6,000 characters in all. One embed is sent
per message, so the 6,000 total of a message is the embed's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import discord

from bot.answering import Answer, Citation
from bot.discord_app.text_split import split_text
from index.article import Article, Section
from index.shorten import shorten

CONTENT_LIMIT = 2000
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FIELD_LIMIT = 25
EMBED_FIELD_NAME_LIMIT = 256
EMBED_FIELD_VALUE_LIMIT = 1024
EMBED_FOOTER_LIMIT = 2048
EMBED_AUTHOR_LIMIT = 256
EMBED_TOTAL_LIMIT = 6000

# Progress messages start with this mark and streamed text ends with the cursor; a final message
# does neither (the local emulator's `--ask` mode relies on that to know when an answer is done).
PROGRESS_MARK = "⏳"
CURSOR = " ▌"
SOURCES_HEADING = "__Sources__"
ANSWER_COLOUR = discord.Colour.blurple()


def position_text(n_ahead: int) -> str:
    if n_ahead <= 0:
        return f"{PROGRESS_MARK} Reading the article…"
    noun = "question" if n_ahead == 1 else "questions"
    return f"{PROGRESS_MARK} {n_ahead} {noun} ahead of yours…"


def streaming_text(text: str, limit: int = CONTENT_LIMIT) -> str:
    """The partial answer shown while it is generated; its end stays visible when it is long."""
    text = text.strip()
    room = limit - len(CURSOR)
    if len(text) > room:
        text = "…" + text[-(room - 1) :].lstrip()
    return text + CURSOR


def section_name(label: str, title: str) -> str:
    return f"§{label} — {title}" if title else f"§{label}"


def section_titles(article: Article) -> dict[str, str]:
    return {s.label: s.title for s in article.sections}


def quote_block(quote: str, limit: int = EMBED_FIELD_VALUE_LIMIT) -> str:
    """``quote`` as a Markdown block quote of at most ``limit`` characters."""
    lines = [line.strip() for line in quote.strip().splitlines() if line.strip()] or ["…"]
    block = "\n".join(f"> {line}" for line in lines)
    if len(block) <= limit:
        return block
    return shorten(block, limit)


def embed_size(embed: discord.Embed) -> int:
    """Characters Discord counts against an embed's 6,000 total."""
    total = len(embed.title or "") + len(embed.description or "")
    total += len(embed.footer.text or "") + len(embed.author.name or "")
    for f in embed.fields:
        total += len(f.name or "") + len(f.value or "")
    return total


@dataclass(frozen=True)
class _SourceField:
    name: str
    value: str

    @property
    def size(self) -> int:
        return len(self.name) + len(self.value)


def _source_fields(
    citations: tuple[Citation, ...], titles: Mapping[str, str]
) -> list[_SourceField]:
    fields = []
    for c in citations:
        title = titles.get(c.section) or c.heading
        fields.append(
            _SourceField(
                name=shorten(section_name(c.section, title), EMBED_FIELD_NAME_LIMIT),
                value=quote_block(c.quote),
            )
        )
    return fields


def answer_footer(answer: Answer) -> str:
    parts = []
    if answer.sections:
        parts.append("Sections " + ", ".join(answer.sections))
    total = answer.timings_ms.get("total")
    if total:
        parts.append(f"answered in {total / 1000:.1f} s")
    if answer.cached:
        parts.append("from cache")
    return shorten(" · ".join(parts), EMBED_FOOTER_LIMIT)


def answer_embeds(answer: Answer, titles: Mapping[str, str]) -> list[discord.Embed]:
    """The answer as embeds, one per message: the text, then its cited sections with quotes.

    The text goes into descriptions (split at paragraphs or sentences when long); each citation
    becomes a field ``§II — <title>`` holding its verbatim quote as a block quote. Fields that do
    not fit the last text embed continue in embeds titled "Sources".
    """
    footer = answer_footer(answer)
    fields = _source_fields(answer.citations, titles)
    heading = "\n\n" + SOURCES_HEADING
    text_limit = EMBED_DESCRIPTION_LIMIT - len(heading)
    # Leave room in each embed for its footer so that the 6,000 total always holds.
    text_limit = min(text_limit, EMBED_TOTAL_LIMIT - len(footer) - len(heading))
    pieces = split_text(answer.text, text_limit) or ["" if fields else "…"]
    embeds = [discord.Embed(description=p or None, colour=ANSWER_COLOUR) for p in pieces]

    last = embeds[-1]
    pending = list(fields)
    if pending and _fits(last, pending[0], footer, extra=len(heading)):
        last.description = (
            (last.description or "") + heading if last.description else SOURCES_HEADING
        )
        while pending and _fits(last, pending[0], footer):
            field = pending.pop(0)
            last.add_field(name=field.name, value=field.value, inline=False)
    while pending:
        more = discord.Embed(title="Sources", colour=ANSWER_COLOUR)
        while pending and _fits(more, pending[0], footer):
            field = pending.pop(0)
            more.add_field(name=field.name, value=field.value, inline=False)
        embeds.append(more)
    if footer:
        embeds[-1].set_footer(text=footer)
    return embeds


def _fits(embed: discord.Embed, field: _SourceField, footer: str, extra: int = 0) -> bool:
    if len(embed.fields) >= EMBED_FIELD_LIMIT:
        return False
    return embed_size(embed) + extra + field.size + len(footer) <= EMBED_TOTAL_LIMIT


def refusal_messages(answer: Answer) -> list[str]:
    """A refusal as plain text; one that quotes what the article says instead names the
    section the quote is from."""
    text = answer.text.strip() or "The article doesn't cover that."
    if answer.citations:
        c = answer.citations[0]
        text = f"{text}\n— {section_name(c.section, c.heading)}"
    return split_text(text, CONTENT_LIMIT)


# --- the article's outline and sections -----------------------------------------------------------


def outline_messages(article: Article) -> list[str]:
    lines = [
        f"**{shorten(article.title, 200)}**" if article.title else "**The article's sections**"
    ]
    for s in article.sections:
        words = len(s.body.split())
        lines.append(f"• **§{s.label}** — {s.title} ({words:,} words)")
    lines.append("Use `/section` to read one, or `/ask` a question.")
    return split_text("\n".join(lines), CONTENT_LIMIT)


def section_messages(section: Section) -> list[str]:
    """A section's full text as messages, the first headed with its label and title."""
    head = f"**{section_name(section.label, section.title)}**\n"
    body = section.body or "(this section is empty)"
    first_room = CONTENT_LIMIT - len(head)
    first = split_text(body, first_room)[0]
    # What follows the first message is split at the full limit rather than the smaller one.
    rest = split_text(body.strip()[len(first) :], CONTENT_LIMIT)
    return [head + first, *rest]


# An article of many paragraphs would list hundreds of labels; /outline has them all.
HELP_LABELS = 12


def help_text(bot_mention: str, article: Article) -> str:
    about = f"the article “{shorten(article.display_title, 120)}”"
    shown = article.labels[:HELP_LABELS]
    more = len(article.labels) - len(shown)
    labels = ", ".join(f"§{label}" for label in shown) + (f" and {more} more" if more else "")
    return (
        f"I answer questions about {about} and cite the section each answer comes from "
        f"({labels}).\n"
        f"• Mention me with your question: {bot_mention} What is the article's main argument?\n"
        "• Or use `/ask`, `/outline` and `/section`.\n"
        "• Follow-up questions in the thread I start need no mention."
    )
