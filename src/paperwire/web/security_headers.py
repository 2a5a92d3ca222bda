"""The security headers every HTTP answer carries, and the middleware that adds them."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Avatars come from the HF CDN as plain images; nothing else is loaded from elsewhere.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", CSP.encode()),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
]


def with_security_headers(message: Message) -> Message:
    """An ``http.response.start`` message with the security headers its app did not set."""
    headers = list(message.get("headers", []))
    names = {k.lower() for k, _ in headers}
    headers += [(k, v) for k, v in SECURITY_HEADERS if k not in names]
    message["headers"] = headers
    return message


class SecurityHeaders:
    """Adds the security headers to every HTTP response (pure ASGI, no buffering)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = with_security_headers(message)
            await send(message)

        await self.app(scope, receive, send_with_headers)
