"""The dashboard's words in Dutch (default) and English: one catalogue, looked up by key."""

from __future__ import annotations

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"

MESSAGES: dict[str, dict[str, str]] = {
    # the app's frame
    "app_title": {"nl": "HGKM-monitor", "en": "HGKM monitor"},
    "app_subtitle": {
        "nl": "Aanpak huiselijk geweld en kindermishandeling per gemeente",
        "en": "The local approach to domestic violence and child abuse, per municipality",
    },
    "language": {"nl": "Taal", "en": "Language"},
    "region": {"nl": "Regio (Veilig Thuis)", "en": "Region (Veilig Thuis)"},
    "municipality": {"nl": "Gemeente", "en": "Municipality"},
    "period": {"nl": "Periode (cohort)", "en": "Period (cohort)"},
    "indicator": {"nl": "Indicator", "en": "Indicator"},
    "page_overview": {"nl": "Regio-overzicht", "en": "Region overview"},
    "page_profile": {"nl": "Gemeenteprofiel", "en": "Municipality profile"},
    "page_compare": {"nl": "Vergelijken", "en": "Compare"},
    "page_trends": {"nl": "Trends", "en": "Trends"},
    "page_catalogue": {"nl": "Indicatoren", "en": "Indicators"},
    "page_deliveries": {"nl": "Aanleveringen", "en": "Deliveries"},
    "page_report": {"nl": "Rapport", "en": "Report"},
    "no_mart": {
        "nl": "Er zijn nog geen gepubliceerde cijfers. Laad aanleveringen en draai daarna "
        "`hgkm compute`; deze pagina toont de cijfers zodra ze er zijn.",
        "en": "No figures have been published yet. Load deliveries and run `hgkm compute`; "
        "this page shows the figures as soon as they exist.",
    },
    "method_line": {
        "nl": "Methode: percentages met 95%-betrouwbaarheidsinterval (Wilson); een gemeente is "
        "beter of slechter dan de regio of Nederland als die waarde buiten haar interval valt "
        "(methode van Fingertips, Engeland). Kleine aantallen worden niet getoond (–). "
        "Gepubliceerd {published}.",
        "en": "Method: percentages with a 95% confidence interval (Wilson); a municipality is "
        "better or worse than its region or the country when that value lies outside its "
        "interval (the method of England's Fingertips). Small numbers are not shown (–). "
        "Published {published}.",
    },
    "suppressed_hover": {
        "nl": "te weinig gevallen om te tonen",
        "en": "too few cases to show",
    },
    "no_delivery": {
        "nl": "geen cijfer (geen aanlevering of geen gevallen)",
        "en": "no figure (no delivery or no cases)",
    },
    "interval": {"nl": "95%-interval", "en": "95% interval"},
    "not_reached_short": {"nl": "niet bereikt", "en": "not reached"},
    "cases": {"nl": "gevallen", "en": "cases"},
    "netherlands": {"nl": "Nederland", "en": "the Netherlands"},
    "legend_better": {"nl": "▲ beter", "en": "▲ better"},
    "legend_similar": {"nl": "● vergelijkbaar", "en": "● similar"},
    "legend_worse": {"nl": "▼ slechter", "en": "▼ worse"},
    "legend_not_compared": {"nl": "niet vergeleken", "en": "not compared"},
    "legend_suppressed": {"nl": "– te weinig gevallen", "en": "– too few cases"},
    "legend_no_data": {"nl": "n.b. geen aanlevering", "en": "n.b. no delivery"},
    "banner_stale": {
        "nl": "De cijfers van {name} zijn verouderd: de laatste aanlevering is van {date} "
        "({days} dagen geleden).",
        "en": "The figures of {name} are out of date: its last delivery dates from {date} "
        "({days} days ago).",
    },
    "banner_rejected": {
        "nl": "De laatste aanlevering van {name} ({date}) is afgekeurd; de cijfers komen uit "
        "de vorige goedgekeurde aanlevering.",
        "en": "The last delivery of {name} ({date}) was rejected; the figures come from the "
        "previous accepted delivery.",
    },
    "banner_missing": {
        "nl": "{name} heeft (nog) geen cijfers aangeleverd.",
        "en": "{name} has not delivered any figures (yet).",
    },
    # Regio-overzicht
    "overview_intro": {
        "nl": "Elke cel is de waarde van een gemeente, gekleurd naar de vergelijking met "
        "{country}. Het teken zegt hetzelfde als de kleur: ▲ beter, ● vergelijkbaar, "
        "▼ slechter. Beweeg over een cel voor het interval en de uitleg, of open de tabel onder "
        "het overzicht.",
        "en": "Each cell is a municipality's value, coloured by its comparison with "
        "{country}. The symbol says the same as the colour: ▲ better, ● similar, ▼ worse. "
        "Hover over a cell for the interval and the explanation, or open the table below the "
        "overview.",
    },
    "overview_grid_title": {
        "nl": "{region}: gemeenten vergeleken met {country}, {period}",
        "en": "{region}: municipalities compared with {country}, {period}",
    },
    "map_heading": {"nl": "Kaart van de regio", "en": "Map of the region"},
    "map_indicator": {"nl": "Indicator op de kaart", "en": "Indicator on the map"},
    "coverage": {
        "nl": "{delivered} van de {total} gemeenten in de regio hebben aangeleverd.",
        "en": "{delivered} of the {total} municipalities in the region have delivered.",
    },
    # Gemeenteprofiel
    "profile_intro": {
        "nl": "Elke regel is één indicator. De grijze balk loopt van de slechtste tot de beste "
        "gemeente ({country}; donkergrijs: de middelste helft); rechts is beter. "
        "De streep in het midden is {country}, ◆ de regio, de cirkel {name}.",
        "en": "Each line is one indicator. The grey bar runs from the worst to the best "
        "municipality ({country}; dark grey: the middle half); right is better. "
        "The line in the middle is {country}, ◆ the region, the circle {name}.",
    },
    "spine_title": {
        "nl": "{name} tegenover de regio en {country}, {period}",
        "en": "{name} against the region and {country}, {period}",
    },
    "trend_heading": {"nl": "Ontwikkeling over de jaren", "en": "Over the years"},
    "km_heading": {
        "nl": "Hoe snel komt specialistische hulp op gang?",
        "en": "How soon does specialist help start?",
    },
    "km_intro": {
        "nl": "De lijn toont welk deel van de gezinnen met (acute of structurele) onveiligheid "
        "na zoveel dagen nog geen specialistische hulp had (Kaplan–Meier). Waar de lijn de "
        "50% kruist ligt de mediaan.",
        "en": "The line shows which share of families with (acute or structural) unsafety "
        "still had no specialist help after so many days (Kaplan–Meier). Where the line "
        "crosses 50% lies the median.",
    },
    "km_none": {
        "nl": "Geen curve: te weinig gevallen in deze periode.",
        "en": "No curve: too few cases in this period.",
    },
    "km_yaxis": {"nl": "nog zonder specialistische hulp", "en": "still without specialist help"},
    "km_xaxis": {"nl": "dagen na de melding", "en": "days after the report"},
    "median_line": {"nl": "mediaan (50%)", "en": "median (50%)"},
    "table_value": {"nl": "Waarde", "en": "Value"},
    "table_interval": {"nl": "95%-interval", "en": "95% interval"},
    "table_vs_region": {"nl": "t.o.v. regio", "en": "vs region"},
    "table_vs_country": {"nl": "t.o.v. {country}", "en": "vs {country}"},
    "table_region": {"nl": "Regio", "en": "Region"},
    "table_trend": {"nl": "Trend (5 jaar)", "en": "Trend (5 years)"},
    "table_cases": {"nl": "Aantal", "en": "Count"},
    # Vergelijken
    "compare_intro": {
        "nl": "Links het trechterdiagram: hoe kleiner een gemeente, hoe meer toeval, dus hoe "
        "wijder de trechter. Een punt buiten de lijnen wijkt meer af dan toeval verklaart. "
        "Rechts dezelfde gemeenten op volgorde, met hun 95%-interval.",
        "en": "Left the funnel plot: the smaller a municipality, the more chance plays a part, "
        "so the wider the funnel. A point outside the lines differs more than chance explains. "
        "Right the same municipalities in order, with their 95% interval.",
    },
    "filter": {"nl": "Welke gemeenten", "en": "Which municipalities"},
    "filter_all": {"nl": "alle gemeenten", "en": "all municipalities"},
    "filter_region": {"nl": "gemeenten in de regio", "en": "municipalities in the region"},
    "filter_size": {
        "nl": "vergelijkbaar in inwonertal ({band})",
        "en": "similar in population ({band})",
    },
    "size_band": {"nl": "{low} tot {high} inwoners", "en": "{low} to {high} inhabitants"},
    "size_band_open": {"nl": "{low} inwoners of meer", "en": "{low} inhabitants or more"},
    "funnel_title": {"nl": "Trechterdiagram", "en": "Funnel plot"},
    "funnel_x": {"nl": "aantal gevallen (noemer)", "en": "number of cases (denominator)"},
    "funnel_95": {"nl": "95%-grens", "en": "95% limit"},
    "funnel_998": {"nl": "99,8%-grens", "en": "99.8% limit"},
    "funnel_re": {
        "nl": "99,8%-grens met extra spreiding",
        "en": "99.8% limit allowing for extra spread",
    },
    "funnel_overdispersed": {
        "nl": "Let op: de gemeenten verschillen onderling meer dan toeval verklaart "
        "(overspreiding, φ = {phi}). De gestippelde grenzen houden daar rekening mee, zodat "
        "grote gemeenten niet alleen door hun omvang opvallen.",
        "en": "Note: the municipalities differ more among themselves than chance explains "
        "(over-dispersion, φ = {phi}). The dotted limits allow for that, so that large "
        "municipalities do not stand out merely for being large.",
    },
    "funnel_only_proportions": {
        "nl": "Een trechterdiagram bestaat alleen voor percentages; kies een andere indicator "
        "voor het trechterdiagram. De rangorde hiernaast toont wel de medianen.",
        "en": "A funnel plot exists only for percentages; choose another indicator for the "
        "funnel. The ranking beside it does show the medians.",
    },
    "ranked_title": {"nl": "Op volgorde, met 95%-interval", "en": "In order, with 95% interval"},
    # Trends
    "trends_intro": {
        "nl": "De ontwikkeling van één indicator voor de gekozen gemeenten, met de regio en "
        "Nederland als gestippelde lijn. De pijl zegt of er over de laatste vijf jaar een "
        "duidelijke (statistisch significante) stijging of daling is.",
        "en": "One indicator over time for the chosen municipalities, with the region and the "
        "country as dashed lines. The arrow says whether the last five years show a clear "
        "(statistically significant) rise or fall.",
    },
    "trend_municipalities": {"nl": "Gemeenten", "en": "Municipalities"},
    "granularity": {"nl": "Per", "en": "By"},
    "granularity_year": {"nl": "jaar", "en": "year"},
    "granularity_quarter": {"nl": "kwartaal", "en": "quarter"},
    "trend_increasing_better": {"nl": "↗ stijgt (beter)", "en": "↗ rising (better)"},
    "trend_increasing_worse": {"nl": "↗ stijgt (slechter)", "en": "↗ rising (worse)"},
    "trend_decreasing_better": {"nl": "↘ daalt (beter)", "en": "↘ falling (better)"},
    "trend_decreasing_worse": {"nl": "↘ daalt (slechter)", "en": "↘ falling (worse)"},
    "trend_no_change": {"nl": "→ geen duidelijke verandering", "en": "→ no significant change"},
    "trend_insufficient": {
        "nl": "· te weinig jaren voor een trend",
        "en": "· too few years for a trend",
    },
    # Indicatoren
    "catalogue_intro": {
        "nl": "Wat elke indicator meet, bij wie, en waarom het ertoe doet.",
        "en": "What each indicator measures, for whom, and why it matters.",
    },
    "cat_definition": {"nl": "Wat telt mee", "en": "What counts"},
    "cat_population": {"nl": "Bij wie (noemer)", "en": "For whom (denominator)"},
    "cat_numerator": {"nl": "Wat telt (teller)", "en": "What counts (numerator)"},
    "cat_polarity": {"nl": "Wat is beter", "en": "What is better"},
    "cat_rationale": {"nl": "Waarom dit ertoe doet", "en": "Why it matters"},
    "cat_caveats": {"nl": "Let op", "en": "Caveats"},
    "cat_source": {"nl": "Bron", "en": "Source"},
    "cat_breakdowns": {"nl": "Uitsplitsingen", "en": "Breakdowns"},
    "lower_is_better": {"nl": "lager is beter", "en": "lower is better"},
    "higher_is_better": {"nl": "hoger is beter", "en": "higher is better"},
    # Aanleveringen
    "deliveries_intro": {
        "nl": "Welke gemeente wanneer heeft aangeleverd, of de aanlevering is goedgekeurd en "
        "hoe actueel de cijfers zijn. Verouderd: de laatste aanlevering is ouder dan {days} "
        "dagen.",
        "en": "Which municipality delivered when, whether the delivery was accepted and how "
        "current the figures are. Out of date: the last delivery is older than {days} days.",
    },
    "deliveries_scope": {"nl": "Toon", "en": "Show"},
    "deliveries_scope_region": {"nl": "de gekozen regio", "en": "the chosen region"},
    "deliveries_scope_all": {"nl": "heel Nederland", "en": "the whole country"},
    "col_municipality": {"nl": "Gemeente", "en": "Municipality"},
    "col_status": {"nl": "Status", "en": "Status"},
    "col_extract": {"nl": "Peildatum", "en": "Extract date"},
    "col_received": {"nl": "Ontvangen", "en": "Received"},
    "col_age": {"nl": "Dagen oud", "en": "Days old"},
    "col_warnings": {"nl": "Waarschuwingen", "en": "Warnings"},
    "col_rejections": {"nl": "Afgekeurd", "en": "Rejected"},
    "col_note": {"nl": "Toelichting", "en": "Note"},
    "col_rows": {"nl": "Rijen", "en": "Rows"},
    "col_errors": {"nl": "Fouten", "en": "Errors"},
    "col_current": {"nl": "In gebruik", "en": "In use"},
    "status_ok": {"nl": "● actueel", "en": "● current"},
    "status_stale": {"nl": "▼ verouderd", "en": "▼ out of date"},
    "status_rejected": {"nl": "✕ laatste afgekeurd", "en": "✕ last rejected"},
    "status_missing": {"nl": "○ niet aangeleverd", "en": "○ not delivered"},
    "accepted": {"nl": "goedgekeurd", "en": "accepted"},
    "rejected": {"nl": "afgekeurd", "en": "rejected"},
    "yes": {"nl": "ja", "en": "yes"},
    "no": {"nl": "nee", "en": "no"},
    "log_heading": {"nl": "Alle aanleveringen van {name}", "en": "All deliveries of {name}"},
    # Rapport
    "report_intro": {
        "nl": "Een rapport voor het regionale overleg: het overzicht van de regio, de "
        "belangrijkste grafieken en per gemeente een korte samenvatting van waar zij beter "
        "of slechter scoort. Eén HTML-bestand dat zonder internet opent.",
        "en": "A report for the regional meeting: the region's overview, the key charts and "
        "per municipality a short summary of where it does better or worse. One HTML file "
        "that opens without internet.",
    },
    "report_download": {"nl": "Download het rapport (HTML)", "en": "Download the report (HTML)"},
    "report_title": {
        "nl": "{region}: aanpak huiselijk geweld en kindermishandeling, {period}",
        "en": "{region}: the approach to domestic violence and child abuse, {period}",
    },
    "report_summary_heading": {"nl": "Per gemeente", "en": "Per municipality"},
    "report_better": {
        "nl": "Beter dan {country}: {items}.",
        "en": "Better than {country}: {items}.",
    },
    "report_worse": {
        "nl": "Slechter dan {country}: {items}.",
        "en": "Worse than {country}: {items}.",
    },
    "report_similar_only": {
        "nl": "Op geen enkele indicator duidelijk anders dan {country}.",
        "en": "Not clearly different from {country} on any indicator.",
    },
    "report_suppressed": {
        "nl": "{n} cijfer(s) niet getoond wegens te weinig gevallen.",
        "en": "{n} figure(s) not shown because of too few cases.",
    },
    "report_no_figures": {
        "nl": "Geen cijfers: geen (actuele) aanlevering.",
        "en": "No figures: no (current) delivery.",
    },
    "report_region_line": {
        "nl": "De regio als geheel is beter dan {country} op {better} en slechter op {worse} "
        "van de {total} indicatoren.",
        "en": "The region as a whole is better than {country} on {better} and worse on "
        "{worse} of the {total} indicators.",
    },
    "report_generated": {"nl": "Gemaakt op {date}.", "en": "Generated on {date}."},
    "report_key_charts": {"nl": "Belangrijkste grafieken", "en": "Key charts"},
}


