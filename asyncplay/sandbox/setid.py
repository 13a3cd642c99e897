"""No set-user-ID or set-group-ID files from a root-started run.

As root the program runs as ``nobody``, and its project folder (root's) is bound back as an
idmapped mount: what ``nobody`` creates there is root's on disk (``user.py``). Without this
layer a program could copy any executable into the project folder and ``chmod 04755`` it: a
set-user-ID-root program on the machine's disk that every local user could run to become
root (the run's own mounts are ``nosuid``, the machine's are not).

A seccomp filter, installed after the drop to ``nobody`` (no-new-privs is set), refuses
with ``EPERM`` every call that would give a file those bits: ``chmod``, ``fchmod``,
``fchmodat``, ``fchmodat2``, and the creating calls whose mode carries them (``open``,
``openat``, ``creat``, ``mkdir``, ``mkdirat``, ``mknod``, ``mknodat``). ``openat2`` (its
mode is in a struct the filter cannot read) and ``io_uring_setup`` (its operations bypass
seccomp) fail with ``ENOSYS``, as on a kernel without them: Python and glibc fall back or
never use them. Other ABIs than the native one (i386, x32) are refused outright.
"""

from __future__ import annotations

import os
import struct

__all__ = ["SETID_BITS", "setid_filter"]

SETID_BITS = 0o6000  # S_ISUID | S_ISGID

# audit arch; (syscall, index of its mode argument); syscalls refused with ENOSYS; x32 bit
_ARCHES = {
    "x86_64": (
        0xC000003E,
        (
            (90, 1),  # chmod
            (91, 1),  # fchmod
            (268, 2),  # fchmodat
            (452, 2),  # fchmodat2
            (2, 2),  # open
            (257, 3),  # openat
            (85, 1),  # creat
            (83, 1),  # mkdir
            (258, 2),  # mkdirat
            (133, 1),  # mknod
            (259, 2),  # mknodat
        ),
        (437, 425),  # openat2, io_uring_setup
        True,
    ),
    "aarch64": (
        0xC00000B7,
        (
            (52, 1),  # fchmod
            (53, 2),  # fchmodat
            (452, 2),  # fchmodat2
            (56, 3),  # openat
            (34, 2),  # mkdirat
            (33, 2),  # mknodat
        ),
        (437, 425),
        False,
    ),
}
_LD_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_AND = 0x54  # BPF_ALU | BPF_AND | BPF_K
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RET = 0x06  # BPF_RET | BPF_K
_ALLOW = 0x7FFF0000
_ENOSYS = 0x00050000 | 38  # SECCOMP_RET_ERRNO | ENOSYS
_EPERM = 0x00050000 | 1


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("<HBBI", code, jt, jf, k)


def setid_filter(machine: str | None = None) -> bytes | None:
    """The classic BPF program (None: an architecture this does not know)."""
    arch = _ARCHES.get(machine or os.uname().machine)
    if arch is None:
        return None
    audit, moded, refused, x32 = arch
    # Layout: header, one JEQ per syscall (to its argument's check block), ALLOW, ENOSYS,
    # then a check block per argument index: load the mode's low word, mask, allow or EPERM.
    args = sorted({i for _nr, i in moded})
    head = [_insn(_LD_ABS, 4), _insn(_JEQ, audit, 1, 0), _insn(_RET, _ENOSYS), _insn(_LD_ABS, 0)]
    dispatch: list[tuple[int, int, str]] = []  # (op, k, target)
    if x32:
        dispatch.append((_JGE, 0x40000000, "nosys"))
    dispatch += [(_JEQ, nr, "nosys") for nr in refused]
    dispatch += [(_JEQ, nr, f"arg{i}") for nr, i in moded]
    n = len(dispatch)
    # Positions relative to the first dispatch instruction.
    where = {"allow": n, "nosys": n + 1}
    for j, i in enumerate(args):
        where[f"arg{i}"] = n + 2 + 5 * j
    prog = list(head)
    for pos, (op, k, target) in enumerate(dispatch):
        prog.append(_insn(op, k, where[target] - pos - 1, 0))
    prog += [_insn(_RET, _ALLOW), _insn(_RET, _ENOSYS)]
    for i in args:
        # seccomp_data: nr (u32), arch (u32), ip (u64), args[6] (u64, little-endian)
        prog += [
            _insn(_LD_ABS, 16 + 8 * i),
            _insn(_AND, SETID_BITS),
            _insn(_JEQ, 0, 0, 1),
            _insn(_RET, _ALLOW),
            _insn(_RET, _EPERM),
        ]
    return b"".join(prog)
