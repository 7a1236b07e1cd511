"""Through the generated client only: register a household, read it back, find it by name and by
national id. Usage: client_story.py BASE_URL USERNAME PASSWORD. Exits non-zero on any surprise."""

import base64
import random
import sys

from sanad_client import Client
from sanad_client.api.households import get_household, register_household
from sanad_client.api.persons import search_persons
from sanad_client.models import (
    Household,
    PersonResults,
    PersonSearch,
    Registered,
    RegisterHousehold,
    Relation,
    Sex,
)


def fail(message: str) -> None:
    print(f"client story FAILED: {message}", file=sys.stderr)
    sys.exit(1)


base, user, password = sys.argv[1:4]
token = base64.b64encode(f"{user}:{password}".encode()).decode()
client = Client(base_url=base, headers={"Authorization": f"Basic {token}"}, raise_on_unexpected_status=True)

# A national id nobody else has: two letters and six digits.
national_id = "ZX" + "".join(random.choice("0123456789") for _ in range(6))
body = RegisterHousehold.from_dict(
    {
        "household": {
            "commune_code": "01.511.01.0",
            "dwelling_type": "apartment",
            "tenure": "tenant",
            "rooms": 2,
            "water_spending": "55.50",
            "electricity_spending": 140,
            "phone_spending": "30",
            "gas_spending": "45",
            "assets": ["fridge", "tv"],
            "declared_income": "2600.00",
            "members": [
                {
                    "relation": "head",
                    "first_name": "Hafsa",
                    "last_name": "Benjelloun",
                    "first_name_ar": "حفصة",
                    "last_name_ar": "بنجلون",
                    "sex": "F",
                    "birth_date": "1986-11-02",
                    "national_id": national_id,
                    "phone": "06 55 44 33 22",
                    "schooling": "higher",
                    "occupation": "employed",
                },
                {
                    "relation": "child",
                    "first_name": "Adam",
                    "last_name": "Benjelloun",
                    "sex": "M",
                    "birth_date": "2015-04-20",
                    "schooling": "primary",
                    "occupation": "student",
                },
            ],
        },
        "reason": "generated client story",
    }
)

created = register_household.sync_detailed(client=client, body=body)
if created.status_code != 201 or not isinstance(created.parsed, Registered):
    fail(f"register: {created.status_code} {created.content!r}")
registered = created.parsed
household_id = registered.id
head = next(m for m in registered.members if m.relation == Relation.HEAD)
if head.sex != Sex.F or head.national_id != national_id or head.phone != "+212655443322":
    fail(f"registered head: {head.to_dict()}")

read = get_household.sync(client=client, id=household_id)
if not isinstance(read, Household) or read.id != household_id or len(read.members) != 2:
    fail(f"read back: {read!r}")
if sorted(m.first_name for m in read.members) != ["Adam", "Hafsa"]:
    fail(f"members read back: {[m.to_dict() for m in read.members]}")


def search(**criteria) -> list:
    found = search_persons.sync(client=client, body=PersonSearch(**criteria))
    if not isinstance(found, PersonResults):
        fail(f"search {criteria}: {found!r}")
    return found.items


by_name = [p for p in search(q="Hafsa Benjelloun") if p.household_id == household_id]
if [p.id for p in by_name] != [head.id]:
    fail(f"by name: {[p.to_dict() for p in by_name]}")
by_arabic = [p for p in search(q="حفصة بنجلون") if p.household_id == household_id]
if [p.id for p in by_arabic] != [head.id]:
    fail(f"by Arabic name: {[p.to_dict() for p in by_arabic]}")
by_nid = search(q=national_id)
if [p.id for p in by_nid] != [head.id]:
    fail(f"by national id: {[p.to_dict() for p in by_nid]}")
by_phone = [p for p in search(phone="0655443322") if p.household_id == household_id]
if [p.id for p in by_phone] != [head.id]:
    fail(f"by phone: {[p.to_dict() for p in by_phone]}")

print(f"client story: registered {household_id}, read it back, found its head by name, Arabic name, national id and phone")
