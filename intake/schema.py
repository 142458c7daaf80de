"""The CyberTipline report, as data: every element, in schema order, with its type,
cardinality and rules. The JSON serializers, the XML reader and writer, and the XSD served
at /ispws/xsd are all made from this one description (see intake/documents.py).

Element names and order follow the CyberTipline Reporting API's XSD. In JSON, an element
is a key; a repeatable element is a list (a single object is read as a list of one);
attributes are keys beside an element's
children; an element with text and attributes is an object whose text is ``value``.
"""

from dataclasses import dataclass, field

from routing.countries import ISO_COUNTRY_CODES

# Leaf kinds, each checked by one DRF field (intake/documents.py).
STRING, TOKEN, BOOLEAN, FLAG, INT, LONG, DOUBLE = (
    "string", "token", "boolean", "flag", "int", "long", "double"
)  # fmt: skip
DATETIME, DATE, IP, EMAIL, URL, ENUM, EMPTY = (
    "dateTime", "date", "ip", "email", "url", "enum", "empty"
)  # fmt: skip


@dataclass(frozen=True)
class Simple:
    """A leaf: text of one kind, optionally with attributes."""

    kind: str
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    min_value: int | None = None
    max_value: int | None = None
    past: bool = False  # a date or time that must not be in the future
    pattern: str | None = None
    attrs: tuple["Attr", ...] = ()
    name: str = ""  # a named type, shared wherever it is used


@dataclass(frozen=True)
class Attr:
    name: str
    type: Simple
    required: bool = False


@dataclass(frozen=True)
class Complex:
    """An element with children: in sequence, or exactly one of them (``choice``)."""

    name: str
    children: tuple["Element", ...]
    attrs: tuple[Attr, ...] = ()
    choice: bool = False

    def child(self, name: str) -> "Element | None":
        return next((element for element in self.children if element.name == name), None)


@dataclass(frozen=True)
class Element:
    name: str
    type: Simple | Complex
    required: bool = False
    many: bool = False
    rules: tuple[str, ...] = field(default=(), compare=False)  # said in the docs


def opt(name: str, type_: Simple | Complex, **kwargs: object) -> Element:
    return Element(name, type_, **kwargs)  # type: ignore[arg-type]


def req(name: str, type_: Simple | Complex, **kwargs: object) -> Element:
    return Element(name, type_, required=True, **kwargs)  # type: ignore[arg-type]


def many(name: str, type_: Simple | Complex, **kwargs: object) -> Element:
    return Element(name, type_, many=True, **kwargs)  # type: ignore[arg-type]


def text(max_length: int | None = None) -> Simple:
    return Simple(STRING, max_length=max_length)


BOOL = Simple(BOOLEAN)
TRUE_FLAG = Simple(FLAG)
PAST_DATETIME = Simple(DATETIME, past=True)
PAST_DATE = Simple(DATE, past=True)
URL_TYPE = Simple(URL, max_length=2083)
EVENT_NAMES = ("Login", "Registration", "Purchase", "Upload", "Other", "Unknown")
INCIDENT_TYPES = (
    "Child Pornography (possession, manufacture, and distribution)",
    "Child Sex Trafficking",
    "Child Sex Tourism",
    "Child Sexual Molestation",
    "Misleading Domain Name",
    "Misleading Words or Digital Images on the Internet",
    "Online Enticement of Children for Sexual Acts",
    "Unsolicited Obscene Material Sent to a Child",
)
US_STATES = tuple(
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "  # noqa: SIM905
    "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC GU PR VI AS MP".split()
)
COUNTRY_CODES = tuple(sorted(ISO_COUNTRY_CODES))
COUNTRY = Simple(ENUM, choices=COUNTRY_CODES, name="CountryCode")
ADDRESS_COUNTRY = Simple(
    ENUM,
    choices=tuple(sorted(ISO_COUNTRY_CODES | {"A1", "A2", "O1", "AP", "EU", "FX", "XK"})),
    name="AddressCountryCode",
)
US_STATE = Simple(ENUM, choices=US_STATES, name="UsState")
HASH_TYPES = ("MD5", "SHA1", "SHA256", "PDQ")

# Shared types -------------------------------------------------------------------------

