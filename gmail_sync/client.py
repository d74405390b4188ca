"""The one seam between this service and Gmail.

Everything that talks to Gmail goes through ``GmailClient``, and nothing else in the project
imports googleapiclient. Here live the quota (a per-account token bucket), batching, retries
with backoff, and the refresh of access tokens. The client is the real
google-api-python-client, built from its bundled discovery document and rooted at
``GMAIL_API_ROOT_URL``, so pointing that setting at the bundled emulator tests the same code
that talks to Google.
"""
from __future__ import annotations

import http.client
import json
import logging
import math
import random
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import google.auth.exceptions
import google_auth_httplib2
import httplib2
import pybase64
from django.conf import settings
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from . import quota

logger = logging.getLogger(__name__)

SCOPES = ["https://www.googleapis.com/auth/gmail.readonly"]
MAX_BATCH = 50  # Gmail refuses batches of more than 50 inner requests.
RETRYABLE_403_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
# Labels of mail that is not in any range a sync reads: what messages.list leaves out by
# default (spam, trash) and drafts, which were never received.
OUT_OF_RANGE_LABELS = frozenset({"SPAM", "TRASH", "DRAFT"})


def raw_bytes(resource: dict[str, Any]) -> bytes:
    """The RFC 822 bytes of a message fetched with ``format=raw`` (base64url, padding optional).
    pybase64 (SIMD) decodes about 8x faster than the standard library: on large mail, decoding
    was a fifth of the worker's CPU."""
    data = resource["raw"]
    return pybase64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def received_at(resource: dict[str, Any]) -> datetime | None:
    """When Gmail received a fetched message (its ``internalDate``), or None when it does not say."""
    internal_ms = int(resource.get("internalDate", "0") or 0)
    return datetime.fromtimestamp(internal_ms / 1000, tz=UTC) if internal_ms else None
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    socket.timeout,
    TimeoutError,
    ConnectionError,
    http.client.HTTPException,
    httplib2.HttpLib2Error,
    google.auth.exceptions.TransportError,
    OSError,
)


class GmailError(Exception):
    """A Gmail call failed for good."""


class AccessRevoked(GmailError):
    """The refresh token was revoked or expired: the user must reconnect. Never retried."""


class MessageNotFound(GmailError):
    """The message (or attachment) is gone: an error of that one message."""


class MessageTooLarge(GmailError):
    """Gmail's answer for this one message alone is larger than a batch may be."""


class HistoryExpired(GmailError):
    """Gmail no longer keeps history that old; fall back to a range scan."""


class GmailUnavailable(GmailError):
    """Transient failures went on past the retry budget."""


class _ResponseTooLarge(Exception):
    """A batch's answer grew past ``GMAIL_BATCH_MAX_MB``: it was dropped unread."""


_read_limit = threading.local()


class _CappedResponse(http.client.HTTPResponse):
    """Reads a whole body (httplib2's ``read()``) only up to the calling thread's limit.

    google-api-python-client holds a batch's answer whole, several copies of it at once while it
    splits the parts and decodes their JSON; without a limit, a batch of large messages takes the
    worker to several times their size.
    """

    def read(self, amt: int | None = None) -> bytes:
        limit = getattr(_read_limit, "bytes", None)
        if amt is not None or limit is None:
            return super().read(amt)
        chunks, total = [], 0
        while chunk := super().read(1 << 20):
            total += len(chunk)
            if total > limit:
                self.close()
                raise _ResponseTooLarge(f"more than {limit} bytes")
            chunks.append(chunk)
        _read_limit.last = total
        return b"".join(chunks)


class _CappedHTTPConnection(httplib2.HTTPConnectionWithTimeout):  # type: ignore[misc]  # httplib2 has no types
    response_class = _CappedResponse


class _CappedHTTPSConnection(httplib2.HTTPSConnectionWithTimeout):  # type: ignore[misc]  # httplib2 has no types
    response_class = _CappedResponse


