"""A complete, synthetic CyberTipline report and file: every element the schema has, with
example.com addresses and documentation-only values. Shown in the API docs and used by
the tests."""

from typing import Any

PERSON: dict[str, Any] = {
    "firstName": "Alex",
    "lastName": "Example",
    "phone": [
        {
            "value": "5550100",
            "type": "Mobile",
            "verified": True,
            "verificationDate": "2025-12-01T10:00:00Z",
            "countryCallingCode": "+1",
            "extension": "12",
        }
    ],
    "email": [
        {
            "value": "alex@example.com",
            "type": "Home",
            "verified": True,
            "verificationDate": "2025-12-01T10:00:00Z",
        }
    ],
    "address": [
        {
            "address": "1 Example Street",
            "city": "Springfield",
            "zipCode": "00000",
            "state": "IL",
            "country": "US",
            "type": "Home",
        }
    ],
    "age": 34,
    "dateOfBirth": "1991-05-06",
}
CONTACT_PERSON: dict[str, Any] = {
    "firstName": "Sam",
    "lastName": "Safety",
    "phone": [{"value": "5550101", "type": "Work"}],
    "email": [{"value": "safety@example.com", "type": "Work"}],
    "address": [
        {
            "address": "2 Example Road",
            "city": "Lyon",
            "nonUsaState": "Rhone",
            "country": "FR",
            "type": "Business",
        }
    ],
}
IP_EVENT: dict[str, Any] = {
    "ipAddress": "81.2.69.160",
    "eventName": "Upload",
    "dateTime": "2026-01-02T03:04:05Z",
    "possibleProxy": False,
    "port": 443,
}
DEVICE: dict[str, Any] = {
    "idType": "IMEI",
    "idValue": "000000000000000",
    "eventName": "Login",
    "dateTime": "2026-01-02T03:00:00Z",
}
DISABLED: dict[str, Any] = {
    "value": True,
    "disabledDate": "2026-01-03T00:00:00Z",
    "userNotified": True,
    "userNotifiedDate": "2026-01-03T01:00:00Z",
}
LOCATION: dict[str, Any] = {
    "city": "London",
    "region": "England",
    "countryCode": "GB",
    "verified": False,
    "timestamp": "2026-01-02T03:04:05Z",
}
ASSOCIATED_ACCOUNT: dict[str, Any] = {
    "platform": {"value": "Example Pay", "thirdPartyUser": True},
    "firstName": "Alex",
    "middleName": "J",
    "lastName": "Example",
    "approximateAge": 34,
    "phone": [{"value": "5550102", "type": "Mobile"}],
    "email": [{"value": "alex.pay@example.com"}],
    "allEmailsReported": True,
    "address": [{"city": "Leeds", "country": "GB", "type": "Billing"}],
    "espService": "Payments",
    "espIdentifier": "pay-123",
    "profileUrl": ["https://pay.example.com/u/123"],
    "screenName": "alexpays",
    "displayName": ["Alex P"],
    "profileBio": "Synthetic account.",
    "groupIdentifier": "group-9",
    "compromisedAccount": False,
    "accountTemporarilyDisabled": {**DISABLED, "reenabledDate": "2026-01-04T00:00:00Z"},
    "accountPermanentlyDisabled": DISABLED,
    "ipCaptureEvent": [IP_EVENT],
    "deviceId": [DEVICE],
    "priorCTReport": [1001],
    "additionalInfo": "Linked billing account.",
    "type": "Billing",
}
# The child, who is both the intended recipient and the victim in the example.
CHILD: dict[str, Any] = {"firstName": "Jo", "age": 13}
CHILD_ACCOUNT: dict[str, Any] = {
    "espIdentifier": "user-7",
    "espService": "Chat",
    "compromisedAccount": False,
    "screenName": "jo7",
    "displayName": ["Jo"],
    "profileUrl": ["https://www.example.com/u/7"],
    "profileBio": "Synthetic.",
    "ipCaptureEvent": [{**IP_EVENT, "ipAddress": "5.9.0.2"}],
    "deviceId": [DEVICE],
}
CHILD_ACCOUNT_STATUS: dict[str, Any] = {
    "accountTemporarilyDisabled": DISABLED,
    "accountPermanentlyDisabled": DISABLED,
    "estimatedLocation": {"countryCode": "DE"},
    "allEmailsReported": False,
}
EXAMPLE_REPORT: dict[str, Any] = {
    "incidentSummary": {
        "incidentType": "Child Pornography (possession, manufacture, and distribution)",
        "platform": "Example Chat",
        "escalateToHighPriority": "The user appears to be in ongoing contact with a child.",
        "reportAnnotations": {
            "sextortion": True,
            "csamSolicitation": True,
            "minorToMinorInteraction": True,
            "spam": True,
            "sadisticOnlineExploitation": True,
        },
        "incidentDateTime": "2026-01-02T03:04:05Z",
        "incidentDateTimeDescription": "Time of the upload.",
    },
    "internetDetails": [
        {
            "webPageIncident": {
                "url": ["https://www.example.com/page/1"],
                "additionalInfo": "Public page.",
                "thirdPartyHostedContent": False,
            }
        },
        {
            "emailIncident": {
                "emailAddress": [{"value": "sender@example.com"}],
                "content": "Message body, described.",
                "additionalInfo": "Email.",
            }
        },
        {
            "newsgroupIncident": {
                "name": "alt.example",
                "emailAddress": [{"value": "poster@example.com"}],
                "content": "Post, described.",
                "additionalInfo": "Newsgroup.",
            }
        },
        {
            "chatImIncident": {
                "chatClient": "Example Chat",
                "chatRoomName": "room-1",
                "content": "Chat, described.",
                "additionalInfo": "Chat.",
            }
        },
        {
            "onlineGamingIncident": {
                "gameName": "Example Game",
                "console": "PC",
                "content": "Game chat, described.",
                "additionalInfo": "Game.",
            }
        },
        {
            "cellPhoneIncident": {
                "phoneNumber": {"value": "5550103", "type": "Mobile"},
                "latitude": 51.5,
                "longitude": -0.12,
                "additionalInfo": "Phone.",
            }
        },
        {
            "nonInternetIncident": {
                "locationName": "A park",
                "incidentAddress": [{"city": "Manchester", "country": "GB"}],
                "additionalInfo": "Offline.",
            }
        },
        {
            "peer2peerIncident": {
                "client": "Example P2P",
                "ipCaptureEvent": [{**IP_EVENT, "ipAddress": "5.9.0.1"}],
                "fileNames": "file-1.jpg",
                "additionalInfo": "P2P.",
            }
        },
    ],
    "lawEnforcement": {
        "agencyName": "Example Police",
        "caseNumber": "CASE-1",
        "officerContact": CONTACT_PERSON,
        "reportedToLe": True,
        "servedLegalProcessDomestic": False,
        "servedLegalProcessInternational": {"value": True, "fleaCountry": "FR"},
    },
    "reporter": {
        "reportingPerson": {**PERSON, "firstName": "Riley", "lastName": "Reporter"},
        "contactPerson": CONTACT_PERSON,
        "companyTemplate": "Template A",
        "termsOfService": "https://www.example.com/terms",
        "legalURL": "https://www.example.com/legal",
    },
    "personOrUserReported": [
        {
            "personOrUserReportedPerson": PERSON,
            "vehicleDescription": "None known.",
            "espIdentifier": "user-42",
            "espService": "Chat",
            "compromisedAccount": False,
            "screenName": "alex42",
            "displayName": ["Alex"],
            "profileUrl": ["https://www.example.com/u/42"],
            "profileBio": "Synthetic profile.",
            "ipCaptureEvent": [IP_EVENT],
            "deviceId": [DEVICE],
            "thirdPartyUserReported": False,
            "priorCTReports": [1000],
            "groupIdentifier": "group-1",
            "accountTemporarilyDisabled": {**DISABLED, "reenabledDate": "2026-01-04T00:00:00Z"},
            "accountPermanentlyDisabled": DISABLED,
            "estimatedLocation": LOCATION,
            "allEmailsReported": True,
            "associatedAccount": [ASSOCIATED_ACCOUNT],
            "additionalInfo": "Reported user.",
        }
    ],
    "intendedRecipient": [
        {
            "intendedRecipientPerson": CHILD,
            **CHILD_ACCOUNT,
            "priorCTReports": [999],
            "groupIdentifier": "group-2",
            **CHILD_ACCOUNT_STATUS,
            "additionalInfo": ["Recipient."],
        }
    ],
    "victim": [
        {
            "victimPerson": CHILD,
            **CHILD_ACCOUNT,
            "schoolName": "Example School",
            "priorCTReports": [998],
            **CHILD_ACCOUNT_STATUS,
            "associatedAccount": [{**ASSOCIATED_ACCOUNT, "type": "Parent/Guardian"}],
            "additionalInfo": "Victim.",
        }
    ],
    "additionalInfo": "A synthetic report with every element filled in.",
}
EXAMPLE_FILE: dict[str, Any] = {
    "fileName": "upload-1.jpg",
    "originalFileName": "holiday.jpg",
    "uploadedToEspTimestamp": "2026-01-02T03:04:05Z",
    "locationOfFile": "https://cdn.example.com/f/1",
    "fileViewedByEsp": True,
    "exifViewedByEsp": True,
    "publiclyAvailable": False,
    "fileRelevance": "Reported",
    "fileAnnotations": {
        "animeDrawingVirtualHentai": True,
        "potentialMeme": True,
        "viral": True,
        "possibleSelfProduction": True,
        "physicalHarm": True,
        "violenceGore": True,
        "bestiality": True,
        "liveStreaming": True,
        "infant": True,
        "generativeAi": True,
    },
    "industryClassification": "A1",
    "originalFileHash": [
        {"value": "0" * 31 + "1", "hashType": "MD5"},
        {"value": "0" * 39 + "2", "hashType": "SHA1"},
        {"value": "0" * 63 + "3", "hashType": "SHA256"},
    ],
    "ipCaptureEvent": IP_EVENT,
    "deviceId": [DEVICE],
    "details": [{"nameValuePair": [{"name": "Make", "value": "Example Camera"}], "type": "EXIF"}],
    "additionalInfo": ["A synthetic file."],
}
