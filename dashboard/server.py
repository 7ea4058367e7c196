"""Start Streamlit's server on the dashboard, without `/_stcore/metrics` unless asked.

That route tells anyone who can reach the server its sessions, caches and memory. Streamlit
1.67 has no option to turn it off, so its route factory is replaced before the server builds
its routes (a test asks a running `hgkm dashboard` for it); HGKM_DASHBOARD_METRICS=1 keeps it.
Run as `python -m dashboard.server run APP [streamlit options]`, as `hgkm dashboard` does.
"""

from __future__ import annotations

import os
import sys

METRICS_ENV = "HGKM_DASHBOARD_METRICS"


def main() -> None:
    if os.environ.get(METRICS_ENV) != "1":
        from streamlit.web.server.starlette import starlette_app

        starlette_app.create_metrics_routes = lambda runtime, base_url: []
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    main()
