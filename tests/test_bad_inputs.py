"""Bad input and a broken environment: one clear line and exit 2 (or the documented code), never exit 5.

The cases are scripts/bad_inputs.py's (its table goes into the issue's closing note). Cases that need a real
process (closed stdin or stdout, /dev/full, a pipe closed by `head -1`) run as one; the rest in-process."""

from __future__ import annotations

import errno
import sys

import pytest
from conftest import ROOT
from typer.testing import CliRunner

from aib_doctor.cli import app

sys.path.insert(0, str(ROOT / "scripts"))
import bad_inputs  # noqa: E402

CASES = bad_inputs.cases(huge_mb=1)
runner = CliRunner()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_input_is_one_line_and_its_exit_code(case, tmp_path, monkeypatch):
    if case.stdin is None or case.stdout != "capture":
        code, err = bad_inputs.run(case, tmp_path)
    else:
        bad_inputs._materialize(case, tmp_path)
        monkeypatch.chdir(tmp_path)
        result = runner.invoke(app, list(case.argv), input=case.stdin)
        code, err = result.exit_code, result.stderr
    assert code == case.expected, err
    assert "internal error" not in err and "Traceback" not in err
    assert err.count("\n") <= 1, err
    if case.expected == 2:
        assert err.startswith("aib-doctor: ")


def test_a_closed_pipe_is_quiet_and_keeps_the_exit_code(tmp_path):
    case = next(c for c in CASES if c.name == "rules | head -1")
    assert bad_inputs.run(case, tmp_path) == (0, "")


def test_the_200mb_line_case_exists_in_the_script():
    assert any(c.name.startswith("200 MB") for c in bad_inputs.cases())


def test_a_write_error_on_a_file_asked_for_is_exit_2(tmp_path, monkeypatch):
    import aib_doctor.cli.offline as cli

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "out.log"))

    monkeypatch.setattr(cli, "catalog_with_packs", disk_full)
    result = runner.invoke(app, ["rules"])
    assert result.exit_code == 2 and result.stderr == f"aib-doctor: {tmp_path / 'out.log'}: no space left on device\n"
