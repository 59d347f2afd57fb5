"""The command line: thin layers over the core. Heavy imports (torch) happen inside commands,
so `siamcli --help` stays fast."""

from __future__ import annotations

import inspect
import os
import sys
import warnings
from collections.abc import Callable
from typing import NoReturn

import typer
from rich.markup import escape

from siamcli import __version__
from siamcli.cli import calibrate, embed, enroll, evaluate, gallery, pairs, train, verify
from siamcli.errors import SiamcliError, SiamcliWarning, first_line, printable

app = typer.Typer(
    name="siamcli",
    help="One-shot enroll/verify with Siamese networks, for faces and sounds.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
app.command("pairs")(pairs.pairs_command)
app.command("train")(train.train_command)
app.command("eval")(evaluate.eval_command)
app.command("calibrate")(calibrate.calibrate_command)
app.command("embed")(embed.embed_command)
app.command("enroll")(enroll.enroll_command)
app.command("verify")(verify.verify_command)
app.add_typer(gallery.app, name="gallery")


def help_text(function: Callable[..., object]) -> str:
    """A command's docstring as its help: each paragraph one line, for the terminal to wrap where its
    width ends, and brackets shown as typed (`[x, y]` is text, not rich's markup)."""
    paragraphs = inspect.cleandoc(function.__doc__ or "").split("\n\n")
    return "\n\n".join(escape(" ".join(line.strip() for line in p.splitlines())) for p in paragraphs)


for command in [*app.registered_commands, *gallery.app.registered_commands]:
    if command.help is None and command.callback is not None:
        command.help = help_text(command.callback)


def _version(value: bool) -> None:
    if value:
        print(f"siamcli {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    pass


def fail(message: str) -> NoReturn:
    print(f"siamcli: {printable(message)}", file=sys.stderr)
    sys.exit(2)


def unforeseen(error: BaseException) -> str:
    """One line for an error siamcli did not foresee: what it was, and the file where there is one."""
    if isinstance(error, MemoryError):
        return "out of memory (try fewer or smaller files at a time)"
    if isinstance(error, RecursionError):
        return "input nested too deeply to read"
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or error}"
    return f"unexpected {type(error).__name__}: {first_line(error)} (SIAMCLI_DEBUG=1 shows where)"


def main() -> None:
    """Every failure is one line on stderr and exit 2 (verify's 1 means "rejected", never "crashed");
    SIAMCLI_DEBUG=1 shows the traceback of an unforeseen one."""
    with warnings.catch_warnings():
        # siamcli's own warnings, each time; the libraries' (Pillow's "corrupt EXIF", ...) would break
        # the one-line rule and say nothing a user can act on
        warnings.simplefilter("ignore")
        warnings.simplefilter("always", SiamcliWarning)
        warnings.showwarning = _show_warning
        try:
            code = app(standalone_mode=False)  # usage errors come back to us, to be told in one line
        except SiamcliError as error:
            fail(str(error))
        except KeyboardInterrupt:
            print("siamcli: interrupted", file=sys.stderr)
            sys.exit(130)
        except BrokenPipeError:
            quiet_broken_pipe()
        except Exception as error:  # the boundary: nothing unforeseen leaves as a traceback
            _click_error(error)
            if os.environ.get("SIAMCLI_DEBUG"):
                raise
            fail(unforeseen(error))
    sys.exit(code if isinstance(code, int) else 0)


def _click_error(error: Exception) -> None:
    """Exit the way the command line's own errors ask (bad usage: one line and 2; no arguments: the
    help; Ctrl-C at a prompt: 130); return for anything else. Recognised by shape, as typer may carry
    its own copy of click."""
    name = type(error).__name__
    if name == "NoArgsIsHelpError":
        app(["--help"], standalone_mode=False)
        sys.exit(0)
    usage = getattr(error, "format_message", None)
    if callable(usage) and isinstance(getattr(error, "exit_code", None), int):
        fail(f"{usage()} ({_help_for(sys.argv[1:2])})")
    if name == "Abort":
        print("siamcli: interrupted", file=sys.stderr)
        sys.exit(130)


def _help_for(command: list[str]) -> str:
    known = {info.name for info in app.registered_commands} | {info.name for info in app.registered_groups}
    return f"siamcli {command[0]} --help" if command and command[0] in known else "siamcli --help"


def _show_warning(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> None:
    print(f"siamcli: warning: {printable(message)}", file=sys.stderr)


def quiet_broken_pipe() -> NoReturn:
    """The reader of our stdout went away (| head): not an error of ours, and nothing more to say."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(0)
