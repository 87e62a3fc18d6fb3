"""A realistic demo: a Norwegian county's cluster forum and a Danish region.

Names of companies are made up; public bodies and universities are real places.
Loading twice changes nothing: every object is looked up before it is created.
"""

from __future__ import annotations

import random

from flask import current_app
from sqlalchemy import select

from portal.accounts import services as accounts
from portal.accounts.models import Role, User
from portal.clusters.models import Cluster, MemberOrganisation, MemberType
from portal.extensions import db
from portal.tenancy import services as tenancy
from portal.tenancy import tenant_scope
from portal.tenancy.models import Tenant

DEMO_PASSWORD = "cluster-forum-demo"  # noqa: S105 - printed for the demo users on purpose

T = MemberType
NORDLAND_CLUSTERS = [
    {
        "name": "Arktisk Mineralklynge",
        "sector": "Gruvedrift og mineraler",
        "programme_level": "Arena Pro",
        "founded_year": 2012,
        "city": "Mo i Rana",
        "description": "Utvinning, foredling og leverandører som arbeider for bærekraftig "
        "gruvedrift i Nord-Norge.",
        "mix": {
            T.COMPANY_SME: 24,
            T.COMPANY_LARGE: 6,
            T.PUBLIC_BODY: 5,
            T.UNIVERSITY: 2,
            T.RESEARCH_INSTITUTE: 2,
            T.INVESTOR: 1,
        },
    },
    {
        "name": "Helgeland Helseteknologi",
        "sector": "Helseteknologi",
        "programme_level": "Arena",
        "founded_year": 2014,
        "city": "Mosjøen",
        "description": "Velferds- og helseteknologi for kommuner og sykehus.",
        "mix": {
            T.COMPANY_SME: 30,
            T.COMPANY_LARGE: 2,
            T.PUBLIC_BODY: 14,
            T.UNIVERSITY: 2,
            T.HOSPITAL: 2,
            T.USER_ORGANISATION: 4,
        },
    },
    {
        "name": "Lofoten Sjømatinnovasjon",
        "sector": "Sjømat og havbruk",
        "programme_level": "GCE",
        "founded_year": 2009,
        "city": "Svolvær",
        "description": "Fiskeri, havbruk og sjømatforedling med leverandørene sine.",
        "mix": {
            T.COMPANY_SME: 36,
            T.COMPANY_LARGE: 9,
            T.PUBLIC_BODY: 4,
            T.UNIVERSITY: 1,
            T.RESEARCH_INSTITUTE: 3,
            T.INVESTOR: 2,
        },
    },
    {
        "name": "Bodø Energiklynge",
        "sector": "Fornybar energi",
        "programme_level": "Arena",
        "founded_year": 2015,
        "city": "Bodø",
        "description": "Vannkraft-, vind- og nettselskaper som bygger regionens energiframtid.",
        "mix": {
            T.COMPANY_SME: 18,
            T.COMPANY_LARGE: 5,
            T.PUBLIC_BODY: 3,
            T.UNIVERSITY: 1,
            T.RESEARCH_INSTITUTE: 1,
        },
    },
    {
        "name": "Nordland Maritime Næringer",
        "sector": "Maritim næring",
        "programme_level": "Arena Pro",
        "founded_year": 2011,
        "city": "Sandnessjøen",
        "description": "Verft, offshoretjenester og leverandører av maritim teknologi.",
        "mix": {
            T.COMPANY_SME: 27,
            T.COMPANY_LARGE: 4,
            T.PUBLIC_BODY: 2,
            T.RESEARCH_INSTITUTE: 1,
            T.OTHER: 2,
        },
    },
    {
        "name": "Polar Livsvitenskap",
        "sector": "Livsvitenskap",
        "programme_level": "Arena",
        "founded_year": 2016,
        "city": "Bodø",
        "description": "Marin bioprospektering, bioteknologiske gründere og forskningspartnere.",
        "mix": {
            T.COMPANY_SME: 15,
            T.UNIVERSITY: 2,
            T.RESEARCH_INSTITUTE: 3,
            T.HOSPITAL: 1,
            T.INVESTOR: 3,
        },
    },
    {
        "name": "Arktisk Eventyrturisme",
        "sector": "Reiseliv",
        "programme_level": "Arena",
        "founded_year": 2013,
        "city": "Narvik",
        "description": "Naturbaserte reiselivsbedrifter som utvikler arktiske opplevelser hele året.",
        "mix": {T.COMPANY_SME: 40, T.PUBLIC_BODY: 6, T.UNIVERSITY: 1, T.USER_ORGANISATION: 2},
    },
]

