-- recurrence_12m: cases whose 12-month window is complete; numerator a later report 8..365 days after R.
with cohort as (
    select case_key, municipality_code, case_id, report_date, extract_date, violence_type
    from current_cases
),

later_reports as (
    select distinct c.case_key
    from cohort as c
    join current_reports as r
        on r.case_key = c.case_key
    -- reports within 7 days of R are the same incident
    where r.report_date between c.report_date + 8 and c.report_date + 365
),

final as (
    select
        c.municipality_code,
        c.case_id as unit_id,
        c.report_date,
        c.report_date + 365 <= c.extract_date as in_population,
        (c.report_date + 365 <= c.extract_date) and l.case_key is not null as in_numerator,
        c.violence_type
    from cohort as c
    left join later_reports as l using (case_key)
)

select * from final