class _BatchHttp(httplib2.Http):  # type: ignore[misc]  # httplib2 has no types
    """The transport of batches: its connections read a body only up to ``_read_limit``."""

    CONNECTIONS = {"http": _CappedHTTPConnection, "https": _CappedHTTPSConnection}

    def request(self, uri: str, method: str = "GET", body: Any = None, headers: Any = None,
                redirections: int = httplib2.DEFAULT_MAX_REDIRECTS, connection_type: Any = None) -> Any:
        scheme = uri.split(":", 1)[0].lower()
        return super().request(uri, method, body, headers, redirections,
                               connection_type or self.CONNECTIONS.get(scheme))

    def drop_connections(self) -> None:
        for conn in self.connections.values():
            conn.close()
        self.connections.clear()


class _Transient(Exception):
    def __init__(self, description: str, retry_after: float | None = None) -> None:
        super().__init__(description)
        self.retry_after = retry_after


class TokenBucket:
    """Units per second with a one-second burst; ``acquire`` waits until the units are there."""

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate = float(rate)
        self.capacity = float(rate)
        self._tokens = float(rate)
        self._clock = clock
        self._sleep = sleep
        self._stamp = clock()
        self._lock = threading.Lock()

    def acquire(self, cost: float) -> float:
        """Take ``cost`` units, sleeping as needed; returns the seconds waited."""
        cost = min(float(cost), self.capacity)
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._tokens + 1e-9 >= cost:  # float drift must not spin forever
                    self._tokens = max(0.0, self._tokens - cost)
                    return waited
                wait = (cost - self._tokens) / self.rate
            self._sleep(wait)
            waited += wait


_buckets: dict[str, TokenBucket] = {}
_buckets_lock = threading.Lock()


def bucket_for(account_key: str, rate: float) -> TokenBucket:
    """The process-wide bucket of one account: every client of that account shares it."""
    with _buckets_lock:
        bucket = _buckets.get(account_key)
        if bucket is None or bucket.rate != rate:
            bucket = _buckets[account_key] = TokenBucket(rate)
        return bucket


@dataclass(frozen=True)
class ListPage:
    ids: list[str]
    next_page_token: str | None
    result_size_estimate: int


@dataclass(frozen=True)
class HistoryPage:
    message_ids: list[str]
    next_page_token: str | None
    history_id: str


def _error_reason(error: HttpError) -> str:
    try:
        payload = json.loads(error.content.decode("utf-8", "replace"))
        errors = payload.get("error", {}).get("errors") or [{}]
        return str(errors[0].get("reason") or payload.get("error", {}).get("status") or "")
    except (ValueError, AttributeError):
        return ""


def _retry_after(error: HttpError) -> float | None:
    value = error.resp.get("retry-after") if error.resp is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _is_revoked(exc: google.auth.exceptions.RefreshError) -> bool:
    text = " ".join(str(a) for a in exc.args)
    return "invalid_grant" in text or "unauthorized_client" in text or "invalid_client" in text


