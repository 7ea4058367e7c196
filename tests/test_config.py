"""Configuration layers: defaults < hgkm.toml < HGKM_* variables < options."""

from __future__ import annotations

import re
import tomllib
from dataclasses import fields, replace
from pathlib import Path

import pytest
from conftest import ROOT, run_hgkm

from hgkm.config import Config, ConfigError, load_config
from hgkm.limits import Limits, docs_table, load_limits, parse_limits
from hgkm.settings import resolve_paths


def write_toml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_missing_default_file_is_no_configuration(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config(environ={}) == Config()
    assert Config().data_dir == Path("data")
    assert Config().settle_seconds == 5.0
    assert Config().staleness_days == 120


def test_file_values_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    conf = write_toml(
        tmp_path / "hgkm.toml",
        'data_dir = "store"\ninbox = "/srv/inbox"\nstaleness_days = 90\nsettle_seconds = 2.5\n',
    )
    config = load_config(environ={}, file=conf)
    assert config.data_dir == tmp_path / "store"
    assert config.inbox == Path("/srv/inbox")
    assert config.staleness_days == 90
    assert config.settle_seconds == 2.5


def test_environment_over_file_and_options_over_both(tmp_path: Path) -> None:
    conf = write_toml(tmp_path / "c.toml", 'inbox = "a"\nsettle_seconds = 9\nlog_stderr = true\n')
    environ = {"HGKM_CONFIG": str(conf), "HGKM_INBOX": "/env/inbox", "HGKM_SETTLE_SECONDS": "3"}
    config = load_config(environ=environ)
    assert (config.inbox, config.settle_seconds, config.log_stderr) == (
        Path("/env/inbox"),
        3.0,
        True,
    )
    config = load_config({"inbox": Path("/opt/in"), "settle_seconds": None}, environ=environ)
    assert config.inbox == Path("/opt/in")
    assert config.settle_seconds == 3.0  # an option not given does not override


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('inbox = "x"\nsettle = 3\n', "unknown setting(s) settle"),
        ("staleness_days = 'soon'\n", "staleness_days = 'soon' is not valid"),
        ("settle_seconds = -1\n", "must not be negative"),
        ("log_stderr = 'maybe'\n", "expected true or false"),
        ("data_dir = [\n", "cannot read configuration file"),
    ],
)
def test_bad_files_are_named_errors(tmp_path: Path, text: str, message: str) -> None:
    conf = write_toml(tmp_path / "hgkm.toml", text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(environ={}, file=conf)


def test_an_explicit_config_file_that_is_missing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(environ={"HGKM_CONFIG": str(tmp_path / "missing.toml")})


def test_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="HGKM_STALENESS_DAYS"):
        load_config(environ={"HGKM_STALENESS_DAYS": "1.5x"})


def test_only_reads_the_settings_asked_for() -> None:
    config = load_config(
        environ={"HGKM_STALENESS_DAYS": "bad", "HGKM_DATA_DIR": "/d"}, only=frozenset({"data_dir"})
    )
    assert config.data_dir == Path("/d")


def test_resolve_paths_keeps_its_order(tmp_path: Path, monkeypatch) -> None:
    conf = write_toml(tmp_path / "hgkm.toml", 'data_dir = "from_file"\n')
    monkeypatch.setenv("HGKM_CONFIG", str(conf))
    monkeypatch.delenv("HGKM_DATA_DIR", raising=False)
    assert resolve_paths().data_dir == tmp_path / "from_file"
    monkeypatch.setenv("HGKM_DATA_DIR", "/from/env")
    assert resolve_paths().data_dir == Path("/from/env")
    assert resolve_paths("opt").data_dir == Path("opt")
    assert resolve_paths("opt").warehouse == Path("opt/warehouse.duckdb")


def test_cli_reports_a_bad_setting_as_usage_error(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    result = run_hgkm(
        "run",
        "--inbox",
        inbox,
        data_dir=tmp_path / "data",
        env={"HGKM_SETTLE_SECONDS": "soon"},
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "HGKM_SETTLE_SECONDS" in result.stderr


def test_cli_takes_the_inbox_from_hgkm_toml(tmp_path: Path) -> None:
    inbox = tmp_path / "drop"
    inbox.mkdir()
    write_toml(tmp_path / "hgkm.toml", 'inbox = "drop"\ndata_dir = "store"\n')
    result = run_hgkm("run", cwd=tmp_path, env={"HGKM_DATA_DIR": ""}, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"inbox {inbox}" in result.stdout
    assert (tmp_path / "store" / "logs" / "hgkm.jsonl").exists()


def test_every_setting_is_in_the_docs_table_and_the_example_file() -> None:
    docs = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    example = (ROOT / "deploy" / "hgkm.toml.example").read_text(encoding="utf-8")
    for setting in fields(Config):
        assert f"| `{setting.name}` | `HGKM_{setting.name.upper()}` |" in docs, setting.name
        assert re.search(rf"(?m)^{setting.name} = ", example), setting.name


def test_publish_is_auto_or_review(tmp_path: Path) -> None:
    assert (Config().publish, Config().run_on_upload) == ("auto", True)
    conf = write_toml(tmp_path / "hgkm.toml", 'publish = "review"\nrun_on_upload = false\n')
    config = load_config(environ={}, file=conf)
    assert (config.publish, config.run_on_upload) == ("review", False)
    assert load_config(environ={"HGKM_PUBLISH": "auto"}, file=conf).publish == "auto"
    write_toml(conf, 'publish = "later"\n')
    with pytest.raises(
        ConfigError, match=r"publish = 'later' is not valid \(expected auto or review\)"
    ):
        load_config(environ={}, file=conf)


def test_the_limits_table_in_the_docs_is_the_declared_one() -> None:
    docs = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert docs_table() in docs


def test_the_example_file_lists_every_limit_with_its_default(tmp_path: Path) -> None:
    example = (ROOT / "deploy" / "hgkm.toml.example").read_text(encoding="utf-8")
    assert load_config(environ={}, file=write_toml(tmp_path / "as_is.toml", example)).inbox
    _, limits = example.split("# [limits]\n")
    uncommented = "[limits]\n" + re.sub(r"(?m)^# (\w+ = )", r"\1", limits)
    table = tomllib.loads(uncommented)["limits"]
    assert sorted(table) == sorted(f.name for f in fields(Limits))
    assert parse_limits(table, "example") == Limits()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[limits]\nrowz = 5\n", "unknown limit(s) rowz"),
        ("[limits]\nrows = -5\n", "rows = -5 is not a positive integer"),
        ("[limits]\nrows = '5'\n", "is not a positive integer"),
        ("limits = 5\n", "limits must be a table"),
    ],
)
def test_bad_limits_are_named_errors(tmp_path: Path, text: str, message: str) -> None:
    conf = write_toml(tmp_path / "hgkm.toml", text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_limits(environ={}, file=conf)


def test_limits_not_set_keep_their_defaults(tmp_path: Path) -> None:
    conf = write_toml(tmp_path / "hgkm.toml", 'inbox = "x"\n[limits]\nrows = 5\n')
    assert load_limits(environ={}, file=conf) == replace(Limits(), rows=5)
    assert load_limits(environ={"HGKM_CONFIG": str(conf)}).rows == 5
