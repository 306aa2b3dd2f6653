"""The last resort before "unknown": name the likely category of an error text from its vocabulary.

When no signature, partial signature or error code fits but the text has error content, the words
in it still tell a reader what kind of failure it is: "WinRM", "i/o timeout" and "5986" are the
network; "sysprep", "setupact" and "IMAGE_STATE" are deprovisioning. The model is a naive Bayes over
the words and two-word phrases of texts whose category is known, kept as data
(catalog/vocabulary/counts.json: how many texts of each category had each term), derived by
scripts/derive_vocabulary.py from the seed terms in categories.yaml (each family's own documentation),
the rules' test cases, the golden corpus and the tuning part of the real-world corpus. The finding is
low confidence, names the terms and lines that decided it, and its fix says which evidence to collect
next. No I/O beyond the packaged data.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace

from aib_doctor.core.lazy_regex import LazyRegex
from aib_doctor.core.logical import strip_prefixes
from aib_doctor.core.patterns import NOT_AN_ERROR as NOT_AN_ERROR_LINE
from aib_doctor.core.redact import redact
from aib_doctor.errors import CatalogError
from aib_doctor.model import CATEGORIES, Evidence, Rule

SMOOTHING = 0.1
"""Added to every count (Lidstone): a term a category's texts never had is unlikely there, not impossible. Chosen
by cross-validation on the tuning part (`derive_vocabulary.py --folds 5`): on 539 texts 0.1 guessed 394 right, 0.5 385,
1.0 377; on 1334, weighing each category against the rest, 0.05 to 0.3 all guess 922-927 right."""
MIN_LEANING = 3.0
"""Least summed leaning (natural log) of a text's terms towards the category it guesses: together they must
make it about twenty times likelier there than elsewhere. One faint term, such as "error s" from a Go format
slip, is not enough to call a text a failure."""
AROUND_ERRORS = 3
"""The lines a guess reads: those with error content and this many on each side of them. A long log's other
lines (the steps that went well) speak of what the build did, not of what failed. Chosen by cross-validation
on the tuning part (`derive_vocabulary.py --folds 5`, 1349 texts): the whole text 936 right, 0 lines around
929, 1 946, 2 945, 3 947, 5 943; reading the same lines when counting the training texts gained nothing."""
DECISIVE_TERMS = 5
SHOWN_SHRINK = 2
EVIDENCE_LINES = 3
_TOKEN = LazyRegex(r"[a-z0-9][a-z0-9/.:#@']*[a-z0-9]|[a-z0-9]")
# Numbers, times, addresses, ids and durations are facts of one text, not vocabulary (hex codes such as
# 0x80240016 stay); so are the commonest English words.
_NOISE = LazyRegex(
    r"^(?!0x[0-9a-f]{8}$).*\d.*$|^[0-9a-f-]{16,}$|"
    r"^(?:the|a|an|and|or|of|to|in|on|for|is|it|at|by|be|was|with|this|that|from|as|are|not|no|if|you|your|we|i|has|have|been|will|can|please)$"
)
# ...except the number a tool reports as its result: an exit code or status names a family's failure as
# well as its words do (msiexec's 1603, apt's 100, a killed process's 137). It counts as "code N".
_RESULT_CODE = LazyRegex(r"(?i)\b(?:exit(?:\s*code|\s*status)?|code|status|error|returned|hresult|result)\s*[:=]?\s*(-?\d{2,10})\b")
_CAMEL_NAME = LazyRegex(r"\b[A-Za-z][A-Za-z0-9]*[a-z][A-Z][A-Za-z0-9]*\b")
_CAMEL_WORD = LazyRegex(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
# How long a Packer build ran before it errored or finished ("Build 'azure-arm' errored after 5 minutes 12
# seconds:"): every Packer run prints it, so it says how long the build took, not that time ran out.
_PACKER_DURATION = LazyRegex(r"\b(?:errored|finished) after(?: [\d.]+ \w+)+")
# Words every failure text has (log structure, generic failure words): never vocabulary on their own. Packer's
# step lines (telemetry, starting and ending a provisioner) mark where a log is, not what went wrong.
GENERIC = frozenset(
    "packer out err ui build builds errored error errors failed failure fail azure arm info debug message code status "
    "telemetry starting ending provisioner provisioning step "
    "details detail request response time run running line lines log the exit with exited command script value "
    "output operation resource resources template image vm any get find does over force become go see more data "
    "cannot could not unable found true false null name type id new set use using used".split()
)
ERROR_CONTENT = LazyRegex(
    r"(?i)\b(?:error|errors|errored|fail|failed|failure|fatal|exception|denied|forbidden|refused|timed? ?out|"
    r"cannot|can't|could not|couldn't|unable to|not found|invalid|not allowed|not authorized|exit (?:code|status):? ?(?!3010\b|1641\b)[1-9]|"
    r"exceed(?:ed|s)|expired|rejected|unavailable|not available|not supported|no more|not able to|not registered|no registered|"
    r"not empty|already exists|(?:does|did) not (?:exist|support|match|meet)|is not (?:a )?(?:allowed|valid|supported)|disallowed|not permitted|"
    r"insufficient|mismatch|unsupported|unsuccessful|(?:is|are|was|were) not installed|must (?:be|contain|have|include|match|not|specify)|(?:is|are) required|aborted|terminated|panic|"
    # a limit that was hit ("has reached its limit of 10 models", "maximum number of ... reached")
    r"reached (?:its|the) (?:limit|maximum)|limit (?:has been |was )?reached|"
    # the C library's and cmd.exe's own words for a failed call or command line
    r"no such file or directory|incorrect|was unexpected at this time|"
    # a tool that refuses to run without privileges (yum's and dnf's "You need to be root to perform this command.",
    # apt's "are you root?")
    r"need to be root|are you root|"
    # a step that never ends says so without an error word
    r"(?:did not|didn't|does not|doesn't|never) (?:finish|complete|succeed|respond|return|reach|provision)\w*|stuck|hangs|hung)\b|"
    # Python's traceback; a process that exited with a non-zero code in other words than "exit code: N"
    # ("exited with code 87", "Exit code returned from X: '5003'"; 3010 and 1641 are Windows Installer's
    # success that wants a restart); a JSON result that says it failed
    r"(?:Traceback \(most recent call last\)|\bexit(?:ed)? (?:with )?(?:exit )?(?:code|status)\b[^0-9\n]{0,60}?'?-?(?!3010\b|1641\b)[1-9]\d*\b|"
    r"\"success\"\s*:\s*false\b|\berror_?code\"?\s*[:=]\s*\"?(?:0x0*[1-9a-f][0-9a-f]*|-?[1-9]\d*)\b|"
    # an HTTP client error or server error as SDKs and tools print the response ("RESPONSE 403: 403 ...",
    # "HTTP/1.1 404 Not Found", "StatusCode=503"); PowerShell's position line under an error record
    # ("At line:1 char:1", "At C:\\...\\PSModule.psm1:1772 char:21"), which it prints for nothing else
    r"\b(?:RESPONSE|HTTP/\d(?:\.\d)?|Status ?Code)\W{1,3}[45]\d\d\b|^\s*At (?:line:\d+|\S.*:\d+) char:\d+)|"
    # the same words in the languages users' Windows and tools print them in (German, French, Italian, Spanish,
    # Portuguese, Chinese, Japanese)
    r"\b(?:Fehler|fehlgeschlagen|Zugriff verweigert|erreur|échec|a échoué|Accès refusé|errore|non riuscit[oa]|Accesso negato|"
    r"falló|fallido|Acceso denegado|falha|falhou|Acesso negado|"
    # and their "not found" (Windows' "The system cannot find the file specified" in French, German, Spanish,
    # Portuguese, Italian)
    r"introuvable|nicht gefunden|no se (?:puede )?encontr[óa]|não (?:foi )?encontrad[oa]|impossibile trovare)\b|"
    # error, failed, cannot, not found and access denied in Chinese, Japanese and Korean ("无法将 iwr 识别为 cmdlet",
    # "找不到命令", "Sysprep无法验证你的Windows安装", "見つかりません", "찾을 수 없습니다"); no word boundaries in CJK text
    r"错误|失败|无法|找不到|未找到|拒绝访问|エラー|失敗|できません|見つかりません|拒否されました|오류|실패|수 없습니다|거부되었습니다|"
    # error codes written in camelCase (StorageAccountTypeNotSupported, AuthorizationFailed, SkuNotAvailable)
    r"(?-i:[a-z](?:NotSupported|NotFound|NotAvailable|NotAllowed|NotPermitted|Failed|Failure|Invalid|Denied|Exceeded|Conflict|Error|Exception|Fault|"
    r"InProgress|Unavailable|Unauthorized|Forbidden|Mismatch|TimedOut))\b|"
    # apt's and dpkg's own error marker at the start of a message ("E: There were unauthenticated packages"),
    # and npm's before version 10 ("npm ERR! code E404")
    r"(?-i:(?:^|[:>]\s+)E: [A-Z]|\bnpm ERR!)"
)


_RETRIED = r"retryable error|will retry|\bretrying\b"
"""An error that will be tried again."""
_WARNING = (
    # a line a tool marks as a warning (az, PowerShell, Terraform, Packer, Ansible, GitHub and DevOps annotations),
    # or as information or a warning in a structured log (Go's logrus and slog: containerd, dockerd, azcmagent).
    # Not debug: some tools log the error they then act on at debug level.
    r"(?:^|[\s>:\]])(?:##\[warning\]|\[warn(?:ing)?\]|warn(?:ing)?:|"
    # the same mark in the languages whose error words count (dpkg's "警告: 无法找到软件包 x 的文件名列表文件"; CJK
    # text has no word boundaries, so its marks stand outside this group)
    r"(?:warnung|avertissement|advertencia|aviso|avviso) ?:|"
    # a compiler's or linter's diagnostic with its code (MSBuild's and C#'s "warning CS8618:", Bicep's "Warning
    # no-hardcoded-env-urls:"), or after the file position it points at ("main.bicep(1,14) : Warning")
    r"warning [a-z][\w-]*:)|(?:警告|경고) ?[:：]|\(\d+,\d+\)\s*:\s*warning\b|"
    # Python's warnings module: "file.py:80: SyntaxWarning: invalid escape sequence" (and DeprecationWarning,
    # InsecureRequestWarning, CryptographyDeprecationWarning...), the source line it quotes indented below it
    r"(?-i:[a-z0-9]Warning): |"
    # level marks that open a line without a colon: npm's "npm WARN", Yarn's "warning", logrus' text format
    # "WARN[0000]" and "INFO[0000]" (crictl, k3s), klog's "W0513 16:11:29.835269" and "I0513 ..." (kubectl,
    # helm), CMake's "CMake Warning (dev) at CMakeLists.txt:81" with its message indented below
    r"(?-i:(?:^|[\s>:\]])(?:npm WARN|(?:WARN|INFO)\[|[WI]\d{4} \d\d:\d\d:\d\d\.\d+\s)|^\s*warning\s|\bCMake (?:Deprecation )?Warning\b)|"
    r"\blevel=\"?(?:info|warn(?:ing)?)\b|\"level\"\s*:\s*\"(?:info|warn(?:ing)?)\"|"
    # Puppet's notice, under which it prints what a command wrote ("Notice: /Stage[main]/.../returns: ..."):
    # Puppet's own "Error:" line says whether the command failed. (Not every INFO level: the Linux agent
    # logs its provisioning failures at INFO.)
    r"(?-i:(?:^|\s)Notice: /)"
)
WARNING = LazyRegex("(?i)" + _WARNING)
# A line that goes on with the sentence of the line above: it starts with a word in lower case (Ansible and
# PowerShell wrap a long warning at the terminal's width, without indent or marker), not with a tool's or a
# level's label ("error: cannot install", "grub-install: error: ...").
_GOES_ON = LazyRegex(r"^\s*[a-z][\w'-]*(?:[\s,]|$)")
# ...or a line indented under it (the source line Python's warnings quote), unless it carries a label of its own.
_LABELLED = LazyRegex(r"^\s*[\w.-]+:\s")
# Lines that name errors without reporting one: counts of none, errors that will be retried, waits with a
# timeout, Packer echoing the command it is about to run (the script's own text, not its output), errors said
# to be safe to ignore, JSON structure, warnings, settings.
NOT_AN_ERROR = LazyRegex(
    # the scan's own list (retried errors, counts of zero), warnings, then what only a whole short text shows
    NOT_AN_ERROR_LINE + "|" + _RETRIED + "|" + _WARNING + "|"
    r"\b(?:0|no) (?:\w+ )?(?:failed|failures?|errors?)\b|"
    r"(?:up to|with) timeout|(?:^|\s)--?timeout[= ]|timeout-in-minutes|\btimeout\w*[\"']?\s?[:=]\s?[\"']?\d|"
    r"found command:|starting remote command:|safe(?:ly)? (?:to )?ignored?|can be (?:safely )?ignored|\balso safe\b|"
    # an error make was told to ignore (a recipe line that starts with "-"); Ansible trying each inventory
    # plug-in in turn on a source ("did not meet host_list requirements"), one of which takes it
    r"\bError \d+ \(ignored\)|check plugin documentation if this is unexpected|"
    # docker run and pull saying what they do with an image: not there yet (so it pulls), a layer already there
    r"Unable to find image '[^']+' locally|^\s*[0-9a-f]{12}: Already exists\b|"
    # Go printing a nil error with %s: "Error: %!s(<nil>)" says there was none
    r"%!s\(<nil>|"
    # JSON structure: a key that opens an object or list, or holds nothing ("disallowed": {, "errors": [])
    r"^\s*\"[\w.$-]+\"\s*:\s*(?:[{\[]|null|\[\s*\]|\{\s*\}|\"\"|false|true|0)\s*,?\s*$|"
    # settings that name errors: Packer's on-error, PowerShell's error preferences, the template's errorHandling
    r"\bon[- ]?error:|-erroraction\b|erroraction(?:preference)?[\"']?\s*[=:]|errorhandling|on(?:customizer|validation)error"
)
RETRIED = LazyRegex("(?i)" + _RETRIED)
# A text that ends in success after its errors reports errors that were retried or harmless.
SUCCESS = LazyRegex(
    r"(?i)(?:apply complete!|\b(?:builds? (?:'[^']*' )?finished(?! but no artifacts)|finished successfully|completed successfully|"
    r"installed successfully|ran successfully|(?:was|were) successful|runState\W+Succeeded|provisioningState\W+Succeeded|"
    r"The operation completed successfully|Build succeeded|Job succeeded|Finishing: SUCCESS|WinRM connected|"
    # package managers' own last line of an install that worked: pip's and gem's, npm's, yarn's, Chocolatey's
    # when it installed every package it was asked for
    r"Successfully installed|added \d+ packages?|up to date, audited \d+|Done in \d+(?:\.\d+)?m?s|"
    r"Chocolatey (?:installed|upgraded) (?P<asked>\d+)/(?P=asked) packages|"
    # Windows Installer: the product's event, and the INSTALL action ending in 1 (its success; 3 is failure)
    r"Installation success or error status: 0|Action ended [\d:]+: INSTALL\. Return value 1|"
    # Packer runs post-processors only on a build whose provisioners all succeeded
    r"Running post-processor|The configuration is valid)\b|Connected to (?:WinRM|SSH)!|"
    # sc.exe's own word for a service call that worked ("[SC] CreateService SUCCESS", in Chinese Windows "成功"),
    # and Windows' "The operation completed successfully." in Chinese
    r"\[SC\] \w+ (?:SUCCESS|成功)|操作成功完成|"
    # yum's and dnf's last line of a transaction that worked, or of one that had nothing to install
    r"(?-i:(?:^|[\s:>])(?:Complete!|Nothing to do\.?)\s*$)|"
    # systemctl status showing the unit running, after it had failed to start
    r"(?-i:^\s*Active: active \(running\)))"
)


@dataclass(frozen=True)
class Fired:
    """A rule that fired, with how: what diagnose ranks and turns into a finding."""

    rule: Rule
    evidence: tuple[Evidence, ...]
    groups: dict[str, str]
    basis: str
    loose: bool = False


@dataclass(frozen=True)
class Vocabulary:
    """A naive Bayes model over the terms of failure texts: how many texts of each category had each term."""

    rules: dict[str, Rule]
    """category -> the rule a guess in that category reports (title, cause, fix: what to collect next)."""
    counts: dict[str, dict[str, int]]
    """term -> category -> how many of the category's training texts had the term."""
    totals: dict[str, int]
    """category -> the sum of its counts."""

    def known(self, terms: Iterable[str]) -> set[str]:
        return {t for t in terms if t in self.counts}

    def log_odds(self, terms: Collection[str]) -> dict[str, float]:
        """category -> how much likelier the terms are in the category's texts than in all the others' together
        (the sum of their leanings; naive Bayes one category against the rest). Chosen by cross-validation on the
        tuning part (`derive_vocabulary.py --folds 5`, 1334 texts): 926 right, against 907 for each category's
        own likelihood under equal priors."""
        return {category: sum(self.leaning(t, category) for t in terms) for category in self.totals}

    def seen(self, term: str, category: str) -> int:
        """How many of the category's training texts had the term."""
        return self.counts.get(term, {}).get(category, 0)

    def leaning(self, term: str, category: str) -> float:
        """How much more often the term appears in the category's texts than in the others' (log ratio)."""
        size = len(self.counts)
        inside = self.seen(term, category)
        outside = sum(self.counts[term].values()) - inside
        rest = sum(self.totals.values()) - self.totals[category]
        return math.log((inside + SMOOTHING) / (self.totals[category] + SMOOTHING * size)) - math.log((outside + SMOOTHING) / (rest + SMOOTHING * size))


