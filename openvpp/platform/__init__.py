"""The running service: store (SQLAlchemy + Alembic), HTTP API (/v1 and OpenADR 3.1), gateway (in-process
and MQTT transports), runtime jobs and the operator web page. It composes the domain core; it re-implements
none of it."""
