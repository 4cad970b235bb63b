"""Split load across a consortium's municipalities in proportion to their populations.

Two views of the same weights: `apportion` turns a user count into whole users per
municipality (largest remainder, so the parts always add up to the total), and `PopulationSplit`
hands municipalities out one user at a time in a smooth weighted round robin, so any prefix of
the sequence is as close to the proportions as whole users allow. Locust spawns users one by
one, so the second view is what the users use.
"""

from __future__ import annotations

from collections.abc import Mapping


def _check(populations: Mapping[str, int]) -> None:
    if not populations:
        raise ValueError("populations: at least one municipality is needed")
    for code, population in populations.items():
        if not isinstance(population, int) or population <= 0:
            raise ValueError(f"populations[{code}]: must be a positive integer, got {population!r}")


def shares(populations: Mapping[str, int]) -> dict[str, float]:
    """Fraction of the traffic for each municipality (sums to 1)."""
    _check(populations)
    total = sum(populations.values())
    return {code: population / total for code, population in populations.items()}


def apportion(populations: Mapping[str, int], users: int) -> dict[str, int]:
    """Whole users per municipality, proportional to population (largest remainder method).

    Ties in the remainder go to the larger population, then to the lower code, so the result
    is deterministic.
    """
    _check(populations)
    if users < 0:
        raise ValueError(f"users: must be >= 0, got {users}")
    total = sum(populations.values())
    exact = {code: users * pop / total for code, pop in populations.items()}
    result = {code: int(value) for code, value in exact.items()}
    left = users - sum(result.values())
    order = sorted(populations, key=lambda c: (-(exact[c] - result[c]), -populations[c], c))
    for code in order[:left]:
        result[code] += 1
    return result


class PopulationSplit:
    """Smooth weighted round robin over municipalities weighted by population.

    ``next()`` returns the lgcode for the next user; after n calls the count per municipality
    differs from n x share by less than one user.
    """

    def __init__(self, populations: Mapping[str, int]) -> None:
        _check(populations)
        self._weights = dict(sorted(populations.items()))
        self._total = sum(self._weights.values())
        self._current = {code: 0 for code in self._weights}

    def next(self) -> str:
        for code, weight in self._weights.items():
            self._current[code] += weight
        chosen = max(self._current, key=lambda c: (self._current[c], self._weights[c]))
        self._current[chosen] -= self._total
        return chosen

    def take(self, n: int) -> list[str]:
        return [self.next() for _ in range(n)]
