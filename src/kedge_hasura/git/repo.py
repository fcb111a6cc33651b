"""A git repository read through the `git` command: resolve revisions, export a commit's folder."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from kedge_hasura.errors import GitError, UsageError

_FETCH_HINT = (
    "fetch more history (`git fetch --unshallow`, or `fetch-depth: 0` in actions/checkout), "
    "or name the base with --base"
)


@dataclass(frozen=True)
class GitRepo:
    root: Path  # the work tree's top level

    @classmethod
    def containing(cls, path: Path) -> GitRepo:
        """The repository whose work tree holds `path`.

        Raises:
            GitError: git is not installed, or `path` is not inside a git work tree.
        """
        out = _git(path, "rev-parse", "--show-toplevel", what=f"find the git repository of {path}")
        return cls(Path(out.strip()))

    def run(self, *args: str, what: str) -> str:
        return _git(self.root, *args, what=what)

    def commit_of(self, ref: str) -> str:
        """The commit a revision names.

        Raises:
            UsageError: the revision is unknown here (with a fetch hint on a shallow clone).
        """
        try:
            return self.run(
                "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", what=f"resolve {ref}"
            ).strip()
        except GitError:
            hint = (
                _FETCH_HINT if self.is_shallow() else "name a branch, tag or commit that exists in this clone"
            )
            raise UsageError(f"git revision {ref!r} is not known in {self.root}", hint=hint) from None

    def is_shallow(self) -> bool:
        return (
            self.run("rev-parse", "--is-shallow-repository", what="check for a shallow clone").strip()
            == "true"
        )

    def default_branch(self) -> str:
        """The remote default branch as `origin/HEAD` names it (origin/main).

        Raises:
            UsageError: origin/HEAD is not set.
        """
        try:
            ref = self.run(
                "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD", what="read origin/HEAD"
            ).strip()
        except GitError:
            hint = "name the base with --base REF, or run `git remote set-head origin --auto`"
            raise UsageError(
                "origin/HEAD is not set, so the default base is unknown",
                hint=f"{_FETCH_HINT}; or {hint}" if self.is_shallow() else hint,
            ) from None
        return ref.removeprefix("refs/remotes/")

    def merge_base(self, a: str, b: str) -> str:
        """The merge base of two revisions.

        Raises:
            UsageError: they have none in this clone (a shallow clone without the base).
        """
        try:
            return self.run("merge-base", a, b, what=f"find the merge base of {a} and {b}").strip()
        except GitError:
            hint = (
                _FETCH_HINT
                if self.is_shallow()
                else f"name the base with --base REF ({a} and {b} share no history)"
            )
            raise UsageError(f"no merge base of {a} and {b} in this clone", hint=hint) from None

    def has_path(self, commit: str, path: str) -> bool:
        out = self.run(
            "ls-tree",
            "--name-only",
            commit,
            "--",
            path.rstrip("/") or ".",
            what=f"list {path} at {commit[:12]}",
        )
        return bool(out.strip())

    def export(self, commit: str, path: str, destination: Path) -> Path:
        """Write the folder `path` (relative to the top level) of `commit` under `destination`.

        Uses `git archive`, so nothing is written to the repository or its work tree.

        Raises:
            GitError: git failed.
        """
        data = _git_bytes(
            self.root,
            "archive",
            "--format=tar",
            commit,
            "--",
            path or ".",
            what=f"export {path} at {commit[:12]}",
        )
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            archive.extractall(destination, filter="data")
        return destination / path


def _git(cwd: Path, *args: str, what: str) -> str:
    return _git_bytes(cwd, *args, what=what).decode("utf-8", errors="replace")


def _git_bytes(cwd: Path, *args: str, what: str) -> bytes:
    executable = shutil.which("git")
    if executable is None:
        raise GitError(f"cannot {what}: git is not installed", hint="install git or put it on PATH")
    completed = subprocess.run([executable, *args], cwd=cwd, capture_output=True, check=False)
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise GitError(f"cannot {what}: git {args[0]} failed" + (f": {message[-1]}" if message else ""))
    return completed.stdout
