"""The embedded IBM Cloud Private Image Manager emulator.

A small cluster that imgdash's demo and test suite talk to over real HTTP(S): the Image
Manager API (`/image-manager/api/v1`), the identity provider's password grant
(`/idprovider/v1/auth/identitytoken`), namespace RBAC, seeded repositories and fault
injection. See server.EmulatorServer (the Python interface) and cli (the command).

Default users (username / password: role):

    admin    / admin     ClusterAdministrator (every namespace)
    nsadmin  / nsadmin   Administrator in team-a and team-b
    operator / operator  Operator in team-a and team-b
    editor   / editor    Editor in team-a
    viewer   / viewer    Viewer in team-a and team-b

Modules: app (the WSGI application), responses (its answers), control (the `/_emulator/`
endpoint), server (sockets, threads, TLS), connection (one HTTP connection, wire-level
faults), state (repositories in memory or a JSON file), seed (deterministic data), users
(roles and RBAC rules), tokens (JWTs), faults, requestlog, tls, cli.
"""
