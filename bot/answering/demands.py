"""What a question asks for, and whether a sentence can give it.

"In what year did the bank open its first branch?" asks for a year; "How many labourers died?"
for a figure; "Which is the longest span?" for a superlative the article must state. A question
written in the article's own words whose asked-for kind of fact no retrieved sentence holds is
one the article almost answers but does not, and a small model answers it anyway, often with the
nearest figure or name in sight. These checks are lexical and cheap: they run before the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")

_NUMBER_TEXT = """\
    zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty
    ninety hundred hundreds thousand thousands million millions billion billions dozen dozens
    half third quarter twice thrice single double triple percent per cent"""
_NUMBER_WORDS = frozenset(_NUMBER_TEXT.split())
_MONTH_TEXT = """\
    january february march april may june july august september october november december
    spring summer autumn winter century centuries decade decades"""
_MONTHS = frozenset(_MONTH_TEXT.split())
# Superlatives that are ordinary words, not "-est" forms ("best", "worst", "most X").
_IRREGULAR_SUPERLATIVES = frozenset({"best", "worst", "most", "least", "first", "last"})
# "-est" words that are not superlatives.
_NOT_SUPERLATIVE_TEXT = """\
    interest interests honest modest forest forests west rest test tests request requests
    guest guests quest harvest contest contests protest protests nest chest suggest suggests
    invest invests manifest earnest digest attest arrest arrests latest"""
_NOT_SUPERLATIVES = frozenset(_NOT_SUPERLATIVE_TEXT.split())
# Ordinals that pick one of several ("the second volume"); "first" and "last" also ask when
# something began or ended ("When did he first …"), and are left out.
_ORDINAL_TEXT = """\
    second third fourth fifth sixth seventh eighth ninth tenth 2nd 3rd 4th 5th 6th 7th 8th 9th
    10th"""
_ORDINALS = frozenset(_ORDINAL_TEXT.split())
# Superlatives an article states in other words: "the first eight apprentices" were its earliest.
_SAME_SUPERLATIVE = {"earliest": ("first",)}

_FIGURE_ASKED = re.compile(
    r"\bhow (?:many|much|long|far|big|large|high|wide|old|often)\b"
    r"|\bwhat (?:percentage|share|proportion|number|amount|sum|price|size)\b"
    r"|\bwhat (?:is|was|are|were) the (?:price|cost|fee|toll|rent|fine|sum|value)\b"
    r"|\bmarket share\b",
    re.IGNORECASE,
)
# An amount ("How many …", "How much …", "What price …") is not a year: "opened it in 1929"
# does not say how much the council paid.
_AMOUNT_ASKED = re.compile(
    r"\bhow (?:many|much)\b|\bwhat (?:percentage|share|proportion|number|amount|sum|price)\b",
    re.IGNORECASE,
)
# A sum of money ("How much did the council pay …?", "What price …"): a bare number of houses or
# years does not say what something cost.
_MONEY_ASKED = re.compile(
    r"\bhow much\b(?=.*\b(?:cost|costs|pay|paid|charge|charged|spend|spent|sell|sold|lend|lent"
    r"|raise|raised|borrow|borrowed|earn|earned|owe|owed|worth|fetch|fetched|price|fee|fine|fined"
    r"|rent|invest|invested|money|budget)\b)"
    r"|\bwhat (?:price|sum|fee|fine|toll|rent)\b"
    r"|\bwhat (?:is|was|are|were) the (?:price|cost|fee|toll|rent|fine|sum|value)\b",
    re.IGNORECASE,
)
# A span of time ("How long did the repair take?"), which one date does not give: a count of
# years, weeks or days does, and so do two years ("from 1874 until 1898").
_SPAN_ASKED = re.compile(
    r"\bhow long\b(?=.*\b(?:take|takes|took|taken|last|lasts|lasted|wait|waited|stay|stayed"
    r"|serve|served|live|lived|remain|remained|work|worked|spend|spent|reign|reigned)\b)",
    re.IGNORECASE,
)
# An age ("How old was she when …?"), which a dated year does not give: a number that is not a
# date does ("at the age of sixteen", "then 24"), and so do two years (born in one, in the other).
_AGE_ASKED = re.compile(r"\bhow old\b", re.IGNORECASE)
_MONEY_TEXT = """\
    pound pounds penny pence pennies shilling shillings guinea guineas dollar dollars euro
    euros yen yuan rmb renminbi rupee rupees rouble roubles ruble rubles peso pesos franc
    francs florin florins ducat ducats groat groats crowns marks sovereigns cents
    half third quarter percent cent free"""
_MONEY = frozenset(_MONEY_TEXT.split())
_CURRENCY_SIGN = re.compile(r"[£$€¥]")
_COUNTED = re.compile(r"\bhow many ([a-z]+)", re.IGNORECASE)
# Spans of time: "Sixteen years later" counts years, not the people a question asks about.
_TIME_UNIT_TEXT = """\
    second seconds minute minutes hour hours day days week weeks month months year years
    decade decades century centuries generation generations season seasons"""
_TIME_UNITS = frozenset(_TIME_UNIT_TEXT.split())
_DATE_WORDS = frozenset(
    {"in", "since", "until", "till", "by", "from", "to", "of", "after", "before", "between", "and"}
)
_DATE_ASKED = re.compile(
    r"\b(?:in )?(?:what|which) (?:year|month|decade|century|date)\b"
    r"|\bwhen (?:did|was|were|had)\b",
    re.IGNORECASE,
)


# "Which port did the guild not use?" asks for an exception, which a sentence must state with a
# negation of its own; a question that asks "not" of a sentence that states none is one the
# article almost answers ("Which port did it use?") but does not.
_WH_QUESTION = re.compile(r"^\W*(?:what|which|who|whom|whose|when|where|why|how)\b", re.IGNORECASE)
_NEGATION_TEXT = """\
    not never no nor neither none nobody nothing nowhere without lack lacked lacks lacking
    cannot failed fail fails refused refuse except instead only"""
_NEGATIONS = frozenset(_NEGATION_TEXT.split())
_ASKED_NEGATION = frozenset({"not", "never", "neither", "nor"})
# Words that open a clause the question reports rather than asks.
_REPORTED = frozenset({"that", "whether", "if", "because"})


@dataclass(frozen=True)
class Demand:
    """One kind of fact a question asks for: a figure (an amount, a sum, a span of time), a date,
    a stated superlative or ordinal, or an exception (a negation)."""

    kind: str  # "figure" | "date" | "superlative" | "ordinal" | "negation"
    # For "superlative" and "ordinal", the words the sentence must state ("longest", "second
    # volume"); for "figure", "amount" (not a date), "money" (a sum), "span" (of time), "age", or
    # "" for any figure.
    word: str = ""

    @property
    def amount(self) -> bool:
        """Whether the demand is for an amount, which a dated year does not give."""
        return self.kind == "figure" and self.word in ("amount", "money", "span", "age")

    def unmet(self) -> str:
        """What the article does not say, as the start of a refusal."""
        if self.kind == "figure":
            return "The article doesn't give that figure."
        if self.kind == "date":
            return "The article doesn't say when."
        if self.kind == "negation":
            return "The article doesn't say that."
        if self.kind == "ordinal":
            return f"The article doesn't say which was the {self.word}."
        return f"The article doesn't say which is the {self.word}."


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def _is_superlative(word: str) -> bool:
    if word in _IRREGULAR_SUPERLATIVES:
        return word in {"best", "worst"}
    return len(word) > 5 and word.endswith("est") and word not in _NOT_SUPERLATIVES


def demands(question: str) -> list[Demand]:
    """The kinds of fact ``question`` asks for that a sentence must hold to answer it."""
    found: list[Demand] = []
    if _FIGURE_ASKED.search(question):
        if _MONEY_ASKED.search(question):
            found.append(Demand("figure", "money"))
        elif _SPAN_ASKED.search(question):
            found.append(Demand("figure", "span"))
        elif _AGE_ASKED.search(question):
            found.append(Demand("figure", "age"))
        else:
            found.append(Demand("figure", "amount" if _AMOUNT_ASKED.search(question) else ""))
    if _DATE_ASKED.search(question):
        found.append(Demand("date"))
    words = _words(question)
    # "Which ports did the guild not trade with?" asks for an exception; "How did he show that
    # he had not copied it?" asks how, and its "not" belongs to the clause it reports.
    main = words[: next((k for k, w in enumerate(words) if w in _REPORTED), len(words))]
    if _WH_QUESTION.match(question) and any(
        w in _ASKED_NEGATION or w.endswith("n't") for w in main
    ):
        found.append(Demand("negation"))
    for i, word in enumerate(words):
        if word in _ORDINALS and i + 1 < len(words):
            # "the second volume": the sentence must count it so ("second", "2nd").
            found.append(Demand("ordinal", f"{word} {words[i + 1]}"))
        if _is_superlative(word):
            found.append(Demand("superlative", word))
        elif word in {"most", "least"} and i + 1 < len(words) and words[i + 1] != "of":
            # "the most successful", "most users": the pair is what the sentence must state.
            found.append(Demand("superlative", f"{word} {words[i + 1]}"))
    return found


def _is_number_word(word: str) -> bool:
    return word in _NUMBER_WORDS or word.rstrip("s") in _NUMBER_WORDS


def asking_words(question: str) -> set[str]:
    """The words of the phrases that ask for a figure or a date ("how far", "what year")."""
    found: set[str] = set()
    for pattern in (_FIGURE_ASKED, _DATE_ASKED):
        for match in pattern.finditer(question):
            found.update(_words(match.group(0)))
    return found


def _without_dated_years(words: list[str], given: set[str]) -> list[str]:
    """``words`` less the question's own and the days and years that date something ("in 1929",
    "9 March 1587"): what is left may state an amount."""
    kept: list[str] = []
    for i, word in enumerate(words):
        if word in given:
            continue
        before = words[i - 1] if i else ""
        after = words[i + 1] if i + 1 < len(words) else ""
        if is_year(word) and (before in _DATE_WORDS or before in _MONTHS or before.isdigit()):
            continue
        if word.isdigit() and len(word) <= 2 and after in _MONTHS:
            continue  # the day of "9 March"
        kept.append(word)
    return kept


def _is_money(word: str) -> bool:
    # "sixpence", "twopence", "ten-pound": a sum written as one word.
    return word in _MONEY or any(p in _MONEY for p in word.split("-")) or word.endswith("pence")


def _without_spans(words: list[str]) -> list[str]:
    """``words`` less the figures that count spans of time ("sixteen years later")."""
    return [
        w
        for i, w in enumerate(words)
        if not (i + 1 < len(words) and words[i + 1] in _TIME_UNITS and _has_figure([w]))
    ]


def is_year(word: str) -> bool:
    """Whether ``word`` is a year written in digits ("1887")."""
    return word.isdigit() and len(word) == 4 and 1000 <= int(word) <= 2199


def _has_figure(words: list[str]) -> bool:
    # "forty-two" is one word as written.
    return any(
        w.isdigit() or _is_number_word(w) or any(_is_number_word(p) for p in w.split("-"))
        for w in words
    )


def _has_date(words: list[str]) -> bool:
    """A year ("1887"), a month, season or century, or a day beside its month: "36 cottages" is
    no date, and "the 1880s" gives no year."""
    for i, word in enumerate(words):
        if is_year(word) or word in _MONTHS:
            return True
        beside = words[max(0, i - 1) : i + 2]
        if word.isdigit() and len(word) <= 2 and any(w in _MONTHS for w in beside):
            return True
    return False


def met(demand: Demand, sentence: str, question: str = "") -> bool:
    """Whether ``sentence`` holds the kind of fact ``demand`` asks for; figures and dates that
    the question itself gives ("during the 1933 rebuilding") do not count, while a superlative
    must be the question's own ("the best customer" is answered by "the best customer was …")."""
    given = set(_words(question))
    words = [w for w in _words(sentence) if w not in given]
    if demand.kind == "figure":
        if demand.amount:
            words = _without_dated_years(_words(sentence), given)
        if demand.word == "span":
            every = _words(sentence)
            spans = [w for k, w in enumerate(every[:-1]) if every[k + 1] in _TIME_UNITS]
            return _has_figure(spans) or len({w for w in every if is_year(w)}) > 1
        if demand.word == "age":
            years = {w for w in _words(sentence) if is_year(w)}
            return _has_figure([w for w in words if not is_year(w)]) or len(years) > 1
        if demand.word == "money":
            return bool(_CURRENCY_SIGN.search(sentence)) or any(_is_money(w) for w in words)
        counted = _COUNTED.search(question)
        if demand.amount and counted and counted.group(1).lower() not in _TIME_UNITS:
            words = _without_spans(words)
        return _has_figure(words)
    if demand.kind == "date":
        return _has_date(words)
    if demand.kind == "negation":
        return any(w in _NEGATIONS or w.endswith("n't") for w in _words(sentence))
    if demand.kind == "ordinal":
        ordinal = demand.word.split()[0]
        return any(ordinal in w.split("-") for w in _words(sentence))
    words = _words(sentence)
    wanted = demand.word.split()
    stem = wanted[-1][:-3] if wanted[-1].endswith("est") else wanted[-1]
    text = " ".join(words)
    if any(w in words for w in _SAME_SUPERLATIVE.get(demand.word, ())):
        return True
    return " ".join(wanted) in text or (len(stem) > 3 and f"{stem}est" in words)
