"""`check`: one module per family of checks, the code catalogue (codes) and the run that combines them."""
