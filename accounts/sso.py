"""Single sign-on with OpenID Connect, on mozilla-django-oidc.

The library does the protocol's moving parts: the state, nonce and PKCE verifier of an
authorization request kept in the session, the code exchange at the token endpoint, the ID token's
signature checked against the provider's keys, and its nonce. This module adds what it lacks:

* **discovery**: every endpoint comes from ``<issuer>/.well-known/openid-configuration``, fetched
  on first use and kept in Django's cache with the provider's keys (JWKS); a failure talking to
  the provider drops both, so the next sign-in fetches them again, and a key id we do not know
  fetches the keys once more at once (the provider rotated them);
* **the ID token's claims**: ``iss`` (the discovered issuer), ``aud`` (our client id, and ``azp``
  when there are several audiences), ``exp`` and ``iat`` are required and checked, and only the
  asymmetric algorithms the provider announces are accepted (the library checks the signature
  and the nonce, but neither the issuer nor the audience, and an expired token is a 500 there);
* **the account**: matched by an e-mail the provider says it verified (``email_verified``), never
  created unless ``OIDC_CREATE_USERS``; a deactivated account does not sign in;
* **roles and teams** from the groups claim (``OIDC_GROUP_ROLES``, ``OIDC_GROUP_TEAMS``);
* the sign-in throttle, the audit trail, and ``request.session["signin_method"] = "sso"``.

Every refusal is a ``Refused`` with a sentence for the sign-in page, never a 400 or 500 page.
The library's backend is not in ``AUTHENTICATION_BACKENDS``: only ``complete`` uses it, so the
password form never reaches it, and the session is served by our own backend.
"""

from __future__ import annotations

import hashlib
import logging
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import Group
from django.core import checks
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils.crypto import get_random_string
from django.utils.http import url_has_allowed_host_and_scheme
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import (
    add_state_and_verifier_and_nonce_to_session,
    generate_code_challenge,
)

from accounts import security, throttle
from accounts.models import AuditKind, Team, User
from accounts.roles import Role

logger = logging.getLogger("salesprep.sso")

_STATES = "oidc_states"  # where the library keeps state -> nonce and PKCE verifier
_NEXT = "sso_next"
_CACHE_SECONDS = 24 * 3600
_ASYMMETRIC = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
LEEWAY_SECONDS = 60  # clock difference tolerated between us and the provider


class Refused(Exception):
    """A single sign-on that does not go ahead, with the sentence the sign-in page shows."""

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        status: int = 403,
        email: str = "",
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.status = status
        self.email = email
        self.retry_after = retry_after


def enabled() -> bool:
    """Single sign-on is on once an issuer and a client id are configured."""
    return bool(settings.OIDC_ISSUER_URL and settings.OIDC_CLIENT_ID)


def provider_name() -> str:
    return settings.OIDC_PROVIDER_NAME


# --- Who may use a password -----------------------------------------------------------------

BREAK_GLASS = "break-glass"  # the PASSWORD_SIGNIN value that keeps passwords for a few


def password_signin_allowed(username: str) -> bool:
    """``PASSWORD_SIGNIN=break-glass`` keeps the password form for ``BREAK_GLASS_USERS`` only."""
    if settings.PASSWORD_SIGNIN != BREAK_GLASS:
        return True
    allowed = {throttle.normalise_username(name) for name in settings.BREAK_GLASS_USERS}
    return throttle.normalise_username(username) in allowed


def password_signin_off_message() -> str:
    return (
        "Password sign-in is turned off for this account. "
        f"Use “Sign in with {provider_name()}” on the SalesPrep sign-in page."
    )


# --- Discovery and keys ---------------------------------------------------------------------


def discovery_url() -> str:
    return settings.OIDC_ISSUER_URL + "/.well-known/openid-configuration"


def _cache_key(kind: str, url: str) -> str:
    return f"oidc:{kind}:{hashlib.sha256(url.encode()).hexdigest()[:32]}"


def _unavailable(reason: str) -> Refused:
    return Refused(
        f"{provider_name()} cannot be reached right now. Try again in a minute.",
        reason=reason,
        status=503,
    )


