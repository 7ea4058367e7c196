-- light_help_for_severe: unsafe cases with R + 182 <= E and help offered R..R+182; numerator none specialist.
with cohort as (
    select case_key, municipality_code, case_id, report_date, extract_date, violence_type
    from current_cases
    where safety_assessment in ('acute', 'structural')
),

offers as (
    select
        c.case_key,
        bool_or(h.level = 'specialist') as any_specialist
    from cohort as c
    join current_help as h
        on h.case_key = c.case_key
    where h.offered_date between c.report_date and c.report_date + 182
    group by all
),

final as (
    select
        c.municipality_code,
        c.case_id as unit_id,
        c.report_date,
        c.report_date + 182 <= c.extract_date and o.case_key is not null as in_population,
        c.report_date + 182 <= c.extract_date and coalesce(not o.any_specialist, false)
            as in_numerator,
        c.violence_type
    from cohort as c
    left join offers as o using (case_key)
)

select * from final
