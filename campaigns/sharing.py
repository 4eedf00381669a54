"""The address a campaign page is shared with."""


def share_url(request):
    """The page's address to share, without the `?m=` of the email that brought this visitor
    (a friend giving through a shared link did not come through that email)."""
    query = request.GET.copy()
    query.pop("m", None)
    path = f"{request.path}?{query.urlencode()}" if query else request.path
    return request.build_absolute_uri(path)
