"""`make bench`: start-up, and `aib-doctor analyze` against `grep -E -c` on the same logs, with peak memory.

Three generated logs, each a real Windows build (the Sysprep timing fixture) whose failure is in its
last lines, stretched by bulk output in the middle:
  - 256 MiB of quiet output (Azure polling, file copies, Packer debug lines);
  - 64 MiB of error-heavy output: three lines in eight (~170,000) carry error words that are not failures
    (Windows Update's CBS, apt, msiexec, retried requests), as real update and installer logs do;
  - 1 GiB: the quiet log's bulk four times.
grep gets the catalog's literal patterns (the longest literal run of every rule pattern) as one -E
pattern list, and as a stricter reference only the 25 longest of them (grep slows down as the list
grows; the catalog keeps growing); its count of matching lines is printed, so its work is not
discarded. Start-up is a one-line `analyze` and `--help`. All commands of a row run interleaved
after a warm-up; medians and their ratios are reported, never asserted (the machine may be
shared: compare ratios from one run).

    make bench                                      # everything
    BENCH_ONLY=startup,256 make bench               # some rows (startup, 256, errors, 1024)
    BENCH_BASE=/other/venv/bin/aib-doctor make bench  # also another install (a base revision's), interleaved
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
AIB = str(ROOT / ".venv" / "bin" / "aib-doctor")
BASE = os.environ.get("BENCH_BASE")
"""Another install of aib-doctor (a base revision's) measured in the same rounds, for before/after ratios."""
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "startup,256,errors,1024").split(",")))
OPID = "922bdf36-b53c-4e78-9cd8-6b70b9674685"
MiB = 1 << 20

QUIET = [
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
# Error words that are not failures: every second line of this list matches the scan's error-looking pattern.
NOISY = [
    "PACKER OUT     azure-arm: 2020-05-05 22:{m:02d}:{s:02d}, Info                  CBS    Failed to get session package state for KB50{n:05d} [HRESULT = 0x80070490 - ERROR_NOT_FOUND]",
    "PACKER OUT     azure-arm: Installing package {n} of 4096: Microsoft.VisualStudio.Component.Workload.{p}...",
    "PACKER OUT     azure-arm: Unpacking libgpg-error0:amd64 (1.38-2ubuntu{p}) over (1.38-2) ...",
    "PACKER OUT     azure-arm: Copying C:\\buildArtifacts\\payload\\{n}.cab to C:\\Windows\\Temp\\stage\\{n}.cab (100%)",
    "PACKER OUT     azure-arm: MSI (s) (A4:{q:02d}) [22:{m:02d}:{s:02d}:{p:03d}]: Note: 1: 2205 2:  3: Error 4: SELECT `Message` FROM `Error` WHERE `Error` = 1709",
    "PACKER OUT     azure-arm: Waiting for operation to complete (system performance: {p}% cpu; {q}% memory)...",
    "PACKER ERR 2020/05/05 22:{m:02d}:{s:02d} [DEBUG] Retryable error: GET https://management.azure.com/providers/Microsoft.Compute/locations/westus/operations/{n} returned 429, retrying",
    "PACKER OUT     azure-arm: -a----          5/5/2020  10:{m:02d} PM         {n} contoso-agent-{p}.dll",
]

HEAD = (ROOT / "fixtures" / "logs" / "windows-sysprep-timing-failed.log").read_text(encoding="utf-8").splitlines(keepends=True)


def generate(path: Path, size: int, templates: list[str], repeat: int = 1) -> None:
    """The fixture's head up to the deprovisioning step, bulk lines, then its failing tail; the bulk
    written `repeat` times (a 1 GiB log is the 256 MiB one's bulk, four times)."""
    split = next(i for i, line in enumerate(HEAD) if "Found command:" in line) - 1
    head, tail = HEAD[:split], HEAD[split:]
    bulk_path = path.with_suffix(".bulk")
    with bulk_path.open("w", encoding="utf-8") as out:
        written, n = 0, 0
        budget = size // repeat - sum(len(x) for x in head + tail)
        batch: list[str] = []
        while written < budget:
            line = f"[{OPID}] " + templates[n % len(templates)].format(m=(n // 60) % 60, s=n % 60, n=n, p=n % 97, q=n % 89) + "\n"
            batch.append(line)
            written += len(line)
            n += 1
            if len(batch) == 10_000:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))
    with path.open("wb") as out:
        out.write("".join(head).encode())
        for _ in range(repeat):
            with bulk_path.open("rb") as bulk:
                shutil.copyfileobj(bulk, out, 16 * MiB)
        out.write("".join(tail).encode())
    bulk_path.unlink()


def log_file(name: str, size: int, templates: list[str], repeat: int = 1) -> Path:
    path = OUT / name
    if not path.exists() or path.stat().st_size < size * 0.99:
        print(f"generating {path.relative_to(ROOT)} ...", flush=True)
        generate(path, size, templates, repeat)
    return path


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


class Run:
    def __init__(self, seconds: float, rss_mb: float, code: int, out: bytes) -> None:
        self.seconds, self.rss_mb, self.code, self.out = seconds, rss_mb, code, out


# Measured as users run it: with Python's bytecode cache, even when the shell that runs the bench turns it off.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd: list[str]) -> Run:
    # Output goes to a real file: GNU grep notices /dev/null and stops at the first match.
    with tempfile.TemporaryFile() as sink:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.DEVNULL, env=ENV)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        sink.seek(0)
        out = sink.read()
    return Run(elapsed, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), out)


