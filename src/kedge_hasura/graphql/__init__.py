"""Each role's GraphQL API as Hasura v2 derives it from a schema snapshot and the metadata (pure: no I/O)."""
