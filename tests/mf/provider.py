#!/usr/bin/env python3
"""tests/mf/provider.py - a model provider over loopback HTTP for the tests.

It speaks the two wire formats the model fabric talks, with the field
names of the real APIs: OpenAI chat completions (POST /v1/chat/completions)
and Anthropic messages (POST /v1/messages), each non-streamed or streamed
as server-sent events in that provider's own sequence of events.  HTTP/1.1
with keep-alive: every non-streamed reply has a Content-Length, streams are
sent chunked.  Python's standard library only.

It listens on 127.0.0.1, port --port N (default 0: one the system picks),
and prints the port on standard output, or writes it to --port-file F
(atomically) once listening.  Its listen backlog takes 1024 clients at
once, and it sends with TCP_NODELAY: fit for benchmarks.

The answer: the text of --reply TEXT or of --reply-file F if given, else
"echo: " and the text of the last user message that has some (tool
results are not user text).  Usage counts words: input
tokens are the words of the system prompt and of every message, output
tokens the words of the reply (or of the tool call's arguments).
  --cached N           report N of the input tokens as cached (OpenAI
                       prompt_tokens_details.cached_tokens; Anthropic
                       cache_read_input_tokens, input_tokens less them)
  --tool-call NAME:ARGS  when the request offers tools and its last message
                       does not end with a tool result, call tool NAME
                       with ARGS (a JSON object): finish_reason
                       tool_calls, stop_reason tool_use; the reply text
                       too only with --reply or --reply-file
  --key K              require "Authorization: Bearer K" (OpenAI), or
                       "x-api-key: K" and an anthropic-version header
                       (Anthropic), else 401 with the provider's error body
Streams send one word per event; Anthropic's tool arguments come in
several input_json_delta fragments, OpenAI's in several chunks.

Misbehaviour, each flag on its own:
  --status CODE        every reply is CODE with the provider's error body
  --fail-first N       only the first N requests misbehave, then all is
                       normal; alone it means --status 500
  --retry-after V      a Retry-After: V header on the error replies (V
                       seconds or an HTTP date, verbatim)
  --delay MS           wait MS before each reply
  --stall-after N      streams send N events, then hang without closing
                       until the client goes
  --event-delay MS     wait MS between stream events
  --malformed          200 with truncated JSON (in a stream: the second
                       event's data is cut, and the stream ends there)
  --drop               close the connection without a reply
  --drop-mid           send the headers and half the body (half a
                       stream's events), then close
  --content-type T     T as every reply's Content-Type
Records of what came:
  --log F              append one JSON line per request: time, method,
                       path, body (the request as JSON, or its text when
                       it is not JSON), auth (the name of the credential
                       header present, never its value, or null),
                       anthropic_version, auth_ok
  --count-file F       the number of requests so far, rewritten
                       atomically on each
"""
import argparse
import http.server
import json
import os
import re
import select
import socket
import sys
import threading
import time

OPENAI = "/v1/chat/completions"
ANTHROPIC = "/v1/messages"

OPENAI_ERRORS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}
ANTHROPIC_ERRORS = {
    400: "invalid_request_error", 401: "authentication_error",
    403: "permission_error", 404: "not_found_error",
    413: "request_too_large", 429: "rate_limit_error",
    500: "api_error", 529: "overloaded_error",
}
MESSAGES = {
    400: "Invalid request", 401: "Incorrect API key provided",
    403: "Forbidden", 404: "The model does not exist",
    408: "Request timed out", 413: "Request too large",
    429: "Rate limit reached for requests",
    500: "The server had an error while processing your request",
    502: "Bad gateway", 503: "The engine is currently overloaded",
    529: "Overloaded",
}


class Quit(Exception):
    """The client went away; nothing more to send."""