def revoke_token(token: str, *, revoke_uri: str | None = None, timeout: float = 15.0) -> bool:
    """Revoke a refresh token at Google; True when Google confirmed (or already forgot) it."""
    import urllib.parse

    http = httplib2.Http(timeout=timeout)
    body = urllib.parse.urlencode({"token": token})
    try:
        response, _ = http.request(revoke_uri or settings.GOOGLE_REVOKE_URI, method="POST", body=body,
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    except TRANSPORT_ERRORS as exc:
        logger.warning("token revocation failed: %s", type(exc).__name__)
        return False
    # 400 invalid_token: Google no longer knows the token, which is what revocation wants.
    return response.status in (200, 400)


class GmailClient:
    """Gmail for one account, with quota, batching, retries and token refresh built in.

    Not thread-safe (httplib2 is not); make one client per thread. The quota bucket is shared
    by every client of the same account in the process.
    """

    def __init__(
        self,
        *,
        refresh_token: str,
        account_key: str,
        api_root: str | None = None,
        token_uri: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        quota_units_per_second: float | None = None,
        max_attempts: int = 8,
        base_delay: float = 0.5,
        max_delay: float = 32.0,
        timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_root = api_root or settings.GMAIL_API_ROOT_URL
        if not self.api_root.endswith("/"):
            self.api_root += "/"
        self.credentials = Credentials(  # type: ignore[no-untyped-call]  # google-auth leaves it unannotated
            token=None,
            refresh_token=refresh_token,
            token_uri=token_uri or settings.GOOGLE_TOKEN_URI,
            client_id=client_id if client_id is not None else settings.GOOGLE_CLIENT_ID,
            client_secret=client_secret if client_secret is not None else settings.GOOGLE_CLIENT_SECRET,
            scopes=SCOPES,
        )
        self.http = google_auth_httplib2.AuthorizedHttp(self.credentials, http=httplib2.Http(timeout=timeout))
        self._batch_transport = _BatchHttp(timeout=timeout)
        self.batch_http = google_auth_httplib2.AuthorizedHttp(self.credentials, http=self._batch_transport)
        self.batch_max_bytes = int(settings.GMAIL_BATCH_MAX_MB * 1024 * 1024)
        self._sized_batch = MAX_BATCH  # smaller for a while after a batch answered too much
        self.service = build(
            "gmail",
            "v1",
            http=self.http,
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": self.api_root},
        )
        self.quota = quota.current()
        rate = quota_units_per_second or quota.per_user_budget()
        self.bucket = bucket_for(account_key, rate)
        self.project_budget = quota.project_budget(lambda project_rate: bucket_for("project", project_rate))
        # A batch must fit well inside one second of quota, or Gmail refuses its last parts.
        self.batch_size = max(1, min(MAX_BATCH, math.floor(0.8 * rate / self.quota.cost("messages.get"))))
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._sleep = sleep
        self.on_wait: Callable[[float], None] | None = None
        self._random = random.Random()
        self.stats = {"retries": 0, "batches": 0, "calls": 0, "oversized_batches": 0}

    def _spend(self, cost: float) -> None:
        """Wait until the account's budget and the project's (shared by every account and
        worker) both allow ``cost`` units, then take them."""
        self.bucket.acquire(cost)
        if self.project_budget is not None:
            self.project_budget.acquire(cost, on_wait=self.on_wait)

    # -- retry machinery -----------------------------------------------------------------
    def _backoff(self, attempt: int, retry_after: float | None) -> None:
        delay = self._random.uniform(0, min(self.max_delay, self.base_delay * (2 ** attempt)))
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_delay * 4))
        self.stats["retries"] += 1
        if self.on_wait is not None:
            self.on_wait(delay)  # the caller shows it is alive (a run's heartbeat) before a long wait
        self._sleep(delay)

    def _classify(self, error: HttpError, *, not_found: type[GmailError] = MessageNotFound) -> BaseException:
        status = error.resp.status if error.resp is not None else 0
        reason = _error_reason(error)
        if status == 429 or status >= 500 or (status == 403 and reason in RETRYABLE_403_REASONS):
            return _Transient(f"HTTP {status} {reason}", _retry_after(error))
        if status == 404:
            return not_found(f"Gmail answered 404 ({reason or 'notFound'})")
        if status == 401:
            return _Transient("HTTP 401 (access token refused)")
        return GmailError(f"Gmail answered HTTP {status} {reason}: {error._get_reason()}")

    def _execute(self, method: str, request: Any, *, not_found: type[GmailError] = MessageNotFound) -> Any:
        for attempt in range(self.max_attempts):
            self._spend(self.quota.cost(method))
            self.stats["calls"] += 1
            try:
                return request.execute(num_retries=0)
            except HttpError as error:
                outcome = self._classify(error, not_found=not_found)
            except google.auth.exceptions.RefreshError as error:
                if _is_revoked(error):
                    raise AccessRevoked(
                        "Google refused the stored refresh token (revoked or expired); reconnect the account."
                    ) from error
                outcome = _Transient(f"token refresh failed: {error}")
            except TRANSPORT_ERRORS as error:
                outcome = _Transient(f"{type(error).__name__}: {error}")
            if not isinstance(outcome, _Transient):
                raise outcome
            logger.info("gmail %s transient failure (%s), attempt %d", method, outcome, attempt + 1)
            if attempt + 1 < self.max_attempts:
                self._backoff(attempt, outcome.retry_after)
        raise GmailUnavailable(f"Gmail {method} kept failing after {self.max_attempts} attempts")

    # -- calls ---------------------------------------------------------------------------
    def get_profile(self) -> dict[str, Any]:
        return cast(dict[str, Any], self._execute("getProfile", self.service.users().getProfile(userId="me")))

    def list_messages(self, *, q: str, page_token: str | None = None, max_results: int = 500) -> ListPage:
        request = self.service.users().messages().list(
            userId="me", q=q, maxResults=max_results, pageToken=page_token or None, includeSpamTrash=False
        )
        body = self._execute("messages.list", request)
        return ListPage(
            ids=[m["id"] for m in body.get("messages", [])],
            next_page_token=body.get("nextPageToken"),
            result_size_estimate=int(body.get("resultSizeEstimate", 0)),
        )

    def get_message(self, message_id: str, *, fmt: str = "raw") -> dict[str, Any]:
        request = self.service.users().messages().get(userId="me", id=message_id, format=fmt)
        return cast(dict[str, Any], self._execute("messages.get", request))

    def get_attachment(self, message_id: str, attachment_id: str) -> dict[str, Any]:
        request = self.service.users().messages().attachments().get(userId="me", messageId=message_id, id=attachment_id)
        return cast(dict[str, Any], self._execute("messages.attachments.get", request))

    def list_history(self, *, start_history_id: str, page_token: str | None = None) -> HistoryPage:
        """The messages that entered the mail a range scan reads since ``start_history_id``: new
        mail, and mail taken out of spam or the trash; in the order they did, each once. Mail that
        is in spam, the trash or drafts at the time of the record, and mail deleted since, is left
        out (a message deleted on a later page of history is still listed, and answers 404)."""
        request = self.service.users().history().list(
            userId="me", startHistoryId=start_history_id, pageToken=page_token or None, maxResults=500,
            historyTypes=["messageAdded", "messageDeleted", "labelRemoved"],
        )
        body = self._execute("history.list", request, not_found=HistoryExpired)
        ids: dict[str, None] = {}
        for record in body.get("history", []):
            for added in record.get("messagesAdded", []):
                message = added.get("message", {})
                if message.get("id") and not OUT_OF_RANGE_LABELS & set(message.get("labelIds", [])):
                    ids[message["id"]] = None
            for removed in record.get("labelsRemoved", []):
                message = removed.get("message", {})
                if (message.get("id") and {"SPAM", "TRASH"} & set(removed.get("labelIds", []))
                        and not OUT_OF_RANGE_LABELS & set(message.get("labelIds", []))):
                    ids[message["id"]] = None
            for deleted in record.get("messagesDeleted", []):
                ids.pop(deleted.get("message", {}).get("id", ""), None)
        return HistoryPage(list(ids), body.get("nextPageToken"), str(body.get("historyId", start_history_id)))

    def get_messages(self, ids: Iterable[str], *, fmt: str = "raw") -> dict[str, dict[str, Any] | GmailError]:
        """Fetch messages in batches; each id maps to its resource or to its own error."""
        results: dict[str, dict[str, Any] | GmailError] = {}
        for _, fetched in self.iter_messages(ids, fmt=fmt):
            results.update(fetched)
        return results

    def iter_messages(self, ids: Iterable[str], *, fmt: str = "raw") -> Iterator[tuple[list[str], dict[str, Any]]]:
        """Fetch messages in batches, yielding each batch's ids (in the order given, so that what
        was yielded is always a prefix of ``ids``) with each id's resource or its own error.

        Only one batch's answer is held at a time. A part that fails transiently is sent again
        (in the next, smaller batch) and never given up silently: past the retry budget the call
        raises ``GmailUnavailable`` so that the caller keeps its checkpoint before this batch. A
        batch that answers more than ``GMAIL_BATCH_MAX_MB`` is fetched again in halves, down to
        one message, which is then that message's ``MessageTooLarge``.
        """
        wanted = list(dict.fromkeys(ids))
        queue: deque[list[str]] = deque()
        start = 0
        while queue or start < len(wanted):
            if not queue:
                size = min(self.batch_size, self._sized_batch)
                queue.append(wanted[start:start + size])
                start += size
            chunk = queue.popleft()
            results: dict[str, Any] = {}
            if self._fetch_chunk(chunk, fmt, results):
                yield chunk, results
                continue
            del results
            if len(chunk) == 1:
                logger.warning("gmail message %s is larger than GMAIL_BATCH_MAX_MB on its own", chunk[0])
                yield chunk, {chunk[0]: MessageTooLarge(
                    f"Gmail's answer is larger than GMAIL_BATCH_MAX_MB ({settings.GMAIL_BATCH_MAX_MB} MB)")}
                continue
            logger.info("gmail batch of %d answered more than %s MB; fetching it in halves", len(chunk),
                        settings.GMAIL_BATCH_MAX_MB)
            middle = len(chunk) // 2
            self._sized_batch = max(1, min(self._sized_batch, middle))
            queue.extendleft([chunk[middle:], chunk[:middle]])

    def _fetch_chunk(self, chunk: list[str], fmt: str, results: dict[str, Any]) -> bool:
        """Fill ``results`` for every id of ``chunk``; False when the answer was too large to read."""
        pending = list(chunk)
        for attempt in range(self.max_attempts):
            transient: dict[str, _Transient] = {}

            def callback(request_id: str, response: Any, exception: BaseException | None,
                         transient: dict[str, _Transient] = transient) -> None:
                if exception is None:
                    results[request_id] = response
                    return
                outcome = self._classify(exception) if isinstance(exception, HttpError) else _Transient(str(exception))
                if isinstance(outcome, _Transient):
                    transient[request_id] = outcome
                else:
                    results[request_id] = outcome

            batch = BatchHttpRequest(callback=callback, batch_uri=self.api_root + "batch")
            messages = self.service.users().messages()
            for message_id in pending:
                batch.add(messages.get(userId="me", id=message_id, format=fmt), request_id=message_id)
            self._spend(self.quota.cost("messages.get") * len(pending))
            self.stats["batches"] += 1
            self.stats["calls"] += len(pending)
            _read_limit.bytes = self.batch_max_bytes
            try:
                batch.execute(http=self.batch_http)
            except _ResponseTooLarge:
                self._batch_transport.drop_connections()
                self.stats["oversized_batches"] += 1
                return False
            except google.auth.exceptions.RefreshError as error:
                if _is_revoked(error):
                    raise AccessRevoked(
                        "Google refused the stored refresh token (revoked or expired); reconnect the account."
                    ) from error
                transient = {mid: _Transient(str(error)) for mid in pending if mid not in results}
            except HttpError as error:
                outcome = self._classify(error)
                if not isinstance(outcome, _Transient):
                    raise GmailError(f"Gmail refused a batch: {outcome}") from error
                transient = {mid: outcome for mid in pending if mid not in results}
            except TRANSPORT_ERRORS as error:
                transient = {mid: _Transient(f"{type(error).__name__}: {error}") for mid in pending if mid not in results}
            finally:
                _read_limit.bytes = None
            del batch  # it holds every part's answer until dropped
            if getattr(_read_limit, "last", None) is not None:
                # After large mail, batches grow back (doubling) only while their answers stay small.
                if _read_limit.last < self.batch_max_bytes // 4:
                    self._sized_batch = min(self.batch_size, self._sized_batch * 2)
                _read_limit.last = None
            pending = [mid for mid in pending if mid not in results]
            if not pending:
                return True
            if attempt + 1 < self.max_attempts:
                retry_after = max((t.retry_after or 0.0 for t in transient.values()), default=0.0) or None
                logger.info("gmail batch: %d of %d parts to retry", len(pending), len(chunk))
                self._backoff(attempt, retry_after)
        raise GmailUnavailable(
            f"Gmail messages.get kept failing for {len(pending)} message(s) after {self.max_attempts} attempts"
        )
