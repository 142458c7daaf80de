"""Production settings, plus the benchmark's bare baseline view."""

import os
from pathlib import Path

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
# A benchmark that renders pages collects the static files first, as the image build does,
# into a directory of its own.
if os.environ.get("BENCH_STATIC_ROOT"):
    STATIC_ROOT = Path(os.environ["BENCH_STATIC_ROOT"])
