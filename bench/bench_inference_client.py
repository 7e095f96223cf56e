#!/usr/bin/env python3
"""The client of bench/bench_inference.sh: streamed chat completions from
tests/helpers/inference_server.py, directly or through glassbox's
inference.local, one fresh connection per request (as an SDK without a pool
would, and as the proxy does towards the provider).

  bench_inference_client.py MODE[,MODE...] N CHUNKS GAP_MS
    MODE  KIND[.TAG]:ARGS, KIND:ARGS one of
          direct:HOST:PORT:KEY | direct_tls:HOST:PORT:KEY:CA_FILE |
          http:PROXY_PORT | https:PROXY_PORT:CA_FILE
    (TAG tells two modes of one kind apart, e.g. http.base:3129 for a
    second proxy built from another commit)
With several modes the requests are interleaved (request i of each mode,
the order rotating), so a burst of load from elsewhere on the machine falls
on every mode alike instead of on whichever block of N ran then.
Prints one JSON object with one member per mode (KIND[.TAG]): the time to the first
SSE event (request sent -> first event read, microseconds) per request, and
per chunk the delay from the server's send time (its clock is this
machine's) to the client's read.
"""
import json
import socket
import ssl
import sys
import time

modes, n, chunks, gap = sys.argv[1].split(","), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
assert 1 <= n <= 10000 and 1 <= chunks <= 1000 and 0 <= gap <= 100 and 1 <= len(modes) <= 8
body = json.dumps({"model": "bench", "stream": True, "gb_chunks": chunks, "gb_gap_ms": gap}).encode()


ctxs = {}


def tls(s, ca, name):
    """s wrapped in TLS, verified against ca (one context per CA file, as an
    SDK keeps its client)."""
    if ca not in ctxs:
        ctxs[ca] = ssl.create_default_context(cafile=ca)
    return ctxs[ca].wrap_socket(s, server_hostname=name)


def connect(mode):
    kind, *rest = mode.split(":")
    kind = kind.split(".")[0]
    if kind in ("direct", "direct_tls"):
        host, port, key = rest[0], int(rest[1]), rest[2]
        s = socket.create_connection((host, port), timeout=10)
        if kind == "direct_tls":
            s = tls(s, rest[3], host)
        head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Authorization: Bearer {key}\r\n")
    elif kind == "http":
        s = socket.create_connection(("127.0.0.1", int(rest[0])), timeout=10)
        head = "POST http://inference.local/v1/chat/completions HTTP/1.1\r\nHost: inference.local\r\n"
    else:
        s = socket.create_connection(("127.0.0.1", int(rest[0])), timeout=10)
        s.sendall(b"CONNECT inference.local:443 HTTP/1.1\r\nHost: inference.local:443\r\n\r\n")
        r = b""
        while b"\r\n\r\n" not in r:
            r += s.recv(4096)
        s = tls(s, rest[1], "inference.local")
        head = "POST /v1/chat/completions HTTP/1.1\r\nHost: inference.local\r\n"
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s, (head + f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
               "Connection: close\r\n\r\n").encode() + body


def dechunk(raw, state):
    """The chunked body's payload that raw completes (state: the bytes
    before the head's end is found, then the undecoded rest)."""
    state["buf"] += raw
    out = b""
    if not state["body"]:
        i = state["buf"].find(b"\r\n\r\n")
        if i < 0:
            return out
        state["buf"], state["body"] = state["buf"][i + 4:], True
    while True:
        nl = state["buf"].find(b"\r\n")
        if nl < 0:
            return out
        size = int(state["buf"][:nl].split(b";")[0], 16)
        if len(state["buf"]) < nl + 2 + size + 2:
            return out
        out += state["buf"][nl + 2:nl + 2 + size]
        state["buf"] = state["buf"][nl + 2 + size + 2:]
        if not size:
            return out


def one(mode, first, per_chunk):
    s, req = connect(mode)
    t0 = time.perf_counter_ns()
    s.sendall(req)
    buf, got_first, events = b"", False, 0
    st = {"buf": b"", "body": False}
    while True:
        d = s.recv(65536)
        if not d:
            break
        now_wall, now = time.time(), time.perf_counter_ns()
        # the chunked framing decoded (a provider's event may arrive in two
        # reads or two chunks), then SSE events: each "data: {...}\n\n"
        # carries "sent"
        buf += dechunk(d, st)
        while b"\n\n" in buf:
            ev, buf = buf.split(b"\n\n", 1)
            i = ev.find(b"data: {")
            if i < 0 or b'"sent"' not in ev:
                continue
            if not got_first:
                first.append((now - t0) / 1000)
                got_first = True
            per_chunk.append((now_wall - json.loads(ev[i + 6:])["sent"]) * 1e6)
            events += 1
    s.close()
    assert events == chunks, f"{events} of {chunks} events"


res = {m.split(":")[0]: {"first_us": [], "chunk_us": []} for m in modes}
for k in range(n):
    for j in range(len(modes)):
        m = modes[(k + j) % len(modes)]
        r = res[m.split(":")[0]]
        one(m, r["first_us"], r["chunk_us"])
print(json.dumps(res))
