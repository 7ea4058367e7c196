-- system_help_partner_violence: partner-violence cases with R + 182 <= E; numerator help to perpetrator or family.
with cohort as (
    select delivery_id, municipality_code, case_id, report_date, extract_date, violence_type
    from current_cases
    where violence_type = 'partner'
),

system_offers as (
    select distinct c.delivery_id, c.case_id
    from cohort as c
    join current_help as h
        on h.delivery_id = c.delivery_id and h.case_id = c.case_id
    where h.recipient in ('perpetrator', 'family')
        and h.offered_date between c.report_date and c.report_date + 182
),

final as (
    select
        c.municipality_code,
        c.case_id as unit_id,
        c.report_date,
        c.report_date + 182 <= c.extract_date as in_population,
        (c.report_date + 182 <= c.extract_date) and s.case_id is not null as in_numerator,
        c.violence_type
    from cohort as c
    left join system_offers as s using (delivery_id, case_id)
)

select * from final
