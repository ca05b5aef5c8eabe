"""Which side of a deed a question puts its name on, and which side the article puts it on.

"Who gave Roger Tamsin a silver salt cellar?" is written in the article's own words, but the
article says that Roger Tamsin gave the guild one: the name stands on the other side of the
verb, and the article does not say who gave him anything. "Whom did King Osric swear fealty to?"
against "the earls swore fealty to King Osric" is the same trap the other way round. A small model
answers both with the nearest name in sight, so the pipeline finds, before the model runs, every
sentence that holds the question's name beside its verb, and refuses when each of them puts the
name on the side the question does not.

The reading is lexical and cautious: a name counts as a verb's subject only when nothing but
auxiliaries, adverbs, an apposition or a relative "who" stands between them, and as its object
only when it follows within a few words. A sentence it cannot read that way leaves the question
to the model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.answering.grounding import content_words, terms
from index.words import IRREGULAR_FORMS, stem

# Words and the punctuation that ends a clause, as written (case kept: names are capitalised).
_TOKEN = re.compile(r"[^\W_](?:[\w'’-]*[^\W_])?|[,;:.!?()]")
_POSSESSIVE = re.compile(r"['’]s?$")

_BE = frozenset({"was", "were", "is", "are", "been", "be", "being"})
_AUXILIARIES = frozenset(
    {"had", "has", "have", "did", "does", "do", "would", "could", "will", "should", "might"}
    | {"may", "must", "shall", "can"}
)
# Words that may stand between a subject and its verb without changing who does the deed.
_BETWEEN = frozenset(
    {"also", "then", "later", "first", "once", "never", "not", "still", "soon", "already"}
    | {"only", "twice", "himself", "herself", "itself", "themselves", "both", "all", "each"}
    | {"jointly", "eventually", "finally", "reportedly", ","}
    | _AUXILIARIES
)
_RELATIVES = frozenset({"who", "which", "that"})
_DETERMINERS = frozenset(
    {"the", "a", "an", "its", "their", "his", "her", "our", "this", "that", "these", "those"}
)
_LOCATIVES = frozenset({"at", "in", "of", "near", "on", "from"})
_CLAUSE_ENDS = frozenset({";", ":", ".", "!", "?", "(", ")"})
# Deeds that run both ways ("A married B" says "B married A"): no side is wrong.
_SYMMETRIC_TEXT = """
    marry wed meet fight battle play join partner ally merge compete debate negotiate trade
    correspond collaborate cooperate divorce face share exchange swap resemble match tie border
    neighbour neighbor adjoin quarrel argue clash feud rival
    """
_SYMMETRIC = frozenset(stem(w) for w in _SYMMETRIC_TEXT.split())
_WH = frozenset({"who", "whom", "what", "which"})
# Deeds told from either end, with the sides swapped: "Fenwick sold the larch to the council" is
# "the council bought (paid for) the larch from Fenwick", so it does not say what Fenwick paid.
_CONVERSE_TEXT = "sell buy | sell pay | sell purchase | lend borrow | give receive | pay receive"
_CONVERSES: dict[str, set[str]] = {}
for _pair in _CONVERSE_TEXT.split("|"):
    _one, _other = (stem(w) for w in _pair.split())
    _CONVERSES.setdefault(_one, set()).add(_other)
    _CONVERSES.setdefault(_other, set()).add(_one)
_PREPOSITIONS = frozenset({"to", "from", "with", "for", "by", "of", "on", "in", "at"})
_OTHER_SIDE = {"subject": "object", "object": "subject"}
# How far an object may follow its verb: "swore fealty to King Osric" is three words on.
_OBJECT_REACH = 6
# How far a relative clause may run from its name to the verb: "Marget Ashby, who owned six
# pans and who lent the fraternity the money".
_RELATIVE_REACH = 10


# Titles and numerals that many names share ("King", "Lord", "III"): a name is met by its own words.
_TITLE_TEXT = """
    king queen lord lady sir saint st duke duchess earl count countess emperor empress pope
    bishop archbishop prince princess baron baroness mr mrs ms dr president general captain
    prior abbot abbess father brother sister mayor sheriff judge governor senator chancellor
    minister colonel admiral cardinal reverend
    ii iii iv vi vii viii ix xi xii
    """
_TITLES = frozenset(_TITLE_TEXT.split())
_NAME_JOINS = frozenset({"of", "de", "van", "von", "the"})


@dataclass(frozen=True)
class Relation:
    """What a question asks: the deed (a verb's stem), the words of the name it gives
    (lower-case, titles left out), and the side of the verb it puts the name on."""

    verb: str
    name: frozenset[str]
    role: str  # "subject" | "object"


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.replace("’", "'"))


def _is_name(token: str) -> bool:
    return token[:1].isupper() and token.lower() != "i"


def _name_run_end(tokens: Sequence[str], start: int) -> int:
    """The index after the name that begins at ``start`` ("Abbey of St Ione", "King Osric")."""
    end = start
    while end < len(tokens):
        if _is_name(tokens[end]) or (
            tokens[end] in _NAME_JOINS and end + 1 < len(tokens) and _is_name(tokens[end + 1])
        ):
            end += 1
        else:
            break
    return end


def _name_words(tokens: Sequence[str]) -> frozenset[str]:
    words = {_POSSESSIVE.sub("", t.lower()) for t in tokens if _is_name(t)}
    return frozenset(w for w in words if w and w not in _TITLES)


def _inflected(word: str) -> bool:
    """A past or third-person form, as a question's verb after "Who" is ("gave", "owns")."""
    if not word.isalpha():
        return False
    return (
        word in IRREGULAR_FORMS
        or word.endswith("ed")
        or (word.endswith("s") and not word.endswith(("ss", "us", "is")))
    )


def asked_relation(question: str) -> Relation | None:
    """The deed and the named side of it that ``question`` asks about, or None.

    Two shapes are read: "Who gave Roger Tamsin …" / "Which company sold the mill to Acme?" (the
    name is the deed's object; the question asks for its subject), and "Whom did King Osric
    swear fealty to?" / "What did Acme sell …" (the name is the subject; the question asks for
    its object).
    """
    tokens = [t for t in _tokens(question) if t not in ("?", "!")]
    lower = [t.lower() for t in tokens]
    i = 1 if lower and lower[0] in _PREPOSITIONS else 0
    if lower[i : i + 2] in (["how", "much"], ["how", "many"]):
        i += 1  # "How much did Lord Fenwick pay …", "How many pans did Acme sell …"
    elif i >= len(tokens) or lower[i] not in _WH:
        return None
    i += 1
    if (
        i + 1 < len(tokens)
        and lower[i - 1] in ("which", "what", "much", "many")
        and not _is_name(tokens[i])
        and (lower[i - 1] in ("much", "many") or not _inflected(lower[i]))
        and lower[i] not in _AUXILIARIES
        and lower[i] not in _BE
    ):
        i += 1  # "Which company sold …", "How many pans did …": the noun after the question word
    if i >= len(tokens):
        return None
    if lower[i] in ("did", "does", "do", "had", "has", "have"):
        # "Whom did King Osric swear fealty to?": the name, then the verb.
        start = i + 1
        if lower[start : start + 1] == ["the"]:
            start += 1  # "What did the Abbey of St Ione sell …"
        if start >= len(tokens) or not _is_name(tokens[start]):
            return None
        end = _name_run_end(tokens, start)
        if end >= len(tokens) or not lower[end].isalpha() or _is_name(tokens[end]):
            return None
        if start > i + 1 and end == start + 1:
            return None  # "the Kellwick causeway": one word after "the" may name a thing's kind
        if tokens[end - 1].endswith(("'s", "'")):
            return None  # "What did Agnes Marrow's brother …": the brother is the subject
        return _relation(lower[end], tokens[start:end], "subject", lower[end + 1 : end + 2])
    if lower[i] in _BE:
        # "Who was excommunicated by Prior Anselm?": the name after "by" did the deed.
        if i + 1 >= len(tokens) or not _inflected(lower[i + 1]):
            return None
        rest = tokens[i + 2 :]
        if len(rest) >= 2 and rest[0].lower() == "by" and _is_name(rest[1]):
            return _relation(lower[i + 1], rest[1 : _name_run_end(rest, 1)], "subject", [])
        return None
    if lower[i] in _AUXILIARIES:
        i += 1  # "Who had given …"
    if i >= len(tokens) or _is_name(tokens[i]) or not _inflected(lower[i]):
        return None
    verb = lower[i]
    for k in range(i + 1, min(len(tokens), i + 1 + _OBJECT_REACH)):
        if tokens[k] in _CLAUSE_ENDS or tokens[k] == ",":
            return None
        if _is_name(tokens[k]):
            between = lower[i + 1 : k]
            # The deed's own object ("gave Roger Tamsin", "sold the larch to Lord Fenwick"),
            # not a place or a part of it ("the toll at Coldbeck Bridge").
            if between and between not in (["the"], ["a"]) and between[-1] not in ("to", "from"):
                return None
            end = _name_run_end(tokens, k)
            if tokens[end - 1].endswith(("'s", "'")):
                return None  # "Who expelled Reddish's son?": the son is the object
            return _relation(verb, tokens[k:end], "object", lower[i + 1 : i + 2])
    return None


def _relation(
    verb: str, name: Sequence[str], role: str, after_verb: Sequence[str]
) -> Relation | None:
    words = _name_words(name)
    if not words or stem(verb) in _SYMMETRIC or "with" in after_verb:
        return None
    return Relation(stem(verb), words, role)


def _runs(tokens: Sequence[str], words: frozenset[str]) -> list[tuple[int, int]]:
    """Where ``tokens`` name someone by one of ``words``, as (start, end) of each name."""
    found: list[tuple[int, int]] = []
    k = 0
    while k < len(tokens):
        if not _is_name(tokens[k]):
            k += 1
            continue
        end = _name_run_end(tokens, k)
        if _name_words(tokens[k:end]) & words:
            found.append((k, end))
        k = end
    return found


def roles(relation: Relation, sentence: str) -> set[str] | None:
    """The sides of the relation's verb on which ``sentence`` puts its name: an empty set when
    the sentence does not hold both, None when it holds both but cannot be read."""
    tokens = _tokens(sentence)
    lower = [t.lower() for t in tokens]
    names = _runs(tokens, relation.name)
    converse = _CONVERSES.get(relation.verb, set())
    verbs = [
        (k, stem(t) in converse)
        for k, t in enumerate(lower)
        if t.isalpha()
        and not _is_name(tokens[k])
        and (stem(t) == relation.verb or stem(t) in converse)
        and _as_verb(lower, k)
    ]
    if not names or not verbs:
        return set()
    found: set[str] = set()
    unread = False
    for v, swapped in verbs:
        for run in names:
            role = _role(tokens, lower, run, v)
            if role == "unread":
                unread = True
            elif role:
                found.add(_OTHER_SIDE[role] if swapped else role)
    if not found and unread:
        return None
    return found


def _as_verb(lower: Sequence[str], k: int) -> bool:
    """Whether the word at ``k`` stands as a verb, not as a noun or a name's modifier: "the
    causeway", "its opening", "the opening of the canal" do not."""
    if k and lower[k - 1] in _DETERMINERS:
        return False
    return not (lower[k].endswith("ing") and lower[k + 1 : k + 2] == ["of"])


def _passive(lower: Sequence[str], v: int) -> bool:
    """Whether the verb at ``v`` is passive: "was sold", "was later sold", "charged by"."""
    if v + 1 < len(lower) and lower[v + 1] == "by":
        return True
    k = v - 1
    while k >= 0 and (lower[k] in _BETWEEN - {","} or lower[k].endswith("ly")):
        k -= 1
    return k >= 0 and lower[k] in _BE


def _role(tokens: Sequence[str], lower: Sequence[str], run: tuple[int, int], v: int) -> str:
    """The side of the verb at ``v`` on which the name ``run`` stands: "subject", "object",
    "unread" (near the verb, in a way this reading does not tell), or "" (not with this verb)."""
    start, end = run
    passive = _passive(lower, v)
    if end <= v:
        possessive = tokens[end - 1].endswith(("'s", "'"))
        # A place that goes with the name ("the Abbey of St Ione at Brenford, which bought").
        while end + 1 < v and lower[end] in _LOCATIVES and _is_name(tokens[end + 1]):
            end = _name_run_end(tokens, end + 1)
        between = lower[end:v]
        if any(t in _CLAUSE_ENDS for t in between):
            return ""
        if all(t in _BETWEEN or t.endswith("ly") or t in _BE for t in between):
            if possessive:
                return "unread"  # "Tamsin's nephew gave": someone of the name's did it
            return "object" if passive else "subject"
        relative = [k for k, t in enumerate(between) if t in _RELATIVES]
        if relative and relative[0] <= 1 and len(between) <= _RELATIVE_REACH:
            # "Marget Ashby, who owned six pans and who lent": the clause is the name's own,
            # unless another name stands in it.
            if possessive or any(_is_name(t) for t in tokens[end:v]):
                return "unread"
            return "object" if passive else "subject"
        return "unread" if len(between) <= 2 else ""
    if start <= v:
        return ""
    between = lower[v + 1 : start]
    if len(between) >= _OBJECT_REACH or any(t in _CLAUSE_ENDS or t == "," for t in between):
        return ""
    if any(t in _RELATIVES for t in between):
        return ""
    if passive:
        # "charged by the Lords of Ravensholt": the name after "by" did the deed.
        last = [t for t in between if t in _PREPOSITIONS]
        return "subject" if last and last[-1] == "by" else "object"
    return "object"


def reversed_in(question: str, sentences: Sequence[str]) -> int | None:
    """The first of ``sentences`` that puts the question's name on the other side of its verb,
    when every sentence holding both does so; None otherwise (the question is not of a shape
    read here, no sentence holds both, or one holds them the way the question asks or in a way
    this reading cannot tell)."""
    relation = asked_relation(question)
    if relation is None:
        return None
    # The same deed has the same matter: "which Fenwright kept until his death" (two books) is
    # not the keeping of "What kept Fenwright from joining the expedition?". One word ("the
    # guild") may be a "their" in the sentence, so the matter counts from two words on.
    verbs = {relation.verb, *_CONVERSES.get(relation.verb, ())}
    matter = [
        w
        for w in content_words(question)
        if w not in relation.name and stem(w) not in verbs and w not in _WH
    ]
    first: int | None = None
    for index, sentence in enumerate(sentences):
        found = roles(relation, sentence)
        if found is None or relation.role in found:
            return None
        if (
            found
            and first is None
            and (len(matter) < 2 or terms(" ".join(matter)) & terms(sentence))
        ):
            first = index
    return first