PHONE = Simple(
    STRING,
    max_length=50,
    name="Phone",
    attrs=(
        Attr(
            "type",
            Simple(
                ENUM, choices=("Mobile", "Home", "Business", "Work", "Fax", "Internet", "Recovery")
            ),
        ),
        Attr("verified", BOOL),
        Attr("verificationDate", PAST_DATETIME),
        Attr("countryCallingCode", Simple(STRING, pattern=r"^\+[0-9]{1,3}$")),
        Attr("extension", Simple(STRING, max_length=10, pattern=r"^[0-9]+$")),
    ),
)
EMAIL_ADDRESS = Simple(
    EMAIL,
    max_length=255,
    name="Email",
    attrs=(
        Attr("type", Simple(ENUM, choices=("Home", "Work", "Business", "Recovery"))),
        Attr("verified", BOOL),
        Attr("verificationDate", PAST_DATETIME),
    ),
)
ADDRESS = Complex(
    "Address",
    (
        opt("address", text(255)),
        opt("city", text(100)),
        opt("zipCode", text(20)),
        opt("state", US_STATE),
        opt("nonUsaState", text(100)),
        opt("country", ADDRESS_COUNTRY),
    ),
    attrs=(
        Attr(
            "type",
            Simple(ENUM, choices=("Home", "Business", "Billing", "Shipping", "Technical")),
        ),
    ),
)
CONTACT_PERSON = Complex(
    "ContactPerson",
    (
        opt("firstName", text(100)),
        opt("lastName", text(100)),
        many("phone", PHONE),
        many("email", EMAIL_ADDRESS),
        many("address", ADDRESS),
    ),
)
PERSON = Complex(
    "Person",
    (
        *CONTACT_PERSON.children,
        opt("age", Simple(INT, min_value=0, max_value=150)),
        opt("dateOfBirth", PAST_DATE),
    ),
)
IP_CAPTURE_EVENT = Complex(
    "IpCaptureEvent",
    (
        req("ipAddress", Simple(IP)),
        opt("eventName", Simple(ENUM, choices=EVENT_NAMES)),
        opt("dateTime", PAST_DATETIME),
        opt("possibleProxy", BOOL),
        opt("port", Simple(INT, min_value=1, max_value=65535)),
    ),
)
DEVICE_ID = Complex(
    "DeviceId",
    (
        req("idType", text(255)),
        req("idValue", text(2083)),
        opt("eventName", Simple(ENUM, choices=EVENT_NAMES)),
        opt("dateTime", PAST_DATETIME),
    ),
)
DISABLED_DATES = (
    Attr("disabledDate", PAST_DATETIME),
    Attr("userNotified", BOOL),
    Attr("userNotifiedDate", PAST_DATETIME),
)
ACCOUNT_TEMPORARILY_DISABLED = Simple(
    BOOLEAN,
    name="AccountTemporarilyDisabled",
    attrs=(*DISABLED_DATES, Attr("reenabledDate", PAST_DATETIME)),
)
ACCOUNT_PERMANENTLY_DISABLED = Simple(
    BOOLEAN, name="AccountPermanentlyDisabled", attrs=DISABLED_DATES
)
ESTIMATED_LOCATION = Complex(
    "EstimatedLocation",
    (opt("city", text(255)), opt("region", text(255)), req("countryCode", COUNTRY)),
    attrs=(Attr("verified", BOOL), Attr("timestamp", PAST_DATETIME)),
)
ASSOCIATED_ACCOUNT = Complex(
    "AssociatedAccount",
    (
        opt("platform", Simple(STRING, max_length=256, attrs=(Attr("thirdPartyUser", BOOL),))),
        opt("firstName", text(256)),
        opt("middleName", text(256)),
        opt("lastName", text(256)),
        opt("approximateAge", Simple(INT, min_value=0, max_value=150)),
        opt("dateOfBirth", PAST_DATE),
        many("phone", PHONE),
        many("email", EMAIL_ADDRESS),
        opt("allEmailsReported", BOOL),
        many("address", ADDRESS),
        opt("espService", text(256)),
        opt("espIdentifier", text(256)),
        many("profileUrl", URL_TYPE),
        opt("screenName", text(256)),
        many("displayName", text(255)),
        opt("profileBio", text()),
        opt("groupIdentifier", text(256)),
        opt("compromisedAccount", BOOL),
        opt("accountTemporarilyDisabled", ACCOUNT_TEMPORARILY_DISABLED),
        opt("accountPermanentlyDisabled", ACCOUNT_PERMANENTLY_DISABLED),
        many("ipCaptureEvent", IP_CAPTURE_EVENT),
        many("deviceId", DEVICE_ID),
        many("priorCTReport", Simple(LONG, min_value=1)),
        opt("additionalInfo", text()),
    ),
    attrs=(
        Attr(
            "type",
            Simple(
                ENUM,
                choices=("Billing", "Linked", "Business", "Creator", "Parent/Guardian", "Other"),
            ),
            required=True,
        ),
    ),
)


