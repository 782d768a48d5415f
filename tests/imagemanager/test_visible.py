import pytest

from imgdash.imagemanager import visible_text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("team-a/nginx", "team-a/nginx"),
        ("team-a/\u202egpj.exe", "team-a/\\u202egpj.exe"),
        ("ng\u200binx", "ng\\u200binx"),
        ("a\u2066b\u2069", "a\\u2066b\\u2069"),
        ("line\nbreak\t\x00", "line\\nbreak\\t\\x00"),
        ("\ufeffbom", "\\ufeffbom"),
        ("tag\U000e0041", "tag\\U000e0041"),
        ("café ünïcode 東京 🐳", "café ünïcode 東京 🐳"),
    ],
)
def test_it_shows_hidden_characters_as_escapes_and_leaves_the_rest(text, shown):
    assert visible_text(text) == shown
