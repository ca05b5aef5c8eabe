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

from index.article import Article

# Words that stand for someone or something named before them.
_POINTING_BACK = re.compile(
    r"\b(?:he|she|it|they|him|her|them|his|its|their|hers|theirs|himself|herself|itself"
    r"|themselves)\b",
    re.IGNORECASE,
)
# A blank line between two sentences starts a new paragraph.
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def points_back(sentence: str) -> bool:
    """Whether ``sentence`` refers to someone or something by a pronoun."""
    return _POINTING_BACK.search(sentence) is not None


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


def reading_contexts(article: Article, lines: list[str]) -> list[str]:
    """For each sentence (``lines[i]`` is sentence ``i`` as the pipeline reads it), the text
    around it that a reader takes its references from: its section's title, and the article's
    title and the earlier sentences of its paragraph when it points back. Empty for a sentence
    of an untitled section that points back to nothing."""
    contexts: list[str] = []
    for i, before in enumerate(earlier_in_paragraph(article, lines)):
        section = article.section(article.sentences[i].section)
        parts = [section.heading.lstrip("#").strip()] if section.heading else []
        if points_back(lines[i]):
            # A paragraph that opens with "He died at …" speaks of the article's subject.
            parts += [article.title, *(lines[j] for j in before)]
        contexts.append(" ".join(p for p in parts if p))
    return contexts
