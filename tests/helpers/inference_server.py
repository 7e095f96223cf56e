#!/usr/bin/env python3
"""A small model provider for the inference.local tests: OpenAI-compatible
(/v1/chat/completions, /v1/completions, /v1/responses, /v1/embeddings,
/v1/models) or Anthropic-shaped (/v1/messages).

It checks what the proxy must guarantee and answers 401 otherwise: the
credential is the host's (Authorization: Bearer KEY, or x-api-key: KEY with
an anthropic-version), and nothing of the caller's credentials arrived
(no x-api-key for OpenAI, no Authorization for Anthropic, no header named
in --forbid).  Every request is appended to --log as one JSON line (path,
headers, body, verdict) for the test to read.

Behaviour is chosen by fields of the request body (the proxy forwards the
body, only "model" is replaced):
  stream: true        SSE, gb_chunks chunks (default 5) gb_gap_ms apart
                      (default 50), each carrying the server's send time
  gb_break: true      the stream stops after two chunks without its end
  gb_sleep_ms: N      wait N ms before the response head
  gb_big: N           a non-streamed body of N bytes
  gb_echo_key: true   a 401 that quotes the credential it received (as a
                      careless provider might)
  gb_echo_split: N    a 401 that quotes the credential in two pieces of the
                      chunked body, split after N bytes of it (two writes)
  gb_one_write: true  a stream's whole response (head, events, end) in one
                      write, so it reaches the proxy in one read (with
                      gb_gap_ms 0)
  gb_trailing: true   a valid response followed by a second, unasked-for one
                      on a connection kept open (a desynchronised provider:
                      whoever reuses the connection reads the wrong answer)
Every log line carries "conn": the serial number of the TCP connection the
request came on (1, 2, ...), so a test can count provider connections.
With --tls-cert/--tls-key it serves HTTPS (no session tickets, as
inference.local's TLS side; TCP_NODELAY): bench_inference's direct-TLS
baseline.  Plain HTTP keeps Nagle on (the pool's QUICKACK is tested with it).
"""
import argparse
import io
import json
import socketserver
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--bind", default="127.0.0.1")
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--type", choices=["openai", "anthropic"], default="openai")
ap.add_argument("--key", required=True, help="the credential the proxy must inject")
ap.add_argument("--forbid", action="append", default=[], help="a header that must not arrive")
ap.add_argument("--log", required=True)
ap.add_argument("--name", default="provider", help="told in every answer (route changes)")
ap.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM, key in --tls-key)")
ap.add_argument("--tls-key")
args = ap.parse_args()
lock = threading.Lock()
conns = [0]

