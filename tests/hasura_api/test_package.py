"""The package's public names are exactly `__all__`, each importable (httpx's convention)."""

from __future__ import annotations

from types import ModuleType

import kedge_hasura.hasura as package


def test_public_names_are_exactly_all() -> None:
    # Submodules appear as attributes once anything imports them (hasura.schema is imported by
    # check only), so which ones are present depends on test order: leave every module out.
    public = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    assert public == set(package.__all__)
    assert all(getattr(package, name) is not None for name in package.__all__)