def _get_json(url: str, what: str) -> dict:
    try:
        response = requests.get(
            url, timeout=settings.OIDC_TIMEOUT_SECONDS, headers={"Accept": "application/json"}
        )
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as exc:
        logger.warning("OIDC %s from %s failed: %s", what, url, exc)
        raise _unavailable(f"{what} unavailable") from None
    if not isinstance(data, dict):
        logger.warning("OIDC %s from %s is not a JSON object", what, url)
        raise _unavailable(f"{what} unreadable")
    return data


def _discovery_problem(doc: dict) -> str:
    issuer = doc.get("issuer")
    if not isinstance(issuer, str) or issuer.rstrip("/") != settings.OIDC_ISSUER_URL:
        return f"its issuer {issuer!r} is not OIDC_ISSUER_URL {settings.OIDC_ISSUER_URL!r}"
    for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(doc.get(field), str) or not doc[field]:
            return f"it has no {field}"
    return ""


def discovery() -> dict:
    """The provider's discovery document, from the cache or fetched (and checked) now."""
    key = _cache_key("discovery", discovery_url())
    doc = cache.get(key)
    if doc is None:
        doc = _get_json(discovery_url(), "discovery")
        problem = _discovery_problem(doc)
        if problem:
            logger.error("OIDC discovery document %s refused: %s", discovery_url(), problem)
            raise _unavailable("discovery invalid")
        cache.set(key, doc, _CACHE_SECONDS)
    return doc


def forget_provider() -> None:
    """Drop the cached discovery document and keys: the next sign-in fetches them again."""
    key = _cache_key("discovery", discovery_url())
    doc = cache.get(key) or {}
    cache.delete(key)
    if doc.get("jwks_uri"):
        cache.delete(_cache_key("jwks", doc["jwks_uri"]))


def signing_keys(*, refresh: bool = False) -> list[dict]:
    """The provider's public keys (its JWKS), from the cache or fetched now."""
    uri = discovery()["jwks_uri"]
    key = _cache_key("jwks", uri)
    keys = None if refresh else cache.get(key)
    if keys is None:
        listed = _get_json(uri, "JWKS").get("keys")
        keys = [k for k in listed if isinstance(k, dict)] if isinstance(listed, list) else []
        cache.set(key, keys, _CACHE_SECONDS)
    return keys


# --- The ID token ---------------------------------------------------------------------------


def _invalid(reason: str, what: str) -> Refused:
    return Refused(
        f"The sign-in from {provider_name()} was refused: {what}. Try again.",
        reason=reason,
        status=400,
    )


def _header(token: str) -> dict:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise _invalid("unreadable id token", "its ID token cannot be read") from None
    alg = header.get("alg")
    announced = discovery().get("id_token_signing_alg_values_supported") or list(_ASYMMETRIC)
    if alg not in _ASYMMETRIC or alg not in announced:
        raise _invalid(f"id token alg {alg}", f"its ID token is signed with {alg!r}")
    return header


def _matching_key(header: dict, keys: list[dict]) -> jwt.PyJWK | None:
    candidates = [
        k
        for k in keys
        if k.get("use", "sig") == "sig"
        and k.get("alg", header["alg"]) == header["alg"]
        and (header.get("kid") is None or k.get("kid") == header.get("kid"))
    ]
    if header.get("kid") is None and len(candidates) != 1:
        return None
    for candidate in candidates:
        try:
            return jwt.PyJWK(candidate)
        except jwt.PyJWTError:
            continue
    return None


def verified_claims(token: str, key) -> dict:
    """The claims of an ID token whose signature ``key`` verified, once iss, aud, exp and iat
    are checked too."""
    header = _header(token)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[header["alg"]],
            audience=settings.OIDC_CLIENT_ID,
            issuer=discovery()["issuer"],
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "aud", "exp", "iat", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise _invalid("id token expired", "its ID token has expired") from None
    except jwt.InvalidSignatureError:
        raise _invalid("id token signature", "its ID token's signature is not valid") from None
    except jwt.InvalidAudienceError:
        raise _invalid("id token audience", "its ID token is meant for another client") from None
    except jwt.InvalidIssuerError:
        raise _invalid("id token issuer", "its ID token comes from another issuer") from None
    except jwt.PyJWTError as exc:
        raise _invalid(f"id token: {exc}", "its ID token is not valid") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != settings.OIDC_CLIENT_ID:
        raise _invalid("id token azp", "its ID token is meant for another client")
    return claims


