"""A minimal, fast Koji hub for benchmarks: pre-serialized answers over
HTTP/1.1 keep-alive (and HTTPS with client certificates for logins).

It reads just enough of each request to find the ``methodName`` and answers
with bytes built once at start-up (:mod:`payloads`), so nearly all the CPU a
benchmark measures is the client's.  It also counts what the benchmark
wants to know about a client's behaviour: connections opened, requests, and
authenticated calls that arrived out of callnum order.  Two extra methods
read and reset those counters: ``benchmark.stats`` and ``benchmark.reset``.

Run: ``python hub.py [--certs DIR]``; it prints one JSON line with its ports
(``{"http": N, "https": M}``) and serves until terminated.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import signal
import ssl
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import payloads  # noqa: E402

HEADER_END = b"\r\n\r\n"
#: A multicall's sub-call method names, however the client spaces its XML.
SUBCALL = re.compile(
    rb"<name>\s*methodName\s*</name>\s*<value>\s*(?:<string>)?\s*([^<\s]+)"
)
MAX_HEAD = 64 * 1024


def http_response(body: bytes, *, status: str = "200 OK", close: bool = False) -> bytes:
    """Return a whole HTTP/1.1 answer (head and body) as bytes."""
    ctype = b"text/xml" if status.startswith("200") else b"text/plain"
    head = [
        f"HTTP/1.1 {status}".encode(),
        b"Server: txkoji-benchmark-hub",
        b"Content-Type: " + ctype,
        b"Koji-Version: 1.35.3",
        f"Content-Length: {len(body)}".encode(),
    ]
    if close:
        head.append(b"Connection: close")
    return b"\r\n".join(head) + HEADER_END + body


class Counters:
    """What the hub has seen since the last reset."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Zero every counter."""
        self.connections = 0
        # A live gauge: connections still open stay counted as open.
        self.open_connections = getattr(self, "open_connections", 0)
        self.peak_open_connections = self.open_connections
        self.requests = 0
        self.logins = 0
        self.out_of_order = 0
        self.last_callnum: dict[bytes, int] = {}

    def as_dict(self) -> dict:
        """The counters as a struct for ``benchmark.stats``."""
        return {
            "connections": self.connections,
            "peak_open_connections": self.peak_open_connections,
            "requests": self.requests,
            "logins": self.logins,
            "out_of_order": self.out_of_order,
        }


class Answers:
    """The pre-built HTTP answers, keep-alive and closing variants."""

    def __init__(self) -> None:
        bodies = payloads.hub_answers()
        self.keep = {name: http_response(body) for name, body in bodies.items()}
        self.close = {
            name: http_response(body, close=True) for name, body in bodies.items()
        }
        self.session_ids = itertools.count(40000001)
        self.values = {
            name: payloads.value_xml(value)
            for name, value in payloads.small_values().items()
        }
        self.multicalls: dict[tuple[str, ...], bytes] = {}

    def multicall(self, body: bytes) -> bytes | None:
        """The body answering a multicall other than the benchmark's 1000
        getBuild calls (e.g. a client batching authenticated calls), or
        None for that one (it has a pre-built answer)."""
        methods = tuple(
            name.decode("utf-8", "replace") for name in SUBCALL.findall(body)
        )
        if len(methods) == payloads.MULTICALL_SIZE and set(methods) == {"getBuild"}:
            return None
        answer = self.multicalls.get(methods)
        if answer is None:
            answer = payloads.multicall_response(list(methods), self.values)
            self.multicalls[methods] = answer
        return answer

    def login(self) -> bytes:
        """The body of a fresh session's ``sslLogin``/``login`` answer."""
        return payloads.response(payloads.session(next(self.session_ids)))


