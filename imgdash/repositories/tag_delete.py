"""Deleting one tag through the registry: by its manifest digest, so every tag sharing it goes.

The Image Manager API deletes only whole repositories. The registry v2 API deletes a manifest
by digest, which untags every tag pointing at it. So the confirmation names them all, the
user types the tag's name, and the POST checks again that the tags still point where they
did: a push in between would otherwise take away an image nobody confirmed.
"""

from dataclasses import dataclass, field

from django.conf import settings

from imgdash.imagemanager import ImageManagerError, Unauthorized
from imgdash.repositories import fetching

# HEADs per confirmation: only tags whose manifest the Image Manager API shows as identical
# to the chosen tag's can share its digest, so this bounds a rare case, not every page.
MAX_DIGEST_CHECKS = 20


@dataclass
class TagPlan:
    """What deleting `tag` would do, as the registry says now."""

    tag: str
    digest: str = ""
    sharing: list[str] = field(default_factory=list)  # tags with that digest, `tag` first
    # Same manifest in the Image Manager API but not asked (past MAX_DIGEST_CHECKS, or not
    # a name the registry takes): they almost certainly share the digest and go too.
    unchecked: list[str] = field(default_factory=list)
    allowed: bool = False  # the registry token grants delete on the repository
    problem: str = ""  # why no delete is offered, in words; "" when it is
    registry: object = None  # the open registry client, for the POST's delete

    @property
    def can_delete(self):
        return not self.problem and self.allowed and bool(self.digest)

    @property
    def going(self):
        return self.sharing + self.unchecked

    def close(self):
        close = getattr(self.registry, "close", None)
        if close is not None:
            close()


def plan_tag_delete(cluster, client, repository, tag):
    """The plan for deleting `tag` (a Tag of `repository`, from operation 4 just now).

    A 401 on operation 2 is the user's cluster token: it is raised, to reconnect. Every other
    failure is the plan's `problem`, with the registry client (if any) left open to close.
    """
    name = repository.name
    plan = TagPlan(tag.name)
    try:
        plan.registry = fetching.registry_client_for(
            cluster, client, name, deadline=settings.IMAGEMANAGER_CALL_DEADLINE, delete=True
        )
    except Unauthorized:
        raise
    except ImageManagerError as error:
        plan.problem = (
            f"{cluster.name} would not issue a registry token for {name}: {error.message}"
        )
        return plan
    if plan.registry is None:
        plan.problem = "This imgdash has no registry client, so it cannot delete single tags."
        return plan
    plan.allowed = plan.registry.grants(name, "delete")
    try:
        plan.digest = plan.registry.tag_digest(name, tag.name)
    except ImageManagerError as error:
        plan.problem = _unreachable(cluster, error)
        return plan
    plan.sharing = [tag.name]
    candidates = [
        other
        for other in repository.tags
        if other.name != tag.name and other.manifest == tag.manifest
    ]
    checkable = [other for other in candidates if other.valid][:MAX_DIGEST_CHECKS]
    for other in candidates:
        if other not in checkable:
            plan.unchecked.append(other.name)
            continue
        try:
            digest = plan.registry.tag_digest(name, other.name)
        except ImageManagerError:
            plan.unchecked.append(other.name)
            continue
        if digest == plan.digest:
            plan.sharing.append(other.name)
    if not plan.allowed:
        plan.problem = (
            f"Your account on {cluster.name} may not delete images of {name} in the registry: "
            "the registry token it was given grants no delete (that takes an Administrator "
            "role in the repository's namespace). Deleting the whole repository still works "
            "if your role allows it."
        )
    return plan


def _unreachable(cluster, error):
    host = cluster.registry_host
    if error.status == 404:
        return f"The registry at {host} has no such tag now: it may have just been deleted."
    if error.status in (401, 403):
        return f"The registry at {host} refused imgdash's token (HTTP {error.status})."
    if error.status is None:
        return f"The registry at {host} could not be reached, so no tag can be deleted now."
    return f"The registry at {host} failed (HTTP {error.status}), so no tag can be deleted now."


def confirmation_purpose(name, plan):
    """What the form's one-time token is bound to: the repository, the digest and the tags
    that go, so a form confirmed for one set cannot delete another."""
    return f"tag-delete:{name}:{plan.digest}:{','.join(sorted(plan.going))}"


def same_as_confirmed(plan, digest, going):
    """Whether the registry still says what the user confirmed (`digest`, the tags `going`
    as the form's comma-joined text)."""
    return plan.digest == digest and sorted(plan.going) == sorted(filter(None, going.split(",")))
