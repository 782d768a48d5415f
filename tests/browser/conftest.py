from urllib.parse import parse_qs, urlsplit

from imgdash.emulator.users import can_see


def visible_repositories(emulator, cluster_username):
    """What that emulator user's list shows: the ground truth, read from the emulator."""

    class Owned:
        def __init__(self, repository):
            self.owner = repository["owner"]
            self.scope = repository["scope"]

    user = emulator.users[cluster_username]
    return [r for r in emulator.repositories.all() if can_see(user, Owned(r))]


def tag_count(repository):
    return len(repository.get("tags") or [])


def matches_text(repository, text):
    """The list's free-text rule for one word: in the name or in a tag name."""
    text = text.lower()
    tags = "\n".join(tag["name"] for tag in repository.get("tags") or []).lower()
    return text in repository["name"].lower() or text in tags


def names(page):
    """The repository names in the list's rows, in order."""
    return page.locator("#repository-table tbody td.repo-name")


def query(url):
    pairs = parse_qs(urlsplit(url).query, keep_blank_values=True)
    return {key: values[-1] for key, values in pairs.items()}


def has_param(name, value):
    """For page.wait_for_url: the URL's query has name=value."""
    return lambda url: query(url).get(name) == value
