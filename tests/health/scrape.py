"""A scrape of /metrics read with prometheus-client's parser, looked up by sample and labels."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


@dataclass(frozen=True)
class Scrape:
    families: dict[str, Metric]

    @classmethod
    def parse(cls, text: str) -> Scrape:
        return cls({fam.name: fam for fam in text_string_to_metric_families(text)})

    def samples(self, name: str) -> list[Sample]:
        """Every sample called ``name`` (e.g. ``x_total``, ``x_bucket``), in the order served."""
        return [s for fam in self.families.values() for s in fam.samples if s.name == name]

    def value(self, name: str, **labels: str) -> float:
        """The value of the one sample ``name`` with exactly ``labels``."""
        found = [s.value for s in self.samples(name) if s.labels == labels]
        if len(found) != 1:
            raise KeyError(f"{len(found)} samples {name}{labels}")
        return found[0]
