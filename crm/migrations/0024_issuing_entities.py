"""Issuing entities (issue 26), the schema; the rows follow in 0025."""

import crm.money
import crm.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("crm", "0023_network_wallets"),
        ("wagtailimages", "0027_image_description"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="IssuingEntity",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "is_lead",
                    models.BooleanField(
                        default=False,
                        editable=False,
                        help_text="The network's ente capofila: its data are the network's own, and gifts go to it unless a campaign names another entity.",
                        verbose_name="lead entity",
                    ),
                ),
                (
                    "legal_name",
                    models.CharField(
                        help_text="As printed on receipts, e.g. 'Cooperativa sociale Il Ponte'.",
                        max_length=255,
                        verbose_name="legal name",
                    ),
                ),
                (
                    "codice_fiscale",
                    models.CharField(
                        max_length=16,
                        validators=[crm.validators.validate_codice_fiscale],
                        verbose_name="codice fiscale",
                    ),
                ),
                (
                    "partita_iva",
                    models.CharField(
                        blank=True,
                        max_length=13,
                        validators=[crm.validators.validate_partita_iva],
                        verbose_name="partita IVA",
                    ),
                ),
                (
                    "entity_kind",
                    models.CharField(
                        choices=[
                            ("odv", "Organizzazione di volontariato (ODV)"),
                            ("aps", "Associazione di promozione sociale (APS)"),
                            ("impresa_sociale", "Impresa sociale / cooperativa sociale"),
                            ("fondazione", "Fondazione"),
                            ("ets", "Altro ente del Terzo settore (ETS)"),
                            ("onlus", "ONLUS"),
                            ("ente_pubblico", "Ente pubblico"),
                        ],
                        max_length=20,
                        verbose_name="kind of entity",
                    ),
                ),
                (
                    "runts_number",
                    models.CharField(
                        blank=True,
                        help_text="Number in the Registro unico nazionale del Terzo settore, if registered.",
                        max_length=50,
                        verbose_name="RUNTS registration",
                    ),
                ),
                (
                    "tax_regime",
                    models.CharField(
                        choices=[
                            ("detraction_30", "Detraction 30% (art. 83 c.1 D.Lgs. 117/2017)"),
                            (
                                "detraction_35",
                                "Detraction 35% for ODV (art. 83 c.1 D.Lgs. 117/2017)",
                            ),
                            (
                                "deduction_10",
                                "Deduction up to 10% of income (art. 83 c.2 D.Lgs. 117/2017)",
                            ),
                            ("none", "No tax benefit"),
                        ],
                        default="detraction_30",
                        help_text="What the receipts of this entity's gifts tell donors about tax benefits.",
                        max_length=20,
                        verbose_name="tax regime of donations",
                    ),
                ),
                (
                    "street_address",
                    models.CharField(max_length=255, verbose_name="registered address"),
                ),
                ("postal_code", models.CharField(max_length=10, verbose_name="postal code")),
                ("city", models.CharField(max_length=100, verbose_name="city")),
                ("province", models.CharField(blank=True, max_length=2, verbose_name="province")),
                (
                    "email",
                    models.EmailField(blank=True, max_length=254, verbose_name="contact email"),
                ),
                ("phone", models.CharField(blank=True, max_length=40, verbose_name="phone")),
                ("signer_name", models.CharField(max_length=200, verbose_name="signer's name")),
                (
                    "signer_role",
                    models.CharField(
                        default="Legale rappresentante",
                        max_length=200,
                        verbose_name="signer's role",
                    ),
                ),
                (
                    "receipt_series",
                    models.CharField(
                        blank=True,
                        help_text="Printed before this entity's receipt numbers, e.g. 'CP' gives CP-2026/00001. Each entity numbers its receipts on its own from 1 every year, so every entity but the lead one needs a prefix of its own.",
                        max_length=10,
                        verbose_name="receipt series prefix",
                    ),
                ),
                (
                    "declared_income_cents",
                    crm.money.CentsField(
                        blank=True,
                        help_text="Total income (ricavi, rendite, proventi, entrate) of this entity: above € 220.000 its yearly donations data to the Agenzia delle Entrate is mandatory.",
                        null=True,
                        verbose_name="yearly income in the last approved accounts",
                    ),
                ),
            ],
            options={
                "verbose_name": "issuing entity",
                "verbose_name_plural": "issuing entities",
                "ordering": ["network", "-is_lead", "legal_name"],
            },
        ),
        migrations.RemoveConstraint(
            model_name="receipt",
            name="receipt_number_unique",
        ),
        migrations.RemoveConstraint(
            model_name="receiptcounter",
            name="one_counter_per_network_year",
        ),
        migrations.AddField(
            model_name="issuingentity",
            name="logo",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="wagtailimages.image",
                verbose_name="logo",
            ),
        ),
        migrations.AddField(
            model_name="issuingentity",
            name="network",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="entities",
                to="crm.network",
                verbose_name="network",
            ),
        ),
        migrations.AddField(
            model_name="issuingentity",
            name="treasurers_group",
            field=models.OneToOneField(
                blank=True,
                editable=False,
                help_text="People of this entity only: they see its gifts, receipts and Agenzia data, nothing else of the network.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="treasurer_of_entity",
                to="auth.group",
                verbose_name="treasurers' group",
            ),
        ),
        migrations.AddField(
            model_name="donation",
            name="entity",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="donations",
                to="crm.issuingentity",
                verbose_name="receiving entity",
            ),
        ),
        migrations.AddField(
            model_name="receipt",
            name="entity",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="receipts",
                to="crm.issuingentity",
                verbose_name="issuing entity",
            ),
        ),
        migrations.AddField(
            model_name="receiptcounter",
            name="entity",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="crm.issuingentity",
                verbose_name="entity",
            ),
        ),
    ]
