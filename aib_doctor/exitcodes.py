"""Exit codes shared by every command (the table is in the README and in `--help`); cron wrappers `case` on them."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    DIAGNOSED = 1
    USAGE = 2
    UNDIAGNOSED = 3
    UNAVAILABLE = 4
    INTERNAL = 5
    INTERRUPTED = 130