def normalize(term: str) -> str:
    return " ".join(term.lower().replace("-", " ").replace("_", " ").split())


def terms_of(text: str) -> set[str]:
    """The words and two-word phrases of a text's messages (log prefixes removed) the vocabulary counts:
    no numbers (but a result code, as "code N"), ids, common words or how long a Packer build ran. The words inside camelCase names count
    too (an error code such as InvalidBeginGetAccessForGalleryImageVersionSnapshotResponseFromPIR speaks of
    a gallery image version)."""
    messages = _PACKER_DURATION.sub(" ", "\n".join(strip_prefixes(line) for line in text.splitlines()))
    tokens = [t for t in _TOKEN.findall(normalize(messages)) if len(t) <= 30]
    inner = [w.lower() for name in _CAMEL_NAME.findall(messages) for w in _CAMEL_WORD.findall(name)]
    words = {t for t in tokens + inner if not _NOISE.match(t) and len(t) > 2 and t not in GENERIC}
    pairs = {f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False) if _phrase_word(a) and _phrase_word(b) and not (a in GENERIC and b in GENERIC)}
    codes = {f"code {number}" for number in _RESULT_CODE.findall(messages)}
    return words | pairs | codes


def _phrase_word(token: str) -> bool:
    """A token that can be half of a two-word phrase: not noise, and not a single letter (the "s" of
    "Error: %!s(<nil>)" or of a split "it's")."""
    return len(token) > 1 and not _NOISE.match(token)


