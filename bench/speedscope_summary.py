#!/usr/bin/python3
"""Time per method from a dotnet-trace speedscope file (dotnet-trace collect --format speedscope).

    /usr/bin/python3 bench/speedscope_summary.py trace.speedscope.json [--top 40] [--thread SUBSTR] [--group]

Sums, over every thread profile, each frame's exclusive time (top of the stack) and inclusive time (anywhere on the
stack, counted once per sample). --group folds frames into classes (namespace.Type) to see time per op class.
A frame marked [native] was sampled in unmanaged code under it (blocking waits, syscalls, GC), so e.g.
"WorkerPool.WorkerLoop [native]" is idle time of a worker.
"""
import argparse, collections, json, re

ap = argparse.ArgumentParser()
ap.add_argument("file")
ap.add_argument("--top", type=int, default=40)
ap.add_argument("--thread", help="only profiles whose name contains this")
ap.add_argument("--group", action="store_true", help="group by declaring type instead of method")
a = ap.parse_args()
doc = json.load(open(a.file))
frames = [f["name"] for f in doc["shared"]["frames"]]

def key(name):
    if not a.group:
        return re.sub(r"\(.*", "", name)
    body = re.sub(r"\(.*", "", name.split("!", 1)[-1])     # Namespace.Type+Nested.Method
    body = re.sub(r"\[.*?\]", "", body)                      # generic arguments
    owner = body.rsplit(".", 1)[0] if "." in body else body
    return owner.split("+", 1)[0]                              # closures and jobs count for their op class

PSEUDO = {"CPU_TIME", "UNMANAGED_CODE_TIME"}
excl, incl = collections.Counter(), collections.Counter()
total = 0.0

def leaf(stack):
    """The deepest real frame, marked [native] when the sample was in unmanaged code (kernel waits, syscalls)."""
    native = bool(stack) and frames[stack[-1]] == "UNMANAGED_CODE_TIME"
    for f in reversed(stack):
        if frames[f] not in PSEUDO:
            return key(frames[f]) + (" [native]" if native else "")
    return "(no managed frame)"

for prof in doc["profiles"]:
    if a.thread and a.thread not in prof.get("name", ""):
        continue
    if prof["type"] == "evented":
        stack, last = [], None
        for ev in prof["events"]:
            t = ev["at"]
            if last is not None and stack:
                dt = t - last
                total += dt
                excl[leaf(stack)] += dt
                for k in {key(frames[f]) for f in stack if frames[f] not in PSEUDO}:
                    incl[k] += dt
            last = t
            if ev["type"] == "O":
                stack.append(ev["frame"])
            else:
                while stack:
                    if stack.pop() == ev["frame"]:
                        break
    else:  # sampled
        for s, w in zip(prof["samples"], prof["weights"]):
            total += w
            if s:
                excl[leaf(s)] += w
            for k in {key(frames[f]) for f in s if frames[f] not in PSEUDO}:
                incl[k] += w

unit = doc["profiles"][0].get("unit", "ms") if doc["profiles"] else "ms"
print(f"total {total:.1f} {unit} over all threads")
print(f"{'exclusive':>10s} {'%':>6s}  {'inclusive':>10s} {'%':>6s}  frame")
for k, v in excl.most_common(a.top):
    ik = k.removesuffix(" [native]")
    print(f"{v:10.1f} {100 * v / total:5.1f}%  {incl[ik]:10.1f} {100 * incl[ik] / total:5.1f}%  {k[:150]}")
