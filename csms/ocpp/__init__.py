"""The OCPP protocol core: framing, schema validation, routing, sessions and outgoing calls."""