def t(key: str, lang: str = DEFAULT_LANGUAGE, **values: object) -> str:
    """The message `key` in `lang`, with `{placeholders}` filled in."""
    text = MESSAGES[key][lang if lang in LANGUAGES else DEFAULT_LANGUAGE]
    return text.format(**values) if values else text


# The "Aanpak" page: approach profiles and the comparison by approach element.
MESSAGES.update(
    {
        "page_approach": {"nl": "Aanpak", "en": "Approach"},
        "approach_title": {"nl": "Aanpak: {name}", "en": "Approach: {name}"},
        "approach_intro": {
            "nl": "Hoe de gemeente haar lokale aanpak heeft ingericht (welke elementen, sinds "
            "wanneer), waarin die verschilt van de regio, en hoe de indicatoren uitvallen voor "
            "gevallen die wel en niet onder een element vielen.",
            "en": "How the municipality organises its local approach (which elements, since "
            "when), where it differs from its region, and how the indicators come out for "
            "cases that did and did not fall under an element.",
        },
        "approach_caveat": {
            "nl": "Let op: dit zijn samenhangen, geen bewijs van effect. Gemeenten verschillen "
            "in meer dan hun aanpak (inwoners, zwaarte van de zaken, registratie), en een "
            "element wordt vaak tegelijk met andere veranderingen ingevoerd. Dit is geen "
            "ranglijst van de 'beste aanpak'.",
            "en": "Note: these are associations, not proof of effect. Municipalities differ in "
            "more than their approach (residents, severity of cases, recording), and an "
            "element is often introduced together with other changes. This is no ranking of "
            "a 'best approach'.",
        },
        "approach_timeline_title": {"nl": "Elementen in de tijd", "en": "Elements over time"},
        "approach_in_place": {"nl": "nog steeds", "en": "still in place"},
        "approach_no_profile": {
            "nl": "Voor deze gemeente is (nog) geen aanpakprofiel ingelezen.",
            "en": "No approach profile has been imported for this municipality (yet).",
        },
        "approach_region_title": {
            "nl": "Verschil met de regio",
            "en": "Difference from the region",
        },
        "approach_region_has": {
            "nl": "De meeste gemeenten in de regio met een profiel hebben dit nu wel, {name} "
            "niet: {elements}.",
            "en": "Most municipalities of the region with a profile have this now, {name} does "
            "not: {elements}.",
        },
        "approach_only_here": {
            "nl": "{name} heeft dit nu wel, de meeste gemeenten in de regio niet: {elements}.",
            "en": "{name} has this now, most municipalities of the region do not: {elements}.",
        },
        "approach_like_region": {
            "nl": "Op geen element wijkt {name} af van wat de meeste gemeenten in de regio hebben.",
            "en": "{name} differs from most municipalities of the region on no element.",
        },
        "approach_share_column": {
            "nl": "Gemeenten in de regio met dit element",
            "en": "Municipalities of the region with this element",
        },
        "approach_here_column": {"nl": "{name} heeft het", "en": "{name} has it"},
        "approach_element": {"nl": "Element", "en": "Element"},
        "approach_yes": {"nl": "ja", "en": "yes"},
        "approach_no": {"nl": "nee", "en": "no"},
        "approach_ww_title": {
            "nl": "Met en zonder het element",
            "en": "With and without the element",
        },
        "approach_ww_intro": {
            "nl": "Verschil in procentpunten tussen gevallen die onder het element vielen en "
            "gevallen die dat niet deden, in de regio en in heel Nederland, per cohortjaar en "
            "voor alle jaren samen, met 95%-interval (Newcombe).",
            "en": "Difference in percentage points between cases that fell under the element "
            "and cases that did not, in the region and the whole country, per cohort year and "
            "for all years together, with a 95% interval (Newcombe).",
        },
        "approach_ba_title": {
            "nl": "Voor en na de invoering in {name}",
            "en": "Before and after the introduction in {name}",
        },
        "approach_ba_none": {
            "nl": "{name} heeft dit element niet ingevoerd tijdens de jaren waarover cijfers "
            "zijn, of er zijn te weinig gevallen om voor en na te vergelijken.",
            "en": "{name} did not introduce this element during the years with figures, or "
            "there are too few cases to compare before and after.",
        },
        "approach_no_comparison": {
            "nl": "Geen vergelijking beschikbaar voor dit element en deze indicator.",
            "en": "No comparison available for this element and indicator.",
        },
        "approach_with": {"nl": "met element", "en": "with element"},
        "approach_without": {"nl": "zonder element", "en": "without element"},
        "approach_before": {"nl": "voor invoering", "en": "before introduction"},
        "approach_after": {"nl": "na invoering", "en": "after introduction"},
        "approach_all_years": {"nl": "alle jaren", "en": "all years"},
        "approach_points": {"nl": "pp", "en": "pp"},
        "approach_reading_ww": {
            "nl": "{area}, {period}: bij gevallen onder dit element was het {with_value}, "
            "zonder {without_value}; {direction} {size} procentpunt (95%-interval {low} tot "
            "{high}). {certainty}",
            "en": "{area}, {period}: for cases under this element it was {with_value}, without "
            "{without_value}; {direction} {size} percentage points (95% interval {low} to "
            "{high}). {certainty}",
        },
        "approach_reading_ba": {
            "nl": "{indicator}: voor de invoering ({introduced}) {without_value}, daarna "
            "{with_value}; {direction} {size} procentpunt (95%-interval {low} tot {high}). "
            "{certainty}",
            "en": "{indicator}: before the introduction ({introduced}) {without_value}, after "
            "it {with_value}; {direction} {size} percentage points (95% interval {low} to "
            "{high}). {certainty}",
        },
        "approach_higher": {"nl": "hoger met", "en": "higher by"},
        "approach_lower": {"nl": "lager met", "en": "lower by"},
        "approach_clear": {
            "nl": "Het interval bevat 0 niet: toeval alleen verklaart dit verschil "
            "waarschijnlijk niet.",
            "en": "The interval excludes 0: chance alone probably does not explain this "
            "difference.",
        },
        "approach_unclear": {
            "nl": "Het interval bevat 0: het verschil kan op toeval berusten.",
            "en": "The interval includes 0: the difference may be due to chance.",
        },
        "approach_polarity_lower": {"nl": "(Lager is beter.)", "en": "(Lower is better.)"},
        "approach_polarity_higher": {"nl": "(Hoger is beter.)", "en": "(Higher is better.)"},
        "element_specialist_at_front_door": {
            "nl": "Specialisten aan de voordeur",
            "en": "Specialists at the front door",
        },
        "element_single_coordinator": {
            "nl": "Eén gezin, één plan, één regisseur",
            "en": "One family, one plan, one coordinator",
        },
        "element_multidisciplinary_team": {
            "nl": "Multidisciplinair team (MDA++)",
            "en": "Multidisciplinary team (MDA++)",
        },
        "element_system_oriented_offer": {
            "nl": "Systeemgericht hulpaanbod",
            "en": "System-oriented help",
        },
        "element_child_focused_offer": {
            "nl": "Eigen hulpaanbod voor elk kind",
            "en": "Help of its own for every child",
        },
        "element_intensive_case_management": {
            "nl": "Intensief casemanagement",
            "en": "Intensive case management",
        },
        "element_long_term_monitoring": {
            "nl": "Veiligheid 18 maanden volgen",
            "en": "Safety followed for 18 months",
        },
        "report_approach_title": {"nl": "Aanpak in de regio", "en": "Approaches in the region"},
        "report_approach_line": {
            "nl": "{element}: nu in {count} van de {total} gemeenten met een profiel.",
            "en": "{element}: now in place in {count} of the {total} municipalities with a "
            "profile.",
        },
    }
)
# The elements in the contract's order, as the page lists them (tests hold them equal to
# pipelines.contract.APPROACH_ELEMENTS; the dashboard does not import the pipelines).
APPROACH_ELEMENTS = tuple(k.removeprefix("element_") for k in MESSAGES if k.startswith("element_"))

