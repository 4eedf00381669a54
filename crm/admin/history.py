"""Reports → Site history, as Wagtail draws it, with two of its gaps closed.

Which entries a person reads is decided by the log models (`crm.models.history`); this view
adds what the log models cannot:
- the "User" filter lists only the people of entries the reader may see (Wagtail 8's filter
  set overrides `get_user_choices`, which its base class no longer calls, and so lists every
  user who ever edited any page: an oracle of other networks' staff);
- the CSV and XLSX exports neutralise text a spreadsheet would run as a formula (a donor's
  name is typed by the public), as every CRM export does (`crm.exports.neutralise`).
`cms.admin_urls` mounts it on Wagtail's own address of the report.
"""

from wagtail.admin.views.reports.audit_logging import (
    LogEntriesView,
    SiteHistoryReportFilterSet,
    get_users_for_filter,
)

from crm.exports import ReadersExport, neutralise


class SiteHistoryFilterSet(SiteHistoryReportFilterSet):
    def get_users_queryset(self):
        return get_users_for_filter(self.request.user)


class SiteHistoryView(ReadersExport, LogEntriesView):
    filterset_class = SiteHistoryFilterSet
    custom_value_preprocess = {
        **LogEntriesView.custom_value_preprocess,
        str: {LogEntriesView.FORMAT_CSV: neutralise, LogEntriesView.FORMAT_XLSX: neutralise},
    }
