"""The emulator's HTTP server: Gmail's REST API, OAuth endpoints, quota, latency and faults."""
from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import json
import random
import re
import secrets
import socket
import threading
import time
import urllib.parse
from collections import Counter, deque
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ..quota import MODELS
from .mailbox import HISTORY_TYPES, EmulatedMessage, HistoryRecord, Mailbox, b64url, parse_attachment_id
from .search import QueryError

MAX_BATCH_PARTS = 50
STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}
REASONS = {400: "invalidArgument", 401: "authError", 403: "forbidden", 404: "notFound",
           429: "rateLimitExceeded", 500: "backendError", 503: "backendError"}


@dataclass
class EmulatorOptions:
    """How the emulator behaves; every field can be changed while it runs."""

    quota_model: str = "2026"  # what each method costs: gmail_sync/quota.py's "2026" or "legacy"
    quota_units_per_second: float | None = None  # a per-user bucket with a one-second burst; None: none
    quota_units_per_minute: float | None = None  # a per-user rolling minute (the 2026 limit is 6,000); None: none
    quota_window_seconds: float = 60.0  # the rolling window's length (shorter only to test it quickly)
    # The project's rolling minute, shared by every user served (Gmail's 2026 limit is 1,200,000);
    # None: none. A call refused by it is answered 429 rateLimitExceeded, counted apart.
    quota_project_units_per_minute: float | None = None
    latency_ms: tuple[float, float] = (0.0, 0.0)  # uniform per HTTP request
    fault_rate: float = 0.0  # share of requests (and of batch parts) that fail: 5xx or a dropped connection
    access_token_lifetime: int = 3600
    retry_after_seconds: int | None = None  # sent with 429s when set
    # Share of quota refusals answered as Gmail also answers them: 403 userRateLimitExceeded
    # (the rest are 429 rateLimitExceeded), in batch parts as in single calls.
    rate_limit_403_share: float = 0.0
    page_token_lifetime_seconds: float | None = None  # messages.list tokens refused (400) past this age
    max_results_limit: int = 500
    # New mail arriving while a client syncs: these raw messages are delivered one by one, this
    # many seconds apart, from the moment the emulator starts (or deliver_later() is called).
    arriving_mail: list[bytes] = field(default_factory=list)
    arrival_interval_seconds: float = 1.0
    seed: int | None = None
    refresh_tokens: set[str] = field(default_factory=lambda: {"demo-refresh-token"})


class _Bucket:
    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = rate
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def take(self, cost: float) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens + 1e-9 < cost:
                return False
            self.tokens -= cost
            return True


class _RollingWindow:
    """At most ``limit`` units in any ``seconds`` window, as Gmail's per-minute quota counts."""

    def __init__(self, limit: float, seconds: float = 60.0) -> None:
        self.limit = limit
        self.seconds = seconds
        self.spent: deque[tuple[float, float]] = deque()
        self.total = 0.0
        self.lock = threading.Lock()

    def take(self, cost: float) -> bool:
        with self.lock:
            now = time.monotonic()
            while self.spent and self.spent[0][0] <= now - self.seconds:
                self.total -= self.spent.popleft()[1]
            if self.total + cost > self.limit + 1e-9:
                return False
            self.spent.append((now, cost))
            self.total += cost
            return True


class _Response:
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None,
                 raw: bytes | None = None) -> None:
        self.status = status
        self.headers = {"Content-Type": "application/json; charset=UTF-8", **(headers or {})}
        self.body = raw if raw is not None else json.dumps(body if body is not None else {}).encode()


def _error(status: int, message: str, reason: str | None = None) -> _Response:
    return _Response(status, {"error": {
        "code": status,
        "message": message,
        "errors": [{"message": message, "domain": "usageLimits" if status == 429 or "RateLimit" in (reason or "") else "global",
                    "reason": reason or REASONS.get(status, "unknown")}],
        "status": STATUS_NAMES.get(status, "UNKNOWN"),
    }})


class _Dropped(Exception):
    """Close the connection without answering, as a flaky network does."""


