"""Request / response models of the tax service (Create / Public)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, computed_field

from municloud.calc.resident_tax import ResidentTaxBreakdown, ResidentTaxDeclaration
from municloud.service.types import AtenaNumber, ResidentTaxYear, wareki_text


# Requests are strict (municloud.params.StrictModel): "2025", 2025.0 or true is not a year.
_STRICT_IN = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class DeclarationCreate(BaseModel):
    """申告 of one taxpayer for one fiscal year (income of the previous calendar year)."""

    model_config = _STRICT_IN
    atena_number: AtenaNumber
    fiscal_year: ResidentTaxYear
    declaration: ResidentTaxDeclaration


class DeclarationPublic(BaseModel):
    atena_number: str
    fiscal_year: int
    revision: int
    declaration: ResidentTaxDeclaration
    staff_id: str
    submitted_at: str


class AssessmentRequest(BaseModel):
    """Compute 所得割 and 均等割 for the listed taxpayers, or every taxpayer with a declaration."""

    model_config = _STRICT_IN
    atena_numbers: list[AtenaNumber] | None = Field(None, max_length=1000)


class AssessmentSummary(BaseModel):
    fiscal_year: int
    computed: int
    total_tax: int
    message: str


class AssessmentPublic(BaseModel):
    atena_number: str
    fiscal_year: int
    revision: int
    total: int
    breakdown: ResidentTaxBreakdown
    computed_at: str


class TaxpayerPublic(BaseModel):
    atena_number: str
    household_number: str
    family_name: str
    given_name: str
    birth_date: date
    address: str
    status: str

    @computed_field
    def birth_date_wareki(self) -> str:
        return wareki_text(self.birth_date)


class TaxCertificate(BaseModel):
    """課税証明書 (所得・課税証明書) of one taxpayer for one fiscal year."""

    title: str
    municipality: str
    lgcode: str
    fiscal_year: int
    fiscal_year_wareki: str
    income_year: int
    name: str
    address: str
    birth_date: str
    salary_income: int  # 給与収入
    salary_income_amount: int  # 給与所得
    public_pension_income: int
    public_pension_income_amount: int
    other_income: int
    total_income: int  # 合計所得金額
    total_deductions: int  # 所得控除合計
    taxable_income: int  # 課税標準額
    municipal_income_levy: int
    prefectural_income_levy: int
    municipal_per_capita: int
    prefectural_per_capita: int
    forest_environment_tax: int
    total: int  # 年税額
    non_taxable: bool
    issued_at: str
    issued_at_wareki: str
    issued_by_staff: str


class IncomeInquirySubjectIn(BaseModel):
    model_config = _STRICT_IN
    atena_number: AtenaNumber


class IncomeInquiryIn(BaseModel):
    """所得照会 (JSON binding): nhi asks for the 総所得金額等 of household members."""

    model_config = _STRICT_IN
    fiscal_year: ResidentTaxYear
    subjects: list[IncomeInquirySubjectIn] = Field(min_length=1, max_length=100)
