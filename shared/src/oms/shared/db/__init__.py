"""PostgreSQL: one schema per service, versioned SQL migrations, an asyncpg pool."""