@functools.lru_cache(maxsize=1)
def load_vocabulary() -> Vocabulary:
    import json  # only a text no rule explains needs the vocabulary: the others start without PyYAML and json

    import yaml

    from aib_doctor.core.catalog import DATA

    folder = DATA / "vocabulary"
    categories = yaml.safe_load((folder / "categories.yaml").read_text(encoding="utf-8")) or []
    counts = json.loads((folder / "counts.json").read_text(encoding="utf-8"))
    return build_vocabulary(categories, counts["categories"])


def build_vocabulary(categories: list[dict], counted: dict[str, dict[str, int]]) -> Vocabulary:
    """From categories.yaml's entries and category -> {term: number of texts}, as derive_vocabulary writes them."""
    rules: dict[str, Rule] = {}
    for record in categories:
        category = record.get("category")
        if category not in CATEGORIES:
            raise CatalogError(f"vocabulary: unknown category {category!r}")
        rules[category] = Rule(
            id=record["id"],
            name=f"vocabulary.{category.replace('_', '-')}",
            category=category,
            severity="error",
            priority=0,
            title=record["title"].strip(),
            cause=" ".join(record["cause"].split()),
            fix=" ".join(record["fix"].split()),
            patterns=(),
            where=(),
            docs=tuple(record.get("docs") or ()),
            basis="vocabulary",
        )
    counts: dict[str, dict[str, int]] = {}
    totals: dict[str, int] = {}
    for category, terms in counted.items():
        if category not in rules:
            raise CatalogError(f"vocabulary counts: category {category!r} has no entry in categories.yaml")
        for term, count in (terms or {}).items():
            counts.setdefault(term, {})[category] = int(count)
        totals[category] = sum(int(c) for c in (terms or {}).values())
    return Vocabulary(rules, counts, totals)


