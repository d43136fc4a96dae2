#!/usr/bin/env python3
"""Servers for the git source's tests, on 127.0.0.1 only.

  git-server.py http ROOT PORTFILE [--token T] [--log FILE]
      smart HTTP: runs `git http-backend` for the repositories under ROOT;
      with --token, asks for HTTP basic authentication whose password is T
      (any user name), and logs each user name it saw to FILE.
      With --cert and --key (PEM files), serves HTTPS instead.
  git-server.py files ROOT PORTFILE [--token T] [--cert C --key K]
      serves the files under ROOT at /NAME (with a Content-Length), and
      for the tarball source's tests:
        /stall/NAME     the headers and half of NAME, then nothing more
        /chunked/NAME   NAME chunked, without a Content-Length
        /endless        chunked bytes without end
        /loop           a redirect to itself, for ever
        /redirect/NAME  a redirect to /NAME
        /flaky/N/NAME   503 for the first N requests, then NAME
        /offsite/NAME   a redirect to NAME on another port (PORTFILE.other)
      With --token, every request needs it as the basic auth password;
      the Authorization headers seen are logged to --log.
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
import ssl
import tarfile
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


class FilesHandler(BaseHTTPRequestHandler):
    options = None
    flaky = {}
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def authorized(self):
        opts = self.options
        auth = self.headers.get("Authorization", "")
        if opts.log:
            with open(opts.log, "a") as log:
                log.write("%s %s\n" % (self.path, auth or "-"))
        if opts.token is None:
            return True
        try:
            password = base64.b64decode(auth[6:]).decode().partition(":")[2]
        except ValueError:
            return False
        return auth.startswith("Basic ") and password == opts.token

    def answer(self, status, headers=(), body=b""):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read(self, name):
        with open(os.path.join(self.options.root, name), "rb") as f:
            return f.read()

    def do_GET(self):
        if not self.authorized():
            self.answer(401, [("WWW-Authenticate", 'Basic realm="files"')])
            return
        parts = self.path.lstrip("/").split("/")
        try:
            self.route(parts)
        except (FileNotFoundError, IsADirectoryError):
            self.answer(404)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def route(self, parts):
        kind = parts[0]
        if kind == "stall":
            data = self.read(parts[1])
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            time.sleep(self.options.lifetime)
        elif kind == "chunked" or kind == "endless":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if kind == "chunked":
                data = self.read(parts[1])
                self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data))
                return
            # A tar header for a file of 100 GB, then its data for ever.
            info = tarfile.TarInfo("huge.bin")
            info.size = 100 << 30
            head = info.tobuf(format=tarfile.GNU_FORMAT)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(head), head))
            block = b"\0" * 65536
            while True:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
        elif kind == "loop":
            self.answer(302, [("Location", "/loop")])
        elif kind == "redirect":
            self.answer(302, [("Location", "/" + parts[1])])
        elif kind == "offsite":
            with open(self.options.portfile + ".other") as f:
                other = int(f.read())
            self.answer(302, [("Location", "http://127.0.0.1:%d/%s"
                               % (other, parts[1]))])
        elif kind == "flaky":
            with self.lock:
                seen = self.flaky.get(self.path, 0)
                self.flaky[self.path] = seen + 1
            if seen < int(parts[1]):
                self.answer(503)
            else:
                self.answer(200, [], self.read(parts[2]))
        else:
            self.answer(200, [], self.read(kind))


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
    parser.add_argument("mode", choices=["http", "files", "blackhole"])
    parser.add_argument("args", nargs="+")
    parser.add_argument("--token")
    parser.add_argument("--log")
    parser.add_argument("--lifetime", type=float, default=120)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    opts = parser.parse_args()
    if opts.mode == "blackhole":
        opts.portfile = opts.args[0]
        blackhole(opts)
        return
    opts.root, opts.portfile = opts.args
    handler = GitHandler if opts.mode == "http" else FilesHandler
    handler.options = opts
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    if opts.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(opts.cert, opts.key)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    write_port(opts.portfile, httpd.server_address[1])
    threading.Timer(opts.lifetime, lambda: os._exit(0)).start()
    httpd.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
