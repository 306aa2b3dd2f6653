"""The package as a user gets it: `python -m build` makes an sdist and a wheel that carry the rule data, and the
wheel installed into a fresh venv runs `aib-doctor analyze` and `--version`.

No network: the build uses the test venv's setuptools (--no-isolation), the wheel is installed with --no-deps
--no-index, and the fresh venv sees the test venv's dependencies through a .pth line (the dependencies are not
what is under test; the package's own files and entry point are).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT

from aib_doctor import __version__

pytestmark = pytest.mark.packaging

RULE_DATA = ("aib_doctor/core/catalog/rules/log.yaml", "aib_doctor/core/catalog/vocabulary/")


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # The wheel is built from the unpacked sdist (build's default), so a file the sdist lacks is missing from the wheel too.
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)], check=True, capture_output=True, timeout=300)
    return out


def test_sdist_and_wheel_carry_the_rule_data(dist):
    (wheel,) = dist.glob(f"aib_doctor-{__version__}-py3-none-any.whl")
    (sdist,) = dist.glob(f"aib_doctor-{__version__}.tar.gz")
    wheel_names = zipfile.ZipFile(wheel).namelist()
    sdist_names = [name.split("/", 1)[1] for name in tarfile.open(sdist).getnames() if "/" in name]
    for names in (wheel_names, sdist_names):
        for data in RULE_DATA:
            assert any(name.startswith(data) for name in names), data
    assert not any(name.startswith("tests/") for name in wheel_names)
    metadata = zipfile.ZipFile(wheel).read(f"aib_doctor-{__version__}.dist-info/METADATA").decode()
    assert f"Version: {__version__}\n" in metadata and "Requires-Dist: typer" in metadata


def test_the_wheel_installs_into_a_fresh_venv_and_runs(dist, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    (wheel,) = dist.glob("*.whl")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    fresh_site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True)
    Path(fresh_site.stdout.strip(), "test-venv-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    script = venv / "bin" / "aib-doctor"

    version = subprocess.run([str(script), "--version"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert (version.returncode, version.stdout) == (0, f"aib-doctor {__version__}\n")
    where = subprocess.run([str(python), "-c", "import aib_doctor; print(aib_doctor.__file__)"], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert where.stdout.startswith(str(venv)), where.stdout  # the installed copy, not the source tree
    log = FIXTURES / "logs" / "windows-sysprep-timing-failed.log"
    result = subprocess.run([str(script), "analyze", str(log), "-o", "json"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["primary"]["name"] == "deprovision.sysprep-timing"


def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of each Dockerfile line, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    return [tuple(line.split(None, 1)) for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_the_container_image_is_slim_and_runs_as_a_user():
    instructions = _dockerfile()
    assert all(args.startswith("python:") and "-slim" in args.split()[0] for op, args in instructions if op == "FROM")
    final = instructions[max(i for i, (op, _) in enumerate(instructions) if op == "FROM") :]
    user = [args for op, args in final if op == "USER"]
    assert user and not user[-1].startswith(("root", "0")), "the final stage runs as a user, not root"
    assert ("ENTRYPOINT", '["aib-doctor"]') in final


def test_the_files_the_dockerfile_copies_are_enough_to_build_the_wheel(tmp_path):
    """Docker is not needed to check its build stage: the same files, the same `pip wheel`, offline."""
    copied = [name for args in (a for op, a in _dockerfile() if op == "COPY" and not a.startswith("--from")) for name in args.split()[:-1]]
    source = tmp_path / "src"
    source.mkdir()
    for name in copied:
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, source / name)
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert "*" in ignored and {f"!{name.rstrip('/')}" for name in copied} <= {entry.rstrip("/") for entry in ignored}
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", str(tmp_path / "wheels"), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = (tmp_path / "wheels").glob("*.whl")
    assert any(name.startswith(RULE_DATA[0]) for name in zipfile.ZipFile(wheel).namelist())
