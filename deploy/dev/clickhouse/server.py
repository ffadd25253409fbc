#!/usr/bin/env python3
"""Development stand-in for the ClickHouse HTTP interface, over chDB (the ClickHouse engine
in-process, from PyPI). See README.md beside this file for what it is and is not.

Speaks the part of https://clickhouse.com/docs/interfaces/http that @clickhouse/client uses:
  GET|HEAD /, /ping, /replicas_status     -> "Ok.\\n"
  GET|POST /?query=...                     query in the URL and/or the body (URL first, then
                                           "\\n", then the body: INSERT data or query text)
  param_<name>=<text>                      {name:Type} placeholders, bound by chDB natively
  database=<db>                            current database for this request
  default_format=<fmt>                     output format when the query has no FORMAT clause
  query_id=<id>                            echoed in X-ClickHouse-Query-Id (generated if absent)
  <setting>=<value>                        applied with SET for this request, then reset to
                                           DEFAULT; unknown settings are ignored (logged)
  enable_http_compression=1 + Accept-Encoding: gzip -> gzip response; Content-Encoding: gzip
                                           request bodies are decompressed
Responses carry X-ClickHouse-Query-Id, X-ClickHouse-Format, X-ClickHouse-Summary,
X-ClickHouse-Timezone. Errors: status 400/404/500 by error code, body
"Code: N. DB::Exception: ... (NAME)" as chDB reports it, header X-ClickHouse-Exception-Code.

One persistent chDB session (a data folder) serves every request, one query at a time.
Usage: server.py [--host 127.0.0.1] [--port 18123] [--data DIR]
"""
import argparse
import gzip
import json
import logging
import re
import signal
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import chdb
from chdb import session as chdb_session

log = logging.getLogger("chdb-http")

# URL parameters of the HTTP interface that are not ClickHouse settings.
NOT_SETTINGS = {
    "query", "query_id", "database", "default_format", "session_id", "session_timeout",
    "session_check", "user", "password", "quota_key", "compress", "decompress",
    "enable_http_compression", "http_zlib_compression_level", "wait_end_of_query",
    "buffer_size", "role", "add_http_cors_header", "send_progress_in_http_headers",
    "http_headers_progress_interval_ms", "cancel_http_readonly_queries_on_client_close",
    "http_native_compression_disable_checksumming_on_decompress", "http_response_buffer_size",
    "stacktrace", "client_protocol_version", "readonly",
}
SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
FORMAT_TAIL = re.compile(r"\bFORMAT\s+([A-Za-z][A-Za-z0-9_]*)\s*;?\s*$", re.IGNORECASE)
FORMAT_ANY = re.compile(r"\bFORMAT\s+([A-Za-z][A-Za-z0-9_]*)", re.IGNORECASE)
INSERT_HEAD = re.compile(r"^\s*INSERT\b", re.IGNORECASE)
ERROR_CODE = re.compile(r"Code:\s*(\d+)")

# ClickHouse answers these error codes with 400 (bad request) or 404 instead of 500
# (a subset of the mapping in ClickHouse's HTTPHandler.cpp).
STATUS_400 = {6, 26, 27, 32, 33, 34, 35, 36, 38, 41, 42, 43, 44, 46, 47, 48, 53, 62, 69, 72,
              73, 115, 117, 130, 131, 190, 457, 691}
STATUS_404 = {60, 81}  # UNKNOWN_TABLE, UNKNOWN_DATABASE

CONTENT_TYPES = [
    (re.compile(r"^JSON.*EachRow", re.I), "application/x-ndjson; charset=UTF-8"),
    (re.compile(r"^JSON", re.I), "application/json; charset=UTF-8"),
    (re.compile(r"^CSV", re.I), "text/csv; charset=UTF-8; header=absent"),
    (re.compile(r"^(TabSeparated|TSV)", re.I), "text/tab-separated-values; charset=UTF-8"),
    (re.compile(r"^(Parquet|Arrow|Native|RowBinary|Avro|ORC)", re.I), "application/octet-stream"),
]


