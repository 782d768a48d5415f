"""The few HTML pages of the emulator's OpenID provider: the login form, errors, and
"signed out". Plain HTML without scripts; everything that came from a request is escaped.
"""

from html import escape

from .responses import Response

HTML = "text/html; charset=utf-8"
PAGE_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"),
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),
)

_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:26em;margin:4em auto}}
label{{display:block;margin-top:1em}} .error{{color:#a00}}</style></head>
<body>
<h1>{title}</h1>
{content}
</body>
</html>
"""


def page(status, title, content, headers=()):
    body = _PAGE.format(title=escape(title), content=content).encode()
    return Response(status, body, HTML, (*PAGE_HEADERS, *headers))


def login_page(action, ticket, client_name, username="", error="", headers=()):
    """The sign-in form; `ticket` ties it to the authorization request being answered."""
    message = f'<p class="error" role="alert">{escape(error)}</p>\n' if error else ""
    content = (
        f"<p>Sign in to IBM Cloud Private to continue to {escape(client_name)}.</p>\n"
        f"{message}"
        f'<form method="post" action="{escape(action)}">\n'
        f'<input type="hidden" name="ticket" value="{escape(ticket)}">\n'
        '<label for="username">Username</label>\n'
        f'<input id="username" name="username" value="{escape(username)}" '
        'autocomplete="username" required autofocus>\n'
        '<label for="password">Password</label>\n'
        '<input id="password" name="password" type="password" '
        'autocomplete="current-password" required>\n'
        '<p><button type="submit">Log in</button></p>\n'
        "</form>"
    )
    return page(401 if error else 200, "Log in to IBM Cloud Private", content, headers)


def error_page(status, message):
    return page(status, "Sign-in error", f"<p>{escape(message)}</p>")


def signed_out_page(note="", headers=()):
    extra = f"<p>{escape(note)}</p>" if note else ""
    return page(200, "Signed out", "<p>You have been logged out.</p>" + extra, headers)
