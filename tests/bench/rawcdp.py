#!/usr/bin/python3
"""rawcdp.py N - the baseline of tests/bench/browser: N Runtime.evaluate
calls of "1+1" on an open page, each awaited before the next, made by a
client that speaks Chromium's --remote-debugging-pipe itself (JSON
messages ended by NUL, ours on the browser's fd 3, its on fd 4) with
nothing else in the way.  The browser is started as ws-browser starts it
(a temporary profile, headless, --no-sandbox as root).  Prints the calls
per second, timed from the answer to a first call to the answer to the
last."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def main():
    n = int(sys.argv[1])
    prof = tempfile.mkdtemp(prefix="rawcdp.")
    r3, w3 = os.pipe()
    r4, w4 = os.pipe()

    def child():
        os.dup2(r3, 3)
        os.dup2(w4, 4)

    args = [os.environ.get("AGENTUTILS_CHROMIUM", "chromium"), "--headless",
            "--remote-debugging-pipe", "--user-data-dir=" + prof,
            "--no-first-run", "--no-default-browser-check", "--disable-gpu",
            "--disable-background-networking", "--disable-extensions",
            "--hide-scrollbars", "--mute-audio", "about:blank"]
    if os.geteuid() == 0:
        args.append("--no-sandbox")
    p = subprocess.Popen(args, pass_fds=(3, 4), preexec_fn=child,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(r3)
    os.close(w4)
    buf = b""
    ids = [0]

    def call(method, params=None, session=None):
        nonlocal buf
        ids[0] += 1
        m = {"id": ids[0], "method": method}
        if params is not None:
            m["params"] = params
        if session is not None:
            m["sessionId"] = session
        os.write(w3, json.dumps(m).encode() + b"\0")
        while True:
            while b"\0" not in buf:
                d = os.read(r4, 65536)
                if not d:
                    sys.exit("rawcdp: the browser closed its pipe")
                buf += d
            msg, _, buf = buf.partition(b"\0")
            a = json.loads(msg)
            if a.get("id") == ids[0]:
                if "error" in a:
                    sys.exit("rawcdp: %s: %s" % (method, a["error"]))
                return a["result"]

    try:
        t = call("Target.createTarget", {"url": "about:blank"})["targetId"]
        s = call("Target.attachToTarget", {"targetId": t,
                                           "flatten": True})["sessionId"]
        ev = {"expression": "1+1", "returnByValue": True,
              "awaitPromise": True}
        if call("Runtime.evaluate", ev, s)["result"]["value"] != 2:
            sys.exit("rawcdp: 1+1 is not 2")
        start = time.monotonic()
        for _ in range(n):
            call("Runtime.evaluate", ev, s)
        secs = time.monotonic() - start
        print("%.1f" % (n / secs))
    finally:
        p.kill()
        p.wait()
        shutil.rmtree(prof, ignore_errors=True)


main()
