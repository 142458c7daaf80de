from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from routing.simulator import SimulatedAgencies, simulator_server


class Command(BaseCommand):
    help = (
        "Run a simulated agency that receives webhook referrals on http://HOST:PORT/, checks "
        "their signatures and counts them (GET /received). Point agencies at it with "
        "`configure_agency_webhook CODE http://HOST:PORT/referrals`."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8100)
        parser.add_argument(
            "--fail-share",
            type=float,
            default=0.0,
            help="Share of well-signed deliveries answered with 503, from 0 to 1.",
        )
        parser.add_argument("--seed", type=int, help="Makes the simulated failures repeatable.")
        parser.add_argument(
            "--secret",
            action="append",
            metavar="CODE=SECRET",
            help="An agency's signing secret (repeatable). Without any, each agency's "
            "secret is read from the database.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 <= options["fail_share"] <= 1:
            raise CommandError("--fail-share must be between 0 and 1.")
        secrets = None
        if options["secret"]:
            pairs = [item.partition("=") for item in options["secret"]]
            if any(not code or not secret for code, _, secret in pairs):
                raise CommandError("--secret takes CODE=SECRET.")
            secrets = {code: secret for code, _, secret in pairs}
        state = SimulatedAgencies(
            fail_share=options["fail_share"], seed=options["seed"], secrets=secrets
        )
        server = simulator_server(host=options["host"], port=options["port"], state=state)
        port = server.server_address[1]
        self.stdout.write(
            f"Simulated agency listening on http://{options['host']}:{port}/ "
            f"(failing {options['fail_share']:.0%} of deliveries)"
        )
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