def party(
    name: str,
    person: Element,
    *,
    after_person: tuple[Element, ...] = (),
    after_devices: tuple[Element, ...] = (),
    group_identifier: bool = True,
    associated_accounts: bool = True,
    additional_info: Element | None = None,
) -> Complex:
    """personOrUserReported, intendedRecipient and victim: the same account elements, in
    the same order, with each one's own few in their places."""
    return Complex(
        name,
        (
            person,
            *after_person,
            opt("espIdentifier", text(255)),
            opt("espService", text(100)),
            opt("compromisedAccount", BOOL),
            opt("screenName", text(256)),
            many("displayName", text(255)),
            many("profileUrl", URL_TYPE),
            opt("profileBio", text()),
            many("ipCaptureEvent", IP_CAPTURE_EVENT),
            many("deviceId", DEVICE_ID),
            *after_devices,
            many("priorCTReports", Simple(LONG, min_value=1)),
            *((opt("groupIdentifier", text(255)),) if group_identifier else ()),
            opt("accountTemporarilyDisabled", ACCOUNT_TEMPORARILY_DISABLED),
            opt("accountPermanentlyDisabled", ACCOUNT_PERMANENTLY_DISABLED),
            opt("estimatedLocation", ESTIMATED_LOCATION),
            opt("allEmailsReported", BOOL),
            *((many("associatedAccount", ASSOCIATED_ACCOUNT),) if associated_accounts else ()),
            additional_info or opt("additionalInfo", text()),
        ),
    )


PERSON_OR_USER_REPORTED = party(
    "PersonOrUserReported",
    opt("personOrUserReportedPerson", PERSON),
    after_person=(opt("vehicleDescription", text(300)),),
    after_devices=(opt("thirdPartyUserReported", BOOL),),
)
INTENDED_RECIPIENT = party(
    "IntendedRecipient",
    opt("intendedRecipientPerson", PERSON),
    associated_accounts=False,
    additional_info=many("additionalInfo", text()),
)
VICTIM = party(
    "Victim",
    req("victimPerson", PERSON),
    after_devices=(opt("schoolName", text(255)),),
    group_identifier=False,
)


# The report ---------------------------------------------------------------------------

INCIDENT_SUMMARY = Complex(
    "IncidentSummary",
    (
        req("incidentType", Simple(ENUM, choices=INCIDENT_TYPES, name="IncidentType")),
        opt("platform", text(256)),
        opt("escalateToHighPriority", text(3000)),
        opt(
            "reportAnnotations",
            Complex(
                "ReportAnnotations",
                tuple(
                    opt(name, TRUE_FLAG)
                    for name in (
                        "sextortion",
                        "csamSolicitation",
                        "minorToMinorInteraction",
                        "spam",
                        "sadisticOnlineExploitation",
                    )
                ),
            ),
        ),
        req("incidentDateTime", PAST_DATETIME),
        opt("incidentDateTimeDescription", text(3000)),
    ),
)


def incident(name: str, *children: Element, attrs: tuple[Attr, ...] = ()) -> Element:
    """One kind of internetDetails: its own elements, then additionalInfo."""
    type_name = name[0].upper() + name[1:]
    return opt(name, Complex(type_name, (*children, opt("additionalInfo", text())), attrs=attrs))


