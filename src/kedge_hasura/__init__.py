"""kedge-hasura: keep Hasura v2 migrations and metadata healthy."""

__version__ = "0.1.0"
