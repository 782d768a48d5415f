"""The embedded IBM Cloud Private Image Manager emulator.

A small cluster that imgdash's demo and test suite talk to over real HTTP(S): the Image
Manager API (`/image-manager/api/v1`), the identity provider's password grant
(`/idprovider/v1/auth/identitytoken`), an OpenID Connect provider (`/oidc/endpoint/OP`),
namespace RBAC, seeded repositories and fault injection. See server.EmulatorServer (the
Python interface) and cli (the command).

Default users (username / password: role; OpenID `groups`):

    admin    / admin     ClusterAdministrator (every namespace); cluster-admins
    nsadmin  / nsadmin   Administrator in team-a and team-b; team-a-admins, team-b-admins
    operator / operator  Operator in team-a and team-b; team-a-operators, team-b-operators
    editor   / editor    Editor in team-a; team-a-devs
    viewer   / viewer    Viewer in team-a and team-b; auditors

Modules: app (the WSGI application), responses (its answers), control (the `/_emulator/`
endpoint), server (sockets, threads, TLS), connection (one HTTP connection, wire-level
faults), state (repositories in memory or a JSON file), seed (deterministic data), users
(roles and RBAC rules), tokens (JWTs), oidc (the OpenID provider), oidc_clients (its
clients, codes and tokens), oidc_pages (its login page), faults, requestlog, tls, cli;
registry (the registry v2 API on its own port, `registry_port`) and images (the config
blobs and per-platform manifests it serves, rebuilt from the seeded data).
"""
