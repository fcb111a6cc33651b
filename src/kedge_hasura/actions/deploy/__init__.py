"""`deploy`, `rollback`, `verify`, `state`: plan, apply, ledger, metadata and the catalog state."""
