"""Searching, filtering, sorting and paging the repository index, on rows built by hand."""

import pytest

from imgdash.imagemanager import SIZE_AT_LEAST, SIZE_EXACT, SIZE_UNKNOWN
from imgdash.repositories.index import Entry
from imgdash.repositories.search import (
    DEFAULT_PAGE_SIZE,
    MAX_QUERY_LENGTH,
    namespace_totals,
    paginate,
    parse_page,
    parse_page_size,
    parse_query,
    parse_sort,
    search,
    size_total,
    sort_entries,
)


def entry(name, scope="namespace", tags=(), size=0, size_state=SIZE_EXACT):
    # As index.entry_for builds it: tags only as lower-case text.
    return Entry(name, scope, len(tags), size, "\n".join(tags).lower(), True, size_state)


NGINX = entry("team-a/nginx-proxy", "global", ["1.25", "1.25-Alpine", "latest"], 300)
ORDERS = entry("team-a/orders-api", "namespace", ["v1.2.0", "v1.3.0"], 100)
BATCH = entry("team-b/batch/jobs/report", "namespace", ["2024-01"], 100)
ALPINE = entry("team-b/alpine", "global", ["3.19", "3.20", "edge", "latest"], 50)
MIRROR = entry("team-ab/team-a-mirror", "namespace", ["NGINX-copy"], 300)
ROOT = entry("busybox", "global", ["1.36"], 10)
ENTRIES = [NGINX, ORDERS, BATCH, ALPINE, MIRROR, ROOT]


def found(text, namespace="", scope=""):
    return [e.name for e in search(ENTRIES, parse_query(text, namespace, scope))]


def names(entries):
    return [e.name for e in entries]


# -- free text ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_it_finds_everything_for_an_empty_query(text):
    query = parse_query(text)
    assert query.empty
    assert not query.problems
    assert found(text) == names(ENTRIES)


def test_it_keeps_the_index_order_when_searching():
    assert found("latest") == ["team-a/nginx-proxy", "team-b/alpine"]


def test_a_word_matches_repository_names_and_tag_names():
    assert found("orders") == ["team-a/orders-api"]
    assert found("edge") == ["team-b/alpine"]  # only a tag says "edge"
    assert found("nginx") == ["team-a/nginx-proxy", "team-ab/team-a-mirror"]  # name, tag


def test_a_word_matches_part_of_a_name_or_tag():
    assert found("jobs/rep") == ["team-b/batch/jobs/report"]
    assert found("2024") == ["team-b/batch/jobs/report"]


@pytest.mark.parametrize("text", ["NGINX", "Nginx", "nGiNx"])
def test_words_ignore_case(text):
    assert found(text) == found("nginx")


def test_words_ignore_case_in_names_too():
    shouting = entry("team-c/WebApp", tags=["1.0"])
    assert search([shouting], parse_query("webapp")) == [shouting]


def test_every_word_must_match():
    assert found("team-a alpine") == ["team-a/nginx-proxy"]  # its tag 1.25-alpine
    assert found("orders alpine") == []


def test_nothing_matches_an_unknown_word():
    assert found("postgres") == []


# -- qualifiers --------------------------------------------------------------------------


def test_ns_finds_the_repositories_of_exactly_that_namespace():
    assert found("ns:team-a") == ["team-a/nginx-proxy", "team-a/orders-api"]
    assert found("ns:team") == []  # a namespace is matched whole, not as a prefix


def test_ns_ignores_a_namespace_mentioned_in_a_name():
    assert "team-ab/team-a-mirror" in found("team-a")
    assert "team-ab/team-a-mirror" not in found("ns:team-a")


def test_namespace_is_another_spelling_of_ns():
    assert found("namespace:team-b") == found("ns:team-b") == [BATCH.name, ALPINE.name]


def test_several_ns_qualifiers_find_any_of_them():
    assert found("ns:team-a ns:team-ab") == [NGINX.name, ORDERS.name, MIRROR.name]


def test_the_namespace_filter_acts_as_an_ns_qualifier():
    assert found("", namespace="team-b") == found("ns:team-b")
    assert found("", namespace="TEAM-B") == found("ns:team-b")
    assert found("alpine", namespace="team-b") == ["team-b/alpine"]


def test_a_namespace_with_capitals_is_found_by_ns_and_by_the_filter():
    legacy = entry("Legacy/App", tags=["1.0"])
    assert search([legacy], parse_query("legacy")) == [legacy]
    assert search([legacy], parse_query("ns:legacy")) == [legacy]
    # The filter lists namespaces as the index has them: choosing "Legacy" must find it.
    assert search([legacy], parse_query("", namespace="Legacy")) == [legacy]


