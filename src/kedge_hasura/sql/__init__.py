"""SQL text: statements (libpg_query through postgast), pg_dump output, and quoting. No I/O."""
