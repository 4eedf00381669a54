"""A save that loses a race to a database constraint is a form error, not an error page.

Two people may save, at the same moment, values that a unique constraint allows only once
(one Stripe account per issuing entity): both forms find the value free, the first save takes
it and the second meets the constraint as an IntegrityError. The second person gets their form
back, saying why in their language (the constraint's own message, as the form's validation
would have said it a moment later), and nothing of theirs is saved."""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError
from wagtail.admin.views import generic


class LostRaceMixin:
    """For Wagtail's create and edit views; Wagtail saves in a transaction (`form_valid`), so
    the refused save leaves nothing behind and the connection is usable for what follows."""

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except IntegrityError:
            try:
                # What the database refused, asked again now that the other save is there.
                form.instance.validate_constraints()
            except ValidationError as refused:
                for field, errors in refused.message_dict.items():
                    known = field != NON_FIELD_ERRORS and field in form.fields
                    form.add_error(field if known else None, errors)
                self.produced_error_message = self.get_error_message()
                return self.form_invalid(form)
            raise  # not a constraint a person can act on: the error it is


class LostRaceCreateView(LostRaceMixin, generic.CreateView):
    pass


class LostRaceEditView(LostRaceMixin, generic.EditView):
    pass
