from crm_shared.entrypoints import wsgi_app

from crm_calls.bootstrap import build_runtime

app = wsgi_app(build_runtime)  # JSON logs with request ids, as every other process
