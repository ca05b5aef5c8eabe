"""A long made-up article (about 60,000 characters): the yearly annals of a fictional harbour town.

Longer than the prompt prefix budget, so the whole article cannot sit in the model's fixed prefix
and answers come from the retrieved sentences only. Every fact is drawn from seeded choices, so the
text is the same on every run and each year's facts are known to the questions asked about it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

TITLE = "The Annals of Kellwick Harbour"
FIRST_YEAR = 1850
YEARS = 166

_FIRST = [
    "Ada", "Bram", "Cora", "Dell", "Edwin", "Fenna", "Gideon", "Hester", "Ivo", "Jessamy",
    "Kit", "Lorna", "Magnus", "Nell", "Osric", "Petra", "Quill", "Rowan", "Silas", "Tamsin",
]  # fmt: skip
_LAST = [
    "Ashdown", "Birch", "Colley", "Drummond", "Ember", "Froste", "Gall", "Hollin", "Ingram",
    "Jory", "Kemble", "Lusk", "Merrow", "Nettle", "Oakes", "Pruett", "Rooke", "Saltash",
]  # fmt: skip
_TRADES = ["cooper", "sailmaker", "net mender", "chandler", "rope maker", "boat builder", "smith"]
_GOODS = ["lanterns", "mooring posts", "fish crates", "oak barrels", "iron cranes", "rowing boats"]
_PLACES = ["north quay", "fish market", "old slipway", "custom house", "lighthouse", "south pier"]
_PROJECTS = [
    "a new sea wall", "the lifeboat house", "a drainage channel", "the harbour school",
    "a public well", "the market roof", "a bathing pool", "the coal store",
]  # fmt: skip
_EVENTS = [
    "a fire in the tar sheds", "a record herring catch", "a visit from the county judge",
    "the wreck of a grain ship", "an outbreak of fever", "a regatta", "a long frost",
    "the arrival of the first steam trawler", "a strike of the dock porters", "a flood tide",
]  # fmt: skip
_SHIPS = ["Gannet", "Morning Star", "Kestrel", "Brave Anna", "Seahorse", "Curlew", "Providence"]


@dataclass(frozen=True)
class Year:
    year: int
    master: str
    goods: str
    count: int
    place: str
    project: str
    cost: int
    event: str
    ship: str
    tons: int
    maker: str
    trade: str


def _name(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def annals(seed: int = 1850) -> list[Year]:
    rng = random.Random(seed)
    years = []
    for n in range(YEARS):
        years.append(
            Year(
                year=FIRST_YEAR + n,
                master=_name(rng),
                goods=rng.choice(_GOODS),
                count=rng.randint(3, 40),
                place=rng.choice(_PLACES),
                project=rng.choice(_PROJECTS),
                cost=rng.randint(12, 950) * 10,
                event=rng.choice(_EVENTS),
                ship=rng.choice(_SHIPS),
                tons=rng.randint(40, 900),
                maker=_name(rng),
                trade=rng.choice(_TRADES),
            )
        )
    return years


def _section(y: Year) -> str:
    return (
        f"## {y.year}\n\n"
        f"In {y.year} the harbour master was {y.master}, who ordered {y.count} new {y.goods} "
        f"for the {y.place}. The town council spent {y.cost:,} pounds on {y.project}. "
        f"The year is remembered in Kellwick for {y.event}. "
        f"The largest ship to tie up that year was the {y.ship}, of {y.tons} tons. "
        f"{y.maker}, a {y.trade}, opened a workshop near the {y.place}.\n"
    )


def long_article(seed: int = 1850) -> str:
    """The article's Markdown text."""
    intro = (
        f"# {TITLE}\n\n"
        "These annals record, year by year, who kept the harbour of Kellwick, what the town "
        "spent its money on, and what the town remembered of each year.\n\n"
    )
    return intro + "\n".join(_section(y) for y in annals(seed))


def questions(seed: int = 1850, n: int = 10) -> list[dict[str, Any]]:
    """Eval rows (the format of bot/data/eval_questions.jsonl) about chosen years."""
    years = annals(seed)
    rows: list[dict[str, Any]] = []
    for i, y in enumerate(years[:: max(1, len(years) // n)][:n]):
        if i % 3 == 0:
            q, fact = f"Who was the harbour master in {y.year}?", y.master.split()[1]
        elif i % 3 == 1:
            q, fact = (
                f"How much did the town council spend on {y.project} in {y.year}?",
                f"{y.cost:,}",
            )
        else:
            q, fact = f"What was the largest ship to tie up in {y.year}?", y.ship
        rows.append(
            {"question": q, "kind": "section", "answerable": True, "sections": [str(y.year)],
             "facts": [fact]}
        )  # fmt: skip
    return rows


def measure(data_dir: str, n: int = 10) -> dict[str, Any]:
    """Answer ``n`` questions about the long article with the configured (real) model: the
    answers' latency and whether each kept the guarantees (verbatim quote, right section)."""
    import statistics
    import tempfile
    from pathlib import Path

    from bot.settings import load_settings
    from bot.wiring import build_answerer

    path = Path(tempfile.mkdtemp()) / "annals.md"
    path.write_text(long_article(), encoding="utf-8")
    pipeline = build_answerer(load_settings(article_path=path, data_dir=Path(data_dir)))
    article = pipeline.article
    rows = []
    for q in questions(n=n):
        answer = pipeline.answer(str(q["question"]))
        verbatim = all(article.text[c.start : c.end] == c.quote for c in answer.citations)
        rows.append(
            {
                "question": q["question"],
                "refused": answer.refused,
                "answer": answer.text,
                "cited": [c.section for c in answer.citations],
                "right_section": bool(answer.citations)
                and {c.section for c in answer.citations} <= set(q["sections"]),
                "fact_stated": all(str(f) in answer.text for f in q["facts"]),
                "verbatim": verbatim,
                "total_ms": round(answer.timings_ms.get("total", 0.0)),
            }
        )
    times = [float(r["total_ms"]) for r in rows]
    return {
        "chars": len(article.text),
        "sections": len(article.sections),
        "article_in_prefix": pipeline.article_in_prefix,
        "prefix_tokens": pipeline.prefix_tokens,
        "p50_ms": statistics.median(times),
        "max_ms": max(times),
        "answered": sum(not r["refused"] for r in rows),
        "right_section": sum(bool(r["right_section"]) for r in rows),
        "fact_stated": sum(bool(r["fact_stated"]) for r in rows),
        "verbatim": all(r["verbatim"] for r in rows),
        "rows": rows,
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(measure(sys.argv[1] if len(sys.argv) > 1 else "/tmp/long-article-data"),
                     indent=2, ensure_ascii=False))  # fmt: skip
