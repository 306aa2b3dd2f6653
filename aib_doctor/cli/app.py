"""The typer app and what every command shares: its options, the wrapper that turns a command's outcome into
one exit code and at most one line on stderr, and output to stdout.
"""

# No `from __future__ import annotations`: typer reads every command's annotations, and as strings each one
# is compiled again at start-up (typing.ForwardRef); the few names imported only for type checking are quoted.

import functools
import inspect
import os
import sys
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from aib_doctor import __version__
from aib_doctor.errors import AibDoctorError, OutputError
from aib_doctor.exitcodes import ExitCode
from aib_doctor.render import Format

if TYPE_CHECKING:
    from rich.console import Console

    from aib_doctor.core.catalog import Catalog
    from aib_doctor.model import Report

EXIT_CODES_HELP = (
    "Exit codes: 0 nothing wrong; 1 a failure was found and explained; 2 usage error or unreadable input; "
    "3 a failure was found but no rule explains it; 4 Azure or the log could not be reached; "
    "5 internal error (a bug; rerun with --debug); 130 interrupted."
)

ROOT_HELP = f"""Explain Azure VM Image Builder failures: what failed, why, the evidence and the fix.

{EXIT_CODES_HELP}

Settings come from the flag, else its environment variable (shown as env var), else the config file
($AIB_DOCTOR_CONFIG, else config.toml in the user's config folder), else the default. NO_COLOR turns off
colour and bold. Shell completion: aib-doctor --install-completion.

\b
Examples:
  aib-doctor analyze customization.log
  aib-doctor template win2022-golden -g rg-images
  aib-doctor lint image-template.json
  aib-doctor rules AIB012"""

app = typer.Typer(
    name="aib-doctor",
    help=ROOT_HELP,
    no_args_is_help=True,
    # Plain click help: metavars say what to type (TEXT, PATH, a flag has none), no styles, and no rich import to print it.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
)


class PlainHelpCommand(typer.core.TyperCommand):
    """Arguments in the usage line and the help as click writes them (`PATH`, `[ID]`), not as `{PATH}` and `PATH <str>`."""

    def collect_usage_pieces(self, ctx) -> list[str]:
        arguments = [param.metavar or param.name.upper() for param in self.get_params(ctx) if param.param_type_name == "argument"]
        return [self.options_metavar, *arguments] if self.options_metavar else arguments

    def format_options(self, ctx, formatter) -> None:
        params = self.get_params(ctx)
        arguments = [(p.metavar or p.name.upper(), getattr(p, "help", None) or "") for p in params if p.param_type_name == "argument"]
        options = [record for p in params if p.param_type_name == "option" and (record := p.get_help_record(ctx))]
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def _no_color() -> bool:
    """https://no-color.org: any non-empty NO_COLOR turns off colour and every other style (bold, dim) too."""
    return bool(os.environ.get("NO_COLOR"))


def rich_console(stderr: bool = False) -> "Console":
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True, color_system=None if _no_color() else "auto")


def say(line: str) -> None:
    """One line on stderr, as it is (no markup, no rich import), redacted like every other output (Azure's messages quote SAS URLs)."""
    from aib_doctor.core.redact import redact

    sys.stderr.write(redact(line) + "\n")
    sys.stderr.flush()


