from crm_service_desk.bootstrap import build_runtime

app = build_runtime().create_app()
