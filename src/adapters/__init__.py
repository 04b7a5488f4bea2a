"""Clients of outside services (HTTP APIs, language models, ...). They know nothing of the
domain: modules call them and turn their results and failures into domain terms."""
