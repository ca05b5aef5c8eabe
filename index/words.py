"""Words of English text: the one stopword list and the one stemmer that keyword retrieval
(``index.keywords``) and the answer checks (``bot.answering``) share, so both meet a word the
same way."""

from __future__ import annotations

import re

# Lower-case words; a hyphen or apostrophe inside a word keeps it whole ("b-end", "don't").
# Callers lower-case and turn ’ into ' first.
WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")

_STOPWORD_TEXT = """
    a about above after again against all also am an and any are aren aren't as at be because
    been before being below between both but by can cannot could did didn didn't do does doesn
    doesn't doing don don't down during each either even ever every few for from further had has
    have having he her here hers herself him himself his how however i if in into is isn isn't it
    it's its itself just least less let like may me might more most much must my myself neither
    no nor not now of off on once one only or other our ours ourselves out over own per perhaps
    quite rather really same she should since so some such than that that's the their theirs
    them themselves then there these they this those though through thus to too under until up
    upon us very was wasn wasn't we were weren weren't what when where whether which while who
    whom whose why will with within without would yes yet you your yours yourself yourselves
    s t article author writer say says said think piece according text section mentions
    mentioned states stated suggests describes described
    """
# Function words, and the words every question about an article uses ("what does the author
# say"), which would otherwise match every passage.
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


# Irregular verb forms, as their base: "Who sold the larch?" must meet "… who sold it" and
# "When did it sell?" alike, and histories are told in the past tense. Forms that are also
# common other words ("found", "left", "lay", "wound", "saw") are left out.
_IRREGULAR_TEXT = """
    arise arose arisen | bear bore borne | become became | begin began begun | bleed bled |
    break broke broken | breed bred | bring brought | build built | buy bought | choose chose
    chosen | come came | die died dies dying | dig dug | draw drew drawn | drive drove driven |
    eat ate eaten | fall fell fallen | feed fed | fight fought | flee fled | fly flew flown |
    forbid forbade forbidden | freeze froze frozen | give gave given | go went gone | grow grew
    grown | hang hung | hide hid hidden | hold held | keep kept | know knew known | lead led |
    lend lent | lie lying | lose lost | make made | mean meant | meet met | pay paid | ride
    rode ridden | ring rang rung | rise rose risen | run ran | seek sought | sell sold |
    send sent | shake shook shaken | shoot shot | sing sang sung | sink sank sunk | slay slew
    slain | speak spoke spoken | spend spent | stand stood | steal stole stolen | strike struck
    stricken | swear swore sworn | take took taken | teach taught | tear tore torn | tell told
    | think thought | throw threw thrown | understand understood | wear wore worn | win won |
    withdraw withdrew withdrawn | write wrote written | undertake undertook undertaken |
    overthrow overthrew overthrown
    """
_IRREGULAR = {
    form: group.split()[0] for group in _IRREGULAR_TEXT.split("|") for form in group.split()[1:]
}
# The past forms and participles of the verbs above ("gave", "sold", "sworn").
IRREGULAR_FORMS = frozenset(_IRREGULAR)
# Nouns told with another word than their verb, as the verb: a question asks "How much did the
# society lend him?" of "a loan of £120", "When was she born?" of "her birth in 1841".
_DERIVED_TEXT = """
    bear born birth births | die death deaths dead | lend loan loans lender lenders |
    sell sale sales seller sellers | give gift gifts | bury burial burials | choose choice |
    lose loss losses | grow growth | prove proof | fly flight flights | speak speech speeches |
    teach teacher teachers | succeed successor successors succession |
    own owner owners | buy buyer buyers | win winner winners | build builder builders |
    borrow borrower borrowers | invent inventor inventors invention | lead leader leaders |
    marry marriage marriages | found founder founders foundation
    """
_FAMILY = {
    form: group.split()[0] for group in _DERIVED_TEXT.split("|") for form in group.split()[1:]
}


def stem(word: str) -> str:
    """Just enough stemming to let "payments"/"payment", "companies"/"company",
    "serve"/"serves"/"served"/"serving" and "sold"/"sell" meet; ``word`` is lower-case."""
    word = _IRREGULAR.get(word, word)
    if word in _FAMILY:
        return _FAMILY[word]
    if len(word) > 4 and word.endswith(("ies", "ied")):
        return word[:-3] + "y"  # "companies", "married"
    if len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
    elif len(word) > 4 and word.endswith("ed"):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    # A final e comes and goes with the suffix ("change", "changed"): drop it on both sides.
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return _one_spelling(word)


def _one_spelling(word: str) -> str:
    """British and American spellings of a stem, as one: a model answers "612 meters" and
    "the Jupiter program" where the article has "612-metre" and "programme"."""
    if len(word) > 5 and word.endswith("our"):
        return word[:-3] + "or"  # "colour", "harbour"
    if len(word) > 4 and word.endswith("er") and word[-3] not in "aeiou":
        return word[:-2] + "r"  # "meter" meets "metre" (whose e the stem has dropped)
    if len(word) > 4 and word.endswith(("iz", "yz")):
        return word[:-1] + "s"  # "organiz(e)", "analyz(e)"
    if len(word) > 7 and word.endswith("ization"):
        return word[:-6] + "sation"
    if len(word) > 5 and word.endswith(("mm", "ll")):
        return word[:-1]  # "programm(e)", "travell(ed)"
    if len(word) > 6 and word.endswith("ogu"):
        return word[:-1]  # "catalogu(e)"
    return word