def parse_args(argv):
    p = argparse.ArgumentParser(prog="provider.py")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--key")
    p.add_argument("--reply")
    p.add_argument("--reply-file")
    p.add_argument("--cached", type=int, default=0)
    p.add_argument("--tool-call")
    p.add_argument("--status", type=int)
    p.add_argument("--fail-first", type=int)
    p.add_argument("--retry-after")
    p.add_argument("--delay", type=int, default=0)
    p.add_argument("--stall-after", type=int)
    p.add_argument("--event-delay", type=int, default=0)
    p.add_argument("--malformed", action="store_true")
    p.add_argument("--drop", action="store_true")
    p.add_argument("--drop-mid", action="store_true")
    p.add_argument("--content-type")
    p.add_argument("--log")
    p.add_argument("--count-file")
    o = p.parse_args(argv)
    if o.reply_file is not None:
        with open(o.reply_file, encoding="utf-8") as f:
            o.reply = f.read()
    o.tool = None
    if o.tool_call is not None:
        name, sep, args = o.tool_call.partition(":")
        if not sep or not name:
            p.error("--tool-call wants NAME:JSONARGS")
        o.tool = (name, json.loads(args))
        if not isinstance(o.tool[1], dict):
            p.error("--tool-call: the arguments must be a JSON object")
    if o.fail_first is not None and o.status is None and not (
            o.malformed or o.drop or o.drop_mid or o.content_type):
        o.status = 500
    return o


def write_atomic(path, text):
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def compact(v):
    return json.dumps(v, separators=(",", ":"))


def words(s):
    return len(s.split())


def text_of(content, results=True):
    """The text of a message's content: a string, or its blocks' text,
    tool results' content too unless results is False."""
    if isinstance(content, str):
        return content
    out = []
    for b in content if isinstance(content, list) else []:
        if not isinstance(b, dict):
            continue
        if isinstance(b.get("text"), str):
            out.append(b["text"])
        elif b.get("type") == "tool_result" and results:
            out.append(text_of(b.get("content")))
    return " ".join(out)


def pieces(text):
    """text in one piece per word, each with the white space after it;
    joined they are text again."""
    ps = re.findall(r"\S+\s*", text)
    lead = text[:len(text) - len(text.lstrip())]
    if not ps:
        return [text] if text else []
    ps[0] = lead + ps[0]
    return ps


