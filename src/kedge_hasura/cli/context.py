"""AppContext: what every command gets through `ctx.obj`, built once by the root callback.

It finds the project, resolves settings once (flag > environment > .env > config.yaml >
default) after the project was looked for, and builds collaborators (the scratch cluster, the
Hasura client) on first use, so a command that needs neither never looks for a project.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedge_hasura.errors import ExitCode, FailedAfterChanges, Interrupted, ProjectError, UsageError
from kedge_hasura.project.fingerprint import Fingerprint, changes, fingerprint
from kedge_hasura.render.output import Output, R
from kedge_hasura.settings import (
    ENVIRONMENT_VARIABLES,
    OutputFormat,
    Settings,
    SettingsLayer,
    SettingsReport,
    Verbosity,
    layer_from_environment,
    resolve_settings,
    settings_report,
)

if TYPE_CHECKING:
    from kedge_hasura.hasura.client import HasuraClient
    from kedge_hasura.pg.scratch import ScratchCluster
    from kedge_hasura.project.layout import Project


# Commands whose result lists config.yaml's findings; the others warn about them on stderr.
_REPORT_CONFIG_FINDINGS = {"status", "check"}
# Commands that may write into the project (deploy: --track-untracked writes table files); an
# interruption compares the tree with its fingerprint taken when the project was opened.
_PROJECT_WRITERS = {"squash", "archive", "deploy"}


@dataclass(frozen=True)
class GlobalOptions:
    """The root command's options as typed; None means "not given", so a lower layer decides."""

    project_dir: Path | None = None
    endpoint: str | None = None
    admin_secret: str | None = None
    database: str | None = None
    output: OutputFormat | None = None
    verbosity: Verbosity = Verbosity.NORMAL
    no_color: bool | None = None
    scratch_url: str | None = None
    pg_version: int | None = None
    pg_bindir: Path | None = None
    hasura_preconditions: bool | None = None
    timeout: float | None = None
    insecure_skip_tls_verify: bool | None = None
    certificate_authority: Path | None = None
    envfile: Path | None = None  # where the `.env` layer comes from, not a setting itself

    def layer(self) -> SettingsLayer:
        """The command-line layer of the settings: the options that were given."""
        given = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "envfile"}
        return SettingsLayer(
            "command line", {name: value for name, value in given.items() if value is not None}
        )