MIDTJYLLAND_CLUSTERS = [
    {
        "name": "Fødevareklynge Midtjylland",
        "sector": "Fødevarer og landbrug",
        "programme_level": "National klynge",
        "founded_year": 2014,
        "city": "Aarhus",
        "description": "Fødevareproducenter, agritech og forskning i Midtjylland.",
        "mix": {T.COMPANY_SME: 20, T.COMPANY_LARGE: 5, T.UNIVERSITY: 2, T.PUBLIC_BODY: 3},
    },
    {
        "name": "Vindsystemer Danmark",
        "sector": "Vindenergi",
        "programme_level": "National klynge",
        "founded_year": 2010,
        "city": "Herning",
        "description": "Vindindustriens leverandørkæde.",
        "mix": {T.COMPANY_SME: 25, T.COMPANY_LARGE: 8, T.UNIVERSITY: 1, T.RESEARCH_INSTITUTE: 2},
    },
]

NAME_PARTS = {
    T.COMPANY_SME: (
        [
            "Nord",
            "Fjord",
            "Polar",
            "Aurora",
            "Kyst",
            "Fjell",
            "Havn",
            "Isbre",
            "Midnatt",
            "Tind",
            "Vik",
            "Elv",
        ],
        [
            "tech",
            "data",
            "solutions",
            "consult",
            "analyse",
            "engineering",
            "systems",
            "lab",
            "works",
            "design",
        ],
        " AS",
    ),
    T.COMPANY_LARGE: (
        ["Nordic", "Arctic", "Northern", "Scandinavian", "Boreal"],
        [" Industries", " Group", " Holding", " Energy", " Ocean"],
        " ASA",
    ),
    T.PUBLIC_BODY: (
        [
            "Rana",
            "Vefsn",
            "Bodø",
            "Vågan",
            "Narvik",
            "Alstahaug",
            "Brønnøy",
            "Saltdal",
            "Fauske",
            "Hadsel",
            "Sortland",
            "Steigen",
            "Meløy",
            "Lurøy",
        ],
        [" kommune"],
        "",
    ),
    T.UNIVERSITY: (["Nord universitet", "UiT Norges arktiske universitet"], [""], ""),
    T.RESEARCH_INSTITUTE: (
        ["Nordlandsforskning", "Norut", "Akvaplan", "Nofima", "SINTEF Nord"],
        [""],
        "",
    ),
    T.HOSPITAL: (["Nordlandssykehuset", "Helgelandssykehuset"], [""], ""),
    T.USER_ORGANISATION: (
        [
            "Pasientforeningen Nord",
            "Brukerrådet Helgeland",
            "Eldrerådet Nordland",
            "Funksjonshemmedes fellesorganisasjon Nord",
        ],
        [""],
        "",
    ),
    T.INVESTOR: (
        ["Nordland Invest", "Arctic Seed Fund", "Kystkapital", "Nordavind Ventures"],
        [""],
        "",
    ),
    T.OTHER: (["Næringsforeningen", "Maritimt forum", "Kystverket"], [""], ""),
}


def _member_names(member_type: MemberType, count: int, rng: random.Random) -> list[str]:
    first, second, suffix = NAME_PARTS[member_type]
    candidates = sorted({f"{a}{b}{suffix}".strip() for a in first for b in second})
    rng.shuffle(candidates)
    names = candidates[:count]
    while len(names) < count:  # more wanted than parts: number the rest
        names.append(f"{candidates[len(names) % len(candidates)]} {len(names) + 1}")
    return names


CURRENCY_OF = {"nb": "NOK", "da": "DKK", "sv": "SEK"}


def _get_or_create_tenant(slug, name, locale, tz, accent, description) -> Tenant:
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        tenant = tenancy.create_tenant(
            None,
            slug=slug,
            name=name,
            default_locale=locale,
            timezone=tz,
            accent_color=accent,
            description=description,
            currency=CURRENCY_OF.get(locale, "EUR"),
        )
    return tenant


