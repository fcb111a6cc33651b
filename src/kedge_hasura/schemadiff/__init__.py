"""Compare PostgreSQL schemas: snapshot a database into typed objects, diff two snapshots."""
