"""Logs built to size for the tail and watch tests: a Windows build that ran into its timeout while Windows Update ran."""

from __future__ import annotations

OPID = "922bdf36-b53c-4e78-9cd8-6b70b9674685"


def line(clock: str, text: str, day: str = "2025/04/08") -> bytes:
    return f"[{OPID}] PACKER {day} {clock} {text}\n".encode()


def head() -> bytes:
    return b"".join(
        [
            line("10:01:02", "[INFO] Packer version: 1.9.4 [go1.20.7 linux amd64]"),
            line("10:09:40", "ui: ==> azure-arm: Connected to WinRM!"),
            line("10:09:41", "[INFO] (telemetry) Starting provisioner powershell"),
        ]
    )


def filler(
    megabytes: float, clock: str = "10:30:00", text: str = "ui:     azure-arm: Installing package 0042 of 4096: Contoso.Agent.Component ... done"
) -> bytes:
    one = line(clock, text)
    return one * int(megabytes * (1 << 20) // len(one))


def windows_update_start() -> bytes:
    return line("11:40:00", "[INFO] (telemetry) ending powershell") + line("11:40:01", "[INFO] (telemetry) Starting provisioner windows-update")


def progress(megabytes: float) -> bytes:
    return filler(megabytes, "13:58:40", "ui:     azure-arm: Waiting for operation to complete (system performance: 97% cpu; 71% memory)...")


def cancelled() -> bytes:
    return line("13:59:10", "ui error: Cancelling build after receiving terminated") + line(
        "13:59:10", "Cancelling builder after context cancellation context canceled"
    )


def timed_out_log(megabytes: int, last_step_megabytes: int) -> bytes:
    """`megabytes` in all; Windows Update starts `last_step_megabytes` before the end and runs until the cancel at 3 h 58 min."""
    body = filler(megabytes - last_step_megabytes)
    return head() + body + windows_update_start() + progress(last_step_megabytes) + cancelled()
