import re

import pytest

from imgdash.core.templatetags.imgdash import bytes_human
from imgdash.imagemanager import SIZE_EXACT, Repository

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(client, make_user, connect):
    user = make_user("vera", "Viewer")
    connect(user, "admin", ttl=2 * 3600 + 5 * 60 + 30)
    client.force_login(user)
    return user


def test_status_shows_banner_endpoints_round_trip_tls_and_token_expiry(client, viewer, cluster):
    response = client.get(f"/clusters/{cluster.slug}/status/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "IBM Cloud Private Image Management API." in html
    assert "/image-manager/api/v1/repositories/{repo:.*}" in html
    assert html.count('<td class="mono">DELETE</td>') == 1
    assert re.search(r'id="round-trip">\d+ ms', html)
    assert "none (plain HTTP on this machine)" in html
    assert "expires in 2 h 5 min" in html


def test_status_warns_when_tls_verification_is_off(client, viewer, cluster, connect):
    cluster.verify_tls = False
    cluster.api_url = cluster.api_url  # the emulator is plain HTTP; the flag is what shows
    cluster.save()
    connect(viewer, "admin")  # the change deleted the token connected before it
    html = client.get(f"/clusters/{cluster.slug}/status/").content.decode()
    assert "none (plain HTTP on this machine)" in html or "tokens could be intercepted" in html


def test_status_shows_an_unreachable_cluster_readably(client, viewer, cluster, emulator):
    emulator.faults.add(
        method="GET", path=r"/image-manager/api/v1/?$", status=503, body="upstream connect error\n"
    )
    response = client.get(f"/clusters/{cluster.slug}/status/")
    assert response.status_code == 502
    assert b"upstream connect error" in response.content


def test_storage_totals_per_namespace(client, viewer, cluster, emulator):
    response = client.get(f"/clusters/{cluster.slug}/storage/")
    assert response.status_code == 200
    html = response.content.decode()
    totals = {}
    for data in emulator.repositories.all():
        repository = Repository.from_api(data)
        row = totals.setdefault(repository.namespace, [0, 0])
        row[0] += 1
        row[1] += repository.tag_count
    table = html[html.index('id="storage-table"') :]
    for namespace, (repositories, tags) in totals.items():
        assert re.search(
            rf">{re.escape(namespace)}</a></td><td class=\"num\">{repositories}</td>"
            rf"<td class=\"num\">{tags}</td>",
            table,
        )
    assert '<svg viewBox="0 0 800' in html
    assert html.count('<rect class="bar"') == min(15, len(totals))


def test_storage_sorts_by_any_column(client, viewer, cluster, emulator):
    html = client.get(f"/clusters/{cluster.slug}/storage/?sort=namespace").content.decode()
    table = html[html.index('id="storage-table"') :]
    namespaces = re.findall(r'namespace=[^"]*">([^<]+)</a>', table)
    assert namespaces == sorted(namespaces)
    assert client.get(f"/clusters/{cluster.slug}/storage/?sort=bogus").status_code == 200


def test_operators_get_a_docker_token_button_on_the_cluster_page(
    client, make_user, connect, cluster
):
    user = make_user("olga", "Operator")
    connect(user, "admin")
    client.force_login(user)
    html = client.get(f"/clusters/{cluster.slug}/status/").content.decode()
    assert f'action="/clusters/{cluster.slug}/docker-token/"' in html
    viewer = make_user("vera", "Viewer")
    connect(viewer, "admin")
    client.force_login(viewer)
    viewer_page = client.get(f"/clusters/{cluster.slug}/status/")
    assert viewer_page.status_code == 200
    assert b"docker-token/" not in viewer_page.content


def total_line(html):
    """The text of the storage page's line of totals."""
    line = re.search(r'<p id="storage-total"[^>]*>(.*?)</p>', html, re.S).group(1)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", line)).strip()


def test_storage_totals_say_when_they_are_lower_bounds(client, viewer, cluster, emulator):
    html = client.get(f"/clusters/{cluster.slug}/storage/").content.decode()
    repositories = [Repository.from_api(data) for data in emulator.repositories.all()]
    unsized = [r for r in repositories if r.size_state != SIZE_EXACT]
    total = sum(r.size for r in repositories)
    summary = total_line(html)
    assert f"at least {bytes_human(total)} in all" in summary
    assert f"{len(unsized)} repositories have tags of unknown size" in summary
    table = html[html.index('id="storage-table"') :]
    # team-a holds a multi-arch repository beside plain ones: its total is a lower bound.
    team_a = re.search(r">team-a</a></td>.*?</tr>", table, re.S).group(0)
    assert "at least" in team_a


def test_storage_totals_are_exact_when_every_size_is_known(client, viewer, cluster, emulator):
    for data in emulator.repositories.all():
        if Repository.from_api(data).size_state != SIZE_EXACT:
            emulator.repositories.delete(data["name"])
    html = client.get(f"/clusters/{cluster.slug}/storage/").content.decode()
    summary = total_line(html)
    assert "at least" not in html and "unknown size" not in summary
    total = sum(Repository.from_api(data).size for data in emulator.repositories.all())
    assert f"{bytes_human(total)} in all" in summary
