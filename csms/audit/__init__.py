"""Audit trail: who changed what, when and from where — every state-changing request of a person
or an integration, and the model changes and commands it caused (`record`, `middleware`)."""
from .recorder import record  # noqa: F401
