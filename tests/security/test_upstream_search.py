"""A search cannot be made expensive: repeated or implied words are searched once, and an
over-long search is cut with a message instead of being silently shortened."""

import pytest

from imgdash.repositories.search import MAX_QUERY_LENGTH, MAX_QUERY_WORDS, parse_query


def test_a_repeated_word_is_searched_once():
    assert parse_query("nginx NGINX nginx " * 80).words == ["nginx"]
    assert parse_query("tag:v1 tag:V1 tag:v1").tags == ["v1"]


def test_a_word_inside_another_word_is_implied_by_it():
    # Whatever contains "team-a" contains "team" and "a" in the same place.
    assert parse_query("team a team-a orders").words == ["team-a", "orders"]
    assert parse_query("tag:1.2 tag:1.25").tags == ["1.25"]


def test_a_search_of_too_many_words_keeps_the_first_and_says_so():
    query = parse_query(" ".join(f"w{i:03}" for i in range(MAX_QUERY_WORDS + 5)))
    assert len(query.words) == MAX_QUERY_WORDS
    assert any(f"at most {MAX_QUERY_WORDS} words" in problem for problem in query.problems)


def test_an_over_long_search_is_cut_and_says_so():
    query = parse_query("nginx " + "x" * MAX_QUERY_LENGTH)
    assert any(f"longer than {MAX_QUERY_LENGTH} characters" in p for p in query.problems)


@pytest.mark.django_db
def test_the_list_page_explains_an_over_long_search(client, make_user, connect, cluster):
    user = make_user("vera", "Viewer")
    connect(user, "admin")
    client.force_login(user)

    response = client.get(f"/clusters/{cluster.slug}/repositories/", {"q": "a b " * 5000})

    assert response.status_code == 200
    assert f"longer than {MAX_QUERY_LENGTH} characters".encode() in response.content
