"""``asyncplay doctor``: which sandbox layers work on this machine and why not, then the
lab policy in force (its files, each ceiling and default). A policy that cannot be used is
said here, and the status is the one every refused run gets."""

from __future__ import annotations

from types import SimpleNamespace

__all__ = ["doctor"]


def doctor(ns: SimpleNamespace) -> int:
    from asyncplay import policy, sandbox

    for line in sandbox.doctor():
        print(line)
    try:
        lines = policy.load().lines()
    except policy.PolicyError as exc:
        print(f"policy  unusable, so asyncplay refuses to run: {exc}")
        return exc.status
    for line in lines:
        print(line)
    return 0
