"""What `watch` shows of a running build: plain lines for what changed (pipes, CI), or a live panel (a terminal)."""

from __future__ import annotations

from rich.text import Text

from aib_doctor.model import WatchPoll
from aib_doctor.render.text_report import humanize_seconds


def watch_status(poll: WatchPoll) -> str:
    """Runstate, elapsed time against the timeout, the customizer in progress and the log read so far."""
    parts = [poll.phase, f"elapsed {humanize_seconds(poll.elapsed_seconds)} of {poll.timeout_minutes} min"]
    if poll.customizer:
        parts.append(f"{poll.customizer} for {humanize_seconds(poll.customizer_seconds)}")
    if poll.log_size is not None:
        parts.append(f"log {poll.log_size:,} bytes (+{poll.bytes_read:,} read)")
    else:
        parts.append("no log yet")
    return " | ".join(parts)


def watch_lines(poll: WatchPoll, previous: WatchPoll | None) -> list[str]:
    """One line per change: notes, the status when the phase, the customizer or the log changed, new log lines, warnings."""
    time = poll.at[11:19]
    lines = [f"{time} {note}" for note in poll.notes]
    changed = previous is None or (poll.phase, poll.customizer) != (previous.phase, previous.customizer) or poll.bytes_read > 0
    if changed:
        lines.append(f"{time} {watch_status(poll)}")
    lines += [f"{time}   | {line}" for line in poll.lines]
    lines += [f"{time} warning: {warning}" for warning in poll.warnings]
    return lines


def watch_panel(poll: WatchPoll, recent: list[str]) -> Text:
    """The live display: the status line and the newest log lines."""
    out = Text()
    out.append(f"{poll.at[11:19]} ", style="dim")
    out.append(watch_status(poll) + "\n", style="bold")
    for line in recent:
        out.append(f"  | {line}\n", style="dim")
    return out
