"""The lab policy: an administrator's file of ceilings a user cannot raise, and defaults.

``/etc/asyncplay/policy.toml`` (docs/sandbox.md, "Lab policy") caps the limits a run may ask
for (``memory``, ``timeout``, ``cpu``, ``procs``, ``output-limit``), names the network and
sandbox modes a user may choose, and gives the defaults of a run that asks for nothing.

The system file always applies. ``$ASYNCPLAY_POLICY`` names one more file (tests use it):
a user can set any variable for themselves, so that file can only *tighten* - the lower
ceiling and the smaller set of modes win; it never replaces or removes the system file.

Fail closed: a system file that cannot be read, is not valid TOML, holds an unknown key or
a value out of range, or could be written by someone other than root makes :func:`load`
raise :class:`PolicyError`; asyncplay then refuses to run (exit status
``exits.POLICY_BROKEN``). A request above a ceiling raises :class:`PolicyDenied`
(``exits.POLICY_DENIED``), one line naming the ceiling and its file.

Read in asyncplay's own process only (``tomllib``, or ``tomli`` on Python 3.10): the child
runtime never imports this module.
"""

from __future__ import annotations

import os
import stat

from asyncplay import exits
from asyncplay.limits import NETWORK_MODES, SANDBOX_MODES, Limits

__all__ = [
    "CHOICES",
    "ENV",
    "LIMITS",
    "SYSTEM_PATH",
    "Policy",
    "PolicyDenied",
    "PolicyError",
    "load",
]

SYSTEM_PATH = "/etc/asyncplay/policy.toml"
ENV = "ASYNCPLAY_POLICY"

# The numeric ceilings, named as the flags are: key -> (the RunSpec Limits attribute, unit,
# whole number?).
LIMITS: dict[str, tuple[str, str, bool]] = {
    "memory": ("memory_mib", "MiB", True),
    "timeout": ("timeout", "s", False),
    "cpu": ("cpu", "s", False),
    "procs": ("procs", "", True),
    "output-limit": ("output_mib", "MiB", False),
}
CHOICES: dict[str, tuple[str, ...]] = {"network": NETWORK_MODES, "sandbox": SANDBOX_MODES}
TABLES = ("ceilings", "defaults", "allowed")


class PolicyError(ValueError):
    """A policy file asyncplay cannot trust or understand: it refuses to run."""

    status = exits.POLICY_BROKEN


class PolicyDenied(ValueError):
    """A request above the lab policy: one line naming the ceiling and its file."""

    status = exits.POLICY_DENIED


