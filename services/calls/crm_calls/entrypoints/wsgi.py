from crm_calls.bootstrap import build_runtime

app = build_runtime().create_app()
