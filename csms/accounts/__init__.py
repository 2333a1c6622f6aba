"""Operator accounts: per-user API tokens (hashed, named, expiring, revocable), their pages and
API, and the administrators' user/role management."""
