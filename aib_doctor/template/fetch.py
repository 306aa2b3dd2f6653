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
    """template.json, status.json and the selected run's logs at the top; with several runs, runs/<run>/ too.

    A bundle that fails part-way (disk full, a download that breaks) leaves nothing behind: what it wrote is removed,
    and the folder too when it made it."""
    existed = folder.exists()
    make_private_folder(folder, force)
    written: list[tuple[Path, int]] = []
    made: list[Path] = []
    try:
        text = redact(json.dumps(document, indent=2, default=str)) + "\n"
        written.append((folder / "template.json", write_atomic(folder / "template.json", [text.encode()])))
        status = json.dumps(asdict(template_status(document)), indent=2) + "\n"
        written.append((folder / "status.json", write_atomic(folder / "status.json", [redact(status).encode()])))
        first, *others = located.selected
        places = [(first, folder)] + [(run, folder / "runs" / run.folder) for run in others]
        for run, place in places:
            made += [p for p in (place.parent, place) if p != folder.parent and not p.exists()]
            place.mkdir(mode=0o700, parents=True, exist_ok=True)
            logs = [place / blob.rsplit("/", 1)[-1] for blob in run.logs]
            try:
                save_logs(replace(located, selected=[run]), place, lambda blob: _hook(progress, blob))
            finally:
                written += [(log, log.stat().st_size) for log in logs if log.exists()]
    except BaseException:
        for path, _ in written:
            path.unlink(missing_ok=True)
        for place in sorted(set(made), key=lambda p: len(p.parts), reverse=True):
            if place.exists() and not any(place.iterdir()):
                place.rmdir()
        if not existed and folder.exists() and not any(folder.iterdir()):
            folder.rmdir()
        raise
    return written
