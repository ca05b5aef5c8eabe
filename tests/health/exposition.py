"""A strict parser of the Prometheus text exposition format 0.0.4, for checking /metrics.

Stricter than a scraper on purpose: every family needs exactly one HELP and one TYPE line before
its samples, samples of a family are contiguous, a series appears once, and histograms must be
consistent (sorted `le` bounds, cumulative counts, a +Inf bucket equal to `_count`).
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
_NAME_RE = re.compile(NAME)
_COMMENT_RE = re.compile(rf"# (HELP|TYPE) ({NAME}) ?(.*)")
_SAMPLE_RE = re.compile(rf"({NAME})(\{{.*\}})? (\S+)( -?\d+)?")
_LABEL_RE = re.compile(rf'({LABEL_NAME})="((?:[^"\\\n]|\\\\|\\"|\\n)*)"')
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class ExpositionError(ValueError):
    pass


@dataclass
class Family:
    name: str
    type: str = ""
    help: str = ""
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = field(default_factory=dict)

    def value(self, sample_name: str | None = None, **labels: str) -> float:
        key = (sample_name or self.name, tuple(sorted(labels.items())))
        return self.samples[key]


def _unescape(text: str, *, label: bool) -> str:
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "n":
                out.append("\n")
            elif nxt == "\\":
                out.append("\\")
            elif nxt == '"' and label:
                out.append('"')
            else:
                raise ExpositionError(f"bad escape \\{nxt} in {text!r}")
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _parse_value(text: str, line: str) -> float:
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    try:
        return float(text)
    except ValueError:
        raise ExpositionError(f"bad value {text!r} in line {line!r}") from None


def _parse_labels(text: str, line: str) -> tuple[tuple[str, str], ...]:
    inner = text[1:-1]
    labels: dict[str, str] = {}
    pos = 0
    while pos < len(inner):
        m = _LABEL_RE.match(inner, pos)
        if m is None:
            raise ExpositionError(f"bad labels in line {line!r}")
        if m.group(1) in labels:
            raise ExpositionError(f"label {m.group(1)} twice in line {line!r}")
        labels[m.group(1)] = _unescape(m.group(2), label=True)
        pos = m.end()
        if pos < len(inner):
            if inner[pos] != ",":
                raise ExpositionError(f"expected ',' in labels of line {line!r}")
            pos += 1
    return tuple(sorted(labels.items()))


def _family_of(sample: str, families: dict[str, Family]) -> Family | None:
    if sample in families:
        return families[sample]
    for suffix in ("_bucket", "_sum", "_count"):
        base = sample.removesuffix(suffix)
        if base != sample and base in families and families[base].type == "histogram":
            return families[base]
    return None


def parse(text: str) -> dict[str, Family]:
    if not text.endswith("\n"):
        raise ExpositionError("the exposition must end with a newline")
    families: dict[str, Family] = {}
    closed: set[str] = set()
    current: str | None = None
    for line in text[:-1].split("\n"):
        if not line:
            raise ExpositionError("empty line")
        if line.startswith("#"):
            m = _COMMENT_RE.fullmatch(line)
            if m is None:
                raise ExpositionError(f"bad comment line {line!r}")
            kind, name, rest = m.groups()
            if name in closed:
                raise ExpositionError(f"{name}: family continued after another began")
            fam = families.setdefault(name, Family(name))
            if current is not None and current != name:
                closed.add(current)
            current = name
            if fam.samples:
                raise ExpositionError(f"{name}: {kind} after its samples")
            if kind == "HELP":
                if fam.help:
                    raise ExpositionError(f"{name}: second HELP")
                fam.help = _unescape(rest, label=False)
            else:
                if fam.type:
                    raise ExpositionError(f"{name}: second TYPE")
                if rest not in TYPES:
                    raise ExpositionError(f"{name}: unknown type {rest!r}")
                fam.type = rest
            continue
        m = _SAMPLE_RE.fullmatch(line)
        if m is None:
            raise ExpositionError(f"bad sample line {line!r}")
        sample, labels_text, value_text, _timestamp = m.groups()
        owner = _family_of(sample, families)
        if owner is None or owner.name != current:
            raise ExpositionError(f"sample {sample} outside its family's block")
        if not owner.type or not owner.help:
            raise ExpositionError(f"{owner.name}: samples before HELP and TYPE")
        labels = _parse_labels(labels_text, line) if labels_text else ()
        key = (sample, labels)
        if key in owner.samples:
            raise ExpositionError(f"series {sample}{dict(labels)} appears twice")
        owner.samples[key] = _parse_value(value_text, line)
    for fam in families.values():
        if not fam.type or not fam.help:
            raise ExpositionError(f"{fam.name}: HELP or TYPE missing")
        if fam.type == "histogram":
            check_histogram(fam)
        if fam.type == "counter":
            for key, value in fam.samples.items():
                if value < 0 or math.isnan(value):
                    raise ExpositionError(f"counter {key} is {value}")
    return families


def check_histogram(fam: Family) -> None:
    buckets = [
        (dict(labels)["le"], value)
        for (sample, labels), value in fam.samples.items()
        if sample == fam.name + "_bucket"
    ]
    if not buckets or buckets[-1][0] != "+Inf":
        raise ExpositionError(f"{fam.name}: the last bucket must be le=+Inf")
    bounds = [_parse_value(le, le) for le, _ in buckets]
    if bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
        raise ExpositionError(f"{fam.name}: bucket bounds not increasing: {bounds}")
    counts = [v for _, v in buckets]
    if any(b < a for a, b in itertools.pairwise(counts)):
        raise ExpositionError(f"{fam.name}: bucket counts not cumulative: {counts}")
    count = fam.samples.get((fam.name + "_count", ()))
    if count is None or (fam.name + "_sum", ()) not in fam.samples:
        raise ExpositionError(f"{fam.name}: _sum or _count missing")
    if counts[-1] != count:
        raise ExpositionError(f"{fam.name}: +Inf bucket {counts[-1]} != _count {count}")


def valid_metric_name(name: str) -> bool:
    return _NAME_RE.fullmatch(name) is not None
