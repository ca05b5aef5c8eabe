"""What an answer asserts that a reader can check against its quote: names and figures.

A small model that copies from a sentence naming two companies sometimes gives the deed to the
wrong one ("Globex's ecosystem" in the quote, another company's in the answer), and one that
fills a gap reaches for a year or figure from elsewhere in the article. Under a verified quote
such an answer looks checked, so the pipeline holds every name and figure of an answer to the
sentence it is cited to, and the evaluation counts the answers that break the rule.

The checks are lexical on purpose: cheap, deterministic, and explainable in a log line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from bot.answering.grounding import content_words, number_forms, stem, terms, tokens

# A word as written: letters, digits and the joins inside names ("JD.com", "C-end", "O'Neil").
_WORD = re.compile(r"[^\W_](?:[\w&]|[-.'’](?=[^\W_]))*")
_SENTENCE_END = re.compile(r"[.!?]['\"”’)]*\s+|[:;]\s+|\n+")
_FIGURE = re.compile(r"\d+")
# A run of capitalised words: "Tobias Venn", "Hooli Pay", "Harvest Fair".
_NAME_RUN = re.compile(r"[A-Z][\w'’&.-]*(?:\s+[A-Z][\w'’&.-]*)*")
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)
# "Which Bohemian glassblower …", "What French king …": names right after the question
# word describe the one asked for, whom the answering sentence may name without them.
_DESCRIBES_THE_ANSWER = re.compile(r"(?:Which|What)\s")

# Capitalised only because they are the pronoun "I" or open a title ("The Optical Review",
# "A Tale of …"), not names: an article with such a title must not make every "The" a name.
_NOT_NAMES = frozenset({"i", "the", "a", "an"})

YES_NO_OPENERS = frozenset(
    [
        "am",
        "is",
        "are",
        "was",
        "were",
        "do",
        "does",
        "did",
        "has",
        "have",
        "had",
        "can",
        "could",
        "will",
        "would",
        "shall",
        "should",
        "may",
        "might",
        "must",
    ]
)


def _base(word: str) -> str:
    return _POSSESSIVE.sub("", word).lower()


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper()


def _has_inner_capital(word: str) -> bool:
    return any(c.isupper() for c in word[1:])


@dataclass(frozen=True)
class Claims:
    """The names and figures a text asserts, lower-cased, possessives dropped."""

    names: tuple[str, ...]
    figures: tuple[str, ...]


def claims(text: str, known_names: Iterable[str] = ()) -> Claims:
    """The names and figures of ``text``.

    A name is a capitalised word that does not begin a sentence, or one that does and is either
    written with an inner capital ("McKinsey", "JD") or one of ``known_names`` (the article's own
    names, lower-cased): a sentence-initial "However" is not a name, "Initech" is.
    """
    known = {k.lower() for k in known_names}
    names: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        words = _WORD.findall(sentence)
        for position, word in enumerate(words):
            if not _is_capitalised(word) or word[0].isdigit():
                continue
            base = _base(word)
            if base in _NOT_NAMES:
                continue
            if position == 0 and not (_has_inner_capital(word) or base in known):
                continue
            names.append(base)
    return Claims(tuple(dict.fromkeys(names)), _figures(text))


def _figures(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(int(f)) for f in _FIGURE.findall(text)))


def figures_in(text: str) -> set[str]:
    """The figures ``text`` gives, as digits: "03" as "3", "two miles" as "2"."""
    found = {str(int(x)) for x in _FIGURE.findall(text)}
    for word in _WORD.findall(text.lower()):
        found |= {f for f in number_forms(word) if f.isdigit()}
    return found


def figures_missing(answer: str, sources: Iterable[str]) -> list[str]:
    """The figures of ``answer`` that no text of ``sources`` gives ("3" matches "03")."""
    held = {f for text in sources for f in figures_in(text)}
    return [f for f in _figures(answer) if f not in held]


def words_of(text: str) -> set[str]:
    """Lower-cased words of ``text`` with possessives dropped, and the parts of joined words."""
    found: set[str] = set()
    for word in _WORD.findall(text):
        base = _base(word)
        found.add(base)
        found.update(p for p in re.split(r"[-.'’]", base) if p)
    return found


def _held(name: str, words: set[str]) -> bool:
    if name in words:
        return True
    # "Acmes" or "users'" against "Acme", "user": a plural or possessive of a held word.
    return name.rstrip("s'’") in words or f"{name}s" in words


def full_names(text: str) -> frozenset[str]:
    """The names of several words that ``text`` uses ("tobias venn", "orran holm"), lower-cased,
    with every run of two or more of their words ("kellwick tidal causeway" from "The Kellwick
    Tidal Causeway")."""
    found: set[str] = set()
    for run in _NAME_RUN.findall(text):
        words = [_base(w) for w in _WORD.findall(run)]
        for i in range(len(words)):
            for j in range(i + 2, len(words) + 1):
                found.add(" ".join(words[i:j]))
    return frozenset(found)


def _named_in_full(answer: str, words: set[str], names: frozenset[str]) -> set[str]:
    """The words of the answer's full names ("Tobias Venn") that stand for someone ``words``
    holds by part of that name ("Venn"): an article names a person in full once and by surname
    after, and a model that writes the full name names the same person."""
    held: set[str] = set()
    for run in _NAME_RUN.findall(answer):
        parts = [_base(w) for w in _WORD.findall(run)]
        for i in range(len(parts)):
            for j in range(len(parts), i + 1, -1):
                if " ".join(parts[i:j]) in names and any(_held(w, words) for w in parts[i:j]):
                    held.update(parts[i:j])
                    break
    return held


def unsupported_claims(
    answer: str,
    sources: Iterable[str],
    *,
    known_names: Iterable[str] = (),
    also_allowed: str = "",
    article_names: frozenset[str] = frozenset(),
    context: str = "",
    unlent: AbstractSet[str] = frozenset(),
) -> list[str]:
    """The names and figures of ``answer`` that no text of ``sources`` holds.

    ``also_allowed`` (the question) lends its names to the answer only when the sources name
    nobody at all: "What did Acme launch?" answered "Acme launched ..." from "It launched ..."
    is no wrong actor, but the same answer from "Initech launched ..." is. ``article_names``
    (``full_names`` of the article) lets a full name stand for the part of it a source uses.
    ``context`` holds names that a source's "he" or "its" stands for; its figures count for
    nothing, since a quote of the source would not show them. The question lends none of
    ``unlent``: names its paragraph gives where a pronoun cannot stand for them.
    """
    texts = list(sources)
    source_words = words_of(context)
    for text in texts:
        source_words |= words_of(text)
    source_words |= _named_in_full(answer, source_words, article_names)
    known = list(known_names)
    answer_claims = claims(answer, known)
    source_names = {n for text in texts for n in claims(text, known).names}
    lent: set[str] = set()
    if also_allowed and not source_names:
        lent = {n for n in claims(also_allowed, known).names if not _held(n, set(unlent))}
    missing = [n for n in answer_claims.names if not _held(n, source_words) and n not in lent]
    return missing + figures_missing(answer, texts)


# Who a clause's deed may be done by without its naming them.
_SUBJECT_PRONOUN = re.compile(r"\b(?:he|she|they)\b", re.IGNORECASE)
_CLAUSE = re.compile(r"[,;:]\s+|\s+(?:and|but|while|whereas)\s+")
# A clause that gives the doer of a passive deed: "by his uncle Jerome Quill", "not by Acme".
_AGENT = re.compile(r"(?:(?:but|and|or)\s+)?(?:not\s+|only\s+|also\s+)?by\s", re.IGNORECASE)
# A clause about what the clause before it ends with: "…, under whom he learned", "…, whose
# son ran the shop", "…, who kept the accounts".
_RELATIVE = re.compile(
    r"(?:(?:under|with|for|to|by|from|of|after|before|beside)\s+)?(?:who|whom|whose)\b",
    re.IGNORECASE,
)
# A clause that gives another name of what the clause before it ends with: "the school, now
# named Wexcombe Grammar", "the inn, later known as the Swan", "the firm, renamed Acme".
_RENAMING = re.compile(
    r"(?:(?:now|later|then|formerly|since|once|also|still)\s+)?(?:re)?(?:named|called|known\s+as"
    r"|titled)\b",
    re.IGNORECASE,
)


def _clauses(
    text: str, known: Sequence[str], referents: AbstractSet[str] = frozenset()
) -> list[tuple[set[str], set[str]]]:
    """Each clause of ``text`` as (its names, its content words and their stems); a clause that
    says "he", "she" or "they" also holds the ``referents`` such a word may stand for."""
    found: list[tuple[set[str], set[str]]] = []
    for clause in _CLAUSE.split(text):
        names = set(claims(clause, known).names)
        if _SUBJECT_PRONOUN.search(clause):
            names |= referents
        found.append((names, terms(clause)))
    return found


def misattributions(
    answer: str,
    source: str,
    *,
    known_names: Iterable[str] = (),
    referents: AbstractSet[str] = frozenset(),
) -> list[tuple[frozenset[str], str]]:
    """Words the answer gives to names that the source gives only to other names, as (the
    answer clause's names, the word).

    Clause by clause: a content word of an answer clause that names someone must, in the source,
    stand in a clause of one of those names or of nobody. "Acme's ecosystem provides users"
    against "demand flooded Acme with traffic, and Globex's extensive ecosystem provided
    users" gives Globex's ecosystem to Acme; "Acme is backed by Globex's ecosystem" does
    not, since one of its names holds the word. A source clause that says "he", "she" or
    "they" is also of ``referents``, the names such a word may stand for: "He was apprenticed at
    fourteen to Samuel Prentiss" apprentices Tobias, whom the sentence before names.
    """
    known = list(known_names)
    source_clauses = _clauses(source, known, referents)
    wrong: list[tuple[frozenset[str], str]] = []
    for clause in _CLAUSE.split(answer):
        names = set(claims(clause, known).names)
        if not names:
            continue
        for word in content_words(clause):
            if word in names:
                continue
            keys = {word, stem(word)}
            holders = [n for n, w in source_clauses if keys & w]
            if not holders or any(not n or n & names for n in holders):
                continue
            wrong.append((frozenset(names), word))
    return list(dict.fromkeys(wrong))


def misattributed(
    answer: str,
    source: str,
    *,
    known_names: Iterable[str] = (),
    referents: AbstractSet[str] = frozenset(),
) -> list[str]:
    """``misattributions`` written out: "names: word" for each."""
    return [
        f"{'/'.join(sorted(names))}: {word}"
        for names, word in misattributions(
            answer, source, known_names=known_names, referents=referents
        )
    ]


def names_missing(
    question: str,
    source: str,
    *,
    known_names: Iterable[str] = (),
    ignore: Iterable[str] = (),
) -> list[str]:
    """The question's names that ``source`` does not hold, when ``source`` names someone else.

    A sentence about another name does not answer a question about this one ("What did Umbrella
    launch?" against "Acme launched an assistant"). A name of several words counts as held when
    any of its words is ("Tobias Venn" by "Venn"); a sentence that names nobody ("It launched …")
    may be about anyone. Names right after "Which" or "What" describe the one asked for, not
    whom the question is about. ``ignore`` lists words that name the article's parts ("II",
    "Section").
    """
    known = list(known_names)
    skip = {w.lower() for w in ignore}
    source_names = claims(source, known).names
    if not source_names:
        return []
    held_words = words_of(source)
    asked = set(claims(question, known).names) - skip
    missing: list[str] = []
    for run in _NAME_RUN.findall(question):
        if _DESCRIBES_THE_ANSWER.match(run):
            continue
        words = [w for w in (_base(w) for w in _WORD.findall(run)) if w in asked]
        if words and not any(_held(w, held_words) for w in words):
            missing.append(run)
    return missing


def bare_names(answer: str, known_names: Iterable[str] = ()) -> list[str]:
    """The names of an answer that is nothing but names ("Umbrella", "Initech and JD"), else
    an empty list."""
    found = claims(answer, known_names).names
    if not found:
        return []
    others = [w for w in content_words(answer) if w not in found and stem(w) not in found]
    return [] if others else list(found)


def stands_for(
    names: Sequence[str], question: str, source: str, *, known_names: Iterable[str] = ()
) -> bool:
    """Whether, in ``source``, one of ``names`` stands in a clause with what the question asks
    about (its content words other than names).

    "What did Initech invest heavily in?" answered "Umbrella" from "Initech embracing deepseek,
    Globex investing heavily in AI, and Umbrella laying the groundwork in AI": Umbrella's clause
    says nothing of investing, so the name does not answer the question.
    """
    known = list(known_names)
    asked_names = set(claims(question, known).names)
    asked = {t for w in content_words(question) if w not in asked_names for t in (w, stem(w))}
    if not asked:
        return True
    wanted = set(names)
    # The question's own names stand for what it asks about too: "The Glass of Wexcombe by
    # Margaret Idle" answers "Who wrote The Glass of Wexcombe?" without the word "wrote".
    subjects = set(content_words(" ".join(asked_names - wanted)))
    clauses = _CLAUSE.split(source)
    for k, clause in enumerate(clauses):
        if not any(_held(n, words_of(clause)) for n in wanted):
            continue
        about = clause
        clause_names = set(claims(clause, known).names)
        if _AGENT.match(clause):
            # "… was paid not by his father, …, but by his uncle Jerome Quill": the deed
            # done by the name is in the clauses before it.
            about = " ".join(clauses[: k + 1])
        elif _RENAMING.match(clause):
            about = " ".join(clauses[max(0, k - 1) : k + 1])
        elif len([w for w in content_words(clause) if w not in clause_names]) <= 1:
            # A name set off alone ("the keeper, Samuel Orde, had rung the bell"; "the herring
            # ports, chiefly Arnholm, where the guild kept a warehouse") belongs with the
            # clauses around it.
            about = " ".join(clauses[max(0, k - 1) : k + 2])
        if k + 1 < len(clauses) and _RELATIVE.match(clauses[k + 1]):
            # "… to the voicer Samuel Prentiss, under whom he learned pipe-making": the clause
            # after is about the name that ends this one.
            about = f"{about} {clauses[k + 1]}"
        if asked & terms(about) or any(_held(n, words_of(about)) for n in subjects):
            return True
    return False


def is_yes_no_question(question: str) -> bool:
    """A question answered by yes or no: it opens with an auxiliary verb and offers no choice
    ("Should apps target consumers or businesses?" is a choice, not a yes/no question)."""
    words = _WORD.findall(question.lower())
    if not words or words[0] not in YES_NO_OPENERS:
        return False
    return " or " not in f" {question.lower()} "


_REPEATED_RUN = re.compile(
    r"\b(?P<run>[^\W_][\w'’-]*(?:\s+[^\W_][\w'’-]*){0,3})(?P<join>(?:\s*,\s*|\s+and\s+|\s+))"
    r"(?P=run)\b",
    re.IGNORECASE,
)
_STRAY_BRACKETS = re.compile(r"\s*[}\]{\[]+\s*$")


def _without_repeated_sentences(text: str) -> str:
    """``text`` with each sentence that repeats one before it dropped."""
    pieces = re.split(r"(?<=[.!?])\s+", text)
    seen: set[str] = set()
    kept: list[str] = []
    for piece in pieces:
        key = " ".join(piece.lower().split())
        if key in seen and len(key) > 20:
            continue
        seen.add(key)
        kept.append(piece)
    return " ".join(kept) if len(kept) < len(pieces) else text


def tidy(text: str) -> str:
    """The answer without what a small model's decoding leaves behind: a word or phrase written
    twice in a row ("challenges and challenges", "Globex, Globex and Umbrella"), a sentence
    written again, and JSON punctuation at its end."""
    previous = None
    while previous != text:
        previous = text
        text = _REPEATED_RUN.sub(lambda m: m.group("run"), text)
    text = _without_repeated_sentences(text)
    text = _STRAY_BRACKETS.sub("", text).strip()
    # A closing quote is the JSON's only when it leaves the answer's own quotes unbalanced.
    if text.endswith('"') and text.count('"') % 2:
        text = text[:-1].rstrip()
    return _STRAY_BRACKETS.sub("", text).strip()


_SENTENCE_CLOSE = re.compile(r"[.!?]['\"”’)]*(?=\s|$)")


def whole_sentences(text: str) -> str:
    """``text`` without the sentence it breaks off in ("… leverage its platform and"), when it
    has a complete one before it."""
    ends = [m.end() for m in _SENTENCE_CLOSE.finditer(text)]
    if not ends or ends[-1] == len(text.rstrip()):
        return text
    return text[: ends[-1]]


_OPENING_QUOTES = ('"', "“")
_TAIL_WORDS = 4


def completed_at_quote(answer: str, sentences: Sequence[str]) -> str:
    """``answer`` with the rest of its sentence, when it copies the article word for word up to
    a quoted phrase and stops there ("… plunges Globex into a new" for "… into a new "grandiose
    dream.""): the model's straight quote closed the JSON string. Unchanged otherwise."""
    stripped = answer.rstrip()
    words = stripped.split()
    if len(words) < _TAIL_WORDS or stripped.endswith((".", "!", "?", '"', "”", "'")):
        return answer
    tail = " ".join(words[-_TAIL_WORDS:])
    rests: set[str] = set()
    for sentence in sentences:
        flat = " ".join(sentence.split())
        at = flat.find(tail)
        while at >= 0:
            rest = flat[at + len(tail) :]
            if rest.lstrip().startswith(_OPENING_QUOTES):
                rests.add(rest)
            at = flat.find(tail, at + 1)
    if len(rests) != 1:
        return answer
    return stripped + rests.pop()


# "How many four-manual organs did …": the words naming what is counted.
_HOW_MANY = re.compile(
    r"\bhow\s+many\s+((?:[\w'’-]+\s+){0,5}?)(?:did|do|does|were|was|are|is|had|have|has|will"
    r"|would|could|can)\b",
    re.IGNORECASE,
)
# Words after a figure that may name what it counts: "68 stops", "312 sworn members".
_UNIT_WORDS = 3


def counted(question: str) -> set[str]:
    """What a "how many …" question counts, as content words and their stems; empty for any
    other question."""
    match = _HOW_MANY.search(question)
    if match is None:
        return set()
    return {t for w in content_words(match.group(1)) for t in (w, stem(w))}


def counts_other(answer: str, question: str, source: str) -> bool:
    """Whether, where ``source`` gives the answer's figure, it counts something the question
    does not ask about, and nowhere what it asks: "68" to "How many organs did it build?" from
    "an organ of 68 stops". A figure with no noun after it ("an audience said to number 1,800")
    or a function word ("thirty to …", "71 of its members") is not judged."""
    asked = counted(question)
    given = figures_in(answer)
    if not asked or not given:
        return False
    words = tokens(source)
    judged = False
    for k, token in enumerate(words):
        if not figures_in(token) & given:
            continue
        after: list[str] = []
        for word in words[k + 1 : k + 1 + _UNIT_WORDS]:
            if not word[0].isalnum():
                break
            after.append(word)
        if not after or not content_words(after[0]) or figures_in(after[0]):
            continue
        if any({w, stem(w)} & asked for w in content_words(" ".join(after))):
            return False
        judged = True
    return judged
