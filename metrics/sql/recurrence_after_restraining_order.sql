-- recurrence_after_restraining_order: cases with an order O and O + 365 <= E; numerator a report O+8..O+365.
with cohort as (
    select
        case_key, municipality_code, case_id, report_date, extract_date, violence_type,
        restraining_order_date as order_date
    from current_cases
),

later_reports as (
    select distinct c.case_key
    from cohort as c
    join current_reports as r
        on r.case_key = c.case_key
    where r.report_date between c.order_date + 8 and c.order_date + 365
),

final as (
    select
        c.municipality_code,
        c.case_id as unit_id,
        c.report_date,
        coalesce(c.order_date + 365 <= c.extract_date, false) as in_population,
        coalesce(c.order_date + 365 <= c.extract_date, false)
            and l.case_key is not null as in_numerator,
        c.violence_type
    from cohort as c
    left join later_reports as l using (case_key)
)

select * from final
