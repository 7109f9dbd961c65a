"""The ASGI application uvicorn serves (`aap serve`, in each worker process)."""

import gc

from aap.app import create_app

app = create_app()

# What the application built at start (routes, forms, mappers, the models' metadata) lives as long as
# the process: out of the garbage collector's sight, each of its passes during requests has that much
# less to walk (a dossier read under load: about a sixth less CPU, `python -m bench load`).
gc.collect()
gc.freeze()
