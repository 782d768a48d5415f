import re

from imgdash.jobs.models import Job


def bulk_url(cluster):
    return f"/clusters/{cluster.slug}/repositories/-/bulk-delete/"


def confirm_bulk_delete(client, cluster, names, **extra):
    """Both steps of the bulk-delete form, as a browser sends them; returns the new Job."""
    html = client.post(bulk_url(cluster), {"repository": names}).content.decode()
    token = re.search(r'name="confirmation" value="([^"]+)"', html).group(1)
    before = set(Job.objects.values_list("pk", flat=True))
    response = client.post(
        bulk_url(cluster),
        {"repository": names, "confirm_count": str(len(names)), "confirmation": token},
        **extra,
    )
    assert response.status_code == 302, response.content.decode()[:500]
    job = Job.objects.exclude(pk__in=before).get()
    assert response["Location"] == f"/jobs/{job.pk}/"
    return job


def team_names(emulator, owner, count):
    return [r["name"] for r in emulator.repositories.all() if r["owner"] == owner][:count]


def deletes(emulator):
    """The repository names the emulator was sent a DELETE for, in arrival order."""
    return [r.path.split("/repositories/", 1)[1] for r in emulator.requests if r.method == "DELETE"]


def finished(job):
    job.refresh_from_db()
    return job.is_finished
