"""Room cleaning: plans, versioned checklists, logs, audits, due and compliance."""
