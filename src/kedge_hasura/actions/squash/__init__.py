"""`squash`, `squash --check` and archives: one module per step (plan, steps, strategies, verify)."""
