#!/usr/bin/env python3
"""Servers for the git source's tests, on 127.0.0.1 only.

  git-server.py http ROOT PORTFILE [--token T] [--log FILE]
      smart HTTP: runs `git http-backend` for the repositories under ROOT;
      with --token, asks for HTTP basic authentication whose password is T
      (any user name), and logs each user name it saw to FILE.
  git-server.py blackhole PORTFILE
      accepts connections and never answers.

Each writes the port it listens on to PORTFILE, then serves until killed
or until --lifetime seconds (default 120) have passed, so a test that dies
leaves nothing running for long.
"""
import argparse
import base64
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def read_body(handler):
    """The request body, whether sent with a length or chunked."""
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                handler.rfile.readline()
                return body
            body += handler.rfile.read(size)
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


class GitHandler(BaseHTTPRequestHandler):
    options = None

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.serve()

    def do_POST(self):
        self.serve()

    def authorized(self):
        opts = self.options
        if opts.token is None:
            return True
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            return False
        if opts.log:
            with open(opts.log, "a") as log:
                log.write(user + "\n")
        return password == opts.token

    def serve(self):
        body = read_body(self)
        if not self.authorized():
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": self.options.root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "127.0.0.1",
            "GATEWAY_INTERFACE": "CGI/1.1",
        }
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        out = subprocess.run(["git", "http-backend"], input=body, env=env,
                             capture_output=True).stdout
        sep = b"\r\n\r\n" if b"\r\n\r\n" in out else b"\n\n"
        head, _, content = out.partition(sep)
        status, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


def write_port(path, port):
    with open(path + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(path + ".tmp", path)


def blackhole(opts):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    write_port(opts.portfile, server.getsockname()[1])
    held = []
    server.settimeout(1)
    deadline = time.time() + opts.lifetime
    while time.time() < deadline:
        try:
            conn, _ = server.accept()
            held.append(conn)
        except socket.timeout:
            pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["http", "blackhole"])
    parser.add_argument("args", nargs="+")
    parser.add_argument("--token")
    parser.add_argument("--log")
    parser.add_argument("--lifetime", type=float, default=120)
    opts = parser.parse_args()
    if opts.mode == "blackhole":
        opts.portfile = opts.args[0]
        blackhole(opts)
        return
    opts.root, opts.portfile = opts.args
    GitHandler.options = opts
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), GitHandler)
    httpd.daemon_threads = True
    write_port(opts.portfile, httpd.server_address[1])
    threading.Timer(opts.lifetime, lambda: os._exit(0)).start()
    httpd.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
