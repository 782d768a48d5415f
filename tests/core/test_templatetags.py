"""The display filters shared by every page: sizes, exact or not."""

import pytest

from imgdash.core.templatetags.imgdash import bytes_human, size_figure, size_human
from imgdash.imagemanager import SIZE_AT_LEAST, SIZE_EXACT, SIZE_UNKNOWN


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, "0 B"), (1023, "1023 B"), (1536, "1.5 KB"), (737_773_568, "703.6 MB"), (None, "–")],
)
def test_bytes_human(value, expected):
    assert bytes_human(value) == expected


@pytest.mark.parametrize(
    ("state", "expected"),
    [(SIZE_EXACT, "1.5 KB"), (SIZE_AT_LEAST, "at least 1.5 KB"), (SIZE_UNKNOWN, "unknown")],
)
def test_a_size_says_whether_it_is_exact(state, expected):
    assert size_human(1536, state) == expected


def test_an_unknown_size_is_never_0_b_and_an_empty_one_is():
    assert size_human(0, SIZE_UNKNOWN) == "unknown"
    assert size_human(0) == "0 B"


def test_a_figure_that_is_not_exact_says_why_in_its_title():
    assert size_figure(1536) == '<span class="nowrap">1.5 KB</span>'
    at_least = size_figure(1536, SIZE_AT_LEAST)
    assert ">at least <" in at_least and "1.5 KB" in at_least
    assert "multi-arch" in at_least and "schema 1" in at_least
    unknown = size_figure(0, SIZE_UNKNOWN)
    assert ">unknown</span>" in unknown and "No tag has a size" in unknown


def test_a_total_says_how_many_repositories_lack_sizes():
    assert "3 of these repositories have tags of unknown size" in size_figure(
        10, SIZE_AT_LEAST, unsized=3
    )
    assert "1 of these repositories has tags" in size_figure(0, SIZE_UNKNOWN, unsized=1)
