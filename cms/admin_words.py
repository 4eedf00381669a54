"""Wagtail's admin strings that its Italian catalogue leaves in English (an editor's footer is
read aloud as "Actions (footer)"; the page explorer counts "1-3 of 3 pagine"). Ours
(LOCALE_PATHS) is read first: these marks keep the entries in it, translated."""

from django.utils.translation import gettext_noop

WAGTAIL_WORDS = (
    gettext_noop("Actions (footer)"),
    # wagtailadmin/pages/listing/_page_title_column_header.html (blocktranslate trimmed)
    gettext_noop("%(start_index)s-%(end_index)s of %(items_count)s %(model_name)s"),
    gettext_noop(
        "%(start_index)s-%(end_index)s of %(items_count)s %(model_name)s across entire site."
    ),
    gettext_noop(
        "%(start_index)s-%(end_index)s of %(items_count)s %(model_name)s in "
        "'<span class=\"w-title-ellipsis\">%(title)s</span>'."
    ),
    gettext_noop("No results in '<span class=\"w-title-ellipsis\">%(title)s</span>'."),
)
