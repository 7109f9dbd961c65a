"""Security headers on every answer: a Content-Security-Policy with no inline script (the pages load
/static/app.js and nothing else), no framing by another site, no MIME sniffing, no full referrer to
other sites, and HSTS when the app is served over HTTPS. The API docs page (Swagger UI, served from
the `swagger-ui-bundle-v2` package (Swagger UI 5, which reads OpenAPI 3.1), never a CDN) also needs inline styles, nothing more."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
DOCS_PATH = "/api/docs"


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, https: bool):
        self.app = app
        self.common = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if https:
            self.common.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"].startswith(DOCS_PATH) else CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _OURS]
                message["headers"] = [*headers, *self.common, (b"content-security-policy", csp.encode())]
            await send(message)

        await self.app(scope, receive, send_with_headers)


_OURS = {b"x-content-type-options", b"x-frame-options", b"content-security-policy", b"referrer-policy"}
