"""Per-municipality parameters (Guideline 5: what differs between municipalities is config).

Flow: stack config (Pulumi) -> `MunicipalityParams` -> JSON file mounted into the services,
which load it with `MunicipalityParams.model_validate_json`. Amounts are int yen; rates are int
basis points (681 = 6.81 %) so every calculation stays in integer arithmetic.

Defaults live in ONE place: the constants and `default_*` functions at the bottom. The NHI
rates there are illustrative (each municipality sets its own by ordinance); the caps and 軽減
thresholds are the national figures from DOMAIN.md.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from municloud.ids import IdentifierError, validate_lgcode

__all__ = [
    "KNOWN_MUNICIPALITIES",
    "SUPPORTED_NHI_FISCAL_YEARS",
    "SUPPORTED_RESIDENT_TAX_FISCAL_YEARS",
    "KnownMunicipality",
    "LevyPartParams",
    "MunicipalityParams",
    "NhiParams",
    "NhiReductionThresholds",
    "NonTaxableLimits",
    "ResidentTaxParams",
    "ServiceWindow",
    "default_municipality_params",
    "default_nhi_params",
    "non_taxable_limits_for_grade",
]

Yen = Annotated[int, Field(ge=0, le=10**10)]
BasisPoints = Annotated[int, Field(ge=0, le=10_000)]

SUPPORTED_RESIDENT_TAX_FISCAL_YEARS = (2024, 2025, 2026)
SUPPORTED_NHI_FISCAL_YEARS = (2024, 2025)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- 個人住民税 ----------------------------------------------------------------------------------

class NonTaxableLimits(_Model):
    """非課税限度額 coefficients for one 級地 (合計所得金額 limits, yen).

    均等割 non-taxable if 合計所得 <= per_person x (dependants + 1) + per_capita_addon
    + per_capita_dependant_addon (with dependants), or <= per_capita_single (no dependants).
    所得割 non-taxable if 合計所得 <= per_person_income_levy x (dependants + 1) + 320,000 addon
    (with dependants), or <= income_levy_single (no dependants).
    """

    grade: Literal[1, 2, 3] = 1
    per_person: Yen = 350_000
    per_capita_addon: Yen = 100_000
    per_capita_dependant_addon: Yen = 210_000
    per_capita_single: Yen = 450_000
    per_person_income_levy: Yen = 350_000
    income_levy_addon: Yen = 100_000
    income_levy_dependant_addon: Yen = 320_000
    income_levy_single: Yen = 450_000


def non_taxable_limits_for_grade(grade: Literal[1, 2, 3]) -> NonTaxableLimits:
    """Standard 級地 coefficients for the 均等割 limit: 2級地 x 0.9, 3級地 x 0.8 of the per-person
    and dependant add-on amounts; the 10万 add-on (2021 reform) is the same for every 級地
    (single limits 45万 / 41.5万 / 38万).

    The 所得割 limit is statutory (地方税法附則 §3-3) and the same for every 級地.
    """
    factor = {1: 10, 2: 9, 3: 8}[grade]
    return NonTaxableLimits(
        grade=grade,
        per_person=350_000 * factor // 10,
        per_capita_dependant_addon=210_000 * factor // 10,
        per_capita_single=350_000 * factor // 10 + 100_000,
    )


class ResidentTaxParams(_Model):
    """個人住民税 parameters of one municipality."""

    designated_city: bool = False
    """政令指定都市: standard rates 8 % / 2 % and 調整控除 split 4 % / 1 %."""
    municipal_rate_bp: BasisPoints = 600
    """所得割 rate, municipal part (600 = 6 %)."""
    prefectural_rate_bp: BasisPoints = 400
    """所得割 rate, prefectural part."""
    adjustment_municipal_bp: BasisPoints = 300
    """調整控除 share of the municipality (of the 5 %)."""
    adjustment_prefectural_bp: BasisPoints = 200
    municipal_per_capita: Yen = 3_000
    """均等割, municipal."""
    prefectural_per_capita: Yen = 1_000
    """均等割, prefectural (standard part)."""
    prefectural_surcharge: Yen = 0
    """Prefecture's own 均等割 surcharge (e.g. forest / environment taxes)."""
    forest_environment_tax: Yen = 1_000
    """森林環境税 (national, collected with 均等割 from FY2024)."""
    non_taxable: NonTaxableLimits = NonTaxableLimits()
    """非課税限度額 coefficients for the municipality's 級地."""

    @model_validator(mode="after")
    def _check_split(self) -> ResidentTaxParams:
        if self.adjustment_municipal_bp + self.adjustment_prefectural_bp != 500:
            raise ValueError("adjustment_municipal_bp + adjustment_prefectural_bp must be 500 "
                             "(調整控除 is 5 % in total)")
        return self

    @classmethod
    def standard(cls, *, designated_city: bool = False, grade: Literal[1, 2, 3] = 1,
                 **overrides: object) -> ResidentTaxParams:
        rates = ({"municipal_rate_bp": 800, "prefectural_rate_bp": 200,
                  "adjustment_municipal_bp": 400, "adjustment_prefectural_bp": 100}
                 if designated_city else {})
        values = {"designated_city": designated_city, **rates,
                  "non_taxable": non_taxable_limits_for_grade(grade), **overrides}
        return cls.model_validate(values)


