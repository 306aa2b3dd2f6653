"""What a secret looks like where AIB users meet one: the table redaction and lint's TPL020 both read.

Each shape is a regular expression whose groups named `secret...` hold the value to hide; the rest of
the match is context that stays ("AccountKey=", "--account-key", the URL around a signature), so a
redacted line still reads. The shapes follow detect-secrets' plugins (keyword assignment, private key,
JWT, Basic auth, Azure storage key, GitHub, AWS, npm, Slack) and add what those miss in Image Builder
material: CLI and PowerShell options, ConvertTo-SecureString, `az keyvault secret show` and
`az storage account keys list` output, ARM parameter objects, protectedSettings, SAS and function keys,
tokens used as a URL's user name, PEM keys spread over lines, and every JSON form also JSON-escaped
(`\\"password\\"`, `\\u0026sig=`) because ARM nests JSON inside JSON strings.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from aib_doctor.core.lazy_regex import LazyRegex

MASK = "[REDACTED]"

_Q = r"\\*[\"']"  # a quote, JSON-escaped or not
_DQ = r"\\*\""
_S = r"(?:\s|\\+[nrt])*"  # white space, or its JSON escape inside a string
_DQ_VALUE = r"\\*\"(?P<secret_dq>(?:[^\"\\\n]|\\(?!\"))*)\\*\""
_SQ_VALUE = r"'(?P<secret_sq>[^'\n]*)'"
_BARE_VALUE = r"(?P<secret>[^\s,;&\"'<>{}\[\]()\\|`]+)"
VALUE = rf"(?:{_DQ_VALUE}|{_SQ_VALUE}|{_BARE_VALUE})"
"""A value as scripts and JSON write it: double-quoted (maybe JSON-escaped), single-quoted or bare."""

_SECRET_WORD = (
    r"(?:password|passwd|pwd|secret|(?<!publickey)(?<!invalid )(?<!credentials)token|api[_-]?key|access[_-]?key|account[_-]?key|storage[_-]?key|shared[_-]?access[_-]?key"
    r"|private[_-]?key|master[_-]?key|function[_-]?key|primary[_-]?key|secondary[_-]?key|_key|_pat|sas[_-]?token|connection[_-]?string)"
)
"""How the name of something secret ends (detect-secrets' keyword list, plus Azure's key and PAT variables). A .NET
assembly's PublicKeyToken is public by definition and printed by every ngen and installer log; "invalid token: checksum
error" is a client saying why it refused one, and Go's adal names its function in its errors
("clientCredentialsToken: received HTTP status 401"): neither is a token."""

_NOT_A_VALUE = LazyRegex(
    r"^(?:|null|none|undefined|true|false|failure|\[.*|\$\(.*|\$\{.*|\{\{.*|\$[\w:]+|%\w+%|\*+|\(.*|[:=].*|.*:|\s+-.*|@[\w-]+(?:\.[\w-]+)+(?:[:/].*)?)$",
    re.I,
)
"""References, not secrets: ARM expressions, $(pipeline) and ${shell} variables, Packer's and Jinja's {{ template }}
expressions, a lone * or **; JavaScript's undefined (the DevOps agent's debug lines print an unset proxy password
so); Go's Autorest naming the method that failed ("keyvault.BaseClient#GetSecret: Failure responding to request");
a label ending in a colon ("rejected the token: TF400813: ..." quotes an error code, not a token);
a host after an empty password (`https://$TOKEN:@git.example.com/`: the variable's name, then the host); and the
command line after a prompt that ends in "password: " (Ansible's `sudo -p "[sudo via ansible, key=...] password: " -u
postgres ...`), which starts with a space and an option."""


_MASKED = LazyRegex(r"^(?:\[?redacted\]?|x{3,}|\*{3,}|<[^>]*>|\.{3}|…|VALUE_SPECIFIED_IN_NO_LOG_PARAMETER)(?:[.=]|%3D)*(?:@\S*)?$", re.I)
"""A value the poster or the tool already masked, or a placeholder (sig=REDACTED, password=xxxx, code=***, <password>,
Ansible's VALUE_SPECIFIED_IN_NO_LOG_PARAMETER, ...): nothing left to hide, also as a URL's password before its host
(token:xxxxxx@gitlab.example.com), or with the base64 padding it replaced left on (sig=xxxxxx.%3D). Every shape skips these; the URL parameters that accept any value skip only these."""


def _unmasked(value: str) -> bool:
    return not _MASKED.match(value)


def _a_value(value: str) -> bool:
    return not _NOT_A_VALUE.match(value) and _unmasked(value) and len(value) >= 3


_ERROR_NUMBER = LazyRegex(r"^\d+(?:%[0-9a-f]{2}|[)}\]])*$", re.I)
"""A number, perhaps followed by the URL-encoded quote and brackets of the JSON it was pasted in (code=7000215%22})."""


def _entropy(value: str) -> float:
    counts = {c: value.count(c) for c in set(value)}
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def _token_like(value: str) -> bool:
    """A credential rather than a word or a user name: long, with digits and letters, and random (detect-secrets' entropy test)."""
    return len(value) >= 16 and any(c.isdigit() for c in value) and any(c.isalpha() for c in value) and _entropy(value) >= 3.5


def _mask_lines(value: str) -> str:
    """Each line of a multi-line secret masked, the line breaks (real or JSON-escaped) kept, so line numbers still match."""
    pieces = re.split(r"(\\+[nr]|\r?\n)", value)
    return "".join(p if i % 2 or not p.strip() else MASK for i, p in enumerate(pieces))


def _mask_strings(value: str) -> str:
    """Every string value of an object masked; the object stays valid JSON."""
    return re.sub(rf"(:\s*{_DQ})(?:[^\"\\\n]|\\(?!\"))*({_DQ})", rf"\g<1>{MASK}\g<2>", value)


_URL_PARAMETER = r"(?:[?&]|\\u0026)(?:code|token|access_token|refresh_token|id_token|client_secret|api[-_]?key|apikey|password|pwd|secret)="
"""A query or form parameter that carries a secret (Functions' ?code=, OAuth bodies), & possibly JSON-escaped."""
_LONG_OPTIONS = r"(?:account-key|sas-token|password|client-secret|secret|token|pat|connection-string|access-token)"
_POWERSHELL_PARAMETERS = r"(?:StorageAccountKey|ClientSecret|Password|Secret|Token|AccessToken|PlainTextPassword|SasToken|ConnectionString|CertificatePassword)"


@dataclass(frozen=True)
class Shape:
    """One form of secret: its pattern, whose `secret...` groups hold the value, and how the value is hidden."""

    name: str
    pattern: str
    flags: int
    accept: Callable[[str], bool] = _a_value
    """Whether a matched value is a secret (not a placeholder or a reference)."""
    mask: Callable[[str], str] = lambda _: MASK
    anchor: str = ""
    """What every match contains, counting the character before it (a lookbehind's space); RE2 syntax, case-insensitive.
    A text is searched only with the shapes whose anchor it holds, and a long text only near an anchor."""

    @functools.cached_property
    def regex(self) -> re.Pattern:
        """Compiled on first use: most texts hold no shape's anchor, few hold many, and compiling every shape is a tenth of a short run."""
        return re.compile(self.pattern, self.flags)


def _shape(name: str, anchor: str, pattern: str, flags: int = re.I, **kwargs) -> Shape:
    return Shape(name, pattern, flags, anchor=anchor, **kwargs)


SHAPES: tuple[Shape, ...] = (
    _shape(
        "private-key",
        r"PRIVATE KEY",
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?P<secret>.*?)(?=-----END [A-Z0-9 ]*PRIVATE KEY|\Z)",
        re.S,
        accept=lambda v: bool(v.strip()),
        mask=_mask_lines,
    ),
    _shape(
        "protected-settings",
        r"protectedSettings",
        rf"{_DQ}protectedSettings{_DQ}{_S}:{_S}(?P<secret>\{{[^{{}}]*\}})",
        accept=lambda v: True,
        mask=_mask_strings,
    ),
    _shape(
        "keyvault-secret",
        r"vault\.azure\.net/secrets/",
        rf"vault\.azure\.net/secrets/[^\"\\]*{_DQ}(?:[^{{}}]|\{{[^{{}}]*\}}){{0,400}}?{_DQ}value{_DQ}{_S}:{_S}{_DQ_VALUE}"
        rf"|{_DQ}value{_DQ}{_S}:{_S}\\*\"(?P<secret>(?:[^\"\\\n]|\\(?!\"))*)\\*\"{_S},{_S}{_DQ}id{_DQ}{_S}:{_S}{_DQ}https://[^\"\\]*vault\.azure\.net/secrets/",
    ),
    _shape(  # the object's value may be lines away: a log prefix or a JSON list of script lines between
        "arm-secret-parameter",
        r"(?:password|passwd|pwd|secret|token|key|pat|string)\\*\"\s*:\s*\{",
        rf"{_DQ}[\w.-]*(?:{_SECRET_WORD}|pat){_DQ}{_S}:{_S}\{{[^{{}}]{{0,160}}?{_DQ}value{_DQ}{_S}:{_S}{_DQ_VALUE}",
    ),
    _shape("sas-signature", r"sig=", r"(?:(?<![\w])|(?<=\\u0026))sig=(?P<secret>[^&\s\"'<>\\]+)", accept=_unmasked),
    # an error page's code=7000215 is Entra's error number, not an authorization code
    _shape(
        "url-secret-parameter",
        _URL_PARAMETER,
        _URL_PARAMETER + r"(?P<secret>[^&\s\"'<>\\#]+)",
        accept=lambda v: _unmasked(v) and not _ERROR_NUMBER.match(v),
    ),
    _shape("url-password", r"://[^/\s@]*@", r"\b[a-z][a-z0-9+.-]*://[^/\s:@\"'<>\\]+:(?P<secret>[^@\s/\"'<>\\]+)@"),
    _shape("url-token-user", r"://[^/\s@]*@", r"\b[a-z][a-z0-9+.-]*://(?P<secret>[^/\s:@\"'<>\\]{16,})@", accept=_token_like),
    _shape(
        "authorization-header",
        r"authorization|bearer\s",
        # not a challenge's parameter (WWW-Authenticate: Bearer authorization_uri=..., realm="...")
        r"(?:authorization[\"'\\]*\s*[:=]\s*[\"'\\]*(?:basic|bearer|token|digest)\s+|\bbearer\s+)(?!\w*=[\"\w])(?P<secret>[A-Za-z0-9._~+/=-]{8,})",
    ),
    _shape("jwt", r"eyJ[A-Za-z0-9_-]{8,}\.", r"\b(?P<secret>eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)", 0),
    _shape("github-token", r"gh[pousr]_|github_pat_", r"\b(?P<secret>gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})", 0),
    _shape("npm-token", r"npm_[A-Za-z0-9]{30}", r"\b(?P<secret>npm_[A-Za-z0-9]{30,})", 0),
    _shape("aws-access-key-id", r"(?:AKIA|ASIA)[0-9A-Z]{16}", r"\b(?P<secret>(?:AKIA|ASIA)[0-9A-Z]{16})\b", 0),
    _shape("slack-webhook", r"hooks\.slack\.com/services/", r"hooks\.slack\.com/services/[A-Z0-9]+/[A-Z0-9]+/(?P<secret>[A-Za-z0-9]+)"),
    _shape("teams-webhook", r"webhook\.office\.com/", r"\.webhook\.office\.com/webhookb2/(?P<secret>[^\s\"'<>\\]+)"),
    _shape(
        "option-secret",
        rf"--{_LONG_OPTIONS}|\s-{_POWERSHELL_PARAMETERS}|aws_secret_access_key|sshpass|az\s+login",
        rf"(?:--{_LONG_OPTIONS}|(?<=\s)-{_POWERSHELL_PARAMETERS}|\baws_secret_access_key|\bsshpass\s+-p|\baz\s+login\b[^\n]*?\s-p)(?:\s*=\s*|\s+|:){VALUE}",
    ),
    _shape("convertto-securestring", r"ConvertTo-SecureString", rf"ConvertTo-SecureString(?:\s+-(?:AsPlainText|Force))*\s+(?:-String\s+)?{VALUE}"),
    _shape("net-user-password", r"net\s+user\s", r"\bnet\s+user\s+[^\s/]+\s+(?P<secret>(?![/*])[^\s]+)"),
    # After a colon, a word and then more words is a sentence saying what failed ("error getting secret: unable
    # to ...", "invalid token: invalid subject (sub) claim", '"is_secret": conflicts with key_vault'), not a value.
    _shape(
        "keyword-assignment",
        r"(?:password|passwd|pwd|secret|token|key|_pat|string)\\*[\"']?[ \t]*[:=]",
        rf"{_SECRET_WORD}{_Q}?[ \t]*(?::(?![ \t]*[A-Za-z]+[ \t]+[A-Za-z])|=(?!=))[ \t]*{VALUE}",
    ),
    _shape(
        "connection-string-key",
        r"AccountKey=|SharedAccessKey=|SharedAccessSignature=",
        r"\b(?:AccountKey|SharedAccessKey|SharedAccessSignature)=(?P<secret>[^;\s\"'\\]+)",
    ),
    # not a package's published integrity hash (npm's and SRI's "sha512-<base64>"), which is the same length
    _shape("storage-key", r"[A-Za-z0-9+/]{86}==", r"(?<![A-Za-z0-9+/=])(?<!sha512-)(?P<secret>[A-Za-z0-9+/]{86}==)(?![A-Za-z0-9+/=])", 0),
    _shape("devops-pat", r"[a-z2-7]{52}", r"(?<![A-Za-z0-9])(?P<secret>[a-z2-7]{52})(?![A-Za-z0-9])", 0, accept=lambda v: any(c.isdigit() for c in v)),
    _shape(
        "base64-key-line",
        r"(?m)[A-Za-z0-9+/]{60,76}={0,2}[ \t\r]*$",
        r"(?:^|(?<=\s))(?P<secret>[A-Za-z0-9+/]{60,76}={0,2})[ \t\r]*$",
        re.M,
        accept=lambda v: _token_like(v) and any(c.isupper() for c in v) and any(c.islower() for c in v) and _entropy(v) >= 4.5,
    ),
)
"""The shapes, most specific first: where two overlap, the earlier one decides what is hidden."""

TRIGGER = "(?i)" + "|".join(f"(?:{shape.anchor})" for shape in SHAPES)
"""Any shape's anchor: a text without one holds no secret, and a long text is searched only around them."""