def guess_category(vocabulary: Vocabulary, sources: Sequence[tuple[str, Iterable[tuple[int | None, str]]]]) -> Fired | None:
    """The likeliest category of a text that has error content, as a low-confidence finding; None when
    the text has no error content, reports success after its last error, or too little in its words
    points to any category."""
    lines = text_lines(sources)
    at = _error_indices(lines)
    if not at:
        return None  # no error content, or success reported after the last error
    near = [lines[i] for i in sorted({i for e in at for i in range(max(0, e - AROUND_ERRORS), min(len(lines), e + AROUND_ERRORS + 1))})]
    # In a fixed order: float sums over a set follow its hash order, which differs between runs, and a
    # rounding difference must not change which category or which evidence line a report shows.
    terms = sorted(vocabulary.known(terms_of("\n".join(text for _, _, text in near))))
    if not terms:
        return None
    odds = vocabulary.log_odds(terms)
    category = max(odds, key=lambda c: (odds[c], c))
    leaning = {t: lean for t in terms if (lean := vocabulary.leaning(t, category)) > 0}
    if sum(leaning.values()) < MIN_LEANING:
        return None  # it won by a faint term, or only by having fewer texts against it
    # What a reader is shown: the terms that lean most, a term few texts had counting for less (a place
    # name in one training text leans far but says little).
    shown = {t: lean * vocabulary.seen(t, category) / (vocabulary.seen(t, category) + SHOWN_SHRINK) for t, lean in leaning.items()}
    decisive = sorted(shown, key=lambda t: (-shown[t], t))[:DECISIVE_TERMS]
    rule = vocabulary.rules[category]
    note = f" Terms that point here: {', '.join(decisive)}."
    return Fired(
        rule=replace(rule, cause=rule.cause + note),
        evidence=_evidence_lines(near, shown),
        groups={},
        basis="vocabulary",
    )