def _use_basic_auth() -> bool:
    # Basic is the default of the spec; send the secret in the body only if that is all it takes.
    methods = discovery().get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    return "client_secret_basic" in methods


_LIBRARY_SETTINGS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": lambda: discovery()["authorization_endpoint"],
    "OIDC_OP_TOKEN_ENDPOINT": lambda: discovery()["token_endpoint"],
    "OIDC_OP_USER_ENDPOINT": lambda: discovery().get("userinfo_endpoint", ""),
    "OIDC_OP_JWKS_ENDPOINT": lambda: discovery()["jwks_uri"],
    "OIDC_RP_CLIENT_ID": lambda: settings.OIDC_CLIENT_ID,
    "OIDC_RP_CLIENT_SECRET": lambda: settings.OIDC_CLIENT_SECRET,
    # Only picks the library's "verify against the JWKS" path; ``_header`` checks the real alg.
    "OIDC_RP_SIGN_ALGO": lambda: "RS256",
    "OIDC_RP_IDP_SIGN_KEY": lambda: None,
    "OIDC_RP_SCOPES": lambda: settings.OIDC_SCOPES,
    "OIDC_AUTHENTICATION_CALLBACK_URL": lambda: "sso_callback",
    "OIDC_USE_NONCE": lambda: True,
    "OIDC_ALLOW_UNSECURED_JWT": lambda: False,
    "OIDC_VERIFY_SSL": lambda: True,
    "OIDC_TIMEOUT": lambda: settings.OIDC_TIMEOUT_SECONDS,
    "OIDC_PROXY": lambda: None,
    "OIDC_TOKEN_USE_BASIC_AUTH": _use_basic_auth,
    "OIDC_STORE_ACCESS_TOKEN": lambda: False,
    "OIDC_STORE_ID_TOKEN": lambda: False,
}


class ProviderBackend(OIDCAuthenticationBackend):
    """The library's backend, configured from discovery and our settings (not from its own
    ``OIDC_OP_*`` settings), answering the verified claims rather than a user: ``complete``
    matches the account."""

    @staticmethod
    def get_settings(attr, *args):
        if attr in _LIBRARY_SETTINGS:
            return _LIBRARY_SETTINGS[attr]()
        if args:
            return args[0]
        raise SuspiciousOperation(f"SalesPrep does not configure {attr}")

    def retrieve_matching_jwk(self, token):
        header = _header(token)
        key = _matching_key(header, signing_keys())
        if key is None:  # the provider may have rotated its keys since we cached them
            key = _matching_key(header, signing_keys(refresh=True))
        if key is None:
            raise _invalid("id token key unknown", "its ID token is signed with an unknown key")
        return key

    def get_payload_data(self, token, key):
        return verified_claims(token, key)

    def get_userinfo(self, access_token, id_token, payload):
        """The ID token's claims, completed (never overridden) by the userinfo endpoint's
        claims about the same subject."""
        claims = dict(payload)
        endpoint = discovery().get("userinfo_endpoint")
        if not (endpoint and access_token):
            return claims
        try:
            response = requests.get(
                endpoint,
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
                timeout=settings.OIDC_TIMEOUT_SECONDS,
            )
            response.raise_for_status()
            info = response.json()
        except (requests.RequestException, ValueError) as exc:
            logger.warning("OIDC userinfo failed, using the ID token's claims: %s", exc)
            return claims
        if isinstance(info, dict) and info.get("sub") == claims["sub"]:
            for name, value in info.items():
                claims.setdefault(name, value)
        return claims

    def get_or_create_user(self, access_token, id_token, payload):
        return self.get_userinfo(access_token, id_token, payload)


# --- The account and its roles --------------------------------------------------------------


