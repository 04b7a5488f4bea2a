"""Health sync keeps no tables of its own yet: readings are metrics, and the consent record is
kept through the metrics interface (`health_consent`, `set_health_consent`)."""
