"""Emulator users and ICP's namespace RBAC for images (`images.icp.ibm.com`).

Roles, weakest first: Viewer (list, get), Editor and Operator (also update the scope),
Administrator (also delete) -- each in the namespaces it was granted in -- and
ClusterAdministrator, which may do everything everywhere.
"""

from dataclasses import dataclass, field

CLUSTER_ADMIN = "ClusterAdministrator"
ROLE_RANK = {
    "Viewer": 1,
    "Editor": 2,
    "Operator": 2,
    "Administrator": 3,
    CLUSTER_ADMIN: 4,
}
# The key under which a ClusterAdministrator's role is stored in User.roles.
EVERY_NAMESPACE = "*"

CAN_UPDATE = ROLE_RANK["Editor"]
CAN_DELETE = ROLE_RANK["Administrator"]


@dataclass
class User:
    username: str
    password: str
    # namespace -> role; {"*": "ClusterAdministrator"} for a cluster administrator.
    roles: dict[str, str] = field(default_factory=dict)
    # What the OpenID provider puts in the `groups` claim, and the person's display name.
    groups: list[str] = field(default_factory=list)
    full_name: str = ""

    def __post_init__(self):
        for namespace, role in self.roles.items():
            if role not in ROLE_RANK:
                raise ValueError(f"{self.username}: unknown role {role!r}")
            if (role == CLUSTER_ADMIN) != (namespace == EVERY_NAMESPACE):
                raise ValueError(
                    f"{self.username}: ClusterAdministrator is granted on '*' only, "
                    f"and '*' takes ClusterAdministrator only"
                )

    @property
    def is_cluster_admin(self):
        return self.roles.get(EVERY_NAMESPACE) == CLUSTER_ADMIN

    @property
    def namespaces(self):
        """The namespaces this user holds a role in (None: every namespace)."""
        if self.is_cluster_admin:
            return None
        return frozenset(self.roles)

    @property
    def email(self):
        return f"{self.username}@mycluster.icp"

    def role_in(self, namespace):
        if self.is_cluster_admin:
            return CLUSTER_ADMIN
        return self.roles.get(namespace)

    def rank_in(self, namespace):
        return ROLE_RANK.get(self.role_in(namespace), 0)

    def describe(self):
        if self.is_cluster_admin:
            return "ClusterAdministrator (every namespace)"
        by_role = {}
        for namespace, role in sorted(self.roles.items()):
            by_role.setdefault(role, []).append(namespace)
        parts = [f"{role} in {', '.join(names)}" for role, names in by_role.items()]
        return "; ".join(parts) or "no role (sees global repositories only)"


def default_users():
    """The users every emulator starts with (the demo maps its accounts onto these)."""
    team_ab = ("team-a", "team-b")
    return {
        user.username: user
        for user in [
            User(
                "admin",
                "admin",
                {EVERY_NAMESPACE: CLUSTER_ADMIN},
                ["cluster-admins"],
                "Alex Admin",
            ),
            User(
                "nsadmin",
                "nsadmin",
                dict.fromkeys(team_ab, "Administrator"),
                ["team-a-admins", "team-b-admins"],
                "Nina Nsadmin",
            ),
            User(
                "operator",
                "operator",
                dict.fromkeys(team_ab, "Operator"),
                ["team-a-operators", "team-b-operators"],
                "Otto Operator",
            ),
            User("editor", "editor", {"team-a": "Editor"}, ["team-a-devs"], "Edith Editor"),
            User(
                "viewer",
                "viewer",
                dict.fromkeys(team_ab, "Viewer"),
                ["auditors"],
                "Victor Viewer",
            ),
        ]
    }


def build_users(users):
    """Users from a mapping username -> User or {"password": ..., "roles": {ns: role},
    "groups": [...], "full_name": ...}."""
    if users is None:
        return default_users()
    built = {}
    for username, info in users.items():
        if isinstance(info, User):
            built[username] = User(
                username, info.password, dict(info.roles), list(info.groups), info.full_name
            )
        else:
            built[username] = User(
                username,
                info["password"],
                dict(info.get("roles", {})),
                list(info.get("groups", [])),
                info.get("full_name", ""),
            )
    return built


# The rules the API enforces. `repo` is any object with `owner` and `scope`.


def can_see(user, repo):
    return user.is_cluster_admin or repo.scope == "global" or user.role_in(repo.owner) is not None


def can_update(user, repo):
    return user.rank_in(repo.owner) >= CAN_UPDATE


def can_delete(user, repo):
    return user.rank_in(repo.owner) >= CAN_DELETE
