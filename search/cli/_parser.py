"""argparse that reports usage errors in two lines (the short usage, the error), not by
exiting."""

from __future__ import annotations

import argparse
import difflib
import itertools
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from search._shipped import shipped_space
from search.compat.argparse import take_as_values


class UsageError(Exception):
    """A command line that does not parse; already printed."""


NEGATIVE_VALUE = re.compile(r"^-\.?\d")
"""A word that is a value, not an option: a dash, then a digit (``-5s``, ``-1.5h``, ``-.5m``),
so that the option before it gets it and refuses it in its own words; argparse takes only
a plain negative number (``-5``) so."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors print the short usage and the error, and raise
    UsageError; a word such as ``-5s`` is the value of the option before it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        take_as_values(self, NEGATIVE_VALUE)
        self.stray_word: Callable[[str], str] | None = None
        """Where set: the error for a first word that names none of the parser's subcommands
        (its options before them take no value), given the word."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[Any, list[str]]:
        """argparse's parse, but a first word that names no subcommand is refused in
        :attr:`stray_word`'s words where it is set."""
        given = list(sys.argv[1:] if args is None else args)
        words = [a for a in given if not a.startswith("-")]
        commands = [a.choices for a in self._actions if a.nargs == argparse.PARSER]
        if self.stray_word is not None and words and commands and words[0] not in (commands[0] or {}):
            self.error(self.stray_word(words[0]))
        if not commands:  # a subcommand's own parser: every option given is one of its own
            self._refuse_unknown_options(given)
        return super().parse_known_args(args, namespace)

    def _refuse_unknown_options(self, given: list[str]) -> None:
        """A ``--word`` this command lacks, named with the closest one it has. argparse named
        none (``unrecognized arguments``, under the top command's usage), or a required one
        it then missed (``--tunr random``: "required: --tuner")."""
        options = [o for a in self._actions for o in a.option_strings if o.startswith("--")]
        shown = [o for a in self._actions if a.help != argparse.SUPPRESS for o in a.option_strings
                 if o.startswith("--")]  # not `run`'s settings that `resume` takes only to refuse
        for word in itertools.takewhile(lambda w: w != "--", given):
            name = word.split("=", 1)[0]
            if not name.startswith("--") or " " in word or any(o.startswith(name) for o in options):
                continue  # a value (a word with a space is one to argparse), an option, its abbreviation
            close = difflib.get_close_matches(name, shown, n=1)
            fix = f"did you mean {close[0]}?" if close else f"see {self.prog} --help"
            self.error(f"unknown option {name}: {fix}")

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.short_usage()}\n{self.prog}: error: {message}\n")
        raise UsageError(message)

    def short_usage(self) -> str:
        """``usage: PROG [options] ARGS``: only what the command cannot do without, and
        where the rest is described."""
        needed = [a for a in self._actions if a.required or not a.option_strings]
        formatter = self._get_formatter()
        formatter.add_usage(None, needed, [], prefix="")
        line = " ".join(formatter.format_help().split())
        args = line.removeprefix(self.prog).strip()
        return f"usage: {self.prog} [options] {args} (all options: {self.prog} --help)"

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            sys.stderr.write(message)
        raise SystemExit(status)


def refuse_stray_word(parser: argparse.ArgumentParser, error: Callable[[str], str]) -> None:
    """Make ``parser`` (one of ours) refuse a first word that names none of its subcommands
    with ``error(word)``, not argparse's "invalid choice"."""
    if isinstance(parser, Parser):
        parser.stray_word = error


def path_word(text: str) -> str:
    """A path as typed; ArgumentTypeError for an empty one (``""``: an unset shell
    variable), which Path would take as the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is an empty path (an unset shell variable?); give a path")
    return text


def space_value(text: str) -> Path:
    """:func:`path_word` as :func:`shipped_space` reads it."""
    return shipped_space(path_word(text))


def path_value(text: str) -> Path:
    """:func:`path_word` as a Path."""
    return Path(path_word(text))


BACKENDS = ("tensorflow", "jax")


def add_common(parser: argparse.ArgumentParser) -> None:
    """Options every subcommand takes."""
    parser.add_argument("--debug", action="store_true", help="show tracebacks and TF logs")
    parser.add_argument("--quiet", action="store_true", help="print only results and errors")


def add_backend(parser: argparse.ArgumentParser) -> None:
    """``--backend``, for the subcommands that train or run models."""
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help="Keras' backend (default: $KERAS_BACKEND, else tensorflow); jax needs the"
        " `jax` extra",
    )


def add_model_options(parser: argparse.ArgumentParser, runs_own: bool = False) -> None:
    """``--retrain-data``, ``--retrain-max-epochs``, ``--retrain-from``,
    ``--retrain-schedule`` and ``--backend``: how the final model trains (``run``;
    ``export``, where ``runs_own``: each defaults to what the run used, None until read
    from it)."""
    defaults: dict[str, object] = {"data": "validated", "epochs": None, "start": "auto", "schedule": "auto"}
    shown = {key: f"default {value}" for key, value in defaults.items()}
    shown["epochs"] = "default 20, or the experiment's own cosine length on the cpu budget"
    if runs_own:
        defaults = dict.fromkeys(defaults)
        shown = dict.fromkeys(shown, "default: the run's own")
    parser.add_argument(
        "--retrain-data",
        default=defaults["data"],
        help=f"validated, full or search ({shown['data']}). validated: every training image"
        " outside the validation split, the best epoch on validation kept, for as long as the"
        " objective improves (the learning rate cut when it stalls) or, with --retrain-schedule"
        " cosine, for --retrain-max-epochs; full: every labelled training"
        " image, for the end of the chosen trial's plateau in the search; search: the search's"
        " train+validation, likewise",
    )
    parser.add_argument(
        "--retrain-max-epochs",
        type=int,
        default=defaults["epochs"],
        help=f"the most epochs the retrain trains ({shown['epochs']}): a validated one stops"
        " sooner when validation stalls (a cosine one trains them all); full and search train"
        " to the end of the chosen trial's plateau, at most this",
    )
    parser.add_argument(
        "--retrain-from",
        default=defaults["start"],
        help=f"where a validated retrain (and each finalist) starts ({shown['start']}): scratch"
        " (new weights), checkpoint (its trial's best epoch in the search, when that"
        " checkpoint fits the final model; refused where it was removed), or auto: checkpoint"
        " where the search trained on every example the retrain trains on (your own arrays,"
        " --train-size all), else scratch",
    )
    parser.add_argument(
        "--retrain-schedule",
        default=defaults["schedule"],
        help=f"how the learning rate moves in the finalists and the retrain ({shown['schedule']}):"
        " plateau (cut after every epoch without a better validation score; stop once none"
        " comes), cosine (every epoch up to --retrain-max-epochs, the rate decayed along a half"
        " cosine, the best epoch by validation kept), or auto: cosine on the gpu budget and where"
        " the experiment measured one on the cpu budget (fashion: 10 epochs), else plateau",
    )
    add_backend(parser)
