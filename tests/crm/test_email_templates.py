"""Each network words its own emails: communicators and treasurers of that network only,
placeholders checked, a preview and a test send; the next emails use the network's text and
the other network's stay as they were."""

import datetime

import pytest
from django.utils import timezone

from crm.models import Donation, Donor, EmailTemplate
from crm.offline import record_offline_gift
from tests.entities import partner_entity

pytestmark = pytest.mark.django_db

INDEX = "/admin/crm/email-templates/"


def edit_url(network, kind="gift", language="it"):
    return f"{INDEX}{network.pk}/{kind}/{language}/"


@pytest.mark.parametrize("who", ["comunicazione-oltre-il-ponte", "tesoreria-oltre-il-ponte"])
def test_a_networks_people_edit_its_emails_and_only_its_own(client, demo, users, who):
    mine, theirs = demo["oltre-il-ponte"], demo["valle-serena"]
    client.force_login(users[who])

    index = client.get(INDEX)
    assert index.status_code == 200
    html = index.content.decode()
    assert mine.name in html and theirs.name not in html
    assert edit_url(mine) in html and edit_url(theirs) not in html

    # the default wording is where they start
    page = client.get(edit_url(mine))
    assert page.status_code == 200
    assert "{nome}" in page.content.decode() and "{importo}" in page.content.decode()

    # another network's emails are not there for them
    assert client.get(edit_url(theirs)).status_code == 404
    posted = client.post(edit_url(theirs), {"action": "save", "subject": "x", "body": "y"})
    assert posted.status_code == 404
    assert not EmailTemplate.objects.exists()


def test_nobody_else_reaches_the_screen(client, demo, users):
    assert client.get(INDEX).status_code == 302  # to sign in
    network = demo["oltre-il-ponte"]
    assert client.get(edit_url(network, kind="nonsense")).status_code == 302
    client.force_login(users["tesoreria-oltre-il-ponte"])
    assert client.get(edit_url(network, kind="nonsense")).status_code == 404
    assert client.get(edit_url(network, language="de")).status_code == 404


def test_an_unknown_placeholder_is_a_clear_form_error(client, demo, users):
    network = demo["oltre-il-ponte"]
    client.force_login(users["comunicazione-oltre-il-ponte"])
    response = client.post(
        edit_url(network),
        {"action": "save", "subject": "Grazie {nome}", "body": "Ciao {name}, {__class__}"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Unknown placeholder: {name}, {__class__}" in html
    assert not EmailTemplate.objects.exists()


def test_preview_and_test_send_use_sample_data(client, demo, users, mailoutbox):
    network = demo["oltre-il-ponte"]
    user = users["comunicazione-oltre-il-ponte"]
    client.force_login(user)
    fields = {"subject": "Grazie {nome}!", "body": "Hai dato {importo} il {data} per {campagna}."}

    preview = client.post(edit_url(network), {"action": "preview", **fields})
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "Grazie Lucia!" in html and "Hai dato € 25,00 il 25/11/2026" in html
    assert mailoutbox == [] and not EmailTemplate.objects.exists()

    client.post(edit_url(network), {"action": "test", **fields})
    (message,) = mailoutbox
    assert message.to == [user.email]
    assert message.subject == "[TEST] Grazie Lucia!"
    assert "Hai dato € 25,00 il 25/11/2026 per Doposcuola per tutti." in message.body
    assert not EmailTemplate.objects.exists()  # a test saves nothing


def test_a_networks_own_text_is_sent_to_its_donors_and_not_to_the_others(
    client, demo, users, mailoutbox, django_capture_on_commit_callbacks
):
    # given Oltre il Ponte's own wording of the gift confirmation, in Italian
    mine, theirs = demo["oltre-il-ponte"], demo["valle-serena"]
    client.force_login(users["comunicazione-oltre-il-ponte"])
    saved = client.post(
        edit_url(mine),
        {
            "action": "save",
            "subject": "Grazie di cuore, {nome}",
            "body": "Cara/o {nome}, abbiamo ricevuto {importo} il {data} ({metodo}).\n"
            "<script>alert(1)</script> {link}",
        },
    )
    assert saved.status_code == 302
    assert EmailTemplate.objects.get().network == mine

    # when a gift arrives in each network
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        for network, name in ((mine, "Giulia"), (theirs, "Piero")):
            donor = Donor.objects.create(
                network=network, first_name=name, email=f"{name.lower()}@example.org"
            )
            record_offline_gift(
                network=network,
                donor=donor,
                amount_cents=2000,
                received_on=yesterday,
                method=Donation.Method.CASH,
            )

    # then Oltre il Ponte's donor reads its text, filled in; Valle Serena's the default
    by_to = {m.to[0]: m for m in mailoutbox}
    own = by_to["giulia@example.org"]
    assert own.subject == "Grazie di cuore, Giulia"
    expected = f"abbiamo ricevuto €\xa020,00 il {yesterday:%d/%m/%Y} (Contanti)"
    assert expected in own.body
    html = own.alternatives[0][0]
    assert "<script>" not in html and "&lt;script&gt;" in html
    default = by_to["piero@example.org"]
    assert default.subject.startswith("Grazie per il tuo dono")
    assert "Gentile Piero," in default.body

    # and back to the default wording, the next one is the default again
    client.post(edit_url(mine), {"action": "reset"})
    assert not EmailTemplate.objects.exists()


def test_the_preview_of_ente_names_the_entity_chosen_and_says_which(
    client, demo, users, mailoutbox
):
    # given a network with a partner entity beside its lead, and another network's entity

    network, other = demo["oltre-il-ponte"], demo["valle-serena"]
    lead = network.lead_entity
    partner = partner_entity(network)
    user = users["tesoreria-oltre-il-ponte"]
    client.force_login(user)
    fields = {"subject": "Grazie da {ente}", "body": "Per {ente}, {firma}."}
    # when the treasurer previews without choosing: the lead entity, said so
    html = client.post(edit_url(network), {"action": "preview", **fields}).content.decode()
    assert f"Per {lead.legal_name}, {lead.signer_name}." in html
    assert 'data-testid="preview-entity"' in html and "lead entity" in html
    # the entities of the network are offered, no other network's
    assert f'value="{partner.pk}"' in html
    assert f'value="{other.lead_entity.pk}"' not in html
    # when they preview the emails of the partner's gifts: the partner, said so
    response = client.post(edit_url(network), {"action": "preview", "entity": partner.pk, **fields})
    html = response.content.decode()
    assert "Per Cooperativa sociale Il Ponte, Luca Bianchi." in html
    assert lead.legal_name not in html.split('data-testid="email-preview"')[1]
    # and a test send speaks for the partner too
    client.post(edit_url(network), {"action": "test", "entity": partner.pk, **fields})
    (message,) = mailoutbox
    assert "Per Cooperativa sociale Il Ponte, Luca Bianchi." in message.body
    # another network's entity is never shown: the lead's preview instead
    html = client.post(
        edit_url(network), {"action": "preview", "entity": other.lead_entity.pk, **fields}
    ).content.decode()
    assert other.lead_entity.legal_name not in html
    assert f"Per {lead.legal_name}, {lead.signer_name}." in html
    assert not EmailTemplate.objects.exists()