# Accessibility: the charts' text alternatives, what each download holds, the statement page.
MESSAGES.update(
    {
        "alt_counts": {
            "nl": "Van {total} {what}: {better} beter dan {country}, {similar} vergelijkbaar, "
            "{worse} slechter en {hidden} zonder getoond cijfer (te weinig gevallen of geen "
            "aanlevering).",
            "en": "Of {total} {what}: {better} better than {country}, {similar} similar, "
            "{worse} worse and {hidden} without a figure shown (too few cases or no delivery).",
        },
        "alt_figures": {"nl": "cijfers van gemeenten", "en": "municipal figures"},
        "alt_municipalities": {"nl": "gemeenten", "en": "municipalities"},
        "alt_indicators": {"nl": "indicatoren", "en": "indicators"},
        "alt_area": {"nl": "Gebied", "en": "Area"},
        "alt_period": {"nl": "Periode", "en": "Period"},
        "alt_range": {
            "nl": "Hoogste: {top} ({top_value}); laagste: {bottom} ({bottom_value}).",
            "en": "Highest: {top} ({top_value}); lowest: {bottom} ({bottom_value}).",
        },
        "alt_national": {"nl": "{country}: {value}.", "en": "{country}: {value}."},
        "alt_trend_area": {
            "nl": "{area}: {first_value} in {first}, {last_value} in {last}",
            "en": "{area}: {first_value} in {first}, {last_value} in {last}",
        },
        "alt_km": {
            "nl": "Mediaan, de dag waarop de helft specialistische hulp had: {medians}. De "
            "tabel leest de curve op vaste dagen; de CSV bevat elke stap.",
            "en": "Median, the day by which half had specialist help: {medians}. The table "
            "reads the curve at fixed days; the CSV holds every step.",
        },
        "alt_in_place": {"nl": "In gebruik", "en": "In place"},
        "alt_timeline": {
            "nl": "{count} van de {total} elementen zijn nu in gebruik.",
            "en": "{count} of the {total} elements are in place now.",
        },
        "alt_to": {"nl": "tot", "en": "to"},
        "alt_difference": {
            "nl": "Verschil met min zonder (95%-interval)",
            "en": "Difference with minus without (95% interval)",
        },
        "alt_differences": {
            "nl": "Het verschil in procentpunten tussen gevallen met en zonder het element, per "
            "gebied en periode, met 95%-interval; de regels hieronder zeggen het in woorden.",
            "en": "The difference in percentage points between cases with and without the "
            "element, per area and period, with a 95% interval; the lines below say it in words.",
        },
        "alt_groups": {
            "nl": "Per indicator de waarde ({groups}) met 95%-interval; de regels hieronder "
            "zeggen het in woorden.",
            "en": "Per indicator the value ({groups}) with a 95% interval; the lines below say "
            "it in words.",
        },
        "alt_show_table": {
            "nl": "De gegevens als tabel: {title}",
            "en": "The data as a table: {title}",
        },
        "download_csv_of": {
            "nl": "Download de gegevens van {what} (CSV)",
            "en": "Download the data of {what} (CSV)",
        },
        "csv_grid": {"nl": "het regio-overzicht", "en": "the region overview"},
        "csv_map": {"nl": "de kaart", "en": "the map"},
        "csv_profile": {"nl": "het gemeenteprofiel", "en": "the municipality profile"},
        "csv_trend": {"nl": "de trendgrafiek", "en": "the trend chart"},
        "csv_km": {"nl": "de Kaplan–Meiercurve", "en": "the Kaplan–Meier curve"},
        "csv_limits": {"nl": "de trechtergrenzen", "en": "the funnel limits"},
        "csv_points": {
            "nl": "het trechterdiagram en de rangorde",
            "en": "the funnel plot and the ranking",
        },
        "csv_catalogue": {"nl": "de indicatorencatalogus", "en": "the indicator catalogue"},
        "csv_status": {"nl": "de aanleverstatus", "en": "the delivery status"},
        "csv_log": {"nl": "het aanleverlogboek", "en": "the delivery log"},
        "csv_approach_profile": {"nl": "het aanpakprofiel", "en": "the approach profile"},
        "csv_approach_region": {
            "nl": "de vergelijking met de regio",
            "en": "the comparison with the region",
        },
        "csv_with_without": {
            "nl": "de grafiek met en zonder het element",
            "en": "the chart with and without the element",
        },
        "csv_before_after": {
            "nl": "de grafiek voor en na de invoering",
            "en": "the chart before and after the introduction",
        },
        "page_accessibility": {"nl": "Toegankelijkheid", "en": "Accessibility"},
        "a11y_title": {"nl": "Toegankelijkheidsverklaring", "en": "Accessibility statement"},
        "a11y_intro": {
            "nl": "Iedereen moet het dashboard en het vergaderrapport kunnen gebruiken, ook met "
            "een schermlezer, alleen het toetsenbord of 200% zoom. Het doel is WCAG 2.1 niveau "
            "AA, zoals het Besluit digitale toegankelijkheid overheid vraagt (EN 301 549).",
            "en": "Everyone should be able to use the dashboard and the meeting report, also "
            "with a screen reader, the keyboard only or 200% zoom. The aim is WCAG 2.1 level "
            "AA, as the Dutch decree on the accessibility of government websites requires "
            "(EN 301 549).",
        },
        "a11y_status_heading": {"nl": "Status", "en": "Status"},
        "a11y_status": {
            "nl": "Voldoet gedeeltelijk. Wat de app zelf in de hand heeft voldoet aan WCAG 2.1 "
            "AA; de onderdelen van Streamlit en Plotly hieronder voldoen (nog) niet helemaal.",
            "en": "Partially compliant. What the app controls meets WCAG 2.1 AA; the parts of "
            "Streamlit and Plotly below do not fully comply (yet).",
        },
        "a11y_audit_heading": {"nl": "Onderzoek", "en": "Audit"},
        "a11y_audit": {
            "nl": "Gecontroleerd op {date}: elke pagina in het Nederlands en het Engels en het "
            "vergaderrapport automatisch met axe-core {version} (de regels van WCAG 2.0 en 2.1, "
            "niveau A en AA), een rondgang met alleen het toetsenbord (regio, gemeente en "
            "indicator kiezen, een CSV downloaden) en schermafbeeldingen op 320 en 1400 pixels "
            "breed. De automatische controles en de toetsenbordrondgang draaien bij elke "
            "wijziging opnieuw.",
            "en": "Checked on {date}: every page in Dutch and English and the meeting report "
            "automatically with axe-core {version} (the rules of WCAG 2.0 and 2.1, level A and "
            "AA), a walk with the keyboard only (choosing region, municipality and indicator, "
            "downloading a CSV) and screenshots 320 and 1400 pixels wide. The automatic checks "
            "and the keyboard walk run again at every change.",
        },
        "a11y_done_heading": {"nl": "Wat de app doet", "en": "What the app does"},
        "a11y_done": {
            "nl": "- Tekst heeft een contrast van minstens 4,5:1; kleur is nooit de enige drager "
            "van betekenis (▲ beter, ● vergelijkbaar, ▼ slechter staan er ook in teken en "
            "woord).\n"
            "- De taal van de pagina volgt de gekozen taal; elke pagina heeft een eigen titel.\n"
            "- Elke grafiek heeft een naam, een korte samenvatting en dezelfde gegevens als "
            "tabel, ook in het rapport; de kaart ook.\n"
            "- Het regio-overzicht schuift zijwaarts op smalle schermen in plaats van te "
            "overlappen.\n"
            "- Eén kopstructuur per pagina; elke downloadknop zegt wat hij downloadt; de "
            "toetsenbordfocus is zichtbaar.",
            "en": "- Text has a contrast of at least 4.5:1; colour never carries meaning alone "
            "(▲ better, ● similar, ▼ worse are also a symbol and a word).\n"
            "- The page's language follows the chosen language; every page has its own title.\n"
            "- Every chart has a name, a short summary and the same data as a table, also in "
            "the report; the map too.\n"
            "- The region overview scrolls sideways on narrow screens instead of overlapping.\n"
            "- One heading hierarchy per page; every download button says what it downloads; "
            "the keyboard focus is visible.",
        },
        "a11y_known_heading": {"nl": "Wat (nog) niet voldoet", "en": "What does not comply (yet)"},
        "a11y_criterion": {
            "nl": "WCAG {criterion}, onderdeel van {owner}",
            "en": "WCAG {criterion}, part of {owner}",
        },
        "a11y_dataframe": {
            "nl": "De tabellen van Streamlit (zoals die op Aanleveringen) worden op een canvas "
            "getekend; een schermlezer leest ze maar beperkt. Elke tabel is ook als CSV te "
            "downloaden, en de gegevens van elke grafiek staan in een gewone tabel.",
            "en": "Streamlit's tables (such as those on Deliveries) are drawn on a canvas; a "
            "screen reader reads them only in part. Every table can also be downloaded as CSV, "
            "and the data of every chart is in a plain table.",
        },
        "a11y_hover": {
            "nl": "De uitleg bij een punt of cel van een grafiek verschijnt alleen onder de "
            "muis. Alles wat die uitleg zegt (waarde, interval, vergelijking, waarom een cijfer "
            "ontbreekt) staat ook in de tabel bij de grafiek.",
            "en": "The explanation of a point or cell of a chart appears under the mouse only. "
            "Everything it says (value, interval, comparison, why a figure is missing) is also "
            "in the chart's table.",
        },
        "a11y_english": {
            "nl": "De knoppen van Plotly bij een grafiek en het menu van Streamlit (rechtsboven) "
            "hebben Engelse namen, ook op de Nederlandse pagina's.",
            "en": "Plotly's buttons on a chart and Streamlit's menu (top right) have English "
            "names, also on the Dutch pages.",
        },
        "a11y_contact_heading": {"nl": "Contact", "en": "Contact"},
        "a11y_contact": {
            "nl": "Loopt u tegen een probleem aan, of heeft u gegevens in een andere vorm nodig? "
            "Neem contact op met de beheerder van het dashboard in uw organisatie, of meld het "
            "in het issue-register van HGKM-monitor. U krijgt binnen vijf werkdagen antwoord. "
            "Bent u niet tevreden met de afhandeling, dan kunt u terecht bij de Nationale "
            "ombudsman.",
            "en": "Do you run into a problem, or do you need data in another form? Contact the "
            "administrator of the dashboard in your organisation, or report it in HGKM "
            "monitor's issue tracker. You get an answer within five working days. If you are "
            "not satisfied with how it was handled, you can turn to the Dutch National "
            "Ombudsman.",
        },
    }
)

