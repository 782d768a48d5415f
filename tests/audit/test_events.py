"""Events other parts of imgdash record through record_event: role refusals, credentials."""

from imgdash.audit.models import AuditEvent
from imgdash.clusters.models import Credential


def test_a_role_refusal_is_recorded_as_denied(client, user):
    client.force_login(user)  # in no group: not a Viewer
    response = client.get("/clusters/", HTTP_USER_AGENT="pytest", REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 403
    event = AuditEvent.objects.get(action="access.denied")
    assert (event.outcome, event.actor, event.target) == ("denied", user, "/clusters/")
    assert event.message == "Viewer role required"
    assert (event.ip, event.user_agent) == ("198.51.100.4", "pytest")


def test_disconnecting_a_credential_is_recorded(client, make_user, prod):
    user = make_user("val", "Viewer")
    credential = Credential(user=user, cluster=prod, subject="val")
    token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ2YWwifQ.c2ln"
    credential.set_token(token)
    credential.save()
    client.force_login(user)
    response = client.post(f"/clusters/{prod.slug}/disconnect/")
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="credential.disconnect")
    assert (event.outcome, event.actor, event.cluster, event.cluster_name) == (
        "ok",
        user,
        prod,
        "Prod",
    )
    assert event.target == f"credential {credential.fingerprint}"
    assert token not in repr(AuditEvent.objects.values().get(pk=event.pk))
    assert not Credential.objects.filter(user=user).exists()