# --- 国民健康保険税 ------------------------------------------------------------------------------

class LevyPartParams(_Model):
    """One part of the NHI premium (医療分, 後期高齢者支援金分 or 介護納付金分)."""

    income_rate_bp: BasisPoints
    """所得割 rate in basis points (681 = 6.81 %)."""
    per_member: Yen
    """均等割 per insured member (for 介護分: per member aged 40-64)."""
    per_household: Yen
    """平等割 per household."""
    cap: Yen
    """賦課限度額."""


class NhiReductionThresholds(_Model):
    """軽減判定 of 均等割 / 平等割 by household 総所得金額等 (national, per FY)."""

    base: Yen = 430_000
    per_extra_earner: Yen = 100_000
    """added per salary/pension earner beyond the first."""
    five_tenths_per_insured: Yen
    two_tenths_per_insured: Yen


class NhiParams(_Model):
    """国民健康保険税 parameters of one municipality for one fiscal year."""

    fiscal_year: int = Field(ge=2000, le=2100)
    medical: LevyPartParams
    support: LevyPartParams
    care: LevyPartParams
    reduction: NhiReductionThresholds
    preschool_half: bool = True
    """未就学児 均等割 halved (FY2024+)."""
    round_each_part: bool = False
    """Round each part down to 100 yen before its cap (many municipalities publish it so);
    False = only the household total is rounded (DOMAIN.md)."""


# --- the municipality ----------------------------------------------------------------------------

class ServiceWindow(_Model):
    """Daily service hours of one channel (local time, Asia/Tokyo)."""

    start: time
    end: time

    @model_validator(mode="after")
    def _ordered(self) -> ServiceWindow:
        if self.end <= self.start:
            raise ValueError("service window end must be after start")
        return self


class MunicipalityParams(_Model):
    """Everything that differs between municipalities, validated once at the edge."""

    lgcode: str
    name: str = Field(min_length=1, max_length=40)
    population: int = Field(gt=0, le=50_000_000)
    resident_tax: ResidentTaxParams = ResidentTaxParams()
    nhi: dict[int, NhiParams] = Field(default_factory=dict)
    """NhiParams per fiscal year."""
    service_hours: dict[str, ServiceWindow] = Field(default_factory=dict)
    """e.g. residents (コンビニ交付 06:30-23:00), staff (08:30-17:15)."""

    @field_validator("lgcode")
    @classmethod
    def _lgcode(cls, value: str) -> str:
        try:
            return validate_lgcode(value)
        except IdentifierError as exc:
            raise ValueError(exc.reason) from None

    @field_validator("nhi")
    @classmethod
    def _nhi_keys(cls, value: dict[int, NhiParams]) -> dict[int, NhiParams]:
        for fy, p in value.items():
            if fy != p.fiscal_year:
                raise ValueError(f"nhi[{fy}] holds parameters for fiscal_year {p.fiscal_year}")
        return value

    def nhi_for(self, fiscal_year: int) -> NhiParams:
        try:
            return self.nhi[fiscal_year]
        except KeyError:
            raise KeyError(f"no NHI parameters for fiscal year {fiscal_year} in "
                           f"{self.lgcode}; have {sorted(self.nhi)}") from None


# --- defaults: the one table ---------------------------------------------------------------------