def error_lines(lines: Sequence[tuple[str, int | None, str]]) -> list[tuple[str, int | None, str]]:
    """The lines with error content of a text that does not report success after them (empty when it
    has none, or ends in success); an excerpt whose only errors are retried is stuck on them."""
    return [lines[i] for i in _error_indices(lines)]


def _error_indices(lines: Sequence[tuple[str, int | None, str]]) -> list[int]:
    at = _errors(lines) or [i for i, line in enumerate(lines) if _is_retried_error(line[2])]
    if not at or _last(lines, SUCCESS.search) > at[-1]:
        return []
    return at


def _errors(lines: Sequence[tuple[str, int | None, str]]) -> list[int]:
    """Indices of the lines with error content, but for what a warning says on the lines it goes on to."""
    warned = _in_warnings(lines)
    return [i for i, line in enumerate(lines) if is_error(line[2]) and i not in warned]


def _in_warnings(lines: Sequence[tuple[str, int | None, str]]) -> set[int]:
    """The lines that go on with a warning, wrapped onto them or indented under it: what they say is the warning's."""
    warned: set[int] = set()
    for i in range(1, len(lines)):
        above = lines[i - 1][2]
        if not (i - 1 in warned or WARNING.search(above)):
            continue
        text = lines[i][2]
        if _GOES_ON.match(strip_prefixes(text)) or (_indent(text) > _indent(above) and not _LABELLED.match(text)):
            warned.add(i)
    return warned


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip())


