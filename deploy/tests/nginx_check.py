#!/usr/bin/env python3
"""Checks deploy/nginx on this machine, without Docker.

    nginx_check.py syntax   # `nginx -t` on a test copy
    nginx_check.py smoke    # runs the test copy against two stub nodes

The test copy differs from deploy/nginx only where it must: the upstream
servers pa1:8080 and pa2:8080 become stub servers on 127.0.0.1, the listen
addresses become free loopback ports, logs and temporary files go to a
temporary folder, one worker process (deterministic round robin), and a
self-signed certificate from deploy/scripts/gen-cert.sh. Only loopback
addresses are used; everything started here is stopped before it exits.
Python standard library only.
"""

import http.client
import http.server
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

DEPLOY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Copy:
    """A test copy of deploy/nginx in a temporary folder."""

    def __init__(self, work):
        self.work = work
        self.prefix = os.path.join(work, "nginx")
        self.http = free_port()
        self.https = free_port()
        self.nodes = {"pa1": free_port(), "pa2": free_port()}
        shutil.copytree(os.path.join(DEPLOY, "nginx"), self.prefix)
        mime = "/etc/nginx/mime.types"
        if not os.path.exists(os.path.join(self.prefix, "mime.types")):
            shutil.copy(mime, self.prefix)
        self._rewrite()
        temp = os.path.join(work, "temp")
        os.makedirs(temp)
        paths = "".join(
            f"{kind}_temp_path {temp}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        with open(os.path.join(self.prefix, "conf.d", "zz-test-paths.conf"), "w") as f:
            f.write(paths)
        subprocess.run(
            [os.path.join(DEPLOY, "scripts", "gen-cert.sh"), "--out",
             os.path.join(self.prefix, "certs"), "localhost", "127.0.0.1"],
            check=True, stdout=subprocess.DEVNULL,
        )
        self.ca = os.path.join(self.prefix, "certs", "tls.crt")

    def _sub(self, path, pattern, replacement, count_at_least=1):
        with open(path) as f:
            text = f.read()
        text, n = re.subn(pattern, replacement, text, flags=re.M)
        if n < count_at_least:
            raise SystemExit(f"test copy: `{pattern}` not found in {path}")
        with open(path, "w") as f:
            f.write(text)

    def _rewrite(self):
        main = os.path.join(self.prefix, "nginx.conf")
        pa = os.path.join(self.prefix, "conf.d", "pa.conf")
        self._sub(main, r"^worker_processes .*;$", "worker_processes 1;")
        self._sub(main, r"^error_log .*;$", f"error_log {self.work}/error.log info;")
        self._sub(main, r"access_log /dev/stdout", f"access_log {self.work}/access.log")
        for name, port in self.nodes.items():
            self._sub(pa, rf"\bserver {name}:8080\b", f"server 127.0.0.1:{port}", 2)
        self._sub(pa, r"^\s*listen \[::\]:.*$\n", "", 0)  # only if someone added them
        self._sub(pa, r"\blisten 80 ", f"listen 127.0.0.1:{self.http} ")
        self._sub(pa, r"\blisten 443 ", f"listen 127.0.0.1:{self.https} ")

    def nginx(self, *args, extra_globals=""):
        """The nginx command line (nginx takes a single -g)."""
        globals_ = f"pid {self.work}/nginx.pid;"
        if os.geteuid() == 0:
            # Workers as root: the temporary folder is private to this user.
            globals_ += " user root;"
        globals_ += extra_globals
        return [NGINX, "-p", self.prefix + "/", "-c", "nginx.conf", "-g", globals_, *args]

    def syntax(self):
        result = subprocess.run(self.nginx("-t"), capture_output=True, text=True)
        out = (result.stdout + result.stderr).strip()
        return result.returncode == 0, out


class Stub(http.server.ThreadingHTTPServer):
    """A stand-in `pa` node: echoes what it received as JSON."""

    daemon_threads = True

    def __init__(self, name, port):
        self.name = name
        super().__init__(("127.0.0.1", port), StubHandler)


class StubHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("content-length") or 0)
        remaining = length
        while remaining:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)
        name = self.server.name
        if self.path.endswith("/mcp"):
            # Server-Sent Events: a first event at once, the second later.
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            self.wfile.write(f"event: message\ndata: {name} first\n\n".encode())
            self.wfile.flush()
            time.sleep(1.5)
            self.wfile.write(f"event: message\ndata: {name} second\n\n".encode())
            self.wfile.flush()
            self.close_connection = True
            return
        status = 503 if (name == "pa2" and "flaky" in self.path) else 200
        body = json.dumps({
            "node": name,
            "method": self.command,
            "path": self.path,
            "body_len": length,
            "host": self.headers.get("host"),
            "x_forwarded_proto": self.headers.get("x-forwarded-proto"),
            "x_forwarded_for": self.headers.get("x-forwarded-for"),
            "x_request_id": self.headers.get("x-request-id"),
            "padding": "x" * (4096 if "big" in self.path else 0),
        }).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        # pa sets these itself; nginx must replace them, not add a second copy.
        self.send_header("X-Frame-Options", "SAMEORIGIN")
        self.send_header("X-Request-Id", "from-node")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer


