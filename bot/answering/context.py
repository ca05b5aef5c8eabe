"""What a reader knows when reading one sentence of the article: the title of its section and,
when the sentence points back with a pronoun, the article's title and the sentences before it in
its paragraph.

Encyclopedia prose names its subject once and then says "he", "it" or "the discs": "In 1887 he
wrote to the journal The Optical Review …" is Jonas Pellow's letter only through the sentence
before it, and "The glass discs were cast by Dallimore & Sons" is about the Tallis telescope only
through its section's heading. A check that asks whether a sentence holds the question's name
must read the name where the reader does, or it refuses what the article plainly answers.
"""

from __future__ import annotations

import re

from bot.answering.grounding import tokens
from index.article import Article

# Words that stand for someone or something named before them.
_POINTING_BACK = re.compile(
    r"\b(?:he|she|it|they|him|her|them|his|its|their|hers|theirs|himself|herself|itself"
    r"|themselves)\b",
    re.IGNORECASE,
)
# A blank line between two sentences starts a new paragraph.
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# A name: capitalised words, joined by the small words names hold ("Society for Practical
# Optics", "Fenwright & Sons").
_NAME = re.compile(r"\b[A-Z][\w'’-]*(?:\s+(?:(?:of|for|and|the|de|von|van|&)\s+)*[A-Z][\w'’-]*)*")
_PREPOSITIONS = frozenset(
    [
        "of",
        "to",
        "by",
        "from",
        "with",
        "for",
        "at",
        "in",
        "on",
        "into",
        "onto",
        "about",
        "against",
        "under",
        "over",
        "between",
        "among",
        "through",
        "towards",
        "toward",
        "upon",
        "within",
        "beside",
        "near",
    ]
)
# Words inside a noun phrase before its name: "of his younger brother Philip".
_PHRASE_LENGTH = 4


def points_back(sentence: str) -> bool:
    """Whether ``sentence`` refers to someone or something by a pronoun."""
    return _POINTING_BACK.search(sentence) is not None


def _in_phrase(before: list[str]) -> bool:
    """Whether the words ``before`` a name (nearest last) put it in a prepositional phrase: a
    preposition within ``_PHRASE_LENGTH`` lower-case words, with no figure, punctuation or
    capitalised word between."""
    for word in reversed(before[-_PHRASE_LENGTH:]):
        if word.lower() in _PREPOSITIONS and word.islower():
            return True
        if not word.isalpha() or not word.islower():
            return False
    return False


def within_reach(sentence: str) -> str:
    """``sentence`` without the names a later "he", "she" or "it" cannot stand for: those in a
    prepositional phrase. "… taken over by his niece Rosamund, the daughter of his younger
    brother Philip. He continued to grind lenses …": the "He" is not Philip, nor Rosamund."""
    kept: list[str] = []
    last = 0
    for match in _NAME.finditer(sentence):
        before = tokens(sentence[: match.start()])
        if before and _in_phrase(before):
            kept.append(sentence[last : match.start()])
            last = match.end()
    kept.append(sentence[last:])
    return "".join(kept)


def earlier_in_paragraph(article: Article, lines: list[str]) -> list[tuple[int, ...]]:
    """For each sentence that points back, the sentences before it in its paragraph (the ones a
    pronoun may stand for a name of); an empty tuple for any other sentence."""
    sentences = article.sentences
    earlier: list[tuple[int, ...]] = []
    paragraph_start = 0
    for i, sentence in enumerate(sentences):
        previous = sentences[i - 1] if i else None
        if (
            previous is None
            or previous.section != sentence.section
            or _PARAGRAPH_BREAK.search(article.text, previous.end, sentence.start)
        ):
            paragraph_start = i
        earlier.append(tuple(range(paragraph_start, i)) if points_back(lines[i]) else ())
    return earlier


def reading_contexts(
    article: Article, lines: list[str], *, referents_only: bool = False
) -> list[str]:
    """For each sentence (``lines[i]`` is sentence ``i`` as the pipeline reads it), the text
    around it that a reader takes its references from: its section's title, and the article's
    title and the earlier sentences of its paragraph when it points back. Empty for a sentence
    of an untitled section that points back to nothing.

    With ``referents_only`` the earlier sentences keep only the names a pronoun may stand for
    (``within_reach``): the context that lends an answer's names to the sentence."""
    contexts: list[str] = []
    for i, before in enumerate(earlier_in_paragraph(article, lines)):
        section = article.section(article.sentences[i].section)
        parts = [section.heading.lstrip("#").strip()] if section.heading else []
        if points_back(lines[i]):
            # A paragraph that opens with "He died at …" speaks of the article's subject.
            earlier = [within_reach(lines[j]) if referents_only else lines[j] for j in before]
            parts += [article.title, *earlier]
        contexts.append(" ".join(p for p in parts if p))
    return contexts
