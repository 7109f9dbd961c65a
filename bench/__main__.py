"""`python -m bench [SIZES…] [--quick]`: runs the benchmarks and prints their figures.

`python -m bench concurrency [--quick]` runs only the concurrent clients (bench/concurrency.py)."""

import sys

from bench import concurrency
from bench.notifications import main

if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["concurrency"]:
        sys.exit(0 if concurrency.main(args[1:]) else 1)
    main([a for a in args if a != "--quick"])
    sys.exit(0 if concurrency.main(args) else 1)
