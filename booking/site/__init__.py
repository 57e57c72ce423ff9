"""The offender's site on each client's domain: the shell pages, the booking journey, managing a
booking, and paying by card (from the journey or a pay-by-link)."""
