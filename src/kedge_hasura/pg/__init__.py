"""Direct PostgreSQL: scratch servers and databases, replay, catalog reads, pg_dump.

The only package that imports psycopg or runs subprocesses.
"""