_NHI_CAPS: dict[int, tuple[int, int, int]] = {
    # (医療, 支援, 介護) 賦課限度額 (DOMAIN.md)
    2023: (650_000, 220_000, 170_000),
    2024: (650_000, 240_000, 170_000),
    2025: (660_000, 260_000, 170_000),
}
_NHI_REDUCTION: dict[int, tuple[int, int]] = {
    # (5割 per insured, 2割 per insured) (DOMAIN.md)
    2024: (295_000, 545_000),
    2025: (305_000, 560_000),
}
# Illustrative rates (not any real municipality's ordinance): (所得割 bp, 均等割, 平等割).
_NHI_ILLUSTRATIVE_RATES = {
    "medical": (681, 21_500, 21_000),
    "support": (255, 8_500, 6_800),
    "care": (197, 14_700, 0),
}


def default_nhi_params(fiscal_year: int, **rates: tuple[int, int, int]) -> NhiParams:
    """NhiParams with national caps / thresholds for `fiscal_year` and illustrative rates.

    FY2026 is not supported: it adds the 子ども・子育て支援金分 whose cap is OPEN.
    """
    if fiscal_year not in SUPPORTED_NHI_FISCAL_YEARS:
        raise ValueError(f"no default NHI parameters for fiscal year {fiscal_year}; "
                         f"supported: {list(SUPPORTED_NHI_FISCAL_YEARS)}")
    caps = _NHI_CAPS[fiscal_year]
    five, two = _NHI_REDUCTION[fiscal_year]
    table = {**_NHI_ILLUSTRATIVE_RATES, **rates}
    parts = {
        name: LevyPartParams(income_rate_bp=table[name][0], per_member=table[name][1],
                             per_household=table[name][2], cap=cap)
        for name, cap in zip(("medical", "support", "care"), caps, strict=True)
    }
    return NhiParams(fiscal_year=fiscal_year, **parts,
                     reduction=NhiReductionThresholds(five_tenths_per_insured=five,
                                                      two_tenths_per_insured=two))


class KnownMunicipality(_Model):
    lgcode: str
    name: str
    district: str
    """郡 (county) used in addresses."""
    prefecture: str
    population: int


# The Akita consortium (DOMAIN.md; populations from the policy document).
KNOWN_MUNICIPALITIES: dict[str, KnownMunicipality] = {
    m.lgcode: m for m in (
        KnownMunicipality(lgcode=code, name=name, district=district, prefecture="秋田県",
                          population=pop)
        for code, name, district, pop in (
            ("053031", "小坂町", "鹿角郡", 5_864),
            ("053279", "上小阿仁村", "北秋田郡", 2_697),
            ("053465", "藤里町", "山本郡", 3_807),
            ("053481", "三種町", "山本郡", 18_818),
            ("053490", "八峰町", "山本郡", 8_167),
            ("053619", "五城目町", "南秋田郡", 10_576),
            ("053635", "八郎潟町", "南秋田郡", 6_491),
            ("053660", "井川町", "南秋田郡", 5_290),
            ("053686", "大潟村", "南秋田郡", 3_244),
            ("054348", "美郷町", "仙北郡", 21_497),
            ("054631", "羽後町", "雄勝郡", 16_819),
            ("054640", "東成瀬村", "雄勝郡", 2_775),
        )
    )
}

DEFAULT_SERVICE_HOURS = {
    "residents": ServiceWindow(start=time(6, 30), end=time(23, 0)),
    "staff": ServiceWindow(start=time(8, 30), end=time(17, 15)),
}


def default_municipality_params(lgcode: str, name: str | None = None,
                                population: int | None = None) -> MunicipalityParams:
    """Defaults for `lgcode`: standard resident tax (1級地), NHI for every supported FY."""
    code = validate_lgcode(lgcode)
    known = KNOWN_MUNICIPALITIES.get(code)
    if known is None and (name is None or population is None):
        raise ValueError(f"lgcode {code} is not a known municipality: give name and population")
    return MunicipalityParams(
        lgcode=code,
        name=name if name is not None else known.name,  # type: ignore[union-attr]
        population=population if population is not None else known.population,  # type: ignore[union-attr]
        resident_tax=ResidentTaxParams.standard(),
        nhi={fy: default_nhi_params(fy) for fy in SUPPORTED_NHI_FISCAL_YEARS},
        service_hours=dict(DEFAULT_SERVICE_HOURS),
    )
