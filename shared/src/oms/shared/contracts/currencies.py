"""ISO 4217 currencies in use and their minor units: which codes exist, and how amounts are written."""

from __future__ import annotations

from decimal import Decimal


def _codes(text: str) -> list[str]:
    return text.split()


# code -> digits after the decimal point (ISO 4217 list of active codes; funds and metals left out).
MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(
        _codes(
            "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD CAD "
            "CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD "
            "HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD "
            "MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON "
            "RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD "
            "TZS UAH USD UYU UZS VES WST XCD XCG YER ZAR ZMW ZWG"
        ),
        2,
    ),
    **dict.fromkeys(_codes("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"), 0),
    **dict.fromkeys(_codes("BHD IQD JOD KWD LYD OMR TND"), 3),
    "CLF": 4,
    "UYW": 4,
}


def is_currency(code: str) -> bool:
    return code in MINOR_UNITS


def in_minor_units(amount: Decimal, currency: str) -> Decimal:
    """The amount written with the currency's minor units: 6 -> 6.00 (USD), 1500.0 -> 1500 (JPY)."""
    return amount.quantize(Decimal(1).scaleb(-MINOR_UNITS[currency]))
