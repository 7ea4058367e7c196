"""Shared by the real-browser tests: start `hgkm dashboard` as a user would, launch chromium.

Uses Debian's chromium (`make chromium`); never downloads a browser. Screenshots go to
tests/artifacts/screenshots/ (git-ignored) to be looked at.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HGKM = Path(sys.executable).parent / "hgkm"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "tests" / "artifacts" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_chromium() -> None:
    """Skip (fail on CI) when Debian's chromium is missing."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is missing on CI: `make test` should install it")
        pytest.skip("Debian's chromium is not installed: run `make chromium`")


def wait_until_up(url: str, process: subprocess.Popen, name: str) -> None:
    """Wait until `url` answers 200; fail with the process's output if it exits first."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read() if process.stdout else ""
                pytest.fail(f"{name} did not start:\n{output}")
            time.sleep(0.3)


@contextmanager
def running_dashboard(
    data_dir: Path,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
    options: Sequence[str] = (),
) -> Iterator[str]:
    """`hgkm dashboard [options]` on a free port of localhost over `data_dir`; yields its URL."""
    require_chromium()
    port = port or free_port()
    process = subprocess.Popen(
        [str(HGKM), "dashboard", "--port", str(port), *options],
        env={**os.environ, "HGKM_DATA_DIR": str(data_dir), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/_stcore/health", process, "dashboard")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def running_provider(users: Mapping[str, Mapping[str, object]]) -> Iterator[str]:
    """oidc-provider-mock on a free port of localhost with these users (subject -> the claims
    of their ID token) predefined; yields its URL."""
    port = free_port()
    claims = [("--user-claims", json.dumps({"sub": sub, **c})) for sub, c in users.items()]
    process = subprocess.Popen(
        [sys.executable, "-m", "oidc_provider_mock", "--port", str(port)]
        + [arg for pair in claims for arg in pair],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/.well-known/openid-configuration", process, "oidc-provider-mock")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def secrets_file(path: Path, port: int, provider: str) -> Path:
    """A secrets.toml whose [auth] signs in at `provider` for a dashboard on `port`."""
    path.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{os.urandom(24).hex()}"\n'
        'client_id = "hgkm-test"\n'
        'client_secret = "hgkm-test-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


def sign_in(page, url: str, provider: str, subject: str, name: str, start: str = "") -> None:
    """The real redirect: the app's button, the provider's page, back with a login cookie,
    until the sidebar names the person."""
    page.goto(f"{url}/{start}")
    settle(page, "Regio-overzicht")
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(f"{provider}/oauth2/authorize*", timeout=30_000)
    page.locator(f'button[name="sub"][value="{subject}"]').click()
    page.wait_for_url(f"{url}/**", timeout=30_000)
    settle(page, "Regio-overzicht")
    page.get_by_test_id("stSidebar").get_by_text(name).wait_for(timeout=30_000)


@contextmanager
def launched_chromium() -> Iterator[object]:
    """A headless Debian chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    require_chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


def settle(page, heading: str) -> None:
    """Wait until the page's title is drawn and Streamlit has stopped running."""
    page.get_by_role("heading", level=1).filter(has_text=heading).first.wait_for(timeout=30_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30_000
    )
    page.wait_for_timeout(800)  # plotly draws after the element appears


def assert_no_error(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert (
        page.locator('[data-testid="stAlertContentError"]').filter(has_text="Traceback").count()
        == 0
    )
