"""Deterministic synthetic residents for one municipality (seed data for services and tests).

`generate(lgcode, population, seed)` builds households and residents of a small depopulating
Japanese town: many people aged 65+, elderly singles and couples, some three-generation homes.
Every person gets valid identifiers (個人番号 with check digit, 住民票コード, 宛名番号, 世帯番号 —
the last two prefixed with the lgcode, so different municipalities never share a person id),
kanji and katakana names from small embedded lists, an address in the town (real town name for
the Akita consortium, generic 字/番地), previous-year income plausible for the age (給与, 公的年金,
farm/business 所得) and a health-insurance scheme (employee insurance for full-time employees and
their dependants, 後期高齢者医療 from 75, 国保 otherwise).

Same (lgcode, population, seed, as_of) -> identical output.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from importlib import resources
from itertools import accumulate
from typing import Literal

from municloud.calc.nhi_premium import HouseholdMember, NhiHousehold
from municloud.calc.resident_tax import (
    Dependant,
    IncomeAmounts,
    ResidentTaxDeclaration,
    Spouse,
    income_amounts,
)
from municloud.ids import (
    my_number_for_serial,
    new_atena_number,
    new_household_number,
    resident_record_code_for_serial,
    validate_lgcode,
)
from municloud.params import KNOWN_MUNICIPALITIES

__all__ = ["Household", "Resident", "SeedData", "SeedError", "generate"]

Sex = Literal["male", "female"]
Insurance = Literal["nhi", "employee", "late_elderly"]
MAX_POPULATION = 999_999


class SeedError(ValueError):
    """Bad arguments to the generator (names the argument)."""


@dataclass(frozen=True, slots=True)
class Resident:
    atena_number: str
    """宛名番号."""
    household_number: str
    """世帯番号."""
    resident_record_code: str
    """住民票コード."""
    my_number: str
    """個人番号 (synthetic, valid check digit)."""
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    sex: Sex
    birth_date: date
    relationship: str
    """世帯主との続柄: 世帯主, 妻, 夫, 子, 父, 母."""
    address: str
    resident_since: date
    """住民となった年月日."""
    insurance: Insurance
    salary_income: int
    """給与収入 of the previous calendar year."""
    public_pension_income: int
    """公的年金等収入 of the previous calendar year."""
    business_income: int
    """Net 事業所得 (farming etc.) of the previous calendar year."""


@dataclass(frozen=True, slots=True)
class Household:
    household_number: str
    head_atena_number: str
    address: str
    member_atena_numbers: tuple[str, ...]


@dataclass(frozen=True)
class SeedData:
    lgcode: str
    municipality_name: str
    as_of: date
    seed: int
    households: tuple[Household, ...]
    residents: tuple[Resident, ...]
    _by_atena: dict[str, Resident] = field(init=False, repr=False, compare=False)
    _by_household: dict[str, Household] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_atena", {r.atena_number: r for r in self.residents})
        object.__setattr__(self, "_by_household",
                           {h.household_number: h for h in self.households})

    @property
    def fiscal_year(self) -> int:
        """Fiscal year (April-March) containing `as_of`; incomes are of the year before."""
        return self.as_of.year if self.as_of.month >= 4 else self.as_of.year - 1

    def resident(self, atena_number: str) -> Resident:
        return self._by_atena[atena_number]

    def members(self, household: Household) -> list[Resident]:
        return [self._by_atena[a] for a in household.member_atena_numbers]

    def declaration_for(self, atena_number: str) -> ResidentTaxDeclaration:
        """個人住民税 declaration of a resident for `fiscal_year` (the head claims the household's
        low-income members as spouse / dependants)."""
        person = self._by_atena[atena_number]
        dec31 = date(self.fiscal_year - 1, 12, 31)
        spouse = None
        dependants: list[Dependant] = []
        # 配偶者特別控除 is supported up to FY2025 (spouse 合計所得 <= 133万).
        spouse_limit = 1_330_000 if self.fiscal_year <= 2025 else 580_000
        dependant_limit = 480_000 if self.fiscal_year <= 2025 else 580_000
        if person.relationship == "世帯主":
            household = self._by_household[person.household_number]
            for other in self.members(household):
                if other is person or other.birth_date > dec31:
                    continue
                income = _total_income(other, self.fiscal_year)
                age = _age(other.birth_date, dec31)
                if other.relationship in ("妻", "夫"):
                    if income <= spouse_limit:
                        spouse = Spouse(age=age, total_income=income)
                elif income <= dependant_limit:
                    dependants.append(Dependant(
                        age=age, total_income=income,
                        cohabiting_parent=other.relationship in ("父", "母") and age >= 70))
        salary = person.salary_income
        pension = person.public_pension_income
        social = (salary * 15 // 100 if person.insurance == "employee"
                  else (salary + pension + person.business_income) * 8 // 100)
        return ResidentTaxDeclaration(
            age=max(0, _age(person.birth_date, dec31)), salary_income=salary,
            public_pension_income=pension, other_income=person.business_income,
            social_insurance_paid=social, spouse=spouse, dependants=dependants)

    def nhi_household_for(self, household: Household) -> NhiHousehold | None:
        """The household as the NHI calculation sees it, or None if nobody is in 国保."""
        members = self.members(household)
        if not any(m.insurance == "nhi" for m in members):
            return None
        dec31 = date(self.fiscal_year - 1, 12, 31)
        chosen = [m for m in members if m.insurance == "nhi" or m.relationship == "世帯主"]
        return NhiHousehold(members=[
            HouseholdMember(
                birth_date=m.birth_date, insured=m.insurance == "nhi",
                is_head=m.relationship == "世帯主",
                total_income=_total_income(m, self.fiscal_year),
                pension_income_amount=_pension_income(m, self.fiscal_year),
                salary_or_pension_earner=m.salary_income > 550_000 or m.public_pension_income > (
                    1_250_000 if _age(m.birth_date, dec31) >= 65 else 600_000))
            for m in chosen
        ])


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _incomes(r: Resident, fiscal_year: int) -> IncomeAmounts:
    return income_amounts(salary_income=r.salary_income,
                          public_pension_income=r.public_pension_income,
                          other_income=r.business_income,
                          age=_age(r.birth_date, date(fiscal_year - 1, 12, 31)),
                          fiscal_year=fiscal_year)


def _pension_income(r: Resident, fiscal_year: int) -> int:
    return _incomes(r, fiscal_year).pension


def _total_income(r: Resident, fiscal_year: int) -> int:
    return _incomes(r, fiscal_year).total


# --- embedded data (read lazily: no I/O at import) -------------------------------------------

@dataclass(frozen=True, slots=True)
class _Name:
    kanji: str
    kana: str


@dataclass(frozen=True, slots=True)
class _GivenName:
    kanji: str
    kana: str
    sex: Sex
    born_from: int
    born_to: int


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("municloud.seed").joinpath("data", name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def _surnames() -> tuple[tuple[_Name, ...], tuple[int, ...]]:
    rows = _rows("surnames.csv")
    names = tuple(_Name(r["kanji"], r["kana"]) for r in rows)
    return names, tuple(accumulate(int(r["weight"]) for r in rows))


@cache
def _given_names() -> tuple[_GivenName, ...]:
    return tuple(_GivenName(r["kanji"], r["kana"], r["sex"], int(r["born_from"]),  # type: ignore[arg-type]
                            int(r["born_to"])) for r in _rows("given_names.csv"))


@cache
def _given_names_for(sex: Sex, year: int) -> tuple[_GivenName, ...]:
    fitting = tuple(n for n in _given_names() if n.sex == sex and n.born_from <= year <= n.born_to)
    return fitting or tuple(n for n in _given_names() if n.sex == sex)


@cache
def _aza() -> tuple[str, ...]:
    return tuple(r["kanji"] for r in _rows("aza.csv"))


# --- age pyramid of a small depopulating town -------------------------------------------------

# Relative weight per 5-year band 0-4 ... 95-99 (about 45 % aged 65+).
_BAND_WEIGHTS = (18, 20, 24, 28, 18, 20, 24, 30, 36, 44, 52, 60, 72, 90, 100, 90, 80, 62, 34, 12)
_AGE_WEIGHTS = tuple(w for w in _BAND_WEIGHTS for _ in range(5))


class _Builder:
    def __init__(self, lgcode: str, population: int, seed: int, as_of: date,
                 address_prefix: str) -> None:
        self.lgcode = lgcode
        self.population = population
        self.rng = random.Random(f"municloud-seed:{lgcode}:{seed}")
        self.as_of = as_of
        self.income_year_end = date(as_of.year - 1 if as_of.month >= 4 else as_of.year - 2, 12, 31)
        self.address_prefix = address_prefix
        self.residents: list[Resident] = []
        self.households: list[Household] = []
        self._cum: dict[tuple[int, int], list[int]] = {}  # (lo, hi) -> cumulative weights

    # sampling helpers
    def age(self, lo: int, hi: int) -> int:
        lo, hi = max(lo, 0), min(hi, 99)
        if lo > hi:
            return lo
        cum = self._cum.get((lo, hi))
        if cum is None:
            cum = self._cum[(lo, hi)] = list(accumulate(_AGE_WEIGHTS[lo:hi + 1]))
        return self.rng.choices(range(lo, hi + 1), cum_weights=cum)[0]

    def birth_date(self, age: int) -> date:
        anchor = date(self.as_of.year - age, self.as_of.month, min(self.as_of.day, 28))
        # 2..363 days before the anniversary: the legal age (gained the day before the birthday)
        # on `as_of` is exactly `age`.
        return anchor - timedelta(days=self.rng.randint(2, 363))

    def yen(self, lo: int, hi: int) -> int:
        return self.rng.randrange(lo // 1000, hi // 1000 + 1) * 1000

    # one household
    def household(self) -> None:
        rng = self.rng
        kind = rng.choices(
            ("single-elderly", "single", "elderly-couple", "couple", "family", "three-gen",
             "single-parent", "parent-and-child"),
            weights=(22, 8, 26, 8, 12, 16, 4, 4))[0]
        head_sex: Sex = "male" if rng.random() < 0.8 else "female"
        plan: list[tuple[str, Sex, int]] = []  # (relationship, sex, age)
        if kind == "single-elderly":
            plan.append(("世帯主", rng.choice(("male", "female", "female")), self.age(65, 99)))
        elif kind == "single":
            plan.append(("世帯主", head_sex, self.age(20, 64)))
        elif kind in ("elderly-couple", "couple"):
            head_age = self.age(65, 97) if kind == "elderly-couple" else self.age(25, 64)
            plan.append(("世帯主", head_sex, head_age))
            plan.append(self.spouse(head_sex, head_age))
        elif kind == "family":
            head_age = self.age(28, 55)
            plan.append(("世帯主", head_sex, head_age))
            plan.append(self.spouse(head_sex, head_age))
            plan.extend(self.children(min(head_age, plan[-1][2]), rng.randint(1, 3)))
        elif kind == "three-gen":
            head_age = self.age(38, 66)
            plan.append(("世帯主", head_sex, head_age))
            plan.append(self.spouse(head_sex, head_age))
            for parent_sex in rng.sample(("male", "female"), rng.randint(1, 2)):
                plan.append(("父" if parent_sex == "male" else "母", parent_sex,
                             min(99, head_age + rng.randint(24, 34))))
            plan.extend(self.children(min(head_age, plan[1][2]), rng.randint(0, 2)))
        elif kind == "single-parent":
            head_age = self.age(25, 55)
            plan.append(("世帯主", rng.choice(("female", "female", "male")), head_age))
            plan.extend(self.children(head_age, rng.randint(1, 2)))
        else:
            head_age = self.age(40, 66)
            plan.append(("世帯主", head_sex, head_age))
            parent_sex = rng.choice(("male", "female", "female"))
            plan.append(("父" if parent_sex == "male" else "母", parent_sex,
                         min(99, head_age + rng.randint(24, 34))))
        plan = plan[: self.population - len(self.residents)]
        self.add_household(plan)

    def spouse(self, head_sex: Sex, head_age: int) -> tuple[str, Sex, int]:
        sex: Sex = "female" if head_sex == "male" else "male"
        age = max(18, min(99, head_age + self.rng.randint(-6, 3) * (1 if sex == "female" else -1)))
        return ("妻" if sex == "female" else "夫", sex, age)

    def children(self, youngest_parent_age: int, count: int) -> list[tuple[str, Sex, int]]:
        top = max(0, youngest_parent_age - 20)
        return [("子", self.rng.choice(("male", "female")), self.rng.randint(0, min(top, 35)))
                for _ in range(count)]

    def add_household(self, plan: Sequence[tuple[str, Sex, int]]) -> None:
        rng = self.rng
        serial = len(self.households) + 1
        household_number = new_household_number(self.lgcode, serial)
        address = (f"{self.address_prefix}{rng.choice(_aza())}"
                   f"{rng.randint(1, 250)}番地{rng.randint(1, 30)}")
        surnames, cum = _surnames()
        surname = rng.choices(surnames, cum_weights=cum)[0]
        incomes = [self.income(rel, sex, age) for rel, sex, age in plan]
        employee_household = any(kind == "full-time" for kind, *_ in incomes)
        members: list[str] = []
        for (rel, sex, age), (work, salary, pension, business) in zip(plan, incomes, strict=True):
            person_serial = len(self.residents) + 1
            atena = new_atena_number(self.lgcode, person_serial)
            birth = self.birth_date(age)
            given = rng.choice(_given_names_for(sex, birth.year))
            family = surname if rel != "父" and rel != "母" or rng.random() < 0.9 else \
                rng.choices(surnames, cum_weights=cum)[0]
            if age >= 75:
                insurance: Insurance = "late_elderly"
            elif work == "full-time" or (employee_household and salary < 1_300_000
                                         and pension == 0 and business == 0 and age < 60):
                insurance = "employee"
            else:
                insurance = "nhi"
            born_here = rng.random() < 0.7
            since = birth if born_here or age < 19 else \
                birth + timedelta(days=rng.randint(18 * 365, age * 365))
            self.residents.append(Resident(
                atena_number=atena, household_number=household_number,
                resident_record_code=resident_record_code_for_serial(self.lgcode, person_serial),
                my_number=my_number_for_serial(self.lgcode, person_serial),
                family_name=family.kanji, given_name=given.kanji,
                family_name_kana=family.kana, given_name_kana=given.kana, sex=sex,
                birth_date=birth, relationship=rel, address=address,
                resident_since=min(since, self.as_of), insurance=insurance,
                salary_income=salary, public_pension_income=pension, business_income=business))
            members.append(atena)
        self.households.append(Household(household_number, members[0], address, tuple(members)))

    def income(self, relationship: str, sex: Sex, age: int) -> tuple[str, int, int, int]:
        """(work kind, salary, pension, business 所得) of the previous year."""
        rng = self.rng
        if age < 18:
            return ("none", 0, 0, 0)
        if age <= 22:
            return ("part-time", self.yen(300_000, 1_200_000), 0, 0) if rng.random() < 0.3 \
                else ("none", 0, 0, 0)
        if age <= 64:
            if 40 <= age and rng.random() < 0.08:
                return ("farm", 0, 0, self.yen(400_000, 3_000_000))
            employed = rng.random() < (0.85 if sex == "male" else 0.72)
            if not employed:
                return ("none", 0, 0, 0)
            if sex == "female" and relationship in ("妻", "母") and rng.random() < 0.45:
                return ("part-time", self.yen(600_000, 1_250_000), 0, 0)
            low, high = ((2_300_000, 3_600_000) if age < 30 else (2_800_000, 5_200_000)
                         if age < 40 else (3_000_000, 6_800_000) if age < 60
                         else (2_000_000, 4_200_000))
            if sex == "female":
                high = (low + high) // 2
            return ("full-time", self.yen(low, high), 0, 0)
        pension = self.yen(600_000, 2_600_000 if sex == "male" else 1_500_000)
        if age <= 74 and rng.random() < 0.2:
            return ("part-time", self.yen(600_000, 1_800_000), pension, 0)
        if age <= 79 and rng.random() < 0.1:
            return ("farm", 0, pension, self.yen(200_000, 1_200_000))
        return ("none", 0, pension, 0)


def generate(lgcode: str, population: int, seed: int = 0, *,
             as_of: date = date(2025, 4, 1), address_prefix: str | None = None) -> SeedData:
    """Synthetic residents of `lgcode` (about `population` people, exactly that many).

    `address_prefix` defaults to 都道府県 + 郡 + town for the Akita consortium; other codes need
    it (e.g. "北海道〇〇郡〇〇町").
    """
    code = validate_lgcode(lgcode)
    if isinstance(population, bool) or not isinstance(population, int) \
            or not 1 <= population <= MAX_POPULATION:
        raise SeedError(f"population must be an int in 1..{MAX_POPULATION}")
    if (as_of.month, as_of.day) == (2, 29):
        raise SeedError("as_of must not be 29 February")
    known = KNOWN_MUNICIPALITIES.get(code)
    if address_prefix is None:
        if known is None:
            raise SeedError(f"address_prefix is required for lgcode {code} (not a known town)")
        address_prefix = f"{known.prefecture}{known.district}{known.name}"
    name = known.name if known is not None else address_prefix
    builder = _Builder(code, population, seed, as_of, address_prefix)
    while len(builder.residents) < population:
        builder.household()
    return SeedData(lgcode=code, municipality_name=name, as_of=as_of, seed=seed,
                    households=tuple(builder.households), residents=tuple(builder.residents))
