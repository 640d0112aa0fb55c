#!/usr/bin/env python3
"""tests/mcp/server.py - an MCP server over stdio or Streamable HTTP for
the tests.

It speaks the Model Context Protocol as the specification has it:
newline-delimited JSON-RPC 2.0 on stdin and stdout, or with --http
PORT-FILE each message POSTed to http://127.0.0.1:PORT/ (the port it
listens on is written to PORT-FILE once it does; HTTP/1.1, connections
kept alive, a thread each), `initialize` with
version negotiation, `tools/list` paginated with an opaque cursor,
`tools/call`, `ping`, `notifications/cancelled`, progress and logging
notifications, and requests of its own to the client.  Python's standard
library only.

Tools: echo {text}, add {a, b}, sleep {ms} (honours cancellation),
progress {steps, stale} (notifications/progress to the call's
progressToken, after one to a token that is no longer in use if stale),
log {level, text} (notifications/message), fail {text} (an isError
result), ask_sampling {method} (sends the client a request, by default
sampling/createMessage, and reports the answer it got), getenv {name},
stats (what the server saw: the client, notifications/initialized,
cancellations, tools/list pages served, the MCP-Protocol-Version header
of the last request), and headers (the HTTP headers of the call).

Over HTTP, --reply json (the default) answers a request with one
application/json body, dropping what else the call sends; --reply sse
answers with a text/event-stream of the call's notifications and
requests, then its answer.  initialize makes a session, its id in the
Mcp-Session-Id header, which every later message must carry (400
without, 404 for an id unknown or deleted); a wrong MCP-Protocol-Version
is 400; notifications and answers are taken with 202; DELETE ends the
session (and says so on stderr); GET is 405, but with --poll.

Misbehaviour on request, for the client's hostile-server tests:
  --garbage        a malformed line before each tools/call answer
  --wrong-id       an answer with an id nobody asked for before each
                   tools/call answer
  --huge N         tools/call answers carry a text of N bytes
  --silent         answer nothing at all
  --exit-mid-call  exit with status 3 on tools/call, a word on stderr first
  --old-version    speak only protocol version 2024-11-05
  --bad-version    answer initialize with version 1999-01-01
  --protocol V     answer initialize with version V, whatever was offered
  --stderr-noise   256 KiB on stderr at the start, 4 KiB per message
  --ignore-cancel  sleep finishes and answers even when cancelled
  --stubborn       ignore SIGTERM and the end of stdin
  --flood          on tools/call, send log notifications forever
and over HTTP:
  --content-type T  replies with content type T
  --expire N       a session ends after N messages: 404 from then on
  --require-header "NAME: VALUE"  401 for a message without it
  --poll MS        with --reply sse, a request's stream is primed with an
                   event id and "retry: MS", then ended at once: the
                   client must come back with GET and Last-Event-ID, and
                   each GET gives one event after that id and ends too,
                   until the answer has been given (the polling of
                   protocol 2025-11-25); the ids asked for are in stats
and --page N (tools per tools/list page, default 5), --extra N (that
many more tools, tool_001 ... echoing like echo).
"""
import http.server
import json
import os
import queue
import select
import signal
import sys
import threading
import time
import uuid

VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]


def schema(props, required=()):
    return {"type": "object", "properties": props,
            "required": list(required)}


STR = {"type": "string"}
NUM = {"type": "number"}
TOOLS = [
    {"name": "echo", "description": "Say the text back.",
     "inputSchema": schema({"text": STR}, ["text"]),
     "annotations": {"readOnlyHint": True}},
    {"name": "add", "description": "Add two numbers.",
     "inputSchema": schema({"a": NUM, "b": NUM}, ["a", "b"]),
     "outputSchema": schema({"sum": NUM}, ["sum"])},
    {"name": "sleep", "description": "Sleep ms milliseconds.",
     "inputSchema": schema({"ms": NUM}, ["ms"])},
    {"name": "progress", "description": "Report progress steps times.",
     "inputSchema": schema({"steps": NUM})},
    {"name": "log", "description": "Send a log message.",
     "inputSchema": schema({"level": STR, "text": STR}, ["text"])},
    {"name": "fail", "description": "Fail with the text.",
     "inputSchema": schema({"text": STR})},
    {"name": "ask_sampling", "description": "Ask the client something.",
     "inputSchema": schema({"method": STR})},
    {"name": "getenv", "description": "A variable of the environment.",
     "inputSchema": schema({"name": STR}, ["name"])},
    {"name": "stats", "description": "What the server saw.",
     "inputSchema": schema({})},
    {"name": "headers", "description": "The HTTP headers of the call.",
     "inputSchema": schema({})},
]


