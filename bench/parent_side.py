"""What the parent pays per run, without the run: decoding a real run's event channel and
folding its events, in CPU time of this process.

The channel bytes come from a real ``asyncplay run --sandbox none`` of the program (the
session's reads, recorded as they arrive); then, in this process, with the collector set
as ``asyncplay run`` sets it (off), the bytes are decoded in the session's 256 KiB reads and the
events folded into a model, and the summary made, each timed apart (CPU time, medians of
``--rounds``). ``--against DIR`` times another checkout's decoder and reducer on the
channel of the same program run by that checkout (its wire format may differ), in a
process of its own (its rows say "before"). "through the session" is the reads passed
through ``SessionCore.on_channel`` (decoding them) and each event it hands over folded, as
the headless command's driver does: decode and fold, and what the session adds per event.
"headless" is the command's own path: the session, its deferred model (which folds the
tasks only when read, or reads them as columns) and the summary, as ``asyncplay run`` does.
Each checkout's decoder is made as its ``asyncplay run`` makes it (task records batched,
where it batches them). What a program prints comes
through its pipes, not the channel (the channel has a copy of each write for the
attribution): the merge and the folding of ``output`` events are not in these figures.

``--real N``: also the CPU of the whole parent (its ``RUSAGE_SELF`` when it exits) of N
real runs of each side, interleaved, ``asyncplay run --sandbox none`` with ``--quiet`` (no
summary) and without (the summary printed), and of a hello world's (its start).

    python bench/parent_side.py                   # the 20,000 tasks of bench/cost.py
    python bench/parent_side.py --program prints --against /tmp/before
    python bench/parent_side.py --real 7 --against /tmp/before
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cost import PROGRAMS  # noqa: E402

# Runs asyncplay with the session's channel reads written to a file as well.
CAPTURE = """
import runpy, sys
from asyncplay.runner import core
out = open(sys.argv[1], "wb")
feed = core.SessionCore.on_channel
def on_channel(self, data):
    out.write(data)
    return feed(self, data)
core.SessionCore.on_channel = on_channel
sys.argv = ["asyncplay", "run", "--sandbox", "none", "--quiet", sys.argv[2]]
runpy.run_module("asyncplay", run_name="__main__")
"""

# Decodes and folds the bytes; prints "decode fold summary session events steps" (ms, ms,
# ms, ms, n, n): session is the reads through the session (SessionCore.on_channel, which
# decodes) and each event it gives folded, as the headless command's driver does.
MEASURE = """
import gc, inspect, statistics, sys, time
from asyncplay.decoder import Decoder
from asyncplay.model import RunModel, apply
from asyncplay.runner.core import SessionCore
from asyncplay.runner.spec import RunSpec
from asyncplay.views import summary
# The decoder as this checkout's ``asyncplay run`` makes it: task records batched, or not.
kw = {"batched": True} if "batched" in inspect.signature(Decoder).parameters else {}
from asyncplay.cli import run as command
# The collector as this checkout's ``asyncplay run`` sets it: off to the end (cli/__init__),
# or, before, on with rare collections (``_collect_rarely``).
if hasattr(command, "_collect_rarely"):
    command._collect_rarely()
else:
    gc.disable()
data = open(sys.argv[1], "rb").read()
rounds = int(sys.argv[2])
READ = 256 * 1024
cpu = time.process_time
dec, fold, summ, sess, head = [], [], [], [], []
for _ in range(rounds):
    t = cpu()
    d = Decoder(**kw)
    events = []
    for i in range(0, len(data), READ):
        events += d.feed(data[i : i + READ])
    dec.append(cpu() - t)
    t = cpu()
    model = RunModel()
    for ev in events:
        apply(model, ev)
    fold.append(cpu() - t)
    t = cpu()
    summary.summary(model, False, "/", 100)
    summ.append(cpu() - t)
    n_events, steps = len(events), model.steps
    del events, model
    t = cpu()
    core = SessionCore(RunSpec(python=sys.executable, args=(), path="p.py"), control=False, **kw)
    model = RunModel()
    for i in range(0, len(data), READ):
        for ev in core.on_channel(data[i : i + READ]):
            apply(model, ev)
    sess.append(cpu() - t)
    del core, model
    # The headless command's own path: the session, a deferred model, the summary.
    t = cpu()
    core = SessionCore(RunSpec(python=sys.executable, args=(), path="p.py"), control=False, **kw)
    model = RunModel(deferred=True)
    for i in range(0, len(data), READ):
        for ev in core.on_channel(data[i : i + READ]):
            apply(model, ev)
    apply(model, {"event": "run_end", "t": model.now, "exit_code": 0})
    summary.summary(model, False, "/", 100)
    head.append(cpu() - t)
    del core, model
