"""Every action the log knows, with the label people read, and the outcomes a row can have."""

ACTIONS = {
    "auth.sign_in": "Signed in",
    "auth.sign_in_failed": "Failed sign-in",
    "auth.sign_out": "Signed out",
    "credential.connect": "Connected a cluster token",
    "credential.connect_failed": "Failed to connect a cluster token",
    "credential.disconnect": "Disconnected a cluster token",
    "credential.stale": "Cluster token stopped working",
    "cluster.create": "Registered a cluster",
    "cluster.update": "Changed a cluster",
    "cluster.delete": "Deleted a cluster",
    "docker_token.issue": "Docker-login token issued",
    "repository.scope": "Changed repository scope",
    "repository.delete": "Deleted repository",
    "repository.bulk_delete": "Deleted repository (bulk)",
    "access.denied": "Refused by imgdash (role)",
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
