-- specialist_within_30d: unsafe cases with R + 30 <= E; numerator specialist help started R..R+30.
with cohort as (
    select case_key, municipality_code, case_id, report_date, extract_date, violence_type
    from current_cases
    where safety_assessment in ('acute', 'structural')
),

started as (
    select distinct c.case_key
    from cohort as c
    join current_help as h
        on h.case_key = c.case_key
    where h.level = 'specialist'
        and h.start_date between c.report_date and c.report_date + 30
),

final as (
    select
        c.municipality_code,
        c.case_id as unit_id,
        c.report_date,
        c.report_date + 30 <= c.extract_date as in_population,
        (c.report_date + 30 <= c.extract_date) and s.case_key is not null as in_numerator,
        c.violence_type
    from cohort as c
    left join started as s using (case_key)
)

select * from final
