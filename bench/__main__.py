"""`python -m bench [scale|notifications|concurrency|load|instructions] [SIZES…] [--quick]`: runs the benchmarks and prints
their figures.

Without a name, all: the staff pages, exports and transitions as the campaign grows (`bench.scale`,
on SQLite and, under `scripts/with-postgres`, on PostgreSQL), the cron pass (`bench.notifications`),
then concurrent clients (`bench.concurrency`: 100 on SQLite, 200 on PostgreSQL; no 500, no lost save).
`load [N]`: only the open-loop load on one campaign of N dossiers (`bench.scale.load_main`).
`instructions [N]`: what a read, an autosave and a transition cost in processor instructions (valgrind),
the figures that do not vary with the machine's load (`bench.instructions`).
"""

import sys

from bench import concurrency, instructions, notifications, scale

if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "concurrency":
        sys.exit(0 if concurrency.main(args[1:]) else 1)
    if args and args[0] == "load":
        scale.load_main(args[1:])
        sys.exit(0)
    if args and args[0] == "instructions":
        instructions.main(args[1:])
        sys.exit(0)
    if args and args[0] in ("scale", "notifications"):
        {"scale": scale.main, "notifications": notifications.main}[args[0]](args[1:])
    else:
        scale.main([a for a in args if a != "--quick"])
        notifications.main([])
        sys.exit(0 if concurrency.main([a for a in args if a == "--quick"]) else 1)
