"""The exceptions the core raises; only the cli package turns them into a message and an exit code."""

from aib_doctor.exitcodes import ExitCode


class AibDoctorError(Exception):
    """Base of every error aib-doctor reports as one line."""

    exit_code = ExitCode.INTERNAL


class InputError(AibDoctorError):
    """The input cannot be read or is not something aib-doctor understands."""

    exit_code = ExitCode.USAGE


class CatalogError(AibDoctorError):
    """A rule in the catalog is malformed: a bug in aib-doctor, not in the user's input."""

    exit_code = ExitCode.INTERNAL


class RulePackError(InputError):
    """A user's rule pack (--rules DIR) is malformed: exit 2, with the file and line of the mistake."""


class AzureAccessError(AibDoctorError):
    """Azure or the log could not be reached: auth, permission, not found, network."""

    exit_code = ExitCode.UNAVAILABLE


class LogUnavailable(AzureAccessError):
    """The log cannot be had: the staging group or its storage is gone, or no run has written one yet."""


class OutputError(AibDoctorError):
    """What the user asked for cannot be written: a full disk, a read-only folder, no permission."""

    exit_code = ExitCode.USAGE
