"""The catalog's compiled form: read from the store only when built from exactly these sources and this loader."""

from __future__ import annotations

import pickle

import pytest

from aib_doctor.cache import KEPT, UserCache
from aib_doctor.core import catalog as catalog_module
from aib_doctor.core.catalog import compiled_catalog, packaged_sources, parse_catalog


class MemoryStore:
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def put(self, key: str, data: bytes) -> None:
        self.data[key] = data


def _refuse_to_parse(sources):
    raise AssertionError("parsed the YAML although the store had it")


def test_a_stored_catalog_is_used_and_equals_the_parsed_one(monkeypatch):
    store = MemoryStore()
    parsed = compiled_catalog(packaged_sources(), store)
    assert len(store.data) == 1
    monkeypatch.setattr(catalog_module, "parse_catalog", _refuse_to_parse)
    stored = compiled_catalog(packaged_sources(), store)
    assert stored.rules == parsed.rules and stored.get("AIB012") == parsed.get("deprovision.sysprep-timing")


def test_a_changed_or_added_source_is_parsed_again():
    store = MemoryStore()
    sources = packaged_sources()
    first = compiled_catalog(sources, store)
    name, data = sources[0]
    edited = [(name, data.replace(b"priority: 0", b"priority: 1", 1)), *sources[1:]]
    second = compiled_catalog(edited, store)
    assert len(store.data) == 2 and second.rules != first.rules
    pack = [*sources, ("org-pack.yaml", b"[]\n")]  # a rule pack is one more source: another key
    compiled_catalog(pack, store)
    assert len(store.data) == 3


def test_a_damaged_store_entry_is_rebuilt_and_replaced():
    store = MemoryStore()
    compiled_catalog(packaged_sources(), store)
    (key,) = store.data
    store.data[key] = b"not a pickle"
    assert compiled_catalog(packaged_sources(), store).rules == parse_catalog(packaged_sources()).rules
    assert store.data[key] != b"not a pickle"


def test_the_loader_itself_is_part_of_what_is_compared(monkeypatch):
    store = MemoryStore()
    compiled_catalog(packaged_sources(), store)
    original = catalog_module.Path.read_bytes

    def edited_loader(path):
        data = original(path)
        return data + b"\n# changed" if path.name == "__init__.py" and path.parent.name == "catalog" else data

    monkeypatch.setattr(catalog_module.Path, "read_bytes", edited_loader)
    compiled_catalog(packaged_sources(), store)
    assert len(store.data) == 2


def test_an_entry_under_the_same_name_built_from_other_inputs_is_rebuilt():
    """Two inputs with one checksum: the entry holds what it was built from, and that is compared, not the name."""
    store = MemoryStore()
    compiled_catalog(packaged_sources(), store)
    (key,) = store.data
    built_from, rules = pickle.loads(store.data[key])
    store.data[key] = pickle.dumps((built_from.replace(b"priority: 0", b"priority: 1", 1), rules[1:]))
    assert compiled_catalog(packaged_sources(), store).rules == parse_catalog(packaged_sources()).rules
    assert pickle.loads(store.data[key])[0] == built_from


def test_user_cache_is_private_prunes_and_never_fails(tmp_path):
    cache = UserCache(tmp_path / "cache")
    assert cache.get("missing") is None
    for n in range(KEPT + 3):
        cache.put(f"catalog-{n}", b"x" * n)
    files = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(files) == KEPT and (tmp_path / "cache" / f"catalog-{KEPT + 2}").read_bytes() == b"x" * (KEPT + 2)
    assert ((tmp_path / "cache").stat().st_mode & 0o777) == 0o700
    assert ((tmp_path / "cache" / f"catalog-{KEPT + 2}").stat().st_mode & 0o777) == 0o600
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    UserCache(blocked / "cache").put("catalog-x", b"data")  # cannot be written: only costs the rebuild
    assert UserCache(blocked / "cache").get("catalog-x") is None


@pytest.mark.parametrize("args", [["analyze", "-"], ["rules", "AIB012"]])
def test_the_cli_fills_the_cache_folder(args, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from aib_doctor.cli import app

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    catalog_module.load_catalog.cache_clear()
    result = CliRunner().invoke(app, args, input="ERROR: (SkuNotAvailable) The requested size is not available\n")
    assert result.exit_code in (0, 1), result.stderr
    assert [p.name[:8] for p in (tmp_path / "aib-doctor").iterdir()] == ["catalog-"]
