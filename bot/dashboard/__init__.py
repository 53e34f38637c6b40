"""The supervisors' dashboard: figures computed from the stored conversations, handoffs,
tickets, surveys, comments and registrations (no second source of truth)."""
