"""The command line: the root Typer app, its global options, and `main(argv) -> int`.

`main` is the one place where errors become messages and exit codes (errors.ExitCode):
0 ok · 1 a check found problems · 2 usage · 3 failed, changed nothing · 4 internal error ·
5 failed after changing the server · 130 Ctrl-C.
Commands live one module per command group and only wire options to `actions`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from kedge_hasura import __version__
from kedge_hasura.cli.context import AppContext, GlobalOptions
from kedge_hasura.errors import ExitCode, FailedAfterChanges, KedgeError, UsageError
from kedge_hasura.render.output import Output, ReaderMayLeave
from kedge_hasura.settings import OutputFormat, Verbosity

HELP = """Keep Hasura v2 migrations and metadata healthy.

Exit codes: 0 ok, 1 a check found problems (differences, findings, drift), 2 usage error,
3 operation failed and changed nothing, 4 internal error, 5 failed after changing something on
the server, 130 interrupted.

The scratch PostgreSQL (no option, environment only): KEDGE_SCRATCH_DIR is where its folder goes
(default /dev/shm when it has 2 GiB free, else TMPDIR); KEDGE_INITDB_CACHE=off runs initdb every
time instead of copying a cached cluster; KEDGE_PG_USER is the user it runs as when you are root
(default postgres, else nobody).
"""

app = typer.Typer(
    name="kedge-hasura",
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # never print tracebacks with locals: they can hold the admin secret
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


class _State:
    """Carries the AppContext out of click, so `main` can report errors through it."""

    context: AppContext | None = None
    debug: bool = False


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"kedge-hasura {__version__}\n")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    project: Annotated[
        Path | None,
        typer.Option(
            "--project",
            help="Folder with the Hasura config.yaml "
            "(default: hasura/config.yaml found upward from the current folder).",
            show_default=False,
        ),
    ] = None,
    endpoint: Annotated[
        str | None,
        typer.Option(help="Hasura GraphQL Engine URL [env: HASURA_GRAPHQL_ENDPOINT].", show_default=False),
    ] = None,
    admin_secret: Annotated[
        str | None,
        typer.Option(
            "--admin-secret",
            help="Hasura admin secret [env: HASURA_GRAPHQL_ADMIN_SECRET]; never printed.",
            show_default=False,
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            "--database-name",
            help="Database (Hasura source) to work on [env: KEDGE_DATABASE]; --database-name is the "
            "Hasura CLI's spelling.",
            show_default=False,
        ),
    ] = None,
    envfile: Annotated[
        Path | None,
        typer.Option(
            "--envfile",
            help="Read settings from this file instead of the project's .env; a relative path is "
            "taken from the project folder, as the Hasura CLI does [default: .env].",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        OutputFormat | None,
        typer.Option(
            "--output",
            "-o",
            help="text or json; check also takes github, junit, sarif and gitlab, impact github and markdown "
            "[env: KEDGE_OUTPUT].",
            show_default=False,
        ),
    ] = None,
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose", "-v", count=True, show_default=False, help="More detail on stderr (-vv for debug)."
        ),
    ] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only results and errors.")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colours (also NO_COLOR).")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
    scratch_url: Annotated[
        str | None,
        typer.Option(
            "--scratch-url",
            help="Create scratch databases on this "
            "existing server instead of starting one [env: KEDGE_SCRATCH_URL].",
            show_default=False,
        ),
    ] = None,
    pg_version: Annotated[
        int | None,
        typer.Option(
            "--pg-version",
            help="PostgreSQL major version for "
            "scratch servers (default: the newest installed) [env: KEDGE_PG_VERSION].",
            show_default=False,
        ),
    ] = None,
    pg_bindir: Annotated[
        Path | None,
        typer.Option(
            "--pg-bindir",
            help="Folder of PostgreSQL server binaries to use [env: KEDGE_PG_BINDIR].",
            show_default=False,
        ),
    ] = None,
    hasura_preconditions: Annotated[
        bool | None,
        typer.Option(
            "--hasura-preconditions/--no-hasura-preconditions",
            help="Give scratch databases what Hasura gives a managed database "
            "(pgcrypto in public) [default: on].",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(help="HTTP timeout in seconds for Hasura calls [default: 60].", show_default=False),
    ] = None,
    insecure_skip_tls_verify: Annotated[
        bool | None,
        typer.Option(
            "--insecure-skip-tls-verify", help="Do not verify Hasura's TLS certificate.", show_default=False
        ),
    ] = None,
    certificate_authority: Annotated[
        Path | None,
        typer.Option(
            "--certificate-authority", help="CA certificate file for Hasura's TLS.", show_default=False
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version,
            is_eager=True,
            help="Show the version and exit; only before a command (`deploy --version V` is deploy's own).",
        ),
    ] = False,
) -> None:
    """Keep Hasura v2 migrations and metadata healthy."""
    state: _State = ctx.obj
    state.debug = debug
    options = GlobalOptions(
        project_dir=project,
        endpoint=endpoint,
        admin_secret=admin_secret,
        database=database,
        output=output,
        verbosity=Verbosity.from_flags(verbose=verbose, quiet=quiet),
        no_color=True if no_color else None,
        scratch_url=scratch_url,
        pg_version=pg_version,
        pg_bindir=pg_bindir,
        hasura_preconditions=hasura_preconditions,
        timeout=timeout,
        insecure_skip_tls_verify=insecure_skip_tls_verify,
        certificate_authority=certificate_authority,
        envfile=envfile,
    )
    context = AppContext.create(options)
    context.command = ctx.invoked_subcommand or ""
    state.context = context
    ctx.obj = context
    ctx.call_on_close(context.close)
    context.validate()  # flags and environment now; errors are reported through the context


def _register_commands() -> None:
    from kedge_hasura.cli import check, deploy, diff, impact, squash, status

    status.register(app)
    diff.register(app)
    squash.register(app)
    deploy.register(app)
    check.register(app)
    impact.register(app)


_register_commands()


def _global_options(command: Any) -> dict[str, bool]:
    """Option spellings of the root command → whether each takes a value."""
    options: dict[str, bool] = {}
    for parameter in command.params:
        if getattr(parameter, "param_type_name", "") != "option":
            continue
        takes_value = not (getattr(parameter, "is_flag", False) or getattr(parameter, "count", False))
        for spelling in (*parameter.opts, *parameter.secondary_opts):
            options[spelling] = takes_value
    return options


def _as_global(token: str, options: dict[str, bool]) -> tuple[bool, bool]:
    """Whether `token` is a global option, and whether its value is the next token.

    Knows `--name`, `--name=value`, `-x`, combined short flags (`-vv`, `-vq`) and a short option
    with its value attached (`-ojson`), as click parses them.
    """
    name = token.split("=", 1)[0]
    if name in options:
        return True, options[name] and "=" not in token
    if token.startswith("-") and not token.startswith("--") and len(token) > 2:
        first = token[:2]
        if first not in options:
            return False, False
        if options[first]:
            return True, False  # -ojson: the value is attached
        letters = [f"-{letter}" for letter in token[1:]]
        return all(letter in options and not options[letter] for letter in letters), False
    return False, False


# Global options that mean something only before the command: `kedge-hasura --version` prints the
# tool's version, while `deploy --version V` is the Hasura CLI's "apply exactly this version".
_ROOT_ONLY = frozenset({"--version"})


def command_options(command: Any, argv: list[str], options: dict[str, bool]) -> dict[str, bool]:
    """Option spellings of the subcommand `argv` invokes → whether each takes a value.

    Walks the command words (skipping global options and their values) down the groups; empty
    when no known command is named.
    """
    current = command
    index = 0
    while index < len(argv):
        token = argv[index]
        is_global, takes_next = _as_global(token, options)
        if is_global:
            index += 2 if takes_next else 1
            continue
        commands = getattr(current, "commands", None)
        if token.startswith("-") or not commands or token not in commands:
            break
        current = commands[token]
        index += 1
    if current is command or getattr(current, "commands", None):
        return {}
    return _global_options(current)


def hoist_global_options(
    argv: list[str], options: dict[str, bool], own: dict[str, bool] | None = None
) -> list[str]:
    """Move global options written after the subcommand in front of it.

    `kedge-hasura status --project x` then means `kedge-hasura --project x status`, as with the
    Hasura CLI's persistent flags. Arguments after `--` are left alone. After the command, the
    command's own options (`own`) win over global ones of the same name, and root-only options
    (`--version`) stay where they are, so the command parses them or rejects them as unknown.

    Raises:
        UsageError: a global option after the command lacks its value (hoisted, it would swallow
            the command's name: "Missing command").
    """
    own = own or {}
    head: list[str] = []
    rest: list[str] = []
    hoisted: list[str] = []
    index = 0
    # Leading global options (and their values) stay in front; the first other word is the command.
    while index < len(argv):
        is_global, takes_next = _as_global(argv[index], options)
        if not is_global:
            break
        head.append(argv[index])
        if takes_next and index + 1 < len(argv):
            head.append(argv[index + 1])
            index += 1
        index += 1
    while index < len(argv):
        token = argv[index]
        if token == "--":  # noqa: S105 - the end-of-options marker, not a password
            rest.extend(argv[index:])
            break
        name = token.split("=", 1)[0]
        if name in own:
            rest.append(token)
            if own[name] and "=" not in token and index + 1 < len(argv):
                rest.append(argv[index + 1])  # its value, even one that looks like a global option
                index += 1
            index += 1
            continue
        is_global, takes_next = _as_global(token, options)
        if is_global and token not in ("-h", "--help") and name not in _ROOT_ONLY:
            if takes_next and index + 1 >= len(argv):
                raise UsageError(f"option {name} requires a value", hint=f"write {name} VALUE")
            hoisted.append(token)
            if takes_next:
                hoisted.append(argv[index + 1])
                index += 1
        else:
            rest.append(token)
        index += 1
    return head + hoisted + rest


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (see errors.ExitCode).

    A reader that closes the pipe early (`| head`) changes nothing but what is shown: the rest of
    the output is dropped (render.output.ReaderMayLeave), where Click would exit 1 on EPIPE.
    """
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = ReaderMayLeave(sys.stdout), ReaderMayLeave(sys.stderr)
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = streams


def _main(argv: list[str] | None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = typer.main.get_command(app)
    state = _State()
    try:
        options = _global_options(command)
        arguments = hoist_global_options(arguments, options, command_options(command, arguments, options))
        result = command.main(args=arguments, prog_name="kedge-hasura", standalone_mode=False, obj=state)
        if result == ExitCode.INTERRUPTED:  # Typer turns Ctrl-C into this code (no command returns it)
            return _interrupted(state)
        return int(result) if isinstance(result, int) else ExitCode.OK
    except typer.Exit as exc:
        return exc.exit_code
    except typer.TyperException as exc:
        # Typer's own (vendored click) parsing errors: unknown option, bad value, missing argument.
        return _report_usage_error(exc, arguments, state)
    except (typer.Abort, KeyboardInterrupt):
        return _interrupted(state)
    except KedgeError as exc:
        if isinstance(exc, FailedAfterChanges) and exc.cause is None and state.context is not None:
            during = state.context.output.interrupted_during  # a deploy interrupted after a write
            if during:
                exc.message = (
                    f"interrupted while {during[:1].lower()}{during[1:]}"
                    + exc.message.removeprefix("interrupted")
                )
        if state.context is not None:
            state.context.output.error(state.context.command, exc)
        else:  # before the root callback ran (an option after the command lacks its value)
            Output(output_format=_requested_format(arguments)).error("", exc)
        return exc.exit_code
    except Exception as exc:
        if state.debug:
            raise
        if state.context is not None:
            state.context.output.internal_error(state.context.command, exc)
        else:
            sys.stderr.write(f"internal error: {type(exc).__name__}: {exc}\n")
        return ExitCode.INTERNAL


def _interrupted(state: _State) -> int:
    """Ctrl-C: say what was interrupted and what it changed (errors.Interrupted); 130 or 5."""
    if state.context is None:
        sys.stderr.write("\ninterrupted before the command started; nothing was changed\n")
        return ExitCode.INTERRUPTED
    interrupted = state.context.interruption()
    if state.context.output.err.is_terminal:
        state.context.output.err.print()  # after the terminal's `^C`
    state.context.output.error(state.context.command, interrupted)
    return interrupted.exit_code


def _report_usage_error(exc: Exception, arguments: list[str], state: _State) -> int:
    """A parsing error in our own words (`error:` and `hint:`, as every other error), and as one
    JSON document on stdout when JSON output was asked for, even though parsing failed."""
    format_message = getattr(exc, "format_message", None)
    message = format_message() if format_message is not None else str(exc)
    # Typer 0.29 coerces choices with pydantic validators, whose messages start "Value error, ".
    message = message.replace("Value error, ", "")
    click_context = getattr(exc, "ctx", None)
    command_path = click_context.command_path if click_context is not None else "kedge-hasura"
    error = UsageError(message[:1].lower() + message[1:], hint=f"see '{command_path} -h'")
    if state.context is not None:
        state.context.output.error(state.context.command, error)
    else:
        command = command_path.removeprefix("kedge-hasura").strip()
        Output(output_format=_requested_format(arguments)).error(command, error)
    return ExitCode.USAGE


def _requested_format(arguments: list[str]) -> OutputFormat:
    """The --output value on a command line that did not parse (text when absent or invalid)."""
    value = os.environ.get("KEDGE_OUTPUT")
    for index, token in enumerate(arguments):
        if token == "--":  # noqa: S105 - the end-of-options marker
            break
        if token in ("-o", "--output") and index + 1 < len(arguments):
            value = arguments[index + 1]
        elif token.startswith("--output="):
            value = token.split("=", 1)[1]
        elif token.startswith("-o") and len(token) > 2 and not token.startswith("--"):
            value = token[2:]
    try:
        return OutputFormat(value or OutputFormat.TEXT)
    except ValueError:
        return OutputFormat.TEXT


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
