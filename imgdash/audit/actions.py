"""Every action the log knows, with the label people read, and the outcomes a row can have."""

ACTIONS = {
    "auth.sign_in": "Signed in",
    "auth.sign_in_failed": "Failed sign-in",
    "auth.sign_out": "Signed out",
    "auth.lockout": "Sign-in locked out (too many wrong passwords)",
    "auth.sign_out_everywhere": "Signed out everywhere",
    "role.grant": "Granted a role",
    "role.remove": "Removed a role",
    "user.deactivate": "Deactivated a user (sessions ended, tokens deleted)",
    "user.activate": "Reactivated a user",
    "credential.connect": "Connected a cluster token",
    "credential.connect_failed": "Failed to connect a cluster token",
    "credential.connect_locked": "Cluster sign-in locked out (too many wrong passwords)",
    "credential.disconnect": "Disconnected a cluster token",
    "credential.stale": "Cluster token stopped working",
    "credential.refresh": "Renewed a cluster token (refresh token)",
    "auth.oidc_user": "Account made by signing in with a cluster",
    "auth.oidc_roles": "Roles granted from the cluster's groups",
    "cluster.create": "Registered a cluster",
    "cluster.update": "Changed a cluster",
    "cluster.delete": "Deleted a cluster",
    "docker_token.issue": "Docker-login token issued",
    "repository.scope": "Changed repository scope",
    "repository.delete": "Deleted repository",
    "repository.bulk_delete": "Deleted repository (bulk)",
    "repository.tag_delete": "Deleted tags (one manifest, in the registry)",
    "access.denied": "Refused by imgdash (role)",
    "job.enqueue": "Job queued",
    "job.cancel": "Job cancel requested",
    "job.resume": "Job resumed",
    "job.interrupted": "Job interrupted (its worker stopped)",
    "job.finish": "Job finished",
}

INTENT = "intent"
OUTCOMES = {
    "ok": "ok",
    "refused": "refused by the cluster",
    "failed": "failed",
    "unknown": "unknown (timed out after sending)",
    "denied": "denied by imgdash",
    INTENT: "intent",
}


def action_label(action):
    return ACTIONS.get(action, action)
