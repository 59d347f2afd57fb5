"""The command line: thin layers over the core. Heavy imports (torch) happen inside commands,
so `siamcli --help` stays fast."""

from __future__ import annotations

import sys

import typer

from siamcli import __version__
from siamcli.cli import calibrate, embed, enroll, evaluate, gallery, pairs, train, verify
from siamcli.errors import SiamcliError

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


def _version(value: bool) -> None:
    if value:
        print(f"siamcli {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    pass


def main() -> None:
    try:
        app()
    except SiamcliError as error:
        print(f"siamcli: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("siamcli: interrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        # The reader of our stdout went away (| head): not an error of ours.
        sys.stderr.close()
        sys.exit(0)