OPENAI_PATHS = {"/v1/chat/completions", "/v1/completions", "/v1/responses", "/v1/embeddings"}


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def setup(self):
        super().setup()
        with lock:
            conns[0] += 1
            self.conn = conns[0]

    def note(self, body, verdict):
        with lock, open(args.log, "a") as f:
            f.write(json.dumps({"t": time.time(), "conn": self.conn, "method": self.command, "path": self.path,
                                "headers": {k.lower(): v for k, v in self.headers.items()},
                                "body": body, "verdict": verdict}) + "\n")

    def auth_problem(self):
        h = {k.lower(): v for k, v in self.headers.items()}
        names = [k.lower() for k in self.headers.keys()]
        for f in args.forbid:
            if f.lower() in h:
                return f"forbidden header {f} arrived"
        if args.type == "openai":
            if names.count("authorization") != 1 or h.get("authorization") != "Bearer " + args.key:
                return "wrong or missing Authorization"
            if "x-api-key" in h:
                return "x-api-key arrived at an OpenAI provider"
        else:
            if names.count("x-api-key") != 1 or h.get("x-api-key") != args.key:
                return "wrong or missing x-api-key"
            if "authorization" in h:
                return "Authorization arrived at an Anthropic provider"
            if "anthropic-version" not in h:
                return "no anthropic-version"
        return None

    def send_json(self, code, obj):
        b = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def handle_req(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        problem = self.auth_problem()
        self.note(body, problem or "ok")
        if problem:
            return self.send_json(401, {"error": {"message": problem, "type": "auth"}})
        if body.get("gb_echo_key"):
            h = {k.lower(): v for k, v in self.headers.items()}
            got = h.get("authorization", "").replace("Bearer ", "") or h.get("x-api-key", "")
            return self.send_json(401, {"error": {"message": f"Incorrect API key provided: {got}.",
                                                  "type": "invalid_request_error"}})
        if body.get("gb_echo_split") is not None:
            h = {k.lower(): v for k, v in self.headers.items()}
            got = (h.get("authorization", "").replace("Bearer ", "") or h.get("x-api-key", "")).encode()
            k = int(body["gb_echo_split"])
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.chunk(b'{"error":{"message":"Incorrect API key provided: ' + got[:k])
            time.sleep(0.05)  # two reads on the proxy's side, not one
            self.chunk(got[k:] + b'.","type":"invalid_request_error"}}')
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            return
        if body.get("gb_trailing"):
            b = json.dumps({"server": args.name, "answer": "real"}).encode()
            x = json.dumps({"server": args.name, "answer": "smuggled"}).encode()
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                             b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                             % (len(b), b, len(x), x))
            self.wfile.flush()
            return
        if body.get("gb_sleep_ms"):
            time.sleep(body["gb_sleep_ms"] / 1000)
        path = self.path.split("?")[0]
        if args.type == "openai" and self.command == "GET" and path.startswith("/v1/models"):
            return self.send_json(200, {"object": "list", "server": args.name,
                                        "data": [{"id": "m1", "object": "model"}]})
        ok = (args.type == "openai" and path in OPENAI_PATHS) or \
             (args.type == "anthropic" and path == "/v1/messages")
        if self.command != "POST" or not ok:
            return self.send_json(404, {"error": {"message": "no such path", "type": "server"}})
        model = body.get("model")
        if not body.get("stream"):
            if body.get("gb_big"):
                return self.send_json(200, {"server": args.name, "pad": "x" * int(body["gb_big"])})
            if args.type == "openai":
                return self.send_json(200, {
                    "id": "c1", "object": "chat.completion", "model": model, "server": args.name,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}],
                    "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}})
            return self.send_json(200, {
                "id": "msg1", "type": "message", "model": model, "server": args.name,
                "content": [{"type": "text", "text": "hi"}],
                "usage": {"input_tokens": 13, "output_tokens": 5}})
        if not body.get("gb_one_write"):
            return self.stream(body, model)
        # the whole response in one write (one segment), then as it was
        real, self.wfile = self.wfile, io.BytesIO()
        try:
            self.stream(body, model)
        finally:
            data, self.wfile = self.wfile.getvalue(), real
        self.wfile.write(data)
        self.wfile.flush()

    def stream(self, body, model):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        count = int(body.get("gb_chunks", 5))
        gap = float(body.get("gb_gap_ms", 50)) / 1000
        if args.type == "anthropic":
            self.chunk(b"event: message_start\ndata: " + json.dumps({"type": "message_start", "message": {
                "model": model, "usage": {"input_tokens": 13, "output_tokens": 0}}}).encode() + b"\n\n")
        for i in range(count):
            if i:
                time.sleep(gap)
            if body.get("gb_break") and i == 2:
                self.wfile.flush()
                self.close_connection = True
                return  # no terminating chunk: the provider broke off
            ev = {"i": i, "sent": time.time(), "server": args.name, "model": model,
                  "choices": [{"delta": {"content": f"t{i}"}}]}
            self.chunk(b"data: " + json.dumps(ev).encode() + b"\n\n")
        if args.type == "openai":
            self.chunk(b"data: " + json.dumps({"choices": [], "usage": {
                "prompt_tokens": 11, "completion_tokens": count}}).encode() + b"\n\n")
            self.chunk(b"data: [DONE]\n\n")
        else:
            self.chunk(b"event: message_delta\ndata: " + json.dumps({"type": "message_delta", "usage": {
                "output_tokens": count}}).encode() + b"\n\n")
            self.chunk(b"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    do_GET = handle_req
    do_POST = handle_req
    do_DELETE = handle_req


class S(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = S((args.bind, args.port), H)
if args.tls_cert:

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.tls_cert, args.tls_key)
    ctx.num_tickets = 0
    # TCP_NODELAY, as an HTTPS front end sets it: without it the second small
    # record of a stream waits for the client's delayed ACK (~10 ms a chunk)
    H.disable_nagle_algorithm = True
    # the handshake on the connection's own thread (the first read), not in
    # the accepting loop
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
print("listening", flush=True)
try:
    srv.serve_forever()
except KeyboardInterrupt:
    sys.exit(0)
