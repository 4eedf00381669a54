"""Wagtail's admin strings that its Italian catalogue leaves in English (an editor's footer is
read aloud as "Actions (footer)"). Ours (LOCALE_PATHS) is read first: these marks keep the
entries in it, translated."""

from django.utils.translation import gettext_noop

WAGTAIL_WORDS = (gettext_noop("Actions (footer)"),)