@pytest.mark.parametrize("text", ["scope:global", "SCOPE:Global", "scope:GLOBAL"])
def test_scope_finds_repositories_by_who_may_pull_them(text):
    assert found(text) == [NGINX.name, ALPINE.name, ROOT.name]


def test_both_scopes_find_everything():
    assert found("scope:global scope:namespace") == names(ENTRIES)


def test_an_unknown_scope_is_explained_and_does_not_filter():
    query = parse_query("scope:public nginx")
    assert query.problems == ["scope:public is not a scope; use scope:global or scope:namespace"]
    assert query.scopes == set()
    assert found("scope:public nginx") == found("nginx")


def test_the_scope_filter_acts_as_a_scope_qualifier_and_ignores_nonsense():
    assert found("", scope="namespace") == [ORDERS.name, BATCH.name, MIRROR.name]
    assert found("", scope="<script>") == names(ENTRIES)
    assert parse_query("", scope="<script>").problems == []


def test_tag_looks_only_at_tag_names():
    assert found("tag:alpine") == ["team-a/nginx-proxy"]  # not team-b/alpine: no such tag
    assert found("tag:orders") == []


def test_tag_matches_part_of_a_tag_ignoring_case():
    assert found("tag:1.2") == ["team-a/nginx-proxy", "team-a/orders-api"]  # 1.25, v1.2.0
    assert found("TAG:Latest") == ["team-a/nginx-proxy", "team-b/alpine"]


def test_several_tag_qualifiers_must_all_match():
    assert found("tag:latest tag:edge") == ["team-b/alpine"]
    assert found("tag:latest tag:v1.2") == []


def test_qualifiers_and_words_narrow_together():
    assert found("ns:team-b scope:global tag:latest alp") == ["team-b/alpine"]
    assert found("ns:team-b scope:namespace tag:latest") == []


@pytest.mark.parametrize("text", ["ns:", "namespace:", "scope:", "tag:"])
def test_a_qualifier_with_no_value_is_searched_as_text(text):
    query = parse_query(text)
    assert query.words == [text]
    assert not (query.namespaces or query.scopes or query.tags or query.problems)
    assert found(text) == []  # no name or tag has a colon in it


@pytest.mark.parametrize("text", ["owner:team-a", "repo:nginx", ":nginx"])
def test_an_unknown_qualifier_is_searched_as_text(text):
    query = parse_query(text)
    assert query.words == [text]
    assert not (query.namespaces or query.scopes or query.tags or query.problems)
    assert found(text) == []


def test_a_tag_value_may_contain_a_colon():
    signed = entry("team-c/signed", tags=["sha256:abc"])
    assert parse_query("tag:sha256:abc").tags == ["sha256:abc"]
    assert search([signed, ORDERS], parse_query("tag:sha256:abc")) == [signed]


def test_an_over_long_query_is_cut_at_the_limit():
    words = parse_query("x" * (MAX_QUERY_LENGTH - 1) + "yz").words
    assert words == ["x" * (MAX_QUERY_LENGTH - 1) + "y"]


def test_what_comes_after_the_limit_does_not_filter():
    text = "nginx" + " " * MAX_QUERY_LENGTH + "ns:team-b tag:edge"
    query = parse_query(text)
    assert (query.words, query.namespaces, query.tags) == (["nginx"], set(), [])
    assert found(text) == found("nginx")


# -- sorting -----------------------------------------------------------------------------

AB_DELTA = "team-a-b/delta"

TIES = [
    entry("team-b/zeta", tags=["1"], size=10),
    entry("team-a/beta", tags=["1", "2"], size=30),
    entry("team-b/alpha", tags=["1", "2"], size=10),
    entry("team-a/gamma", tags=["1"], size=30),
    entry("omega", tags=["1", "2", "3"], size=5),
    entry("team-a-b/delta", tags=["1"], size=10),  # before team-a/ by name, after by namespace
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("name", ("name", False)),
        ("-name", ("name", True)),
        ("namespace", ("namespace", False)),
        ("-namespace", ("namespace", True)),
        ("tags", ("tags", False)),
        ("-tags", ("tags", True)),
        ("size", ("size", False)),
        ("-size", ("size", True)),
    ],
)
def test_it_reads_each_sort_key_and_its_direction(value, expected):
    assert parse_sort(value) == expected