def verified_email(claims: dict) -> str:
    """The e-mail address the provider vouches for, or a refusal."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise Refused(
            f"{provider_name()} did not send an e-mail address, so no SalesPrep account can be "
            "found for you. Ask an administrator.",
            reason="no email",
        )
    email = email.strip()
    verified = claims.get("email_verified")
    if verified is not True and str(verified).lower() != "true":
        raise Refused(
            f"{provider_name()} has not verified the e-mail address {email}, so it cannot sign "
            "you in to SalesPrep. Ask an administrator.",
            reason="email not verified",
            email=email,
        )
    return email


def account_for(email: str, claims: dict) -> User:
    """The one active account that uses ``email``; created only with ``OIDC_CREATE_USERS``."""
    users = list(User.objects.filter(email__iexact=email))
    active = [user for user in users if user.is_active]
    if len(active) == 1:
        return active[0]
    if len(active) > 1:
        raise Refused(
            f"More than one SalesPrep account uses {email}; ask an administrator.",
            reason="several accounts",
            email=email,
        )
    if users:
        raise Refused(
            f"The SalesPrep account that uses {email} is deactivated; ask an administrator.",
            reason="deactivated",
            email=email,
        )
    if settings.OIDC_CREATE_USERS:
        return _create_account(email, claims)
    raise Refused(
        f"No SalesPrep account uses {email}; ask an administrator.",
        reason="no account",
        email=email,
    )


def _create_account(email: str, claims: dict) -> User:
    username = email.lower()[:150]
    if User.objects.filter(username__iexact=username).exists():
        raise Refused(
            f"The username {username} is taken by another account; ask an administrator.",
            reason="username taken",
            email=email,
        )
    with transaction.atomic():
        user = User(
            username=username,
            email=email,
            first_name=str(claims.get("given_name") or "")[:150],
            last_name=str(claims.get("family_name") or "")[:150],
        )
        user.set_unusable_password()
        user.save()
    return user


def groups_in(claims: dict) -> set[str]:
    raw = claims.get(settings.OIDC_GROUPS_CLAIM)
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        return set()
    return {group for group in raw if isinstance(group, str)}


def roles_for(groups: set[str]) -> set[str]:
    return {role for group, role in settings.OIDC_GROUP_ROLES.items() if group in groups}


def teams_for(groups: set[str]) -> set[str]:
    return {team for group, team in settings.OIDC_GROUP_TEAMS.items() if group in groups}


def apply_groups(user: User, claims: dict) -> None:
    """Replace the roles and team memberships the mapping manages with those the groups claim
    gives; roles and teams the mapping does not name are left as an administrator set them.
    Leaving a team ends the user's other sessions (accounts/signals.py)."""
    groups = groups_in(claims)
    with transaction.atomic():
        if settings.OIDC_GROUP_ROLES:
            managed = set(settings.OIDC_GROUP_ROLES.values())
            kept = [group for group in user.groups.all() if group.name not in managed]
            user.groups.set([*kept, *Group.objects.filter(name__in=roles_for(groups))])
        if settings.OIDC_GROUP_TEAMS:
            managed = set(settings.OIDC_GROUP_TEAMS.values())
            wanted = teams_for(groups)
            user.teams.remove(*Team.objects.filter(name__in=managed - wanted, members=user))
            user.teams.add(*Team.objects.filter(name__in=wanted))
            missing = wanted - set(
                Team.objects.filter(name__in=wanted).values_list("name", flat=True)
            )
            if missing:
                logger.warning("OIDC_GROUP_TEAMS names teams that do not exist: %s", missing)
    user.refresh_from_db()  # leaving a team bumped the session stamp


# --- The flow -------------------------------------------------------------------------------


def callback_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("sso_callback"))


def authorization_url(request: HttpRequest, next_url: str = "") -> str:
    """Where to send the browser to sign in at the provider: a code flow request with state,
    nonce and an S256 PKCE challenge, all three kept in the session."""
    endpoint = discovery()["authorization_endpoint"]
    verifier = get_random_string(64)
    params = {
        "response_type": "code",
        "scope": settings.OIDC_SCOPES,
        "client_id": settings.OIDC_CLIENT_ID,
        "redirect_uri": callback_url(request),
        "state": get_random_string(32),
        "nonce": get_random_string(32),
        "code_challenge": generate_code_challenge(verifier, "S256"),
        "code_challenge_method": "S256",
    }
    add_state_and_verifier_and_nonce_to_session(request, params["state"], params, verifier)
    safe = url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    request.session[_NEXT] = next_url if safe else ""
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)