# Sign-in and roles: the account, refusals, and the analysts' pages (hgkm.access)
MESSAGES.update(
    {
        "page_status": {"nl": "Verwerking", "en": "Processing"},
        "page_audit": {"nl": "Auditlog", "en": "Audit log"},
        "account": {"nl": "Ingelogd", "en": "Signed in"},
        "sign_in": {"nl": "Inloggen", "en": "Sign in"},
        "sign_out": {"nl": "Uitloggen", "en": "Sign out"},
        "sign_in_hint": {
            "nl": "Medewerkers van gemeenten en de regio loggen in om de aanleverrapporten "
            "en de toelichting bij het aanpakprofiel te zien.",
            "en": "Staff of municipalities and the region sign in to see the delivery reports "
            "and the notes to the approach profile.",
        },
        "sign_in_required": {
            "nl": "Deze monitor is alleen te zien na inloggen. Log in met het account van uw "
            "organisatie.",
            "en": "This monitor can only be seen after signing in. Sign in with your "
            "organisation's account.",
        },
        "roles_broken": {
            "nl": "Het inloggen is op dit moment niet goed ingesteld, daarom is de monitor "
            "gesloten. De beheerder vindt de oorzaak in het logboek van de server.",
            "en": "Sign-in is not set up correctly at the moment, so the monitor is closed. "
            "The administrator finds the cause in the server's log.",
        },
        "role_public": {"nl": "Publiek", "en": "Public"},
        "role_municipality": {"nl": "Gemeente", "en": "Municipality"},
        "role_analyst": {"nl": "Analist", "en": "Analyst"},
        "role_admin": {"nl": "Beheerder", "en": "Administrator"},
        "role_open": {"nl": "Publiek", "en": "Public"},
        "refused_municipality": {
            "nl": "De aanleverrapporten van {name} kunt u niet inzien: ze zijn alleen zichtbaar "
            "voor de gemeente zelf, de analisten van haar regio en beheerders. Uw toegang: "
            "{scope}. Dit verzoek is vastgelegd in het auditlog.",
            "en": "You cannot see the delivery reports of {name}: only the municipality itself, "
            "the analysts of its region and administrators can. Your access: {scope}. This "
            "request has been recorded in the audit log.",
        },
        "refused_page": {
            "nl": "Deze pagina is alleen voor analisten en beheerders. Uw toegang: {scope}. "
            "Dit verzoek is vastgelegd in het auditlog.",
            "en": "This page is for analysts and administrators only. Your access: {scope}. "
            "This request has been recorded in the audit log.",
        },
        "log_public_note": {
            "nl": "Alleen de goedgekeurde aanleveringen. Afkeuringen, waarschuwingen en de "
            "rapporten ziet de gemeente zelf en de regio, na inloggen.",
            "en": "Accepted deliveries only. Rejections, warnings and the reports are seen by "
            "the municipality itself and its region, after signing in.",
        },
        "report_heading": {"nl": "Rapport van een aanlevering", "en": "Report of a delivery"},
        "report_choice": {"nl": "Aanlevering", "en": "Delivery"},
        "report_none": {
            "nl": "Bij deze aanlevering zijn geen fouten of waarschuwingen vastgelegd.",
            "en": "No errors or warnings were recorded with this delivery.",
        },
        "report_capped": {
            "nl": "{total} fouten in totaal; per controle staan de eerste hier.",
            "en": "{total} errors in all; the first of each rule are listed here.",
        },
        "col_kind": {"nl": "Soort", "en": "Kind"},
        "col_file": {"nl": "Bestand", "en": "File"},
        "col_line": {"nl": "Regel", "en": "Row"},
        "col_column": {"nl": "Kolom", "en": "Column"},
        "col_rule": {"nl": "Controle", "en": "Rule"},
        "col_fix": {"nl": "Wat te doen", "en": "What to do"},
        "col_count": {"nl": "Aantal", "en": "Count"},
        "kind_error": {"nl": "fout", "en": "error"},
        "kind_warning": {"nl": "waarschuwing", "en": "warning"},
        "approach_notes_heading": {"nl": "Toelichting bij het profiel", "en": "Profile notes"},
        "approach_notes_caption": {
            "nl": "Alleen zichtbaar voor de gemeente zelf, de analisten van de regio en "
            "beheerders.",
            "en": "Visible only to the municipality itself, the region's analysts and "
            "administrators.",
        },
        "approach_from": {"nl": "Vanaf", "en": "From"},
        "status_intro": {
            "nl": "De geplande verwerking (`hgkm run`): of ze nu loopt, hoe de laatste keren "
            "verliepen, welke aanleveringen ze verwerkte en wat aandacht vraagt{where}.",
            "en": "The scheduled processing (`hgkm run`): whether it runs now, how the last "
            "runs went, which deliveries they handled and what needs attention{where}.",
        },
        "status_where_regions": {
            "nl": " in uw regio's ({regions})",
            "en": " in your regions ({regions})",
        },
        "status_running": {
            "nl": "Er loopt nu een verwerking (gestart {since}, proces {pid}).",
            "en": "A run is in progress (started {since}, process {pid}).",
        },
        "status_dead": {
            "nl": "Een verwerking (gestart {since}) is gestopt zonder af te ronden; de volgende "
            "verwerking neemt het over.",
            "en": "A run (started {since}) stopped without finishing; the next run takes over.",
        },
        "status_idle": {"nl": "Er loopt nu geen verwerking.", "en": "No run is in progress."},
        "status_runs_heading": {"nl": "Laatste verwerkingen", "en": "Last runs"},
        "status_no_runs": {
            "nl": "Er zijn nog geen verwerkingen vastgelegd.",
            "en": "No runs have been recorded yet.",
        },
        "status_filed_heading": {
            "nl": "Aanleveringen in deze verwerkingen",
            "en": "Deliveries in these runs",
        },
        "status_filed_none": {
            "nl": "Geen aanleveringen van uw gemeenten in deze verwerkingen.",
            "en": "No deliveries of your municipalities in these runs.",
        },
        "status_attention_heading": {"nl": "Wat aandacht vraagt", "en": "What needs attention"},
        "status_attention_none": {
            "nl": "Alle gemeenten hebben een actuele, goedgekeurde aanlevering.",
            "en": "Every municipality has a current, accepted delivery.",
        },
        "status_published": {
            "nl": "De gepubliceerde cijfers zijn van {date}.",
            "en": "The published figures date from {date}.",
        },
        "status_unreadable": {
            "nl": "{n} regel(s) van het logboek waren onleesbaar en zijn overgeslagen.",
            "en": "{n} line(s) of the log were unreadable and were skipped.",
        },
        "col_started": {"nl": "Gestart", "en": "Started"},
        "col_ended": {"nl": "Klaar", "en": "Ended"},
        "col_outcome": {"nl": "Uitkomst", "en": "Outcome"},
        "col_seen": {"nl": "Gevonden", "en": "Found"},
        "col_accepted": {"nl": "Goedgekeurd", "en": "Accepted"},
        "col_published": {"nl": "Gepubliceerd", "en": "Published"},
        "col_error": {"nl": "Foutmelding", "en": "Error"},
        "col_time": {"nl": "Tijd (UTC)", "en": "Time (UTC)"},
        "col_user": {"nl": "Gebruiker", "en": "User"},
        "col_role": {"nl": "Rol", "en": "Role"},
        "col_action": {"nl": "Handeling", "en": "Action"},
        "col_what": {"nl": "Wat", "en": "What"},
        "outcome_ok": {"nl": "in orde", "en": "ok"},
        "outcome_attention": {"nl": "aandacht nodig", "en": "needs attention"},
        "outcome_failed": {"nl": "mislukt", "en": "failed"},
        "outcome_running": {"nl": "bezig of afgebroken", "en": "running or interrupted"},
        "audit_intro": {
            "nl": "Wie wat deed en wanneer: inloggen, uitloggen en geweigerde verzoeken{where}. "
            "Het log wordt alleen aangevuld, nooit gewijzigd.",
            "en": "Who did what and when: sign-ins, sign-outs and refused requests{where}. "
            "The log is only ever appended to, never changed.",
        },
        "audit_where_regions": {
            "nl": ", voor zover ze de gemeenten van uw regio's betreffen ({regions})",
            "en": ", as far as they concern the municipalities of your regions ({regions})",
        },
        "audit_since": {"nl": "Vanaf", "en": "From"},
        "audit_action": {"nl": "Handeling", "en": "Action"},
        "audit_user": {"nl": "Gebruiker (e-mailadres)", "en": "User (e-mail address)"},
        "audit_all": {"nl": "alle", "en": "all"},
        "audit_none": {"nl": "Geen regels.", "en": "No lines."},
        "action_signin": {"nl": "inloggen", "en": "sign-in"},
        "action_signout": {"nl": "uitloggen", "en": "sign-out"},
        "action_refused": {"nl": "geweigerd", "en": "refused"},
        "csv_report": {"nl": "het rapport van de aanlevering", "en": "the delivery report"},
        "csv_audit": {"nl": "het auditlog", "en": "the audit log"},
    }
)

