"""Clients of things outside the process (object storage, request bodies, documents, language
models, push, email). Adapters hold no domain rules; modules call them."""
