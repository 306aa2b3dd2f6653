"""Shared helpers: the packaged catalog, its pattern table, and one-call diagnosis of a text."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from aib_doctor.core.catalog import load_catalog
from aib_doctor.core.diagnose import diagnose
from aib_doctor.core.scan import pattern_table, scan_chunks, scan_text

# A CI run must not fail at random: the property tests draw the same examples every run. To explore new
# ones: HYPOTHESIS_PROFILE=explore .venv/bin/python -m pytest tests/test_reader_properties.py tests/test_scan.py
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def diagnose_source(source: str, text: str, status=None):
    catalog = load_catalog()
    table = pattern_table(catalog)
    if source == "customization.log":
        scan = scan_chunks(table, source, [text.encode("utf-8")])
    else:
        scan = scan_text(table, source, text)
    return diagnose([scan], catalog, table, status)


@pytest.fixture(scope="session", autouse=True)
def _cache_folder(tmp_path_factory):
    """The CLI keeps its compiled catalog in the user's cache folder: the tests' (subprocesses too) use one of their own."""
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if before is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = before


@pytest.fixture(scope="session")
def catalog():
    return load_catalog()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def azurite(tmp_path_factory):
    """A real Azurite blob server on 127.0.0.1 and a free port; yields its blob endpoint URL."""
    import shutil
    import socket
    import subprocess
    import time

    binary = ROOT / "node_modules" / ".bin" / "azurite-blob"
    if not binary.exists():
        raise RuntimeError("Azurite is not installed: run `make test`, which runs `npm install` first")
    port = _free_port()
    workdir = tmp_path_factory.mktemp("azurite")
    proc = subprocess.Popen(
        [
            str(binary),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--location",
            str(workdir),
            "--silent",
            "--skipApiVersionCheck",
            "--loose",
            "--disableTelemetry",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("Azurite did not start") from None
            time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}/devstoreaccount1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)


def pytest_collection_modifyitems(items):
    """Tests that need Azurite or mocked ARM are marked `azure`: `pytest -m "not azure"` runs the rest without Node."""
    for item in items:
        if {"azurite", "arm"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.azure)


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true", help="rewrite fixtures/corpus/**/*.expected.json (review the diff)")


@pytest.fixture
def arm(monkeypatch, azurite):
    """responses for ARM and Entra ID; Azurite and local servers pass through; env service principal; no SDK retries."""
    import responses
    from fake_azure import empty_container, mock_login, service_principal_env

    import aib_doctor.azure as azure_package

    service_principal_env(monkeypatch)
    monkeypatch.setattr(azure_package, "CLIENT_OPTIONS", {"retry_total": 0})
    empty_container(azurite)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_passthru("http://127.0.0.1")
        mock_login(rsps)
        yield rsps