def ends_in_success(lines: Sequence[tuple[str, int | None, str]], failures: Collection[tuple[str, int]] = ()) -> bool:
    """The text reports success after its last error (error words, or a line in `failures`, where a rule
    found a cause): the errors were retried, or harmless."""
    last_error = max([*_errors(lines)[-1:], *(i for i, (s, n, _) in enumerate(lines) if (s, n) in failures)], default=-1)
    return _last(lines, SUCCESS.search) > last_error


def is_error(text: str) -> bool:
    """The line has error content and does not report success in error words ("Failed: 0")."""
    return bool(ERROR_CONTENT.search(text)) and not NOT_AN_ERROR.search(text)


def _is_retried_error(text: str) -> bool:
    # Error content besides the retry words: "Retryable error: retrying for state DONE, got RUNNING" is a wait
    # polling a state, not an error that keeps coming back.
    return bool(RETRIED.search(text)) and bool(ERROR_CONTENT.search(RETRIED.sub("", text)))


def _last(lines: Sequence[tuple[str, int | None, str]], test) -> int:
    """Index of the last line whose text passes test, -1 when none does (read from the end)."""
    return next((i for i in range(len(lines) - 1, -1, -1) if test(lines[i][2])), -1)


def text_lines(sources: Sequence[tuple[str, Iterable[tuple[int | None, str]]]]) -> list[tuple[str, int | None, str]]:
    return [(source, lineno, text) for source, texts in sources for lineno, text in texts if text.strip()]


