"""Launcher of Pulumi's Python dynamic-provider plugin with a wider gRPC worker pool.

The SDK's ``python -m pulumi.dynamic`` serves at most 4 calls at once (a fixed
``ThreadPoolExecutor(max_workers=4)``), and each of our Container creates holds a call for its
whole health wait: in a deploy, the fifth container waited for a free slot, not for Docker.
This launcher runs the SDK's own module unchanged, with the pool size taken from
``MC_PULUMI_PROVIDER_THREADS`` (default 16). Installed by tools/bootstrap/pulumi.sh as
``pulumi-resource-pulumi-python`` (docs/decisions.md).
"""

from __future__ import annotations

import concurrent.futures
import os
import runpy

WORKERS = int(os.environ.get("MC_PULUMI_PROVIDER_THREADS", "16"))
_SdkPool = concurrent.futures.ThreadPoolExecutor


class _WidePool(_SdkPool):
    def __init__(self, max_workers: int | None = None, *args, **kwargs) -> None:
        super().__init__(max(WORKERS, max_workers or 0), *args, **kwargs)


concurrent.futures.ThreadPoolExecutor = _WidePool  # read by pulumi.dynamic.__main__ at its main()
runpy.run_module("pulumi.dynamic", run_name="__main__", alter_sys=True)
