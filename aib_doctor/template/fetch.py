"""`fetch-log`: write run logs to files, or a redacted bundle that `analyze DIR` reads back."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

from aib_doctor.core.inputs import template_status
from aib_doctor.core.redact import redact
from aib_doctor.files import make_private_folder, refuse_to_overwrite, write_atomic
from aib_doctor.template.diagnosis import LocatedLog, save_logs
from aib_doctor.template.ports import Progress


def _hook(progress, label: str) -> Progress | None:
    """A callback that moves a rich progress bar (None on a pipe: no bar)."""
    if progress is None:
        return None
    task = progress.add_task(label, total=None)
    return lambda done, total: progress.update(task, completed=done, total=total)


def fetch_logs(name: str, located: LocatedLog, output: Path | None, every_run: bool, force: bool, progress) -> list[tuple[Path, int]]:
    """Single run: one file (default <template>-customization.log). --run all: <folder>/<run>/<log>."""
    written = []
    if not every_run:
        run = located.selected[0]
        target = output or Path(f"{name}-customization.log")
        refuse_to_overwrite(target, force)
        size = located.store.download(run.logs[0], target, _hook(progress, run.logs[0]))
        return [(target, size)]
    folder = output or Path(f"{name}-logs")
    for run in located.selected:
        (folder / run.folder).mkdir(mode=0o700, parents=True, exist_ok=True)
        for blob in run.logs:
            target = folder / blob  # run folders are checked to be plain names: nothing escapes the folder
            refuse_to_overwrite(target, force)
            written.append((target, located.store.download(blob, target, _hook(progress, blob))))
    return written


def write_bundle(folder: Path, document: dict, located: LocatedLog, force: bool, progress) -> list[tuple[Path, int]]:
    """template.json, status.json and the selected run's logs at the top; with several runs, runs/<run>/ too."""
    make_private_folder(folder, force)
    written = []
    text = redact(json.dumps(document, indent=2, default=str)) + "\n"
    written.append((folder / "template.json", write_atomic(folder / "template.json", [text.encode()])))
    status = json.dumps(asdict(template_status(document)), indent=2) + "\n"
    written.append((folder / "status.json", write_atomic(folder / "status.json", [redact(status).encode()])))
    first, *others = located.selected
    places = [(first, folder)] + [(run, folder / "runs" / run.folder) for run in others]
    for run, place in places:
        place.mkdir(mode=0o700, parents=True, exist_ok=True)
        save_logs(replace(located, selected=[run]), place, lambda blob: _hook(progress, blob))
        written += [(place / blob.rsplit("/", 1)[-1], (place / blob.rsplit("/", 1)[-1]).stat().st_size) for blob in run.logs]
    return written
