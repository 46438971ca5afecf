"""The fixed ingredients of the demo: segment profiles and shares, usage patterns, regions, word lists for names,
contact roles, activity subjects, product features and platforms, and the sizes the loader works in."""

from dataclasses import dataclass

from ..models import Account, Activity

DEMO_SOURCE = "Demo product"
EXTERNAL_ID_PREFIX = "DEMO-"
HISTORY_MONTHS = 60
BATCH_SIZE = 5000
CHUNK_EVENTS = 400_000  # expected events generated and written at a time
CHUNK_ACCOUNTS = 1000  # accounts whose contacts and activities are built at a time


@dataclass(frozen=True)
class _Profile:
    """How a segment buys, renews and is looked after."""

    acv: tuple[int, int]  # log-uniform range of the first ACV
    seat_price: tuple[int, int]  # annual price of a seat
    terms: tuple[tuple[int, ...], tuple[float, ...]]  # term months, their chances
    expansion: float  # chance of a co-termed expansion during a term
    auto_renew: float
    unowned: float  # share of accounts without a CSM
    touch_days: int  # mean days between CSM touches
    qbr_days: int  # days between business reviews (0: none)
    kinds: tuple[float, float, float, float]  # chances of call, meeting, email, note


PROFILES = {
    Account.Segment.HIGH_TOUCH: _Profile(
        acv=(150_000, 1_500_000), seat_price=(1200, 2400), terms=((12, 24, 36), (0.5, 0.3, 0.2)), expansion=0.35,
        auto_renew=0.15, unowned=0, touch_days=8, qbr_days=91, kinds=(0.3, 0.3, 0.3, 0.1),
    ),
    Account.Segment.MID_TOUCH: _Profile(
        acv=(30_000, 150_000), seat_price=(900, 1800), terms=((6, 12, 24, 36), (0.1, 0.7, 0.15, 0.05)), expansion=0.25,
        auto_renew=0.4, unowned=0, touch_days=21, qbr_days=182, kinds=(0.35, 0.15, 0.4, 0.1),
    ),
    Account.Segment.TECH_TOUCH: _Profile(
        acv=(5_000, 30_000), seat_price=(600, 1200), terms=((6, 12), (0.3, 0.7)), expansion=0.08,
        auto_renew=0.85, unowned=0.4, touch_days=60, qbr_days=0, kinds=(0.2, 0.05, 0.65, 0.1),
    ),
}  # fmt: skip
SEGMENT_SHARES = {Account.Segment.HIGH_TOUCH: 0.15, Account.Segment.MID_TOUCH: 0.35, Account.Segment.TECH_TOUCH: 0.5}
# Customers and prospects; which customers churned is drawn at each renewal (``book``).
STATUS_SHARES = {Account.Status.ACTIVE: 0.97, Account.Status.PROSPECT: 0.03}
# Usage patterns: share of active accounts, and the range of MAU / seats they run at.
PATTERNS = {
    "growing": (0.25, (0.8, 1.35)),
    "steady": (0.35, (0.45, 0.95)),
    "declining": (0.15, (0.15, 0.5)),
    "dormant": (0.10, (0.1, 0.4)),
    "seasonal": (0.15, (0.4, 0.9)),
}
# The latent propensity to renew (``book``) of an account today, by its usage pattern.
PATTERN_PROPENSITY = {"growing": 1.0, "steady": 0.4, "declining": -0.9, "dormant": -1.4, "seasonal": 0.2}
# Renewal decisions: features are taken this many days before a contract's end (health.features.DECISION_LEAD_DAYS,
# on the Monday on or before), over usage windows reaching this many days further back (the 30-day health trend
# reads the 60 days before the day 30 days earlier).
DECISION_LEAD_DAYS = 90
DECISION_WINDOW_DAYS = 90
REGIONS = ("NA", "EMEA", "APAC", "LATAM")
REGION_SHARES = (0.4, 0.3, 0.2, 0.1)
REGION_UTC_OFFSET = {"NA": -5, "EMEA": 1, "APAC": 8, "LATAM": -3}
INDUSTRIES = (
    "Software", "Financial Services", "Healthcare", "Manufacturing", "Retail", "Education", "Media",
    "Logistics", "Energy", "Public Sector", "Telecommunications", "Professional Services",
)  # fmt: skip
NAME_WORDS = (
    (
        "Northwind", "Bluepeak", "Silverline", "Redwood", "Brightwater", "Ironclad", "Evergreen", "Summit",
        "Horizon", "Keystone", "Lumen", "Meridian", "Nimbus", "Oakridge", "Pinnacle", "Quantum", "Riverstone",
        "Sapphire", "Tidewater", "Vertex", "Willow", "Zenith", "Cobalt", "Granite", "Harbor", "Juniper", "Kestrel",
        "Lakeside", "Maple", "Nova", "Orchid", "Polaris", "Radiant", "Sterling", "Terra", "Vanguard", "Westfield",
        "Alder", "Beacon", "Cedar", "Crescent", "Falcon", "Golden", "Highland", "Ivory", "Jasper",
    ),
    (
        "Analytics", "Logistics", "Health", "Robotics", "Foods", "Energy", "Capital", "Media", "Learning",
        "Networks", "Retail", "Motors", "Pharma", "Insurance", "Freight", "Dynamics", "Biotech", "Payments",
        "Travel", "Security", "Telecom", "Apparel", "Farms", "Construction", "Software", "Marine", "Aerospace",
        "Chemicals", "Hospitality", "Gaming", "Utilities", "Textiles", "Semiconductors", "Staffing", "Mobility",
    ),
    (
        "Group", "Labs", "Partners", "Holdings", "Solutions", "Industries", "Technologies", "Corp", "Inc", "Co",
        "Ltd", "GmbH", "AG", "SA", "BV", "Pty",
    ),
)  # fmt: skip
FIRST_NAMES = (
    "Aisha", "Ben", "Carla", "Diego", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kara", "Liam", "Maya",
    "Noah", "Olga", "Pavel", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wei", "Ximena", "Yusuf", "Zoe",
    "Amir", "Bianca", "Chen", "Daria", "Emil", "Fatima", "Gabriel", "Hana", "Ivan", "Julia", "Kofi",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Baker", "Costa", "Dubois", "Eriksen", "Fernandes", "Garcia", "Hansen", "Ito", "Jensen", "Kowalski",
    "Lopez", "Muller", "Nakamura", "Okafor", "Petrov", "Rossi", "Schmidt", "Tanaka", "Usman", "Varga", "Wagner",
    "Xu", "Yilmaz", "Zimmer", "Novak", "Haddad", "Moreau", "Silva", "Brennan",
)  # fmt: skip
# Contact roles: titles, and the flags (champion, sponsor, decision maker, billing, end user) they carry.
CONTACT_ROLES = {
    "champion": (
        ("Head of Operations", "Director of Analytics", "Product Operations Lead"),
        (True, False, False, False, True),
    ),
    "sponsor": (("VP Operations", "Chief Operating Officer", "CTO", "VP Finance"), (False, True, True, False, False)),
    "decision": (("Director of IT", "Head of Procurement", "IT Manager"), (False, False, True, False, False)),
    "billing": (("Finance Manager", "Accounts Payable Specialist"), (False, False, False, True, False)),
    "end_user": (
        ("Data Analyst", "Operations Analyst", "Project Manager", "Team Lead", "Business Analyst"),
        (False, False, False, False, True),
    ),
}
ACTIVITY_SUBJECTS = {
    Activity.Kind.CALL: ("Check-in call", "Adoption review", "Renewal planning call", "Escalation follow-up"),
    Activity.Kind.MEETING: ("Success plan review", "Onsite workshop", "Executive alignment", "Training session"),
    Activity.Kind.EMAIL: ("Shared adoption report", "Webinar invitation", "Renewal quote sent", "Release highlights"),
    Activity.Kind.NOTE: ("Champion changing roles", "Budget review next quarter", "Asked about SSO", "Usage dip"),
}
# Product features with their relative popularity.
FEATURES = (
    ("Report Viewed", 30.0), ("Dashboard Viewed", 22.0), ("Search Performed", 14.0), ("Export Downloaded", 8.0),
    ("Comment Added", 7.0), ("Dashboard Created", 5.0), ("Workflow Run", 5.0), ("Alert Configured", 3.0),
    ("Data Imported", 2.5), ("User Invited", 1.5), ("Settings Updated", 1.2), ("Integration Connected", 0.8),
)  # fmt: skip
PLATFORMS = ("web", "ios", "android")
PLATFORM_SHARES = (0.8, 0.12, 0.08)
EVENTS_PER_USER_DAY = 0.55  # mean events per product user per day at pattern level 1 (lognormal around it)
