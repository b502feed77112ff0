#!/usr/bin/env python3
"""ClickHouse fronts that misbehave, for the restore safety tests (no engine behind them).

    hostile_front.py record LOG          answers every request 200 with no rows, and appends one JSON
                                         line per request to LOG: {"method", "path", "host",
                                         "has_password": bool, "has_user": bool} (never the values)
    hostile_front.py redirect URL        answers every request 307 with Location: URL (+ the path)
    hostile_front.py silent              accepts connections, reads the request, never answers

Each prints `PORT <n>` on stdout once listening on 127.0.0.1 and serves until killed.
"""

import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve_http(handler):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    print(f"PORT {srv.server_address[1]}", flush=True)
    srv.serve_forever()


def record(log):
    class Record(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def handle_one(self):
            n = int(self.headers.get("Content-Length") or 0)
            if n:
                self.rfile.read(n)
            entry = {
                "method": self.command,
                "path": self.path.split("?")[0],
                "host": self.headers.get("Host", ""),
                "has_password": self.headers.get("X-ClickHouse-Key") is not None,
                "has_user": self.headers.get("X-ClickHouse-User") is not None,
            }
            with open(log, "a") as f:
                f.write(json.dumps(entry) + "\n")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = handle_one

    serve_http(Record)


def redirect(target):
    class Redirect(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def handle_one(self):
            n = int(self.headers.get("Content-Length") or 0)
            if n:
                self.rfile.read(n)
            self.send_response(307)
            self.send_header("Location", target.rstrip("/") + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = handle_one

    serve_http(Redirect)


def silent():
    lsn = socket.socket()
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(64)
    print(f"PORT {lsn.getsockname()[1]}", flush=True)
    held = []

    def hold(conn):
        held.append(conn)
        try:
            while conn.recv(65536):
                pass
        except OSError:
            pass

    while True:
        conn, _ = lsn.accept()
        threading.Thread(target=hold, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "record":
        record(sys.argv[2])
    elif mode == "redirect":
        redirect(sys.argv[2])
    elif mode == "silent":
        silent()
    else:
        sys.exit(f"unknown mode {mode}")
