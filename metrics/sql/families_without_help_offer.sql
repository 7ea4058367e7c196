-- families_without_help_offer: cases with R + 182 <= E; numerator no help row offered within R..R+182.
with cohort as (
    select case_key, municipality_code, case_id, report_date, extract_date, violence_type
    from current_cases
),

offered as (
    select distinct c.case_key
    from cohort as c
    join current_help as h
        on h.case_key = c.case_key
    where h.offered_date between c.report_date and c.report_date + 182
),

final as (
    select
        c.municipality_code,
        c.case_id as unit_id,
        c.report_date,
        c.report_date + 182 <= c.extract_date as in_population,
        (c.report_date + 182 <= c.extract_date) and o.case_key is null as in_numerator,
        c.violence_type
    from cohort as c
    left join offered as o using (case_key)
)

select * from final
