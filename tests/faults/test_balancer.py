"""Two daphne processes behind a real HAProxy, as on a platform's layer-7 router (issue 9.5):
the clients of one document are spread over both processes and all converge, exactly once."""

import re

import pytest

from .stack import (
    Stack,
    assert_nothing_lost,
    connect_steps,
    run_with_faults,
    settle_step,
    typing_document,
    typing_step,
    typists,
)

pytestmark = pytest.mark.integration

WS_CONNECT = re.compile(r'"WSCONNECT /ws/"')


def test_clients_of_one_document_spread_over_two_processes_behind_haproxy_converge(stack: Stack) -> None:
    setup = typing_document(stack.cluster)
    writers = typists(setup, 12)
    steps = [
        *connect_steps(writers),
        typing_step(12, seed=51, clients=list(writers), interval_ms=(60, 240)),
        settle_step(list(writers)),
    ]
    result, verdict, figures = run_with_faults(
        stack, setup, writers, steps, lambda driver: {}, timeout=120, converge=list(writers)
    )
    # Round robin: each process served some of the sockets (counted in its access log).
    figures["sockets_per_process"] = [len(WS_CONNECT.findall(server.log())) for server in stack.servers]
    assert_nothing_lost(
        "12 clients of one document over 2 processes behind HAProxy", result, verdict, figures
    )
    assert all(n >= 4 for n in figures["sockets_per_process"]), figures
    assert verdict.acked_ops >= 200, verdict.figures
