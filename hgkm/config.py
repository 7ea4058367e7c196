"""The job's settings: defaults < the optional hgkm.toml < HGKM_* variables < options.

This module sits at the bottom of the import graph and imports nothing of the project.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

ENV_CONFIG = "HGKM_CONFIG"
CONFIG_FILE = Path("hgkm.toml")


class ConfigError(ValueError):
    """The configuration file or an HGKM_* variable holds something unusable."""


@dataclass(frozen=True)
class Config:
    """Every setting of the scheduled job, with the defaults that apply without any file."""

    data_dir: Path = Path("data")
    inbox: Path | None = None
    staleness_days: int = 120
    settle_seconds: float = 5.0
    wait_seconds: float = 0.0
    log_stderr: bool = False
    publish: str = "auto"  # auto: a new mart is published at once; review: after approval
    run_on_upload: bool = True  # the dashboard starts the job after an upload when it is idle


# setting -> environment variable; the file uses the setting's own name as its key.
ENV_VARS: dict[str, str] = {f.name: f"HGKM_{f.name.upper()}" for f in fields(Config)}
_PATH_SETTINGS = {"data_dir", "inbox"}
_BOOLEAN_SETTINGS = {"log_stderr", "run_on_upload"}
PUBLISH_MODES = ("auto", "review")
# Tables of the file that are not settings: each is parsed by the module that uses it
# (`read_section`), so a bad value there names its own table and stops only what needs it.
SECTIONS = frozenset({"roles", "limits"})  # roles: hgkm.access; limits: hgkm.limits


def config_file_path(environ: Mapping[str, str] | None = None) -> Path:
    """$HGKM_CONFIG if set, else ./hgkm.toml (which need not exist)."""
    environ = os.environ if environ is None else environ
    return Path(environ.get(ENV_CONFIG) or CONFIG_FILE)


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        if path != CONFIG_FILE:
            # An explicitly named file that is missing is a mistake, not "no configuration".
            raise ConfigError(f"configuration file {path} does not exist")
        return {}
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise ConfigError(f"cannot read configuration file {path}: {exc}") from exc
    unknown = sorted(set(raw) - set(ENV_VARS) - SECTIONS)
    if unknown:
        known = ", ".join([*ENV_VARS, *(f"[{name}]" for name in sorted(SECTIONS))])
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}; known: {known}")
    return raw


def read_section(
    name: str, *, environ: Mapping[str, str] | None = None, file: Path | None = None
) -> tuple[dict[str, Any], Path]:
    """Table `name` of the config file ({} when absent), and the file it came from."""
    file = config_file_path(environ) if file is None else file
    table = _read_toml(file).get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{file}: {name} must be a table ([{name}]), not {table!r}")
    return table, file


def read_file(path: Path) -> dict[str, Any]:
    """The settings in the config file, relative paths resolved against the file's folder."""
    raw = {key: value for key, value in _read_toml(path).items() if key not in SECTIONS}
    for key in _PATH_SETTINGS & set(raw):
        if isinstance(raw[key], str):
            raw[key] = str(path.parent / Path(raw[key]).expanduser())
    return raw


def _from_environment(environ: Mapping[str, str]) -> dict[str, str]:
    return {name: environ[var] for name, var in ENV_VARS.items() if environ.get(var)}


def _coerce(name: str, value: Any, source: str) -> Any:
    """Turn a file or environment value into the setting's type, naming the source on failure."""
    try:
        if name in _PATH_SETTINGS:
            if not isinstance(value, str | os.PathLike):
                raise TypeError("expected a path")
            return Path(value)
        if name == "publish":
            if value not in PUBLISH_MODES:
                raise ValueError(f"expected {' or '.join(PUBLISH_MODES)}")
            return value
        if name in _BOOLEAN_SETTINGS:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError("expected true or false")
        if isinstance(value, bool):
            raise TypeError("expected a number")
        number = int(value) if name == "staleness_days" else float(value)
        if number < 0:
            raise ValueError("must not be negative")
        return number
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: {name} = {value!r} is not valid ({exc})") from exc


def load_config(
    overrides: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    file: Path | None = None,
    only: frozenset[str] | None = None,
) -> Config:
    """Layer defaults < config file < environment < overrides (options; None means not given).

    `only` limits which settings are read from the file and environment, so that a command
    needing just the data folder is not stopped by a bad value it does not use.
    """
    environ = os.environ if environ is None else environ
    file = config_file_path(environ) if file is None else file
    wanted = set(ENV_VARS) if only is None else only
    settings: dict[str, Any] = {}
    for name, value in read_file(file).items():
        if name in wanted:
            settings[name] = _coerce(name, value, str(file))
    for name, value in _from_environment(environ).items():
        if name in wanted:
            settings[name] = _coerce(name, value, ENV_VARS[name])
    for name, value in (overrides or {}).items():
        if value is not None:
            settings[name] = _coerce(name, value, f"option --{name.replace('_', '-')}")
    return replace(Config(), **settings)