def _load_clusters(tenant: Tenant, specs: list[dict], seed: int) -> dict[str, Cluster]:
    rng = random.Random(seed)
    clusters = {}
    with tenant_scope(tenant.id):
        for spec in specs:
            cluster = db.session.scalar(select(Cluster).where(Cluster.name == spec["name"]))
            if cluster is None:
                slug = spec["name"].lower().replace(" ", "")
                cluster = Cluster(
                    tenant_id=tenant.id,
                    name=spec["name"],
                    sector=spec["sector"],
                    description=spec["description"],
                    programme_level=spec["programme_level"],
                    founded_year=spec["founded_year"],
                    website=f"https://{slug}.example",
                    contact_name="Klyngeleder",  # the same word in Norwegian and Danish
                    contact_email=f"post@{slug}.example",
                )
                db.session.add(cluster)
                db.session.flush()
                for member_type, count in spec["mix"].items():
                    for name in _member_names(member_type, count, rng):
                        db.session.add(
                            MemberOrganisation(
                                tenant_id=tenant.id,
                                cluster_id=cluster.id,
                                name=name,
                                member_type=member_type,
                                city=spec["city"],
                                joined_year=rng.randint(spec["founded_year"], 2025),
                            )
                        )
            clusters[spec["name"]] = cluster
        db.session.commit()
    return clusters


def _user(email: str, name: str, *, admin: bool = False, locale: str | None = None) -> User:
    user = accounts.user_by_email(email)
    if user is None:
        user = accounts.create_user(
            email, name, DEMO_PASSWORD, is_platform_admin=admin, locale=locale
        )
    return user


def load_demo() -> list[tuple[str, str, str]]:
    """Load (or complete) the demo; return (e-mail, role, region) for each demo user."""
    nordland = _get_or_create_tenant(
        "nordland",
        "Nordland klyngeforum",
        "nb",
        "Europe/Oslo",
        "#00507d",
        "Fylkets møteplass for de mest modne næringsklyngene.",
    )
    midtjylland = _get_or_create_tenant(
        "midtjylland",
        "Klyngeforum Midtjylland",
        "da",
        "Europe/Copenhagen",
        "#8a1538",
        "Midtjyllands forum for erhvervsklynger.",
    )
    # A forum of seven clusters: aggregates of three may be shown (the region's choice).
    nordland.values_min_group = 3
    db.session.commit()
    n_clusters = _load_clusters(nordland, NORDLAND_CLUSTERS, seed=2016)
    _load_clusters(midtjylland, MIDTJYLLAND_CLUSTERS, seed=2014)

    people = [
        ("admin@example.org", "Platform Admin", None, None, [], True),
        ("coordinator@nordland.example", "Ingrid Johansen", nordland, Role.COORDINATOR, [], False),
        (
            "manager@nordland.example",
            "Erik Nilsen",
            nordland,
            Role.CLUSTER_MANAGER,
            ["Arktisk Mineralklynge", "Polar Livsvitenskap"],
            False,
        ),
        (
            "member@nordland.example",
            "Kari Berg",
            nordland,
            Role.MEMBER,
            ["Helgeland Helseteknologi"],
            False,
        ),
        (
            "observer@nordland.example",
            "Ola Hansen (Innovation Norway)",
            nordland,
            Role.OBSERVER,
            [],
            False,
        ),
        (
            "assessor@nordland.example",
            "Astrid Moe (ESCA expert)",
            nordland,
            Role.ASSESSOR,
            [],
            False,
        ),
        (
            "koordinator@midtjylland.example",
            "Mette Sørensen",
            midtjylland,
            Role.COORDINATOR,
            [],
            False,
        ),
    ]
    listing = []
    for email, name, tenant, role, cluster_names, admin in people:
        user = _user(email, name, admin=admin)
        if tenant is not None:
            ids = [n_clusters[c].id for c in cluster_names]
            accounts.grant_role(tenant, user, role, ids)
        listing.append(
            (email, role.value if role else "platform_admin", tenant.slug if tenant else "all")
        )
    db.session.commit()

    from datetime import date

    from portal.demo.process import load_process

    load_process(nordland, date.today())

    host = current_app.extensions["portal_plugins"]
    for tenant in (nordland, midtjylland):
        for plugin_name, plugin in host.plugins.items():
            if not plugin.load_error and plugin_name not in tenancy.plugin_states(tenant):
                tenancy.set_plugin_enabled(None, tenant, plugin_name, True)
        host.call("demo_data", tenant_id=tenant.id, tenant=tenant)
    db.session.commit()
    from portal.demo.story import load_story

    load_story(nordland, date.today())  # builds on the plugins' rounds and joint actions
    return listing
