"""The shape of the synthetic reports, shared by generate_demo_data (routing/demo.py) and
the statistics benchmark (bench/figures.py): plain numbers, no Django."""

# Where reports resolve, in reports per thousand. Illustrative approximations of the shape
# of NCMEC's 2021 CyberTipline figures by country (29.3 million reports, 93.5% resolving
# outside the U.S., about 1.9% to the EU-27), not NCMEC's numbers. Countries not named
# here share TAIL_WEIGHT equally; a country with no public address in iptocc's data is
# left out and the rest are scaled up.
US_WEIGHT = 65.0
EU_WEIGHTS = {
    "FR": 4.65, "DE": 3.0, "ES": 2.4, "IT": 1.8, "PL": 1.6, "RO": 1.2, "NL": 0.8, "BE": 0.5,
    "PT": 0.5, "GR": 0.4, "SE": 0.3, "HU": 0.3, "CZ": 0.2, "BG": 0.2, "AT": 0.2, "IE": 0.2,
    "DK": 0.1, "FI": 0.1, "SK": 0.1, "HR": 0.1, "CY": 0.05, "EE": 0.05, "LV": 0.05,
    "LT": 0.05, "LU": 0.05, "MT": 0.05, "SI": 0.05,
}  # fmt: skip
OTHER_WEIGHTS = {
    "IN": 160, "PH": 110, "PK": 70, "ID": 62, "BD": 60,
    "CO": 34, "BR": 31, "MX": 29, "VN": 29, "IQ": 26, "DZ": 23, "EG": 21, "NG": 17, "TH": 16,
    "SA": 15, "TR": 14,
    "EC": 11, "PE": 10, "MA": 10, "MY": 9, "VE": 9, "NP": 8, "AR": 8, "LK": 7, "MM": 7,
    "AE": 7, "AF": 6, "TN": 6, "JO": 6, "YE": 5, "LY": 5, "SY": 5, "UA": 5, "RU": 5, "DO": 5,
    "GT": 4, "KH": 4, "ET": 4, "ZA": 4, "CL": 4, "KZ": 3, "UZ": 3, "GB": 3, "KE": 3, "GH": 3,
    "HN": 3, "SV": 3, "BO": 3, "CA": 3, "AU": 2, "JP": 2, "KR": 1,
}  # fmt: skip
TAIL_WEIGHT = 13.0
EU_27 = frozenset(EU_WEIGHTS)
# U.S. territories resolve to their own codes; the tail leaves them out.
US_TERRITORIES = frozenset({"PR", "GU", "VI", "AS", "MP", "UM"})
# Larger states get more reports (roughly by population); every other state weighs 1.
US_STATE_WEIGHTS = {"CA": 12, "TX": 9, "FL": 7, "NY": 6, "PA": 4, "IL": 4, "OH": 4, "GA": 3}

# Who reports: over 99% from providers (29.1 of 29.3 million in 2021), ~0.7% the public.
PUBLIC_SHARE = 0.007
