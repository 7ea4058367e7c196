"""The indicator catalogue: each indicator declared once; it drives computation, mart and docs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl

SQL_DIR = Path(__file__).parent / "sql"

POLARITIES = ("lower_is_better", "higher_is_better")
UNITS = ("proportion", "days")
VALUE_FORMATS = ("percent", "days")
# Breakdown families and the unit-row column each one splits on.
BREAKDOWN_FAMILIES = ("violence_type", "age_band")

SOURCE_VJI_2014 = (
    "Verwey-Jonker Instituut (2014): 211 ouders en 396 kinderen in de vier grote steden "
    "anderhalf jaar gevolgd na een melding van huiselijk geweld"
)
SOURCE_COHORT = (
    "Landelijke cohortonderzoeken huiselijk geweld (2020: 576 gezinnen in 13 regio's, gemeten "
    "bij de melding en na 12 en 18 maanden; 2023: 819 huishoudens in 13 andere regio's)"
)
SOURCE_CBS = "CBS, Veilig Thuis-statistieken (ca. 127.000 meldingen per jaar; 2023: 28,5% lopend)"
SOURCE_REGIOPLAN = "Regioplan (2013), evaluatie van de Wet tijdelijk huisverbod"


@dataclass(frozen=True)
class Indicator:
    """One indicator: what it measures, for whom, which way is better, and where its SQL lives."""

    id: str
    title_nl: str
    title_en: str
    short_nl: str
    short_en: str
    population_nl: str
    population_en: str
    numerator_nl: str
    numerator_en: str
    polarity: str
    unit: str
    value_format: str
    rationale_nl: str
    rationale_en: str
    source: str
    caveats_nl: str
    caveats_en: str
    breakdowns: tuple[str, ...]
    approach_elements: tuple[str, ...]
    sql_name: str
    # Quarters per municipality: not for a population of a few cases per municipality and
    # year, whose quarters would nearly all be suppressed (regions and the country keep them).
    municipal_quarters: bool = True
    # Indicators naming one population count the same units under different windows: where
    # the windows are complete for all of them their denominators are equal, which anyone
    # can see from their definitions, so they are protected together (`disclosure`).
    population: str | None = None

    @property
    def sql(self) -> str:
        return sql_text(self.sql_name)

    @property
    def is_proportion(self) -> bool:
        return self.unit == "proportion"


@cache
def sql_text(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


_WINDOW_NOTE_NL = (
    "Alleen zaken waarvan het venster op de extractiedatum van de gemeente compleet is, tellen "
    "mee; het laatste cohort is daardoor kleiner."
)
_WINDOW_NOTE_EN = (
    "Only cases whose window is complete on the municipality's extract date count; the latest "
    "cohort is therefore smaller."
)

INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        id="recurrence_12m",
        title_nl="Nieuwe melding binnen 12 maanden",
        title_en="New report within 12 months",
        short_nl="Aandeel zaken met een nieuwe melding 8 tot en met 365 dagen na de indexmelding.",
        short_en="Share of cases with a new report 8 to 365 days after the index report.",
        population_nl=(
            "Zaken waarvan de indexmelding minstens 365 dagen voor de extractiedatum ligt."
        ),
        population_en="Cases whose index report lies at least 365 days before the extract date.",
        numerator_nl=(
            "Een latere melding over dezelfde zaak tussen 8 en 365 dagen na de indexmelding "
            "(meldingen binnen 7 dagen gelden als hetzelfde incident)."
        ),
        numerator_en=(
            "A later report about the same case 8 to 365 days after the index report (reports "
            "within 7 days count as the same incident)."
        ),
        polarity="lower_is_better",
        unit="proportion",
        value_format="percent",
        rationale_nl=(
            "In meer dan de helft van de gezinnen stopt het geweld niet na een melding bij Veilig "
            "Thuis; in 2023 kwam 28,5% van de meldingen binnen terwijl Veilig Thuis nog "
            "betrokken was. Een nieuwe melding is het eerste zichtbare teken dat het geweld "
            "doorgaat."
        ),
        rationale_en=(
            "In more than half of the families the violence does not stop after a report to "
            "Veilig Thuis; in 2023, 28.5% of reports arrived while Veilig Thuis was still "
            "involved. A new report is the first visible sign that violence continues."
        ),
        source=f"{SOURCE_COHORT}; {SOURCE_CBS}",
        caveats_nl=(
            "Een nieuwe melding meet ook meldingsbereidheid: meer melden kan betekenen dat het "
            "netwerk beter oplet. " + _WINDOW_NOTE_NL
        ),
        caveats_en=(
            "A new report also measures willingness to report: more reports can mean the network "
            "is paying closer attention. " + _WINDOW_NOTE_EN
        ),
        breakdowns=("violence_type",),
        approach_elements=(
            "specialist_at_front_door",
            "single_coordinator",
            "multidisciplinary_team",
            "system_oriented_offer",
            "intensive_case_management",
        ),
        sql_name="recurrence_12m",
        population="cases",
    ),
    Indicator(
        id="violence_continued_18m",
        title_nl="Geweld niet gestopt na 18 maanden",
        title_en="Violence not stopped after 18 months",
        short_nl="Aandeel zaken waarin bij de vervolgmeting na 15-21 maanden nog geweld was.",
        short_en="Share of cases with violence at the follow-up 15-21 months after the report.",
        population_nl=(
            "Zaken met een vervolgmeting 456 tot en met 639 dagen (15-21 maanden) na de "
            "indexmelding met antwoord ja of nee."
        ),
        population_en=(
            "Cases with a follow-up 456 to 639 days (15-21 months) after the index report "
            "answered yes or no."
        ),
        numerator_nl=(
            "De laatste zulke vervolgmeting meldt geweld sinds het vorige contact (bij twee "
            "metingen op dezelfde dag telt 'ja')."
        ),
        numerator_en=(
            "The latest such follow-up reports violence since the previous contact (with two on "
            "the same day, 'yes' counts)."
        ),
        polarity="lower_is_better",
        unit="proportion",
        value_format="percent",
        rationale_nl=(
            "Na anderhalf jaar had de helft van de ouders nog een fysiek gewelddadige partner; "
            "het geweld stopte helemaal in maar ongeveer 30% van de gezinnen. Langdurige, "
            "specialistische en systeemgerichte hulp wordt aangeraden."
        ),
        rationale_en=(
            "After one and a half years half of the parents still had a physically violent "
            "partner; violence stopped entirely in only about 30% of families. Long-term, "
            "specialised, system-oriented help is advised."
        ),
        source=f"{SOURCE_VJI_2014}; {SOURCE_COHORT}",
        caveats_nl=(
            "Alleen zaken die een vervolgmeting kregen tellen mee; gemeenten die weinig meten of "
            "vooral de lastige zaken volgen, zijn niet goed vergelijkbaar. Antwoord 'onbekend' "
            "telt niet mee."
        ),
        caveats_en=(
            "Only cases with a follow-up count; municipalities that measure little, or follow "
            "mainly the difficult cases, do not compare well. An 'unknown' answer does not count."
        ),
        breakdowns=("violence_type",),
        approach_elements=(
            "specialist_at_front_door",
            "multidisciplinary_team",
            "system_oriented_offer",
            "intensive_case_management",
            "long_term_monitoring",
        ),
        sql_name="violence_continued_18m",
    ),
    Indicator(
        id="children_without_help",
        title_nl="Kinderen zonder hulpaanbod",
        title_en="Children without a help offer",
        short_nl="Aandeel kinderen in gemelde gezinnen zonder hulpaanbod binnen 6 maanden.",
        short_en="Share of children in reported households with no help offer within 6 months.",
        population_nl=(
            "Kinderen (0-17) in het huishouden bij de indexmelding, van zaken waarvan de "
            "indexmelding minstens 182 dagen voor de extractiedatum ligt."
        ),
        population_en=(
            "Children (0-17) in the household at the index report, of cases whose index report "
            "lies at least 182 days before the extract date."
        ),
        numerator_nl=(
            "Binnen 182 dagen na de indexmelding geen hulp aangeboden aan dit kind zelf, noch "
            "aan het hele gezin(ssysteem)."
        ),
        numerator_en=(
            "Within 182 days of the index report no help offered to this child itself, nor to "
            "the whole family system."
        ),
        polarity="lower_is_better",
        unit="proportion",
        value_format="percent",
        rationale_nl=(
            "59% van de kinderen in gemelde gezinnen kreeg helemaal geen hulp. Het advies: zet "
            "kinderen centraal en bied elk kind hulp van zichzelf."
        ),
        rationale_en=(
            "59% of children in reported households got no help at all. The advice: put "
            "children at the centre and offer every child help of its own."
        ),
        source=SOURCE_VJI_2014,
        caveats_nl=(
            "Gezinsbrede hulp telt als hulp voor elk kind; of het kind er zelf iets aan had, "
            "meet deze indicator niet. " + _WINDOW_NOTE_NL
        ),
        caveats_en=(
            "Family-wide help counts as help for every child; whether the child itself benefited "
            "is not measured. " + _WINDOW_NOTE_EN
        ),
        breakdowns=("age_band",),
        approach_elements=("child_focused_offer", "system_oriented_offer"),
        sql_name="children_without_help",
    ),
    Indicator(
        id="families_without_help_offer",
        title_nl="Gezinnen zonder hulpaanbod",
        title_en="Families without a help offer",
        short_nl="Aandeel zaken zonder enig hulpaanbod binnen 6 maanden na de indexmelding.",
        short_en="Share of cases with no help offer of any kind within 6 months of the report.",
        population_nl=(
            "Zaken waarvan de indexmelding minstens 182 dagen voor de extractiedatum ligt."
        ),
        population_en="Cases whose index report lies at least 182 days before the extract date.",
        numerator_nl="Geen enkele hulpregel aangeboden binnen 0-182 dagen na de indexmelding.",
        numerator_en="No help row of any kind offered 0-182 days after the index report.",
        polarity="lower_is_better",
        unit="proportion",
        value_format="percent",
        rationale_nl="1 op de 12 gemelde gezinnen (8%) kreeg geen enkel hulpaanbod.",
        rationale_en="1 in 12 reported families (8%) got no help offer at all.",
        source=SOURCE_VJI_2014,
        caveats_nl=(
            "Hulp die vóór de indexmelding al liep, telt niet als aanbod na de melding. "
            + _WINDOW_NOTE_NL
        ),
        caveats_en=(
            "Help offered before the index report does not count as an offer after it. "
            + _WINDOW_NOTE_EN
        ),
        breakdowns=("violence_type",),
        approach_elements=(
            "specialist_at_front_door",
            "single_coordinator",
            "system_oriented_offer",
        ),
        sql_name="families_without_help_offer",
        population="cases",
    ),
    Indicator(
        id="specialist_within_30d",
        title_nl="Specialistische hulp binnen 30 dagen",
        title_en="Specialist help within 30 days",
        short_nl="Aandeel onveilige zaken waarin specialistische hulp binnen 30 dagen begon.",
        short_en="Share of unsafe cases in which specialist help started within 30 days.",
        population_nl=(
            "Zaken met acute of structurele onveiligheid bij de eerste veiligheidstaxatie, "
            "waarvan de indexmelding minstens 30 dagen voor de extractiedatum ligt."
        ),
        population_en=(
            "Cases assessed as acutely or structurally unsafe, whose index report lies at least "
            "30 days before the extract date."
        ),
        numerator_nl="Specialistische hulp gestart 0-30 dagen na de indexmelding.",
        numerator_en="Specialist help started 0-30 days after the index report.",
        polarity="higher_is_better",
        unit="proportion",
        value_format="percent",
        rationale_nl=(
            "Bij onveiligheid is snelle, gespecialiseerde hulp het advies van de cohortstudies; "
            "'specialisten aan de voordeur' moeten die wachttijd verkorten."
        ),
        rationale_en=(
            "With unsafety, fast specialised help is what the cohort studies advise; "
            "'specialists at the front door' are meant to shorten the wait."
        ),
        source=SOURCE_COHORT,
        caveats_nl=(
            "Telt de startdatum, niet de aanbiedingsdatum: wachtlijsten bij aanbieders drukken "
            "het cijfer. " + _WINDOW_NOTE_NL
        ),
        caveats_en=(
            "Counts the start date, not the offer date: providers' waiting lists lower the "
            "figure. " + _WINDOW_NOTE_EN
        ),
        breakdowns=("violence_type",),
        approach_elements=(
            "specialist_at_front_door",
            "multidisciplinary_team",
            "intensive_case_management",
        ),
        sql_name="specialist_within_30d",
        population="severe_cases",
    ),
    Indicator(
        id="time_to_specialist",
        title_nl="Tijd tot specialistische hulp (mediaan, dagen)",
        title_en="Time to specialist help (median, days)",
        short_nl=(
            "Mediaan aantal dagen van de indexmelding tot de start van specialistische hulp, "
            "bij onveilige zaken (Kaplan-Meier)."
        ),
        short_en=(
            "Median days from the index report to the start of specialist help in unsafe cases "
            "(Kaplan-Meier)."
        ),
        population_nl=(
            "Zaken met acute of structurele onveiligheid bij de eerste veiligheidstaxatie."
        ),
        population_en="Cases assessed as acutely or structurally unsafe at the first assessment.",
        numerator_nl=(
            "Gebeurtenis: de vroegste start van specialistische hulp op of na de indexmelding; "
            "zaken zonder worden gecensureerd op de extractiedatum. 'Teller' is het aantal "
            "gebeurtenissen, 'noemer' het aantal zaken."
        ),
        numerator_en=(
            "Event: the earliest start of specialist help on or after the index report; cases "
            "without one are censored at the extract date. 'Numerator' is the number of events, "
            "'denominator' the number of cases."
        ),
        polarity="lower_is_better",
        unit="days",
        value_format="days",
        rationale_nl=(
            "Het hele verloop van de wachttijd, ook voor zaken die nog wachten, zegt meer dan "
            "één afkappunt van 30 dagen."
        ),
        rationale_en=(
            "The whole course of the wait, including cases still waiting, says more than a "
            "single 30-day cut-off."
        ),
        source=SOURCE_COHORT,
        caveats_nl=(
            "Kaplan-Meier-mediaan met 95%-interval volgens Brookmeyer-Crowley, met een "
            "log-log-getransformeerde puntsgewijze band (zoals lifelines; R's survival gebruikt "
            "standaard log). Komt de curve niet onder 0,5, dan is de mediaan 'niet bereikt'. "
            "Start vóór de indexmelding telt niet."
        ),
        caveats_en=(
            "Kaplan-Meier median with a 95% Brookmeyer-Crowley interval from a log-log "
            "transformed pointwise band (as lifelines; R's survival defaults to log). When the "
            "curve never reaches 0.5 the median is 'not reached'. A start before the index "
            "report does not count."
        ),
        breakdowns=("violence_type",),
        approach_elements=(
            "specialist_at_front_door",
            "multidisciplinary_team",
            "intensive_case_management",
        ),
        sql_name="time_to_specialist",
        population="severe_cases",
    ),
    Indicator(
        id="coordinator_within_30d",
        title_nl="Eén regisseur binnen 30 dagen",
        title_en="One coordinator within 30 days",
        short_nl="Aandeel zaken waarin binnen 30 dagen één regisseur is toegewezen.",
        short_en="Share of cases with one coordinator assigned within 30 days.",
        population_nl=(
            "Zaken waarvan de indexmelding minstens 30 dagen voor de extractiedatum ligt."
        ),
        population_en="Cases whose index report lies at least 30 days before the extract date.",
        numerator_nl="Een regisseur toegewezen uiterlijk 30 dagen na de indexmelding.",
        numerator_en="A coordinator assigned at most 30 days after the index report.",
        polarity="higher_is_better",
        unit="proportion",
        value_format="percent",
        rationale_nl=(
            "Eén gezin, één plan, één regisseur (het MDA++-principe) is een kernadvies van de "
            "cohortstudies."
        ),
        rationale_en=(
            "One family, one plan, one coordinator (the MDA++ principle) is a core advice of the "
            "cohort studies."
        ),
        source=SOURCE_COHORT,
        caveats_nl=(
            "Registratie van de regisseur verschilt per systeem; een ontbrekende datum telt als "
            "geen regisseur. " + _WINDOW_NOTE_NL
        ),
        caveats_en=(
            "Recording of the coordinator differs between case systems; a missing date counts "
            "as no coordinator. " + _WINDOW_NOTE_EN
        ),
        breakdowns=("violence_type",),
        approach_elements=("single_coordinator", "multidisciplinary_team"),
        sql_name="coordinator_within_30d",
        population="cases",
    ),
    Indicator(
        id="system_help_partner_violence",
        title_nl="Systeemgerichte hulp bij partnergeweld",
        title_en="System-oriented help for partner violence",
        short_nl="Aandeel zaken van partnergeweld met hulp voor pleger of gezin binnen 6 maanden.",
        short_en=(
            "Share of partner-violence cases offered help for perpetrator or family in 6 months."
        ),
        population_nl=(
            "Zaken met (ex-)partnergeweld als hoofdvorm waarvan de indexmelding minstens 182 "
            "dagen voor de extractiedatum ligt."
        ),
        population_en=(
            "Cases with (ex-)partner violence as main form whose index report lies at least 182 "
            "days before the extract date."
        ),
        numerator_nl="Hulp aangeboden aan de pleger of het hele gezin binnen 0-182 dagen.",
        numerator_en="Help offered to the perpetrator or the whole family within 0-182 days.",
        polarity="higher_is_better",
        unit="proportion",
        value_format="percent",
        rationale_nl=(
            "Geweld stopt zelden als alleen het slachtoffer hulp krijgt; de cohortstudies raden "
            "systeemgerichte hulp aan, pleger inbegrepen."
        ),
        rationale_en=(
            "Violence rarely stops when only the victim gets help; the cohort studies advise "
            "system-oriented help, perpetrator included."
        ),
        source=SOURCE_COHORT,
        caveats_nl=(
            "Geen uitsplitsing naar geweldsvorm: de populatie is al één vorm. " + _WINDOW_NOTE_NL
        ),
        caveats_en="No breakdown by violence type: the population is one type. " + _WINDOW_NOTE_EN,
        breakdowns=(),
        approach_elements=("system_oriented_offer",),
        sql_name="system_help_partner_violence",
    ),
    Indicator(
        id="light_help_for_severe",
        title_nl="Alleen lichte hulp bij ernstige onveiligheid",
        title_en="Only light help for severe unsafety",
        short_nl="Aandeel onveilige zaken met hulp binnen 6 maanden, maar geen specialistische.",
        short_en="Share of unsafe cases helped within 6 months, but never by a specialist.",
        population_nl=(
            "Zaken met acute of structurele onveiligheid, indexmelding minstens 182 dagen voor "
            "de extractiedatum, met minstens één hulpaanbod binnen 0-182 dagen."
        ),
        population_en=(
            "Acutely or structurally unsafe cases, index report at least 182 days before the "
            "extract date, with at least one help offer within 0-182 days."
        ),
        numerator_nl="Geen van die hulpaanbiedingen is specialistisch.",
        numerator_en="None of those help offers is specialist.",
        polarity="lower_is_better",
        unit="proportion",
        value_format="percent",
        rationale_nl=(
            "Bij ernstige onveiligheid volstaat generalistische ondersteuning zelden; de "
            "cohortstudies raden gespecialiseerde hulp aan."
        ),
        rationale_en=(
            "With severe unsafety generalist support rarely suffices; the cohort studies advise "
            "specialised help."
        ),
        source=SOURCE_COHORT,
        caveats_nl=("Telt aanbod, niet of de hulp is gestart of aansloeg. " + _WINDOW_NOTE_NL),
        caveats_en="Counts offers, not whether help started or worked. " + _WINDOW_NOTE_EN,
        breakdowns=("violence_type",),
        approach_elements=(
            "specialist_at_front_door",
            "multidisciplinary_team",
            "intensive_case_management",
        ),
        sql_name="light_help_for_severe",
    ),
    Indicator(
        id="recurrence_after_restraining_order",
        title_nl="Nieuwe melding binnen 12 maanden na huisverbod",
        title_en="New report within 12 months of a restraining order",
        short_nl="Aandeel zaken met huisverbod en een nieuwe melding 8-365 dagen erna.",
        short_en="Share of cases with a restraining order and a new report 8-365 days after it.",
        population_nl=(
            "Zaken met een tijdelijk huisverbod waarvan de datum minstens 365 dagen voor de "
            "extractiedatum ligt."
        ),
        population_en=(
            "Cases with a temporary restraining order dated at least 365 days before the "
            "extract date."
        ),
        numerator_nl="Een latere melding 8 tot en met 365 dagen na het huisverbod.",
        numerator_en="A later report 8 to 365 days after the restraining order.",
        polarity="lower_is_better",
        unit="proportion",
        value_format="percent",
        rationale_nl=(
            "Na een huisverbod registreerde de politie binnen een jaar bij 21% van de "
            "huishoudens nieuw geweld (30% zonder huisverbod)."
        ),
        rationale_en=(
            "After a restraining order, police registered new violence within a year for 21% of "
            "households (30% without one)."
        ),
        source=SOURCE_REGIOPLAN,
        caveats_nl=(
            "Meet meldingen, niet politieregistraties zoals de bron; het cohort is het jaar van "
            "de indexmelding, het venster loopt vanaf het huisverbod. Kleine aantallen: vaak "
            "onderdrukt; kwartalen alleen voor regio's en het land."
        ),
        caveats_en=(
            "Measures reports, not police registrations as the source does; the cohort is the "
            "index report's year, the window runs from the order. Small numbers: often "
            "suppressed; quarters only for regions and the country."
        ),
        breakdowns=("violence_type",),
        approach_elements=(
            "multidisciplinary_team",
            "system_oriented_offer",
            "intensive_case_management",
            "long_term_monitoring",
        ),
        sql_name="recurrence_after_restraining_order",
        municipal_quarters=False,
    ),
)

BY_ID: dict[str, Indicator] = {ind.id: ind for ind in INDICATORS}


@cache
def catalogue_version() -> str:
    """A short fingerprint of what the counts depend on: every indicator's id, unit, breakdowns,
    approach elements and SQL. Two installations count alike exactly when it is the same, so
    a hub accepts only packages of its own catalogue version (`metrics.package`)."""
    parts = [
        "\x1f".join([ind.id, ind.unit, *ind.breakdowns, "|", *ind.approach_elements, ind.sql])
        for ind in INDICATORS
    ]
    return hashlib.sha256("\x1e".join(parts).encode()).hexdigest()[:12]


def catalogue_frame() -> pl.DataFrame:
    """The mart's `catalogue` table (docs/mart.md), one row per indicator in catalogue order."""
    return pl.DataFrame(
        [
            {
                "indicator_id": ind.id,
                "sort_order": order,
                "title_nl": ind.title_nl,
                "title_en": ind.title_en,
                "short_nl": ind.short_nl,
                "short_en": ind.short_en,
                "population_nl": ind.population_nl,
                "population_en": ind.population_en,
                "numerator_nl": ind.numerator_nl,
                "numerator_en": ind.numerator_en,
                "polarity": ind.polarity,
                "unit": ind.unit,
                "value_format": ind.value_format,
                "rationale_nl": ind.rationale_nl,
                "rationale_en": ind.rationale_en,
                "source": ind.source,
                "caveats_nl": ind.caveats_nl,
                "caveats_en": ind.caveats_en,
                "breakdowns": ",".join(ind.breakdowns),
                "approach_elements": ",".join(ind.approach_elements),
                "municipal_quarters": ind.municipal_quarters,
                "population": ind.population,
            }
            for order, ind in enumerate(INDICATORS, start=1)
        ]
    )
