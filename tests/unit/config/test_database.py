"""Where an exchange keeps its files (config/database.py): beside its SQLite database, or
under onceonly-data for a server database."""

from __future__ import annotations

from onceonly.config import beside_database


def test_an_exchanges_files_are_named_after_its_database(tmp_path, monkeypatch):
    assert beside_database(f"sqlite:///{tmp_path}/d.sqlite", "stores") == tmp_path / "d.stores"
    assert beside_database(f"sqlite:///{tmp_path}/wt.db", "master-keys.json") \
        == tmp_path / "wt.master-keys.json"
    monkeypatch.chdir(tmp_path)
    assert beside_database("postgresql+psycopg://postgres@127.0.0.1/test", "tokens.txt") \
        == tmp_path / "onceonly-data" / "tokens.txt"
