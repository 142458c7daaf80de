"""Every benchmark, one after the other: `python -m bench` (or `make bench`)."""

import sys

from bench import figures, hashes, intake, pipeline

if __name__ == "__main__":
    args = sys.argv[1:]
    sys.argv[1:] = []
    intake.main()
    hashes.main()
    pipeline.main()
    figures.main()
