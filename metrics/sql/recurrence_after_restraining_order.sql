-- recurrence_after_restraining_order: cases with an order O and O + 365 <= E; numerator a report O+8..O+365.
with cohort as (
    select
        delivery_id, municipality_code, case_id, report_date, extract_date, violence_type,
        restraining_order_date as order_date
    from current_cases
),

later_reports as (
    select distinct c.delivery_id, c.case_id
    from cohort as c
    join current_reports as r
        on r.delivery_id = c.delivery_id and r.case_id = c.case_id
    where r.report_date between c.order_date + 8 and c.order_date + 365
),

final as (
    select
        c.municipality_code,
        c.case_id as unit_id,
        c.report_date,
        coalesce(c.order_date + 365 <= c.extract_date, false) as in_population,
        coalesce(c.order_date + 365 <= c.extract_date, false)
            and l.case_id is not null as in_numerator,
        c.violence_type
    from cohort as c
    left join later_reports as l using (delivery_id, case_id)
)

select * from final