# The national benchmark (docs/federation.md): which "country" every comparison is with.
MESSAGES.update(
    {
        "national_delivering": {
            "nl": "alle aanleverende gemeenten",
            "en": "all delivering municipalities",
        },
        "benchmark_source": {
            "nl": "Nederland is hier de landelijke benchmark van {source}, gepubliceerd op "
            "{date} ({delivered} van de {total} gemeenten).",
            "en": "The Netherlands here is the national benchmark of {source}, published on "
            "{date} ({delivered} of the {total} municipalities).",
        },
        "benchmark_none": {
            "nl": "Er is geen landelijke benchmark geïmporteerd: de vergelijkingsrij is alle "
            "gemeenten die aan dit dashboard aanleveren, niet heel Nederland.",
            "en": "No national benchmark has been imported: the comparison row is all "
            "municipalities delivering to this dashboard, not the whole country.",
        },
        "benchmark_differs": {
            "nl": "De landelijke benchmark ({date}) rekende voor {items} met een andere "
            "aanlevering dan dit dashboard: de cijfers hier zijn nieuwer of anders.",
            "en": "The national benchmark ({date}) counted {items} from another delivery than "
            "this dashboard: the figures here are newer or different.",
        },
        "benchmark_differs_item": {
            "nl": "{name} (daar {theirs}, hier {ours})",
            "en": "{name} (there {theirs}, here {ours})",
        },
        "benchmark_absent": {"nl": "geen aanlevering", "en": "no delivery"},
    }
)

