"""`make bench`: time `aib-doctor analyze` against `grep -E` on the same 256 MB log, and its peak memory; and the
redaction a bundle applies to that log (`redact_chunks`), against the same grep.

The log looks like a real Windows build whose update and script output runs for hours: deploy,
WinRM, customizer markers, then hundreds of megabytes of remote output and Packer debug lines,
and the failure (Sysprep timing) in the last few hundred lines. grep gets the catalog's literal
patterns (the longest literal run of every rule pattern) as one -E pattern list. Both run three
times after a warm-up; the medians and their ratio are reported, never asserted.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
SIZE = int(os.environ.get("BENCH_MB", "256")) << 20
RUNS = 3
OPID = "922bdf36-b53c-4e78-9cd8-6b70b9674685"

BULK = [
    'PACKER ERR 2020/05/05 22:{m:02d}:{s:02d} packer: 2020/05/05 22:{m:02d}:{s:02d} Azure request method="GET" request="https://management.azure.com/subscriptions/5b7c1d2e-0000-4a1b-9c3d-111122223333/resourcegroups/IT_rg_win_5c1d/providers/Microsoft.Resources/deployments/pkrdp51lc0339jg/operationStatuses/085861331762075{n:05d}?[REDACTED]" body=""',
    "PACKER OUT     azure-arm: Waiting for operation to complete (system performance: {p}% cpu; {q}% memory)...",
    "PACKER ERR 2020/05/05 22:{m:02d}:{s:02d} [INFO] {n} bytes written for 'stdout'",
    "PACKER ERR 2020/05/05 22:{m:02d}:{s:02d} packer-provisioner-powershell plugin: [INFO] RPC client: Communicator ended with: 0",
    "PACKER OUT     azure-arm: Installing package {n} of 4096: Microsoft.VisualStudio.Component.Workload.{p}...",
    "PACKER OUT     azure-arm: Directory: C:\\Program Files\\Contoso\\Agent\\lib\\{n}",
    "PACKER OUT     azure-arm: Mode                 LastWriteTime         Length Name",
    "PACKER OUT     azure-arm: -a----          5/5/2020  10:{m:02d} PM         {n} contoso-agent-{p}.dll",
    "PACKER OUT     azure-arm: Copying C:\\buildArtifacts\\payload\\{n}.cab to C:\\Windows\\Temp\\stage\\{n}.cab (100%)",
    "PACKER ERR 2020/05/05 22:{m:02d}:{s:02d} packer: 2020/05/05 22:{m:02d}:{s:02d} [DEBUG] WinRM shell {n} running command ok",
]

HEAD = (ROOT / "fixtures" / "logs" / "windows-sysprep-timing-failed.log").read_text(encoding="utf-8").splitlines(keepends=True)


def generate(path: Path) -> None:
    """The fixture's head up to the deprovisioning step, ~256 MB of bulk output, then its failing tail."""
    split = next(i for i, line in enumerate(HEAD) if "Found command:" in line) - 1
    head, tail = HEAD[:split], HEAD[split:]
    with path.open("w", encoding="utf-8") as out:
        out.writelines(head)
        written, n = sum(len(x) for x in head), 0
        batch: list[str] = []
        budget = SIZE - sum(len(x) for x in tail)
        while written < budget:
            line = f"[{OPID}] " + BULK[n % len(BULK)].format(m=(n // 60) % 60, s=n % 60, n=n, p=n % 97, q=n % 89) + "\n"
            batch.append(line)
            written += len(line)
            n += 1
            if len(batch) == 10_000:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))
        out.writelines(tail)


def literal_patterns() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from aib_doctor.core.catalog import load_catalog

    patterns = []
    for rule in load_catalog():
        for pattern in rule.patterns:
            if pattern.role in ("any", "all"):
                runs = re.findall(r"(?:\\.|[^\\^$.|?*+()\[\]{}])+", pattern.regex)
                literal = re.sub(r"\\(.)", r"\1", max(runs, key=len))
                patterns.append(re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\1", literal))
    return patterns


REDACT = (
    "import sys; from pathlib import Path; from aib_doctor.core.redact import redact_chunks; from aib_doctor.files import file_chunks\n"
    "for block in redact_chunks(file_chunks(Path(sys.argv[1]))): sys.stdout.buffer.write(block)"
)
"""What fetch-log --bundle and check's evidence do to a downloaded log, written to stdout (a file, like the others)."""


def timed(cmd: list[str]) -> tuple[float, int, int]:
    """Wall seconds, peak RSS in MB, exit code."""
    # Output goes to a real file: GNU grep notices /dev/null and stops at the first match.
    with tempfile.TemporaryFile() as sink:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
    return elapsed, usage.ru_maxrss // 1024, os.waitstatus_to_exitcode(status)


def main() -> int:
    OUT.mkdir(exist_ok=True)
    log = OUT / f"customization-{SIZE >> 20}mb.log"
    if not log.exists() or log.stat().st_size < SIZE * 0.99:
        print(f"generating {log} ...", flush=True)
        generate(log)
    patterns = OUT / "catalog-literals.txt"
    patterns.write_text("\n".join(literal_patterns()) + "\n", encoding="utf-8")
    analyze = [str(ROOT / ".venv" / "bin" / "aib-doctor"), "analyze", str(log), "-o", "json"]
    grep = ["grep", "-c", "-E", "-f", str(patterns), str(log)]
    timed(grep)  # warm the page cache so both read from memory
    code = timed(analyze)[2]
    if code != 1:
        print(f"aib-doctor analyze exited {code}, expected 1 (a diagnosed failure)")
        return 1
    redact = [str(ROOT / ".venv" / "bin" / "python"), "-c", REDACT, str(log)]
    aib = [timed(analyze) for _ in range(RUNS)]
    greps = [timed(grep) for _ in range(RUNS)]
    redacts = [timed(redact) for _ in range(RUNS)]
    aib_s = statistics.median(t for t, _, _ in aib)
    grep_s = statistics.median(t for t, _, _ in greps)
    redact_s = statistics.median(t for t, _, _ in redacts)
    result = {
        "log_mb": round(log.stat().st_size / 2**20),
        "patterns": len(patterns.read_text().splitlines()),
        "analyze_seconds": round(aib_s, 3),
        "grep_seconds": round(grep_s, 3),
        "ratio": round(aib_s / grep_s, 2),
        "analyze_peak_rss_mb": max(rss for _, rss, _ in aib),
        "bundle_redaction_seconds": round(redact_s, 3),
        "bundle_redaction_ratio": round(redact_s / grep_s, 2),
        "bundle_redaction_peak_rss_mb": max(rss for _, rss, _ in redacts),
        "targets": {"ratio": 4, "peak_rss_mb": 150},
    }
    (OUT / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
