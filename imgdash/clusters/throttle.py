"""Connect-by-password under the sign-in lockout policy, so imgdash is no unthrottled
password-guessing proxy against a cluster's identity provider.

Failures are counted per cluster, cluster username and client address: after the limit,
imgdash refuses without calling the cluster until the cool-off has passed. Only the
provider's "wrong username or password" counts; an outage does not.
"""

from hashlib import sha256

from imgdash.accounts import lockout

# axes keeps the key in a 255-character column.
_MAX_KEY = 255


def password_key(cluster, username):
    """The lockout key of a cluster username. Local usernames cannot contain ':', so no key
    here is also someone's imgdash account."""
    name = username.strip().casefold()
    key = f"cluster:{cluster.slug}:{name}"
    if len(key) > _MAX_KEY:
        key = f"cluster:{cluster.slug}:sha256:{sha256(name.encode()).hexdigest()}"
    return key


def lockout_context(request, cluster, username):
    """What the connect page says when this username is locked out here, else None."""
    key = password_key(cluster, username)
    if not lockout.is_locked_out(request, key):
        return None
    return {
        **lockout.lockout_context(request, key),
        "what": "Signing in to the cluster as this user",
    }


def note_wrong_password(request, cluster, username):
    """Count a refused password; the failure that starts a lockout logs it, once."""
    if lockout.note_failure(request, password_key(cluster, username)):
        lockout.record_lockout_event(
            request,
            "credential.connect_locked",
            cluster=cluster,
            target=f"{username}@{cluster.slug}",
        )


def note_connected(request, cluster, username):
    lockout.note_success(request, password_key(cluster, username))
