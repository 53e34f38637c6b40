"""Community events (talks, workshops, fairs): created by admins, listed and signed up for in
the chat with capacity enforced, reminded the day before; topics citizens propose."""
