-- time_to_specialist: unsafe cases; time R to the first specialist start >= R (event), else E - R (censored).
with cohort as (
    select case_key, municipality_code, case_id, report_date, extract_date, violence_type
    from current_cases
    where safety_assessment in ('acute', 'structural')
),

first_start as (
    select c.case_key, min(h.start_date) as start_date
    from cohort as c
    join current_help as h
        on h.case_key = c.case_key
    -- a start before R belongs to earlier help, not to the response to this report
    where h.level = 'specialist' and h.start_date >= c.report_date
    group by all
),

final as (
    select
        c.municipality_code,
        c.case_id as unit_id,
        c.report_date,
        true as in_population,
        coalesce(s.start_date, c.extract_date) - c.report_date as time,
        s.start_date is not null as event,
        c.violence_type
    from cohort as c
    left join first_start as s using (case_key)
)

select * from final