# Review before publishing: the "Publicatie" page (hgkm.release, metrics.changes)
MESSAGES.update(
    {
        "page_publication": {"nl": "Publicatie", "en": "Publication"},
        "publication_intro_review": {
            "nl": "Nieuwe cijfers worden pas openbaar nadat een analist ze heeft goedgekeurd "
            '(`publish = "review"`). Hier ziet u wat een nieuwe versie verandert ten opzichte '
            "van de gepubliceerde, en keurt u haar goed of af.",
            "en": "New figures only become public once an analyst has approved them "
            '(`publish = "review"`). Here you see what a new version changes against the '
            "published one, and approve or reject it.",
        },
        "publication_intro_auto": {
            "nl": 'Nieuwe cijfers worden direct gepubliceerd (`publish = "auto"`); zet '
            '`publish = "review"` in hgkm.toml om ze eerst hier te controleren. Elke publicatie '
            "wordt bewaard.",
            "en": 'New figures are published at once (`publish = "auto"`); set '
            '`publish = "review"` in hgkm.toml to check them here first. Every publication '
            "is kept.",
        },
        "publication_none_staged": {
            "nl": "Er staat geen nieuwe versie klaar om te controleren.",
            "en": "No new version is waiting for review.",
        },
        "publication_staged": {
            "nl": "Een nieuwe versie staat klaar: berekend {built} door {who}, vergeleken met "
            "{base}. Het publiek ziet nog de gepubliceerde cijfers.",
            "en": "A new version is waiting: computed {built} by {who}, compared with {base}. "
            "The public still sees the published figures.",
        },
        "publication_base": {"nl": "publicatie {number}", "en": "publication {number}"},
        "publication_first": {
            "nl": "niets (de eerste publicatie)",
            "en": "nothing (the first publication)",
        },
        "publication_changes_heading": {"nl": "Wat verandert", "en": "What changes"},
        "publication_no_changes": {
            "nl": "Geen cijfer verandert zichtbaar ten opzichte van de gepubliceerde versie.",
            "en": "No figure changes visibly against the published version.",
        },
        "publication_count": {"nl": "{n} × {kind}", "en": "{n} × {kind}"},
        "publication_kind": {"nl": "Soort verandering", "en": "Kind of change"},
        "publication_where": {"nl": "Gebied", "en": "Area"},
        "publication_where_mine": {"nl": "uw regio's", "en": "your regions"},
        "publication_where_all": {"nl": "alle gebieden", "en": "all areas"},
        "publication_all_kinds": {"nl": "alle", "en": "all"},
        "publication_shown": {
            "nl": "{shown} van de {total} veranderingen getoond.",
            "en": "{shown} of the {total} changes shown.",
        },
        "change_moved": {
            "nl": "waarde buiten het oude 95%-interval",
            "en": "value outside its old 95% interval",
        },
        "change_newly_suppressed": {
            "nl": "nu afgeschermd (te weinig gevallen)",
            "en": "now suppressed (too few cases)",
        },
        "change_removed": {"nl": "verdwenen", "en": "gone"},
        "change_newly_shown": {"nl": "nieuw zichtbaar", "en": "newly shown"},
        "change_comparison": {
            "nl": "vergelijking met regio of land veranderd",
            "en": "comparison with region or country changed",
        },
        "change_coverage": {
            "nl": "dekking veranderd (gemeenten aangeleverd)",
            "en": "coverage changed (municipalities delivered)",
        },
        "col_change": {"nl": "Verandering", "en": "Change"},
        "col_area": {"nl": "Gebied", "en": "Area"},
        "col_period": {"nl": "Periode", "en": "Period"},
        "col_breakdown": {"nl": "Uitsplitsing", "en": "Breakdown"},
        "col_old": {"nl": "Was", "en": "Was"},
        "col_new": {"nl": "Wordt", "en": "Becomes"},
        # the national row is the Netherlands only with a benchmark (docs/federation.md)
        "col_comparison_change": {
            "nl": "Vergelijking met de landelijke rij",
            "en": "Comparison with the national row",
        },
        "change_absent": {"nl": "geen cijfer", "en": "no figure"},
        "change_coverage_text": {
            "nl": "{n} van {total} aangeleverd",
            "en": "{n} of {total} delivered",
        },
        "csv_changes": {"nl": "de veranderingen", "en": "the changes"},
        "publication_decide_heading": {"nl": "Beslissen", "en": "Decide"},
        "publication_note": {"nl": "Opmerking (optioneel)", "en": "Note (optional)"},
        "publication_approve": {"nl": "Goedkeuren en publiceren", "en": "Approve and publish"},
        "publication_reason": {"nl": "Reden van afkeuren", "en": "Reason for rejecting"},
        "publication_reject": {"nl": "Afkeuren", "en": "Reject"},
        "publication_reason_needed": {
            "nl": "Geef een reden om af te keuren.",
            "en": "Give a reason to reject.",
        },
        "publication_approved": {
            "nl": "Goedgekeurd: de nieuwe cijfers zijn gepubliceerd als publicatie {number}.",
            "en": "Approved: the new figures are published as publication {number}.",
        },
        "publication_rejected": {
            "nl": "Afgekeurd: de gepubliceerde cijfers blijven zoals ze waren.",
            "en": "Rejected: the published figures stay as they were.",
        },
        "publication_history_heading": {"nl": "Eerdere publicaties", "en": "Earlier publications"},
        "publication_history_none": {
            "nl": "Nog niets gepubliceerd.",
            "en": "Nothing published yet.",
        },
        "publication_rejections_heading": {"nl": "Afgekeurde versies", "en": "Rejected versions"},
        "col_number": {"nl": "Nummer", "en": "Number"},
        "col_published_at": {"nl": "Gepubliceerd (UTC)", "en": "Published (UTC)"},
        "col_decided_at": {"nl": "Beslist (UTC)", "en": "Decided (UTC)"},
        "col_mode": {"nl": "Hoe", "en": "How"},
        "col_by": {"nl": "Door", "en": "By"},
        "mode_auto": {"nl": "direct", "en": "at once"},
        "mode_review": {"nl": "na controle", "en": "after review"},
        "mode_adopted": {"nl": "van vóór de bewaring", "en": "from before keeping"},
        "csv_history": {"nl": "de publicaties", "en": "the publications"},
        "action_upload": {"nl": "aanlevering geüpload", "en": "delivery uploaded"},
        "action_profile_edit": {"nl": "aanpakprofiel bewerkt", "en": "approach profile edited"},
        "action_approve": {"nl": "publicatie goedgekeurd", "en": "publication approved"},
        "action_reject": {"nl": "publicatie afgekeurd", "en": "publication rejected"},
        "action_publish": {"nl": "direct gepubliceerd", "en": "published at once"},
        "role_shell": {"nl": "server (opdrachtregel)", "en": "server (command line)"},
        "role_job": {"nl": "geplande verwerking", "en": "scheduled job"},
        "role_unknown": {"nl": "onbekend", "en": "unknown"},
    }
)

