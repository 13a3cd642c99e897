"""How the playground words the end of a run: a short status and the full sentence.

The engine's ``run_end`` message is written for the command line ("raise it with
--timeout") and is too long for an 80-column status line. The playground says the same
thing in its own terms: the status line gets a few words built from ``reason`` and the
limit's value in ``run_start``'s ``limits`` (``timeout 3 s - F9 to raise``); the output pane
ends with the engine's sentence, its command-line flags swapped for the Settings field
that raises the limit. Pure functions of the model's ``end`` and ``limits``: nothing is
re-derived.

A replay's ``run_end`` carries ``replayed: true`` (set by ``tui/replay_mode.py`` on its
copy, never written to a recording): raising a setting cannot change a recorded run, so
then both say what happened without that advice.
"""

from __future__ import annotations

import re

# reason -> (key in run_start's limits, short name, unit, the Settings field)
LIMITS: dict[str, tuple[str, str, str, str]] = {
    "timeout": ("timeout", "timeout", "s", "timeout"),
    "cpu": ("cpu", "CPU time", "s", "cpu"),
    "memory": ("memory", "memory", "MiB", "memory_mib"),
    "output-limit": ("output_limit", "output", "MiB", "output_mib"),
    "procs": ("procs", "processes", "", "procs"),
}
# the command line's flag -> the Settings field that sets the same limit
_FLAG_FIELD = {
    "--timeout": "timeout",
    "--cpu": "cpu",
    "--memory": "memory_mib",
    "--output-limit": "output_mib",
    "--procs": "procs",
}
# the Settings fields' labels (settings.NUMBER_FIELDS; a test keeps them equal). Not
# imported from there: the dialogs load when first opened, start-up is budgeted.
_LABELS = {
    "timeout": "Time limit (s)",
    "cpu": "CPU time (s)",
    "memory_mib": "Memory (MiB)",
    "output_mib": "Output (MiB)",
    "procs": "Processes",
}
_RAISE = re.compile(r";? raise it with (--[a-z-]+)\s*$")
_FLAG_VALUE = re.compile(r"(--[a-z-]+) (?=\d)")
_SHORT = {
    "stopped": "stopped",
    "signal": "killed by a signal",
    "events": "too many events",
}


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def status_text(end: dict, limits: dict, elapsed: float) -> str:
    """A few words for the status line, e.g. ``exit 124 - timeout 3 s - F9 to raise``."""
    code = end.get("exit_code")
    reason = end.get("reason")
    head = f"exit {code}"
    if reason in LIMITS:
        key, name, unit, _field = LIMITS[reason]
        value = limits.get(key)
        amount = f" {_number(value)}{' ' + unit if unit else ''}" if value is not None else ""
        if end.get("replayed") is True:
            return f"{head} - {name}{amount} reached"
        return f"{head} - {name}{amount} - F9 to raise"
    if reason in _SHORT:
        return f"{head} - {_SHORT[reason]} after {elapsed:.2f}s (see Output)"
    if reason == "exited":
        return f"{head} - {elapsed:.2f}s"
    return f"{head} - {end.get('message') or reason}"  # asyncplay's own failure: rare, say it all


def sentence(end: dict) -> str | None:
    """The engine's sentence in the playground's terms; None for a program's own exit."""
    message = end.get("message") or ""
    if not message or (end.get("by") != "asyncplay" and end.get("reason") == "exited"):
        return None

    def settings_hint(match: re.Match[str]) -> str:
        if end.get("replayed") is True:
            return ""  # a recorded run: no setting changes it
        label = _LABELS.get(_FLAG_FIELD.get(match.group(1), ""))
        return f"; raise {label!r} in Settings (F9)" if label else ""

    text = _FLAG_VALUE.sub("", _RAISE.sub(settings_hint, message))
    if text.startswith("asyncplay "):
        return "asyncplay: " + text[len("asyncplay ") :]
    return f"asyncplay: {text}"
