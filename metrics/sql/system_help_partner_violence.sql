-- system_help_partner_violence: partner-violence cases with R + 182 <= E; numerator help to perpetrator or family.
with cohort as (
    select case_key, municipality_code, case_id, report_date, extract_date, violence_type
    from current_cases
    where violence_type = 'partner'
),

system_offers as (
    select distinct c.case_key
    from cohort as c
    join current_help as h
        on h.case_key = c.case_key
    where h.recipient in ('perpetrator', 'family')
        and h.offered_date between c.report_date and c.report_date + 182
),

final as (
    select
        c.municipality_code,
        c.case_id as unit_id,
        c.report_date,
        c.report_date + 182 <= c.extract_date as in_population,
        (c.report_date + 182 <= c.extract_date) and s.case_key is not null as in_numerator,
        c.violence_type
    from cohort as c
    left join system_offers as s using (case_key)
)

select * from final
