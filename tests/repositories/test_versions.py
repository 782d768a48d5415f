"""The order of tags on a repository's page: latest, versions newest first, then the rest."""

import random

import pytest

from imgdash.repositories.versions import is_version, tag_sort_key


def ordered(names):
    return sorted(names, key=tag_sort_key)


def shuffled(names):
    names = list(names)
    random.Random(13).shuffle(names)
    return names


def test_it_puts_latest_first_then_the_highest_version():
    assert ordered(["1.0.0", "latest", "1.2.0", "1.1.0"]) == ["latest", "1.2.0", "1.1.0", "1.0.0"]


def test_it_compares_version_numbers_as_numbers():
    expected = ["2.13.7", "2.13.0", "2.11.10", "2.11.9", "2.10.10", "2.10.3", "2.9.1"]
    assert ordered(shuffled(expected)) == expected


def test_it_reads_a_v_prefix_and_dates_as_versions():
    assert ordered(["v1.9.0", "v1.10.0", "v1.2"]) == ["v1.10.0", "v1.9.0", "v1.2"]
    assert ordered(["20190101", "20190105", "20181231"]) == ["20190105", "20190101", "20181231"]


def test_it_puts_a_more_specific_version_above_its_prefix():
    expected = ["3", "2.1.3", "2.1.0", "2.1", "2.0.9", "2"]
    assert ordered(shuffled(expected)) == expected


def test_it_puts_a_release_above_its_suffixed_tags_and_later_suffixes_first():
    expected = ["1.2.3", "1.2.3-rc10", "1.2.3-rc2", "1.2.3-beta", "1.2.3-alpha", "1.2.2"]
    assert ordered(shuffled(expected)) == expected


def test_it_keeps_variants_beside_their_version():
    names = ["3.18-slim", "3.19", "3.18", "3.19-alpine", "3.17.1-alpine"]
    assert ordered(names) == ["3.19", "3.19-alpine", "3.18", "3.18-slim", "3.17.1-alpine"]


def test_it_puts_other_tags_after_versions_alphabetically_with_the_highest_number_first():
    names = ["build-1000", "stable", "0.1", "build-1063", "dev", "build-1007", "latest"]
    assert ordered(names) == [
        "latest",
        "0.1",
        "build-1063",
        "build-1007",
        "build-1000",
        "dev",
        "stable",
    ]


def test_it_does_not_take_a_commit_hash_for_a_version():
    assert ordered(["4f3e2a1", "1.0", "a1b2c3d"]) == ["1.0", "4f3e2a1", "a1b2c3d"]


@pytest.mark.parametrize(
    "names",
    [
        ["", "latest", "Latest", "LATEST"],
        ["1..2", "1.2.", ".1", "v", "V1", "1-", "1_", "-1", "1.2.3.4.5.6.7.8.9"],
        ["9" * 128, "1" + "0" * 127, "a" * 128, "1.2.3-" + "x" * 120],
        ["ünïcode", "\u202e1.0", "1.0\u200b", "tag with spaces", "1.0 beta", "²", "1-²", "١٢"],
    ],
)
def test_it_orders_any_names_without_failing(names):
    result = ordered(names + names[::-1])
    assert sorted(result) == sorted(names + names[::-1])
    assert result == ordered(list(reversed(result)))  # a total order: the input order is irrelevant


def test_it_tells_versions_from_other_tags():
    assert [is_version(n) for n in ["1.2.3", "v2", "20190101", "3.18-slim"]] == [True] * 4
    assert [is_version(n) for n in ["latest", "build-1000", "4f3e2a1", "1.2."]] == [False] * 4
