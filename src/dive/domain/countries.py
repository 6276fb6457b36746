"""Country codes and groupings (spec/abac.md §5.2, §5.3).

The valid set is the 249 ISO 3166-1 alpha-3 codes of pycountry 26.2.16, embedded so that nothing imports pycountry
at run time; a test pins their SHA-256. `NATO`, `FVEY` and `EU` are groupings, never valid country codes.
"""

from __future__ import annotations

import re
from collections.abc import Container
from typing import Final

from dive.types import CountryCode

__all__ = ["EU_27", "FVEY_5", "ISO_ALPHA3", "ISO_ALPHA3_SHA256", "NATO_32", "is_valid_country", "matches_code_syntax"]

_ISO_TEXT: Final = (
    "ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN "
    "BES BFA BGD BGR BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN "
    "CCK CHE CHL CHN CIV CMR COD COG COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE DEU "
    "DJI DMA DNK DOM DZA ECU EGY ERI ESH ESP EST ETH FIN FJI FLK FRA FRO FSM GAB GBR "
    "GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL GTM GUF GUM GUY HKG HMD HND HRV "
    "HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY JOR JPN KAZ KEN KGZ KHM "
    "KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC MAF MAR MCO MDA "
    "MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR MTQ MUS MWI MYS MYT NAM "
    "NCL NER NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN PAK PAN PCN PER PHL PLW PNG POL "
    "PRI PRK PRT PRY PSE PYF QAT REU ROU RUS RWA SAU SDN SEN SGP SGS SHN SJM SLB SLE "
    "SLV SMR SOM SPM SRB SSD STP SUR SVK SVN SWE SWZ SXM SYC SYR TCA TCD TGO THA TJK "
    "TKL TKM TLS TON TTO TUN TUR TUV TWN TZA UGA UKR UMI URY USA UZB VAT VCT VEN VGB "
    "VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE"
)

ISO_ALPHA3: Final[frozenset[CountryCode]] = frozenset(CountryCode(code) for code in _ISO_TEXT.split())
# §5.3: SHA-256 of the sorted codes joined by "\n".
ISO_ALPHA3_SHA256: Final = "8810c4d98093359be6c85d9e7a04d4ad2ef39b7dce1db604eeda21477cb45074"


def _codes(text: str) -> tuple[CountryCode, ...]:
    return tuple(CountryCode(code) for code in text.split())


# §5.2, in the spec's order (alphabetical by English name).
NATO_32: Final = _codes(
    "ALB BEL BGR CAN HRV CZE DNK EST FIN FRA DEU GBR GRC HUN ISL ITA LVA LTU LUX MNE "
    "NLD MKD NOR POL PRT ROU SVK SVN ESP SWE TUR USA"
)
FVEY_5: Final = _codes("USA GBR CAN AUS NZL")
EU_27: Final = _codes(
    "AUT BEL BGR HRV CYP CZE DNK EST FIN FRA DEU GRC HUN IRL ITA LVA LTU LUX MLT NLD POL PRT ROU SVK SVN ESP SWE"
)

_CODE_SYNTAX: Final = re.compile(r"[A-Z]{3}")


def matches_code_syntax(code: object) -> bool:
    """`^[A-Z]{3}$`, the shape of an ISO code and of a registered test code (§5.3, D15)."""
    return isinstance(code, str) and _CODE_SYNTAX.fullmatch(code) is not None


def is_valid_country(code: object, valid: Container[str] = ISO_ALPHA3) -> bool:
    """§3 `valid(code)`: an exact, case-sensitive member of the valid set (ISO codes plus registered test codes)."""
    return isinstance(code, str) and code in valid