def _evidence_lines(lines: Sequence[tuple[str, int | None, str]], leaning: dict[str, float]) -> tuple[Evidence, ...]:
    """The lines whose terms lean most towards the category, error-looking lines first, in text order; one
    of them always a line with error content (what made the text a failure), which counts as the matched
    line, as a rule's is: a shortened quote keeps its error words in view."""
    scored = []
    for source, lineno, text in lines:
        weight = sum(leaning.get(t, 0.0) for t in sorted(terms_of(text)))
        if weight > 0:
            scored.append((-(weight + (1 if is_error(text) else 0)), lineno or 0, source, lineno, text))
    best = sorted(scored)[:EVIDENCE_LINES]
    if not any(is_error(text) for *_, text in best):
        failing = [line for line in sorted(scored) if is_error(line[4])] or [(0, n or 0, s, n, t) for s, n, t in error_lines(lines)[-1:]]
        best = best[: EVIDENCE_LINES - len(failing[:1])] + failing[:1]
    return tuple(line_evidence(source, lineno, text, _error_words(text)) for _, _, source, lineno, text in sorted(best, key=lambda b: b[1]))


def _error_words(text: str) -> str:
    """The error words of a line with error content ("" for a line quoted for its terms alone)."""
    return found.group(0) if is_error(text) and (found := ERROR_CONTENT.search(text)) else ""


def line_evidence(source: str, lineno: int | None, text: str, matched: str = "") -> Evidence:
    """A line of a text quoted as evidence: stripped, shortened and redacted; `matched`, the words in it that
    made it evidence."""
    return Evidence(source, lineno, redact(text.strip()[:400]), matched)
