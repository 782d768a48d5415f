"""The admin page of "Sign in with <cluster>": the client secret goes in, never comes out."""

import pytest

from imgdash.clusters.models import SignInProvider

pytestmark = pytest.mark.django_db
SECRET = "admin-typed-secret-CANARY"


def test_the_secret_is_stored_encrypted_and_never_shown_back(client, make_user, cluster):
    client.force_login(make_user("root", superuser=True))
    answer = client.post(
        "/admin/clusters/signinprovider/add/",
        {"cluster": cluster.pk, "enabled": "on", "client_id": "imgdash", "client_secret": SECRET},
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    provider = SignInProvider.objects.get()
    assert provider.client_secret == SECRET and SECRET not in provider.client_secret_encrypted
    page = client.get(f"/admin/clusters/signinprovider/{provider.pk}/change/")
    assert SECRET not in page.content.decode()
    # Saved again without a secret: the stored one stays.
    client.post(
        f"/admin/clusters/signinprovider/{provider.pk}/change/",
        {"cluster": cluster.pk, "enabled": "on", "client_id": "imgdash", "client_secret": ""},
    )
    assert SignInProvider.objects.get().client_secret == SECRET
