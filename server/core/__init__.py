"""Core: sites, locations, people, sessions, API tokens, the audit chain and exactly-once writes."""
