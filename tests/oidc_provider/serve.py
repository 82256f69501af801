"""Run the test OpenID Connect provider: migrate its SQLite file, create its users and the
SalesPrep client, then serve on a free port of 127.0.0.1 and print the address.

    python -m tests.oidc_provider.serve
"""

import json
import os
from wsgiref.simple_server import WSGIRequestHandler, make_server

import django


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def seed() -> None:
    from django.contrib.auth.models import Group, User
    from oauth2_provider.models import Application

    for profile in json.loads(os.environ["OIDC_PROVIDER_USERS"]):
        user = User.objects.create_user(
            profile["username"],
            email=profile["email"],
            password=profile["password"],
            first_name=profile.get("first_name", ""),
            last_name=profile.get("last_name", ""),
        )
        user.groups.set([Group.objects.get_or_create(name=g)[0] for g in profile.get("groups", [])])
    Application.objects.create(
        name="SalesPrep",
        client_id=os.environ["OIDC_PROVIDER_CLIENT_ID"],
        client_secret=os.environ["OIDC_PROVIDER_CLIENT_SECRET"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=os.environ["OIDC_PROVIDER_REDIRECT_URI"],
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.oidc_provider.settings")
    django.setup()
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    call_command("migrate", verbosity=0, interactive=False)
    seed()
    server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=QuietHandler)
    print(f"serving http://127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
