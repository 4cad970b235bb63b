"""The hub's files that take effect without a restart, and the deploy's reload check
(``python -m services.platform_hub.hot_files``, the hub container's ``reload``).

Besides the key registry (as in every service: municloud.service.hot_files) the hub re-reads its
routing table (routing.WatchedRoutingTable): a member joining or leaving changes both, and the
deploy applies them to the running hub. Exit codes as municloud.service.hot_files.
"""

from __future__ import annotations

import sys

from municloud.service import hot_files
from services.platform_hub.routing import ROUTES_FILE, RoutingTable

HOT_FILES = {**hot_files.HOT_FILES, ROUTES_FILE: RoutingTable.load}


def main() -> int:
    return hot_files.main(HOT_FILES)


if __name__ == "__main__":
    sys.exit(main())
