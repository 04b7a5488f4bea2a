"""Clients of outside services (push, email): protocol only, no domain rules."""
