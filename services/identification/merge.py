"""Merging two providers' answers: Plant.id's probabilities lead, PlantNet fills and confirms."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from services.identification.providers import ProviderAnswer, Suggestion

Status = Literal["ok", "failed", "skipped"]
LEAD, SECOND = "plant_id", "plantnet"


@dataclass(frozen=True, kw_only=True)
class SourceReport:
    """How one provider did: ok, failed (with the reason) or skipped (breaker open)."""

    status: Status
    latency_ms: float | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class MergedSuggestion:
    """One species, with every provider that proposed it; `agreed` when both did."""

    name: str
    probability: float
    family: str | None
    genus: str | None
    common_names: list[str]
    gbif_id: int | None
    providers: list[str]
    agreed: bool


@dataclass(frozen=True, kw_only=True)
class Identification:
    """The answer to one identification request."""

    image_sha256: str
    is_plant: bool
    suggestions: list[MergedSuggestion]
    sources: dict[str, SourceReport]
    cached: bool = False
    version: int = 1
    request_id: str | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        # By hand: dataclasses.asdict recurses through copy.deepcopy and costs ten times more,
        # which a cache hit (all else cheap) would spend on every answer.
        return vars(self) | {
            "suggestions": [
                vars(s) | {"common_names": list(s.common_names), "providers": list(s.providers)}
                for s in self.suggestions
            ],
            "sources": {name: dict(vars(report)) for name, report in self.sources.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Identification:
        return cls(
            **data
            | {
                "suggestions": [MergedSuggestion(**s) for s in data["suggestions"]],
                "sources": {k: SourceReport(**v) for k, v in data["sources"].items()},
            }
        )

    @property
    def complete(self) -> bool:
        return all(report.status == "ok" for report in self.sources.values())


def merge(
    fingerprint: str, answers: dict[str, ProviderAnswer], sources: dict[str, SourceReport]
) -> Identification:
    """Combine whichever answers arrived; the lead provider's view of is_plant wins."""
    by_name: dict[str, dict[str, Suggestion]] = {}
    for provider in (LEAD, SECOND):
        for suggestion in answers[provider].suggestions if provider in answers else ():
            by_name.setdefault(_key(suggestion.name), {})[provider] = suggestion
    merged = [_combine(proposals) for proposals in by_name.values()]
    merged.sort(key=lambda s: s.probability, reverse=True)
    lead = answers.get(LEAD) or answers.get(SECOND)
    return Identification(
        image_sha256=fingerprint,
        is_plant=bool(lead and lead.is_plant),
        suggestions=merged,
        sources=sources,
    )


def _combine(proposals: dict[str, Suggestion]) -> MergedSuggestion:
    lead, second = proposals.get(LEAD), proposals.get(SECOND)
    first = lead or second
    assert first is not None
    names: dict[str, str] = {}
    for name in (*(lead.common_names if lead else ()), *(second.common_names if second else ())):
        names.setdefault(name.lower(), name)
    return MergedSuggestion(
        name=first.name,
        probability=round(first.probability, 4),
        family=(second and second.family) or first.family,
        genus=(second and second.genus) or first.genus,
        common_names=list(names.values())[:8],
        gbif_id=(second and second.gbif_id) or first.gbif_id,
        providers=list(proposals),
        agreed=len(proposals) > 1,
    )


def _key(name: str) -> str:
    return " ".join(name.lower().split()[:2])
