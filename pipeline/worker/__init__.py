"""The stream worker: faust agents wiring ingest, enrich and index together."""