# The browser intake: "Aanleveren" (upload a delivery) and "Aanpak bewerken" (hgkm.intake)
MESSAGES.update(
    {
        "page_upload": {"nl": "Aanleveren", "en": "Deliver"},
        "upload_intro": {
            "nl": "Lever hier de export van {where} aan: een .zip (ook van een map) of een "
            ".xlsx, volgens het aanlevercontract. Het bestand wordt meteen gecontroleerd zoals "
            "`hgkm ingest` dat doet; een goedgekeurd bestand gaat naar de verwerking, die het "
            "laadt. Grootte: hoogstens {size}.",
            "en": "Deliver the export of {where} here: a .zip (also of a folder) or an .xlsx, "
            "following the delivery contract. The file is checked at once as `hgkm ingest` "
            "does; an accepted file goes to the processing, which loads it. Size: at most "
            "{size}.",
        },
        "upload_no_inbox": {
            "nl": "Aanleveren via de browser is niet ingesteld: er is geen inbox (`inbox` in "
            "hgkm.toml). Vraag het de beheerder.",
            "en": "Delivering through the browser is not set up: there is no inbox (`inbox` in "
            "hgkm.toml). Ask the administrator.",
        },
        "upload_file": {"nl": "Aanlevering (.zip of .xlsx)", "en": "Delivery (.zip or .xlsx)"},
        "upload_checking": {"nl": "Bezig met controleren…", "en": "Checking…"},
        "upload_check_failed": {
            "nl": "De controle kon niet worden uitgevoerd ({why}). Probeer het later opnieuw; "
            "blijft het misgaan, meld het de beheerder.",
            "en": "The check could not be run ({why}). Try again later; if it keeps failing, "
            "tell the administrator.",
        },
        "upload_result_accepted": {
            "nl": "Goedgekeurd: de aanlevering van {name} (peildatum {extract}) staat klaar "
            "voor de verwerking.",
            "en": "Accepted: the delivery of {name} (extract date {extract}) is waiting for "
            "the processing.",
        },
        "upload_result_rejected": {
            "nl": "Afgekeurd: de aanlevering is niet geplaatst. Herstel de fouten hieronder en "
            "lever opnieuw aan.",
            "en": "Rejected: the delivery was not placed. Fix the errors below and deliver again.",
        },
        "upload_result_already_loaded": {
            "nl": "Deze aanlevering is al eerder geladen (zelfde inhoud): er verandert niets en "
            "ze is niet opnieuw geplaatst.",
            "en": "This delivery was loaded before (same content): nothing changes and it was "
            "not placed again.",
        },
        "upload_refused": {
            "nl": "Dit bestand is een aanlevering van {name}. U mag alleen aanleveren voor "
            "{scope}. Het is niet geplaatst; dit is vastgelegd in het auditlog.",
            "en": "This file is a delivery of {name}. You may only deliver for {scope}. It was "
            "not placed; this has been recorded in the audit log.",
        },
        "upload_compare_heading": {
            "nl": "Wat verandert ten opzichte van de huidige aanlevering",
            "en": "What changes against the current delivery",
        },
        "upload_compare_first": {
            "nl": "{name} heeft nog geen goedgekeurde aanlevering: dit wordt de eerste.",
            "en": "{name} has no accepted delivery yet: this will be the first.",
        },
        "upload_compare_current": {
            "nl": "Nu in gebruik: peildatum {extract}, {cases} zaken. Deze aanlevering: "
            "peildatum {new_extract}, {new_cases} zaken ({difference}).",
            "en": "In use now: extract date {extract}, {cases} cases. This delivery: extract "
            "date {new_extract}, {new_cases} cases ({difference}).",
        },
        "upload_becomes_current": {
            "nl": "Na verwerking wordt dit de actuele aanlevering van {name}.",
            "en": "Once processed, this becomes the current delivery of {name}.",
        },
        "upload_not_current": {
            "nl": "De peildatum is ouder dan die van de huidige aanlevering: ze wordt bewaard "
            "maar niet gebruikt.",
            "en": "Its extract date is older than the current delivery's: it is kept but not used.",
        },
        "upload_not_compared": {
            "nl": "Niet vergeleken met de huidige aanlevering: er loopt nu een verwerking. Het "
            "rapport van de verwerking zegt het.",
            "en": "Not compared with the current delivery: a run is in progress. The run's "
            "report will say.",
        },
        "upload_errors_heading": {"nl": "Fouten", "en": "Errors"},
        "upload_warnings_heading": {"nl": "Waarschuwingen", "en": "Warnings"},
        "upload_report_text": {
            "nl": "Het rapport zoals `hgkm ingest` het geeft",
            "en": "The report as `hgkm ingest` gives it",
        },
        "upload_rows": {"nl": "Rijen: {rows}.", "en": "Rows: {rows}."},
        "submissions_heading": {
            "nl": "Uw aanleveringen via de browser",
            "en": "Your deliveries through the browser",
        },
        "submissions_none": {"nl": "Nog geen.", "en": "None yet."},
        "submission_waiting": {"nl": "○ wacht op verwerking", "en": "○ waiting for processing"},
        "submission_accepted": {"nl": "● verwerkt en geladen", "en": "● processed and loaded"},
        "submission_rejected": {
            "nl": "✕ afgekeurd bij verwerking",
            "en": "✕ rejected when processed",
        },
        "submission_running": {
            "nl": "Er loopt nu een verwerking; deze lijst ververst vanzelf.",
            "en": "A run is in progress; this list refreshes by itself.",
        },
        "submission_queued": {
            "nl": "De verwerking is gestart; deze lijst ververst vanzelf.",
            "en": "The processing has started; this list refreshes by itself.",
        },
        "submission_scheduled": {
            "nl": "De geplande verwerking neemt de wachtende bestanden mee.",
            "en": "The scheduled processing takes the waiting files.",
        },
        "submission_report": {"nl": "Rapport van {name}", "en": "Report of {name}"},
        "col_placed": {"nl": "Aangeleverd", "en": "Delivered"},
        "col_file_placed": {"nl": "Bestand in de inbox", "en": "File in the inbox"},
        "col_message": {"nl": "Wat te doen", "en": "What to do"},
        # Aanpak bewerken
        "page_profile_edit": {"nl": "Aanpak bewerken", "en": "Edit approach"},
        "profile_edit_intro": {
            "nl": "Het aanpakprofiel: welke elementen de gemeente in haar aanpak heeft, sinds "
            "wanneer en tot wanneer. Wijzig een periode, beëindig haar (tot-datum), verwijder "
            "haar of voeg er een toe. Bij opslaan wordt de nieuwe versie gecontroleerd zoals "
            "`hgkm approach import` dat doet (overlappende periodes, datums, geen "
            "persoonsgegevens in de toelichting) en gaat ze naar de verwerking; eerdere "
            "versies blijven bewaard.",
            "en": "The approach profile: which elements the municipality has in its approach, "
            "since when and until when. Change a period, end it (until date), remove it or add "
            "one. On saving, the new version is checked as `hgkm approach import` does "
            "(overlapping periods, dates, no personal data in the notes) and goes to the "
            "processing; earlier versions are kept.",
        },
        "profile_edit_choose": {"nl": "Gemeente", "en": "Municipality"},
        "profile_edit_none": {
            "nl": "U mag voor geen enkele gemeente een profiel bewerken.",
            "en": "You may not edit any municipality's profile.",
        },
        "profile_edit_base_pending": {
            "nl": "U bewerkt de nieuwste versie ({placed}), die nog niet gepubliceerd is.",
            "en": "You are editing the newest version ({placed}), not yet published.",
        },
        "profile_edit_waiting": {
            "nl": "Er wacht al een nieuwe versie op verwerking. Bewerk verder zodra die "
            "verwerkt is.",
            "en": "A new version is already waiting for processing. Edit further once it is "
            "processed.",
        },
        "profile_edit_period": {
            "nl": "Periode {n}: {element}",
            "en": "Period {n}: {element}",
        },
        "profile_edit_new": {"nl": "Nieuwe periode", "en": "New period"},
        "profile_edit_element": {"nl": "Element", "en": "Element"},
        "profile_edit_no_element": {"nl": "(geen)", "en": "(none)"},
        "profile_edit_from": {"nl": "Vanaf", "en": "From"},
        "profile_edit_until": {
            "nl": "Tot en met (leeg: loopt nog)",
            "en": "Until (empty: ongoing)",
        },
        "profile_edit_note": {"nl": "Toelichting", "en": "Note"},
        "profile_edit_remove": {"nl": "Verwijderen", "en": "Remove"},
        "profile_edit_save": {"nl": "Controleren en opslaan", "en": "Check and save"},
        "profile_edit_nothing": {
            "nl": "Er is niets gewijzigd.",
            "en": "Nothing was changed.",
        },
        "profile_edit_empty": {
            "nl": "Een profiel heeft ten minste één periode.",
            "en": "A profile has at least one period.",
        },
        "profile_edit_rejected": {
            "nl": "Niet opgeslagen: de nieuwe versie voldoet niet aan het contract.",
            "en": "Not saved: the new version does not meet the contract.",
        },
        "profile_edit_saved": {
            "nl": "Opgeslagen als nieuwe versie; de verwerking laadt haar. Wijzigingen: {changes}.",
            "en": "Saved as a new version; the processing loads it. Changes: {changes}.",
        },
        "profile_edit_row": {"nl": "Periode {n}", "en": "Period {n}"},
        "profile_history_heading": {"nl": "Versies", "en": "Versions"},
        "profile_history_none": {
            "nl": "Nog geen wijzigingen vastgelegd.",
            "en": "No changes recorded yet.",
        },
        "col_changes": {"nl": "Wijzigingen", "en": "Changes"},
        "csv_profile_history": {"nl": "de versies van het profiel", "en": "the profile's versions"},
    }
)