class Smoke:
    def __init__(self, copy):
        self.copy = copy
        self.ctx = ssl.create_default_context(cafile=copy.ca)
        self.results = []

    def check(self, name, ok, detail=""):
        self.results.append(ok)
        print(f"  {'ok  ' if ok else 'FAIL'} {name}" + ("" if ok or not detail else f": {detail}"))

    def https(self, method, path, body=None, headers=None):
        conn = http.client.HTTPSConnection("localhost", self.copy.https, context=self.ctx, timeout=20)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
            return response, data
        finally:
            conn.close()

    def node_of(self, data):
        try:
            return json.loads(data)["node"]
        except (ValueError, KeyError):
            return None

    def run(self):
        c = self.copy
        # Plain HTTP.
        conn = http.client.HTTPConnection("127.0.0.1", c.http, timeout=10)
        conn.request("GET", "/api/v1/tenants")
        r = conn.getresponse()
        r.read()
        self.check("http redirects to https", r.status == 301 and (r.getheader("location") or "").startswith("https://"),
                   f"{r.status} {r.getheader('location')}")
        conn.request("GET", "/nginx-health")
        r = conn.getresponse()
        body = r.read()
        self.check("/nginx-health answers on http for the health check", r.status == 200 and body == b"ok\n", f"{r.status} {body!r}")
        conn.close()

        # Headers both ways.
        r, data = self.https("GET", "/api/v1/tenants", headers={"X-Request-Id": "req-123"})
        seen = json.loads(data)
        self.check("proxied GET reaches a node", r.status == 200 and seen["node"] in ("pa1", "pa2"), f"{r.status}")
        self.check("node sees Host with port, X-Forwarded-Proto https, client's X-Request-Id",
                   seen["host"] == f"localhost:{c.https}" and seen["x_forwarded_proto"] == "https"
                   and seen["x_request_id"] == "req-123" and seen["x_forwarded_for"] == "127.0.0.1", json.dumps(seen))
        headers = dict((k.lower(), v) for k, v in r.getheaders())
        xfo = [v for k, v in r.getheaders() if k.lower() == "x-frame-options"]
        rid = [v for k, v in r.getheaders() if k.lower() == "x-request-id"]
        self.check("security headers: HSTS, nosniff, one X-Frame-Options DENY",
                   "max-age=" in headers.get("strict-transport-security", "")
                   and headers.get("x-content-type-options") == "nosniff" and xfo == ["DENY"], str(r.getheaders()))
        self.check("one X-Request-Id, the client's", rid == ["req-123"], str(rid))
        self.check("no nginx version in Server", headers.get("server") == "nginx", headers.get("server", ""))
        r, _ = self.https("GET", "/api/v1/tenants")
        self.check("X-Request-Id made by nginx when the client sent none",
                   re.fullmatch(r"[0-9a-f]{32}", r.getheader("x-request-id") or "") is not None, r.getheader("x-request-id") or "")

        r, _ = self.https("GET", "/metrics")
        self.check("/metrics is not exposed (404, headers still set)",
                   r.status == 404 and r.getheader("strict-transport-security") is not None, f"{r.status}")
        r, _ = self.https("GET", "/metrics/anything")
        self.check("/metrics/... is not exposed either", r.status == 404, f"{r.status}")

        nodes = {self.node_of(self.https("GET", f"/api/v1/x{i}")[1]) for i in range(6)}
        self.check("round robin over both nodes", nodes == {"pa1", "pa2"}, str(nodes))

        # pa2 answers 503 to ".../flaky". Functions: passed through, not retried.
        statuses = [self.https("GET", "/t/acme/fn/flaky")[0].status for _ in range(4)]
        self.check("a function's 503 passes through (not retried, no node penalty)",
                   503 in statuses and 200 in statuses, str(statuses))
        # Control plane: a POST is never sent to a second node...
        statuses = [self.https("POST", "/api/v1/flaky", body=b"{}",
                               headers={"Content-Type": "application/json"})[0].status for _ in range(4)]
        self.check("POST is not retried on another node after a 503", 503 in statuses, str(statuses))
        # ...a GET is.
        answers = [self.https("GET", "/api/v1/flaky") for _ in range(6)]
        self.check("idempotent GET is retried on the other node after a 503",
                   all(r.status == 200 and self.node_of(d) == "pa1" for r, d in answers),
                   str([(r.status, self.node_of(d)) for r, d in answers]))

        # Body sizes.
        upload = "/api/v1/tenants/acme/plugins/hello/versions/1.0.0"
        r, data = self.https("PUT", upload, body=b"\0" * (20 << 20), headers={"Content-Type": "application/wasm"})
        self.check("20 MiB plugin upload passes", r.status == 200 and json.loads(data)["body_len"] == 20 << 20, f"{r.status}")
        self.check("65 MiB plugin upload is refused (413)", self.status_for_length("PUT", upload, 65 << 20) == 413)
        self.check("64 MiB plugin upload is within the limit",
                   self.status_for_length("PUT", upload, 64 << 20, send_body=True) == 200)
        self.check("20 MiB function request is refused (16 MiB limit)",
                   self.status_for_length("POST", "/t/acme/fn/hello", 20 << 20) == 413)

        # Compression.
        r, _ = self.https("GET", "/api/v1/big", headers={"Accept-Encoding": "gzip"})
        self.check("JSON answers are gzipped", r.getheader("content-encoding") == "gzip", str(r.getheader("content-encoding")))

        # MCP: sticky and streamed.
        nodes = set()
        for _ in range(4):
            first, total, node, encoding = self.mcp()
            nodes.add(node)
        self.check("MCP requests of one client stay on one node", len(nodes) == 1, str(nodes))
        # The stub sends the second event 1.5 s after the first: unbuffered, the
        # first arrives well before the end (buffered, both arrive together).
        self.check("MCP SSE is streamed unbuffered (first event before the second is sent)",
                   total - first >= 1.0, f"first event after {first:.2f}s, end after {total:.2f}s")
        self.check("MCP SSE is not gzipped", encoding is None, str(encoding))
        return all(self.results)

    def status_for_length(self, method, path, length, send_body=False):
        """Sends a `length`-byte request: only its headers unless `send_body`
        (nginx refuses a body that is too large by its Content-Length)."""
        conn = http.client.HTTPSConnection("localhost", self.copy.https, context=self.ctx, timeout=20)
        try:
            conn.putrequest(method, path)
            conn.putheader("Content-Length", str(length))
            conn.putheader("Content-Type", "application/octet-stream")
            conn.endheaders()
            if send_body:
                chunk = b"\0" * (1 << 20)
                sent = 0
                while sent < length:
                    n = min(len(chunk), length - sent)
                    conn.send(chunk[:n])
                    sent += n
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    def mcp(self):
        conn = http.client.HTTPSConnection("localhost", self.copy.https, context=self.ctx, timeout=20)
        try:
            started = time.monotonic()
            conn.request("POST", "/t/acme/mcp", body=b'{"jsonrpc":"2.0","id":1,"method":"ping"}',
                         headers={"Content-Type": "application/json", "Accept-Encoding": "gzip",
                                  "Accept": "application/json, text/event-stream"})
            response = conn.getresponse()
            line = response.readline()
            first = time.monotonic() - started
            rest = response.read()
            total = time.monotonic() - started
            text = (line + rest).decode(errors="replace")
            match = re.search(r"data: (pa\d) first", text)
            return first, total, match.group(1) if match else None, response.getheader("content-encoding")
        finally:
            conn.close()


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "smoke"
    if mode not in ("syntax", "smoke"):
        raise SystemExit("usage: nginx_check.py syntax|smoke")
    with tempfile.TemporaryDirectory(prefix="pa-nginx-") as work:
        copy = Copy(work)
        ok, out = copy.syntax()
        if mode == "syntax" or not ok:
            print(out)
            return 0 if ok else 1
        stubs = [Stub(name, port) for name, port in copy.nodes.items()]
        threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in stubs]
        for t in threads:
            t.start()
        master = subprocess.Popen(copy.nginx(extra_globals=" daemon off;"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", copy.https), timeout=1).close()
                    break
                except OSError:
                    if master.poll() is not None or time.monotonic() > deadline:
                        print("nginx did not start:", master.stderr.read().decode(errors="replace"))
                        with open(os.path.join(work, "error.log")) as f:
                            print(f.read()[-2000:])
                        return 1
                    time.sleep(0.1)
            passed = Smoke(copy).run()
            if not passed:
                with open(os.path.join(work, "error.log")) as f:
                    print("  nginx error.log (tail):\n" + f.read()[-2000:])
            return 0 if passed else 1
        finally:
            master.terminate()
            try:
                master.wait(timeout=10)
            except subprocess.TimeoutExpired:
                master.kill()
                master.wait()
            for s in stubs:
                s.shutdown()
                s.server_close()


if __name__ == "__main__":
    sys.exit(main())
