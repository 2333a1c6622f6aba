"""Webhooks for integrators: subscriptions to domain events, signed JSON POSTs delivered by a
worker with retries, and a delivery log per subscription."""