def interleaved(commands: list[list[str]], runs: int) -> list[list[Run]]:
    """Each command once to warm up (page cache, compiled catalog), then `runs` rounds, one of each per round."""
    for cmd in commands:
        timed(cmd)
    rounds = [[timed(cmd) for cmd in commands] for _ in range(runs)]
    return [[r[i] for r in rounds] for i in range(len(commands))]


def median(runs: list[Run]) -> float:
    return statistics.median(r.seconds for r in runs)


def show(cmd: list[str]) -> str:
    return " ".join(str(Path(c).relative_to(ROOT)) if c.startswith(str(ROOT)) else c for c in cmd)


def against_grep(label: str, log: Path, greps: list[list[str]], runs: int, expect: Callable[[Run], str | None]) -> None:
    analyzers = [[cmd, "analyze", str(log), "-o", "json"] for cmd in [AIB, *([BASE] if BASE else [])]]
    results = interleaved([*analyzers, *[grep + [str(log)] for grep in greps]], runs)
    mine, greps_runs = results[0], results[len(analyzers) :]
    problem = expect(mine[0])
    print(f"\n{label}: {log.name} ({log.stat().st_size / MiB:,.0f} MiB, {runs} interleaved runs of each){'  ' + problem if problem else ''}")
    for cmd, res in zip(analyzers, results, strict=False):
        print(f"  {show(cmd)}: median {median(res):.2f} s, peak RSS {max(r.rss_mb for r in res):.0f} MiB, exit {res[0].code}")
    for grep, res in zip(greps, greps_runs, strict=True):
        print(f"  {show(grep)} {log.name}: median {median(res):.2f} s, counted {res[0].out.decode().strip()} lines")
    for name, res in zip(("grep, all literals", "grep, 25 longest"), greps_runs, strict=True):
        print(f"  ratio analyze / {name}: {median(mine) / median(res):.2f}")
    if BASE:
        print(f"  ratio analyze / base analyze: {median(mine) / median(results[1]):.2f}")


def diagnosed_sysprep(run: Run) -> str | None:
    if run.code != 1 or b'"rule": "AIB012"' not in run.out:
        return f"WRONG ANSWER: exit {run.code}, expected 1 with AIB012 (deprovision.sysprep-timing) as the primary"
    return None


def startup(runs: int) -> None:
    one_line = OUT / "one-line.txt"
    one_line.write_text("ERROR: (SkuNotAvailable) The requested VM size Standard_D2s_v3 is not available in location westus.\n")
    python = [str(ROOT / ".venv" / "bin" / "python"), "-c", "pass"]
    commands = [
        [cmd, *args] for cmd in [AIB, *([BASE] if BASE else [])] for args in (["analyze", str(one_line)], ["analyze", str(one_line), "-o", "json"], ["--help"])
    ]
    results = interleaved([*commands, python], runs * 3)
    print(f"start-up (target: at most 0.2 s; {runs * 3} interleaved runs of each):")
    for cmd, res in zip([*commands, python], results, strict=True):
        print(f"  {show(cmd):66s} median {median(res):.3f} s, peak RSS {max(r.rss_mb for r in res):.0f} MiB")
    if BASE:
        for index in range(3):
            print(
                f"  ratio {' '.join(commands[index][1:2])} {'-o json' if index == 1 else ''} / base: {median(results[index]) / median(results[index + 3]):.2f}"
            )


def main() -> int:
    OUT.mkdir(exist_ok=True)
    patterns = OUT / "catalog-literals.txt"
    literals = literal_patterns()
    patterns.write_text("\n".join(literals) + "\n", encoding="utf-8")
    longest = OUT / "catalog-literals-25.txt"
    longest.write_text("\n".join(sorted(set(literals), key=len, reverse=True)[:25]) + "\n", encoding="utf-8")
    grep = [["grep", "-c", "-E", "-f", str(patterns)], ["grep", "-c", "-E", "-f", str(longest)]]
    print(f"grep: {show(grep[0])} LOG   ({len(literals)} literal patterns, one per catalog pattern)")
    print(f"      {show(grep[1])} LOG   (the 25 longest of them)")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}\n")
    if "startup" in ONLY:
        startup(RUNS)
    if "256" in ONLY:
        against_grep("quiet log", log_file("customization-256mb.log", 256 * MiB, QUIET), grep, RUNS, diagnosed_sysprep)
    if "errors" in ONLY:
        against_grep("error-heavy log", log_file("customization-errors-64mb.log", 64 * MiB, NOISY), grep, RUNS, diagnosed_sysprep)
    if "1024" in ONLY:
        against_grep("1 GiB log", log_file("customization-1gb.log", 1024 * MiB, QUIET, repeat=4), grep, max(RUNS - 1, 1), diagnosed_sysprep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
