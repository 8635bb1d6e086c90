"""The random skeleton of a seeded forum (who posts where, and when), kept in compact arrays."""

from __future__ import annotations

import random
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import accumulate

DAY_S = 86_400
ACTIVITY_WINDOW_S = 90 * DAY_S
SIGNUP_WINDOW_S = 365 * DAY_S
# 1.1 gives a handful of power users and busy boards; topics get a milder skew so one
# megathread does not swallow a tenth of all replies.
PEOPLE_SKEW = 1.1
TOPIC_SKEW = 0.6
UNAPPROVED_TOPIC_SHARE = 0.03
_DRAW_CHUNK = 65_536


@dataclass(frozen=True)
class Sizes:
    """How many rows of each kind to seed."""

    users: int
    forums: int
    topics: int
    posts: int

    def validate(self) -> None:
        """Raise ValueError naming the first argument that cannot produce a consistent forum."""
        for name, value in vars(self).items():
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        if self.users < 1:
            raise ValueError("users must be >= 1")
        if self.posts >= 1 and self.topics < 1:
            raise ValueError("topics must be >= 1 when posts >= 1")
        if self.topics >= 1 and self.forums < 1:
            raise ValueError("forums must be >= 1 when topics >= 1")
        if self.posts < self.topics:
            raise ValueError("posts must be >= topics: every topic opens with its author's post")


class Skewed:
    """Draws from ids so that a seeded few come up far more often (weight ∝ 1/rank^skew)."""

    def __init__(self, rng: random.Random, ids: Iterable[int], *, skew: float) -> None:
        self.population = list(ids)
        rng.shuffle(self.population)
        ranks = range(1, len(self.population) + 1)
        self.cum_weights = list(accumulate(rank**-skew for rank in ranks))

    def draw(self, rng: random.Random, k: int) -> list[int]:
        """`k` ids drawn with replacement."""
        if k == 0:
            return []
        return rng.choices(self.population, cum_weights=self.cum_weights, k=k)


def stream(seed: int, name: str) -> random.Random:
    """An independent generator per concern, so changing one table never reshuffles another."""
    return random.Random(f"greenhouse-seed:{seed}:{name}")


def ids_array(n: int) -> array[int]:
    """Zeros indexed by id 1..n (slot 0 unused)."""
    return array("q", [0]) * (n + 1)


@dataclass
class Plan:
    """Per-user and per-topic facts that several tables need; ages are whole seconds before now."""

    sizes: Sizes
    seed: int
    now: datetime
    authors: Skewed
    user_age_s: array[int]
    user_forum: array[int] = field(init=False)
    user_latest_topic_age_s: array[int] = field(init=False)
    topic_forum: array[int] = field(init=False)
    topic_user: array[int] = field(init=False)
    topic_age_s: array[int] = field(init=False)
    topic_replies: array[int] = field(init=False)
    topic_approved: bytearray = field(init=False)

    def __post_init__(self) -> None:
        users, topics = self.sizes.users, self.sizes.topics
        self.user_forum = ids_array(users)
        self.user_latest_topic_age_s = ids_array(users)
        self.topic_forum = ids_array(topics)
        self.topic_user = ids_array(topics)
        self.topic_age_s = ids_array(topics)
        self.topic_replies = ids_array(topics)
        self.topic_approved = bytearray(topics + 1)


def make_plan(sizes: Sizes, *, seed: int, now: datetime) -> Plan:
    """Decide account ages, each topic's forum, author, age and reply count."""
    rng = stream(seed, "plan")
    authors = Skewed(rng, range(1, sizes.users + 1), skew=PEOPLE_SKEW)
    boards = Skewed(rng, range(1, sizes.forums + 1), skew=PEOPLE_SKEW)
    user_age_s = ids_array(sizes.users)
    for user_id in range(1, sizes.users + 1):
        user_age_s[user_id] = int(rng.random() * SIGNUP_WINDOW_S)
    plan = Plan(sizes, seed, now, authors, user_age_s)
    _place_topics(rng, plan, boards)
    _count_replies(rng, plan, replies=sizes.posts - sizes.topics)
    return plan


def _place_topics(rng: random.Random, plan: Plan, boards: Skewed) -> None:
    n = plan.sizes.topics
    drawn = zip(boards.draw(rng, n), plan.authors.draw(rng, n), strict=True)
    # A topic is never older than its author's account.
    topics = [
        (int(rng.random() * min(ACTIVITY_WINDOW_S, plan.user_age_s[u])), f, u) for f, u in drawn
    ]
    topics.sort(reverse=True)  # oldest first, so topic ids follow time like a real forum's
    for topic_id, (age_s, forum_id, user_id) in enumerate(topics, start=1):
        plan.topic_age_s[topic_id] = age_s
        plan.topic_forum[topic_id] = forum_id
        plan.topic_user[topic_id] = user_id
        plan.topic_approved[topic_id] = rng.random() >= UNAPPROVED_TOPIC_SHARE
        plan.user_forum[user_id] = forum_id
        plan.user_latest_topic_age_s[user_id] = age_s


def _count_replies(rng: random.Random, plan: Plan, *, replies: int) -> None:
    if replies == 0:
        return
    topics = range(1, plan.sizes.topics + 1)
    # Topics awaiting moderation are hidden, so nobody has replied to them yet.
    open_ = [t for t in topics if plan.topic_approved[t]] or list(topics)
    popular = Skewed(rng, open_, skew=TOPIC_SKEW)
    while replies:
        chunk = min(replies, _DRAW_CHUNK)
        for topic_id in popular.draw(rng, chunk):
            plan.topic_replies[topic_id] += 1
        replies -= chunk