class HubProtocol(asyncio.Protocol):
    """One client connection: parse requests, write pre-built answers."""

    def __init__(self, answers: Answers, counters: Counters, tls: bool) -> None:
        self.answers = answers
        self.counters = counters
        self.tls = tls
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.counted = False

    def _count(self) -> None:
        """Count this connection, at its first request that is not the
        benchmark's own control call (so those never show in the figures)."""
        self.counted = True
        counters = self.counters
        counters.connections += 1
        counters.open_connections += 1
        counters.peak_open_connections = max(
            counters.peak_open_connections, counters.open_connections
        )

    def connection_lost(self, exc: Exception | None) -> None:
        if self.counted:
            self.counters.open_connections -= 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None and not self.transport.is_closing():
            request = self._next_request()
            if request is None:
                if len(self.buffer) > MAX_HEAD and HEADER_END not in self.buffer:
                    self.transport.write(
                        http_response(b"head too large", status="400 Bad Request")
                    )
                    self.transport.close()
                return
            self.transport.write(self._answer(*request))
            if request[2][b":close"]:
                self.transport.close()

    def _next_request(self) -> tuple[bytes, bytes, dict[bytes, bytes], bytes] | None:
        """Take one complete request off the buffer, or return None."""
        buf = self.buffer
        end = buf.find(HEADER_END)
        if end < 0:
            return None
        lines = bytes(buf[:end]).split(b"\r\n")
        request_line = lines[0].split(b" ")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        start = end + 4
        if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            body, consumed = _dechunk(buf, start)
            if body is None:
                return None
        else:
            length = int(headers.get(b"content-length", b"0"))
            if len(buf) < start + length:
                return None
            body, consumed = bytes(buf[start : start + length]), start + length
        del buf[:consumed]
        verb = request_line[0]
        path = request_line[1] if len(request_line) > 1 else b"/"
        version = request_line[2] if len(request_line) > 2 else b"HTTP/1.0"
        close = headers.get(b"connection", b"").lower() == b"close" or (
            version == b"HTTP/1.0"
            and headers.get(b"connection", b"").lower() != b"keep-alive"
        )
        headers[b":close"] = b"1" if close else b""
        return verb, path, headers, body

    def _answer(
        self, verb: bytes, path: bytes, headers: dict[bytes, bytes], body: bytes
    ) -> bytes:
        counters = self.counters
        close = bool(headers[b":close"])
        if verb != b"POST":
            return http_response(b"POST only\n", status="405 Method Not Allowed")
        method = _method_name(body)
        if method is None:
            return http_response(b"Invalid request\n", status="400 Bad Request")
        if method == "benchmark.stats":
            return http_response(payloads.response(counters.as_dict()), close=close)
        if method == "benchmark.reset":
            counters.reset()
            return http_response(payloads.response(True), close=close)
        if not self.counted:
            self._count()
        counters.requests += 1
        if path.split(b"?")[0].endswith(b"/ssllogin") or method == "login":
            return self._login(close)
        session = headers.get(b"koji-session-id")
        if session is not None:
            self._check_callnum(session, headers.get(b"koji-session-callnum"))
        if method in ("system.multicall", "multiCall"):
            body = self.answers.multicall(body)
            if body is not None:
                return http_response(body, close=close)
        table = self.answers.close if close else self.answers.keep
        answer = table.get(method)
        if answer is not None:
            return answer
        body = payloads.fault(1000, f"Invalid method: {method}")
        return http_response(body, close=close)

    def _login(self, close: bool) -> bytes:
        if self.tls and not self.transport.get_extra_info("peercert"):
            body = payloads.fault(1002, "could not verify client: no certificate")
        else:
            self.counters.logins += 1
            body = self.answers.login()
        return http_response(body, close=close)

    def _check_callnum(self, session: bytes, callnum: bytes | None) -> None:
        if callnum is None:
            return
        number = int(callnum)
        last = self.counters.last_callnum.get(session, -1)
        if number <= last:
            self.counters.out_of_order += 1
        else:
            self.counters.last_callnum[session] = number


def _method_name(body: bytes) -> str | None:
    start = body.find(b"<methodName>")
    if start < 0:
        return None
    start += len(b"<methodName>")
    end = body.find(b"</methodName>", start)
    if end < 0:
        return None
    return body[start:end].strip().decode("utf-8", "replace")


def _dechunk(buf: bytearray, start: int) -> tuple[bytes | None, int]:
    """Decode a chunked body starting at ``start``; (None, 0) if incomplete."""
    parts = []
    pos = start
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None, 0
        size = int(bytes(buf[pos:eol]).split(b";")[0], 16)
        pos = eol + 2
        if size == 0:
            trailer_end = buf.find(b"\r\n", pos)
            if trailer_end < 0:
                return None, 0
            return b"".join(parts), trailer_end + 2
        if len(buf) < pos + size + 2:
            return None, 0
        parts.append(bytes(buf[pos : pos + size]))
        pos += size + 2


def tls_context(certs: str) -> ssl.SSLContext:
    """Server TLS: the hub certificate, client certificates optional and
    checked against the benchmark CA (as a hub asking at handshake time)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(
        os.path.join(certs, "hub.crt"), os.path.join(certs, "hub.key")
    )
    context.load_verify_locations(os.path.join(certs, "ca.crt"))
    context.verify_mode = ssl.CERT_OPTIONAL
    return context


async def serve(certs: str | None, host: str = "127.0.0.1") -> None:
    """Serve until SIGTERM/SIGINT, after printing the ports as JSON."""
    loop = asyncio.get_running_loop()
    answers, counters = Answers(), Counters()
    plain = await loop.create_server(
        lambda: HubProtocol(answers, counters, tls=False), host, 0, backlog=4096
    )
    ports = {"http": plain.sockets[0].getsockname()[1]}
    servers = [plain]
    if certs:
        secure = await loop.create_server(
            lambda: HubProtocol(answers, counters, tls=True),
            host,
            0,
            backlog=4096,
            ssl=tls_context(certs),
        )
        ports["https"] = secure.sockets[0].getsockname()[1]
        servers.append(secure)
    stop = loop.create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set_result, None)
    print(json.dumps(ports), flush=True)
    await stop
    for server in servers:
        server.close()


def main() -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certs", help="directory with ca.crt, hub.crt, hub.key")
    args = parser.parse_args()
    asyncio.run(serve(args.certs))


if __name__ == "__main__":
    main()
