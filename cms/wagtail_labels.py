"""Wagtail's own labels that its Italian catalogue (8.x) leaves in English: the Promote tab's
"title tag" and "meta description" (translated as themselves), the title tag's help and the
content check of an empty meta description (not translated). Our catalogue (LOCALE_PATHS) is
read before the apps' ones (https://docs.djangoproject.com/en/6.1/topics/i18n/translation/#how-django-discovers-translations)
and translates them; these marks keep the entries in it when `makemessages` runs."""

from django.utils.translation import gettext_noop

PROMOTE_TAB = (
    gettext_noop("title tag"),
    gettext_noop("meta description"),
    gettext_noop(
        "The name of the page displayed on search engine results as the clickable headline."
    ),
)
# The editor's content checks (wagtail/admin/userbar.py): the one about the meta description.
CONTENT_CHECKS = (
    gettext_noop("Meta description is empty"),
    gettext_noop("Add a concise description for search engines"),
)
