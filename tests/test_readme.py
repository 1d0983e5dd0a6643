"""The README documents what the code defines (schema, rules, checks, config, views)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import duckdb

from pmis_pipeline import schema, warehouse
from pmis_pipeline.definitions import defs
from pmis_pipeline.rules import RULES
from pmis_pipeline.settings import DEFAULT_CONFIG

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_schema_field_is_in_the_readme_table():
    for f in schema.FIELDS:
        assert f"| {f.key} | {f.header} | {f.kind} |" in README, f.key


def test_every_rule_and_check_is_documented():
    for rule in RULES:
        assert f"| `{rule.id}` |" in README, rule.id
    for rule in ("duplicate_ma_cb", "duplicate_across_units", "identity_drift"):
        assert f"| `{rule}` |" in README
    check_keys = defs.resolve_asset_graph().asset_check_keys
    assert len(check_keys) >= 9
    for key in check_keys:
        assert f"| `{key.name}` |" in README, key.name


def test_every_config_key_is_documented():
    config = tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    for section, values in config.items():
        assert f"`[{section}]`" in README, section
        for key in values:
            assert f"`{key}`" in README, f"{section}.{key}"


def test_every_view_is_documented():
    con = duckdb.connect()
    con.execute(warehouse.ddl())
    views = [v for (v,) in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main'").fetchall()]
    assert len(views) >= 8
    for view in views:
        assert f"| `{view}` |" in README, view
