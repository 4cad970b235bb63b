"""Benchmark scenario (benchmarks/read_path.py): 住民票の写し read as fast as possible, no think
time, spread over the municipalities by population. Not a day-in-the-life scenario: it measures
the read path's throughput ceiling through the gateway."""

from __future__ import annotations

import random

from locust import FastHttpUser, constant, task

import gate  # noqa: F401  (the SLA gate judges benchmark runs too)
from common import TokenBook, api, grouped, next_municipality, plan_of, verify_tls


class CertificateReader(FastHttpUser):
    wait_time = constant(0)

    def __init__(self, environment) -> None:
        verify_tls(self, plan_of(environment))
        super().__init__(environment)

    def on_start(self) -> None:
        self.plan = plan_of(self.environment)
        self.lgcode = next_municipality(self.plan, "reader")
        self.rng = random.Random()
        self.tokens = TokenBook(self.plan.target.key_files, staff_id="bench-reader")

    @task
    def certificate(self) -> None:
        person = self.plan.data.resident(self.lgcode, self.rng)
        headers = self.tokens.header(self.lgcode, "residents_registry", "certificate_issuance")
        with self.client.get(api(self.plan, self.lgcode, "residents_registry",
                                 f"/residents/{person['atena_number']}/certificate"),
                             headers=headers, catch_response=True,
                             name=grouped("/residents/[atena]/certificate",
                                          "residents_registry")) as resp:
            if resp.status_code != 200:
                resp.failure(f"HTTP {resp.status_code}")
