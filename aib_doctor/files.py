"""Writing what the user asked for: atomically (temp file + rename), user-only, never over their files unasked."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from aib_doctor.errors import InputError


def refuse_to_overwrite(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise InputError(f"{path} already exists; pass --force to replace it")


CHUNK = 1 << 20


@contextmanager
def atomic_file(path: Path, mode: int = 0o600) -> Iterator[BinaryIO]:
    """A handle on a temporary file that replaces path only when the block ends without an error."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as handle:
            yield handle
            handle.flush()
            if hasattr(os, "fchmod"):  # POSIX; the umask may have narrowed the mode
                os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, chunks: Iterable[bytes], mode: int = 0o600) -> int:
    written = 0
    with atomic_file(path, mode) as handle:
        for chunk in chunks:
            handle.write(chunk)
            written += len(chunk)
    return written


def read_chunks(handle: BinaryIO, size: int = CHUNK) -> Iterator[bytes]:
    while chunk := handle.read(size):
        yield chunk


def file_chunks(source: Path) -> Iterator[bytes]:
    with source.open("rb") as handle:
        yield from read_chunks(handle)


def make_private_folder(path: Path, force: bool) -> None:
    if path.exists():
        if not path.is_dir():
            raise InputError(f"{path} exists and is not a folder")
        if any(path.iterdir()) and not force:
            raise InputError(f"{path} is not empty; pass --force to write into it")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
