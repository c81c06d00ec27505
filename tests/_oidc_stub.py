"""A minimal OpenID Connect provider on loopback, for sign-in tests (never for real use).

Discovery, an authorize page with one button per test user (like an identity provider's account
picker), a token endpoint (authorization code with PKCE S256) issuing RS256 identity tokens with the
user's ``roles`` claim and the client's nonce, a JWKS and a userinfo endpoint.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

USERS = {
    "analyst": {"sub": "u-analyst", "email": "analyst@council.example", "roles": ["crime-analyst"]},
    "viewer": {"sub": "u-viewer", "email": "viewer@council.example", "roles": ["planner"]},
}
CLIENT_ID = "scp-planner"
CLIENT_SECRET = "stub-secret"


@dataclass
class Provider:
    """State of the stub: signing key, pending codes, issued tokens."""

    issuer: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "stub-1"}))
    codes: dict[str, dict] = field(default_factory=dict)
    tokens: dict[str, dict] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            provider.log.append(self.requestline)

        def _json(self, body: dict, status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/.well-known/openid-configuration":
                base = provider.issuer
                return self._json(
                    {
                        "issuer": base,
                        "authorization_endpoint": f"{base}/authorize",
                        "token_endpoint": f"{base}/token",
                        "jwks_uri": f"{base}/jwks",
                        "userinfo_endpoint": f"{base}/userinfo",
                        "response_types_supported": ["code"],
                        "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                        "code_challenge_methods_supported": ["S256"],
                        "scopes_supported": ["openid", "email", "profile"],
                        "token_endpoint_auth_methods_supported": [
                            "client_secret_basic",
                            "client_secret_post",
                        ],
                    }
                )
            if url.path == "/jwks":
                return self._json({"keys": [provider.key.as_dict(private=False)]})
            if url.path == "/authorize":
                return self._authorize(query)
            if url.path == "/choose":
                return self._choose(query)
            if url.path == "/userinfo":
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                user = provider.tokens.get(token)
                return self._json(user or {"error": "invalid_token"}, 200 if user else 401)
            return self._json({"error": "not found"}, 404)

        def _authorize(self, query: dict) -> None:
            if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
                return self._json({"error": "unauthorized_client"}, 400)
            buttons = "".join(
                f'<p><a id="as-{name}" href="/choose?{html.escape(urlencode({**query, "user": name}))}">'
                f"Sign in as {name}</a></p>"
                for name in USERS
            )
            data = f"<html><body><h1>Stub identity provider</h1>{buttons}</body></html>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _choose(self, query: dict) -> None:
            code = secrets.token_urlsafe(16)
            provider.codes[code] = {
                "user": USERS[query["user"]],
                "nonce": query.get("nonce"),
                "redirect_uri": query["redirect_uri"],
                "challenge": query.get("code_challenge"),
            }
            target = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query.get('state', '')})}"
            self.send_response(302)
            self.send_header("Location", target)
            self.end_headers()

        def do_POST(self) -> None:
            if urlsplit(self.path).path != "/token":
                return self._json({"error": "not found"}, 404)
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            auth = self.headers.get("Authorization", "")
            client_id, client_secret = form.get("client_id"), form.get("client_secret")
            if auth.startswith("Basic "):
                client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
            grant = provider.codes.pop(form.get("code", ""), None)
            if client_id != CLIENT_ID or client_secret != CLIENT_SECRET or grant is None:
                return self._json({"error": "invalid_grant"}, 400)
            verifier = form.get("code_verifier", "")
            digest = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            )
            if grant["challenge"] and digest != grant["challenge"]:
                return self._json({"error": "invalid_grant", "error_description": "PKCE"}, 400)
            now = int(time.time())
            claims = {
                **grant["user"],
                "iss": provider.issuer,
                "aud": CLIENT_ID,
                "iat": now,
                "exp": now + 600,
                "nonce": grant["nonce"],
            }
            id_token = jwt.encode({"alg": "RS256", "kid": "stub-1"}, claims, provider.key)
            access = secrets.token_urlsafe(16)
            provider.tokens[access] = grant["user"]
            return self._json(
                {"access_token": access, "token_type": "Bearer", "expires_in": 600, "id_token": id_token}
            )

    return Handler


@contextlib.contextmanager
def oidc_provider() -> Iterator[Provider]:
    """Serve the stub on a free loopback port for the duration of the block."""
    provider = Provider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    provider.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
