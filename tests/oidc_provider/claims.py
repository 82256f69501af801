"""The claims the test provider puts in its ID tokens, and its two kinds of mischief.

Each user's profile (``OIDC_PROVIDER_USERS``, set by the test) says whether the provider vouches
for the e-mail (``email_verified``), and may ask for a broken ID token: ``forge_email`` rewrites
the e-mail inside the signed token after signing (so the signature no longer matches), and
``expired`` issues a correctly signed token whose ``exp`` is an hour ago, and ``override``
signs a token with some claims replaced (another audience, issuer or nonce).
"""

import base64
import json
import os
import time

from oauth2_provider.oauth2_validators import OAuth2Validator

PROFILES = {user["username"]: user for user in json.loads(os.environ["OIDC_PROVIDER_USERS"])}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Validator(OAuth2Validator):
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "groups": "groups"}

    def get_additional_claims(self, request):
        user = request.user
        return {
            "email": user.email,
            "email_verified": PROFILES[user.username].get("email_verified", True),
            "name": user.get_full_name(),
            "given_name": user.first_name,
            "family_name": user.last_name,
            "groups": sorted(user.groups.values_list("name", flat=True)),
        }

    def get_id_token_dictionary(self, token, token_handler, request):
        claims, expiration = super().get_id_token_dictionary(token, token_handler, request)
        profile = PROFILES[request.user.username]
        if profile.get("expired"):
            claims["exp"] = int(time.time()) - 3600
        claims.update(profile.get("override", {}))
        return claims, expiration

    def finalize_id_token(self, id_token, token, token_handler, request):
        signed = super().finalize_id_token(id_token, token, token_handler, request)
        forged = PROFILES[request.user.username].get("forge_email")
        if not forged:
            return signed
        header, payload, signature = signed.split(".")
        claims = json.loads(_unb64(payload))
        claims["email"] = forged
        return ".".join([header, _b64(json.dumps(claims).encode()), signature])