ROUTES = [
    (re.compile(r"^/gmail/v1/users/([^/]+)/profile$"), "getProfile"),
    (re.compile(r"^/gmail/v1/users/([^/]+)/messages$"), "messages.list"),
    (re.compile(r"^/gmail/v1/users/([^/]+)/messages/([^/]+)$"), "messages.get"),
    (re.compile(r"^/gmail/v1/users/([^/]+)/messages/([^/]+)/attachments/([^/]+)$"), "messages.attachments.get"),
    (re.compile(r"^/gmail/v1/users/([^/]+)/history$"), "history.list"),
]


class GmailEmulator:
    """A loopback Gmail API server over one mailbox.

    ``calls`` counts requests by method; ``fetches`` counts successful ``messages.get`` per
    message id and ``failed_fetches`` the failed ones, so tests can prove that no message was
    fetched twice except after a failure.
    """

    def __init__(self, mailbox: Mailbox, options: EmulatorOptions | None = None,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.mailbox = mailbox  # the first user's; more users come with add_user()
        self.mailboxes: dict[str, Mailbox] = {mailbox.address: mailbox}
        self._token_owner: dict[str, Mailbox] = {}  # refresh token -> its user's mailbox, beyond the first
        self.options = options or EmulatorOptions()
        self._random = random.Random(self.options.seed)
        self._lock = threading.Lock()
        self._access_tokens: dict[str, tuple[float, Mailbox]] = {}
        self._codes: dict[str, tuple[str, str | None]] = {}  # code -> (refresh token, PKCE challenge)
        self.revoked: list[str] = []
        self.calls: Counter[str] = Counter()
        self.fetches: Counter[str] = Counter()
        self.failed_fetches: Counter[str] = Counter()
        self.token_grants: Counter[str] = Counter()
        self.rate_limited = 0  # quota refusals answered (429, or 403 userRateLimitExceeded)
        self.rate_limited_403 = 0  # of which as 403
        self.project_rate_limited = 0  # of which refused by the project's limit, not the user's
        self._project_window: _RollingWindow | None = None
        self._buckets: dict[int, _Bucket] = {}
        self._windows: dict[int, _RollingWindow] = {}
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    @property
    def token_uri(self) -> str:
        return self.url + "token"

    def start(self) -> GmailEmulator:
        self._thread = threading.Thread(target=self._server.serve_forever, name="gmail-emulator", daemon=True)
        self._thread.start()
        if self.options.arriving_mail:
            self.deliver_later(self.options.arriving_mail, self.options.arrival_interval_seconds)
        return self

    def deliver_later(self, raws: list[bytes], every_seconds: float) -> threading.Thread:
        """Deliver messages one by one in the background, as new mail arrives during a sync."""
        def deliver() -> None:
            for raw in raws:
                time.sleep(every_seconds)
                self.mailbox.add(raw, internal_date_ms=int(time.time() * 1000))

        thread = threading.Thread(target=deliver, name="gmail-emulator-arrivals", daemon=True)
        thread.start()
        return thread

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> GmailEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- control -------------------------------------------------------------------------
    def issue_refresh_token(self, address: str | None = None) -> str:
        token = "1//emu-" + secrets.token_urlsafe(24)
        self.options.refresh_tokens.add(token)
        if address and address in self.mailboxes:
            self._token_owner[token] = self.mailboxes[address]
        return token

    def add_user(self, mailbox: Mailbox, refresh_token: str) -> None:
        """Serve another Gmail user: its own mailbox, refresh token and quota."""
        self.mailboxes[mailbox.address] = mailbox
        self.options.refresh_tokens.add(refresh_token)
        self._token_owner[refresh_token] = mailbox

    def revoke(self, token: str) -> None:
        self.options.refresh_tokens.discard(token)
        self.revoked.append(token)

    def reset_counts(self) -> None:
        with self._lock:
            self.calls.clear()
            self.fetches.clear()
            self.failed_fetches.clear()

    def _chance(self, rate: float) -> bool:
        with self._lock:
            return rate > 0 and self._random.random() < rate

    def _charge(self, method: str, box: Mailbox) -> str:
        """Gmail's quota is per user (each mailbox has its own bucket and window) and per project
        (one window for every user): "" when the call is within both, else the one it exceeds."""
        cost = MODELS[self.options.quota_model].cost(method)
        rate, per_minute = self.options.quota_units_per_second, self.options.quota_units_per_minute
        with self._lock:
            bucket = self._buckets.get(id(box)) if rate else None
            if rate and (bucket is None or bucket.rate != rate):
                bucket = self._buckets[id(box)] = _Bucket(rate)
            window = self._windows.get(id(box)) if per_minute else None
            if per_minute and (window is None or window.limit != per_minute):
                window = self._windows[id(box)] = _RollingWindow(per_minute, self.options.quota_window_seconds)
            per_project = self.options.quota_project_units_per_minute
            project = self._project_window if per_project else None
            if per_project and (project is None or project.limit != per_project):
                project = self._project_window = _RollingWindow(per_project, self.options.quota_window_seconds)
        if bucket is not None and not bucket.take(cost):
            return "user"
        if window is not None and not window.take(cost):
            return "user"
        if project is not None and not project.take(cost):
            return "project"
        return ""

    # -- OAuth ---------------------------------------------------------------------------
    def _token(self, form: dict[str, str]) -> _Response:
        grant = form.get("grant_type", "")
        self.token_grants[grant] += 1
        refresh_token = None
        if grant == "refresh_token":
            refresh_token = form.get("refresh_token", "")
            if refresh_token not in self.options.refresh_tokens:
                return _Response(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
        elif grant == "authorization_code":
            with self._lock:
                granted = self._codes.pop(form.get("code", ""), None)
            if granted is None:
                return _Response(400, {"error": "invalid_grant", "error_description": "Malformed auth code."})
            refresh_token, challenge = granted
            if challenge is not None and not _pkce_matches(challenge, form.get("code_verifier", "")):
                # Google's answer to a code asked with a code_challenge and exchanged without its verifier.
                return _Response(400, {"error": "invalid_grant", "error_description": "Missing code verifier."
                                       if not form.get("code_verifier") else "Invalid code verifier."})
        else:
            return _Response(400, {"error": "unsupported_grant_type", "error_description": f"Invalid grant_type: {grant}"})
        access = "ya29.emu-" + secrets.token_urlsafe(24)
        with self._lock:
            owner = self._token_owner.get(refresh_token or "", self.mailbox)
            self._access_tokens[access] = (time.time() + self.options.access_token_lifetime, owner)
        body = {"access_token": access, "expires_in": self.options.access_token_lifetime,
                "token_type": "Bearer",
                "scope": "https://www.googleapis.com/auth/gmail.readonly openid https://www.googleapis.com/auth/userinfo.email"}
        if grant == "authorization_code":
            body["refresh_token"] = refresh_token
            body["id_token"] = ""
        return _Response(200, body)

    def _authorize(self, query: dict[str, str]) -> _Response:
        redirect_uri = query.get("redirect_uri", "")
        if not redirect_uri:
            return _error(400, "Missing required parameter: redirect_uri")
        challenge = query.get("code_challenge")
        if challenge is not None and query.get("code_challenge_method", "plain") != "S256":
            return _error(400, "Invalid code_challenge_method: only S256 is accepted here")
        code = "4/emu-" + secrets.token_urlsafe(16)
        with self._lock:
            self._codes[code] = (self.issue_refresh_token(), challenge)
        params = {"code": code, "scope": query.get("scope", "")}
        if "state" in query:
            params["state"] = query["state"]
        sep = "&" if "?" in redirect_uri else "?"
        return _Response(302, raw=b"", headers={"Location": redirect_uri + sep + urllib.parse.urlencode(params)})

    def _authenticated(self, headers: Any) -> Mailbox | None:
        """The mailbox of the user whose valid access token the request carries, or None."""
        value = headers.get("Authorization") or headers.get("authorization") or ""
        if not value.startswith("Bearer "):
            return None
        with self._lock:
            entry = self._access_tokens.get(value[7:].strip())
        if entry is None or entry[0] <= time.time():
            return None
        return entry[1]

    # -- the API -------------------------------------------------------------------------
    def dispatch(self, method: str, target: str, headers: Any, body: bytes, *, in_batch: bool = False) -> _Response:
        parsed = urllib.parse.urlsplit(target)
        path = parsed.path
        query_pairs = urllib.parse.parse_qsl(parsed.query, keep_blank_values=True)
        query = dict(query_pairs)
        if path == "/token" and method == "POST":
            return self._token(dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"))))
        if path in {"/o/oauth2/auth", "/o/oauth2/v2/auth"} and method == "GET":
            return self._authorize(query)
        if path in {"/revoke", "/o/oauth2/revoke"} and method in {"POST", "GET"}:
            form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"))) | query
            self.revoke(form.get("token", ""))
            return _Response(200, {})
        for pattern, name in ROUTES:  # noqa: B007 - the loop's last values are used after it
            match = pattern.match(path)
            if match:
                break
        else:
            return _error(404, f"Not found: {path}")
        override = headers.get("X-HTTP-Method-Override") or headers.get("x-http-method-override") or ""
        if method == "POST" and override.upper() == "GET":
            # A GET too long for a URL (a long q): google-api-python-client sends it as a POST with
            # its parameters in a form body and this header, as Google's front end accepts.
            query_pairs += urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
            query = dict(query_pairs)
            method = "GET"
        if method != "GET":
            return _error(405, f"Method {method} not allowed")
        self.calls[name] += 1
        box = self._authenticated(headers)
        if box is None:
            return _error(401, "Request had invalid authentication credentials. Expected OAuth 2 access token.")
        user = urllib.parse.unquote(match.group(1))
        if user not in {"me", box.address}:
            return _error(403, "Delegation denied for " + user, "forbidden")
        if in_batch and self._chance(self.options.fault_rate):
            return _error(self._random.choice([500, 503]), "Backend Error")
        exceeded = self._charge(name, box)
        if exceeded:
            as_403 = exceeded == "user" and self._chance(self.options.rate_limit_403_share)
            with self._lock:
                self.rate_limited += 1
                self.rate_limited_403 += as_403
                self.project_rate_limited += exceeded == "project"
            if exceeded == "project":
                limited = _error(429, "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute' "
                                      "of service 'gmail.googleapis.com'.", "rateLimitExceeded")
            elif as_403:
                limited = _error(403, "User-rate limit exceeded.", "userRateLimitExceeded")
            else:
                limited = _error(429, "User-rate limit exceeded.", "rateLimitExceeded")
            if self.options.retry_after_seconds:
                limited.headers["Retry-After"] = str(self.options.retry_after_seconds)
            return limited
        try:
            if name == "getProfile":
                return _Response(200, {"emailAddress": box.address, "messagesTotal": len(box),
                                       "threadsTotal": len(box), "historyId": str(box.history_id)})
            if name == "messages.list":
                return self._list(box, query, query_pairs)
            if name == "messages.get":
                return self._get(box, urllib.parse.unquote(match.group(2)), query, query_pairs)
            if name == "messages.attachments.get":
                return self._attachment(box, urllib.parse.unquote(match.group(2)), urllib.parse.unquote(match.group(3)))
            return self._history(box, query, query_pairs)
        except QueryError as exc:
            return _error(400, str(exc))

    def _list(self, box: Mailbox, query: dict[str, str], pairs: list[tuple[str, str]]) -> _Response:
        try:
            max_results = int(query.get("maxResults", "100"))
        except ValueError:
            return _error(400, "Invalid value for maxResults")
        if max_results < 1:
            return _error(400, "Invalid maxResults")
        max_results = min(max_results, self.options.max_results_limit)
        include = query.get("includeSpamTrash", "false").lower() == "true"
        labels = [v for k, v in pairs if k == "labelIds"]
        q = query.get("q", "")
        found = box.search(q=q, label_ids=labels, include_spam_trash=include)
        start = 0
        token = query.get("pageToken")
        if token:
            decoded = _decode_page_token(token)
            # As Gmail's, a token is good for one query only, and only for a while.
            if decoded is None or decoded[1] != _query_key(q, labels, include) or (
                    self.options.page_token_lifetime_seconds is not None
                    and time.time() - decoded[2] > self.options.page_token_lifetime_seconds):
                return _error(400, "Invalid pageToken")
            # An offset into the results as they are now: mail deleted from an earlier page
            # shifts what follows, as mail arriving newer than the page does.
            start = decoded[0]
        page = found[start:start + max_results]
        body: dict[str, Any] = {"resultSizeEstimate": len(found)}
        if page:
            body["messages"] = [{"id": m.id, "threadId": m.thread_id} for m in page]
        if start + max_results < len(found):
            body["nextPageToken"] = _encode_page_token(start + max_results, _query_key(q, labels, include))
        return _Response(200, body)

    def _get(self, box: Mailbox, message_id: str, query: dict[str, str], pairs: list[tuple[str, str]]) -> _Response:
        message = box.get(message_id)
        if message is None:
            self.failed_fetches[message_id] += 1
            return _error(404, "Requested entity was not found.")
        fmt = query.get("format", "full")
        if fmt not in {"full", "metadata", "minimal", "raw"}:
            return _error(400, f"Invalid format: {fmt}")
        with self._lock:
            self.fetches[message_id] += 1
        return _Response(200, message.resource(fmt, [v for k, v in pairs if k == "metadataHeaders"]))

    def _attachment(self, box: Mailbox, message_id: str, attachment_id: str) -> _Response:
        message: EmulatedMessage | None = box.get(message_id)
        decoded = parse_attachment_id(attachment_id)
        if message is None or decoded is None or decoded[0] != message_id:
            return _error(404, "Requested entity was not found.")
        data = message.attachment(decoded[1])
        if data is None:
            return _error(404, "Requested entity was not found.")
        return _Response(200, {"attachmentId": attachment_id, "size": len(data), "data": b64url(data)})

    def _history(self, box: Mailbox, query: dict[str, str], pairs: list[tuple[str, str]]) -> _Response:
        try:
            start = int(query.get("startHistoryId", ""))
        except ValueError:
            return _error(400, "Invalid startHistoryId")
        types = [v for k, v in pairs if k == "historyTypes"]
        unknown = [t for t in types if t not in HISTORY_TYPES]
        if unknown:
            return _error(400, f"Invalid value for historyTypes: {unknown[0]}")
        try:
            records = box.history_since(start, types=types or None, label_id=query.get("labelId") or None)
        except KeyError:
            return _error(404, "Requested entity was not found.")
        try:
            max_results = min(int(query.get("maxResults", "100")), 500)
        except ValueError:
            return _error(400, "Invalid maxResults")
        offset = int(query["pageToken"]) if query.get("pageToken", "").isdigit() else 0
        page = records[offset:offset + max_results]
        body: dict[str, Any] = {"historyId": str(box.history_id)}
        if page:
            body["history"] = [_history_record(record) for record in page]
        if offset + max_results < len(records):
            body["nextPageToken"] = str(offset + max_results)
        return _Response(200, body)

    def batch(self, content_type: str, body: bytes, headers: Any) -> _Response:
        parsed = email.message_from_bytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body, policy=email.policy.compat32
        )
        parts = parsed.get_payload() if parsed.is_multipart() else None
        if not isinstance(parts, list) or not parts:
            return _error(400, "Batch request must be multipart/mixed with at least one part")
        if len(parts) > MAX_BATCH_PARTS:
            return _error(400, f"Too many requests in batch: {len(parts)} > {MAX_BATCH_PARTS}")
        boundary = "batch_" + secrets.token_hex(12)
        out = []
        for part in parts:
            if not isinstance(part, email.message.Message):
                return _error(400, "Batch request must be multipart/mixed with at least one part")
            content_id = part.get("Content-ID", "")
            payload = part.get_payload(decode=False)
            if not isinstance(payload, str):
                return _error(400, "A part of a batch request must be one HTTP request")
            request_line, _, rest = payload.partition("\n")
            head, _, inner_body = rest.replace("\r\n", "\n").partition("\n\n")
            inner_headers = email.message_from_string(head + "\n\n", policy=email.policy.compat32)
            if not inner_headers.get("Authorization") and headers.get("Authorization"):
                inner_headers["Authorization"] = headers.get("Authorization")
            method, target = request_line.strip().split(" ")[:2]
            response = self.dispatch(method, target, inner_headers, inner_body.encode(), in_batch=True)
            reply_id = "<response-" + content_id.strip("<>") + ">"
            header_lines = "".join(f"{k}: {v}\r\n" for k, v in response.headers.items())
            out.append(
                f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: {reply_id}\r\n\r\n"
                f"HTTP/1.1 {response.status} {_reason(response.status)}\r\n{header_lines}"
                f"Content-Length: {len(response.body)}\r\n\r\n".encode() + response.body + b"\r\n"
            )
        data = b"".join(out) + f"--{boundary}--\r\n".encode()
        return _Response(200, raw=data, headers={"Content-Type": f"multipart/mixed; boundary={boundary}"})

    # -- HTTP plumbing -------------------------------------------------------------------
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "GmailEmulator/1.0"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                low, high = emulator.options.latency_ms
                if high > 0:
                    time.sleep(emulator._random.uniform(low, high) / 1000.0)
                path = urllib.parse.urlsplit(self.path).path
                is_api = path.startswith("/gmail/") or path.startswith("/batch")
                if is_api and emulator._chance(emulator.options.fault_rate):
                    if emulator._chance(0.5):
                        self._drop()
                        return
                    self._send(_error(emulator._random.choice([500, 502, 503]), "Backend Error"))
                    return
                if path.startswith("/batch") and self.command == "POST":
                    emulator.calls["batch"] += 1
                    if emulator._authenticated(self.headers) is None:
                        response = _error(401, "Request had invalid authentication credentials.")
                    else:
                        response = emulator.batch(self.headers.get("Content-Type", ""), body, self.headers)
                else:
                    response = emulator.dispatch(self.command, self.path, self.headers, body)
                self._send(response)

            def _drop(self) -> None:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

            def _send(self, response: _Response) -> None:
                self.send_response(response.status)
                for key, value in response.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)

            do_GET = do_POST = _serve

        return Handler


def _pkce_matches(challenge: str, verifier: str) -> bool:
    """RFC 7636's S256: the challenge is the unpadded base64url SHA-256 of the verifier."""
    if not 43 <= len(verifier) <= 128:
        return False
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return secrets.compare_digest(digest, challenge)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _query_key(q: str, labels: list[str], include_spam_trash: bool) -> str:
    return hashlib.sha1(json.dumps([q, sorted(labels), include_spam_trash]).encode()).hexdigest()[:12]


def _encode_page_token(offset: int, query_key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([offset, query_key, round(time.time(), 3)]).encode()).decode().rstrip("=")


def _decode_page_token(token: str) -> tuple[int, str, float] | None:
    try:
        value = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return int(value[0]), str(value[1]), float(value[2])
    except (ValueError, TypeError, IndexError):
        return None


def _history_record(record: HistoryRecord) -> dict[str, Any]:
    message = {"id": record.message_id, "threadId": record.thread_id}
    body: dict[str, Any] = {"id": str(record.id), "messages": [message]}
    if record.kind == "messageAdded":
        body["messagesAdded"] = [{"message": {**message, "labelIds": record.message_labels}}]
    elif record.kind == "messageDeleted":
        body["messagesDeleted"] = [{"message": message}]
    else:
        key = "labelsAdded" if record.kind == "labelAdded" else "labelsRemoved"
        body[key] = [{"message": {**message, "labelIds": record.message_labels}, "labelIds": record.labels}]
    return body
