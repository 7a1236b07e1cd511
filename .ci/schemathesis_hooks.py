"""Schemathesis hooks for Sanad's API document: strategies for the custom string formats the
document names where no JSON Schema keyword can say the rule (see crates/http/src/openapi.rs).

Loaded by .ci/schemathesis through SCHEMATHESIS_HOOKS.
"""

import datetime

import schemathesis
from hypothesis import strategies as st

# The Damm quasigroup (crates/domain/src/id.rs).
DAMM = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
]


def registry_id(prefix: str, serial: int) -> str:
    digits = f"{serial:010d}"
    interim = 0
    for d in digits:
        interim = DAMM[interim][int(d)]
    check = next(c for c in range(10) if DAMM[interim][c] == 0)
    return f"{prefix}{digits}{check}"


# Small serials name records the demo holds (so reads reach the data), large ones name none.
serials = st.one_of(st.integers(1, 2000), st.integers(1, 9_999_999_999))
schemathesis.openapi.format("sanad-id-p", serials.map(lambda s: registry_id("P", s)))
schemathesis.openapi.format("sanad-id-h", serials.map(lambda s: registry_id("H", s)))

LATIN = "abcdefghijklmnopqrstuvwxyzéèàçï"
latin_word = st.text(LATIN, min_size=1, max_size=12).map(str.capitalize)
schemathesis.openapi.format(
    "latin-name",
    st.lists(latin_word, min_size=1, max_size=3).map(" ".join)
    | st.tuples(latin_word, latin_word).map("-".join)
    | latin_word.map(lambda w: "El " + w),
)

ARABIC = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
arabic_word = st.text(ARABIC, min_size=2, max_size=8)
schemathesis.openapi.format(
    "arabic-name", st.lists(arabic_word, min_size=1, max_size=3).map(" ".join)
)


def national(lead: str, rest: str, sep: str) -> str:
    digits = "0" + lead + rest
    return sep.join(digits[i : i + 2] for i in range(0, 10, 2))


schemathesis.openapi.format(
    "phone",
    st.builds(
        national,
        st.sampled_from("5678"),
        st.text("0123456789", min_size=8, max_size=8),
        st.sampled_from(["", " ", ".", "-"]),
    )
    | st.text("0123456789", min_size=8, max_size=8).map(lambda r: "+2126" + r)
    | st.text("0123456789", min_size=9, max_size=9).map(lambda r: "+33" + r.lstrip("0").rjust(9, "1")),
)

# A birth date: not after today, not before 1900.
schemathesis.openapi.format(
    "date",
    st.dates(datetime.date(1900, 1, 1), datetime.date.today() - datetime.timedelta(days=1)).map(
        datetime.date.isoformat
    ),
)


def _members_are_distinct(body) -> bool:
    """A household lists each person and each national id once: a rule on pairs of members that
    JSON Schema cannot state (`uniqueItems` compares whole members)."""
    household = body.get("household") if isinstance(body, dict) else None
    members = household.get("members") if isinstance(household, dict) else None
    if not isinstance(members, list):
        return True
    seen_ids, seen_nids = set(), set()
    for m in members:
        if not isinstance(m, dict):
            continue
        for key, seen in (("person_id", seen_ids), ("national_id", seen_nids)):
            value = m.get(key)
            if isinstance(value, str):
                norm = "".join(value.split()).upper()
                if norm in seen:
                    return False
                seen.add(norm)
    return True


@schemathesis.hook("filter_body")
def distinct_members(ctx, body):
    if ctx.operation.path.startswith("/api/v1/households"):
        return _members_are_distinct(body)
    return True

# Targeting: a model file and the programme files shipped in the repository (the only texts that
# define a model or a programme; any other string is refused with the position of its error).
ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent
MODEL = (ROOT / "crates/targeting/models/pmt-demo.toml").read_text(encoding="utf-8")
PROGRAMMES = [
    p.read_text(encoding="utf-8")
    for p in sorted((ROOT / "crates/programmes/programmes").glob("*.toml"))
]
schemathesis.openapi.format("sanad-model", st.just(MODEL))
schemathesis.openapi.format("sanad-programme", st.sampled_from(PROGRAMMES))
schemathesis.openapi.format(
    "sanad-enrolment-cursor",
    st.one_of(
        serials.map(lambda s: registry_id("H", s)),
        st.tuples(serials, serials).map(
            lambda t: registry_id("H", t[0]) + "/" + registry_id("P", t[1])
        ),
    ),
)
schemathesis.openapi.format(
    "sanad-rule",
    st.sampled_from([
        "household.index <= 9.32",
        "household.size >= 5 && household.area == 'rural'",
        "members.exists(m, m.age >= 60)",
        "size(members.filter(m, m.age < 18)) >= 3",
    ]),
)

# Payments: ISO 20022 identifiers, a RIB with its key (97 - (first 22 digits × 100 mod 97)), and
# answer files. An answer naming no payment (its header only) is the one file valid whatever the
# registry holds; every other is checked line by line against the payments issued.
schemathesis.openapi.format(
    "sanad-code", st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=35)
)


def rib(first22: str) -> str:
    key = 97 - (int(first22) * 100) % 97
    return f"{first22}{key:02d}"


schemathesis.openapi.format("sanad-rib", st.text("0123456789", min_size=22, max_size=22).map(rib))
ANSWER_CSV = "end_to_end_id,amount,status,reason_code,reason,booked_on\n"
schemathesis.openapi.format("sanad-answer-file", st.just(ANSWER_CSV))
schemathesis.openapi.format(
    "sanad-answer-file-base64",
    st.just(__import__("base64").b64encode(ANSWER_CSV.encode()).decode()),
)
ADHESION_CSV = "adhesion_id,status,insurer_number,reason_code,reason\n"
schemathesis.openapi.format("sanad-adhesion-answer", st.just(ADHESION_CSV))
schemathesis.openapi.format(
    "sanad-adhesion-answer-base64",
    st.just(__import__("base64").b64encode(ADHESION_CSV.encode()).decode()),
)

# E-service requests: a generated body becomes one a caller would send. The demo's admin files
# for a citizen (so with their consent) and names a household when it names none; a complaint
# has a category of the shipped rules and a few words; an application names a shipped programme.
COMPLAINT_CATEGORIES = ["registration", "score", "payment", "service_quality", "other"]


@schemathesis.hook("map_body")
def plausible_request(ctx, body):
    if ctx.operation.path != "/api/v1/requests" or not isinstance(body, dict):
        return body
    body["consent"] = True
    if not body.get("household_id"):
        body["household_id"] = registry_id("H", 1)
    kind = body.get("kind")
    if kind == "complaint":
        if body.get("category") not in COMPLAINT_CATEGORIES:
            body["category"] = "payment"
        if not str(body.get("details") or "").strip():
            body["details"] = "Le versement de ce mois n'est pas arrive"
    if kind == "programme_application" and not body.get("programme"):
        body["programme"] = "asd-family"
    return body
