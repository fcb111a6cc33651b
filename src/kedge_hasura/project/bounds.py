"""Whether a file we read lies outside the folder the project reads it from.

A symlinked `up.sql` or an `!include ../../outside.yaml` makes the project depend on a file that
its repository does not hold, and that a review of the project does not show. The Hasura CLI
reads such files without a word; we read them too, but say so (a warning), and `check` reports
them as errors unless `file-outside-project` is in `kedge: check: ignore` of config.yaml.

A file counts as inside when its real path (links followed) is under the real path of the folder
it is read from: a symlinked database or metadata folder is the project's own choice, and the
files in its target are inside it.
"""

from __future__ import annotations

import os
from pathlib import Path

OUTSIDE_CODE = "file-outside-project"


def is_outside(path: Path, folder: Path) -> bool:
    """True when `path`, links followed, is not under `folder`, links followed."""
    real = Path(os.path.realpath(path))
    return not real.is_relative_to(os.path.realpath(folder))
