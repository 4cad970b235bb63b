"""国民健康保険 (national health insurance): enrolment from 異動通知, household premiums via
municloud.calc.nhi_premium with incomes from tax (所得照会), 資格確認書 read path."""
