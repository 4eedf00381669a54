"""The demo's networks, their entities, partners and campaigns, and the story of their pages:
the content `manage.py seed_demo` creates (Italian, as a network would write it)."""

from crm.models import Network

NETWORKS = [
    {
        "slug": "oltre-il-ponte",
        "name": "Oltre il Ponte",
        "tagline": "Welfare di comunità tra Lecco e la Valsassina: nessuno resta solo.",
        "colour": (179, 38, 30),
        "entity": {
            "legal_name": "Cooperativa Sociale La Lanterna Onlus",
            "codice_fiscale": "92012340011",
            "entity_kind": Network.EntityKind.SOCIAL_ENTERPRISE,
            "runts_number": "12345",
            "tax_regime": Network.TaxRegime.DETRACTION_30,
            "street_address": "Via Roma 12",
            "postal_code": "23900",
            "city": "Lecco",
            "province": "LC",
            "email": "raccolta@oltreilponte.example.org",
            "signer_name": "Giulia Bonacina",
            "signer_role": "Presidente e legale rappresentante",
            "receipt_series": "OP",
        },
        "partners": [
            ("Comune di Lecco", "Ente pubblico capofila del tavolo"),
            ("Associazione Auser Lecco", "Trasporti solidali e compagnia agli anziani"),
            ("Cooperativa Sociale Il Sentiero", "Educativa di strada e doposcuola"),
            ("Caritas decanale", "Centro di ascolto e distribuzione alimentare"),
        ],
        "campaign": (
            "Un doposcuola per ogni quartiere",
            1_500_000,
            "Apriamo tre nuovi doposcuola gratuiti per 90 ragazzi delle medie.",
        ),
    },
    {
        "slug": "valle-serena",
        "name": "Comunità Valle Serena",
        "tagline": "In Val Seriana costruiamo insieme una comunità che si prende cura.",
        "colour": (27, 110, 58),
        "entity": {
            "legal_name": "Associazione Valle Serena ODV",
            "codice_fiscale": "93011220014",
            "entity_kind": Network.EntityKind.ODV,
            "runts_number": "67890",
            "tax_regime": Network.TaxRegime.DETRACTION_35,
            "street_address": "Piazza Garibaldi 3",
            "postal_code": "24025",
            "city": "Gazzaniga",
            "province": "BG",
            "email": "info@valleserena.example.org",
            "signer_name": "Marco D'Alò",
            "signer_role": "Presidente",
            "receipt_series": "",
        },
        "partners": [
            ("Unione dei Comuni della Val Seriana", "Servizi sociali associati"),
            ("APS Il Ponte dei Colori", "Laboratori per famiglie"),
            ("Fondazione Comunitaria Bergamasca", "Sostegno ai progetti"),
        ],
        "campaign": (
            "Il pulmino della solidarietà",
            2_800_000,
            "Un mezzo attrezzato per accompagnare anziani e persone con disabilità.",
        ),
        "suggested_amounts": "15 30 60 120",
        # A partner that receives the gifts of a campaign of its own: its receipts are in its
        # series, its card payments on its Stripe account.
        "partner_entity": {
            "legal_name": "APS Il Ponte dei Colori",
            "codice_fiscale": "02741930164",
            "entity_kind": Network.EntityKind.APS,
            "tax_regime": Network.TaxRegime.DETRACTION_30,
            "street_address": "Via Manzoni 8",
            "postal_code": "24021",
            "city": "Albino",
            "province": "BG",
            "email": "laboratori@pontedeicolori.example.org",
            "signer_name": "Elena Carrara",
            "signer_role": "Presidente",
            "receipt_series": "PC",
            "stripe_account_id": "acct_1DemoPonteColori",
        },
        "partner_campaign": (
            "Laboratori per le famiglie",
            600_000,
            "Un anno di laboratori del sabato per genitori e bambini, in biblioteca ad Albino.",
        ),
    },
]

STORY = [
    ("heading", {"text": "Chi siamo", "level": "h2"}),
    (
        "paragraph",
        "<p>Siamo una rete di enti pubblici, cooperative sociali e associazioni che "
        "hanno scelto di lavorare insieme. Mettiamo in comune spazi, competenze e "
        "volontari perché ogni famiglia sappia a chi rivolgersi.</p>",
    ),
    (
        "key_figures",
        {
            "title": "Il nostro anno",
            "figures": [
                {"figure": "1.240", "label": "persone accompagnate"},
                {"figure": "186", "label": "volontari attivi"},
                {"figure": "14", "label": "enti nella rete"},
            ],
        },
    ),
    (
        "quote",
        {
            "text": "Qui ho trovato persone che mi hanno ascoltata, non solo un servizio.",
            "author": "Anna",
            "role": "mamma di due ragazzi",
        },
    ),
    ("heading", {"text": "Cosa facciamo", "level": "h2"}),
    (
        "paragraph",
        "<ul><li>Doposcuola e spazi compiti nei quartieri</li><li>Trasporto solidale "
        "per visite mediche</li><li>Sportelli di ascolto per le famiglie</li>"
        "<li>Custodi sociali nei condomini</li></ul>",
    ),
    ("partner_logos", {"title": "I partner della rete"}),
]
