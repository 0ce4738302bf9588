"""sd_tap.py: the TAP printer the sd-train Python checks share: check() prints one
numbered "ok" / "not ok" line at once (so a crash keeps what was printed), done() prints
the plan and exits 1 when any check failed."""
import sys

n = 0
failed = 0


def check(cond, what):
    global n, failed
    n += 1
    print(("ok" if cond else "not ok"), n, "-", what, flush=True)
    failed += 0 if cond else 1


def done():
    print(f"1..{n}")
    sys.exit(1 if failed else 0)
