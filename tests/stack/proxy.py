"""A local HTTPS (CONNECT-only) proxy that sends the local cloud's `.test` names to local ports.

    python -m tests.stack.proxy --state-dir DIR --route '*.managedhsm.hsmbackup.test=127.0.0.1:PORT' \
        --route '*.blob.hsmbackup.test=127.0.0.1:PORT2' [--port 0]

Clients set HTTPS_PROXY=http://127.0.0.1:N and NO_PROXY=127.0.0.1,localhost. For `CONNECT host:port` the host is
matched (case-insensitive glob, first match wins) against the routes; a match gets `200 Connection established`
and the bytes are spliced both ways, so TLS stays end to end (the proxy never decrypts). Anything else - an
unrouted host, a plain `GET http://...` - gets `403 Forbidden` and the proxy connects nowhere: no request can
leave for a public host through it. Route targets must be loopback addresses.

Writes DIR/proxy.json = {"port", "pid", "url", "routes"} when listening, logs one JSON line per request to
DIR/proxy-requests.jsonl, and stops on SIGTERM.
"""

import argparse
import asyncio
import contextlib
import fnmatch
import ipaddress
import os
import signal
import sys
from pathlib import Path
from urllib.parse import urlsplit

from tests.stack._server import HOST, JsonLines, utc_now, write_json_atomic

HEAD_LIMIT = 16 * 1024
HEAD_TIMEOUT = 10
CONNECT_TIMEOUT = 5
HALF_CLOSE_GRACE = 10  # after one side sends EOF, how long the other direction may still finish
CHUNK = 64 * 1024


class Route:
    def __init__(self, spec):
        pattern, sep, target = spec.partition("=")
        host, colon, port = target.rpartition(":")
        if not sep or not pattern or not colon or not port.isdigit():
            raise argparse.ArgumentTypeError(f"route {spec!r} is not GLOB=HOST:PORT")
        host = host.strip("[]")
        if host != "localhost":
            try:
                loopback = ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = False
            if not loopback:
                raise argparse.ArgumentTypeError(f"route target {target!r} is not a loopback address")
        if not 0 < int(port) < 65536:
            raise argparse.ArgumentTypeError(f"route {spec!r}: bad port")
        self.pattern, self.host, self.port = pattern.lower(), host, int(port)

    def matches(self, host):
        return fnmatch.fnmatchcase(host, self.pattern)

    def __str__(self):
        return f"{self.pattern}={self.host}:{self.port}"


def parse_authority(authority):
    """`host:port` / `[v6]:port` -> (lower-case host without trailing dot, port) or None."""
    host, colon, port = authority.rpartition(":")
    if not colon or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    host = host.strip("[]").rstrip(".").lower()
    return (host, int(port)) if host else None


def redact_url(target):
    """What a plain proxy request asked for, without its query string (a SAS token lives there)."""
    try:
        parts = urlsplit(target)
    except ValueError:
        return "<unparsable>"
    if parts.scheme and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}{parts.path}"
    return parts.path[:200]


def _response(status, reason, text=""):
    body = (text + "\n").encode() if text else b""
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\nProxy-Agent: hsmbackup-local\r\n\r\n"
    ).encode() + body


