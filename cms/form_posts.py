"""The addresses public forms post to (give, give by transfer, buy tickets). After a refused
form the browser's address bar shows one of them; opened again (a new tab, the history, a
bookmark) it leads back to the page the form is on, not to an empty 405."""

from functools import wraps

from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404


def posted_from_page(page_model):
    """Decorate a view taking `page_id`: POST reaches it, GET and HEAD go to the live public
    page of `page_model` with that id (404 if none), anything else is a 405."""

    def decorator(view):
        @wraps(view)
        def door(request, page_id, *args, **kwargs):
            if request.method in ("GET", "HEAD"):
                page = get_object_or_404(page_model.objects.live().public(), pk=page_id)
                return HttpResponseRedirect(page.get_url(request))
            if request.method != "POST":
                return HttpResponseNotAllowed(["POST"])
            return view(request, page_id, *args, **kwargs)

        return door

    return decorator
