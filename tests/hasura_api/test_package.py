"""The package's public names are exactly `__all__`, each importable (httpx's convention)."""

from __future__ import annotations

import kedge_hasura.hasura as package


def test_public_names_are_exactly_all() -> None:
    public = {name for name in vars(package) if not name.startswith("_")}
    modules = {"cli_state", "client", "models", "version"}
    assert public - modules == set(package.__all__)
    assert all(getattr(package, name) is not None for name in package.__all__)
