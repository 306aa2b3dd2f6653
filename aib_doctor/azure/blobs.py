"""The `packerlogs` container: run folders, ranged reads of a log, and resumable parallel downloads."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aib_doctor.azure import CLIENT_OPTIONS, AzureSession, access_error, error_code, sdk_errors
from aib_doctor.azure.storage import account_key
from aib_doctor.errors import AzureAccessError, LogUnavailable
from aib_doctor.files import atomic_file
from aib_doctor.model import RunLogs, StorageAccount

CONTAINER = "packerlogs"
PART = 4 << 20
PARALLEL = 4
ATTEMPTS = 5
_SAFE_FOLDER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class BlobRangeReader:
    """One blob as a RangeReader (aib_doctor.template.ports): its size from one HEAD, then ranged GETs."""

    def __init__(self, blob_client) -> None:
        self._blob = blob_client
        self._size: int | None = None

    def size(self) -> int:
        if self._size is None:
            try:
                self._size = self._blob.get_blob_properties().size
            except Exception as exc:  # auth, not found, network: one clear line (exit 4), never a traceback
                raise access_error(exc, f"reading the size of {self._blob.blob_name}") from None
        return self._size

    def read(self, offset: int, length: int) -> Iterator[bytes]:
        if length <= 0:
            return
        try:
            yield from self._blob.download_blob(offset=offset, length=length).chunks()
        except Exception as exc:
            raise access_error(exc, f"reading bytes {offset:,}-{offset + length - 1:,} of {self._blob.blob_name}") from None


class BlobLogStore:
    """The `packerlogs` container as a LogStore (aib_doctor.template.ports)."""

    def __init__(self, container_client) -> None:
        self._container = container_client
        self._runs: list[RunLogs] | None = None

    def runs(self) -> list[RunLogs]:
        """Run folders holding a customization.log, newest first by the log's last-modified time.

        Listed once: the listing that proved the credentials work is the one returned (a store lives for one command)."""
        if self._runs is None:
            self._runs = self._list_runs()
        return self._runs

    def _list_runs(self) -> list[RunLogs]:
        folders: dict[str, dict] = {}
        for blob in self._container.list_blobs():
            folder, _, leaf = blob.name.rpartition("/")
            if leaf in ("customization.log", "validation.log") and _SAFE_FOLDER.match(folder or "-"):
                folders.setdefault(folder, {})[leaf] = blob
        runs = []
        for folder, blobs in folders.items():
            main = blobs.get("customization.log")
            if main is None:
                continue
            names = [f"{folder}/customization.log"] + ([f"{folder}/validation.log"] if "validation.log" in blobs else [])
            runs.append(RunLogs(folder, main.last_modified.isoformat(), main.size, tuple(names)))
        return sorted(runs, key=lambda r: r.last_modified, reverse=True)

    def reader(self, blob_name: str) -> BlobRangeReader:
        return BlobRangeReader(self._container.get_blob_client(blob_name))

    def download(self, blob_name: str, target: Path, progress: Callable[[int, int], None] | None = None) -> int:
        """The whole blob into target, written atomically; each part is retried from where it broke."""
        blob = self._container.get_blob_client(blob_name)
        size = blob.get_blob_properties().size
        lock = threading.Lock()  # parts arrive from several threads: one writer, one counter
        done = 0

        def fetch(part: tuple[int, int]) -> None:
            nonlocal done
            start, length = part
            got, attempts = 0, 0
            while got < length:
                try:
                    for chunk in blob.download_blob(offset=start + got, length=length - got).chunks():
                        with lock:
                            handle.seek(start + got)
                            handle.write(chunk)
                            done += len(chunk)
                            if progress:
                                progress(done, size)
                        got += len(chunk)
                except (*sdk_errors(), ConnectionError) as exc:  # a dropped connection: resume this part with a ranged read
                    attempts += 1
                    if attempts >= ATTEMPTS or not _transient(exc):
                        raise

        with atomic_file(target) as handle, ThreadPoolExecutor(PARALLEL) as pool:
            try:
                list(pool.map(fetch, [(start, min(PART, size - start)) for start in range(0, size, PART)]))
            except (*sdk_errors(), ConnectionError) as exc:
                raise access_error(exc, f"downloading {blob_name} (nothing was written)") from None
        return size


def _transient(exc: Exception) -> bool:
    from azure.core.exceptions import IncompleteReadError, ServiceRequestError, ServiceResponseError

    return isinstance(exc, (IncompleteReadError, ServiceRequestError, ServiceResponseError, ConnectionError))


def open_log_store(session: AzureSession, account: StorageAccount, auth_mode: str) -> tuple[BlobLogStore, list[str]]:
    """The container with credentials that can list it, and notes to show the user (a fallback taken)."""
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    notes: list[str] = []
    # Entra ID tokens are sent only over TLS; an http endpoint is an emulator, reached with its key.
    login_possible = account.blob_endpoint.startswith("https://")
    modes = {"login": ["login"], "key": ["key"], "auto": ["login", "key"] if login_possible else ["key"]}[auth_mode]
    for mode in modes:
        store = _store(session, account, mode)
        try:
            store.runs()
            return store, notes
        except ResourceNotFoundError:
            raise LogUnavailable(f"storage account {account.name!r} has no {CONTAINER!r} container: no build has written a log there yet") from None
        except HttpResponseError as exc:
            code = error_code(exc)
            if code == "AuthorizationPermissionMismatch" and mode == "login":
                advice = (
                    f"your identity has no data-plane role on storage account {account.name!r}; "
                    f"'Storage Blob Data Reader' on {account.id} lets it read the logs with Entra ID"
                )
                if mode != modes[-1]:
                    notes.append(f"{advice}. Falling back to the account key (--auth-mode key).")
                    continue
                raise AzureAccessError(advice + ", or use --auth-mode key") from None
            if code == "KeyBasedAuthenticationNotPermitted":
                raise AzureAccessError(
                    f"storage account {account.name!r} does not allow shared-key access; grant 'Storage Blob Data Reader' "
                    f"on {account.id} and use --auth-mode login"
                ) from None
            raise access_error(exc, f"listing logs in {account.name}/{CONTAINER}") from None
        except sdk_errors() as exc:
            raise access_error(exc, f"listing logs in {account.name}/{CONTAINER}") from None
    raise AssertionError("unreachable: every mode either returns or raises")


def _store(session: AzureSession, account: StorageAccount, mode: str) -> BlobLogStore:
    from azure.storage.blob import BlobServiceClient

    if mode == "login":
        credential = session.credential
    else:
        credential = {"account_name": account.name, "account_key": account_key(session, account)}
    service = BlobServiceClient(account.blob_endpoint, credential=credential, **CLIENT_OPTIONS)
    return BlobLogStore(service.get_container_client(CONTAINER))