class Opts:
    page = 5
    extra = 0
    garbage = wrong_id = silent = exit_mid_call = False
    noise = ignore_cancel = stubborn = flood = False
    huge = None
    protocol = None
    versions = VERSIONS
    http = None
    reply = "json"
    content_type = None
    expire = None
    require = None
    poll = None


FLAGS = {"--garbage": "garbage", "--wrong-id": "wrong_id",
         "--silent": "silent", "--exit-mid-call": "exit_mid_call",
         "--stderr-noise": "noise", "--ignore-cancel": "ignore_cancel",
         "--stubborn": "stubborn", "--flood": "flood"}


def parse_args(argv):
    o = Opts()
    it = iter(argv)
    for a in it:
        if a in FLAGS:
            setattr(o, FLAGS[a], True)
        elif a in ("--page", "--extra", "--huge", "--expire", "--poll"):
            setattr(o, a[2:], int(next(it)))
        elif a in ("--http", "--reply", "--content-type"):
            setattr(o, a[2:].replace("-", "_"), next(it))
        elif a == "--require-header":
            o.require = [x.strip() for x in next(it).split(":", 1)]
        elif a == "--protocol":
            o.protocol = next(it)
        elif a == "--bad-version":
            o.protocol = "1999-01-01"
        elif a == "--old-version":
            o.versions = ["2024-11-05"]
        else:
            sys.exit("server.py: unknown option " + a)
    return o


class Conn:
    """Messages in from stdin (with a timeout) and out to stdout."""

    def __init__(self):
        self.buf = b""
        self.eof = False
        self.held = []          # read while waiting for something else

    def write(self, msg):
        sys.stdout.buffer.write(json.dumps(msg, separators=(",", ":"))
                                .encode() + b"\n")
        sys.stdout.buffer.flush()

    def raw(self, data):
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()

    def read(self, timeout=None):
        """The next message; None at the timeout; EOFError at the end."""
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            nl = self.buf.find(b"\n")
            if nl >= 0:
                line, self.buf = self.buf[:nl], self.buf[nl + 1:]
                if not line.strip():
                    continue
                try:
                    return json.loads(line)
                except ValueError:
                    self.write({"jsonrpc": "2.0", "id": None, "error":
                                {"code": -32700, "message": "Parse error"}})
                    continue
            if self.eof:
                raise EOFError
            left = None if end is None else max(0, end - time.monotonic())
            r, _, _ = select.select([0], [], [], left)
            if not r:
                return None
            data = os.read(0, 65536)
            if not data:
                self.eof = True
            self.buf += data


