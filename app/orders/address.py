"""Shipping addresses: the fields an order ships to, checked before checkout starts."""

from __future__ import annotations

from collections.abc import Mapping

# ISO 3166-1 alpha-2, the officially assigned codes.
COUNTRY_CODES = frozenset({
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX",
    "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ",
    "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK",
    "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM",
    "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR",
    "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS",
    "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN",
    "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN",
    "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV",
    "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ",
    "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI",
    "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM",
    "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC",
    "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV",
    "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR",
    "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW"
})

FIELD_LIMITS = {"name": 120, "line1": 200, "line2": 200, "city": 100, "postal_code": 20,
                "country": 2}
REQUIRED = ("name", "line1", "city", "postal_code", "country")


def normalize_address(address: Mapping) -> dict[str, str]:
    """The address as it is stored on the order: trimmed, country upper-cased, an empty
    optional line dropped. Raises nothing; ``address_errors`` says what is wrong."""
    cleaned = {name: str(address.get(name) or "").strip() for name in FIELD_LIMITS}
    cleaned["country"] = cleaned["country"].upper()
    return {name: value for name, value in cleaned.items() if value or name in REQUIRED}


def address_errors(address: Mapping[str, str]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, limit in FIELD_LIMITS.items():
        value = address.get(name, "")
        if name in REQUIRED and not value:
            errors[name] = ["is required"]
        elif len(value) > limit:
            errors[name] = [f"must be at most {limit} characters"]
    if "country" not in errors and address["country"] not in COUNTRY_CODES:
        errors["country"] = ["must be an ISO 3166-1 alpha-2 country code"]
    return errors