@pytest.mark.parametrize("value", ["", "-", "evil", "-evil", "Size", "name ", "size;drop"])
def test_an_unknown_sort_falls_back_to_name_ascending(value):
    assert parse_sort(value) == ("name", False)


@pytest.mark.parametrize(
    ("key", "ascending"),
    [
        ("name", ["omega", AB_DELTA, "team-a/beta", "team-a/gamma", "team-b/alpha", "team-b/zeta"]),
        (
            "namespace",
            ["omega", "team-a/beta", "team-a/gamma", AB_DELTA, "team-b/alpha", "team-b/zeta"],
        ),
        # Ties (same tag count, same size) are broken by name.
        ("tags", [AB_DELTA, "team-a/gamma", "team-b/zeta", "team-a/beta", "team-b/alpha", "omega"]),
        ("size", ["omega", AB_DELTA, "team-b/alpha", "team-b/zeta", "team-a/beta", "team-a/gamma"]),
    ],
)
def test_it_sorts_by_each_key_with_ties_broken_by_name(key, ascending):
    assert names(sort_entries(TIES, key, descending=False)) == ascending


@pytest.mark.parametrize("key", ["name", "namespace", "tags", "size"])
def test_descending_is_ascending_turned_over_ties_included(key):
    ascending = names(sort_entries(TIES, key, descending=False))
    assert names(sort_entries(TIES, key, descending=True)) == ascending[::-1]


def test_the_largest_come_first_by_descending_size():
    assert names(sort_entries(TIES, "size", descending=True))[:2] == ["team-a/gamma", "team-a/beta"]


UNKNOWN_SIZES = [
    *TIES,
    entry("team-c/multi-arch", tags=["1"], size_state=SIZE_UNKNOWN),
    entry("team-a/schema1", tags=["1", "2"], size_state=SIZE_UNKNOWN),
    entry("team-b/mixed", tags=["1", "2"], size=20, size_state=SIZE_AT_LEAST),
    entry("team-b/empty"),  # no tags: exactly 0 B, sorted with the smallest
]


@pytest.mark.parametrize("descending", [False, True])
def test_unknown_sizes_come_last_in_both_directions(descending):
    ordered = names(sort_entries(UNKNOWN_SIZES, "size", descending))
    # Not sorted by size at all, so by name (A to Z) whichever way the sizes go.
    assert ordered[-2:] == ["team-a/schema1", "team-c/multi-arch"]
    # A lower bound sorts by the bytes it counts; an empty repository as 0 B.
    ascending = ["team-b/empty", "omega", AB_DELTA, "team-b/alpha", "team-b/zeta"]
    ascending += ["team-b/mixed", "team-a/beta", "team-a/gamma"]
    by_size = {False: ascending, True: ascending[::-1]}
    assert ordered[:-2] == by_size[descending]


def test_sorting_leaves_the_index_as_it_was():
    before = list(TIES)
    sort_entries(TIES, "size", descending=True)
    assert before == TIES


# -- paging ------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [("1", 1), ("3", 3), (" 2 ", 2), ("40", 40)])
def test_it_reads_a_page_number(value, expected):
    assert parse_page(value) == expected


@pytest.mark.parametrize(
    "value", [None, "", "0", "-1", "-999", "x", "2.5", "1e3", "二", "9" * 5000]
)
def test_a_page_number_that_is_not_one_gives_the_first_page(value):
    assert parse_page(value) == 1


@pytest.mark.parametrize("value", ["25", "50", "100", "200"])
def test_it_reads_an_offered_page_size(value):
    assert parse_page_size(value) == int(value)


@pytest.mark.parametrize(
    "value", [None, "", "x", "0", "-25", "1", "24", "75", "201", "1000", "100000", "50.0"]
)
def test_any_other_page_size_gives_the_default(value):
    assert parse_page_size(value) == DEFAULT_PAGE_SIZE == 50


ROWS = [entry(f"ns/repo-{n:03}") for n in range(120)]


def test_the_first_page():
    page = paginate(ROWS, 1, 50)
    assert names(page.object_list) == [f"ns/repo-{n:03}" for n in range(50)]
    assert (page.number, page.paginator.num_pages, page.paginator.count) == (1, 3, 120)
    assert (page.start_index(), page.end_index()) == (1, 50)
    assert (page.has_previous(), page.has_next()) == (False, True)


def test_a_middle_page():
    page = paginate(ROWS, 2, 50)
    assert names(page.object_list) == [f"ns/repo-{n:03}" for n in range(50, 100)]
    assert (page.start_index(), page.end_index()) == (51, 100)
    assert (page.has_previous(), page.has_next()) == (True, True)


