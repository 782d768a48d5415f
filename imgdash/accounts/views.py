from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from imgdash.accounts.sessions import end_session, sign_out_everywhere


@require_POST
def sign_out_everywhere_view(request):
    """Any signed-in user may end all of their own sessions, this one included."""
    sign_out_everywhere(request.user, request)
    end_session(request)
    messages.success(request, "You were signed out on every device and browser, this one too.")
    return redirect("login")