class Proxy:
    def __init__(self, routes, log_path):
        self.routes = routes
        self.log = JsonLines(log_path)
        self.tasks = set()

    def route_for(self, host):
        return next((r for r in self.routes if r.matches(host)), None)

    async def handle(self, reader, writer):
        task = asyncio.current_task()
        self.tasks.add(task)
        conn = {}
        try:
            await self._handle(reader, writer, conn)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self.tasks.discard(task)
            upstream = conn.get("upstream")
            for w in (writer, upstream):
                if w is not None:
                    w.close()
            for w in (writer, upstream):
                if w is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(w.wait_closed(), 1)

    async def _handle(self, reader, writer, conn):
        peer = writer.get_extra_info("peername") or ("?", 0)
        record = {"time": utc_now(), "client": f"{peer[0]}:{peer[1]}"}
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT)
        except (TimeoutError, asyncio.LimitOverrunError, asyncio.IncompleteReadError, ValueError):
            return  # not HTTP, too big, or a client that connected and said nothing
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        method, _, rest = request_line.partition(" ")
        target = rest.rpartition(" ")[0] if rest.count(" ") else rest
        record["method"] = method[:20]

        if method.upper() != "CONNECT":
            record.update(target=redact_url(target), result="refused", reason="only CONNECT is allowed")
            self.log.append(record)
            writer.write(_response(403, "Forbidden", "This proxy only tunnels CONNECT to the local test stack."))
            await writer.drain()
            return

        authority = parse_authority(target)
        if authority is None:
            record.update(target=target[:200], result="refused", reason="bad CONNECT authority")
            self.log.append(record)
            writer.write(_response(400, "Bad Request", "CONNECT needs host:port."))
            await writer.drain()
            return
        host, port = authority
        record.update(host=host, port=port)
        route = self.route_for(host)
        if route is None:
            record.update(target=None, result="refused", reason="no route for host")
            self.log.append(record)
            writer.write(_response(403, "Forbidden", f"{host} is not a host of the local test stack."))
            await writer.drain()
            return

        record.update(target=f"{route.host}:{route.port}", route=route.pattern)
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(route.host, route.port), CONNECT_TIMEOUT
            )
        except (TimeoutError, OSError) as exc:
            record.update(result="error", reason=f"cannot reach target: {exc!r}")
            self.log.append(record)
            writer.write(_response(502, "Bad Gateway", f"{route.host}:{route.port} is not answering."))
            await writer.drain()
            return
        conn["upstream"] = up_writer
        record["result"] = "tunnel"
        self.log.append(record)
        writer.write(b"HTTP/1.1 200 Connection established\r\nProxy-Agent: hsmbackup-local\r\n\r\n")
        await writer.drain()
        await self._splice(reader, writer, up_reader, up_writer)

    async def _splice(self, client_reader, client_writer, up_reader, up_writer):
        up = asyncio.ensure_future(_pipe(client_reader, up_writer))
        down = asyncio.ensure_future(_pipe(up_reader, client_writer))
        try:
            done, pending = await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
            if pending and all(
                t.exception() is None and t.result() for t in done
            ):  # a clean EOF: let the other direction finish
                await asyncio.wait(pending, timeout=HALF_CLOSE_GRACE)
        finally:
            for t in (up, down):
                t.cancel()
            await asyncio.gather(up, down, return_exceptions=True)


async def _pipe(reader, writer):
    """Copy until EOF; True on a clean EOF (passed on as a half-close), False if either socket failed."""
    try:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
        return True
    except (ConnectionError, OSError):
        return False


async def run(args):
    proxy = Proxy(args.route, args.state_dir / "proxy-requests.jsonl")
    server = await asyncio.start_server(proxy.handle, HOST, args.port, limit=HEAD_LIMIT, backlog=256)
    port = server.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    ready = args.state_dir / "proxy.json"
    write_json_atomic(
        ready,
        {"port": port, "pid": os.getpid(), "url": f"http://{HOST}:{port}", "routes": [str(r) for r in args.route]},
    )
    try:
        await stop.wait()
    finally:
        server.close()
        for task in list(proxy.tasks):
            task.cancel()
        await asyncio.gather(*proxy.tasks, return_exceptions=True)
        ready.unlink(missing_ok=True)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.stack.proxy", description=__doc__.split("\n")[0])
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument(
        "--route",
        action="append",
        type=Route,
        required=True,
        metavar="GLOB=127.0.0.1:PORT",
        help="host glob (fnmatch, case-insensitive) and the loopback address it goes to; repeatable",
    )
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    args.state_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
