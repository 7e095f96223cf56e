#!/usr/bin/env python3
"""tests/helpers/policy_local_client.py — an agent's client of
http://policy.local, run inside a sandbox (python3 urllib through the
sandbox's proxy, as an agent's code would; `raw` speaks to the proxy's
socket directly, for the pipelining attack).

  policy_local_client.py get PATH            -> prints "STATUS BODY"
  policy_local_client.py post PATH FILE CT   -> POST FILE's bytes with Content-Type CT
  policy_local_client.py raw FILE            -> FILE's bytes written at once to the proxy;
                                                prints every status line answered
Every call is bounded (urllib timeout 100 s, the raw socket 20 s)."""
import os
import re
import socket
import sys
import urllib.error
import urllib.request

BASE = "http://policy.local"


def call(req):
    try:
        with urllib.request.urlopen(req, timeout=100) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def main():
    op = sys.argv[1]
    if op == "get":
        st, body = call(urllib.request.Request(BASE + sys.argv[2]))
    elif op == "post":
        data = open(sys.argv[3], "rb").read()
        req = urllib.request.Request(BASE + sys.argv[2], data=data, method="POST",
                                     headers={"Content-Type": sys.argv[4]})
        st, body = call(req)
    elif op == "raw":
        proxy = os.environ.get("http_proxy") or os.environ.get("HTTP_PROXY")
        m = re.match(r"http://([^:/]+):(\d+)", proxy)
        s = socket.create_connection((m.group(1), int(m.group(2))), timeout=20)
        s.sendall(open(sys.argv[2], "rb").read())
        got = b""
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                got += b
        except socket.timeout:
            pass
        s.close()
        lines = re.findall(rb"HTTP/1\.1 (\d{3})", got)
        print(" ".join(x.decode() for x in lines))
        return
    else:
        sys.exit("unknown operation " + op)
    print(st, body.replace("\n", " "))


main()
