"""A module-scoped cluster with two daphne processes, for the sharedb client test modules that run
several short scenarios (one PostgreSQL database + migrate + two servers per module, not per test).
Each test makes its own users and document, so tests stay independent.
"""

import itertools
from collections.abc import Iterator
import pytest

from tests.conftest import Cluster

_counter = itertools.count(1)


class TwoServers:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.first = cluster.start_server("daphne-a")
        self.second = cluster.start_server("daphne-b")

    def unique(self, name: str) -> str:
        return f"{name}{next(_counter)}"


@pytest.fixture(scope="module")
def two_servers() -> Iterator[TwoServers]:
    cluster = Cluster()
    try:
        yield TwoServers(cluster)
    finally:
        cluster.close()


def logs_of(servers: TwoServers) -> str:
    return "\n".join(server.log()[-4000:] for server in servers.cluster.servers)


__all__ = ["TwoServers", "logs_of", "two_servers"]
