"""Row streams for each forum table, generated lazily from a Plan so memory stays flat."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from localkit.seed.plan import Plan, stream
from localkit.seed.words import forum_name, post_text, topic_title

Row = tuple[Any, ...]

COLUMNS = {
    "forums": ("id", "name", "parent_id"),
    "users": ("id", "username", "is_active", "created_at", "last_seen_at", "last_seen_forum_id"),
    "topics": ("id", "forum_id", "user_id", "title", "approved", "created_at"),
    "posts": ("id", "topic_id", "forum_id", "user_id", "approved", "created_at", "content"),
}
SUBFORUM_SHARE = 0.2
ACTIVE_SHARE = 0.9
RECENTLY_SEEN_SHARE = 0.02
RECENT_S = 15 * 60
# Of the users who never opened a topic, this many have logged in at all.
LURKERS_SEEN_SHARE = 0.75
UNAPPROVED_POST_SHARE = 0.05


def forum_rows(plan: Plan) -> Iterator[Row]:
    """Forums; about a fifth nest under an earlier top-level forum."""
    rng = stream(plan.seed, "forums")
    top_level: list[int] = []
    for forum_id in range(1, plan.sizes.forums + 1):
        parent_id = None
        if top_level and rng.random() < SUBFORUM_SHARE:
            parent_id = rng.choice(top_level)
        else:
            top_level.append(forum_id)
        yield forum_id, forum_name(forum_id), parent_id


def user_rows(plan: Plan) -> Iterator[Row]:
    """Users `user{id}`; ~2% seen in the last 15 minutes, in a forum where they opened a topic."""
    rng = stream(plan.seed, "users")
    authors = [u for u in range(1, plan.sizes.users + 1) if plan.user_forum[u]]
    wanted = max(1, round(plan.sizes.users * RECENTLY_SEEN_SHARE))
    recent = set(rng.sample(authors, min(wanted, len(authors))))
    for user_id in range(1, plan.sizes.users + 1):
        seen_age_s = _seen_age_s(plan, rng, user_id, recent=user_id in recent)
        active = user_id in recent or rng.random() < ACTIVE_SHARE
        seen = None if seen_age_s is None else plan.now - timedelta(seconds=seen_age_s)
        created = plan.now - timedelta(seconds=plan.user_age_s[user_id])
        yield user_id, f"user{user_id}", active, created, seen, plan.user_forum[user_id] or None


def _seen_age_s(plan: Plan, rng: random.Random, user_id: int, *, recent: bool) -> int | None:
    # Last seen no earlier than the user's latest topic (or sign-up), and never in the future.
    if plan.user_forum[user_id]:
        latest_s = plan.user_latest_topic_age_s[user_id]
    elif rng.random() < LURKERS_SEEN_SHARE:
        latest_s = plan.user_age_s[user_id]
    else:
        return None
    if recent or latest_s <= RECENT_S:
        return int(rng.random() * min(latest_s, RECENT_S))
    return RECENT_S + int(rng.random() * (latest_s - RECENT_S))


def topic_rows(plan: Plan) -> Iterator[Row]:
    """Topics in creation order; ~3% await approval."""
    rng = stream(plan.seed, "topics")
    for topic_id in range(1, plan.sizes.topics + 1):
        yield (
            topic_id,
            plan.topic_forum[topic_id],
            plan.topic_user[topic_id],
            topic_title(rng),
            bool(plan.topic_approved[topic_id]),
            plan.now - timedelta(seconds=plan.topic_age_s[topic_id]),
        )


def post_rows(plan: Plan) -> Iterator[Row]:
    """Posts topic by topic: the author's opening post, then replies in time order."""
    rng = stream(plan.seed, "posts")
    post_id = 0
    for topic_id in range(1, plan.sizes.topics + 1):
        forum_id = plan.topic_forum[topic_id]
        topic_approved = bool(plan.topic_approved[topic_id])
        for age_s, user_id in _thread(plan, rng, topic_id):
            post_id += 1
            # Posts in a topic awaiting moderation are hidden with it.
            approved = rng.random() >= UNAPPROVED_POST_SHARE and topic_approved
            created = plan.now - timedelta(seconds=age_s)
            yield post_id, topic_id, forum_id, user_id, approved, created, post_text(rng)


def _thread(plan: Plan, rng: random.Random, topic_id: int) -> list[tuple[int, int]]:
    topic_age_s, author = plan.topic_age_s[topic_id], plan.topic_user[topic_id]
    n = plan.topic_replies[topic_id]
    # Cubing bunches replies soon after the topic opens, as discussions do.
    ages = sorted(
        (topic_age_s - int(topic_age_s * rng.random() ** 3) for _ in range(n)), reverse=True
    )
    # A drawn replier whose account is younger than the reply hands it to the topic's author.
    users = [
        u if plan.user_age_s[u] >= a else author
        for u, a in zip(plan.authors.draw(rng, n), ages, strict=True)
    ]
    return [(topic_age_s, author), *zip(ages, users, strict=True)]
