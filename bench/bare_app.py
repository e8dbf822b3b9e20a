"""The baseline for bench/read_api.py: bare Flask, one primary-key SELECT, JSON out. No auth, no schemas.

    BARE_DATABASE_URL=postgresql+psycopg://... gunicorn -w 2 --chdir bench bare_app:app

The route has the platform's path so that the same nginx configuration (the gateway template) serves both.
"""
from __future__ import annotations

import os
import uuid

from flask import Flask, abort, jsonify
from sqlalchemy import create_engine, text

engine = create_engine(os.environ["BARE_DATABASE_URL"], pool_size=10)
QUERY = text("SELECT * FROM parties WHERE id = :id")
app = Flask("bare")


@app.get("/api/customers/parties/<uuid:party_id>")
def read_party(party_id: uuid.UUID):
    with engine.connect() as conn:
        row = conn.execute(QUERY, {"id": party_id}).mappings().first()
    if row is None:
        abort(404)
    body = {key: (str(value) if isinstance(value, uuid.UUID) else value) for key, value in row.items()}
    body["created_at"], body["updated_at"] = row["created_at"].isoformat(), row["updated_at"].isoformat()
    return jsonify(body)


@app.get("/health/ready")
def ready():
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"status": "ok"}
