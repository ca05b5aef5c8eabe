"""False premises that the article's own words expose, caught before any generation.

Asked "Why did Acme adopt deepseek?", a small model writes "Acme adopted deepseek because …":
it takes the question's claim for granted. Asked the claim outright ("Did Acme adopt
deepseek?"), the default 0.5B model and the 1.5B one both said yes, so the model is not asked.
Two kinds of false premise show in the words alone:

- the question names something the article never mentions ("during the Winter Games");
- the question ties a name the article uses (Acme) to a specific term (deepseek) that no
  sentence of the article uses together with that name, or that the sentence gives to another
  name in its own clause ("Initech fully embracing deepseek, …, and Umbrella laying the
  groundwork in AI": deepseek is not Umbrella's).

A term is specific when the embedding model's tokenizer does not hold it as one whole word:
"deepseek" and "omni-reality" are split into pieces, while everyday words ("well", "play",
"leader") are whole, and pairing them with a name proves nothing.

Premises that turn a judgement around ("Why does the author praise …" when it criticises,
"Why did it succeed" when it failed) use the article's own words and pass these checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.answering.context import points_back, reading_contexts
from bot.answering.grounding import content_words, stem, terms
from index.article import Article

# A run of capitalised words: "Acme", "Hooli Pay", "Harvest Fair", "B-end".
_WORD = r"[A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*"
_NAME = re.compile(rf"{_WORD}(?:\s+{_WORD})*")
# Where a new sentence starts inside a question; a capital there says nothing.
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|[\"'(\[]\s*)$")
_ROMAN = re.compile(r"^[IVX]+$")
# Clauses within a sentence: an enumeration gives each name its own ("Initech …, Globex …").
_CLAUSE = re.compile(r"[,;]\s+")
# A name in a clause, with the preposition before it and the possessive after it, if any.
_HOLDER = re.compile(
    rf"(?P<prep>\b(?:of|in|at|to|from|by|for|with|on|into|near)\s+(?:the\s+)?)?"
    rf"(?P<name>{_NAME.pattern})(?P<own>['’]s?\b)?"
)


def _key(word: str) -> str:
    return stem(word.lower())


@dataclass(frozen=True)
class PremiseIssue:
    """What the question takes for granted that the article does not say."""

    kind: str  # "unknown_name" | "unpaired"
    term: str  # as the question writes it: "Winter Games", "deepseek"
    name: str = ""  # for "unpaired": the name the term is tied to ("Acme")
    sentences: tuple[int, ...] = ()  # for "unpaired": the sentences that do use the term
    # For "unknown_name": the question's other content words, to tell whether a sentence is
    # about the rest of the question ("launch", "assistant").
    context: tuple[str, ...] = ()

    def message(self) -> str:
        """What the question gets wrong, on its own (when no sentence says otherwise)."""
        if self.kind == "unknown_name":
            return f"The article doesn't mention {self.term}."
        return f"The article doesn't link {self.name} to {self.term}."

    def correction(self, quote: str) -> str:
        """The answer: what the question gets wrong, then what the article does say."""
        if self.kind == "unknown_name":
            return f'{self.message()} What it says: "{quote}"'
        return f'{self.message()} What it says about {self.term}: "{quote}"'


class PremiseChecker:
    """Checks a question's names and specific terms against the article's sentences."""

    def __init__(self, article: Article, is_common_word: Callable[[str], bool]) -> None:
        self.article = article
        self.is_common_word = is_common_word
        self._sentence_terms = [terms(s.text) for s in article.sentences]
        # Each sentence's clauses, as written and as terms, read once: every check reads them.
        self._clauses = [[(c, terms(c)) for c in _CLAUSE.split(s.text)] for s in article.sentences]
        # A name stands in a sentence also where its reader takes it from: the heading, or the
        # sentence before a "he" ("… a spyglass given to him by Dr Amos Lathey").
        self._context_terms = [
            terms(c) for c in reading_contexts(article, [s.text for s in article.sentences])
        ]
        self._vocabulary = set().union(*self._sentence_terms) if self._sentence_terms else set()
        self._names = self._article_names(article)
        # Section labels and headings are names the question may use ("section II").
        self._labels = {label.lower() for label in article.labels} | {
            "introduction",
            "conclusion",
            "section",
        }

    def _article_names(self, article: Article) -> dict[str, str]:
        """Names the article uses, by lowercase key: words of capitalised runs not opening a
        sentence, except everyday words ("Pay" of "Hooli Pay", "Harvest"), which name nothing
        on their own."""
        names: dict[str, str] = {}
        for s in article.sentences:
            for match in _NAME.finditer(s.text):
                if _SENTENCE_START.search(s.text[: match.start()]):
                    continue
                for word in match.group(0).split():
                    if "-" not in word and not self.is_common_word(word):
                        names.setdefault(_key(word), word)
        return names

    def _question_names(self, question: str) -> list[str]:
        found = []
        for match in _NAME.finditer(question):
            if _SENTENCE_START.search(question[: match.start()]):
                continue
            name = match.group(0)
            if _ROMAN.match(name) or name.lower() in self._labels:
                continue
            found.append(name)
        return found

    def _specific(self, word: str) -> bool:
        if "-" in word:
            # "omni-reality" is specific through "omni"; "platform-building" is two plain words.
            return any(self._specific(part) for part in word.split("-") if part)
        return _key(word) in self._names or not self.is_common_word(word)

    def check(self, question: str) -> PremiseIssue | None:
        asked = list(dict.fromkeys(content_words(question)))
        names = [w for w in asked if _key(w) in self._names]
        unknown = [
            name
            for name in self._question_names(question)
            if any(not {w, stem(w)} & self._vocabulary for w in content_words(name))
        ]
        if unknown:
            theirs = {w for name in unknown for w in content_words(name)}
            context = tuple(w for w in asked if w not in names and w not in theirs)
            term = " or ".join(_with_article(name) for name in unknown)
            return PremiseIssue("unknown_name", term=term, context=context)
        specific = [
            w for w in asked if w not in names and _key(w) in self._vocabulary and self._specific(w)
        ]
        for name in names:
            for term in specific:
                using = self._using(term)
                if using and not any(self._ties(i, name, term) for i in using):
                    return PremiseIssue(
                        "unpaired",
                        term=_as_written(question, term),
                        name=self._names[_key(name)],
                        sentences=tuple(using),
                    )
        return None

    def overlap(self, issue: PremiseIssue, index: int) -> int:
        """How many of the question's other content words sentence ``index`` holds."""
        return sum(self._has(index, w) for w in issue.context)

    def about(self, issue: PremiseIssue, index: int) -> bool:
        """Whether sentence ``index`` is about the rest of the question: it holds at least two
        of the question's other words. Only then does quoting it correct anything."""
        return self.overlap(issue, index) >= 2

    def _using(self, word: str) -> list[int]:
        keys = {word, stem(word)}
        return [i for i, terms in enumerate(self._sentence_terms) if keys & terms]

    def _ties(self, index: int, name: str, term: str) -> bool:
        """Whether sentence ``index`` ties ``term`` to ``name``: the name is in it or in its
        reading context, and no clause that holds the term gives it to another name instead. In
        "we see Initech fully embracing deepseek, Globex investing heavily in AI, and Umbrella
        laying the groundwork in AI", deepseek is Initech's, not Umbrella's. A name after the
        term ("an optician in the city of Castlebury"), after a preposition or owning something
        ("the Observatory's contract") does not take the term, and a clause that says "he" or
        "his" may mean the name of its context."""
        keys = {name, stem(name)}
        in_context = bool(keys & self._context_terms[index])
        if not (self._has(index, name) or in_context):
            return False
        for clause, held in self._clauses[index]:
            if not {term, stem(term)} & held:
                continue
            if keys & held or (in_context and points_back(clause)):
                return True
            if not self._holders(clause, term) - keys:
                return True
        return False

    def _holders(self, clause: str, term: str) -> set[str]:
        """The article's names that may hold ``term`` in ``clause``: those written before it,
        neither after a preposition nor in the possessive."""
        at = re.search(rf"(?<![A-Za-z0-9]){re.escape(term)}", clause, re.IGNORECASE)
        before = clause[: at.start()] if at else clause
        holders: set[str] = set()
        for match in _HOLDER.finditer(before):
            if match.group("prep") or match.group("own"):
                continue
            holders |= {t for t in terms(match.group("name")) if t in self._names}
        return holders

    def _has(self, index: int, word: str) -> bool:
        return bool({word, stem(word)} & self._sentence_terms[index])


def _with_article(name: str) -> str:
    # "Winter Games" -> "the Winter Games" reads as English; a single proper name stays bare.
    return f"the {name}" if " " in name else name


def _as_written(question: str, word: str) -> str:
    match = re.search(rf"(?<![A-Za-z0-9]){re.escape(word)}(?![A-Za-z0-9])", question, re.IGNORECASE)
    return match.group(0) if match else word
