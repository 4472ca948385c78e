"""The local Kafka (KRaft) and Elasticsearch stack, started from Maven Central artifacts."""
