"""The API docs page: Swagger UI from the pinned `swagger-ui-bundle-v2` package (Swagger UI 5, which reads OpenAPI 3.1), served under
/static/swagger, with its start-up script in a file (the CSP allows no inline script)."""

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from aap.routes import add_routes

PAGE = """<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>aap – API</title>
<link rel="icon" href="/static/swagger/favicon-32x32.png">
<link rel="stylesheet" href="/static/swagger/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/static/swagger/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI) -> None:
    """Call before mounting /static: /static/swagger must be matched first."""
    app.mount("/static/swagger", StaticFiles(directory=swagger_ui_path), name="swagger")
    router = APIRouter(include_in_schema=False)

    @router.get("/api/docs", response_class=HTMLResponse)
    def docs() -> HTMLResponse:
        return HTMLResponse(PAGE)

    add_routes(app, router)
