"""In-memory fakes of the ports (aib_doctor.template.ports): a template source and a log store holding bytes.

They record what they were asked, so tests can say which look-ups a diagnosis made and how many bytes it read.
"""

from __future__ import annotations

from pathlib import Path

from aib_doctor.errors import AzureAccessError, LogUnavailable
from aib_doctor.files import write_atomic
from aib_doctor.model import RunLogs, StorageAccount

SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"


class MemoryBlob:
    def __init__(self, store: MemoryLogStore, name: str) -> None:
        self.store, self.name = store, name

    def size(self) -> int:
        return len(self.store.blobs[self.name])

    def read(self, offset: int, length: int):
        self.store.reads.append((self.name, offset, length))
        data = self.store.blobs[self.name][offset : offset + length]
        for start in range(0, len(data), 1 << 20):
            yield data[start : start + (1 << 20)]


class MemoryLogStore:
    """A packerlogs container: run folders given newest first, each {"customization.log": bytes, ...}."""

    def __init__(self, runs: dict[str, dict[str, bytes]]) -> None:
        self.blobs = {f"{folder}/{leaf}": data for folder, logs in runs.items() for leaf, data in logs.items()}
        self._runs = [
            RunLogs(folder, f"2024-06-{30 - n:02d}T00:00:00+00:00", len(logs["customization.log"]), tuple(sorted(f"{folder}/{leaf}" for leaf in logs)))
            for n, (folder, logs) in enumerate(runs.items())
            if "customization.log" in logs
        ]
        self.reads: list[tuple[str, int, int]] = []

    def runs(self) -> list[RunLogs]:
        return list(self._runs)

    def reader(self, blob: str) -> MemoryBlob:
        return MemoryBlob(self, blob)

    def download(self, blob: str, target: Path, progress=None) -> int:
        data = self.blobs[blob]
        write_atomic(target, [data])
        if progress:
            progress(len(data), len(data))
        return len(data)

    def bytes_read(self, blob: str) -> int:
        return sum(length for name, _, length in self.reads if name == blob)


class MemoryTemplateSource:
    """Templates by (group, name), resource groups with tags, storage accounts per group, a store per account.

    A group in `deleted` answers as ARM does for a staging group that is gone."""

    def __init__(
        self,
        templates: dict[tuple[str, str], dict],
        groups: list[tuple[str, dict[str, str]]] | None = None,
        accounts: dict[str, list[str]] | None = None,
        stores: dict[str, MemoryLogStore] | None = None,
        outputs: list[dict] | None = None,
        deleted: tuple[str, ...] = (),
        notes: list[str] | None = None,
    ) -> None:
        self.subscription = SUBSCRIPTION
        self.templates = templates
        self.groups = groups or []
        self.accounts = accounts or {}
        self.stores = stores or {}
        self.outputs = outputs or []
        self.deleted = deleted
        self.notes = notes or []
        self.calls: list[str] = []

    def template(self, resource_group: str, name: str) -> dict:
        self.calls.append("template")
        if (resource_group, name) not in self.templates:
            raise AzureAccessError(f"template {name!r} not found in resource group {resource_group!r}")
        return self.templates[resource_group, name]

    def start_run(self, resource_group: str, name: str) -> None:
        self.calls.append("start_run")

    def run_outputs(self, resource_group: str, name: str) -> list[dict]:
        self.calls.append("run_outputs")
        return self.outputs

    def resource_groups(self) -> list[tuple[str, dict[str, str]]]:
        self.calls.append("resource_groups")
        return self.groups

    def storage_accounts(self, resource_group: str) -> list[StorageAccount]:
        self.calls.append("storage_accounts")
        if resource_group in self.deleted:
            raise LogUnavailable(f"the staging resource group {resource_group!r} no longer exists, and the build logs were deleted with it")
        return [
            StorageAccount(
                name, resource_group, f"https://{name}.blob.core.windows.net/", f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{resource_group}/x/{name}"
            )
            for name in self.accounts.get(resource_group, [])
        ]

    def log_store(self, account: StorageAccount) -> tuple[MemoryLogStore, list[str]]:
        self.calls.append("log_store")
        return self.stores[account.name], list(self.notes)


class DictArm:
    """The preflight's ArmReader over a dict of ARM paths (without the api-version) to bodies."""

    def __init__(self, bodies: dict[str, dict | list]) -> None:
        self.subscription = SUBSCRIPTION
        self.bodies = bodies

    def get(self, path: str) -> dict | list | None:
        return self.bodies.get(path.split("?")[0])
