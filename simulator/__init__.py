"""Simulated charging stations (OCPP 2.0.1 and 1.6-J over real WebSockets) for demos and load.
Run a fleet with `python manage.py simulate` or `csms-simulate`; see simulator/README.md."""