def fragments(s, n=4):
    """s cut in n pieces or so, none empty unless s is."""
    size = max(1, -(-len(s) // n))
    return [s[i:i + size] for i in range(0, len(s), size)] or [""]


class Wire:
    """What the two formats share: the request read, the answer made."""

    def __init__(self, opts, req, seq):
        self.o = opts
        self.req = req
        self.seq = seq
        self.model = req.get("model") or "fake-model"
        self.stream = req.get("stream") is True
        msgs = req.get("messages") or []
        self.last_is_tool = bool(msgs) and self.is_tool_result(msgs[-1])
        self.call = None
        if opts.tool and req.get("tools") and not self.last_is_tool:
            self.call = opts.tool
        if opts.reply is not None:
            self.text = opts.reply
        elif self.call:
            self.text = ""
        else:
            last = ""
            for m in msgs:
                if isinstance(m, dict) and m.get("role") == "user":
                    last = text_of(m.get("content"), False) or last
            self.text = "echo: " + last
        self.args = (compact(self.call[1])
                     if self.call else "")
        self.input = words(self.system_text()) + sum(
            words(text_of(m.get("content")))
            for m in msgs if isinstance(m, dict))
        self.output = words(self.text) + words(self.args)
        self.cached = min(opts.cached, self.input)


class OpenAI(Wire):
    path = OPENAI

    @staticmethod
    def is_tool_result(m):
        return isinstance(m, dict) and m.get("role") == "tool"

    def system_text(self):
        return ""

    @staticmethod
    def error_body(status, message=None):
        kind, code = OPENAI_ERRORS.get(
            status, ("server_error" if status >= 500 else
                     "invalid_request_error", None))
        return {"error": {"message": message or MESSAGES.get(
            status, "Error %d" % status), "type": kind, "param": None,
            "code": code}}

    @staticmethod
    def auth(headers, key):
        have = headers.get("Authorization")
        return ("authorization" if have is not None else None,
                have == "Bearer " + key)

    def check(self):
        r = self.req
        if not isinstance(r.get("model"), str):
            return "you must provide a model parameter"
        msgs = r.get("messages")
        if not isinstance(msgs, list) or not msgs:
            return "'messages' must be a non-empty array"
        for i, m in enumerate(msgs):
            role = m.get("role") if isinstance(m, dict) else None
            if role not in ("system", "developer", "user", "assistant",
                            "tool"):
                return "messages[%d]: invalid role %r" % (i, role)
            if role == "tool" and not isinstance(m.get("tool_call_id"), str):
                return "messages[%d]: missing 'tool_call_id'" % i
            for c in m.get("tool_calls") or []:
                if not isinstance(c.get("function", {}).get("arguments"),
                                  str):
                    return ("messages[%d].tool_calls: 'arguments' must be "
                            "a string" % i)
        return None

    def usage(self):
        return {"prompt_tokens": self.input,
                "completion_tokens": self.output,
                "total_tokens": self.input + self.output,
                "prompt_tokens_details": {"cached_tokens": self.cached,
                                          "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0,
                                              "audio_tokens": 0}}

    def ids(self):
        return "chatcmpl-fake%06d" % self.seq, "call_fake%06d" % self.seq

    def body(self):
        cid, callid = self.ids()
        msg = {"role": "assistant",
               "content": self.text if self.text or not self.call else None,
               "refusal": None}
        if self.call:
            msg["tool_calls"] = [{"id": callid, "type": "function",
                                  "function": {"name": self.call[0],
                                               "arguments": self.args}}]
        return {"id": cid, "object": "chat.completion",
                "created": int(time.time()), "model": self.model,
                "choices": [{"index": 0, "message": msg, "logprobs": None,
                             "finish_reason": "tool_calls" if self.call
                             else "stop"}],
                "usage": self.usage(), "system_fingerprint": "fp_fake"}

    def events(self):
        cid, callid = self.ids()
        include = (self.req.get("stream_options") or {}).get(
            "include_usage") is True
        created = int(time.time())

        def chunk(delta, finish=None, choices=True):
            c = {"id": cid, "object": "chat.completion.chunk",
                 "created": created, "model": self.model,
                 "system_fingerprint": "fp_fake",
                 "choices": [{"index": 0, "delta": delta, "logprobs": None,
                              "finish_reason": finish}] if choices else []}
            if include:
                c["usage"] = None
            return (None, compact(c))

        ev = [chunk({"role": "assistant", "content": "", "refusal": None})]
        ev += [chunk({"content": p}) for p in pieces(self.text)]
        if self.call:
            ev.append(chunk({"tool_calls": [{
                "index": 0, "id": callid, "type": "function",
                "function": {"name": self.call[0], "arguments": ""}}]}))
            ev += [chunk({"tool_calls": [{"index": 0, "function": {
                "arguments": f}}]}) for f in fragments(self.args)]
        ev.append(chunk({}, "tool_calls" if self.call else "stop"))
        if include:
            last = json.loads(chunk({}, choices=False)[1])
            last["usage"] = self.usage()
            ev.append((None, compact(last)))
        ev.append((None, "[DONE]"))
        return ev


class Anthropic(Wire):
    path = ANTHROPIC

    @staticmethod
    def is_tool_result(m):
        if not isinstance(m, dict):
            return False
        c = m.get("content")
        return (m.get("role") == "user" and isinstance(c, list) and
                bool(c) and isinstance(c[-1], dict) and
                c[-1].get("type") == "tool_result")

    def system_text(self):
        return text_of(self.req.get("system") or "")

    @staticmethod
    def error_body(status, message=None):
        return {"type": "error", "error": {
            "type": ANTHROPIC_ERRORS.get(
                status, "api_error" if status >= 500 else
                "invalid_request_error"),
            "message": message or MESSAGES.get(status, "Error %d" % status)},
            "request_id": "req_fake"}

    @staticmethod
    def auth(headers, key):
        have = headers.get("x-api-key")
        return ("x-api-key" if have is not None else None,
                have == key and headers.get("anthropic-version") is not None)

    def check(self):
        r = self.req
        if not isinstance(r.get("model"), str):
            return "model: Field required"
        if not isinstance(r.get("max_tokens"), int):
            return "max_tokens: Field required"
        msgs = r.get("messages")
        if not isinstance(msgs, list) or not msgs:
            return "messages: Field required"
        prev = None
        for i, m in enumerate(msgs):
            role = m.get("role") if isinstance(m, dict) else None
            if role not in ("user", "assistant"):
                return ("messages.%d.role: Input should be 'user' or "
                        "'assistant'" % i)
            if role == prev:
                return ("messages: roles must alternate between \"user\" "
                        "and \"assistant\"")
            prev = role
            c = m.get("content")
            for b in c if isinstance(c, list) else []:
                t = b.get("type") if isinstance(b, dict) else None
                if t == "tool_result" and role != "user":
                    return ("messages.%d: tool_result blocks belong in "
                            "user messages" % i)
                if t == "tool_use" and not isinstance(b.get("input"), dict):
                    return "messages.%d: tool_use.input: must be an object" % i
        if msgs[0].get("role") != "user":
            return "messages: first message must use the \"user\" role"
        return None

    def usage(self, output):
        return {"input_tokens": self.input - self.cached,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": self.cached,
                "output_tokens": output}

    def ids(self):
        return "msg_fake%06d" % self.seq, "toolu_fake%06d" % self.seq

    def stop_reason(self):
        return "tool_use" if self.call else "end_turn"

    def body(self):
        mid, callid = self.ids()
        content = []
        if self.text or not self.call:
            content.append({"type": "text", "text": self.text})
        if self.call:
            content.append({"type": "tool_use", "id": callid,
                            "name": self.call[0], "input": self.call[1]})
        return {"id": mid, "type": "message", "role": "assistant",
                "model": self.model, "content": content,
                "stop_reason": self.stop_reason(), "stop_sequence": None,
                "usage": self.usage(self.output)}

    def events(self):
        mid, callid = self.ids()

        def ev(kind, data):
            data = dict({"type": kind}, **data)
            return (kind, compact(data))

        out = [ev("message_start", {"message": {
            "id": mid, "type": "message", "role": "assistant",
            "model": self.model, "content": [], "stop_reason": None,
            "stop_sequence": None, "usage": self.usage(1)}})]
        index = 0
        if self.text or not self.call:
            out.append(ev("content_block_start", {
                "index": 0, "content_block": {"type": "text", "text": ""}}))
            out.append(ev("ping", {}))
            out += [ev("content_block_delta", {"index": 0, "delta": {
                "type": "text_delta", "text": p}})
                for p in pieces(self.text)]
            out.append(ev("content_block_stop", {"index": 0}))
            index = 1
        if self.call:
            out.append(ev("content_block_start", {
                "index": index, "content_block": {
                    "type": "tool_use", "id": callid, "name": self.call[0],
                    "input": {}}}))
            out += [ev("content_block_delta", {"index": index, "delta": {
                "type": "input_json_delta", "partial_json": f}})
                for f in [""] + fragments(self.args)]
            out.append(ev("content_block_stop", {"index": index}))
        out.append(ev("message_delta", {
            "delta": {"stop_reason": self.stop_reason(),
                      "stop_sequence": None},
            "usage": {"output_tokens": self.output}}))
        out.append(ev("message_stop", {}))
        return out


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-provider/1.0"
    # Headers and body go in two writes: without this, Nagle's algorithm
    # holds the body until the client's delayed ACK, 40 ms a reply.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self):
        self.handle_request(b"")

    def do_POST(self):
        self.handle_request(self.read_body())

    def handle_request(self, raw):
        try:
            self.serve(raw)
        except (Quit, BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def serve(self, raw):
        o = self.server.opts
        seq = self.server.next()
        wire = {OPENAI: OpenAI, ANTHROPIC: Anthropic}.get(
            self.path.split("?")[0])
        try:
            req = json.loads(raw)
        except ValueError:
            req = None
        header, auth_ok = (wire.auth(self.headers, o.key) if wire and o.key
                           else (None, True))
        if wire is None or not o.key:
            for h in ("authorization", "x-api-key"):
                if self.headers.get(h) is not None:
                    header = h
        self.server.log({
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "method": self.command, "path": self.path,
            "body": req if req is not None else raw.decode("utf-8",
                                                           "replace"),
            "auth": header,
            "anthropic_version": self.headers.get("anthropic-version"),
            "auth_ok": auth_ok})
        if o.delay:
            time.sleep(o.delay / 1000.0)
        failing = o.fail_first is None or seq <= o.fail_first
        if failing and o.drop:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        err = wire or OpenAI
        if wire is None or self.command != "POST":
            return self.error(err, 404, "Unknown request URL: %s %s" %
                              (self.command, self.path))
        if not auth_ok:
            return self.error(wire, 401)
        if failing and o.status is not None:
            return self.error(wire, o.status, retry=True)
        if not isinstance(req, dict):
            return self.error(wire, 400, "The request body is not valid "
                              "JSON")
        try:
            w = wire(o, req, seq)
            problem = w.check()
        except (AttributeError, TypeError) as e:
            problem = "malformed request: %s" % e
        if problem:
            return self.error(wire, 400, problem)
        if w.stream:
            return self.send_stream(w, failing)
        body = compact(w.body()).encode()
        if failing and o.malformed:
            body = body[:len(body) // 2]
        self.reply(200, body, half=failing and o.drop_mid)

    def error(self, wire, status, message=None, retry=False):
        body = compact(wire.error_body(status, message)).encode()
        extra = {}
        if retry and self.server.opts.retry_after is not None:
            extra["Retry-After"] = self.server.opts.retry_after
        self.reply(status, body, extra)

    def reply(self, status, body, extra=None, half=False):
        self.send_response(status)
        self.send_header("Content-Type", self.server.opts.content_type or
                         "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if half:
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)

    def send_stream(self, w, failing):
        o = self.server.opts
        events = w.events()
        if failing and o.malformed:
            events = events[:2]
            kind, data = events[1]
            events[1] = (kind, data[:len(data) // 2])
        if failing and o.drop_mid:
            events = events[:len(events) // 2]
        self.send_response(200)
        self.send_header("Content-Type", o.content_type or
                         "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for n, (kind, data) in enumerate(events):
            if o.stall_after is not None and n == o.stall_after:
                self.stall()
            if n and o.event_delay:
                time.sleep(o.event_delay / 1000.0)
            text = ("event: %s\n" % kind if kind else "") + \
                "data: %s\n\n" % data
            self.chunk(text.encode())
        if failing and o.drop_mid:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.chunk(b"")

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def stall(self):
        """Send nothing more, until the client closes the connection."""
        while True:
            r, _, _ = select.select([self.connection], [], [], 1.0)
            if r and not self.connection.recv(4096):
                raise Quit


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default backlog of 5 drops the SYNs of 64 clients connecting at
    # once, who then wait out TCP's retries: seconds, a minute.
    request_queue_size = 1024

    def __init__(self, opts):
        super().__init__(("127.0.0.1", opts.port), Handler)
        self.opts = opts
        self.count = 0
        self.lock = threading.Lock()

    def next(self):
        with self.lock:
            self.count += 1
            if self.opts.count_file:
                write_atomic(self.opts.count_file, "%d\n" % self.count)
            return self.count

    def log(self, entry):
        if self.opts.log:
            with self.lock, open(self.opts.log, "a") as f:
                f.write(compact(entry) + "\n")

    def handle_error(self, request, client_address):
        e = sys.exc_info()[1]
        if not isinstance(e, (ConnectionError, Quit)):
            super().handle_error(request, client_address)


def main():
    opts = parse_args(sys.argv[1:])
    s = Server(opts)
    port = s.server_address[1]
    if opts.port_file:
        write_atomic(opts.port_file, "%d\n" % port)
    else:
        print(port, flush=True)
    try:
        s.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