class Server:
    def __init__(self, opts):
        self.o = opts
        self.c = Conn()
        self.tools = TOOLS + [
            {"name": "tool_%03d" % i, "description": "Echo, again.",
             "inputSchema": schema({"text": STR})}
            for i in range(1, opts.extra + 1)]
        self.stats = {"client": None, "protocol": None, "initialized": False,
                      "cancelled": [], "list_pages": 0,
                      "protocol_header": None}
        self.asked = 0
        self.http_headers = {}

    def noise(self, n):
        if self.o.noise:
            line = b"noise " * 15 + b"\n"
            sys.stderr.buffer.write(line * (n // len(line)))
            sys.stderr.buffer.flush()

    def answer(self, rid, result):
        self.c.write({"jsonrpc": "2.0", "id": rid, "result": result})

    def error(self, rid, code, message):
        self.c.write({"jsonrpc": "2.0", "id": rid,
                      "error": {"code": code, "message": message}})

    def run(self):
        while True:
            msg = self.c.held.pop(0) if self.c.held else self.c.read()
            self.noise(4096)
            if self.o.silent:
                continue
            if "method" not in msg:
                continue        # an answer to nothing we asked
            if "id" not in msg:
                self.notification(msg)
            else:
                self.request(msg)

    def notification(self, msg):
        if msg["method"] == "notifications/initialized":
            self.stats["initialized"] = True
        elif msg["method"] == "notifications/cancelled":
            self.stats["cancelled"].append(msg.get("params"))

    def request(self, msg):
        rid, method = msg["id"], msg["method"]
        params = msg.get("params") or {}
        if method == "initialize":
            self.stats["client"] = params.get("clientInfo")
            offered = params.get("protocolVersion")
            v = self.o.protocol or (offered if offered in self.o.versions
                                    else self.o.versions[0])
            self.stats["protocol"] = v
            self.answer(rid, {
                "protocolVersion": v,
                "capabilities": {"tools": {"listChanged": False},
                                 "logging": {}},
                "serverInfo": {"name": "agentutils-test-server",
                               "version": "1.0"}})
        elif method == "ping":
            self.answer(rid, {})
        elif method == "tools/list":
            self.list(rid, params)
        elif method == "tools/call":
            self.call(rid, params)
        else:
            self.error(rid, -32601, "Method not found: " + str(method))

    def list(self, rid, params):
        cursor = params.get("cursor")
        start = 0
        if cursor is not None:
            if not (isinstance(cursor, str) and cursor.startswith("page-")
                    and cursor[5:].isdigit()):
                return self.error(rid, -32602, "Invalid cursor")
            start = int(cursor[5:])
        end = start + self.o.page
        self.stats["list_pages"] += 1
        result = {"tools": self.tools[start:end]}
        if end < len(self.tools):
            result["nextCursor"] = "page-%d" % end
        self.answer(rid, result)

    def call(self, rid, params):
        name = params.get("name")
        args = params.get("arguments") or {}
        token = (params.get("_meta") or {}).get("progressToken")
        if self.o.exit_mid_call:
            sys.stderr.write("server.py: exiting in the middle of a call\n")
            sys.stderr.flush()
            os._exit(3)
        while self.o.flood:
            self.c.write({"jsonrpc": "2.0", "method": "notifications/message",
                          "params": {"level": "debug", "data": "flood"}})
        if name not in [t["name"] for t in self.tools]:
            return self.error(rid, -32602, "Unknown tool: " + str(name))
        result = getattr(self, "tool_" + name, self.tool_echo)(rid, args,
                                                               token)
        if result is None:
            return              # cancelled
        if self.o.huge is not None:
            result = {"content": [{"type": "text",
                                   "text": "x" * self.o.huge}]}
        if self.o.garbage:
            self.c.raw(b"this is {not JSON\n")
        if self.o.wrong_id:
            self.answer(rid + 1000 if isinstance(rid, int) else "nobody",
                        {"content": []})
        self.answer(rid, result)

    @staticmethod
    def text(s, **kw):
        return dict({"content": [{"type": "text", "text": s}]}, **kw)

    def tool_echo(self, rid, args, token):
        return self.text(str(args.get("text", "")))

    def tool_add(self, rid, args, token):
        s = args.get("a", 0) + args.get("b", 0)
        return self.text(str(s), structuredContent={"sum": s})

    def tool_sleep(self, rid, args, token):
        end = time.monotonic() + args.get("ms", 0) / 1000.0
        cancelled = False
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            msg = self.c.read(left)
            if msg is None:
                break
            if (msg.get("method") == "notifications/cancelled" and
                    (msg.get("params") or {}).get("requestId") == rid):
                self.notification(msg)
                sys.stderr.write("server.py: request %s cancelled: %s\n" %
                                 (rid, msg["params"].get("reason")))
                sys.stderr.flush()
                cancelled = True
                if not self.o.ignore_cancel:
                    return None
            else:
                self.c.held.append(msg)
        return self.text("slept" + (" though cancelled" if cancelled
                                    else ""))

    def tool_progress(self, rid, args, token):
        steps = int(args.get("steps", 3))
        if args.get("stale"):       # progress of a request long gone
            self.c.write({"jsonrpc": "2.0",
                          "method": "notifications/progress",
                          "params": {"progressToken": "gone",
                                     "progress": 1}})
        if token is not None:
            for i in range(1, steps + 1):
                self.c.write({"jsonrpc": "2.0",
                              "method": "notifications/progress",
                              "params": {"progressToken": token,
                                         "progress": i, "total": steps,
                                         "message": "step %d" % i}})
        return self.text("done")

    def tool_log(self, rid, args, token):
        self.c.write({"jsonrpc": "2.0", "method": "notifications/message",
                      "params": {"level": args.get("level", "info"),
                                 "logger": "test",
                                 "data": args.get("text")}})
        return self.text("logged")

    def tool_fail(self, rid, args, token):
        return self.text(str(args.get("text", "failed")), isError=True)

    def tool_ask_sampling(self, rid, args, token):
        self.asked += 1
        qid = "ask-%d" % self.asked
        method = args.get("method", "sampling/createMessage")
        self.c.write({"jsonrpc": "2.0", "id": qid, "method": method,
                      "params": {"messages": [], "maxTokens": 1}
                      if method.startswith("sampling/") else {}})
        while True:
            msg = self.c.read()
            if msg.get("id") == qid and "method" not in msg:
                break
            self.c.held.append(msg)
        return self.text(json.dumps(msg), structuredContent={"answer": msg})

    def tool_getenv(self, rid, args, token):
        v = os.environ.get(str(args.get("name")))
        return self.text(v or "", structuredContent={"value": v})

    def tool_stats(self, rid, args, token):
        return self.text(json.dumps(self.stats),
                         structuredContent=self.stats)

    def tool_headers(self, rid, args, token):
        return self.text(json.dumps(self.http_headers),
                         structuredContent=self.http_headers)


class HttpConn:
    """The reply to one request over HTTP: a JSON body, or an event
    stream written as the call goes (chunked, so that the connection
    stays open); what the client POSTs meanwhile comes from inbox."""

    def __init__(self, handler, inbox, sid, srv):
        self.h = handler
        self.inbox = inbox
        self.sid = sid
        self.srv = srv
        self.sse = OPTS.reply == "sse"
        self.poll = self.sse and OPTS.poll is not None
        self.started = self.ended = False
        self.body = self.garbage = None
        self.held = []

    def start(self):
        if not self.started:
            self.started = True
            self.h.send_response(200)
            self.h.send_header("Content-Type", OPTS.content_type or
                               "text/event-stream")
            self.h.send_header("Transfer-Encoding", "chunked")
            self.h.send_header("Mcp-Session-Id", self.sid)
            self.h.end_headers()
            if self.poll:
                with self.srv.cv:
                    self.srv.events = []
                    self.srv.done = False
                self.send(b"id: 0\nretry: %d\ndata:\n\n" % OPTS.poll)
                self.send(b"")
                self.ended = True

    def send(self, data):
        self.h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.h.wfile.flush()

    def chunk(self, data):
        self.start()
        if not self.ended:
            return self.send(data)
        with self.srv.cv:
            if data:
                self.srv.events.append(data)
            else:
                self.srv.done = True
            self.srv.cv.notify_all()

    def write(self, msg):
        data = json.dumps(msg, separators=(",", ":")).encode()
        if self.sse:
            self.chunk(b"event: message\ndata: " + data + b"\n\n")
        elif "method" not in msg:
            self.body = data

    def raw(self, data):
        if self.sse:
            self.chunk(b"data: " + data.strip() + b"\n\n")
        else:
            self.garbage = data

    def read(self, timeout=None):
        try:
            return self.inbox.get(timeout=timeout)
        except queue.Empty:
            return None

    def finish(self):
        if self.sse:
            self.chunk(b"")
            return
        body = self.garbage or self.body or b""
        self.h.send_response(200)
        self.h.send_header("Content-Type", OPTS.content_type or
                           "application/json")
        self.h.send_header("Content-Length", str(len(body)))
        self.h.send_header("Mcp-Session-Id", self.sid)
        self.h.end_headers()
        self.h.wfile.write(body)


SESSIONS = {}
OPTS = None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def status(self, code, text=""):
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        srv = SESSIONS.get(self.headers.get("Mcp-Session-Id"))
        if OPTS.poll is None:
            return self.status(405, "no stream of the server's own")
        if srv is None:
            return self.status(404, "no such session")
        try:
            last = int(self.headers.get("Last-Event-ID", ""))
        except ValueError:
            return self.status(400, "Last-Event-ID must be a number")
        srv.stats.setdefault("resumed", []).append(last)
        with srv.cv:
            srv.cv.wait_for(lambda: len(srv.events) > last or srv.done,
                            timeout=30)
            ev = srv.events[last:last + 1]
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for data in ev:
            data = b"id: %d\n%s" % (last + 1, data)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def do_DELETE(self):
        sid = self.headers.get("Mcp-Session-Id")
        if SESSIONS.pop(sid, None) is None:
            return self.status(404, "no such session")
        sys.stderr.write("server.py: session %s deleted\n" % sid)
        sys.stderr.flush()
        self.status(200)

    def do_POST(self):
        o = OPTS
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if o.silent:
            time.sleep(3600)
        accept = self.headers.get("Accept", "")
        if ("application/json" not in accept or
                "text/event-stream" not in accept):
            return self.status(406, "Accept must name both types")
        if self.headers.get("Content-Type") != "application/json":
            return self.status(415, "not application/json")
        if o.require and self.headers.get(o.require[0]) != o.require[1]:
            return self.status(401, "Unauthorized")
        try:
            msg = json.loads(body)
        except ValueError:
            return self.status(400, "Parse error")
        sid = self.headers.get("Mcp-Session-Id")
        if msg.get("method") == "initialize":
            sid = uuid.uuid4().hex
            srv = SESSIONS[sid] = Server(o)
            srv.inbox = queue.Queue()
            srv.posts = 0
            srv.cv = threading.Condition()
            srv.lock = threading.Lock()
            srv.events = []
            srv.done = False
        elif sid is None:
            return self.status(400, "Bad Request: no Mcp-Session-Id")
        elif sid not in SESSIONS:
            return self.status(404, "no such session")
        else:
            srv = SESSIONS[sid]
            srv.stats["protocol_header"] = self.headers.get(
                "MCP-Protocol-Version")
            if srv.stats["protocol_header"] not in (None,
                                                    srv.stats["protocol"]):
                return self.status(400, "wrong MCP-Protocol-Version")
        srv.posts += 1
        if o.expire is not None and srv.posts > o.expire:
            SESSIONS.pop(sid, None)
            return self.status(404, "session expired")
        srv.http_headers = {k.lower(): v for k, v in self.headers.items()}
        if "method" not in msg or "id" not in msg:
            if msg.get("method") == "notifications/initialized":
                srv.notification(msg)
            else:
                srv.inbox.put(msg)
            return self.status(202)
        # One request of a session at a time: a call given up by the
        # client (cancelled) ends on its own connection before the next
        # one takes over the session's.
        with srv.lock:
            srv.c = HttpConn(self, srv.inbox, sid, srv)
            srv.request(msg)
            srv.c.finish()


class HttpServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass            # a client gone in the middle of a reply


def serve_http(portfile):
    httpd = HttpServer(("127.0.0.1", 0), Handler)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % httpd.server_address[1])
    os.rename(portfile + ".tmp", portfile)
    httpd.serve_forever()


def main():
    global OPTS
    opts = OPTS = parse_args(sys.argv[1:])
    if opts.http:
        signal.signal(signal.SIGTERM, lambda n, f: os._exit(0))
        return serve_http(opts.http)
    if opts.stubborn:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    s = Server(opts)
    s.noise(256 * 1024)
    try:
        s.run()
    except EOFError:
        pass
    while opts.stubborn:
        time.sleep(60)


if __name__ == "__main__":
    main()
