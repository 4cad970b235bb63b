"""Population split of load across a consortium's municipalities."""

import pytest

from municloud_ops.loadtest.split import PopulationSplit, apportion, shares

pytestmark = pytest.mark.unit

DEV = {"053031": 5_864, "053279": 2_697, "053465": 3_807}


def test_apportion_follows_population_and_adds_up():
    assert apportion(DEV, 200) == {"053031": 95, "053279": 44, "053465": 61}
    for users in range(0, 301):
        parts = apportion(DEV, users)
        assert sum(parts.values()) == users
        for code, n in parts.items():
            assert abs(n - users * shares(DEV)[code]) < 1


def test_round_robin_prefixes_stay_within_one_user_of_the_shares():
    split = PopulationSplit(DEV)
    counts = dict.fromkeys(DEV, 0)
    share = shares(DEV)
    for n in range(1, 1001):
        counts[split.next()] += 1
        for code in DEV:
            assert abs(counts[code] - n * share[code]) <= 1.0, (n, code)
    assert sum(counts.values()) == 1000


def test_equal_populations_split_evenly():
    assert sorted(PopulationSplit({"053031": 10, "053279": 10}).take(4)) == \
        ["053031", "053031", "053279", "053279"]


@pytest.mark.parametrize("populations, field", [
    ({}, "populations"), ({"053031": 0}, "populations[053031]"), ({"053031": -5}, "populations[053031]")])
def test_bad_populations_are_refused_naming_the_field(populations, field):
    with pytest.raises(ValueError, match=field.replace("[", r"\[")):
        PopulationSplit(populations)


def test_negative_user_count_is_refused():
    with pytest.raises(ValueError, match="users"):
        apportion(DEV, -1)
