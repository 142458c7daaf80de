"""Every benchmark, one after the other: `python -m bench` (or `make bench`)."""

from bench import intake

if __name__ == "__main__":
    intake.main()
