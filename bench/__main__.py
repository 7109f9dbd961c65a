"""`python -m bench [SIZES…]`: runs the benchmarks and prints their figures."""

from bench.notifications import main

if __name__ == "__main__":
    main()