m = statistics.median
print(m(dec) * 1000, m(fold) * 1000, m(summ) * 1000, m(sess) * 1000, n_events, steps,
      m(head) * 1000)
"""


# Runs asyncplay and writes its own CPU (user + system) on stderr as it exits (os._exit).
WHOLE = """
import os, resource, runpy, sys
exit_now = os._exit
def report(status):
    r = resource.getrusage(resource.RUSAGE_SELF)
    os.write(2, b"\\nparent-cpu %f\\n" % (r.ru_utime + r.ru_stime))
    exit_now(status)
os._exit = report
sys.argv = ["asyncplay", *sys.argv[1:]]
runpy.run_module("asyncplay", run_name="__main__")
"""


def real_runs(ns: argparse.Namespace, sides: list, prog: Path, env: dict) -> None:
    """The whole parent's CPU of real runs, each side's in turn, round after round."""
    hello = prog.with_name("hello.py")
    hello.write_text('print("hello")\n')
    cases = [("--quiet", prog, ["--quiet"]), ("summary", prog, []), ("hello", hello, [])]
    got: dict = {}
    for _ in range(ns.real):
        for case, target, flags in cases:
            for name, root in sides:
                out = subprocess.run(
                    [ns.python, "-c", WHOLE, "run", "--sandbox", "none", *flags, str(target)],
                    env=dict(env, PYTHONPATH=root),
                    cwd=prog.parent,
                    capture_output=True,
                    text=True,
                    check=False,
                ).stderr
                cpu = [float(x.split()[1]) for x in out.splitlines() if x.startswith("parent-cpu")]
                got.setdefault((case, name), []).append(cpu[-1])
    print(f"  the whole parent of {ns.real} real runs, CPU medians, load {os.getloadavg()[0]:.1f}")
    for case, _target, _flags in cases:
        print(
            f"    {case:8}"
            + "".join(
                f"  {name} {statistics.median(got[(case, name)]) * 1000:6.1f} ms"
                for name, _root in sides
            )
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--program", choices=sorted(PROGRAMS), default="tasks")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--against", metavar="DIR", help="another checkout, on the same bytes")
    ap.add_argument("--real", type=int, default=0, metavar="N", help="N real runs' parents too")
    ns = ap.parse_args()
    env = dict(os.environ)
    env.pop("PYTHONUNBUFFERED", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory() as tmp:
        prog = Path(tmp, f"{ns.program}.py")
        prog.write_text(PROGRAMS[ns.program][1])
        print(
            f"{PROGRAMS[ns.program][0]}: {ns.rounds} rounds, CPU medians, "
            f"load {os.getloadavg()[0]:.1f}"
        )
        sides = [("now", str(ROOT))] + ([("before", ns.against)] if ns.against else [])
        for name, root in sides:
            # Each side's own channel: the wire format may differ between them.
            channel = Path(tmp, f"channel-{name}.bin")
            subprocess.run(
                [ns.python, "-c", CAPTURE, str(channel), str(prog)],
                env=dict(env, PYTHONPATH=root),
                cwd=tmp,
                stdout=subprocess.DEVNULL,
                check=True,
            )
            out = subprocess.run(
                [ns.python, "-c", MEASURE, str(channel), str(ns.rounds)],
                env=dict(env, PYTHONPATH=root),
                cwd=tmp,  # (not this checkout's folder: -c puts the cwd first on the path)
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            dec, fold, summ, sess = (float(x) for x in out[:4])
            print(
                f"  {name:6} decode {dec:6.1f} ms  fold {fold:6.1f} ms  summary {summ:5.1f} ms"
                f"  together {dec + fold + summ:6.1f} ms  through the session {sess:6.1f} ms"
                f"  headless {float(out[6]):6.1f} ms"
                f"  ({int(out[4]):,} events, {int(out[5]):,} steps,"
                f" {channel.stat().st_size:,} bytes of channel)"
            )
        if ns.real:
            real_runs(ns, sides, prog, env)


if __name__ == "__main__":
    main()
