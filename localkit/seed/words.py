"""Plant-themed words for seeded forum names, topic titles and post sentences."""

from __future__ import annotations

from random import Random

FORUM_THEMES = (
    "Houseplants",
    "Succulents & cacti",
    "Orchids",
    "Bonsai",
    "Carnivorous plants",
    "Vegetable garden",
    "Herbs",
    "Fruit trees",
    "Roses",
    "Ferns & mosses",
    "Tropical plants",
    "Plant identification",
    "Pests & diseases",
    "Propagation",
    "Hydroponics",
    "Composting & soil",
    "Native plants",
    "Ponds & aquatic plants",
    "Seed swap",
    "Garden design",
    "Balcony gardening",
    "Greenhouse growing",
    "Bulbs",
    "Trees & shrubs",
    "Lawn care",
)
FORUM_QUALIFIERS = (
    "Beginners",
    "Advanced",
    "Show & tell",
    "Q&A",
    "Europe",
    "North America",
    "Asia-Pacific",
    "Marketplace",
)
PLANTS = (
    "Monstera",
    "pothos",
    "fiddle-leaf fig",
    "snake plant",
    "aloe vera",
    "calathea",
    "peace lily",
    "tomatoes",
    "basil",
    "lavender",
    "phalaenopsis",
    "jade plant",
    "echeveria",
    "Venus flytrap",
    "juniper bonsai",
    "Boston fern",
    "rosemary",
    "chilli peppers",
    "strawberries",
    "hydrangea",
    "climbing rose",
    "tulips",
    "olive tree",
    "lemon tree",
    "string of pearls",
    "hoya",
    "philodendron",
    "ZZ plant",
    "begonia",
    "mint",
)
TITLE_TEMPLATES = (
    "Help with my {}",
    "Yellow leaves on {}?",
    "Best soil for {}",
    "Show off your {}",
    "Repotting {}: when and how?",
    "Brown tips on {}",
    "{} not flowering",
    "Propagating {} from cuttings",
    "Is my {} overwatered?",
    "Tiny pests on {}",
    "Winter care for {}",
    "First {}, any tips?",
)
_OPENERS = (
    "Mine recovered",
    "Mine did the same",
    "The new leaves came back",
    "I had the same trouble",
    "Ours started flowering",
    "The roots looked healthy",
    "The spots cleared up",
    "It grew twice as fast",
    "Mine dropped a few leaves",
    "The cuttings rooted",
)
_CLOSERS = (
    "after I moved it to a brighter window.",
    "once I cut back on watering.",
    "after repotting in a chunkier mix.",
    "within a couple of weeks.",
    "when the nights got warmer.",
    "after a dose of diluted fertiliser.",
    "once I raised the humidity.",
    "after I treated it for pests.",
)
SENTENCES = tuple(f"{opener} {closer}" for opener in _OPENERS for closer in _CLOSERS)
# A few posts in five hundred are spam, for moderation to find (deterministic like the rest).
SPAM_SHARE = 0.002
_SPAM = (
    "BUY NOW!!! Cheap {plant} seeds, free shipping: http://seeds-{n}.example http://deal.example",
    "Best casino bonus of {n} free spins, visit my site www.spins-{n}.example",
    "Earn ${n}00 a day with crypto, whatsapp +44{n}",
    "Order now {plant} pills, free shipping worldwide http://pills-{n}.example",
)


def post_text(rng: Random) -> str:
    """A reply: two or three sentences on a plant, varied enough that copies are rare; now and
    then spam."""
    plant = rng.choice(PLANTS)
    if rng.random() < SPAM_SHARE:
        return rng.choice(_SPAM).format(plant=plant, n=rng.randrange(10, 99))
    sentences = rng.sample(SENTENCES, rng.choice((2, 2, 3)))
    return f"{' '.join(sentences)} ({plant}, day {rng.randrange(1, 120)})"


def forum_name(forum_id: int) -> str:
    """A unique forum name: each theme first alone, then with a qualifier (and a number)."""
    theme = FORUM_THEMES[(forum_id - 1) % len(FORUM_THEMES)]
    round_ = (forum_id - 1) // len(FORUM_THEMES)
    if round_ == 0:
        return theme
    qualifier = FORUM_QUALIFIERS[(round_ - 1) % len(FORUM_QUALIFIERS)]
    repeat = (round_ - 1) // len(FORUM_QUALIFIERS)
    return f"{theme}: {qualifier}" + (f" {repeat + 1}" if repeat else "")


def topic_title(rng: Random) -> str:
    """A plausible thread title about one plant."""
    title = rng.choice(TITLE_TEMPLATES).format(rng.choice(PLANTS))
    return title[0].upper() + title[1:]
