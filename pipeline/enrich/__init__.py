"""Entities, deduplication and linking: what a report tells beyond its text."""
