"""The optional config file: settings in TOML that stand in for options not given on the command line or in the environment.

Precedence is flag > environment variable > config file > built-in default. The file is
`$AIB_DOCTOR_CONFIG`, else `config.toml` in the platform's config folder (platformdirs:
~/.config/aib-doctor on Linux). A top-level key sets that option for every command that has it;
a table named after a command sets it for that command only:

    auth-mode = "key"
    rules = ["/etc/aib-doctor/rules"]

    [check]
    state = "/var/lib/aib-doctor"

Keys are the long option names without the dashes. The result is a click `default_map`, which click
consults after the command line and the environment and before the default: the precedence above.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aib_doctor.errors import InputError

CONFIG_ENV = "AIB_DOCTOR_CONFIG"


def config_path() -> tuple[Path, bool]:
    """The config file and whether the user named it (a named file must exist; the default one may not)."""
    named = os.environ.get(CONFIG_ENV)
    if named:
        return Path(named), True
    import platformdirs

    return platformdirs.user_config_path("aib-doctor") / "config.toml", False


def read_config(path: Path, required: bool) -> dict[str, Any]:
    if not path.is_file():
        if required:
            raise InputError(f"{path}: no such config file (named by {CONFIG_ENV})")
        return {}
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the config file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None


def default_map(config: Mapping[str, Any], options: Mapping[str, Mapping[str, tuple[str, bool]]], origin: Path) -> dict[str, dict[str, Any]]:
    """Per command, parameter name -> value, from `config`. `options` maps each command's long option names (without
    dashes) to (parameter name, repeatable); a key no command knows is a mistake, named with the file."""
    result: dict[str, dict[str, Any]] = {name: {} for name in options}
    known = {key for names in options.values() for key in names}

    def put(command: str, key: str, value: Any) -> None:
        param, repeatable = options[command][key]
        result[command][param] = [value] if repeatable and not isinstance(value, list) else value

    # Top-level keys first, so that a command's own table overrides them.
    for key, value in sorted(config.items(), key=lambda item: isinstance(item[1], dict)):
        if isinstance(value, dict) and key in options:
            for inner, inner_value in value.items():
                if inner not in options[key]:
                    raise InputError(f"{origin}: [{key}] has no setting {inner!r} (known: {', '.join(sorted(options[key]))})")
                put(key, inner, inner_value)
        elif key in known:
            for command, names in options.items():
                if key in names:
                    put(command, key, value)
        else:
            raise InputError(f"{origin}: unknown setting {key!r} (known: {', '.join(sorted(known))}, or a table per command)")
    return {command: values for command, values in result.items() if values}
