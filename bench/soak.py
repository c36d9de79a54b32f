"""A long mixed fault run: real sharedb clients type through HAProxy into two daphne processes
while, every few seconds, one thing breaks: a daphne process is killed (-9) or stopped (SIGTERM)
and restarted, Redis is killed and restarted, PostgreSQL is restarted or crashed, or the Celery
worker is killed. At the end the history checker runs and the totals are printed:

    0 lost / 0 duplicated of 48,213 acked ops across 20 kills (...)

Everything runs on loopback, with a Redis and a PostgreSQL of its own, and is stopped at the end.

    make soak                                   # 5 minutes
    SOAK_SECONDS=1800 SOAK_CLIENTS=16 make soak  # longer, more clients
    SOAK_FAULT_EVERY=8 SOAK_SEED=3 make soak     # faults more often, another random sequence
"""

import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab.settings")

import django  # noqa: E402

django.setup()

from tests.faults.stack import (  # noqa: E402
    OwnPostgres,
    OwnRedis,
    Stack,
    connect_steps,
    end_group,
    report,
    run_with_faults,
    settle_step,
    typing_document,
    typing_step,
    typists,
)
from tests.history import client_errors  # noqa: E402

SECONDS = int(os.environ.get("SOAK_SECONDS", "300"))
CLIENTS = int(os.environ.get("SOAK_CLIENTS", "12"))
FAULT_EVERY = float(os.environ.get("SOAK_FAULT_EVERY", "12"))
SEED = int(os.environ.get("SOAK_SEED", "1"))


def faults(stack: Stack, redis: OwnRedis, postgres: OwnPostgres) -> dict:
    """Each fault: break something, leave it broken for a moment, bring it back."""

    def daphne(kill: bool):
        def run(rng: random.Random) -> None:
            index = rng.randrange(len(stack.servers))
            stack.kill(index) if kill else stack.terminate(index)
            time.sleep(rng.uniform(0.5, 2))
            stack.restart(index)

        return run

    def redis_restart(rng: random.Random) -> None:
        redis.kill()
        time.sleep(rng.uniform(1, 3))
        redis.start()

    def postgres_restart(rng: random.Random) -> None:
        postgres.stop(rng.choice(["fast", "immediate"]))
        time.sleep(rng.uniform(1, 3))
        postgres.start()

    def worker_kill(rng: random.Random) -> None:
        end_group(stack.worker)
        time.sleep(rng.uniform(0.5, 2))
        stack.start_worker()

    return {
        "daphne kill -9": daphne(True),
        "daphne SIGTERM": daphne(False),
        "Redis restart": redis_restart,
        "PostgreSQL restart": postgres_restart,
        "Celery worker kill": worker_kill,
    }


def main() -> int:
    redis, postgres = OwnRedis().start(), OwnPostgres().start()
    stack = None
    try:
        stack = Stack(postgres_url=postgres.url, redis_url=redis.url)
        stack.start_worker()
        setup = typing_document(stack.cluster)
        writers = typists(setup, CLIENTS)
        steps = [
            *connect_steps(writers),
            {"do": "mark", "name": "typing"},
            typing_step(SECONDS, seed=SEED, clients=list(writers)),
            {"do": "mark", "name": "typed"},
            settle_step(list(writers), timeout_ms=180000),
        ]
        kinds = faults(stack, redis, postgres)
        counts = dict.fromkeys(kinds, 0)
        rng = random.Random(SEED)

        def inject(driver):
            assert driver.wait_mark("typing", 120), "the clients never started typing"
            end = time.monotonic() + SECONDS - 5
            while time.monotonic() < end:
                time.sleep(FAULT_EVERY * rng.uniform(0.6, 1.4))
                if time.monotonic() >= end:
                    break
                kind = rng.choice(list(kinds))
                print(f"[{time.strftime('%H:%M:%S')}] {kind}", flush=True)
                kinds[kind](rng)
                counts[kind] += 1
            return {"faults": counts}

        print(f"soak: {CLIENTS} clients for {SECONDS} s, a fault every ~{FAULT_EVERY:.0f} s (seed {SEED})")
        result, verdict, figures = run_with_faults(
            stack, setup, writers, steps, inject, timeout=SECONDS + 400, converge=list(writers)
        )
        total = sum(counts.values())
        problems = [*verdict.problems, *client_errors(result)]
        if not result.get("ok"):
            problems.insert(0, f"driver: {result.get('error')}")
        breakdown = ", ".join(f"{n} {kind}" for kind, n in counts.items())
        line = (
            f"{len(verdict.lost)} lost / {len(verdict.duplicated)} duplicated of {verdict.acked_ops:,} acked ops "
            f"across {total} kills ({breakdown}); "
            f"{len(verdict.rejected)} ops answered with an error; "
            + (
                "every client converged with the database"
                if result.get("ok") and not verdict.diverged
                else f"NOT converged: {', '.join(verdict.diverged) or result.get('error')}"
            )
        )
        report(f"soak {SECONDS} s", {"summary": line, "seconds": SECONDS, "clients": CLIENTS, "seed": SEED})
        print(line)
        for problem in problems[:20]:
            print("  " + problem)
        return 1 if problems else 0
    finally:
        if stack is not None:
            stack.close()
        postgres.close()
        redis.close()


if __name__ == "__main__":
    sys.exit(main())
