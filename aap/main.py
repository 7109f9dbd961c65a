"""The ASGI application uvicorn serves."""

from aap.app import create_app

app = create_app()
