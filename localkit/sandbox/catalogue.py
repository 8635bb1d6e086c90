"""A small built-in catalogue of real plant species, for the sandbox and for tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Species:
    """One accepted species with its authorship, family, English names and GBIF backbone key."""

    name: str
    author: str
    genus: str
    family: str
    common_names: tuple[str, ...]
    gbif_id: int
    powo_id: str = ""  # IPNI id as Pl@ntNet reports it under "powo"; empty when not known

    @property
    def scientific_name(self) -> str:
        """The name with its authorship, e.g. "Bellis perennis L."."""
        return f"{self.name} {self.author}"


# Class and order for each family used below (APG IV, as in the GBIF backbone).
HIGHER_RANKS: dict[str, tuple[str, str]] = {
    "Araceae": ("Liliopsida", "Alismatales"),
    "Araliaceae": ("Magnoliopsida", "Apiales"),
    "Asparagaceae": ("Liliopsida", "Asparagales"),
    "Asteraceae": ("Magnoliopsida", "Asterales"),
    "Crassulaceae": ("Magnoliopsida", "Saxifragales"),
    "Ericaceae": ("Magnoliopsida", "Ericales"),
    "Fagaceae": ("Magnoliopsida", "Fagales"),
    "Hydrangeaceae": ("Magnoliopsida", "Cornales"),
    "Lamiaceae": ("Magnoliopsida", "Lamiales"),
    "Liliaceae": ("Liliopsida", "Liliales"),
    "Moraceae": ("Magnoliopsida", "Rosales"),
    "Oleaceae": ("Magnoliopsida", "Lamiales"),
    "Pinaceae": ("Pinopsida", "Pinales"),
    "Rosaceae": ("Magnoliopsida", "Rosales"),
    "Solanaceae": ("Magnoliopsida", "Solanales"),
    "Strelitziaceae": ("Liliopsida", "Zingiberales"),
    "Urticaceae": ("Magnoliopsida", "Rosales"),
}


def taxonomy(species: Species) -> dict[str, str]:
    """Kingdom down to genus, shaped like Plant.id's `details.taxonomy`."""
    class_, order = HIGHER_RANKS[species.family]
    return {
        "kingdom": "Plantae",
        "phylum": "Tracheophyta",
        "class": class_,
        "order": order,
        "family": species.family,
        "genus": species.genus,
    }


def _species(
    name: str, author: str, family: str, gbif_id: int, names: tuple[str, ...], powo_id: str = ""
) -> Species:
    return Species(name, author, name.split()[0], family, names, gbif_id, powo_id)


# fmt: off
CATALOGUE: tuple[Species, ...] = (
    _species("Taraxacum officinale", "F.H.Wigg.", "Asteraceae", 5394944,
             ("Common dandelion", "Dandelion")),
    _species("Bellis perennis", "L.", "Asteraceae", 3117424,
             ("Common daisy", "Lawn daisy", "English daisy"), "184409-1"),
    _species("Helianthus annuus", "L.", "Asteraceae", 9206251,
             ("Common sunflower", "Sunflower"), "119003-2"),
    _species("Quercus robur", "L.", "Fagaceae", 2878688,
             ("English oak", "Pedunculate oak")),
    _species("Fagus sylvatica", "L.", "Fagaceae", 2882316,
             ("European beech", "Common beech")),
    _species("Rosa canina", "L.", "Rosaceae", 3004014,
             ("Dog rose",)),
    _species("Prunus avium", "(L.) L.", "Rosaceae", 3020791,
             ("Wild cherry", "Sweet cherry"), "30093848-2"),
    _species("Urtica dioica", "L.", "Urticaceae", 5361866,
             ("Stinging nettle", "Common nettle")),
    _species("Hedera helix", "L.", "Araliaceae", 8351737,
             ("Common ivy", "English ivy"), "90723-1"),
    _species("Monstera deliciosa", "Liebm.", "Araceae", 2868241,
             ("Swiss cheese plant", "Split-leaf philodendron"), "87478-1"),
    _species("Epipremnum aureum", "(Linden & André) G.S.Bunting", "Araceae", 2868323,
             ("Golden pothos", "Devil's ivy"), "87014-1"),
    _species("Philodendron hederaceum", "(Jacq.) Schott", "Araceae", 2871003,
             ("Heartleaf philodendron",), "87797-1"),
    _species("Zamioculcas zamiifolia", "(Lodd.) Engl.", "Araceae", 2869014,
             ("ZZ plant", "Zanzibar gem"), "89402-1"),
    _species("Spathiphyllum wallisii", "Regel", "Araceae", 2869680,
             ("Peace lily",), "89011-1"),
    _species("Dracaena trifasciata", "(Prain) Mabb.", "Asparagaceae", 11041822,
             ("Snake plant", "Mother-in-law's tongue"), "77164235-1"),
    _species("Ficus elastica", "Roxb. ex Hornem.", "Moraceae", 5361903,
             ("Rubber plant", "Rubber fig"), "60458499-2"),
    _species("Ficus carica", "L.", "Moraceae", 5361872,
             ("Common fig", "Fig")),
    _species("Lavandula angustifolia", "Mill.", "Lamiaceae", 2925518,
             ("English lavender", "True lavender")),
    _species("Mentha spicata", "L.", "Lamiaceae", 2927175,
             ("Spearmint",), "451162-1"),
    _species("Ocimum basilicum", "L.", "Lamiaceae", 2927096,
             ("Basil", "Sweet basil"), "452874-1"),
    _species("Salvia rosmarinus", "Spenn.", "Lamiaceae", 8276666,
             ("Rosemary",)),
    _species("Solanum lycopersicum", "L.", "Solanaceae", 2930137,
             ("Tomato", "Garden tomato"), "316947-2"),
    _species("Tulipa gesneriana", "L.", "Liliaceae", 5299675,
             ("Garden tulip", "Didier's tulip"), "542923-1"),
    _species("Hydrangea macrophylla", "(Thunb.) Ser.", "Hydrangeaceae", 2985994,
             ("Bigleaf hydrangea", "French hydrangea"), "791637-1"),
    _species("Olea europaea", "L.", "Oleaceae", 5415040,
             ("Olive", "Common olive"), "610675-1"),
    _species("Fraxinus excelsior", "L.", "Oleaceae", 3172358,
             ("European ash", "Common ash")),
    _species("Vaccinium corymbosum", "L.", "Ericaceae", 2882849,
             ("Northern highbush blueberry", "Highbush blueberry"), "261823-2"),
    _species("Strelitzia reginae", "Banks", "Strelitziaceae", 2763116,
             ("Bird of paradise", "Crane flower"), "798194-1"),
    _species("Echeveria elegans", "Rose", "Crassulaceae", 8315197,
             ("Mexican snowball", "White Mexican rose"), "86934-2"),
    _species("Pinus sylvestris", "L.", "Pinaceae", 5285637,
             ("Scots pine",)),
)
# fmt: on
