"""Writing what the user asked for: atomically (temp file + rename), user-only, never over their files unasked."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from aib_doctor.errors import InputError
from aib_doctor.logstream import iter_blocks
from aib_doctor.redact import redact


def refuse_to_overwrite(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise InputError(f"{path} already exists; pass --force to replace it")


def write_atomic(path: Path, chunks: Iterable[bytes], mode: int = 0o600) -> int:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    written = 0
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
                written += len(chunk)
            handle.flush()
            if hasattr(os, "fchmod"):  # POSIX; the umask may have narrowed the mode
                os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return written


def redacted_chunks(source: Path) -> Iterable[bytes]:
    """A log file's bytes with secrets masked, block by block (bounded memory)."""
    def raw():
        with source.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                yield chunk

    for block in iter_blocks(raw()):
        yield redact(block.data.decode("utf-8", "replace")).encode("utf-8")


def make_private_folder(path: Path, force: bool) -> None:
    if path.exists():
        if not path.is_dir():
            raise InputError(f"{path} exists and is not a folder")
        if any(path.iterdir()) and not force:
            raise InputError(f"{path} is not empty; pass --force to write into it")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