def content_type(fmt):
    for rx, ct in CONTENT_TYPES:
        if rx.match(fmt):
            return ct
    return "text/plain; charset=UTF-8"


def quote_literal(value):
    """A ClickHouse string literal: single quotes, backslash escapes."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quote_ident(name):
    """A ClickHouse identifier in backquotes."""
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


class QueryError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


class Engine:
    """The chDB session, used by one request at a time."""

    def __init__(self, path):
        self.session = chdb_session.Session(path)
        self.lock = threading.Lock()
        self.version = self._raw("SELECT version()", "TSV").strip()
        self.timezone = self._raw("SELECT timezone()", "TSV").strip()

    def _raw(self, sql, fmt):
        return self.session.query(sql, fmt).bytes().decode("utf-8")

    def close(self):
        with self.lock:
            self.session.close()

    def execute(self, sql, fmt, params, settings, database):
        """Runs one query; returns (body bytes, summary dict). Raises QueryError."""
        with self.lock:
            applied = []
            try:
                if database and database != "default":
                    self._run(f"USE {quote_ident(database)}", "TSV", None)
                for name, value in settings:
                    try:
                        self._run(f"SET {name} = {quote_literal(value)}", "TSV", None)
                        applied.append(name)
                    except QueryError as e:
                        if e.code != 115:  # UNKNOWN_SETTING is ignored, anything else is the caller's error
                            raise
                        log.info("ignoring unknown setting %s", name)
                t0 = time.perf_counter_ns()
                res = self._run(sql, fmt, params)
                elapsed = time.perf_counter_ns() - t0
                body = res.bytes()
                summary = {
                    "read_rows": str(res.rows_read()),
                    "read_bytes": str(res.bytes_read()),
                    "written_rows": str(res.rows_written()),
                    "written_bytes": str(res.bytes_written()),
                    "total_rows_to_read": str(res.rows_read()),
                    "result_rows": "0",
                    "result_bytes": str(len(body)),
                    "elapsed_ns": str(elapsed),
                }
                return body, summary
            finally:
                for name in applied:
                    self._reset(f"SET {name} = DEFAULT")
                if database and database != "default":
                    self._reset("USE default")

    def _reset(self, sql):
        try:
            self.session.query(sql, "TSV")
        except Exception as e:  # keep serving; the next request re-applies what it needs
            log.warning("reset failed (%s): %s", sql, e)

    def _run(self, sql, fmt, params):
        try:
            if params:
                return self.session.query(sql, fmt, params=params)
            return self.session.query(sql, fmt)
        except Exception as e:  # chdb raises ChdbError / RuntimeError with ClickHouse's text
            text = str(e).strip()
            m = ERROR_CODE.search(text)
            code = int(m.group(1)) if m else 1001  # 1001: STD_EXCEPTION
            if not m:
                text = f"Code: 1001. DB::Exception: {text}. (STD_EXCEPTION)"
            raise QueryError(code, text) from None


def read_body(handler):
    te = handler.headers.get("Transfer-Encoding", "")
    if "chunked" in te.lower():
        parts = []
        rfile = handler.rfile
        while True:
            line = rfile.readline(65537)
            if not line:
                raise ValueError("truncated chunked body")
            size = int(line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                break
            parts.append(rfile.read(size))
            rfile.readline(3)  # CRLF after each chunk
        data = b"".join(parts)
    else:
        n = int(handler.headers.get("Content-Length") or 0)
        data = handler.rfile.read(n) if n > 0 else b""
    if handler.headers.get("Content-Encoding", "").lower() == "gzip" and data:
        data = gzip.decompress(data)
    return data


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "chdb-http"
    engine = None  # set in main

    def log_message(self, fmt, *args):
        log.debug("%s " + fmt, self.address_string(), *args)

    def do_HEAD(self):
        self._ok_text(head=True)

    def do_GET(self):
        self._handle(allow_body=False)

    def do_POST(self):
        self._handle(allow_body=True)

    def _ok_text(self, head=False):
        body = b"Ok.\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Keep-Alive", "timeout=10")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _handle(self, allow_body):
        url = urlsplit(self.path)
        params = parse_qsl(url.query, keep_blank_values=True)
        if url.path in ("/ping", "/replicas_status") or (url.path == "/" and not params and not allow_body):
            return self._ok_text()
        query_id = str(uuid.uuid4())
        try:
            body = read_body(self) if allow_body else b""
        except Exception as e:
            return self._error(query_id, 400, 1001, f"Code: 1001. DB::Exception: cannot read the request body: {e}. (STD_EXCEPTION)", params)
        if url.path != "/":
            return self._error(query_id, 404, 1001, f"Code: 1001. DB::Exception: no handler for {url.path}. (STD_EXCEPTION)", params)

        url_query = None
        qparams, settings = {}, []
        database, default_format = None, "TabSeparated"
        for k, v in params:
            if k == "query":
                url_query = v
            elif k == "query_id":
                query_id = v or query_id
            elif k == "database":
                database = v
            elif k == "default_format":
                default_format = v
            elif k.startswith("param_"):
                qparams[k[6:]] = v
            elif k in NOT_SETTINGS:
                continue
            elif SETTING_NAME.match(k):
                settings.append((k, v))

        text = body.decode("utf-8", errors="surrogateescape") if body else ""
        if url_query is not None and text:
            sql = url_query + "\n" + text
        else:
            sql = url_query if url_query is not None else text
        if not sql.strip():
            return self._error(query_id, 400, 62, "Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)", params)

        is_insert = bool(INSERT_HEAD.match(sql))
        if is_insert:
            head = url_query if url_query is not None else sql[:4096]
            m = FORMAT_ANY.search(head)
            fmt = m.group(1) if m else "Values"
            out_fmt = "TabSeparated"
        else:
            m = FORMAT_TAIL.search(sql)
            fmt = out_fmt = m.group(1) if m else default_format

        try:
            data, summary = self.engine.execute(sql, out_fmt, qparams, settings, database)
        except QueryError as e:
            status = 404 if e.code in STATUS_404 else 400 if e.code in STATUS_400 else 500
            log.info("query %s failed: %s", query_id, e.message.splitlines()[0][:300])
            return self._error(query_id, status, e.code, e.message, params)

        if is_insert:
            data = b""
        self.send_response(200)
        self.send_header("Content-Type", content_type(out_fmt) if not is_insert else "text/plain; charset=UTF-8")
        self.send_header("X-ClickHouse-Query-Id", query_id)
        self.send_header("X-ClickHouse-Format", out_fmt if not is_insert else fmt)
        self.send_header("X-ClickHouse-Timezone", self.engine.timezone)
        self.send_header("X-ClickHouse-Server-Display-Name", "chdb-http")
        self.send_header("X-ClickHouse-Summary", json.dumps(summary, separators=(",", ":")))
        self.send_header("Keep-Alive", "timeout=10")
        data = self._maybe_gzip(data, params)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _maybe_gzip(self, data, params):
        wants = any(k == "enable_http_compression" and v == "1" for k, v in params)
        if wants and data and "gzip" in self.headers.get("Accept-Encoding", "").lower():
            self.send_header("Content-Encoding", "gzip")
            return gzip.compress(data, compresslevel=3)
        return data

    def _error(self, query_id, status, code, message, params):
        if not message.endswith("\n"):
            message += "\n"
        data = message.encode("utf-8", errors="replace")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        self.send_header("X-ClickHouse-Query-Id", query_id)
        self.send_header("X-ClickHouse-Exception-Code", str(code))
        self.send_header("Keep-Alive", "timeout=10")
        data = self._maybe_gzip(data, params)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=18123)
    ap.add_argument("--data", default=".cache/clickhouse/data")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    Handler.engine = Engine(args.data)
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True

    def stop(signum, _frame):
        log.info("signal %d: shutting down", signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("chDB %s (ClickHouse engine %s) serving http://%s:%d, data %s",
             chdb.__version__, Handler.engine.version, args.host, args.port, args.data)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        Handler.engine.close()
        log.info("stopped")


if __name__ == "__main__":
    main()
