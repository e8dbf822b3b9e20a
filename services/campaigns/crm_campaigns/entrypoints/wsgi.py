from crm_campaigns.bootstrap import build_runtime

app = build_runtime().create_app()
