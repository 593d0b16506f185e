"""Wording shared by the messages."""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PIPE_WIDTH = 160
"""The width of progress and results written to a log or a pipe: wide lines rather than
rich's 80-column default, which cuts the search's progress line short."""


def output_width(stream: Any) -> int | None:
    """The width to print ``stream`` at: None (the terminal's own, or a notebook's) where it
    is one, else :data:`PIPE_WIDTH`."""
    interactive = stream.isatty() or type(stream).__module__.startswith("ipykernel")
    return None if interactive else PIPE_WIDTH


UNREADABLE = "unreadable: "
"""How a final training's ``start_problem`` starts where its search checkpoint could not be
read at all (a zero-byte or truncated file), not merely did not fit the model."""


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``count`` and ``noun``, the noun in the plural unless the count is one: "1 trial",
    "0 trials", "3 epochs"; ``nouns``: the plural where it is not the noun and an s."""
    return f"{count} {noun}" if count == 1 else f"{count} {nouns or noun + 's'}"


ELLIPSIS = " …"
"""What ends a text cut short by :func:`one_line`."""


KEPT_AT_A_WORD = 2 / 3
"""The least share of its room a text cut at a word keeps: a longer last word (a path, a
URL) is cut inside instead, so that the cut keeps the start of what it names."""


SOUNDS_LIKE_A = (
    "uint", "unit", "uniq", "unif", "union", "univ", "unic", "unix", "use", "usu", "uti", "ute",
    "ufunc", "uuid", "eu", "one", "once",
)
"""Beginnings spelled with a vowel but said with a consonant ("a uint8", "a user", "a one")."""
SOUNDS_LIKE_AN = ("hour", "honest", "honor", "heir", "nd")
"""Beginnings spelled with a consonant but said with a vowel ("an hour", "an ndarray")."""
LETTERS_SAID_WITH_A_VOWEL = "aefhilmnorsx"
"""The letters whose names start with a vowel sound, as an initialism's first ("an HTTPError")."""


def article(word: str) -> str:
    """``word`` after its article, by the sound it starts with: "an int", "a float",
    "a uint8", "an ndarray", "an HTTPError".

    Args:
        word: a noun (a type's name, a kind of hyperparameter).

    Returns:
        The word after "a" or "an".
    """
    lower = word.lower()
    if word[:1].isupper() and (len(word) == 1 or word[1].isupper()):  # said letter by letter
        vowel = lower[:1] in LETTERS_SAID_WITH_A_VOWEL
    elif lower.startswith(SOUNDS_LIKE_A):
        vowel = False
    else:
        vowel = lower.startswith(SOUNDS_LIKE_AN) or lower[:1] in "aeiou"
    return f"{'an' if vowel else 'a'} {word}"


def a_kind(value: Any) -> str:
    """The type of ``value`` after its article: "an int", "a list".

    Args:
        value: any object.

    Returns:
        ``type(value).__name__`` after "a" or "an".
    """
    return article(type(value).__name__)