INTERNET_DETAILS = Complex(
    "InternetDetails",
    (
        incident(
            "webPageIncident",
            many("url", URL_TYPE),
            attrs=(Attr("thirdPartyHostedContent", BOOL),),
        ),
        incident("emailIncident", many("emailAddress", EMAIL_ADDRESS), opt("content", text())),
        incident(
            "newsgroupIncident",
            opt("name", text(255)),
            many("emailAddress", EMAIL_ADDRESS),
            opt("content", text()),
        ),
        incident(
            "chatImIncident",
            opt("chatClient", text(255)),
            opt("chatRoomName", text(255)),
            opt("content", text()),
        ),
        incident(
            "onlineGamingIncident",
            opt("gameName", text(255)),
            opt("console", text(255)),
            opt("content", text()),
        ),
        incident(
            "cellPhoneIncident",
            opt("phoneNumber", PHONE),
            opt("latitude", Simple(DOUBLE, min_value=-90, max_value=90)),
            opt("longitude", Simple(DOUBLE, min_value=-180, max_value=180)),
        ),
        incident(
            "nonInternetIncident",
            opt("locationName", text(255)),
            many("incidentAddress", ADDRESS),
        ),
        incident(
            "peer2peerIncident",
            opt("client", text(255)),
            many("ipCaptureEvent", IP_CAPTURE_EVENT),
            opt("fileNames", text()),
        ),
    ),
    choice=True,
)
LAW_ENFORCEMENT = Complex(
    "LawEnforcement",
    (
        req("agencyName", text(255)),
        opt("caseNumber", text(100)),
        opt("officerContact", CONTACT_PERSON),
        opt("reportedToLe", BOOL),
        opt("servedLegalProcessDomestic", BOOL),
        opt(
            "servedLegalProcessInternational",
            Simple(BOOLEAN, attrs=(Attr("fleaCountry", COUNTRY),)),
        ),
    ),
)
REPORTER = Complex(
    "Reporter",
    (
        req("reportingPerson", PERSON),
        opt("contactPerson", CONTACT_PERSON),
        opt("companyTemplate", text()),
        opt("termsOfService", text()),
        opt("legalURL", URL_TYPE),
    ),
)
REPORT = Complex(
    "Report",
    (
        opt(
            "batchedReport",
            Simple(
                EMPTY,
                name="BatchedReport",
                attrs=(Attr("reason", Simple(ENUM, choices=("VIRAL_POTENTIAL_MEME",)), True),),
            ),
        ),
        req("incidentSummary", INCIDENT_SUMMARY),
        many("internetDetails", INTERNET_DETAILS),
        opt("lawEnforcement", LAW_ENFORCEMENT),
        # Required by the CyberTipline; optional here, where the provider's account already
        # says who reports. Clients that send it (all CyberTipline clients do) are unaffected.
        opt("reporter", REPORTER),
        many("personOrUserReported", PERSON_OR_USER_REPORTED),
        many("intendedRecipient", INTENDED_RECIPIENT),
        many("victim", VICTIM),
        opt("additionalInfo", text()),
    ),
)

# A file's details ---------------------------------------------------------------------

FILE_ANNOTATIONS = (
    "animeDrawingVirtualHentai",
    "potentialMeme",
    "viral",
    "possibleSelfProduction",
    "physicalHarm",
    "violenceGore",
    "bestiality",
    "liveStreaming",
    "infant",
    "generativeAi",
)
FILE_NAME_MAX_LENGTH = 2056  # the CyberTipline's, for fileName and originalFileName
FILE_DETAILS_CONTENT = (
    opt("fileName", text(FILE_NAME_MAX_LENGTH)),
    opt("originalFileName", text(FILE_NAME_MAX_LENGTH)),
    opt("uploadedToEspTimestamp", PAST_DATETIME),
    opt("locationOfFile", URL_TYPE),
    opt("fileViewedByEsp", BOOL),
    opt("exifViewedByEsp", BOOL),
    opt("publiclyAvailable", BOOL),
    opt("fileRelevance", Simple(ENUM, choices=("Reported", "Supplemental Reported"))),
    opt(
        "fileAnnotations",
        Complex("FileAnnotations", tuple(opt(name, TRUE_FLAG) for name in FILE_ANNOTATIONS)),
    ),
    opt("industryClassification", Simple(ENUM, choices=("A1", "A2", "B1", "B2"))),
    many(
        "originalFileHash",
        Simple(
            STRING,
            max_length=64,
            name="OriginalFileHash",
            attrs=(Attr("hashType", Simple(STRING, max_length=20), required=True),),
        ),
    ),
    opt("ipCaptureEvent", IP_CAPTURE_EVENT),
    many("deviceId", DEVICE_ID),
    many(
        "details",
        Complex(
            "Details",
            (
                many(
                    "nameValuePair",
                    Complex("NameValuePair", (req("name", text(64)), req("value", text()))),
                ),
            ),
            attrs=(Attr("type", Simple(ENUM, choices=("EXIF", "HASH"))),),
        ),
    ),
    many("additionalInfo", text()),
)
# /fileinfo names the report and file in the document; the JSON API names them in the URL.
FILE_DETAILS = Complex(
    "FileDetails",
    (
        req("reportId", Simple(LONG, min_value=1)),
        req("fileId", Simple(TOKEN, max_length=32)),
        *FILE_DETAILS_CONTENT,
    ),
)
FILE_METADATA = Complex("FileMetadata", FILE_DETAILS_CONTENT)
