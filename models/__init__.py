"""The store: SQLModel tables, engine and sessions, read queries and write services."""
