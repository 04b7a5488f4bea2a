"""Bloodwork keeps no tables of its own yet: lab report rows are stored through the metrics
interface (`create_lab_report`, `find_lab_report`)."""
