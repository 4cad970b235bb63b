"""Ceiling scenario (benchmarks/ceilings.py): one Locust process fetching a static file from
nginx as fast as it can — how many requests per second this generator can produce at all.
The host comes from --host (a 127.0.0.1 port the benchmark published)."""

from locust import FastHttpUser, constant, task


class StaticReader(FastHttpUser):
    wait_time = constant(0)

    @task
    def static_file(self) -> None:
        self.client.get("/index.nginx-debian.html", name="/index.nginx-debian.html")