class Policy:
    """The policy in force: every file's ceilings combined (the strictest wins).

    ``ceilings``: key -> (value, file). ``allowed``: key -> (modes, files that narrowed
    them). ``defaults``: key -> value, already within the ceilings.
    """

    def __init__(self, files: tuple[str, ...] = ()) -> None:
        self.files = files
        self.ceilings: dict[str, tuple[float, str]] = {}
        self.allowed: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        self.defaults: dict[str, float | str] = {}

    def ceiling(self, key: str) -> float | None:
        found = self.ceilings.get(key)
        return found[0] if found else None

    def modes(self, key: str) -> tuple[str, ...]:
        """The modes of ``key`` (network, sandbox) a user may choose."""
        found = self.allowed.get(key)
        return found[0] if found else CHOICES[key]

    def default(self, key: str, builtin: float | str) -> float | str:
        """What a run gets for ``key`` when the user does not say: the policy's default,
        else the built-in one brought within the policy."""
        if key in self.defaults:
            return self.defaults[key]
        if key in CHOICES:
            modes = self.modes(key)
            return builtin if builtin in modes else modes[0]
        top = self.ceiling(key)
        if top is not None and (not builtin or builtin > top):
            return int(top) if LIMITS[key][2] else top
        return builtin

    def check(self, key: str, value: object, what: str | None = None) -> None:
        """Raise PolicyDenied if ``value`` for ``key`` is above the policy. ``what`` names the
        request in the message (``--memory``, ``the Memory setting``)."""
        what = what or f"--{key}"
        if key in CHOICES:
            if key not in self.allowed:  # (an unknown mode is the flag's own error)
                return
            modes, files = self.allowed[key]
            if value not in modes:
                raise PolicyDenied(
                    f"{what} {value} is not allowed by the lab policy "
                    f"({key} = [{', '.join(modes)}] in {' and '.join(files)})"
                )
            return
        found = self.ceilings.get(key)
        if found is None:
            return
        top, path = found
        unit = LIMITS[key][1]
        # 0 or None is "no limit" to the layers below: above any ceiling.
        if not value or value > top:  # type: ignore[operator]
            shown = "no limit" if not value else f"{_number(value)}"  # type: ignore[arg-type]
            raise PolicyDenied(
                f"{what} {shown} is above the lab policy's ceiling "
                f"({key} = {_number(top)}{' ' + unit if unit else ''} in {path})"
            )

    def enforce(self, spec: object, names: dict[str, str] | None = None) -> None:
        """Every limit and mode of a RunSpec within the policy (the session's last check,
        whatever front end built the spec). ``names``: key -> how the message names that
        request (the TUI names its settings; the default is the flag)."""
        names = names or {}
        limits = getattr(spec, "limits", None)
        for key, (attr, _unit, _whole) in LIMITS.items():
            if key in self.ceilings:
                self.check(key, getattr(limits, attr, None), names.get(key))
        for key in CHOICES:
            value = getattr(spec, key, None)
            if value is not None:
                self.check(key, value, names.get(key))

    def lines(self) -> list[str]:
        """What ``asyncplay doctor`` shows: the files, then each ceiling and the default a
        run gets when it does not ask."""
        if not self.files:
            return [f"policy  none ({SYSTEM_PATH} does not exist): no ceilings"]
        builtin = Limits()
        out = [f"policy  {' + '.join(self.files)}"]
        for key, (attr, unit, _whole) in LIMITS.items():
            top = self.ceiling(key)
            unit = " " + unit if unit else ""
            text = f"at most {_number(top)}{unit}" if top else "no ceiling"
            default = self.default(key, getattr(builtin, attr))
            out.append(f"  {key:<13} {text}, default {_number(default)}{unit}")  # type: ignore[arg-type]
        for key, builtin_mode in (("network", "on"), ("sandbox", "auto")):
            text = ", ".join(self.modes(key)) + " allowed"
            out.append(f"  {key:<13} {text}, default {self.default(key, builtin_mode)}")
        return out


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


# ---- reading ---------------------------------------------------------------------------

_CACHE: dict[tuple, Policy] = {}


def load() -> Policy:
    """The policy in force now (re-read when a file changes). Raises PolicyError."""
    paths: list[tuple[str, bool]] = [(SYSTEM_PATH, True)]
    extra = os.environ.get(ENV)
    if extra:
        paths.append((os.path.abspath(extra), False))
    found: list[tuple[str, os.stat_result]] = []
    for path, system in paths:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            if system:
                continue
            raise PolicyError(f"lab policy {path} (from ${ENV}): no such file") from None
        except OSError as exc:
            raise PolicyError(f"lab policy {path}: cannot be read: {exc.strerror}") from None
        if not stat.S_ISREG(st.st_mode):  # (a FIFO or /dev/zero would hang or never end)
            raise PolicyError(f"lab policy {path}: not a regular file")
        found.append((path, st))
    key = tuple((p, s.st_ino, s.st_size, s.st_mtime_ns) for p, s in found)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    policy = Policy(tuple(p for p, _ in found))
    for path, st in found:
        if path == SYSTEM_PATH:
            _check_trusted(path, st)
        _merge(policy, path, _parse(path, _read(path)))
    _CACHE.clear()
    _CACHE[key] = policy
    return policy


def _check_trusted(path: str, st: os.stat_result) -> None:
    """The administrator's file and its folder may be changed by root alone (else any user
    who can write them could loosen the policy)."""
    try:
        parent = os.stat(os.path.dirname(path))
    except OSError as exc:
        raise PolicyError(f"lab policy {path}: cannot check its folder: {exc.strerror}") from None
    for what, s in ((path, st), (os.path.dirname(path), parent)):
        writable_by_others = s.st_mode & stat.S_IWOTH or (s.st_mode & stat.S_IWGRP and s.st_gid)
        if s.st_uid != 0 or writable_by_others:
            raise PolicyError(
                f"lab policy {path}: {what} could be changed by users other than root "
                "(make it owned by root and writable by root alone)"
            )


