"""Remove secrets from any text before it reaches an output: SAS signatures, keys, tokens, passwords."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from aib_doctor.core.logstream import iter_blocks

MASK = "[REDACTED]"

_RULES = (
    # SAS query parameters: the signature is the secret, the rest only narrows it.
    (re.compile(r"(?i)\b(sig)=[^&\s\"'<>]+"), r"\1=" + MASK),
    # Connection strings and key=value secrets.
    (
        re.compile(
            r"(?i)\b(AccountKey|SharedAccessKey|SharedAccessSignature|client_?secret|password|passwd|pwd|access_?token|refresh_?token|api_?key)(\s*[=:]\s*)(\"?)[^\s;\"'&]+"
        ),
        r"\1\2\3" + MASK,
    ),
    # PowerShell and shell assignments of obvious secrets: $password = 'x', export CLIENT_SECRET="x".
    (re.compile(r"(?i)(\$?\b[a-z_]*(?:password|secret|token|apikey|api_key)[a-z0-9_]*\s*=\s*)(['\"])[^'\"]*\2"), r"\1\2" + MASK + r"\2"),
    (re.compile(r"(?i)(-(?:Password|Secret|Token)\s+)(['\"]?)[^\s'\"]+\2"), r"\1\2" + MASK + r"\2"),
    (re.compile(r"(?i)\bBearer\s+[A-Za-z0-9._~+/=-]{8,}"), "Bearer " + MASK),
    # JSON web tokens anywhere (eyJ... header.payload.signature).
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), MASK),
    # Basic-auth credentials inside URLs.
    (re.compile(r"(https?://[^/\s:@]+):[^@\s/]+@"), r"\1:" + MASK + "@"),
)


def redact(text: str) -> str:
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def redact_chunks(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """A log's bytes with secrets masked, block by block (bounded memory)."""
    for block in iter_blocks(chunks):
        yield redact(block.data.decode("utf-8", "replace")).encode("utf-8")
