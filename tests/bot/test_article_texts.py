"""User-visible texts come from the configured article, and the code names no article."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from bot.answering.pipeline import off_topic
from bot.chat import help_text as chat_help
from bot.chat import render_outline, run_chat
from bot.discord_app.format import help_text as discord_help
from index.article import Article, load_article, parse_article

ROOT = Path(__file__).resolve().parents[2]
CAUSEWAY = ROOT / "index" / "data" / "causeway.md"
PLAIN = "Notes from the mill\n\nThe wheel turns slowly. It grinds oats.\n\nWinter stops it.\n"


@pytest.fixture(scope="module")
def causeway() -> Article:
    return load_article(CAUSEWAY)


def test_off_topic_refusal_describes_the_configured_article(causeway: Article) -> None:
    text = off_topic(causeway)
    assert text.startswith("The article doesn't cover that. It is about “The Kellwick Tidal")
    assert "Building the causeway" in text and "The causeway today" in text
    assert text.endswith("; ask me about that.")
    plain = off_topic(parse_article(PLAIN))
    assert "“Notes from the mill” (sections: The wheel turns slowly.; Winter stops it.)" in plain
    shipped = off_topic(load_article())
    assert shipped != text and "Kellwick" not in shipped


def test_help_and_outline_name_the_configured_article(causeway: Article) -> None:
    assert "“The Kellwick Tidal Causeway”" in discord_help("@bot", causeway)
    assert "§Tolls and daily life" in discord_help("@bot", causeway)
    assert "(e.g. /section Before the causeway)" in chat_help(causeway)
    assert render_outline(causeway).startswith("The Kellwick Tidal Causeway: sections")
    plain = parse_article(PLAIN)
    assert "(e.g. /section ¶2)" in chat_help(plain)
    assert "§¶1, §¶2" in discord_help("@bot", plain)
    many = parse_article("\n\n".join(f"Paragraph {n} says a thing." for n in range(1, 41)))
    assert "and 28 more" in discord_help("@bot", many)


class _Silent:
    article: Article

    def answer(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("no question was asked")


def test_chat_greets_with_the_article_it_answers_about(causeway: Article) -> None:
    out = io.StringIO()
    assert run_chat(_Silent(), causeway, io.StringIO("/help\n/quit\n"), out) == 0  # type: ignore[arg-type]
    greeting = out.getvalue().splitlines()[0]
    assert greeting.startswith("Ask about “The Kellwick Tidal Causeway” (sections: Before")
    assert "Ask a question about “The Kellwick Tidal Causeway”" in out.getvalue()


def _shipped_names() -> set[str]:
    """Proper names of the shipped article: capitalised words not at a sentence start, that
    are not everyday words (they appear lower-case somewhere in the article too)."""
    article = load_article()
    lower = set(re.findall(r"\b[a-z]+\b", article.text))
    names = set()
    for s in article.sentences:
        for word in re.findall(r"\b[A-Za-z][a-zA-Z]+\b", s.text)[1:]:
            if word[0].isupper() and word.lower() not in lower and len(word) > 3:
                names.add(word)
    return names


# The answering core's comments still explain its rules with the shipped article's example
# sentences; it is being reworked on its own and is left out here until then.
NOT_YET: tuple[str, ...] = ()


def test_no_code_names_the_shipped_article() -> None:
    names = _shipped_names()
    assert {"Alipay", "Tencent", "Alibaba"} <= names
    pattern = re.compile(r"\b(" + "|".join(sorted(names)) + r")\b")
    offenders = []
    for folder in ("bot", "index", "models", "docker", "scripts"):
        for path in sorted((ROOT / folder).rglob("*")):
            rel = path.relative_to(ROOT).as_posix()
            if not path.is_file() or "/data/" in f"/{rel}" or rel.startswith(NOT_YET):
                continue
            if path.suffix not in {".py", ".sh", ".toml", ".yaml", ".yml", ".md", ""}:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            offenders += [f"{rel}: {m.group(0)}" for m in pattern.finditer(text)]
    assert offenders == []
