"""AppContext: what every command gets through `ctx.obj`, built once by the root callback.

It resolves settings (flag > environment > .env > config.yaml > default), finds the project,
and builds collaborators (the scratch cluster, later the Hasura client) on first use, so a
command that needs no project never looks for one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedge_hasura.errors import ExitCode, UsageError
from kedge_hasura.render.output import Output
from kedge_hasura.settings import (
    ENVIRONMENT_VARIABLES,
    OutputFormat,
    Settings,
    SettingsLayer,
    layer_from_environment,
    resolve_settings,
)

if TYPE_CHECKING:
    from pydantic import BaseModel

    from kedge_hasura.hasura.client import HasuraClient
    from kedge_hasura.pg.scratch import ScratchCluster
    from kedge_hasura.project.layout import Project


# Commands whose result lists config.yaml's findings; the others warn about them on stderr.
_REPORT_CONFIG_FINDINGS = {"status", "check"}


@dataclass
class AppContext:
    flags: dict[str, Any]
    output: Output
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: Path = field(default_factory=Path.cwd)
    command: str = ""
    _project: Project | None = None
    _settings: Settings | None = None
    _hasura: HasuraClient | None = None

    @classmethod
    def create(cls, flags: dict[str, Any], environ: dict[str, str] | None = None) -> AppContext:
        """Build the context and its Output before anything is validated.

        Settings are resolved afterwards (`settings()`), so that even a bad flag or environment
        value is reported through the Output: as a JSON envelope with --output json, and with the
        admin secret masked wherever it appears.
        """
        environ = dict(os.environ) if environ is None else environ
        candidates = [flags.get("admin_secret")]
        candidates += [environ.get(name) for name in ENVIRONMENT_VARIABLES["admin_secret"]]
        output = Output(
            output_format=_provisional_format(flags, environ),
            verbosity=int(flags.get("verbosity", 0)),
            no_color=bool(flags.get("no_color")),
            secrets=tuple(str(secret) for secret in candidates if secret),
        )
        return cls(flags=flags, output=output, environ=environ)

    def project(self) -> Project:
        """The Hasura project (found upward from the cwd, or --project).

        Raises:
            ProjectError: none found, or config.yaml is invalid.
        """
        if self._project is None:
            from kedge_hasura.project.layout import find_project_root, open_project

            explicit = self.flags.get("project_dir") or self.environ.get("KEDGE_PROJECT")
            root = find_project_root(self.cwd, Path(explicit) if explicit else None)
            self._project = open_project(root)
            self._settings = None  # re-resolve with the project's .env and config.yaml
            if self.command not in _REPORT_CONFIG_FINDINGS:
                for finding in self._project.config.findings:
                    self.output.warn(f"{finding.location()}: {finding.message}")
        return self._project

    def has_project(self) -> bool:
        """True when a project can be found (without raising)."""
        from kedge_hasura.errors import ProjectError

        try:
            self.project()
        except ProjectError:
            return False
        return True

    def settings(self) -> Settings:
        """Settings with every layer; includes the project's layers once a project was opened."""
        if self._settings is None:
            layers = [
                SettingsLayer("command line", self.flags),
                layer_from_environment("environment", self.environ),
            ]
            if self._project is not None:
                layers.append(layer_from_environment(".env", self._project.dotenv()))
                layers.append(SettingsLayer("config.yaml", self._project.config.settings_values()))
            self._settings = resolve_settings(layers)
            for notice in self._settings.notices:
                if notice not in self.output.warnings:  # settings are resolved again once a project is found
                    self.output.warn(notice)
            if self._settings.admin_secret is not None:
                self.output.add_secret(self._settings.admin_secret.get_secret_value())
            if self._settings.scratch_url is not None:
                self.output.add_secret(self._settings.scratch_url.get_secret_value())
        return self._settings

    def scratch_cluster(self) -> ScratchCluster:
        """A scratch cluster configured from settings (not started; use it as a context manager)."""
        from kedge_hasura.pg.binaries import choose_installation
        from kedge_hasura.pg.scratch import ScratchCluster

        settings = self.settings()
        scratch_url = settings.scratch_url.get_secret_value() if settings.scratch_url else None
        installation = None
        if scratch_url is None:
            installation = choose_installation(pg_version=settings.pg_version, bindir=settings.pg_bindir)
            if installation.is_embedded:
                self.output.detail(
                    "using the embedded PostgreSQL 18 (no system PostgreSQL found); "
                    "it lacks pgcrypto and uuid-ossp"
                )
        return ScratchCluster(
            scratch_url=scratch_url,
            installation=installation,
            hasura_preconditions=settings.hasura_preconditions,
        )

    def hasura(self) -> HasuraClient:
        """The Hasura client for this invocation (one connection pool), built from settings."""
        if self._hasura is None:
            from kedge_hasura.hasura.client import HasuraClient

            settings = self.settings()
            verify: bool | str | Path = True
            if settings.insecure_skip_tls_verify:
                verify = False
            elif settings.certificate_authority is not None:
                verify = settings.certificate_authority
            self._hasura = HasuraClient(
                base_url=settings.endpoint,
                admin_secret=settings.admin_secret,
                timeout=settings.timeout,
                verify=verify,
                api_paths=settings.api_paths or None,
                log=self.output.detail,
                require_supported=True,
            )
        return self._hasura

    def hasura_schema_executor(self, database: str) -> Any:
        """A schema-snapshot executor that reads `database` through Hasura's run_sql (read-only)."""
        from kedge_hasura.hasura.schema import RunSqlExecutor

        return RunSqlExecutor(self.hasura(), source=database)

    def close(self) -> None:
        """Release what the invocation opened (the Hasura connection pool)."""
        if self._hasura is not None:
            self._hasura.close()
            self._hasura = None

    def finish(self, result: BaseModel, *, ok: bool, supports: tuple[OutputFormat, ...] = ()) -> ExitCode:
        """Emit a command's result and return its exit code (0 ok, 1 problems found)."""
        allowed = (OutputFormat.TEXT, OutputFormat.JSON, *supports)
        if self.output.format not in allowed:
            raise UsageError(
                f"--output {self.output.format.value} is not available for {self.command}",
                hint=f"use one of: {', '.join(f.value for f in allowed)}",
            )
        exit_code = ExitCode.OK if ok else ExitCode.CHECK_FAILED
        self.output.emit(self.command, result, ok=ok, exit_code=exit_code)
        return exit_code


def _provisional_format(flags: dict[str, Any], environ: dict[str, str]) -> OutputFormat:
    """The output format before validation: a bad value falls back to text (and fails later)."""
    value = flags.get("output") or environ.get("KEDGE_OUTPUT") or OutputFormat.TEXT
    try:
        return OutputFormat(value)
    except ValueError:
        return OutputFormat.TEXT
