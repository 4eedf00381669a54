"""Identity claims and money at the door (issue 9).

- Donor: `possible_duplicate_of` (a gift came with this donor's codice fiscale or email but
  other details) and `newsletter_confirmed_at` (double opt-in).
- Donation: status `needs_review` with what Stripe reported, when the amount or currency paid
  is not the gift's; `anonymous` now defaults to True (named only with the gift's own consent).
- DonorEmail: the newsletter confirmation, addressed to a donor.

The data step keeps the donor wall as it was: a gift was named only if it was not anonymous AND
its donor had consented; from now on only the gift's flag counts, so gifts whose donor had not
consented become anonymous (never the other way round).
"""

import django.db.models.deletion
from django.db import migrations, models


def name_only_with_consent(apps, schema_editor):
    Donation = apps.get_model("crm", "Donation")
    using = schema_editor.connection.alias
    Donation.objects.using(using).filter(anonymous=False).exclude(
        donor__public_mention=True
    ).update(anonymous=True)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0006_receipt_pdfs_on_private_storage"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="donoremail",
            name="email_has_its_subject",
        ),
        migrations.AddField(
            model_name="donation",
            name="reported_amount_cents",
            field=models.PositiveIntegerField(
                blank=True, null=True, verbose_name="amount reported by Stripe (cents)"
            ),
        ),
        migrations.AddField(
            model_name="donation",
            name="reported_currency",
            field=models.CharField(
                blank=True, max_length=3, verbose_name="currency reported by Stripe"
            ),
        ),
        migrations.AddField(
            model_name="donor",
            name="newsletter_confirmed_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When the donor confirmed the newsletter from the link we emailed them.",
                null=True,
                verbose_name="newsletter confirmed at",
            ),
        ),
        migrations.AddField(
            model_name="donor",
            name="possible_duplicate_of",
            field=models.ForeignKey(
                blank=True,
                help_text=(
                    "Set when a gift came with this donor's codice fiscale or email but other "
                    "details: what a donor types is a claim, so a treasurer decides whether to "
                    "merge."
                ),
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="possible_duplicates",
                to="crm.donor",
                verbose_name="possible duplicate of",
            ),
        ),
        migrations.AddField(
            model_name="donoremail",
            name="donor",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="emails",
                to="crm.donor",
            ),
        ),
        migrations.AlterField(
            model_name="donation",
            name="anonymous",
            field=models.BooleanField(
                default=True,
                help_text=(
                    "Untick only if the donor agreed, with this gift, to be named on the donor "
                    "wall."
                ),
                verbose_name="anonymous on public pages",
            ),
        ),
        migrations.AlterField(
            model_name="donation",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("succeeded", "Succeeded"),
                    ("failed", "Failed"),
                    ("cancelled", "Cancelled"),
                    ("refunded", "Refunded"),
                    ("partially_refunded", "Partially refunded"),
                    ("disputed", "Disputed"),
                    ("needs_review", "Held for review: amount or currency differs"),
                ],
                default="pending",
                max_length=20,
                verbose_name="status",
            ),
        ),
        migrations.AlterField(
            model_name="donoremail",
            name="kind",
            field=models.CharField(
                choices=[
                    ("receipt", "Receipt"),
                    ("payment_failed", "Monthly payment failed"),
                    ("newsletter_confirm", "Newsletter confirmation"),
                ],
                default="receipt",
                max_length=20,
                verbose_name="kind",
            ),
        ),
        migrations.AddConstraint(
            model_name="donoremail",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "receipt"), ("receipt__isnull", False)),
                    models.Q(("kind", "payment_failed"), ("recurring_plan__isnull", False)),
                    models.Q(("kind", "newsletter_confirm"), ("donor__isnull", False)),
                    _connector="OR",
                ),
                name="email_has_its_subject",
            ),
        ),
        migrations.RunPython(name_only_with_consent, migrations.RunPython.noop),
    ]
