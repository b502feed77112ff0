#!/usr/bin/env python3
"""A thin HTTP front over a chdb session that speaks enough of ClickHouse's HTTP query interface
for `mesbackup restore --clickhouse URL` in tests: POST the SQL as the body; the answer is in the
`default_format` query parameter's format (JSONEachRow by default); errors are HTTP 500 with the
engine's message.

    server.py --dir DIR [--allowed-path DIR] [--host 127.0.0.1] [--port 0]

DIR holds the session's data and config (`<backups><allowed_path>`). The bound port is printed
on stdout as `PORT <n>` once listening. chdb-core: `pip install --no-deps chdb-core`.
"""

import argparse
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from chdb import session

LOCK = threading.Lock()
SESSION = None


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        if os.environ.get("CHDB_HTTP_LOG"):
            sys.stderr.write("chdb-http: " + (fmt % args) + "\n")

    def _answer(self, code, body):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _run(self, sql):
        params = parse_qs(urlparse(self.path).query)
        fmt = params.get("default_format", ["JSONEachRow"])[0]
        if not sql.strip():
            return self._answer(400, "Code: 62. Empty query")
        try:
            with LOCK:
                res = SESSION.query(sql, fmt)
            out = res.bytes() if hasattr(res, "bytes") else str(res).encode()
            return self._answer(200, out)
        except Exception as e:  # noqa: BLE001 (any engine error is answered like ClickHouse's HTTP 500, with its message)
            return self._answer(500, str(e))

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode()
        query = parse_qs(urlparse(self.path).query).get("query", [""])[0]
        self._run((query + "\n" + body) if query else body)

    def do_GET(self):
        query = parse_qs(urlparse(self.path).query).get("query", [""])[0]
        if not query:
            return self._answer(200, "Ok.\n")
        self._run(query)


def main():
    global SESSION
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--allowed-path", default=None)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    d = os.path.abspath(a.dir)
    allowed = os.path.abspath(a.allowed_path or os.path.join(d, "backups"))
    os.makedirs(allowed, exist_ok=True)
    cfg = os.path.join(d, "config.xml")
    with open(cfg, "w") as f:
        f.write(f"<clickhouse><backups><allowed_path>{allowed}/</allowed_path></backups></clickhouse>\n")
    SESSION = session.Session(f"{os.path.join(d, 'db')}?config-file={cfg}")
    srv = ThreadingHTTPServer((a.host, a.port), Handler)
    print(f"PORT {srv.server_address[1]}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