def test_the_last_page_holds_the_rest():
    page = paginate(ROWS, 3, 50)
    assert names(page.object_list) == [f"ns/repo-{n:03}" for n in range(100, 120)]
    assert (page.start_index(), page.end_index()) == (101, 120)
    assert (page.has_previous(), page.has_next()) == (True, False)


@pytest.mark.parametrize("number", [4, 99, 10**9])
def test_a_page_past_the_end_shows_the_last_page(number):
    page = paginate(ROWS, number, 50)
    assert page.number == 3
    assert names(page.object_list) == [f"ns/repo-{n:03}" for n in range(100, 120)]


def test_a_full_last_page_leaves_no_empty_page_after_it():
    page = paginate(ROWS[:100], 2, 50)
    assert (page.paginator.num_pages, page.has_next(), len(page.object_list)) == (2, False, 50)


def test_nothing_found_is_one_empty_page():
    page = paginate([], 1, 50)
    assert (page.object_list, page.number, page.paginator.num_pages, page.paginator.count) == (
        [],
        1,
        1,
        0,
    )
    assert (page.start_index(), page.end_index()) == (0, 0)
    assert (page.has_previous(), page.has_next()) == (False, False)


def test_a_nonsense_page_parameter_pages_from_the_start():
    page = paginate(ROWS, parse_page("-2"), parse_page_size("7"))
    assert (page.number, page.paginator.per_page, page.start_index(), page.end_index()) == (
        1,
        50,
        1,
        50,
    )


# -- the storage overview ----------------------------------------------------------------


def totals(namespace, repositories, tags, size, state=SIZE_EXACT, unsized=0):
    return {
        "namespace": namespace,
        "repositories": repositories,
        "tags": tags,
        "size": size,
        "size_state": state,
        "unsized": unsized,
    }


def test_namespace_totals_add_up_repositories_tags_and_sizes_largest_first():
    assert namespace_totals(ENTRIES) == [
        totals("team-a", 2, 5, 400),
        totals("team-ab", 1, 1, 300),
        totals("team-b", 2, 5, 150),
        totals("", 1, 1, 10),
    ]


def test_namespace_totals_are_lower_bounds_or_unknown_when_sizes_are_missing():
    entries = [
        entry("team-a/app", tags=["1"], size=100),
        entry("team-a/multi-arch", tags=["1"], size_state=SIZE_UNKNOWN),
        entry("team-b/mixed", tags=["1", "2"], size=50, size_state=SIZE_AT_LEAST),
        entry("team-c/multi-arch", tags=["1"], size_state=SIZE_UNKNOWN),
        entry("team-c/empty"),  # 0 B exactly: adds nothing known
        entry("team-d/empty"),
    ]
    assert namespace_totals(entries) == [
        totals("team-a", 2, 2, 100, SIZE_AT_LEAST, 1),
        totals("team-b", 1, 2, 50, SIZE_AT_LEAST, 1),
        totals("team-d", 1, 0, 0),
        # Nothing of it has a known size: unknown, not "at least 0 B", and last.
        totals("team-c", 2, 1, 0, SIZE_UNKNOWN, 1),
    ]


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([], (0, SIZE_EXACT, 0)),
        ([(10, SIZE_EXACT), (0, SIZE_EXACT)], (10, SIZE_EXACT, 0)),
        ([(10, SIZE_EXACT), (0, SIZE_UNKNOWN)], (10, SIZE_AT_LEAST, 1)),
        ([(10, SIZE_AT_LEAST), (5, SIZE_EXACT)], (15, SIZE_AT_LEAST, 1)),
        ([(0, SIZE_UNKNOWN), (0, SIZE_UNKNOWN)], (0, SIZE_UNKNOWN, 2)),
        ([(0, SIZE_EXACT), (0, SIZE_UNKNOWN)], (0, SIZE_UNKNOWN, 1)),
    ],
)
def test_a_total_is_exact_only_when_every_part_is(states, expected):
    entries = [entry(f"team-a/r{i}", size=s, size_state=st) for i, (s, st) in enumerate(states)]
    assert size_total(entries) == expected


def test_namespaces_of_equal_size_are_listed_by_name():
    entries = [entry("zz/a", size=7), entry("aa/b", size=7), entry("mm/c", size=9)]
    assert [row["namespace"] for row in namespace_totals(entries)] == ["mm", "aa", "zz"]


def test_namespace_totals_of_an_empty_index_are_empty():
    assert namespace_totals([]) == []