def _read(path: str) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the same parser, from PyPI
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            raise PolicyError(
                f"lab policy {path}: cannot be read: this Python needs the tomli package "
                "(a dependency of asyncplay on Python 3.10: pip install tomli)"
            ) from None
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise PolicyError(f"lab policy {path}: cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"lab policy {path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise PolicyError(f"lab policy {path}: not UTF-8 text") from None


def _parse(path: str, data: dict) -> Policy:
    """One file's policy; every key is checked (an unknown one is a typo, not a no-op)."""
    one = Policy((path,))

    def bad(where: str, why: str) -> PolicyError:
        return PolicyError(f"lab policy {path}: {where}: {why}")

    for table in data:
        if table not in TABLES:
            raise bad(table, f"unknown table (the tables are [{'], ['.join(TABLES)}])")
        if not isinstance(data[table], dict):
            raise bad(table, "must be a table, e.g. [" + table + "]")
    for key, value in data.get("ceilings", {}).items():
        if key not in LIMITS:
            raise bad(f"ceilings.{key}", f"unknown ceiling (they are {', '.join(LIMITS)})")
        one.ceilings[key] = (_limit(value, LIMITS[key][2], bad, f"ceilings.{key}"), path)
    for key, value in data.get("allowed", {}).items():
        if key not in CHOICES:
            raise bad(f"allowed.{key}", f"unknown (it takes {', '.join(CHOICES)})")
        modes = CHOICES[key]
        if (
            not isinstance(value, list)
            or not value
            or any(v not in modes for v in value)
            or len(set(value)) != len(value)
        ):
            raise bad(f"allowed.{key}", f"must be a list of some of {', '.join(modes)}")
        one.allowed[key] = (tuple(value), (path,))
    for key, value in data.get("defaults", {}).items():
        where = f"defaults.{key}"
        if key in LIMITS:
            number = _limit(value, LIMITS[key][2], bad, where)
            top = one.ceiling(key)
            if top is not None and number > top:
                raise bad(where, f"{_number(number)} is above its ceiling {_number(top)}")
            one.defaults[key] = number
        elif key in CHOICES:
            if value not in one.modes(key):
                raise bad(where, f"must be one of {', '.join(one.modes(key))}")
            one.defaults[key] = value
        else:
            raise bad(where, f"unknown (defaults take {', '.join([*LIMITS, *CHOICES])})")
    return one


def _limit(value: object, whole: bool, bad, where: str) -> float:  # noqa: ANN001
    import math  # (a policy file's number: not in every run's start-up)

    kind = "a whole number" if whole else "a number"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad(where, f"must be {kind} above 0, not {value!r}")
    if (whole and not isinstance(value, int)) or not math.isfinite(value) or value <= 0:
        raise bad(where, f"must be {kind} above 0, not {value!r}")
    return value


def _merge(into: Policy, path: str, one: Policy) -> None:
    """Add one file's policy: the lower ceiling and the smaller set of modes win; its
    defaults replace earlier ones but are kept within the combined ceilings."""
    for key, (value, where) in one.ceilings.items():
        if key not in into.ceilings or value < into.ceilings[key][0]:
            into.ceilings[key] = (value, where)
    for key, (modes, _files) in one.allowed.items():
        if key in into.allowed:
            before, files = into.allowed[key]
            modes = tuple(m for m in before if m in modes)
            files = (*files, path)
            if not modes:
                raise PolicyError(
                    f"lab policy {' and '.join(files)}: together they allow no {key} mode"
                )
            into.allowed[key] = (modes, files)
        else:
            into.allowed[key] = (modes, (path,))
    into.defaults.update(one.defaults)
    for key, value in list(into.defaults.items()):
        if key in CHOICES:
            if value not in into.modes(key):
                into.defaults[key] = into.modes(key)[0]
        else:
            top = into.ceiling(key)
            if top is not None and value > top:  # type: ignore[operator]
                into.defaults[key] = top
