"""Every benchmark, one after the other: `python -m bench` (or `make bench`)."""

import sys
import time

from bench import figures, hashes, intake, pipeline

BENCHMARKS = {
    "intake": intake.main,
    "known-hash list": hashes.main,
    "pipeline": pipeline.main,
    "statistics pages": figures.main,
}

if __name__ == "__main__":
    sys.argv[1:] = []
    started = time.monotonic()
    for name, run in BENCHMARKS.items():
        print(f"\n== {name} ==", flush=True)
        began = time.monotonic()
        run()
        print(f"({name}: {time.monotonic() - began:.0f} s)", flush=True)
    print(f"\nall benchmarks: {time.monotonic() - started:.0f} s")
