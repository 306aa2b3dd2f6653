"""What the `template` commands need from Azure: small protocols that the Azure adapters implement.

aib_doctor.azure.templates.ArmTemplateSource fills them in production; the tests hand in in-memory
fakes (tests/fakes.py). What crosses them is the project's own data (aib_doctor.model) or the
REST-shaped dicts ARM returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from aib_doctor.model import RunLogs, RunOutput, StorageAccount

Progress = Callable[[int, int], None]
"""Called with (bytes written so far, total size) while a blob downloads."""


class RangeReader(Protocol):
    """One log: its size, and byte chunks from an offset (a log is never held whole)."""

    def size(self) -> int: ...

    def read(self, offset: int, length: int) -> Iterable[bytes]: ...


class LogStore(Protocol):
    """The `packerlogs` container of a staging storage account."""

    def runs(self) -> list[RunLogs]:
        """Run folders holding a customization.log, newest first."""
        ...

    def reader(self, blob: str) -> RangeReader: ...

    def download(self, blob: str, target: Path, progress: Progress | None = None) -> int:
        """The whole blob into target, written atomically; returns its size."""
        ...


class TemplateSource(Protocol):
    """An image template as ARM returns it, its run outputs, and the staging resources that hold its logs."""

    subscription: str

    def template(self, resource_group: str, name: str) -> dict: ...

    def run_outputs(self, resource_group: str, name: str) -> list[RunOutput]: ...

    def start_run(self, resource_group: str, name: str) -> None:
        """Ask the service to run the build (the template's run action) without waiting for it."""
        ...

    def resource_groups(self) -> list[tuple[str, dict[str, str]]]:
        """Every group of the subscription as (name, tags): the staging lookup's last resort."""
        ...

    def storage_accounts(self, resource_group: str) -> list[StorageAccount]: ...

    def log_store(self, account: StorageAccount) -> tuple[LogStore, list[str]]:
        """The account's container, reached with credentials that can list it, and notes for the user (a fallback taken)."""
        ...