def _take_state(request: HttpRequest) -> dict:
    """The nonce and verifier of the request this callback answers, removed from the session
    (a callback is good once)."""
    states = request.session.get(_STATES)
    state = request.GET.get("state", "")
    if not isinstance(states, dict) or state not in states:
        raise _invalid("unknown state", "this sign-in was not started in this browser")
    entry = states.pop(state)
    request.session[_STATES] = states
    return entry


def _verified_identity(request: HttpRequest) -> dict:
    entry = _take_state(request)
    if request.GET.get("error"):
        raise Refused(
            f"{provider_name()} did not sign you in ({request.GET['error'][:100]}).",
            reason=f"provider error {request.GET['error'][:100]}",
            status=400,
        )
    if "iss" in request.GET and request.GET["iss"] != discovery()["issuer"]:
        raise _invalid("callback iss", "the answer came from another issuer")
    if not request.GET.get("code"):
        raise _invalid("no code", "the answer has no authorization code")
    backend = ProviderBackend()
    try:
        claims = backend.authenticate(
            request, nonce=entry.get("nonce"), code_verifier=entry.get("code_verifier")
        )
    except SuspiciousOperation as exc:  # the library's own checks (the nonce above all)
        raise _invalid(f"library: {exc}", "its ID token does not answer this sign-in") from None
    except requests.RequestException as exc:
        logger.warning("OIDC token exchange failed: %s", exc)
        forget_provider()
        raise _invalid("token exchange", "the sign-in code was not accepted") from None
    if not claims:
        raise _invalid("no id token", "the answer has no ID token")
    return claims


def _throttled(request: HttpRequest, key: str, email: str = "") -> None:
    refusal = throttle.check(request, key)
    if refusal:
        security.record(
            AuditKind.LOGIN_LOCKED,
            request=request,
            username=email or key,
            status=429,
            detail=f"sso {refusal.rule}",
        )
        raise Refused(
            refusal.message(password=False),
            reason="throttled",
            status=429,
            email=email,
            retry_after=refusal.seconds,
        )


def _refuse(request: HttpRequest, key: str, refusal: Refused) -> Refused:
    if refusal.status != 503:  # the provider being down is nobody's failed attempt
        throttle.failed(request, key)
    security.record(
        AuditKind.SSO_REFUSED,
        request=request,
        username=refusal.email,
        status=refusal.status,
        detail=f"{provider_name()}: {refusal.reason}",
    )
    return refusal


def throttle_key(email: str) -> str:
    return email.strip().lower()


def complete(request: HttpRequest) -> tuple[User, str]:
    """Finish a sign-in at the callback: the user, now signed in, and where to go next.

    The throttle is asked first for this address's single sign-on door (``oidc:<address>``),
    which counts callbacks that are invalid (unknown state, a token that fails its checks) and
    then, once the provider has vouched for an e-mail, for that e-mail, which counts refusals of
    it (no account, deactivated). Raises ``Refused``; nothing is signed in then.
    """
    door = "oidc:" + throttle.client_address(request)
    _throttled(request, door)
    try:
        claims = _verified_identity(request)
        email = verified_email(claims)
    except Refused as refusal:
        key = throttle_key(refusal.email) if refusal.email else door
        raise _refuse(request, key, refusal) from None
    _throttled(request, throttle_key(email), email)
    try:
        user = account_for(email, claims)
    except Refused as refusal:
        raise _refuse(request, throttle_key(email), refusal) from None
    apply_groups(user, claims)
    throttle.succeeded(request, throttle_key(email))
    throttle.succeeded(request, door)
    next_url = request.session.pop(_NEXT, "")
    auth.login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    request.session[security.SIGNIN_METHOD] = "sso"
    security.record(
        AuditKind.SSO_LOGIN, request=request, user=user, detail=f"{provider_name()}: {email}"
    )
    return user, next_url


# --- Start-up checks ------------------------------------------------------------------------


def check_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """OIDC_GROUP_ROLES must name our roles (accounts/roles.py)."""
    known = {str(role) for role in Role}
    return [
        checks.Error(
            f"OIDC_GROUP_ROLES maps {group!r} to {role!r}, which is not a SalesPrep role.",
            hint=f"Use one of: {', '.join(sorted(known))}.",
            id="accounts.E101",
        )
        for group, role in settings.OIDC_GROUP_ROLES.items()
        if role not in known
    ]
