from crm_shared.entrypoints import wsgi_app

from crm_service_desk.bootstrap import build_runtime

app = wsgi_app(build_runtime)  # JSON logs with request ids, as every other process