def one_line(text: str, width: int) -> str:
    """``text`` on one line (every run of whitespace one space), at most ``width``
    characters: where longer, cut after its last whole word that fits and ended with
    :data:`ELLIPSIS`, or cut inside that word (the mark right after it) where cutting
    before it would drop more than a third of the room."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    room = width - len(ELLIPSIS)
    head = flat[:room]
    if flat[room] == " ":  # the cut falls between two words
        return head.rstrip() + ELLIPSIS
    at_word = head.rsplit(" ", 1)[0] if " " in head else ""
    if len(at_word) >= room * KEPT_AT_A_WORD:
        return at_word.rstrip() + ELLIPSIS
    return head + ELLIPSIS.strip()


_DURATION = re.compile(r"(-?)\s*(\d+(?:\.\d*)?|\.\d+)\s*(s|sec|m|min|h)?")
SECONDS_PER_MINUTE = 60.0
SECONDS_PER_HOUR = 3600.0
_SECONDS_PER = {
    "s": 1.0, "sec": 1.0, "m": SECONDS_PER_MINUTE, "min": SECONDS_PER_MINUTE, "h": SECONDS_PER_HOUR,
}  # fmt: skip
NO_LIMIT = "none"
"""How a limit that is not there is written: ``--max-search-time none``."""
DURATION_FORMS = (
    f"a number with s, m or h, e.g. 90s, 10m, 1.5h (a bare number is seconds), or {NO_LIMIT}"
)
"""How a duration is written on the command line, for help texts and errors."""


def parse_duration(raw: str) -> float:
    """The seconds ``raw`` says: ``"90s"``, ``"10m"``, ``"1.5h"``, ``"300"`` (seconds), or
    ``"none"``: infinity, no limit.

    Raises:
        ValueError: ``raw`` is none of these forms, or negative.
    """
    if raw.strip().lower() == NO_LIMIT:
        return math.inf
    match = _DURATION.fullmatch(raw.strip().lower())
    if match is None:
        raise ValueError(f"{raw!r} is not a duration: write {DURATION_FORMS}")
    if match[1]:
        raise ValueError(f"{raw!r} is negative: give a time above 0, {DURATION_FORMS}")
    return float(match[2]) * _SECONDS_PER[match[3] or "s"]


def duration_words(seconds: float) -> str:
    """A duration as people say it: "90 s", "6 min", "1.5 h"; "0.001 s" under a second
    (rounded to tenths, a positive limit would read "0 s")."""
    if seconds < 1:
        return f"{seconds:.2g} s"
    if seconds < 2 * SECONDS_PER_MINUTE:
        return f"{round(seconds, 1):g} s"
    if seconds < SECONDS_PER_HOUR:
        return f"{round(seconds / SECONDS_PER_MINUTE, 1):g} min"
    return f"{round(seconds / SECONDS_PER_HOUR, 1):g} h"


def running_trials(count: int, live: bool) -> str:
    """The ``count`` trials trials.json says are running, in a run that is running (``live``)
    or not: a trial a stopped run left running is not running, and resume continues it
    from its last completed epoch."""
    if live or not count:
        return f"{count} running"
    return f"{count} interrupted (resume continues {'it' if count == 1 else 'them'})"


def stopped_because(meta: Mapping[str, Any], state: str, folder: Path | None = None) -> str | None:
    """Why a run whose state is ``state`` stopped (run.json's ``reason``), where it failed
    or was interrupted; None otherwise.

    Args:
        meta: the run's run.json.
        state: its state now.
        folder: where the run lies now, as the user named it: the resume command the reason
            holds names it (a run moved or copied since it stopped, or read from another
            working folder, was told to resume where it was); None: the reason as stored.

    Returns:
        The reason, or None.
    """
    reason = meta.get("reason")
    if not reason or state not in ("failed", "interrupted"):
        return None
    return str(reason) if folder is None else _resumed_here(str(reason), meta, folder)


def _resumed_here(reason: str, meta: Mapping[str, Any], folder: Path) -> str:
    """``reason`` with its resume command for the folder the run stopped in (run.json's
    ``stopped_in``; in a run.json from before it, its first start's: the request's results
    root, experiment, name) naming ``folder`` instead."""
    stored = meta.get("request")
    request: Mapping[str, Any] = stored if isinstance(stored, Mapping) else {}
    parts = [request.get("results"), meta.get("experiment"), meta.get("name")]
    if isinstance(meta.get("stopped_in"), str) and meta["stopped_in"]:
        was = Path(meta["stopped_in"])
    elif all(isinstance(part, str) and part for part in parts):
        was = Path(*(str(part) for part in parts))
    else:
        return reason
    if was == folder:
        return reason
    for asked in (request, {}):  # the context's command, or the plain one
        reason = reason.replace(resume_call(was, asked), resume_call(folder, asked))
    return reason


def retrain_call(folder: Path, request: Mapping[str, Any]) -> str:
    """What retrains a finished run's chosen configuration into a model, as a sentence's
    subject: its ``export`` command, or a new search with a retrain where the hypermodel
    cannot be imported again (``request``: run.json's, as :func:`resume_call` reads it)."""
    if request.get("from_object") or (request.get("arrays") and not request.get("hypermodel")):
        return "a new search with retrain=True (the default; export cannot import this run's hypermodel)"
    return f"`python -m search export {shlex.quote(str(folder))}`"


def resume_call(folder: Path, request: Mapping[str, Any]) -> str:
    """How a stopped run goes on: ``python -m search resume FOLDER``, or from Python for a
    run on arrays whose hypermodel cannot be imported again, or started with an Experiment
    object that no name finds (``request``: run.json's)."""
    if request.get("from_object"):
        return f"search.resume({str(folder)!r}, hypermodel=experiment)"
    if request.get("arrays") and not request.get("hypermodel"):
        return f"search.resume({str(folder)!r}, hypermodel=...)"
    return f"python -m search resume {shlex.quote(str(folder))}"
