"""Run configuration: validation lists every problem; manifests reload as configs."""

from __future__ import annotations

import json

import pytest

from planner.config import RunConfig, config_from_mapping, load_config
from planner.errors import ConfigError, PlannerError


def test_defaults_use_sample_city():
    cfg = RunConfig()
    assert cfg.uses_sample_city
    assert cfg.fdr == "bh" and cfg.q == 0.05


def test_every_problem_is_listed():
    with pytest.raises(ConfigError) as info:
        config_from_mapping({"q": 2, "cell_size_m": -5, "fdr": "holm", "bogus": 1})
    text = str(info.value)
    for word in ("q", "cell_size_m", "fdr", "bogus"):
        assert word in text
    assert isinstance(info.value, PlannerError)


def test_manifest_round_trip(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"planner_version": "0.1.0", "config": {"cell_size_m": 150.0, "q": 0.1}}))
    cfg = load_config(path)
    assert cfg.cell_size_m == 150.0 and cfg.q == 0.1
    cfg2 = load_config(path, budget=1000.0)
    assert cfg2.budget == 1000.0


def test_bad_file_is_clear(tmp_path):
    bad = tmp_path / "c.toml"
    bad.write_text("cell_size_m = [")
    with pytest.raises(ConfigError, match="could not be parsed"):
        load_config(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml")
