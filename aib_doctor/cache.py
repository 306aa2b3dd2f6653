"""The user's cache folder: compiled forms (the checked rule catalog) kept between runs, by content key.

A key names what a file was built from (a checksum), and the file's owner checks that it was built from
exactly that before using it (core.catalog keeps its inputs in the file); any failure to read or write
only costs the time to build again. The folder is user-only; the newest
few files are kept.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

KEPT = 8
"""Files kept: enough for a few catalogs in turn (rule packs, versions side by side)."""


@dataclass(frozen=True)
class UserCache:
    """A folder of compiled forms, by key: a CompiledStore."""

    folder: Path

    def get(self, key: str) -> bytes | None:
        try:
            return (self.folder / key).read_bytes()
        except OSError:
            return None

    def put(self, key: str, data: bytes) -> None:
        with contextlib.suppress(OSError):
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            temporary = self.folder / f".{key}.{os.getpid()}.part"
            temporary.write_bytes(data)
            temporary.chmod(0o600)
            os.replace(temporary, self.folder / key)
            self._prune(key)

    def _prune(self, written: str) -> None:
        """The newest files up to KEPT, the one just written always among them."""
        others = sorted(
            (p for p in self.folder.iterdir() if p.name != written and not p.name.startswith(".")), key=lambda p: p.stat().st_mtime_ns, reverse=True
        )
        for old in others[KEPT - 1 :]:
            old.unlink(missing_ok=True)


def user_cache() -> UserCache:
    import platformdirs

    return UserCache(platformdirs.user_cache_path("aib-doctor"))
