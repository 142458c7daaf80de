"""OpenAPI links: which answer's value a client passes to which next request. Clients and
stateful test tools follow them from a report or referral to what can be done with it."""

from typing import Any

REPORT_ACTIONS = [
    ("get", "/api/v1/reports/{report_id}"),
    ("post", "/api/v1/reports/{report_id}/files"),
    ("post", "/api/v1/reports/{report_id}/finish"),
    ("post", "/api/v1/reports/{report_id}/retract"),
]
REFERRAL_ACTIONS = [
    ("get", "/api/v1/agency/referrals/{referral_id}"),
    ("post", "/api/v1/agency/referrals/{referral_id}/acknowledge"),
    ("post", "/api/v1/agency/referrals/{referral_id}/status"),
    ("post", "/api/v1/agency/referrals/{referral_id}/notes"),
    ("post", "/api/v1/agency/referrals/{referral_id}/refer-on"),
]
# (method, path, status): (the parameter, where its value is in the answer, the targets)
LINKS: dict[tuple[str, str, str], tuple[str, str, list[tuple[str, str]]]] = {
    ("post", "/api/v1/reports", "201"): ("report_id", "$response.body#/reportId", REPORT_ACTIONS),
    ("post", "/api/v1/reports/bulk", "200"): (
        "report_id",
        "$response.body#/results/0/reportId",
        REPORT_ACTIONS,
    ),
    ("get", "/api/v1/agency/referrals", "200"): (
        "referral_id",
        "$response.body#/referrals/0/referralId",
        REFERRAL_ACTIONS,
    ),
}


def add_links(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: adds LINKS to the generated schema."""
    for (method, path, status), (parameter, value, targets) in LINKS.items():
        operation = result["paths"].get(path, {}).get(method)
        if operation is None or status not in operation["responses"]:
            continue
        links = operation["responses"][status].setdefault("links", {})
        for target_method, target_path in targets:
            target = result["paths"][target_path][target_method]
            links[target["operationId"]] = {
                "operationId": target["operationId"],
                "parameters": {parameter: value},
            }
    return result
