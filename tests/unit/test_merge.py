"""Merging two providers' answers (pure)."""

from harness.fakes import answer
from services.identification.merge import SourceReport, merge
from services.identification.providers import ProviderAnswer, Suggestion

OK = {"plant_id": SourceReport(status="ok"), "plantnet": SourceReport(status="ok")}


def test_species_both_propose_are_agreed_and_keep_the_lead_probability() -> None:
    result = merge(
        "f",
        {
            "plant_id": answer("plant_id", "Monstera deliciosa", 0.8, "Ficus elastica", 0.1),
            "plantnet": answer("plantnet", "Monstera deliciosa Liebm.", 0.5),
        },
        OK,
    )
    assert [(s.name, s.probability, s.agreed) for s in result.suggestions] == [
        ("Monstera deliciosa", 0.8, True),
        ("Ficus elastica", 0.1, False),
    ]
    assert result.suggestions[0].providers == ["plant_id", "plantnet"]


def test_plantnet_fills_taxonomy_and_common_names_are_merged_without_repeats() -> None:
    lead = Suggestion(name="Ficus elastica", probability=0.7, common_names=("Rubber plant",))
    second = Suggestion(
        name="Ficus elastica Roxb.",
        probability=0.4,
        family="Moraceae",
        genus="Ficus",
        gbif_id=5361935,
        common_names=("rubber plant", "Indian rubber tree"),
    )
    result = merge(
        "f",
        {
            "plant_id": ProviderAnswer(provider="plant_id", is_plant=True, suggestions=(lead,)),
            "plantnet": ProviderAnswer(provider="plantnet", is_plant=True, suggestions=(second,)),
        },
        OK,
    )
    top = result.suggestions[0]
    assert (top.family, top.genus, top.gbif_id) == ("Moraceae", "Ficus", 5361935)
    assert top.common_names == ["Rubber plant", "Indian rubber tree"]


def test_the_lead_provider_decides_whether_it_is_a_plant() -> None:
    result = merge(
        "f",
        {
            "plant_id": answer("plant_id", is_plant=False),
            "plantnet": answer("plantnet", "Hedera helix", 0.3),
        },
        OK,
    )
    assert result.is_plant is False


def test_with_only_the_second_provider_its_answer_stands_alone() -> None:
    sources = {"plant_id": SourceReport(status="failed", reason="x"), "plantnet": OK["plantnet"]}
    result = merge("f", {"plantnet": answer("plantnet", "Hedera helix", 0.3)}, sources)
    assert result.is_plant and [s.name for s in result.suggestions] == ["Hedera helix"]
    assert result.sources["plant_id"].status == "failed"
    assert not result.complete
