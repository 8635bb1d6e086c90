"""Moderation: spam scores with their reasons, duplicate detection and the review queue."""
