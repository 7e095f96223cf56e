#!/usr/bin/env python3
"""tests/helpers/https_server.py — the upstream server of the HTTPS
inspection tests (HTTP/1.1, keep-alive, TLS when --cert is given).

  /echo...            JSON: method, path, query, Host, body length
  /big                1 MiB of bytes
  /ws                 websocket upgrade (101), then raw bytes echoed back
  /git/...            git smart HTTP through git http-backend (--git DIR)
  anything under --root is served as a static file (PEP 503 index, npm)
"""
import argparse
import base64
import hashlib
import json
import os
import ssl
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--bind", required=True)
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--cert")
ap.add_argument("--key")
ap.add_argument("--root")
ap.add_argument("--git")
a = ap.parse_args()


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.command, self.path))

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, code, data, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def git(self, data):
        path, _, query = self.path[len("/git"):].partition("?")
        env = dict(os.environ, GIT_PROJECT_ROOT=a.git, GIT_HTTP_EXPORT_ALL="1", PATH_INFO=path,
                   QUERY_STRING=query, REQUEST_METHOD=self.command,
                   CONTENT_TYPE=self.headers.get("Content-Type", ""),
                   CONTENT_LENGTH=str(len(data)), REMOTE_ADDR="198.18.0.2")
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        out = subprocess.run(["git", "http-backend"], input=data, env=env, capture_output=True).stdout
        head, _, rest = out.partition(b"\r\n\r\n")
        status = 200
        hdrs = []
        for line in head.split(b"\r\n"):
            k, _, v = line.decode().partition(":")
            if k.lower() == "status":
                status = int(v.split()[0])
            elif k:
                hdrs.append((k, v.strip()))
        self.send_response(status)
        for k, v in hdrs:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(rest)))
        self.end_headers()
        self.wfile.write(rest)

    def handle_any(self):
        data = self.body()
        p = self.path.split("?")[0]
        if a.git and p.startswith("/git/"):
            return self.git(data)
        if p == "/ws" and self.headers.get("Upgrade", "").lower() == "websocket":
            k = self.headers["Sec-WebSocket-Key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
            acc = base64.b64encode(hashlib.sha1(k.encode()).digest()).decode()
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", acc)
            self.end_headers()
            self.wfile.flush()
            while True:
                b = self.connection.recv(65536)
                if not b:
                    break
                self.connection.sendall(b)
            self.close_connection = True
            return
        if p == "/big":
            return self.send(200, b"x" * (1 << 20), "application/octet-stream")
        if a.root:
            f = os.path.normpath(os.path.join(a.root, p.lstrip("/")))
            for idx in ("index.html", "index.json"):
                if os.path.isdir(f) and os.path.exists(os.path.join(f, idx)):
                    f = os.path.join(f, idx)
            if f.startswith(a.root) and os.path.isfile(f):
                with open(f, "rb") as fh:
                    ct = "application/json" if f.endswith(".json") else \
                         "text/html" if f.endswith(".html") else "application/octet-stream"
                    return self.send(200, fh.read(), ct)
        q = self.path.partition("?")[2]
        self.send(200, json.dumps({"method": self.command, "path": p, "query": q,
                                   "host": self.headers.get("Host"), "body_len": len(data)}).encode())

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_any


srv = ThreadingHTTPServer((a.bind, a.port), H)
srv.daemon_threads = True
if a.cert:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    ctx.set_alpn_protocols(["http/1.1"])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
