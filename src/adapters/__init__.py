"""Clients of things outside the process (object storage, request bodies, documents, language
models). Adapters hold no domain rules; modules call them."""
