# The emails model is named for what it sends (receipts and failed-payment notices), and the
# Stripe event log moves to the giving app (campaigns 0002 takes over its table).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0003_emails_to_donors"),
    ]

    operations = [
        migrations.RenameModel(old_name="ReceiptEmail", new_name="DonorEmail"),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="StripeEvent")],
            database_operations=[],
        ),
    ]
