"""Elasticsearch mapping, bulk sink and reindex."""