@dataclass
class AppContext:
    options: GlobalOptions
    output: Output
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: Path = field(default_factory=Path.cwd)
    command: str = ""
    _project: Project | None = None
    _settings: Settings | None = None
    _fingerprint: Fingerprint | None = None  # the project tree when opened (commands that write it)
    # What the server holds if a Ctrl-C comes now (None: nothing was changed there).
    server_outcome: str | None = None
    _hasura: HasuraClient | None = None

    @classmethod
    def create(cls, options: GlobalOptions, environ: dict[str, str] | None = None) -> AppContext:
        """Build the context and its Output before anything is validated.

        Settings are checked afterwards (`validate()`), so that even a bad flag or environment
        value is reported through the Output: as a JSON envelope with --output json, and with the
        admin secret masked wherever it appears.
        """
        environ = dict(os.environ) if environ is None else environ
        candidates = [options.admin_secret]
        candidates += [environ.get(name) for name in ENVIRONMENT_VARIABLES["admin_secret"]]
        output = Output(
            output_format=_provisional_format(options, environ),
            verbosity=options.verbosity,
            no_color=bool(options.no_color),
            secrets=tuple(str(secret) for secret in candidates if secret),
        )
        return cls(options=options, output=output, environ=environ)

    def validate(self) -> None:
        """Check the flags and the environment now, before any project is looked for.

        Raises:
            UsageError: a flag or environment value does not fit its setting.
        """
        self._mask_secrets(resolve_settings(self._layers(None)))

    def project(self) -> Project:
        """The Hasura project (found upward from the cwd, or --project).

        Raises:
            ProjectError: none found, or config.yaml is invalid.
        """
        if self._project is None:
            self._open(self._project_root())
            assert self._project is not None
        return self._project

    def _project_root(self) -> Path:
        """Raises ProjectError: no project found."""
        from kedge_hasura.project.layout import find_project_root

        explicit = self.options.project_dir or self.environ.get("KEDGE_PROJECT")
        return find_project_root(self.cwd, Path(explicit) if explicit else None)

    def _open(self, root: Path) -> None:
        from kedge_hasura.project.layout import open_project

        self._project = open_project(root)
        if self.command in _PROJECT_WRITERS:
            self._fingerprint = fingerprint(self._project.root)
        if self.command not in _REPORT_CONFIG_FINDINGS:
            for finding in self._project.config.findings:
                self.output.warn(f"{finding.location()}: {finding.message}")

    def has_project(self) -> bool:
        """True when a project can be found (without raising)."""
        from kedge_hasura.errors import ProjectError

        try:
            self.project()
        except ProjectError:
            return False
        return True

    def settings(self) -> Settings:
        """The settings of this invocation, resolved once, after the project was looked for.

        With a project, its `.env` and config.yaml are layers below flags and environment;
        without one (a `diff` of two .sql files outside any project), flags and environment
        alone decide.

        Raises:
            ProjectError: the project found is invalid (config.yaml, .env).
            UsageError: a value does not fit its setting.
        """
        if self._settings is None:
            if self._project is None:
                try:
                    root: Path | None = self._project_root()
                except ProjectError:
                    root = None  # the same lookup fails again in project() for commands needing one
                if root is not None:
                    self._open(root)
            self._settings = resolve_settings(self._layers(self._project))
            self._mask_secrets(self._settings)
            # KEDGE_OUTPUT and NO_COLOR count from `.env` too, as every other setting does.
            self.output.reconfigure(output_format=self._settings.output, no_color=self._settings.no_color)
            for notice in self._settings.notices:  # e.g. a line break cut from the admin secret
                self.output.warn(notice)
        return self._settings

    @contextmanager
    def server_write(self, what: str) -> Iterator[None]:
        """Around a request that changes the server: a Ctrl-C inside cannot tell whether it took."""
        self.server_outcome = f"unknown whether {what} was saved: `kedge-hasura state show` tells"
        yield
        self.server_outcome = f"{what} was saved before the interruption"

    def interruption(self) -> Interrupted:
        """Ctrl-C: the step it interrupted, and exactly what changed (the project tree compared
        with its fingerprint; the server as the command left `server_outcome`)."""
        during = self.output.interrupted_during
        message = "interrupted" + (f" while {during[:1].lower()}{during[1:]}" if during else "")
        details: dict[str, Any] = {}
        found: list[str] = []
        if self._project is not None:
            if self._fingerprint is not None:
                found = changes(self._fingerprint, fingerprint(self._project.root))
            details["project"] = found or "unchanged"
        if self._hasura is not None or self.server_outcome is not None:  # squash never contacts one
            details["server"] = self.server_outcome or "unchanged"
        if not found and self.server_outcome is None:
            return Interrupted(f"{message}; nothing was changed", changed=False, details=details)
        count = "1 change" if len(found) == 1 else f"{len(found)} changes"
        parts = [f"{count} in the project, e.g. {found[0]}"] if found else []
        parts += [self.server_outcome] if self.server_outcome else []
        return Interrupted(
            f"{message}; {'; '.join(parts)}",
            changed=True,
            hint="review the changes listed below before running the command again" if found else None,
            details=details,
        )

    def settings_report(self) -> SettingsReport:
        """Which files supplied which settings, values masked (`status -v`)."""
        settings = self.settings()
        files: dict[str, str] = {}
        if self._project is not None:
            envfile = self.options.envfile
            dotenv = self._project.dotenv_path if envfile is None else self._project.root / envfile
            files["config.yaml"] = str(self._project.config.path)
            label = ".env" if envfile is None else str(envfile)
            files[label] = str(dotenv) if dotenv.is_file() else "not found"
        found = str(self._project.root) if self._project is not None else None
        return settings_report(settings, files=files, project=found)

    def _mask_secrets(self, settings: Settings) -> None:
        if settings.admin_secret is not None:
            self.output.add_secret(settings.admin_secret.get_secret_value())
        if settings.scratch_url is not None:
            self.output.add_secret(settings.scratch_url.get_secret_value())

    def _layers(self, project: Project | None) -> list[SettingsLayer]:
        layers = [self.options.layer(), layer_from_environment("environment", self.environ)]
        if project is not None:
            envfile = self.options.envfile
            label = ".env" if envfile is None else str(envfile)
            layers.append(layer_from_environment(label, project.dotenv(envfile)))
            layers.append(SettingsLayer("config.yaml", project.config.settings_values()))
        return layers

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

    def show_partial(self, error: FailedAfterChanges, *, text: Callable[[Any], list[str]]) -> None:
        """What a command did before it failed after changing the server, on stdout as a result
        would be (JSON: the error's envelope carries it), before the error itself on stderr."""
        if error.partial is not None and self.output.format is OutputFormat.TEXT:
            for line in text(error.partial):
                self.output.out.print(self.output.redact(line))

    def finish(
        self,
        result: R,
        *,
        ok: bool,
        text: Callable[[R], list[str]],
        preformatted: Mapping[OutputFormat, Callable[[R], str]] | None = None,
    ) -> ExitCode:
        """Emit a command's result and return its exit code (0 ok, 1 problems found).

        Every command passes its own renderer: `text` for humans (JSON needs none), and for the
        formats only it offers (`check`: GitHub annotations, JUnit XML) one in `preformatted`.
        """
        allowed = (OutputFormat.TEXT, OutputFormat.JSON, *(preformatted or {}))
        if self.output.format not in allowed:
            raise UsageError(
                f"--output {self.output.format.value} is not available for {self.command}",
                hint=f"use one of: {', '.join(f.value for f in allowed)}",
            )
        exit_code = ExitCode.OK if ok else ExitCode.CHECK_FAILED
        self.output.emit(
            self.command, result, ok=ok, exit_code=exit_code, text=text, preformatted=preformatted
        )
        return exit_code


def _provisional_format(options: GlobalOptions, environ: dict[str, str]) -> OutputFormat:
    """The output format before validation: a bad value falls back to text (and fails later)."""
    value = options.output or environ.get("KEDGE_OUTPUT") or OutputFormat.TEXT
    try:
        return OutputFormat(value)
    except ValueError:
        return OutputFormat.TEXT
