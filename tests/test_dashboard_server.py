"""The dashboard server is safe to expose: no metrics unless asked, no WebSocket for a Host it
was not told about (DNS rebinding), no error details for visitors, downloads without formulas."""

from __future__ import annotations

import base64
import io
import os
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import polars as pl
import pytest
from browser_app import HGKM, ROOT, free_port
from conftest import run_hgkm

from hgkm.safe_csv import csv_text, neutralised


@contextmanager
def dashboard(data_dir: Path, *options: str) -> Iterator[int]:
    """`hgkm dashboard` with these options on a free port; yields the port once it answers."""
    port = free_port()
    process = subprocess.Popen(
        [str(HGKM), "dashboard", "--port", str(port), *options],
        env={**os.environ, "HGKM_DATA_DIR": str(data_dir)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"dashboard did not start:\n{process.stdout.read()}")
                time.sleep(0.3)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def get(port: int, path: str) -> tuple[str, str]:
    """(content type, body) of a GET."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return response.headers.get("Content-Type", ""), response.read().decode()


def websocket_status(port: int, host: str) -> str:
    """The status line of a WebSocket handshake on Streamlit's stream with this Host (and the
    Origin a page on that host would send)."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        "GET /_stcore/stream HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\nOrigin: http://{host}:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: streamlit\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request.encode())
        return sock.recv(4096).decode(errors="replace").split("\r\n")[0]


def test_metrics_off_and_unknown_hosts_refused(sample_pipeline) -> None:
    with dashboard(sample_pipeline["data"], "--allowed-host", "hgkm.example.nl") as port:
        kind, body = get(port, "/_stcore/metrics")
        assert "openmetrics" not in kind and "# TYPE" not in body
        assert " 101 " in websocket_status(port, "127.0.0.1")
        assert " 101 " in websocket_status(port, "hgkm.example.nl")
        # A page of another name resolving to this server (DNS rebinding) gets no socket.
        assert " 403 " in websocket_status(port, "attacker.example")


def test_metrics_only_when_asked(sample_pipeline) -> None:
    with dashboard(sample_pipeline["data"], "--metrics") as port:
        kind, body = get(port, "/_stcore/metrics")
        assert "openmetrics" in kind and "# TYPE" in body


def test_visitors_see_no_error_details() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"
    # Streamlit itself, started where `hgkm dashboard` starts it, takes the value.
    shown = subprocess.run(
        [sys.executable, "-m", "streamlit", "config", "show"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert 'showErrorDetails = "none"' in shown


TEXT = ['=HYPERLINK("http://x")', "+31 6 1234", "-cmd|' /C calc'!A0", "@SUM(A1)", "\tx", "\rx"]


def test_formula_prefixes_are_neutralised_and_numbers_are_not() -> None:
    frame = pl.DataFrame(
        {
            "text": [*TEXT, "-1.5", "plain", None],
            "value": [-1.5, -2.0, 3.0, 0.0, -0.25, 1e-9, -7.0, 8.0, None],
            "count": [-1, 2, 3, 4, 5, 6, 7, 8, 9],
        }
    )
    out = neutralised(frame)
    assert out["text"].to_list() == [*(f"'{t}" for t in TEXT), "-1.5", "plain", None]
    assert out["value"].equals(frame["value"]) and out["count"].equals(frame["count"])
    written = pl.read_csv(io.StringIO(csv_text(frame)), infer_schema=False)
    assert written["text"].to_list() == out["text"].to_list()
    assert written["value"][:3].to_list() == ["-1.5", "-2.0", "3.0"]
    # A number written as text stays a number: a spreadsheet reads -1.5, it runs nothing.
    assert written.row(6) == ("-1.5", "-7.0", "7")


def test_hgkm_export_neutralises_formula_prefixes(sample_pipeline, tmp_path) -> None:
    import duckdb

    data = tmp_path / "data"
    data.mkdir()
    mart = data / "mart.duckdb"
    mart.write_bytes(sample_pipeline["mart"].read_bytes())
    con = duckdb.connect(str(mart))
    try:
        # No free text reaches the mart today; plant one where an area's name is written.
        con.execute("update indicator_values set area_name = '=1+2' where area_code = 'NL'")
    finally:
        con.close()
    out = tmp_path / "out.csv"
    result = run_hgkm("export", "--out", out, "--area", "NL", data_dir=data, timeout=60)
    assert result.returncode == 0, result.stderr
    table = pl.read_csv(out, infer_schema_length=0)
    assert set(table["area_name"]) == {"'=1+2"}
    numbers = pl.read_csv(out)["value"].drop_nulls()
    assert numbers.dtype.is_numeric() and numbers.len()


def test_a_dashboard_download_is_the_neutralised_csv(monkeypatch) -> None:
    from dashboard import state

    captured = {}
    monkeypatch.setattr(
        state.st, "download_button", lambda label, data, **kw: captured.update(data=data)
    )
    frame = pl.DataFrame({"area_name": ["=1+2"], "value": [-0.5], "hover": ["<b>x</b>"]})
    context = SimpleNamespace(lang="nl", period="2024")  # all a download reads of the context
    state.csv_download(frame, "x", context, key="k", what="de tabel")
    assert captured["data"] == "area_name,value\n'=1+2,-0.5\n"
