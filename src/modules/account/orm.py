"""Account keeps no tables: every module erases its own rows through its personal-data entry."""
