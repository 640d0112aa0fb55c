#!/usr/bin/env python3
"""Drive a run of tasks from Python through libagentutils (ctypes only).

usage: run.py LIBAGENTUTILS.so PLAN.ndjson [STATE.db]
The plan is aw-plan's output; this is a worker taking tasks one by one.
"""
import ctypes, json, subprocess, sys, time

lib = ctypes.CDLL(sys.argv[1])
P, S, I = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
lib.au_run_open.argtypes = [S, S, S, ctypes.POINTER(P)]
lib.au_run_id.argtypes, lib.au_run_id.restype = [P], S
lib.au_run_next.argtypes = [P, ctypes.POINTER(P), ctypes.POINTER(P),
                            ctypes.POINTER(I)]
lib.au_run_report.argtypes = [P, S, I, I, S]
lib.au_run_close.argtypes = [P]
lib.au_free.argtypes = [P]
lib.au_errmsg.restype = S


def take(p):
    """The string the library returned, freed."""
    s = ctypes.string_at(p).decode()
    lib.au_free(p)
    return s


run = P()
db = sys.argv[3].encode() if len(sys.argv) > 3 else None
plan = open(sys.argv[2], "rb").read()
if lib.au_run_open(db, None, plan, ctypes.byref(run)):
    sys.exit("run.py: " + lib.au_errmsg().decode())
print("run", lib.au_run_id(run).decode())
while True:
    task, rec, attempt = P(), P(), I()
    rc = lib.au_run_next(run, ctypes.byref(task), ctypes.byref(rec),
                         ctypes.byref(attempt))
    if rc == 2:
        break                   # the run is over
    if rc == 1:
        time.sleep(0.1)         # nothing ready: others are at work
        continue
    if rc:
        sys.exit("run.py: " + lib.au_errmsg().decode())
    task, rec = take(task), json.loads(take(rec))
    cmd = rec["run"]
    done = subprocess.run(cmd, shell=isinstance(cmd, str))
    print(task, "attempt", attempt.value, "exit", done.returncode)
    lib.au_run_report(run, task.encode(), attempt, done.returncode, None)
lib.au_run_close(run)
