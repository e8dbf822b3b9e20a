from crm_reporting.bootstrap import build_runtime

app = build_runtime().create_app()