def may_be_terminal(stream) -> bool:
    """Whether rich could take the stream for a terminal (a tty, or forced by the environment): only then is it imported."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) or any(os.environ.get(name) for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"))


# Metavars say what to type: TEXT, PATH, FOLDER; a flag has none.
OutputOption = typer.Option(
    Format.text,
    "--output",
    "-o",
    metavar="text|json|markdown|github|azure-devops",
    help="Report format; github and azure-devops add CI annotations (workflow / logging commands) before the text.",
    case_sensitive=False,
)
RulesOption = typer.Option(
    None,
    "--rules",
    metavar="FOLDER",
    envvar="AIB_DOCTOR_RULES",
    help="Repeatable: a folder of your own rules (docs/rules.md), used beside the built-in catalog. In the env var, separate folders with ':' (';' on Windows).",
)


class AuthMode(str, Enum):
    auto = "auto"
    login = "login"
    key = "key"


NameArgument = typer.Argument(..., metavar="NAME", help="The image template's name.")
GroupOption = typer.Option(..., "--resource-group", "-g", metavar="TEXT", help="The template's resource group.")
SubscriptionOption = typer.Option(
    None, "--subscription", metavar="TEXT", envvar="AZURE_SUBSCRIPTION_ID", help="Else the config file, else the Azure CLI's default."
)
AuthOption = typer.Option(
    AuthMode.auto,
    "--auth-mode",
    metavar="auto|login|key",
    envvar="AIB_DOCTOR_AUTH_MODE",
    case_sensitive=False,
    help="How to read the log blob: login (Entra ID), key (account key via ARM listKeys), auto (login, then key).",
)
DebugOption = typer.Option(False, "--debug", metavar="", help="Show tracebacks for errors (also accepted before the command).")


def exit_code_for(report: "Report") -> ExitCode:
    if report.primary is not None:
        return ExitCode.DIAGNOSED
    return ExitCode.UNDIAGNOSED if report.status == "failed" else ExitCode.OK


def command(fn):
    """Run a command body (which takes ctx); turn its result or exception into one exit code and at most one line on stderr."""

    @functools.wraps(fn)
    def wrapper(*args, debug: bool = False, **kwargs):
        ctx = kwargs.get("ctx")
        debug = debug or bool(ctx is not None and (ctx.find_root().obj or {}).get("debug"))
        if debug:  # azure-identity's warnings, which the Azure adapters otherwise quiet (azure.default_credential)
            import logging

            logging.getLogger("azure.identity").setLevel(logging.WARNING)
        try:
            code = fn(*args, **kwargs)
        except typer.Exit:
            raise
        except AibDoctorError as exc:
            if debug:
                import traceback

                traceback.print_exc()
            say(f"aib-doctor: {exc}")
            raise typer.Exit(int(exc.exit_code)) from None
        except OSError as exc:  # a file asked for cannot be written or read: disk full, read-only, permission
            if debug:
                import traceback

                traceback.print_exc()
            where = f"{exc.filename}: " if exc.filename else ""
            say(f"aib-doctor: {where}{(exc.strerror or str(exc)).lower()}")
            raise typer.Exit(int(ExitCode.USAGE)) from None
        except KeyboardInterrupt:
            say("aib-doctor: interrupted")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except Exception as exc:  # a bug: one line, never a traceback unless asked
            if debug:
                import traceback

                traceback.print_exc()
            say(f"aib-doctor: internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)")
            raise typer.Exit(int(ExitCode.INTERNAL)) from None
        raise typer.Exit(int(code))

    # Every command also takes --debug after its name: one more parameter in the signature typer reads.
    signature = inspect.signature(fn)
    debug_parameter = inspect.Parameter("debug", inspect.Parameter.KEYWORD_ONLY, default=DebugOption, annotation=bool)
    wrapper.__signature__ = signature.replace(parameters=[*signature.parameters.values(), debug_parameter])
    wrapper.__annotations__ = {**fn.__annotations__, "debug": bool}
    return wrapper


def emit(report: "Report", fmt: Format) -> None:
    from aib_doctor.core.redact import redacted
    from aib_doctor.render import render

    report = redacted(report)
    if fmt is Format.text and may_be_terminal(sys.stdout):
        from aib_doctor.render.text_report import render_text

        out = rich_console()
        if out.is_terminal:
            with _writing():
                out.print(render_text(report).rich(), end="")
            return
    write_out(render(report, fmt))


def write_out(text: str) -> None:
    if sys.stdout is None:
        raise OutputError("cannot write output: standard output is closed")
    with _writing():
        sys.stdout.write(text)
        sys.stdout.flush()


@contextmanager
def _writing():
    """stdout as Unix tools treat it: a closed pipe (`| head -1`) ends the output quietly and the command keeps its
    exit code; a full disk or a closed stdout is the user's environment (exit 2), not a bug."""
    try:
        yield
    except BrokenPipeError:
        _discard_stdout()
    except (OSError, ValueError) as exc:  # ValueError: stdout was closed
        _discard_stdout()
        reason = exc.strerror.lower() if isinstance(exc, OSError) and exc.strerror else "standard output is closed"
        raise OutputError(f"cannot write output: {reason}") from None


def _discard_stdout() -> None:
    """Send what is still buffered to /dev/null, so the interpreter's last flush does not fail again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"aib-doctor {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    debug: bool = typer.Option(False, "--debug", metavar="", help="Show tracebacks for errors."),
    version: bool = typer.Option(False, "--version", metavar="", is_eager=True, callback=_print_version, help="Print the version and exit."),
) -> None:
    ctx.obj = {"debug": debug}
    try:
        ctx.default_map = _config_defaults(ctx.command)
    except AibDoctorError as exc:
        say(f"aib-doctor: {exc}")
        raise typer.Exit(int(exc.exit_code)) from None


def _config_defaults(group) -> dict:
    """The config file as click's default_map, which click consults after the flag and the environment."""
    from aib_doctor.settings import config_path, default_map, read_config

    path, named = config_path()
    config = read_config(path, named)
    if not config:
        return {}
    options = {
        name: {opt[2:]: (param.name, bool(getattr(param, "multiple", False))) for param in command.params for opt in param.opts if opt.startswith("--")}
        for name, command in group.commands.items()
    }
    for names in options.values():
        names.pop("help", None)
        names.pop("debug", None)
    return default_map(config, options, path)


def catalog_with_packs(rules: list[Path] | None) -> "Catalog":
    """The built-in catalog (its checked form kept in the user's cache), with the rule packs of --rules /
    AIB_DOCTOR_RULES beside it."""
    from aib_doctor.cache import user_cache
    from aib_doctor.core.catalog import load_catalog

    if not rules:
        return load_catalog(user_cache())
    from aib_doctor.core.catalog.packs import with_packs

    return with_packs(load_catalog(user_cache()), rules)


def main() -> None:
    if _no_color():
        import typer.rich_utils

        typer.rich_utils.COLOR_SYSTEM = None  # typer's own switch for its help and error panels (None: no styles at all)
    app()
