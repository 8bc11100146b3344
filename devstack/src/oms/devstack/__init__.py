"""Local Apache Kafka and PostgreSQL for development, tests and the demo, without Docker."""
