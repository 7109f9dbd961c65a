"""`python -m bench [scale|notifications] [SIZES…]`: runs the benchmarks and prints their figures.

Without a name, both: the staff pages, exports and transitions as the campaign grows (`bench.scale`,
on SQLite and, under `scripts/with-postgres`, on PostgreSQL), then the cron pass (`bench.notifications`).
"""

import sys

from bench import notifications, scale

if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] in ("scale", "notifications"):
        {"scale": scale.main, "notifications": notifications.main}[args[0]](args[1:])
    else:
        scale.main(args)
        notifications.main([])
