"""A graceful restart under load: real sharedb clients type through HAProxy onto two daphne
processes, one of which gets SIGTERM mid-typing. Its clients are closed with 4012 behind their
last ack, reconnect at once (to the other process) and resend the rest: nothing is lost or
applied twice, and every client converges."""

import signal
import threading
import time
from typing import Any

import pytest

from tests.conftest import Cluster, ServerProcess, free_port
from tests.haproxy import LoadBalancer
from tests.server.sharedb_harness import (
    assert_clean,
    check_converged,
    require_ok,
    run_driver,
    setup_document,
    summary,
)

pytestmark = pytest.mark.integration

USERS = {"ana": "Ana Lima", "ben": "Ben Okafor", "chen": "Chen Wei"}
TABS = 2
TYPING_SECONDS = 10


def test_sigterm_drains_without_losing_or_doubling_an_op(cluster: Cluster) -> None:
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    leaving, staying = (
        ServerProcess({**cluster.env, "WS_ALLOWED_ORIGINS": origin}, name=name).start()
        for name in ("leaving", "staying")
    )
    cluster.servers += [leaving, staying]
    balancer = LoadBalancer([leaving.port, staying.port], port=port).start()
    try:
        setup = setup_document(cluster, users=USERS, owner="ana", members={"ben": "editor", "chen": "editor"})
        clients = {
            f"{name}{tab}": {"cookie": f"sessionid={setup['sessions'][name]}"}
            for name in USERS
            for tab in range(TABS)
        }
        steps: list[dict[str, Any]] = [{"do": "connect", "client": name} for name in clients]
        steps += [
            {"do": "random", "duration_ms": TYPING_SECONDS * 1000, "interval_ms": [20, 120], "seed": 14},
            {"do": "settle", "timeout_ms": 30000},
        ]
        scenario = {
            "collection": "documents",
            "doc": setup["doc"],
            "servers": [{"url": balancer.ws_url, "origin": balancer.origin}],
            "clients": clients,
            "auto_reconnect": {"server": 0},
            "steps": steps,
        }
        outcome: dict[str, Any] = {}
        driver = threading.Thread(target=lambda: outcome.update(run_driver(scenario, timeout=90)))
        driver.start()
        time.sleep(TYPING_SECONDS / 2)  # mid-typing
        assert leaving.process is not None
        leaving.process.send_signal(signal.SIGTERM)
        exit_code = leaving.process.wait(timeout=30)
        driver.join()
        require_ok(outcome)
        result = outcome

        assert exit_code == 0, leaving.log()[-3000:]
        drained = [line for line in leaving.log().splitlines() if "drained" in line]
        assert drained and not any(" 0 connections" in line for line in drained), leaving.log()[-3000:]
        assert "cut short" not in leaving.log()
        # Every socket the server closed was closed as a restart, and some were.
        server_closes = [
            close
            for client in result["clients"].values()
            for close in client["closes"]
            if close["by"] == "server"
        ]
        assert server_closes and {close["code"] for close in server_closes} == {4012}, server_closes
        assert_clean(result, allow_closes=True)
        counts = check_converged(cluster, setup["doc"], result)
        # Every op in the log but the document's creation is a client's acked op.
        assert not counts.problems, counts.problems
        assert counts.acked_ops == len(counts.log) - 1 > 50, summary(result)
        resent = [e for c in result["clients"].values() for e in c["history"] if e["sends"] > 1]
        print(
            f"\nrestart: {len(counts.log)} ops, {len(server_closes)} sockets closed with 4012, "
            f"{len(resent)} ops resent after the reconnect, {counts.tokens} tokens exactly once"
        )
    finally:
        balancer.stop()
