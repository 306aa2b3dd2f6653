"""A fleet check in its own process for the kill test: 40 failed templates, diagnosed slowly unless 'fast'."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import responses  # noqa: E402

from aib_doctor.fleet.check import Diagnosed, Scope, run_check  # noqa: E402
from aib_doctor.fleet.state import StateStore  # noqa: E402
from aib_doctor.model import Finding, Report, Subject, TemplateSummary, Timeline  # noqa: E402


def main() -> int:
    folder, fast = Path(sys.argv[1]), len(sys.argv) > 2
    rows = [
        TemplateSummary(
            f"/subscriptions/s/resourceGroups/rg/providers/Microsoft.VirtualMachineImages/imageTemplates/t{n:02d}",
            f"t{n:02d}",
            "rg",
            "s",
            "Failed",
            None,
            None,
            "Missing field 'identity'",
        )
        for n in range(40)
    ]

    def diagnose(summary):
        if not fast:
            time.sleep(0.1)
        finding = Finding("AIB024", "template.identity-missing", "template_invalid", "error", "t", "c", "f", (), ())
        return Diagnosed(Report("failed", Subject(), finding, (finding,), Timeline()))

    with responses.RequestsMock():  # nothing here may touch the network
        with StateStore(folder, wait_seconds=30) as store:
            result = run_check(Scope(("s",)), lambda: (rows, "test"), diagnose, store)
    return 0 if len(result.outcomes) == 40 else 1


if __name__ == "__main__":
    sys.exit(main())
