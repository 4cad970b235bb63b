"""Tax and premium calculations shared by the services, the CLI and the load tests.

- `resident_tax.compute(declaration, params, fiscal_year)` -> ResidentTaxBreakdown (個人住民税)
- `nhi_premium.compute(household, params, fiscal_year)` -> NhiPremiumBreakdown (国民健康保険税)

Pure functions over pydantic models; integers (yen, basis points) only. Unsupported cases raise
`UnsupportedInput` naming the field, never a silently wrong figure.
"""

from municloud.calc.errors import UnsupportedInput

__all__ = ["UnsupportedInput"]
