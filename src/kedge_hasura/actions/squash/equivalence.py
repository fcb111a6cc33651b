"""SquashNotEquivalent: the verdict of a squash whose result differs from the originals'."""

from __future__ import annotations

from kedge_hasura.errors import KedgeError
from kedge_hasura.schemadiff.compare import SchemaDiff
from kedge_hasura.schemadiff.data import DataDiff


class SquashNotEquivalent(KedgeError):
    """The squashed migration does not build the same database as the originals; nothing was written.

    `schema` and `data` hold the comparison, for rendering; their facts are also in `details`
    (the JSON error envelope).
    """

    def __init__(
        self, message: str, *, schema: SchemaDiff, data: DataDiff | None = None, hint: str | None = None
    ):
        details: dict[str, object] = {
            "schema_differences": [d.model_dump(mode="json") for d in schema.differences]
        }
        if data is not None:
            details["data"] = data.model_dump(mode="json")
        super().__init__(message, hint=hint, details=details)
        self.schema = schema
        self.data = data
